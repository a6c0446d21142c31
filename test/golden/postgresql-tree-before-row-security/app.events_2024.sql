-- schema_backup: table "app"."events_2024", category global
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

CREATE TABLE "app"."events_2024" PARTITION OF app.events
FOR VALUES FROM ('2024-01-01 00:00:00+00') TO ('2025-01-01 00:00:00+00');

BEGIN;
INSERT INTO "app"."events_2024" ("id", "at", "kind") OVERRIDING SYSTEM VALUE VALUES (1, '2024-02-02 00:00:00+00', 'x');
COMMIT;
