-- Every base table of the current database with its comment and default
-- collation (a column with that collation states none) (views and
-- system views are left out), except the version table (?).
-- ENGINE and CREATE_OPTIONS (`row_format=COMPRESSED`, `partitioned` …):
-- the models declare InnoDB tables without options, anything else is
-- refused by name.
-- https://dev.mysql.com/doc/refman/8.0/en/information-schema-tables-table.html
SELECT CAST(TABLE_NAME AS CHAR) AS table_name,
       CAST(TABLE_COMMENT AS CHAR) AS table_comment,
       CAST(TABLE_COLLATION AS CHAR) AS table_collation,
       CAST(ENGINE AS CHAR) AS engine,
       CAST(CREATE_OPTIONS AS CHAR) AS create_options
FROM information_schema.TABLES
WHERE TABLE_SCHEMA = DATABASE()
  AND TABLE_TYPE = 'BASE TABLE'
  AND TABLE_NAME <> ?
ORDER BY TABLE_NAME
