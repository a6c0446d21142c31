-- schema_backup: trigger "public"."users.users_touch" on table "public"."users"
-- load after the rows of every table, so that loading them fires nothing
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

-- trigger "public"."users.users_touch"
CREATE TRIGGER users_touch BEFORE INSERT OR UPDATE OF login ON public.users FOR EACH ROW WHEN ((new.login IS NOT NULL)) EXECUTE FUNCTION app.touch();
ALTER TABLE "public"."users" DISABLE TRIGGER "users_touch";
