-- Every enum type of the listed schemas with its labels in declared order
-- (enumsortorder), in one query. Enums an extension owns are left out.
-- https://www.postgresql.org/docs/current/catalog-pg-enum.html
-- $1 the schemas (text[]).
SELECT n.nspname::text AS schema_name, t.typname::text AS type_name, e.enumlabel::text AS label
FROM pg_enum AS e
JOIN pg_type AS t ON t.oid = e.enumtypid
JOIN pg_namespace AS n ON n.oid = t.typnamespace
WHERE n.nspname = ANY($1)
  AND NOT EXISTS (
    SELECT 1 FROM pg_depend AS x
    WHERE x.classid = 'pg_type'::regclass AND x.objid = t.oid AND x.deptype = 'e'
  )
ORDER BY n.nspname, t.typname, e.enumsortorder
