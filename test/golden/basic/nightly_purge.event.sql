-- schema_backup: event `nightly_purge`
SET NAMES utf8mb4;
SET time_zone = '+00:00';
SET sql_mode = 'NO_AUTO_VALUE_ON_ZERO';
SET foreign_key_checks = 0;
SET unique_checks = 0;

-- event `nightly_purge`, definer `root`@`HOST`
SET character_set_client = 'utf8mb4';
SET collation_connection = 'utf8mb4_general_ci';
SET sql_mode = 'STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION';
SET time_zone = '+02:00';
DELIMITER ;;
CREATE EVENT `nightly_purge` ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 03:00:00' ON COMPLETION NOT PRESERVE DISABLE DO CALL purge_sessions();;
DELIMITER ;
SET sql_mode = 'NO_AUTO_VALUE_ON_ZERO';
SET time_zone = '+00:00';
SET NAMES utf8mb4;
