-- Copied from retort-introspect/src/sqlite/ with the version-table parameter
-- written in: the floor runs the same catalog reads through the sqlite3 shell.
-- Every index of every table with its key columns in one query, joining the
-- table-valued forms of PRAGMA index_list and PRAGMA index_xinfo.
-- https://www.sqlite.org/pragma.html#pragma_index_list
-- https://www.sqlite.org/pragma.html#pragma_index_xinfo
-- origin: 'c' CREATE INDEX, 'u' UNIQUE constraint, 'pk' PRIMARY KEY.
-- cid: -1 the rowid, -2 an expression (whose text is only in the index's
-- CREATE INDEX statement). key = 0 rows are the auxiliary columns (rowid or
-- primary key) every index carries, not part of the declared key.
-- 'retort_version' is the version table.
-- The second argument pins the pragma to the main schema, so a TEMP table
-- of the same name cannot shadow the one sqlite_schema lists.
SELECT m.name AS table_name, il.name AS index_name, il."unique", il.origin, il.partial,
       ix.seqno, ix.cid, ix.name AS column_name, ix."desc"
FROM sqlite_schema AS m
JOIN pragma_index_list(m.name, 'main') AS il
JOIN pragma_index_xinfo(il.name, 'main') AS ix
WHERE m.type = 'table'
  AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\'
  AND m.name <> 'retort_version' COLLATE NOCASE
  AND m.sql NOT LIKE 'CREATE VIRTUAL %'
  AND ix.key = 1
ORDER BY m.name, il.name, ix.seqno
;
