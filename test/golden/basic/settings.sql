-- schema_backup: table `settings`, category global
-- rows: below, one per line, in key order
SET NAMES utf8mb4;
SET time_zone = '+00:00';
SET sql_mode = 'NO_AUTO_VALUE_ON_ZERO';
SET foreign_key_checks = 0;
SET unique_checks = 0;

CREATE TABLE `settings` (
  `name` varchar(64) NOT NULL,
  `value` text NOT NULL,
  `flags` bit(3) DEFAULT NULL,
  `weight` float DEFAULT NULL,
  `data` varbinary(16) DEFAULT NULL,
  PRIMARY KEY (`name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci COMMENT='global configuration';

START TRANSACTION;
INSERT INTO `settings` (`name`,`value`,`flags`,`weight`,`data`) VALUES ('empty','',NULL,-0.10000000149011612,'');
INSERT INTO `settings` (`name`,`value`,`flags`,`weight`,`data`) VALUES ('motd','It\'s a "line"\nwith \\ and 😀',b'101',3.4028234663852886e38,0x00FF27);
COMMIT;
