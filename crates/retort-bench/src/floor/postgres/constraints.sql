-- Floor query 2/6: every PK, UNIQUE, FOREIGN KEY, CHECK and EXCLUDE
-- constraint, deparsed by the server.
-- https://www.postgresql.org/docs/current/catalog-pg-constraint.html
SELECT con.conrelid, n.nspname, con.conname, con.contype, con.conkey, con.confrelid,
       con.confkey, con.confupdtype, con.confdeltype, con.condeferrable,
       pg_get_constraintdef(con.oid) AS definition
FROM pg_catalog.pg_constraint con
JOIN pg_catalog.pg_namespace n ON n.oid = con.connamespace
WHERE con.contype IN ('p', 'u', 'f', 'c', 'x')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
ORDER BY con.conrelid, con.conname;
