-- Copied from retort-introspect/src/sqlite/ with the version-table parameter
-- written in: the floor runs the same catalog reads through the sqlite3 shell.
-- Every foreign key of every table in one query, through the table-valued
-- form of PRAGMA foreign_key_list: one row per column pair, grouped by id and
-- ordered by seq. "to" is NULL when the REFERENCES clause names no columns,
-- which means the parent's primary key.
-- https://www.sqlite.org/pragma.html#pragma_foreign_key_list
-- 'retort_version' is the version table.
-- The second argument pins the pragma to the main schema, so a TEMP table
-- of the same name cannot shadow the one sqlite_schema lists.
SELECT m.name AS table_name, fk.id, fk.seq, fk."table" AS referred_table,
       fk."from" AS from_column, fk."to" AS to_column, fk.on_update, fk.on_delete
FROM sqlite_schema AS m
JOIN pragma_foreign_key_list(m.name, 'main') AS fk
WHERE m.type = 'table'
  AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\'
  AND m.name <> 'retort_version' COLLATE NOCASE
  AND m.sql NOT LIKE 'CREATE VIRTUAL %'
ORDER BY m.name, fk.id, fk.seq
;
