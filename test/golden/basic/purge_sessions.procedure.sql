-- schema_backup: procedure `purge_sessions`
SET NAMES utf8mb4;
SET time_zone = '+00:00';
SET sql_mode = 'NO_AUTO_VALUE_ON_ZERO';
SET foreign_key_checks = 0;
SET unique_checks = 0;

-- procedure `purge_sessions`, definer `root`@`HOST`
SET character_set_client = 'utf8mb4';
SET collation_connection = 'utf8mb4_general_ci';
SET sql_mode = 'STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION';
DELIMITER ;;
CREATE PROCEDURE `purge_sessions`()
BEGIN DELETE FROM sessions WHERE expires < NOW(); END;;
DELIMITER ;
SET sql_mode = 'NO_AUTO_VALUE_ON_ZERO';
SET NAMES utf8mb4;
