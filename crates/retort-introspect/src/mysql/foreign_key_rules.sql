-- The ON UPDATE / ON DELETE rules of every foreign key of the current
-- database, joined to its columns (foreign_keys.sql) in Rust.
-- https://dev.mysql.com/doc/refman/8.0/en/information-schema-referential-constraints-table.html
SELECT CAST(TABLE_NAME AS CHAR) AS table_name,
       CAST(CONSTRAINT_NAME AS CHAR) AS constraint_name,
       CAST(UPDATE_RULE AS CHAR) AS update_rule,
       CAST(DELETE_RULE AS CHAR) AS delete_rule
FROM information_schema.REFERENTIAL_CONSTRAINTS
WHERE CONSTRAINT_SCHEMA = DATABASE()
  AND TABLE_NAME <> ?
ORDER BY TABLE_NAME, CONSTRAINT_NAME
