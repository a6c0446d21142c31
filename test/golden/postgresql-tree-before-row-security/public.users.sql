-- schema_backup: table "public"."users", category global
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

CREATE TABLE "public"."users" (
  "id" integer DEFAULT nextval('public.users_id_seq'::regclass) NOT NULL,
  "login" character varying(32) NOT NULL,
  "setting_id" bigint,
  "manager" integer
);

BEGIN;
INSERT INTO "public"."users" ("id", "login", "setting_id", "manager") OVERRIDING SYSTEM VALUE VALUES (1, 'alice', 10, NULL);
INSERT INTO "public"."users" ("id", "login", "setting_id", "manager") OVERRIDING SYSTEM VALUE VALUES (2, 'bob', 12, 1);
COMMIT;

ALTER TABLE ONLY "public"."users" ADD CONSTRAINT "users_pkey" PRIMARY KEY (id);
ALTER SEQUENCE "public"."users_id_seq" OWNED BY "public"."users"."id";
