-- Floor query 4/6: table and column comments.
-- https://www.postgresql.org/docs/current/catalog-pg-description.html
SELECT d.objoid, d.objsubid, d.description
FROM pg_catalog.pg_description d
JOIN pg_catalog.pg_class c ON c.oid = d.objoid AND d.classoid = 'pg_catalog.pg_class'::regclass
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
ORDER BY d.objoid, d.objsubid;
