-- Every primary key, unique, foreign-key, check and exclusion constraint of
-- the listed schemas in one read of pg_constraint. Key columns come as
-- attribute numbers (conkey), decoded in Rust against the columns query;
-- the referred columns are named here because the referred table may lie
-- outside the listed schemas. pg_get_expr() is only called on CHECK
-- expressions, which are stored as node trees.
-- https://www.postgresql.org/docs/current/catalog-pg-constraint.html
-- contype: p primary key, u unique, f foreign key, c check, x exclusion.
-- confupdtype/confdeltype: a no action, r restrict, c cascade, n set null,
-- d set default. conindid: the index backing p/u/x (for f, the referred
-- table's unique index, so it must not be used to hide indexes).
-- condeferrable/condeferred: DEFERRABLE and INITIALLY DEFERRED (the IR keeps
-- them for foreign keys; on a primary key or unique constraint they are
-- refused by name). connoinherit: a NO INHERIT check, refused by name.
-- $1 the schemas (text[]).
SELECT con.conrelid::int8 AS table_oid, con.conname::text AS constraint_name,
       con.contype::text AS kind, con.conkey::int2[] AS columns,
       fn.nspname::text AS referred_schema, fc.relname::text AS referred_table,
       ARRAY(
         SELECT fa.attname::text
         FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, position)
         JOIN pg_attribute AS fa ON fa.attrelid = con.confrelid AND fa.attnum = k.attnum
         ORDER BY k.position
       ) AS referred_columns,
       con.confupdtype::text AS on_update, con.confdeltype::text AS on_delete,
       con.conindid::int8 AS index_oid,
       con.condeferrable AS deferrable, con.condeferred AS initially_deferred,
       con.connoinherit AS no_inherit,
       COALESCE(ci.indnullsnotdistinct, false) AS nulls_not_distinct,
       CASE WHEN con.contype = 'c' THEN pg_get_expr(con.conbin, con.conrelid) END AS check_expr
FROM pg_constraint AS con
JOIN pg_class AS c ON c.oid = con.conrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
LEFT JOIN pg_class AS fc ON fc.oid = con.confrelid
LEFT JOIN pg_namespace AS fn ON fn.oid = fc.relnamespace
-- A unique constraint's NULLS NOT DISTINCT is its index's (PostgreSQL 15+;
-- older servers get the query with false in its place).
LEFT JOIN pg_index AS ci ON con.contype = 'u' AND ci.indexrelid = con.conindid
WHERE n.nspname = ANY($1)
  AND con.contype IN ('p', 'u', 'f', 'c', 'x')
  AND c.relkind IN ('r', 'p')
ORDER BY con.conrelid, con.conname
