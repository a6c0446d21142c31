-- schema_backup: sequence "public"."users_id_seq"
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

-- sequence "public"."users_id_seq"
CREATE SEQUENCE "public"."users_id_seq"
  AS integer
  START WITH 1
  INCREMENT BY 1
  MINVALUE 1
  MAXVALUE 2147483647
  CACHE 1
  NO CYCLE;
SELECT pg_catalog.setval('"public"."users_id_seq"', 3, false);
