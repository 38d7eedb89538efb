-- Every index key part of the current database, PRIMARY included: one row
-- per part, grouped into indexes in Rust. SUB_PART is a prefix length,
-- COLLATION `A`/`D` (NULL for FULLTEXT), INDEX_TYPE BTREE, HASH, FULLTEXT
-- or SPATIAL. MySQL 8.0.13+: a functional key part has no COLUMN_NAME
-- and its expression text in EXPRESSION.
-- INDEX_COMMENT and an invisible (MySQL) or ignored (MariaDB) index: the
-- models cannot declare them, so they are refused by name.
-- https://dev.mysql.com/doc/refman/8.0/en/information-schema-statistics-table.html
SELECT CAST(TABLE_NAME AS CHAR) AS table_name,
       CAST(INDEX_NAME AS CHAR) AS index_name,
       CAST(NON_UNIQUE AS SIGNED) AS non_unique,
       CAST(SEQ_IN_INDEX AS SIGNED) AS seq_in_index,
       CAST(COLUMN_NAME AS CHAR) AS column_name,
       CAST(EXPRESSION AS CHAR) AS expression,
       CAST(SUB_PART AS SIGNED) AS sub_part,
       CAST(COLLATION AS CHAR) AS collation,
       CAST(INDEX_TYPE AS CHAR) AS index_type,
       CAST(INDEX_COMMENT AS CHAR) AS index_comment,
       -- Replaced by IS_VISIBLE (MySQL 8.0+) or NOT IGNORED (MariaDB
       -- 10.6+) where the server has the column.
       CAST('YES' AS CHAR) AS is_visible
FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = DATABASE()
  AND TABLE_NAME <> ?
ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX
