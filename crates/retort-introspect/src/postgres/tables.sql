-- Every ordinary and partitioned table of the listed schemas, with its
-- comment, in one read of pg_class.
-- https://www.postgresql.org/docs/current/catalog-pg-class.html
-- https://www.postgresql.org/docs/current/catalog-pg-description.html
-- $1 the schemas (text[]), $2 the version table, $3 the default schema.
-- Left out: system schemas, partitions (their parent is the table the
-- models declare), the version table in the default schema, and tables an
-- extension owns (pg_depend deptype 'e': the extension creates and drops them).
-- kind, persistence and inherits: what the IR cannot carry (a partitioned
-- table, an unlogged one, a child of INHERITS), which is refused by name.
SELECT c.oid::int8 AS table_oid, n.nspname::text AS schema_name, c.relname::text AS table_name,
       d.description AS comment, c.relkind::text AS kind,
       c.relpersistence::text AS persistence,
       EXISTS (SELECT 1 FROM pg_inherits AS i WHERE i.inhrelid = c.oid) AS inherits
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
LEFT JOIN pg_description AS d
  ON d.objoid = c.oid AND d.classoid = 'pg_class'::regclass AND d.objsubid = 0
WHERE n.nspname = ANY($1)
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_toast%'
  AND n.nspname NOT LIKE 'pg\_temp\_%'
  AND c.relkind IN ('r', 'p')
  AND NOT c.relispartition
  AND NOT (c.relname = $2 AND n.nspname = $3)
  AND NOT EXISTS (
    SELECT 1 FROM pg_depend AS e
    WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e'
  )
ORDER BY n.nspname, c.relname
