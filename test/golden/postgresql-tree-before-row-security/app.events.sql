-- schema_backup: table "app"."events", category global
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

CREATE TABLE "app"."events" (
  "id" bigint NOT NULL,
  "at" timestamp with time zone NOT NULL,
  "kind" text
)
PARTITION BY RANGE (at);

ALTER TABLE "app"."events" ADD CONSTRAINT "events_kind_check" CHECK ((kind <> ''::text));
ALTER TABLE "app"."events" ADD CONSTRAINT "events_pkey" PRIMARY KEY (id, at);
CREATE INDEX events_kind ON app.events USING btree (kind);
