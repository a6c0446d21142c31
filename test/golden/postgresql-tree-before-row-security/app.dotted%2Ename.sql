-- schema_backup: table "app"."dotted.name", category global
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

CREATE TABLE "app"."dotted.name" (
  "id" integer NOT NULL,
  "a.b" text
);

BEGIN;
INSERT INTO "app"."dotted.name" ("id", "a.b") OVERRIDING SYSTEM VALUE VALUES (1, 'a.b');
COMMIT;

ALTER TABLE ONLY "app"."dotted.name" ADD CONSTRAINT "dotted.name_pkey" PRIMARY KEY (id);
COMMENT ON COLUMN "app"."dotted.name"."a.b" IS 'dots';
