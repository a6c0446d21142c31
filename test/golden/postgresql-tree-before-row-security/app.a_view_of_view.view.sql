-- schema_backup: view "app"."a_view_of_view"
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

-- view "app"."a_view_of_view"
CREATE VIEW "app"."a_view_of_view" WITH (security_barrier='true') AS
SELECT active.name
   FROM app.active;
