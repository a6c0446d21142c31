-- schema_backup: function "app"."add(a numeric, b numeric)"
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

-- function "app"."add(a numeric, b numeric)"
CREATE OR REPLACE FUNCTION app.add(a numeric, b numeric)
 RETURNS numeric
 LANGUAGE sql
 IMMUTABLE
AS $function$SELECT a + b$function$;
COMMENT ON FUNCTION "app"."add"(a numeric, b numeric) IS 'adds';
