-- Every foreign-key column of the current database with its referred column
-- (KEY_COLUMN_USAGE, one row per column) and the key's rules
-- (REFERENTIAL_CONSTRAINTS). Primary keys and unique constraints are read
-- from STATISTICS: in MySQL each is an index.
-- https://dev.mysql.com/doc/refman/8.0/en/information-schema-key-column-usage-table.html
-- https://dev.mysql.com/doc/refman/8.0/en/information-schema-referential-constraints-table.html
SELECT CAST(k.TABLE_NAME AS CHAR) AS table_name,
       CAST(k.CONSTRAINT_NAME AS CHAR) AS constraint_name,
       CAST(k.ORDINAL_POSITION AS SIGNED) AS position,
       CAST(k.COLUMN_NAME AS CHAR) AS column_name,
       CAST(k.REFERENCED_TABLE_SCHEMA AS CHAR) AS referred_schema,
       CAST(k.REFERENCED_TABLE_NAME AS CHAR) AS referred_table,
       CAST(k.REFERENCED_COLUMN_NAME AS CHAR) AS referred_column,
       CAST(r.UPDATE_RULE AS CHAR) AS update_rule,
       CAST(r.DELETE_RULE AS CHAR) AS delete_rule
FROM information_schema.KEY_COLUMN_USAGE AS k
JOIN information_schema.REFERENTIAL_CONSTRAINTS AS r
  ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA
 AND r.TABLE_NAME = k.TABLE_NAME
 AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME
WHERE k.TABLE_SCHEMA = DATABASE()
  AND k.TABLE_NAME <> ?
  AND k.REFERENCED_TABLE_NAME IS NOT NULL
ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION
