-- The connection's default schema: the first existing schema of its
-- search_path (https://www.postgresql.org/docs/current/functions-info.html).
-- Tables there are reported with no schema, as the model loader does.
SELECT current_schema()::text AS current_schema
