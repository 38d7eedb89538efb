-- Every foreign key of every table in one query, through the table-valued
-- form of PRAGMA foreign_key_list: one row per column pair, grouped by id and
-- ordered by seq. "to" is NULL when the REFERENCES clause names no columns,
-- which means the parent's primary key.
-- https://www.sqlite.org/pragma.html#pragma_foreign_key_list
-- ?1 is the version table.
-- The second argument pins the pragma to the main schema, so a TEMP table
-- of the same name cannot shadow the one sqlite_schema lists.
SELECT m.name AS table_name, fk.id, fk.seq, fk."table" AS referred_table,
       fk."from" AS from_column, fk."to" AS to_column, fk.on_update, fk.on_delete
FROM sqlite_schema AS m
JOIN pragma_foreign_key_list(m.name, 'main') AS fk
WHERE m.type = 'table'
  AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\'
  AND m.name <> ?1 COLLATE NOCASE
  AND m.sql NOT LIKE 'CREATE VIRTUAL %'
ORDER BY m.name, fk.id, fk.seq
