-- schema_backup: table "app"."settings", category global
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

CREATE TABLE "app"."settings" (
  "id" bigint GENERATED ALWAYS AS IDENTITY (SEQUENCE NAME "app"."settings_id_seq" START WITH 10 INCREMENT BY 2 MINVALUE 1 MAXVALUE 9223372036854775807 CACHE 1 NO CYCLE) NOT NULL,
  "name" public.citext NOT NULL,
  "value" text COLLATE pg_catalog."C" DEFAULT 'x''y'::text,
  "code" text DEFAULT app.next_code(),
  "mood" app.mood DEFAULT 'ok'::app.mood,
  "amount" app.positive,
  "doubled" integer GENERATED ALWAYS AS (((amount)::integer * 2)) STORED,
  "place" app.address,
  "span" int4range,
  "updated_at" timestamp with time zone DEFAULT now()
)
WITH (fillfactor='70', autovacuum_enabled='false');

BEGIN;
INSERT INTO "app"."settings" ("id", "name", "value", "code", "mood", "amount", "place", "span", "updated_at") OVERRIDING SYSTEM VALUE VALUES (10, 'alpha', 'one', 'X205', 'ok', 3, '("Main St",12345,happy)', '[1,2)', '2024-05-01 10:00:00+00');
INSERT INTO "app"."settings" ("id", "name", "value", "code", "mood", "amount", "place", "span", "updated_at") OVERRIDING SYSTEM VALUE VALUES (12, 'Beta', 'two; it''s', 'X210', 'ok', 4, NULL, '[5,6)', '2024-05-02 10:00:00.123456+00');
COMMIT;

ALTER TABLE ONLY "app"."settings" ADD CONSTRAINT "settings_name_key" UNIQUE (name);
ALTER TABLE ONLY "app"."settings" ADD CONSTRAINT "settings_pkey" PRIMARY KEY (id);
ALTER TABLE ONLY "app"."settings" ADD CONSTRAINT "settings_span_excl" EXCLUDE USING gist (span WITH &&);
ALTER TABLE ONLY "app"."settings" ADD CONSTRAINT "value_not_empty" CHECK ((value <> ''::text));
CREATE UNIQUE INDEX "Settings Code" ON app.settings USING btree (code DESC NULLS LAST);
CREATE INDEX settings_lower ON app.settings USING btree (lower(value)) WHERE (value IS NOT NULL);
COMMENT ON TABLE "app"."settings" IS 'settings; with ''quotes''';
COMMENT ON COLUMN "app"."settings"."name" IS 'the key';
SELECT pg_catalog.setval('"app"."settings_id_seq"', 14, false);
