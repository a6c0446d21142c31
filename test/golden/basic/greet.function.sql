-- schema_backup: function `greet`
SET NAMES utf8mb4;
SET time_zone = '+00:00';
SET sql_mode = 'NO_AUTO_VALUE_ON_ZERO';
SET foreign_key_checks = 0;
SET unique_checks = 0;

-- function `greet`, definer `root`@`HOST`
SET character_set_client = 'utf8mb4';
SET collation_connection = 'utf8mb4_general_ci';
SET sql_mode = 'STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION';
DELIMITER ;;
CREATE FUNCTION `greet`(who VARCHAR(20)) RETURNS varchar(40) CHARSET utf8mb4 COLLATE utf8mb4_general_ci
    DETERMINISTIC
RETURN CONCAT('hello; ', who);;
DELIMITER ;
SET sql_mode = 'NO_AUTO_VALUE_ON_ZERO';
SET NAMES utf8mb4;
