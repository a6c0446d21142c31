-- schema_backup: table "Odd Schema"."Odd ""Table""", category global
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

CREATE TABLE "Odd Schema"."Odd ""Table""" (
  "Column.With.Dots" integer DEFAULT 0,
  "select" text
);

BEGIN;
INSERT INTO "Odd Schema"."Odd ""Table""" ("Column.With.Dots", "select") OVERRIDING SYSTEM VALUE VALUES (1, 'x''y');
INSERT INTO "Odd Schema"."Odd ""Table""" ("Column.With.Dots", "select") OVERRIDING SYSTEM VALUE VALUES (NULL, NULL);
COMMIT;
