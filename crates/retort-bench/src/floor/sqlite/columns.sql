-- Copied from retort-introspect/src/sqlite/ with the version-table parameter
-- written in: the floor runs the same catalog reads through the sqlite3 shell.
-- The columns of every table in one query, through the table-valued form of
-- PRAGMA table_xinfo (which, unlike table_info, also reports hidden and
-- generated columns, so retort can tell them apart).
-- https://www.sqlite.org/pragma.html#pragma_table_xinfo
-- https://www.sqlite.org/pragma.html#pragfunc
-- Virtual tables are skipped: their module may not be loaded on this
-- connection, and retort does not manage them. 'retort_version' is the version table.
-- The second argument pins the pragma to the main schema, so a TEMP table
-- of the same name cannot shadow the one sqlite_schema lists.
SELECT m.name AS table_name, p.cid, p.name, p.type, p."notnull", p.dflt_value, p.pk, p.hidden
FROM sqlite_schema AS m
JOIN pragma_table_xinfo(m.name, 'main') AS p
WHERE m.type = 'table'
  AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\'
  AND m.name <> 'retort_version' COLLATE NOCASE
  AND m.sql NOT LIKE 'CREATE VIRTUAL %'
ORDER BY m.name, p.cid
;
