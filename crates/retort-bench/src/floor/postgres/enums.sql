-- Floor query 5/6: enum types and their labels in order.
-- https://www.postgresql.org/docs/current/catalog-pg-enum.html
SELECT n.nspname, t.typname, e.enumsortorder, e.enumlabel
FROM pg_catalog.pg_enum e
JOIN pg_catalog.pg_type t ON t.oid = e.enumtypid
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
ORDER BY n.nspname, t.typname, e.enumsortorder;
