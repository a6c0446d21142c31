-- schema_backup: sequence "app"."codes"
-- state: its next value not yet cached, so a restore never hands out a value handed out before
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

-- sequence "app"."codes"
CREATE SEQUENCE "app"."codes"
  AS bigint
  START WITH 100
  INCREMENT BY 5
  MINVALUE 1
  MAXVALUE 100000
  CACHE 10
  CYCLE;
SELECT pg_catalog.setval('"app"."codes"', 255, false);
