-- schema_backup: table "app"."parent_plain", category global
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

CREATE TABLE "app"."parent_plain" (
  "a" integer
);

BEGIN;
INSERT INTO "app"."parent_plain" ("a") OVERRIDING SYSTEM VALUE VALUES (1);
COMMIT;

ALTER TABLE ONLY "app"."parent_plain" ADD CONSTRAINT "parent_plain_a_check" CHECK ((a > 0));
