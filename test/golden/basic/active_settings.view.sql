-- schema_backup: view `active_settings`
SET NAMES utf8mb4;
SET time_zone = '+00:00';
SET sql_mode = 'NO_AUTO_VALUE_ON_ZERO';
SET foreign_key_checks = 0;
SET unique_checks = 0;

-- view `active_settings`, definer `root`@`HOST`
SET character_set_client = 'utf8mb4';
SET collation_connection = 'utf8mb4_general_ci';
CREATE ALGORITHM=UNDEFINED SQL SECURITY DEFINER VIEW `active_settings` AS select `settings`.`name` AS `name`,`settings`.`value` AS `value` from `settings` where `settings`.`value` <> '';
SET NAMES utf8mb4;
