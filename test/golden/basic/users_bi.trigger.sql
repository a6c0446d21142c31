-- schema_backup: trigger `users_bi` on table `users`
-- load after the rows of every table, so that loading them fires nothing
SET NAMES utf8mb4;
SET time_zone = '+00:00';
SET sql_mode = 'NO_AUTO_VALUE_ON_ZERO';
SET foreign_key_checks = 0;
SET unique_checks = 0;

-- trigger `users_bi`, definer `root`@`HOST`
SET character_set_client = 'utf8mb4';
SET collation_connection = 'utf8mb4_general_ci';
SET sql_mode = 'STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION';
DELIMITER ;;
CREATE TRIGGER users_bi BEFORE INSERT ON users FOR EACH ROW SET NEW.login = LOWER(NEW.login);;
DELIMITER ;
SET sql_mode = 'NO_AUTO_VALUE_ON_ZERO';
SET NAMES utf8mb4;
