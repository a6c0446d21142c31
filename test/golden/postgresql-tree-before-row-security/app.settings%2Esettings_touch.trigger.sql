-- schema_backup: trigger "app"."settings.settings_touch" on table "app"."settings"
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

-- trigger "app"."settings.settings_touch"
CREATE TRIGGER settings_touch BEFORE UPDATE ON app.settings FOR EACH ROW EXECUTE FUNCTION app.touch();
