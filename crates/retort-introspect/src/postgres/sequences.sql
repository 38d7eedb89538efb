-- Sequences owned by a column (pg_depend deptype 'a': what `serial` and
-- ALTER SEQUENCE … OWNED BY create), in one query. A column whose default
-- is nextval() of its own sequence is a serial column: the loader reads
-- `serial` as integer + autoincrement with no default, and so must we.
-- Identity columns own their sequence with deptype 'i' and have no default;
-- attidentity says enough about them.
-- https://www.postgresql.org/docs/current/catalog-pg-depend.html
-- $1 the schemas (text[]) of the owning tables.
SELECT d.refobjid::int8 AS table_oid, d.refobjsubid::int2 AS attnum,
       s.relname::text AS sequence_name
FROM pg_depend AS d
JOIN pg_class AS s ON s.oid = d.objid AND s.relkind = 'S'
JOIN pg_class AS c ON c.oid = d.refobjid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE d.classid = 'pg_class'::regclass
  AND d.refclassid = 'pg_class'::regclass
  AND d.deptype = 'a'
  AND d.refobjsubid > 0
  AND n.nspname = ANY($1)
ORDER BY d.refobjid, d.refobjsubid
