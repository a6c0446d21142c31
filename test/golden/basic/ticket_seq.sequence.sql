-- schema_backup: sequence `ticket_seq`
-- state: its next value not yet cached, so a restore never hands out a value handed out before
SET NAMES utf8mb4;
SET time_zone = '+00:00';
SET sql_mode = 'NO_AUTO_VALUE_ON_ZERO';
SET foreign_key_checks = 0;
SET unique_checks = 0;

-- sequence `ticket_seq`
CREATE SEQUENCE `ticket_seq` start with 10 minvalue 1 maxvalue 9223372036854775806 increment by 1 cache 1000 nocycle ENGINE=InnoDB;
DO SETVAL(`ticket_seq`, 10, 0);
