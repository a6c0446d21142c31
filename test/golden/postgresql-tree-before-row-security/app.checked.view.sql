-- schema_backup: view "app"."checked"
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

-- view "app"."checked"
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
