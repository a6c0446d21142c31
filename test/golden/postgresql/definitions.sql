-- schema Odd Schema
CREATE SCHEMA IF NOT EXISTS "Odd Schema";

-- schema app
CREATE SCHEMA IF NOT EXISTS "app";
COMMENT ON SCHEMA "app" IS 'application objects';

-- schema public
CREATE SCHEMA IF NOT EXISTS "public";
COMMENT ON SCHEMA "public" IS 'standard public schema';

-- extension citext
CREATE EXTENSION IF NOT EXISTS "citext" WITH SCHEMA "public";

-- extension plpgsql
CREATE EXTENSION IF NOT EXISTS "plpgsql" WITH SCHEMA "pg_catalog";

-- type app.floatrange
CREATE TYPE "app"."floatrange" AS RANGE (
  subtype = double precision,
  subtype_diff = float8mi,
  multirange_type_name = app.floatmultirange
);

-- type app.mood
CREATE TYPE "app"."mood" AS ENUM ('sad', 'ok', 'happy', 'it''s');

-- type app.address
CREATE TYPE "app"."address" AS (
  "street" text COLLATE pg_catalog."C",
  "zip" integer,
  "mood" app.mood
);
COMMENT ON TYPE "app"."address" IS 'where';

-- domain app.code
CREATE DOMAIN "app"."code" AS text COLLATE pg_catalog."C"
  CONSTRAINT "code_len" CHECK ((length(VALUE) < 10))
  CONSTRAINT "code_upper" CHECK ((VALUE = upper(VALUE)));

-- domain app.positive
CREATE DOMAIN "app"."positive" AS integer DEFAULT 1 NOT NULL
  CONSTRAINT "positive_check" CHECK ((VALUE > 0));

-- function app.add(a integer, b integer)
CREATE OR REPLACE FUNCTION app.add(a integer, b integer DEFAULT 1)
 RETURNS integer
 LANGUAGE sql
 IMMUTABLE
BEGIN ATOMIC
 SELECT (a + b);
END;

-- function app.add(a numeric, b numeric)
CREATE OR REPLACE FUNCTION app.add(a numeric, b numeric)
 RETURNS numeric
 LANGUAGE sql
 IMMUTABLE
AS $function$SELECT a + b$function$;
COMMENT ON FUNCTION "app"."add"(a numeric, b numeric) IS 'adds';

-- function app.next_code()
CREATE OR REPLACE FUNCTION app.next_code()
 RETURNS text
 LANGUAGE sql
AS $function$ SELECT 'X' || nextval('app.codes')::text $function$;

-- function app.touch()
CREATE OR REPLACE FUNCTION app.touch()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
  NEW.updated_at := now(); -- a comment; with a semicolon
  RETURN NEW;
END
$function$;

-- procedure app.purge(IN days integer)
CREATE OR REPLACE PROCEDURE app.purge(IN days integer)
 LANGUAGE plpgsql
AS $procedure$
BEGIN
  DELETE FROM app.settings WHERE false;
END $procedure$;

-- sequence app.codes
CREATE SEQUENCE "app"."codes"
  AS bigint
  START WITH 100
  INCREMENT BY 5
  MINVALUE 1
  MAXVALUE 100000
  CACHE 10
  CYCLE;

-- sequence public.plain_seq
CREATE UNLOGGED SEQUENCE "public"."plain_seq"
  AS bigint
  START WITH 1
  INCREMENT BY 1
  MINVALUE 1
  MAXVALUE 9223372036854775807
  CACHE 1
  NO CYCLE;

-- sequence public.users_id_seq
CREATE SEQUENCE "public"."users_id_seq"
  AS integer
  START WITH 1
  INCREMENT BY 1
  MINVALUE 1
  MAXVALUE 2147483647
  CACHE 1
  NO CYCLE;

-- table Odd Schema.Odd "Table"
CREATE TABLE "Odd Schema"."Odd ""Table""" (
  "Column.With.Dots" integer DEFAULT 0,
  "select" text
);

-- table app.by_list
CREATE TABLE "app"."by_list" (
  "k" text NOT NULL,
  "v" integer
)
PARTITION BY LIST (k);

-- table app.by_list_ab
CREATE TABLE "app"."by_list_ab" PARTITION OF app.by_list
FOR VALUES IN ('a', 'b')
PARTITION BY HASH (v);

-- table app.by_list_ab_0
CREATE TABLE "app"."by_list_ab_0" PARTITION OF app.by_list_ab
FOR VALUES WITH (modulus 2, remainder 0);

-- table app.by_list_ab_1
CREATE TABLE "app"."by_list_ab_1" PARTITION OF app.by_list_ab
FOR VALUES WITH (modulus 2, remainder 1);

-- table app.parent_plain
CREATE TABLE "app"."parent_plain" (
  "a" integer
);
ALTER TABLE ONLY "app"."parent_plain" ADD CONSTRAINT "parent_plain_a_check" CHECK ((a > 0));

-- table app.child_plain
CREATE TABLE "app"."child_plain" (
  "b" text
)
INHERITS (app.parent_plain);

-- table app.dotted.name
CREATE TABLE "app"."dotted.name" (
  "id" integer NOT NULL,
  "a.b" text
);
ALTER TABLE ONLY "app"."dotted.name" ADD CONSTRAINT "dotted.name_pkey" PRIMARY KEY (id);
COMMENT ON COLUMN "app"."dotted.name"."a.b" IS 'dots';

-- table app.events
CREATE TABLE "app"."events" (
  "id" bigint NOT NULL,
  "at" timestamp with time zone NOT NULL,
  "kind" text
)
PARTITION BY RANGE (at);
ALTER TABLE "app"."events" ADD CONSTRAINT "events_kind_check" CHECK ((kind <> ''::text));
ALTER TABLE "app"."events" ADD CONSTRAINT "events_pkey" PRIMARY KEY (id, at);
CREATE INDEX events_kind ON app.events USING btree (kind);

-- table app.events_2024
CREATE TABLE "app"."events_2024" PARTITION OF app.events
FOR VALUES FROM ('2024-01-01 00:00:00+00') TO ('2025-01-01 00:00:00+00');

-- table app.events_default
CREATE TABLE "app"."events_default" PARTITION OF app.events
DEFAULT;

-- table app.settings
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
ALTER TABLE ONLY "app"."settings" ADD CONSTRAINT "settings_name_key" UNIQUE (name);
ALTER TABLE ONLY "app"."settings" ADD CONSTRAINT "settings_pkey" PRIMARY KEY (id);
ALTER TABLE ONLY "app"."settings" ADD CONSTRAINT "settings_span_excl" EXCLUDE USING gist (span WITH &&);
ALTER TABLE ONLY "app"."settings" ADD CONSTRAINT "value_not_empty" CHECK ((value <> ''::text));
CREATE UNIQUE INDEX "Settings Code" ON app.settings USING btree (code DESC NULLS LAST);
CREATE INDEX settings_lower ON app.settings USING btree (lower(value)) WHERE (value IS NOT NULL);
COMMENT ON TABLE "app"."settings" IS 'settings; with ''quotes''';
COMMENT ON COLUMN "app"."settings"."name" IS 'the key';

-- table public.scratch
CREATE UNLOGGED TABLE "public"."scratch" (
  "n" integer
);

-- table public.users
CREATE TABLE "public"."users" (
  "id" integer DEFAULT nextval('public.users_id_seq'::regclass) NOT NULL,
  "login" character varying(32) NOT NULL,
  "setting_id" bigint,
  "manager" integer
);
ALTER TABLE ONLY "public"."users" ADD CONSTRAINT "users_pkey" PRIMARY KEY (id);
ALTER SEQUENCE "public"."users_id_seq" OWNED BY "public"."users"."id";

-- view app.active
CREATE VIEW "app"."active" AS
SELECT settings.id,
    settings.name
   FROM app.settings
  WHERE (settings.mood = 'happy'::app.mood);
COMMENT ON VIEW "app"."active" IS 'happy ones';

-- view app.a_view_of_view
CREATE VIEW "app"."a_view_of_view" WITH (security_barrier='true') AS
SELECT active.name
   FROM app.active;

-- view app.checked
CREATE VIEW "app"."checked" WITH (check_option='local') AS
SELECT settings.id,
    settings.name,
    settings.value,
    settings.code,
    settings.mood,
    settings.amount,
    settings.doubled,
    settings.place,
    settings.span,
    settings.updated_at
   FROM app.settings
  WHERE ((settings.amount)::integer > 1);

-- materialized-view app.counts
CREATE MATERIALIZED VIEW "app"."counts" AS
SELECT settings.mood,
    count(*) AS n
   FROM app.settings
  GROUP BY settings.mood
WITH NO DATA;
CREATE UNIQUE INDEX counts_mood ON app.counts USING btree (mood);

-- foreign-keys public.users
ALTER TABLE ONLY "public"."users" ADD CONSTRAINT "users_manager_fk" FOREIGN KEY (manager) REFERENCES public.users(id) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE ONLY "public"."users" ADD CONSTRAINT "users_setting_id_fkey" FOREIGN KEY (setting_id) REFERENCES app.settings(id) ON DELETE CASCADE;

-- row-security app.settings
ALTER TABLE "app"."settings" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "app"."settings" FORCE ROW LEVEL SECURITY;

-- trigger app.settings_check on app.settings
CREATE CONSTRAINT TRIGGER settings_check AFTER INSERT ON app.settings DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION app.touch();

-- trigger app.settings_touch on app.settings
CREATE TRIGGER settings_touch BEFORE UPDATE ON app.settings FOR EACH ROW EXECUTE FUNCTION app.touch();

-- trigger public.users_touch on public.users
CREATE TRIGGER users_touch BEFORE INSERT OR UPDATE OF login ON public.users FOR EACH ROW WHEN ((new.login IS NOT NULL)) EXECUTE FUNCTION app.touch();
ALTER TABLE "public"."users" DISABLE TRIGGER "users_touch";

-- policy app.settings_read on app.settings
CREATE POLICY "settings_read" ON "app"."settings"
  AS PERMISSIVE
  FOR SELECT
  TO PUBLIC
  USING ((mood <> 'sad'::app.mood));

-- policy app.settings_write on app.settings
CREATE POLICY "settings_write" ON "app"."settings"
  AS RESTRICTIVE
  FOR UPDATE
  TO PUBLIC
  USING (true)
  WITH CHECK (((amount)::integer < 100));
