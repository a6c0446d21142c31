-- schema_backup: table "app"."events_default", category global
-- rows: below, one per line, in key order
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SET search_path = '';
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
SET intervalstyle = 'postgres';
SET lc_monetary = 'C';
SET check_function_bodies = false;
SET xmloption = 'content';
SET client_min_messages = warning;
SET row_security = off;
SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;

CREATE TABLE "app"."events_default" PARTITION OF app.events
DEFAULT;

BEGIN;
INSERT INTO "app"."events_default" ("id", "at", "kind") OVERRIDING SYSTEM VALUE VALUES (2, '2030-01-01 00:00:00+00', 'y');
COMMIT;
