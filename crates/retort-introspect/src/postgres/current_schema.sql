-- The connection's default schema: the first existing schema of its
-- search_path (https://www.postgresql.org/docs/current/functions-info.html).
-- Tables there are reported with no schema, as the model loader does.
-- Also the server version (NULLS NOT DISTINCT exists from 15) and the
-- operator classes that are not their type's default (a few hundred rows
-- at most), by oid, which the index query reports keys by: looked up in
-- Rust, they cost nothing per index.
SELECT current_schema()::text AS current_schema,
       current_setting('server_version_num')::int4 AS server_version,
       ARRAY(SELECT oid::int8 FROM pg_opclass WHERE NOT opcdefault ORDER BY oid) AS opclass_oids,
       ARRAY(SELECT opcname::text FROM pg_opclass WHERE NOT opcdefault ORDER BY oid)
         AS opclass_names
