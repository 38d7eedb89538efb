-- Row estimates of the tables of the current database. TABLE_ROWS is an
-- estimate for InnoDB and may be cached (information_schema_stats_expiry):
-- https://dev.mysql.com/doc/refman/8.0/en/information-schema-tables-table.html
SELECT CAST(TABLE_NAME AS CHAR) AS name, CAST(COALESCE(TABLE_ROWS, 0) AS SIGNED) AS estimate
FROM information_schema.TABLES
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'
