-- Floor query 6/6: sequences and the column that owns each (serial and
-- identity columns).
-- https://www.postgresql.org/docs/current/catalog-pg-sequence.html
SELECT n.nspname, c.relname, s.seqtypid, s.seqstart, s.seqincrement,
       dep.refobjid AS owner_table, dep.refobjsubid AS owner_column
FROM pg_catalog.pg_sequence s
JOIN pg_catalog.pg_class c ON c.oid = s.seqrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_depend dep
       ON dep.classid = 'pg_catalog.pg_class'::regclass AND dep.objid = s.seqrelid
      AND dep.deptype IN ('a', 'i')
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
ORDER BY n.nspname, c.relname;
