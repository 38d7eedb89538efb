-- The columns of every table of the listed schemas in one query: the raw
-- type (typname + atttypmod, and the element type of arrays), decoded in
-- Rust rather than by format_type(), which costs a function call per row.
-- pg_get_expr() is only called on defaults, whose stored form is a node tree.
-- https://www.postgresql.org/docs/current/catalog-pg-attribute.html
-- https://www.postgresql.org/docs/current/catalog-pg-type.html
-- https://www.postgresql.org/docs/current/catalog-pg-attrdef.html
-- https://www.postgresql.org/docs/current/catalog-pg-collation.html
-- $1 the schemas (text[]); the table filter is repeated in Rust, which
-- keeps only the columns of the tables tables.sql returned.
-- typtype: b base, d domain, e enum, c composite, r range, m multirange.
-- attidentity: 'a' ALWAYS, 'd' BY DEFAULT; attgenerated: 's' stored.
-- The collation only where the column names one other than its type's.
SELECT a.attrelid::int8 AS table_oid, a.attnum::int2 AS attnum, a.attname::text AS column_name,
       t.typname::text AS type_name, tn.nspname::text AS type_schema, t.typtype::text AS type_kind,
       et.typname::text AS element_name, etn.nspname::text AS element_schema,
       et.typtype::text AS element_kind,
       a.atttypmod::int4 AS typmod, a.attndims::int4 AS dimensions, a.attnotnull AS not_null,
       CASE WHEN a.atthasdef THEN pg_get_expr(ad.adbin, ad.adrelid) END AS default_expr,
       a.attidentity::text AS identity, a.attgenerated::text AS generated,
       d.description AS comment,
       CASE WHEN a.attcollation <> t.typcollation THEN co.collname::text END AS collation
FROM pg_attribute AS a
JOIN pg_class AS c ON c.oid = a.attrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
JOIN pg_type AS t ON t.oid = a.atttypid
JOIN pg_namespace AS tn ON tn.oid = t.typnamespace
LEFT JOIN pg_type AS et ON et.oid = t.typelem AND t.typcategory = 'A'
LEFT JOIN pg_namespace AS etn ON etn.oid = et.typnamespace
LEFT JOIN pg_collation AS co ON co.oid = a.attcollation
LEFT JOIN pg_attrdef AS ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
LEFT JOIN pg_description AS d
  ON d.objoid = a.attrelid AND d.classoid = 'pg_class'::regclass AND d.objsubid = a.attnum
WHERE n.nspname = ANY($1)
  AND c.relkind IN ('r', 'p')
  AND a.attnum > 0
  AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
