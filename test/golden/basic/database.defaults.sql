-- schema_backup: database defaults
-- load first, into the database you restore into
SET NAMES utf8mb4;
SET time_zone = '+00:00';
SET sql_mode = 'NO_AUTO_VALUE_ON_ZERO';
SET foreign_key_checks = 0;
SET unique_checks = 0;

ALTER DATABASE CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;
