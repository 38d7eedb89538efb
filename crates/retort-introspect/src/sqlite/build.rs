//! Catalog rows → IR, without a database.
//!
//! The pragmas are the source for everything they report (columns, keys,
//! index columns, foreign-key columns and actions). What no pragma reports —
//! constraint names, CHECK constraints, AUTOINCREMENT, index expressions and
//! predicates — comes from the stored `CREATE` statement, parsed by the model
//! loader's own parser so the canonical text matches what it reads from DDL.

use super::{ColumnRow, ForeignKeyRow, IndexRow, ObjectRow};
use crate::IntrospectError;
use retort_models::{column_type, default_value, parse_create_index, parse_create_table};
use retort_schema::push_exact;
use retort_schema::{
    Column, DefaultValue, Dialect, ForeignKey, ForeignKeyAction, Index, IndexPart, IndexTarget,
    PrimaryKey, Schema, Table, Trigger, UniqueConstraint, View,
};
use std::collections::BTreeMap;

const DIALECT: Dialect = Dialect::Sqlite;

/// Turns catalog rows into a normalised [`Schema`] (the rows as the
/// reader would feed them).
#[cfg(test)]
pub(crate) fn build_schema(rows: super::CatalogRows) -> Result<Schema, IntrospectError> {
    let mut builder = SchemaBuilder::default();
    for object in rows.objects {
        builder.object(object)?;
    }
    for column in rows.columns {
        builder.column(column);
    }
    builder.finish(&rows.indexes, &rows.foreign_keys)
}

/// Builds a normalised [`Schema`] from catalog rows fed in the reader's
/// order: the `sqlite_schema` objects, then the column rows one at a time as
/// they arrive (ordered by table; never all held at once), then the index
/// and foreign-key rows.
#[derive(Default)]
pub(crate) struct SchemaBuilder {
    /// Views and triggers; the tables are added by `finish`.
    schema: Schema,
    /// Each table as its stored `CREATE TABLE` declares it.
    declared: BTreeMap<String, Table>,
    /// The stored `CREATE INDEX` of each index that has one.
    index_sql: BTreeMap<String, String>,
    /// Tables built from their column rows.
    tables: BTreeMap<String, Table>,
    /// The column rows of the table whose rows are arriving.
    pending_table: String,
    pending_columns: Vec<ColumnRow>,
}

impl SchemaBuilder {
    pub(crate) fn object(&mut self, object: ObjectRow) -> Result<(), IntrospectError> {
        match (object.kind.as_str(), object.sql) {
            // Virtual tables are not managed by retort (see columns.sql).
            ("table", Some(sql)) => {
                if !is_virtual_table(&sql) {
                    let table = parse_create_table(&sql, DIALECT).map_err(|e| {
                        IntrospectError::Catalog {
                            table: object.name.clone(),
                            message: e.to_string(),
                        }
                    })?;
                    self.declared.insert(object.name, table);
                }
            }
            ("index", Some(sql)) => {
                self.index_sql.insert(object.name, sql);
            }
            ("view", Some(sql)) => self.schema.views.push(View {
                name: object.name,
                sql,
            }),
            ("trigger", Some(sql)) => self.schema.triggers.push(Trigger {
                name: object.name,
                table: object.table,
                sql,
            }),
            (kind, None) => {
                return Err(IntrospectError::Catalog {
                    message: format!("sqlite_schema has no SQL for {kind} `{}`", object.name),
                    table: object.name,
                });
            }
            // An object kind SQLite does not have; nothing to manage.
            (_, Some(_)) => {}
        }
        Ok(())
    }

    pub(crate) fn column(&mut self, row: ColumnRow) {
        if row.table != self.pending_table {
            self.flush_columns();
            self.pending_table.clone_from(&row.table);
        }
        self.pending_columns.push(row);
    }

    /// Builds the table whose column rows are pending.
    fn flush_columns(&mut self) {
        let name = std::mem::take(&mut self.pending_table);
        if let Some(declared) = self.declared.get_mut(&name) {
            let table = table_from_declared(&name, declared, self.pending_columns.iter());
            self.tables.insert(name, table);
        }
        self.pending_columns.clear();
    }

    pub(crate) fn finish(
        mut self,
        index_rows: &[IndexRow],
        foreign_key_rows: &[ForeignKeyRow],
    ) -> Result<Schema, IntrospectError> {
        self.flush_columns();
        let SchemaBuilder {
            mut schema,
            declared: mut parsed,
            index_sql,
            mut tables,
            ..
        } = self;
        // A table without column rows (none are hidden from the pragma, but
        // the catalog may change between the reads) is still a table.
        for (name, declared) in parsed.iter_mut() {
            if !tables.contains_key(name) {
                let table = table_from_declared(name, declared, [].iter());
                tables.insert(name.clone(), table);
            }
        }

        let index_groups = group_by(index_rows, |r| (r.table.as_str(), r.index.as_str()));
        // The column lists of each table's constraint-backing (not CREATE
        // INDEX) indexes, for naming unique constraints below.
        let mut constraint_indexes: BTreeMap<&str, Vec<Vec<String>>> = BTreeMap::new();
        for ((table_name, _), index_rows) in &index_groups {
            if index_rows[0].origin != "c" {
                constraint_indexes
                    .entry(table_name)
                    .or_default()
                    .push(index_columns(index_rows));
            }
        }
        for (key, index_rows) in index_groups {
            let (table_name, index_name) = key;
            let Some(table) = tables.get_mut(table_name) else {
                continue;
            };
            let first = index_rows[0];
            match first.origin.as_str() {
                "c" => {
                    let sql = index_sql.get(index_name).map(String::as_str);
                    let index = index_from_rows(index_name, &index_rows, sql)?;
                    push_exact(&mut table.indexes, index);
                }
                "u" => push_exact(
                    &mut table.unique_constraints,
                    UniqueConstraint {
                        name: None,
                        columns: index_columns(&index_rows),
                        nulls_not_distinct: false,
                    },
                ),
                // Backs the primary key, which the columns' pk numbers describe.
                _ => {}
            }
        }
        for (name, table) in tables.iter_mut() {
            if let Some(declared) = parsed.get(name) {
                let backing = constraint_indexes
                    .get(name.as_str())
                    .map_or(&[][..], Vec::as_slice);
                name_unique_constraints(table, declared, backing);
            }
        }

        let primary_keys: Vec<(String, Vec<String>)> = tables
            .values()
            .map(|t| {
                let columns = t
                    .primary_key
                    .as_ref()
                    .map(|pk| pk.columns.clone())
                    .unwrap_or_default();
                (t.name.clone(), columns)
            })
            .collect();
        // SQLite numbers a table's foreign keys from the last declared one, so
        // walk them backwards to meet them in declared order when matching names.
        let fk_groups = group_by(foreign_key_rows, |r| (r.table.as_str(), r.id));
        for (key, fk_rows) in fk_groups.into_iter().rev() {
            let (table_name, _) = key;
            let (Some(table), Some(declared)) =
                (tables.get_mut(table_name), parsed.get(table_name))
            else {
                continue;
            };
            let mut fk = foreign_key_from_rows(table_name, &fk_rows, &primary_keys)?;
            fk.name = declared_foreign_key_name(declared, &fk, &table.foreign_keys);
            push_exact(&mut table.foreign_keys, fk);
        }

        schema.tables = tables.into_values().collect();
        schema.normalize();
        Ok(schema)
    }
}

fn is_virtual_table(sql: &str) -> bool {
    let words: Vec<String> = sql
        .split_whitespace()
        .take(2)
        .map(|w| w.to_ascii_uppercase())
        .collect();
    words == ["CREATE", "VIRTUAL"]
}

/// Consecutive rows sharing a key (the queries order rows by that key).
fn group_by<'r, R, K: PartialEq>(rows: &'r [R], key: impl Fn(&'r R) -> K) -> Vec<(K, Vec<&'r R>)> {
    let mut groups: Vec<(K, Vec<&R>)> = Vec::new();
    for row in rows {
        let k = key(row);
        match groups.last_mut() {
            Some((last, members)) if *last == k => members.push(row),
            _ => groups.push((k, vec![row])),
        }
    }
    groups
}

/// A table from its column rows and its declaration, which gives up what
/// only it knows and is no longer needed (the checks, the columns): only
/// its key constraints are kept, to name the ones the pragmas report.
/// Declarations are held for every table until the end, and whole they came
/// to as much memory as the schema itself.
fn table_from_declared<'r>(
    name: &str,
    declared: &mut Table,
    rows: impl Iterator<Item = &'r ColumnRow>,
) -> Table {
    let mut table = table_from_columns(name, declared, rows);
    table.checks = std::mem::take(&mut declared.checks);
    declared.columns = Vec::new();
    declared.indexes = Vec::new();
    declared.comment = None;
    table
}

/// A table's columns and primary key from its `pragma_table_xinfo` rows.
fn table_from_columns<'r>(
    name: &str,
    declared: &Table,
    rows: impl Iterator<Item = &'r ColumnRow>,
) -> Table {
    let mut table = Table::new(name);
    let mut pk: Vec<(i64, String)> = Vec::new();
    for row in rows {
        // Hidden (virtual-table) and generated columns (2 virtual, 3 stored)
        // are not modelled yet: the IR has no place for a generation expression.
        if row.hidden != 0 {
            continue;
        }
        let declared_column = declared
            .columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(&row.name));
        let mut column = Column::new(&row.name, column_type(&row.declared_type, DIALECT));
        column.nullable = !row.not_null;
        column.default = row
            .default
            .as_deref()
            .and_then(|text| column_default(text, declared_column));
        // No pragma reports AUTOINCREMENT; only the statement says it.
        column.autoincrement = declared_column.is_some_and(|c| c.autoincrement);
        // Nor the collation: `pragma_table_xinfo` has no column for it.
        column.collation = declared_column.and_then(|c| c.collation.clone());
        if row.pk > 0 {
            pk.push((row.pk, row.name.clone()));
        }
        table.columns.push(column);
    }
    if !pk.is_empty() {
        pk.sort();
        table.primary_key = Some(PrimaryKey {
            name: declared.primary_key.as_ref().and_then(|p| p.name.clone()),
            columns: pk.into_iter().map(|(_, c)| c).collect(),
        });
    }
    table
}

/// The default from `dflt_value`'s text. `DEFAULT NULL` is no default.
///
/// SQLite strips the parentheses of `DEFAULT (expr)` from `dflt_value`
/// (`(datetime('now'))` reads back as `datetime('now')`), and only literals
/// may be written without them, so for a non-literal default the statement's
/// own text, through the loader's parser, is the one that matches the loader.
fn column_default(text: &str, declared: Option<&Column>) -> Option<DefaultValue> {
    // `DEFAULT NULL` is no default, as the loader reads it.
    match retort_models::column_default(text, DIALECT)? {
        DefaultValue::Expression(_) => match declared.and_then(|c| c.default.clone()) {
            Some(value) => Some(value),
            None => Some(default_value(&format!("({text})"), DIALECT)),
        },
        value => Some(value),
    }
}

fn index_columns(rows: &[&IndexRow]) -> Vec<String> {
    rows.iter().filter_map(|r| r.column.clone()).collect()
}

/// A `CREATE INDEX` index from its key rows; expression parts (and the rowid,
/// which has no name) and the predicate come from the stored statement.
fn index_from_rows(
    name: &str,
    rows: &[&IndexRow],
    sql: Option<&str>,
) -> Result<Index, IntrospectError> {
    let catalog_error = |message: String| IntrospectError::Catalog {
        table: name.to_string(),
        message,
    };
    // cid -2 is an expression and -1 the rowid: neither has a column name.
    let from_statement = |r: &IndexRow| r.cid == -2 || r.column.is_none();
    let needs_statement = rows[0].partial || rows.iter().any(|r| from_statement(r));
    let declared = if needs_statement {
        let sql = sql.ok_or_else(|| catalog_error("no CREATE INDEX statement".into()))?;
        Some(
            parse_create_index(sql, DIALECT)
                .map_err(|e| catalog_error(e.to_string()))?
                .1,
        )
    } else {
        None
    };
    let mut parts = Vec::with_capacity(rows.len());
    for (position, row) in rows.iter().enumerate() {
        let column = row.column.as_ref().filter(|_| !from_statement(row));
        let target = match (column, &declared) {
            (Some(column), _) => IndexTarget::Column(column.clone()),
            (None, Some(declared)) => declared
                .parts
                .get(position)
                .map(|p| p.target.clone())
                .ok_or_else(|| {
                    catalog_error(format!(
                        "the statement has fewer key parts than the catalog's {}",
                        rows.len()
                    ))
                })?,
            (None, None) => return Err(catalog_error("unnamed key part".into())),
        };
        parts.push(IndexPart {
            prefix: None,
            target,
            descending: row.descending,
            opclass: None,
        });
    }
    Ok(Index {
        name: name.to_string(),
        parts,
        unique: rows[0].unique,
        predicate: declared.and_then(|d| d.predicate),
        method: None,
        nulls_not_distinct: false,
    })
}

/// Names the UNIQUE constraints read from automatic indexes after the
/// statement's named constraints (no pragma reports constraint names), and
/// restores declared UNIQUE constraints SQLite folded into an identical
/// constraint index (`UNIQUE (a, b)` beside `PRIMARY KEY (a, b)`, or a
/// repeated `UNIQUE (b)`): SQLite builds no index for those, but the loader
/// lists them, and reporting them as missing would be a false drift.
fn name_unique_constraints(
    table: &mut Table,
    declared: &Table,
    constraint_indexes: &[Vec<String>],
) {
    let same = |a: &[String], b: &[String]| {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.eq_ignore_ascii_case(y))
    };
    let mut used = vec![false; declared.unique_constraints.len()];
    for unique in &mut table.unique_constraints {
        let found = declared
            .unique_constraints
            .iter()
            .enumerate()
            .find(|(i, d)| !used[*i] && same(&d.columns, &unique.columns));
        if let Some((i, d)) = found {
            used[i] = true;
            unique.name = d.name.clone();
        }
    }
    for (i, d) in declared.unique_constraints.iter().enumerate() {
        if !used[i] && constraint_indexes.iter().any(|cols| same(cols, &d.columns)) {
            table.unique_constraints.push(d.clone());
        }
    }
}

/// A foreign key from its column-pair rows (ordered by seq).
fn foreign_key_from_rows(
    table: &str,
    rows: &[&ForeignKeyRow],
    primary_keys: &[(String, Vec<String>)],
) -> Result<ForeignKey, IntrospectError> {
    let first = rows[0];
    let action = |text: &str| {
        ForeignKeyAction::from_sql(text).ok_or_else(|| IntrospectError::Catalog {
            table: table.to_string(),
            message: format!(
                "unknown foreign-key action `{text}` on the key to `{}`",
                first.referred_table
            ),
        })
    };
    let referred_columns = match rows
        .iter()
        .map(|r| r.to.clone())
        .collect::<Option<Vec<_>>>()
    {
        Some(columns) => columns,
        // `REFERENCES parent` without columns means the parent's primary key.
        // A missing parent (SQLite only checks on writes) leaves it empty.
        None => primary_keys
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(&first.referred_table))
            .map(|(_, columns)| columns.clone())
            .unwrap_or_default(),
    };
    Ok(ForeignKey {
        implicit_index: None,
        name: None,
        columns: rows.iter().map(|r| r.from.clone()).collect(),
        referred_schema: None,
        referred_table: first.referred_table.clone(),
        referred_columns,
        on_delete: action(&first.on_delete)?,
        on_update: action(&first.on_update)?,
        deferrable: retort_schema::Deferral::NotDeferrable,
    })
}

/// The name the statement gives `fk` (matched by columns and target, taking
/// each declared key once), since no pragma reports foreign-key names.
fn declared_foreign_key_name(
    declared: &Table,
    fk: &ForeignKey,
    already: &[ForeignKey],
) -> Option<String> {
    let matches = |d: &ForeignKey| {
        d.referred_table.eq_ignore_ascii_case(&fk.referred_table)
            && d.columns.len() == fk.columns.len()
            && d.columns
                .iter()
                .zip(&fk.columns)
                .all(|(a, b)| a.eq_ignore_ascii_case(b))
    };
    let taken = already.iter().filter(|a| matches(a)).count();
    declared
        .foreign_keys
        .iter()
        .filter(|d| matches(d))
        .nth(taken)
        .and_then(|d| d.name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sqlite::CatalogRows;

    fn table(name: &str, sql: &str) -> ObjectRow {
        ObjectRow {
            kind: "table".into(),
            name: name.into(),
            table: name.into(),
            sql: Some(sql.into()),
        }
    }

    fn column(table: &str, name: &str, ty: &str, pk: i64) -> ColumnRow {
        ColumnRow {
            table: table.into(),
            name: name.into(),
            declared_type: ty.into(),
            not_null: false,
            default: None,
            pk,
            hidden: 0,
        }
    }

    fn fk(table: &str, id: i64, parent: &str, from: &str, to: Option<&str>) -> ForeignKeyRow {
        ForeignKeyRow {
            table: table.into(),
            id,
            referred_table: parent.into(),
            from: from.into(),
            to: to.map(Into::into),
            on_update: "NO ACTION".into(),
            on_delete: "NO ACTION".into(),
        }
    }

    fn index_row(table: &str, index: &str, origin: &str, column: Option<&str>) -> IndexRow {
        IndexRow {
            table: table.into(),
            index: index.into(),
            unique: origin != "c",
            origin: origin.into(),
            partial: false,
            cid: if column.is_some() { 0 } else { -2 },
            column: column.map(Into::into),
            descending: false,
        }
    }

    #[test]
    fn foreign_key_without_referred_columns_targets_the_parent_primary_key() {
        let rows = CatalogRows {
            objects: vec![
                table("p", "CREATE TABLE p (a INT, b INT, PRIMARY KEY (a, b))"),
                table(
                    "c",
                    "CREATE TABLE c (x INT, y INT, FOREIGN KEY (x, y) REFERENCES p)",
                ),
            ],
            columns: vec![
                column("c", "x", "INT", 0),
                column("c", "y", "INT", 0),
                column("p", "a", "INT", 1),
                column("p", "b", "INT", 2),
            ],
            indexes: vec![],
            foreign_keys: vec![fk("c", 0, "p", "x", None), fk("c", 0, "p", "y", None)],
        };
        let schema = build_schema(rows).unwrap();
        let key = &schema.table("c").unwrap().foreign_keys[0];
        assert_eq!(key.columns, ["x", "y"]);
        assert_eq!(key.referred_columns, ["a", "b"]);
    }

    #[test]
    fn foreign_key_names_follow_declaration_order_though_ids_run_backwards() {
        // Two keys on the same column and parent: SQLite gives the last
        // declared one id 0, so naming by id order would swap the names.
        let sql = "CREATE TABLE c (x INT, \
                   CONSTRAINT first FOREIGN KEY (x) REFERENCES p (a) ON DELETE CASCADE, \
                   CONSTRAINT second FOREIGN KEY (x) REFERENCES p (a))";
        let mut cascade = fk("c", 1, "p", "x", Some("a"));
        cascade.on_delete = "CASCADE".into();
        let rows = CatalogRows {
            objects: vec![table("c", sql)],
            columns: vec![column("c", "x", "INT", 0)],
            indexes: vec![],
            foreign_keys: vec![fk("c", 0, "p", "x", Some("a")), cascade],
        };
        let schema = build_schema(rows).unwrap();
        let keys = &schema.table("c").unwrap().foreign_keys;
        let first = keys
            .iter()
            .find(|k| k.name.as_deref() == Some("first"))
            .unwrap();
        assert_eq!(first.on_delete, ForeignKeyAction::Cascade);
    }

    #[test]
    fn null_default_is_no_default_and_pk_columns_are_not_null() {
        let mut seat = column("t", "seat", "INTEGER", 0);
        seat.default = Some("NULL".into());
        let rows = CatalogRows {
            objects: vec![table(
                "t",
                "CREATE TABLE t (id INTEGER PRIMARY KEY, seat INTEGER DEFAULT NULL)",
            )],
            columns: vec![column("t", "id", "INTEGER", 1), seat],
            ..CatalogRows::default()
        };
        let schema = build_schema(rows).unwrap();
        let t = schema.table("t").unwrap();
        assert_eq!(t.column("seat").unwrap().default, None);
        assert!(!t.column("id").unwrap().nullable);
    }

    #[test]
    fn primary_key_index_is_skipped_and_expression_parts_come_from_the_statement() {
        let rows = CatalogRows {
            objects: vec![
                table("t", "CREATE TABLE t (code TEXT PRIMARY KEY)"),
                ObjectRow {
                    kind: "index".into(),
                    name: "ix_lower".into(),
                    table: "t".into(),
                    sql: Some("CREATE INDEX ix_lower ON t (lower(code), code)".into()),
                },
            ],
            columns: vec![column("t", "code", "TEXT", 1)],
            indexes: vec![
                index_row("t", "ix_lower", "c", None),
                index_row("t", "ix_lower", "c", Some("code")),
                index_row("t", "sqlite_autoindex_t_1", "pk", Some("code")),
            ],
            foreign_keys: vec![],
        };
        let schema = build_schema(rows).unwrap();
        let t = schema.table("t").unwrap();
        assert!(t.unique_constraints.is_empty());
        assert_eq!(t.indexes.len(), 1);
        assert_eq!(
            t.indexes[0].parts,
            [
                IndexPart {
                    prefix: None,
                    target: IndexTarget::Expression("lower(code)".into()),
                    descending: false,
                    opclass: None,
                },
                IndexPart::column("code"),
            ]
        );
    }

    #[test]
    fn unparsable_table_statement_is_a_catalog_error_naming_the_table() {
        let rows = CatalogRows {
            objects: vec![table("broken", "CREATE TABLE broken (")],
            ..CatalogRows::default()
        };
        match build_schema(rows) {
            Err(IntrospectError::Catalog { table, .. }) => assert_eq!(table, "broken"),
            other => panic!("expected a catalog error, got {other:?}"),
        }
    }

    #[test]
    fn virtual_tables_are_left_out() {
        let rows = CatalogRows {
            objects: vec![table("docs", "CREATE VIRTUAL TABLE docs USING fts5(body)")],
            ..CatalogRows::default()
        };
        assert!(build_schema(rows).unwrap().tables.is_empty());
    }
}
