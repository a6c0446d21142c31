-- schema_backup: foreign-keys "public"."users"
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

-- foreign-keys "public"."users"
ALTER TABLE ONLY "public"."users" ADD CONSTRAINT "users_manager_fk" FOREIGN KEY (manager) REFERENCES public.users(id) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE ONLY "public"."users" ADD CONSTRAINT "users_setting_id_fkey" FOREIGN KEY (setting_id) REFERENCES app.settings(id) ON DELETE CASCADE;
