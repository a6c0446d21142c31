-- schema_backup: domain "app"."code"
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

-- domain "app"."code"
CREATE DOMAIN "app"."code" AS text COLLATE pg_catalog."C"
  CONSTRAINT "code_len" CHECK ((length(VALUE) < 10))
  CONSTRAINT "code_upper" CHECK ((VALUE = upper(VALUE)));
