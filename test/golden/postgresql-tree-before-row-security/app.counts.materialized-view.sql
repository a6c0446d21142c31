-- schema_backup: materialized-view "app"."counts"
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

-- materialized-view "app"."counts"
CREATE MATERIALIZED VIEW "app"."counts" AS
SELECT settings.mood,
    count(*) AS n
   FROM app.settings
  GROUP BY settings.mood
WITH NO DATA;
CREATE UNIQUE INDEX counts_mood ON app.counts USING btree (mood);
