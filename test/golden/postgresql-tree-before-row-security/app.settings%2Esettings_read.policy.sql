-- schema_backup: policy "app"."settings.settings_read" on table "app"."settings"
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

-- policy "app"."settings.settings_read"
CREATE POLICY "settings_read" ON "app"."settings"
  AS PERMISSIVE
  FOR SELECT
  TO PUBLIC
  USING ((mood <> 'sad'::app.mood));
