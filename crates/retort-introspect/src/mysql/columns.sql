-- Every column of every table of the current database, in declared order.
-- COLUMN_TYPE is the full type (`int(11) unsigned`, `enum('a','b')`);
-- COLUMN_DEFAULT is an expression text on MariaDB >= 10.2.7 (`'x'`, `NULL`,
-- `current_timestamp()`) and the bare literal on MySQL (EXTRA then says
-- DEFAULT_GENERATED for expressions); EXTRA also carries auto_increment,
-- `on update current_timestamp()` and VIRTUAL/STORED GENERATED;
-- CHARACTER_SET_NAME and COLLATION_NAME are NULL for non-string types.
-- https://dev.mysql.com/doc/refman/8.0/en/information-schema-columns-table.html
-- https://mariadb.com/kb/en/information-schema-columns-table/
SELECT CAST(TABLE_NAME AS CHAR) AS table_name,
       CAST(COLUMN_NAME AS CHAR) AS column_name,
       CAST(ORDINAL_POSITION AS SIGNED) AS position,
       CAST(COLUMN_TYPE AS CHAR) AS column_type,
       CAST(IS_NULLABLE AS CHAR) AS is_nullable,
       CAST(COLUMN_DEFAULT AS CHAR) AS column_default,
       CAST(EXTRA AS CHAR) AS extra,
       CAST(COLUMN_COMMENT AS CHAR) AS column_comment,
       CAST(GENERATION_EXPRESSION AS CHAR) AS generation_expression,
       CAST(CHARACTER_SET_NAME AS CHAR) AS character_set_name,
       CAST(COLLATION_NAME AS CHAR) AS collation_name
FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = DATABASE()
  AND TABLE_NAME <> ?
ORDER BY TABLE_NAME, ORDINAL_POSITION
