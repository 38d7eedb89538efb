-- Copied from retort-introspect/src/sqlite/ with the version-table parameter
-- written in: the floor runs the same catalog reads through the sqlite3 shell.
-- Every schema object retort tracks, in one read of sqlite_schema:
-- tables, indexes, views and triggers with their stored SQL.
-- https://www.sqlite.org/schematab.html
-- Internal objects (`sqlite_%`: sqlite_sequence, sqlite_stat1, the
-- automatic indexes backing UNIQUE/PRIMARY KEY) and the version table with
-- its indexes and triggers are left out. 'retort_version' is the version table's name.
SELECT type, name, tbl_name, sql
FROM sqlite_schema
WHERE type IN ('table', 'index', 'view', 'trigger')
  AND name NOT LIKE 'sqlite\_%' ESCAPE '\'
  AND tbl_name NOT LIKE 'sqlite\_%' ESCAPE '\'
  AND tbl_name <> 'retort_version' COLLATE NOCASE
ORDER BY type, name
;
