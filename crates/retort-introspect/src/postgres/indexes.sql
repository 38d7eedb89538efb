-- Every index of the listed schemas in one read of pg_index. Key columns
-- (indkey) and sort options (indoption) are raw values decoded in Rust;
-- pg_get_indexdef(oid, column)/pg_get_expr() are only called for the parts
-- with no raw form: expression key columns (indkey = 0), whose text the
-- column form prints alone, and the partial-index predicate.
-- https://www.postgresql.org/docs/current/catalog-pg-index.html
-- https://www.postgresql.org/docs/current/catalog-pg-am.html
-- indoption bit 0: DESC, bit 1: NULLS FIRST. Only the first indnkeyatts
-- columns are key columns; the rest are INCLUDE columns.
-- indclass: each key column's operator class, by oid (named in Rust from
-- the list of non-default classes the first query reads);
-- indnullsnotdistinct: PostgreSQL 15+.
-- Refused by name, as the IR has no place for them yet: INCLUDE columns
-- (indnkeyatts < indnatts), NULLS FIRST/LAST other than the direction's
-- default (indoption bit 1 unlike bit 0), storage parameters (reloptions)
-- and operator class parameters (the index's pg_attribute.attoptions).
-- Not read: collations (indcollation).
-- indkey, indoption and indclass are int2vectors/oidvectors, indexed from 0;
-- the [:] slice renumbers them from 1, the only lower bound sqlx decodes.
-- $1 the schemas (text[]).
SELECT i.indrelid::int8 AS table_oid, i.indexrelid::int8 AS index_oid,
       ic.relname::text AS index_name, i.indisunique AS is_unique, i.indisprimary AS is_primary,
       i.indnkeyatts::int2 AS key_count, (i.indkey::int2[])[:] AS keys, (i.indoption::int2[])[:] AS options,
       am.amname::text AS method,
       ARRAY(
         SELECT pg_get_indexdef(i.indexrelid, k.position::int, true)
         FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, position)
         WHERE k.attnum = 0
         ORDER BY k.position
       ) AS expressions,
       CASE WHEN i.indpred IS NOT NULL THEN pg_get_expr(i.indpred, i.indrelid, true) END AS predicate,
       -- PostgreSQL 15+ (older servers get the query with false here).
       i.indnullsnotdistinct AS nulls_not_distinct,
       -- Each key column's operator class, by oid.
       ((i.indclass::oid[])::int8[])[:] AS opclasses,
       ic.reloptions IS NOT NULL AS has_storage_parameters,
       EXISTS (
         SELECT 1 FROM pg_attribute AS ia
         WHERE ia.attrelid = i.indexrelid AND ia.attoptions IS NOT NULL
       ) AS has_opclass_parameters
FROM pg_index AS i
JOIN pg_class AS ic ON ic.oid = i.indexrelid
JOIN pg_class AS c ON c.oid = i.indrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
JOIN pg_am AS am ON am.oid = ic.relam
WHERE n.nspname = ANY($1)
  AND c.relkind IN ('r', 'p')
ORDER BY i.indrelid, ic.relname
