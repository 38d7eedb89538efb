-- Floor query 3/6: every index of every user table, deparsed by the server
-- (pg_get_indexdef, pg_get_expr for partial-index predicates).
-- https://www.postgresql.org/docs/current/catalog-pg-index.html
SELECT i.indrelid, ic.relname AS index_name, i.indisunique, i.indisprimary, i.indkey,
       pg_get_indexdef(i.indexrelid) AS definition,
       pg_get_expr(i.indpred, i.indrelid) AS predicate,
       am.amname
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
JOIN pg_catalog.pg_class tc ON tc.oid = i.indrelid
JOIN pg_catalog.pg_namespace n ON n.oid = tc.relnamespace
JOIN pg_catalog.pg_am am ON am.oid = ic.relam
WHERE tc.relkind IN ('r', 'p')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%'
ORDER BY i.indrelid, ic.relname;
