-- Row estimate and physical size of each named table, in one query. Names
-- resolve through search_path (to_regclass), like the migration's own
-- unqualified statements; a name that resolves to nothing gives no row.
-- reltuples is -1 for a table never vacuumed or analysed (PostgreSQL 14+):
-- https://www.postgresql.org/docs/current/catalog-pg-class.html
SELECT t.name,
       c.reltuples::float8 AS estimate,
       (pg_relation_size(c.oid) / current_setting('block_size')::int8)::int8 AS pages
FROM unnest($1::text[]) AS t(name)
JOIN pg_class c ON c.oid = to_regclass(quote_ident(t.name))
WHERE c.relkind IN ('r', 'p')
