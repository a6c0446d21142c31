-- schema_backup: table `odd.name`, category global
-- rows: below, one per line, in key order
SET NAMES utf8mb4;
SET time_zone = '+00:00';
SET sql_mode = 'NO_AUTO_VALUE_ON_ZERO';
SET foreign_key_checks = 0;
SET unique_checks = 0;

CREATE TABLE `odd.name` (
  `a b` int(11) DEFAULT NULL,
  `c``d` varchar(3) INVISIBLE DEFAULT 'x',
  `g` int(11) GENERATED ALWAYS AS (`a b` + 1) VIRTUAL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

START TRANSACTION;
INSERT INTO `odd.name` (`a b`,`c``d`) VALUES (1,NULL);
INSERT INTO `odd.name` (`a b`,`c``d`) VALUES (2,'y');
COMMIT;
