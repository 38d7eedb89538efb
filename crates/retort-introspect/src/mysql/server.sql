-- The database to read and what the server offers, in one statement:
-- VERSION() tells MariaDB (whose COLUMN_DEFAULT is an expression text since
-- 10.2.7) from MySQL (unquoted literals); CHECK_CONSTRAINTS exists on
-- MariaDB 10.2+ and MySQL 8.0.16+; STATISTICS.EXPRESSION (functional key
-- parts) on MySQL 8.0.13+ only; STATISTICS.IS_VISIBLE (invisible indexes)
-- on MySQL 8.0+, STATISTICS.IGNORED (ignored indexes) on MariaDB 10.6+. lower_case_table_names says how the server
-- compares table names (0: as written; 1 and 2: ignoring case):
-- https://dev.mysql.com/doc/refman/8.0/en/identifier-case-sensitivity.html
SELECT CAST(DATABASE() AS CHAR) AS database_name,
       CAST(VERSION() AS CHAR) AS version,
       CAST((SELECT COUNT(*) FROM information_schema.TABLES
             WHERE TABLE_SCHEMA = 'information_schema'
               AND TABLE_NAME = 'CHECK_CONSTRAINTS') AS SIGNED) AS has_checks,
       CAST((SELECT COUNT(*) FROM information_schema.COLUMNS
             WHERE TABLE_SCHEMA = 'information_schema'
               AND TABLE_NAME = 'STATISTICS'
               AND COLUMN_NAME = 'EXPRESSION') AS SIGNED) AS has_index_expressions,
       CAST((SELECT COUNT(*) FROM information_schema.COLUMNS
             WHERE TABLE_SCHEMA = 'information_schema'
               AND TABLE_NAME = 'STATISTICS'
               AND COLUMN_NAME = 'IS_VISIBLE') AS SIGNED) AS has_is_visible,
       CAST((SELECT COUNT(*) FROM information_schema.COLUMNS
             WHERE TABLE_SCHEMA = 'information_schema'
               AND TABLE_NAME = 'STATISTICS'
               AND COLUMN_NAME = 'IGNORED') AS SIGNED) AS has_ignored,
       CAST(@@lower_case_table_names AS SIGNED) AS lower_case_table_names
