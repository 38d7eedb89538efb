-- Every CHECK constraint of the current database (MySQL 8.0.16+), whose
-- CHECK_CONSTRAINTS has no TABLE_NAME: check names are unique per schema,
-- and TABLE_CONSTRAINTS says which table each belongs to.
-- https://dev.mysql.com/doc/refman/8.0/en/information-schema-check-constraints-table.html
SELECT CAST(t.TABLE_NAME AS CHAR) AS table_name,
       CAST(c.CONSTRAINT_NAME AS CHAR) AS constraint_name,
       CAST(c.CHECK_CLAUSE AS CHAR) AS check_clause,
       CAST('Table' AS CHAR) AS level
FROM information_schema.CHECK_CONSTRAINTS AS c
JOIN information_schema.TABLE_CONSTRAINTS AS t
  ON t.CONSTRAINT_SCHEMA = c.CONSTRAINT_SCHEMA
 AND t.CONSTRAINT_NAME = c.CONSTRAINT_NAME
 AND t.CONSTRAINT_TYPE = 'CHECK'
WHERE c.CONSTRAINT_SCHEMA = DATABASE()
  AND t.TABLE_NAME <> ?
ORDER BY t.TABLE_NAME, c.CONSTRAINT_NAME
