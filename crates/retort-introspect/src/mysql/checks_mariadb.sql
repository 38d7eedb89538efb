-- Every CHECK constraint of the current database (MariaDB 10.2+). MariaDB
-- names a column-level check after its column, so check names are unique
-- per table only, and CHECK_CONSTRAINTS carries TABLE_NAME; LEVEL is
-- `Column` or `Table`. A JSON column is a LONGTEXT with a column-level
-- `json_valid(col)` check.
-- https://mariadb.com/kb/en/information-schema-check_constraints-table/
SELECT CAST(TABLE_NAME AS CHAR) AS table_name,
       CAST(CONSTRAINT_NAME AS CHAR) AS constraint_name,
       CAST(CHECK_CLAUSE AS CHAR) AS check_clause,
       CAST(LEVEL AS CHAR) AS level
FROM information_schema.CHECK_CONSTRAINTS
WHERE CONSTRAINT_SCHEMA = DATABASE()
  AND TABLE_NAME <> ?
ORDER BY TABLE_NAME, CONSTRAINT_NAME
