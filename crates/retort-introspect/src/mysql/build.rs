//! Turns MySQL/MariaDB catalog rows into IR. Pure functions: everything
//! here is tested without a database.

use std::collections::{BTreeMap, BTreeSet};

use retort_models::{
    canonical_expression, canonical_mysql_table, column_default, column_type, typed_default,
};
use retort_schema::{
    CheckConstraint, Column, ColumnType, DefaultValue, Dialect, ForeignKey, ForeignKeyAction,
    Index, IndexPart, IndexTarget, PrimaryKey, Schema, Table,
};

use super::{CheckRow, ColumnRow, ForeignKeyRow, IndexRow, ServerKind, TableRow};
use crate::IntrospectError;
use retort_schema::push_exact;

const DIALECT: Dialect = Dialect::Mysql;

/// Builds the normalised schema: the tables and checks first, then the
/// column rows one at a time as they arrive (50,000 at 5,000 tables, never
/// held together), then the index and foreign-key rows, which are few per
/// table and grouped here.
pub(crate) struct SchemaBuilder {
    server: ServerKind,
    tables: BTreeMap<String, Table>,
    checks: Vec<CheckRow>,
    /// `(table, column)` of MariaDB's `json_valid(col)` column checks.
    json_checks: BTreeSet<(String, String)>,
    /// Each table's default collation.
    table_collations: BTreeMap<String, String>,
    /// Character set → its default collation.
    default_collations: BTreeMap<String, String>,
}

impl SchemaBuilder {
    pub(crate) fn new(
        server: ServerKind,
        tables: Vec<TableRow>,
        checks: Vec<CheckRow>,
        default_collations: BTreeMap<String, String>,
    ) -> Self {
        let table_collations = tables
            .iter()
            .filter_map(|row| Some((row.name.clone(), row.collation.clone()?)))
            .collect();
        let charset_of_default: BTreeMap<&String, &String> = default_collations
            .iter()
            .map(|(charset, collation)| (collation, charset))
            .collect();
        let tables = tables
            .into_iter()
            .map(|row| {
                let mut table = Table::new(row.name.clone());
                table.comment = non_empty(&row.comment);
                table.default_charset = row
                    .collation
                    .as_ref()
                    .and_then(|collation| charset_of_default.get(collation))
                    .map(|charset| (*charset).clone());
                table.default_collation.clone_from(&row.collation);
                (row.name, table)
            })
            .collect();
        let json_checks = checks
            .iter()
            .filter(|check| is_json_check(check))
            .map(|check| (check.table.clone(), check.name.clone()))
            .collect();
        SchemaBuilder {
            server,
            tables,
            checks,
            json_checks,
            table_collations,
            default_collations,
        }
    }

    pub(crate) fn column(&mut self, row: &ColumnRow) {
        // COLUMNS also lists the columns of views.
        let Some(table) = self.tables.get_mut(&row.table) else {
            return;
        };
        if is_generated(row) {
            return;
        }
        // Only a LONGTEXT column can be MariaDB's JSON: the set is not
        // probed (with two copied names) for the other 50,000 rows.
        let json = row.column_type.eq_ignore_ascii_case("longtext")
            && self
                .json_checks
                .contains(&(row.table.clone(), row.name.clone()));
        let mut column = column_from_row(row, self.server, json);
        // MariaDB's JSON is a LONGTEXT that always collates utf8mb4_bin.
        if column.ty != ColumnType::Json {
            (column.charset, column.collation) = column_collation(
                row,
                self.table_collations.get(&row.table),
                &self.default_collations,
            );
        }
        table.columns.push(column);
    }

    /// The schema, once every column is in; `database` is the current one
    /// (a foreign key into it has no referred schema).
    pub(crate) fn finish(
        mut self,
        database: &str,
        indexes: &[IndexRow],
        foreign_keys: &[ForeignKeyRow],
    ) -> Result<Schema, IntrospectError> {
        let tables = &mut self.tables;
        for check in &self.checks {
            let Some(table) = tables.get_mut(&check.table) else {
                continue;
            };
            let json_column = self
                .json_checks
                .contains(&(check.table.clone(), check.name.clone()))
                && table
                    .column(&check.name)
                    .is_some_and(|c| c.ty == ColumnType::Json);
            if json_column {
                continue;
            }
            push_exact(
                &mut table.checks,
                CheckConstraint {
                    name: Some(check.name.clone()),
                    expression: canonical_expression(&check.clause, DIALECT),
                },
            );
        }

        for (table_name, index_name, parts) in group_index_rows(indexes) {
            let Some(table) = tables.get_mut(table_name) else {
                continue;
            };
            if index_name == "PRIMARY" {
                table.primary_key = Some(PrimaryKey {
                    name: None,
                    columns: parts.iter().filter_map(|p| p.column.clone()).collect(),
                });
                continue;
            }
            let index = index_from_rows(index_name, &parts, table_name)?;
            push_exact(&mut table.indexes, index);
        }

        for (table_name, parts) in group_foreign_key_rows(foreign_keys) {
            let Some(table) = tables.get_mut(table_name) else {
                continue;
            };
            let key = foreign_key_from_rows(&parts, database, table_name)?;
            push_exact(&mut table.foreign_keys, key);
        }

        let mut tables: Vec<Table> = self.tables.into_values().collect();
        for table in &mut tables {
            canonical_mysql_table(table);
        }
        Ok(Schema {
            tables,
            ..Schema::default()
        }
        .normalized())
    }
}

/// A column's character set and collation as the IR holds them: none where
/// the collation is the table's default (a model column that states none);
/// else the collation, with the set beside it where the collation is the
/// set's default (the column may have been declared with the set alone).
fn column_collation(
    row: &ColumnRow,
    table_collation: Option<&String>,
    default_collations: &BTreeMap<String, String>,
) -> (Option<String>, Option<String>) {
    let Some(collation) = &row.collation else {
        return (None, None);
    };
    if Some(collation) == table_collation {
        return (None, None);
    }
    let charset = row
        .charset
        .as_ref()
        .filter(|charset| default_collations.get(*charset) == Some(collation));
    (charset.cloned(), Some(collation.clone()))
}

fn non_empty(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_string())
}

/// A `VIRTUAL`/`STORED` generated column: MariaDB leaves
/// `GENERATION_EXPRESSION` NULL for others, MySQL 8 empty.
fn is_generated(row: &ColumnRow) -> bool {
    row.generation_expression
        .as_deref()
        .is_some_and(|e| !e.trim().is_empty())
}

/// MariaDB's `JSON` is `LONGTEXT` plus a column-level `CHECK
/// (json_valid(col))` named after the column.
fn is_json_check(check: &CheckRow) -> bool {
    check.level.eq_ignore_ascii_case("column")
        && canonical_expression(&check.clause, DIALECT)
            == canonical_expression(
                &format!("json_valid({})", DIALECT.quote_identifier(&check.name)),
                DIALECT,
            )
}

pub(crate) fn column_from_row(row: &ColumnRow, server: ServerKind, json_check: bool) -> Column {
    let ty = if json_check && row.column_type.eq_ignore_ascii_case("longtext") {
        ColumnType::Json
    } else {
        column_type(&row.column_type, DIALECT)
    };
    let extra = row.extra.to_ascii_lowercase();
    let default = default_from_row(row, server, &ty, &extra);
    // EXTRA says `on update current_timestamp()` (MariaDB) or
    // `on update CURRENT_TIMESTAMP` (MySQL), with the precision inside.
    let on_update = extra
        .find("on update ")
        .map(|at| {
            extra[at + "on update ".len()..]
                .split_whitespace()
                .next()
                .unwrap_or_default()
        })
        .map(|text| retort_models::default_value(text, DIALECT));
    Column {
        on_update,
        charset: None,
        collation: None,
        name: row.name.clone(),
        nullable: row.nullable,
        default,
        autoincrement: extra.split_whitespace().any(|w| w == "auto_increment"),
        comment: non_empty(&row.comment),
        ty,
    }
}

/// The column's default, canonical as the loader reads the same DDL.
fn default_from_row(
    row: &ColumnRow,
    server: ServerKind,
    ty: &ColumnType,
    extra: &str,
) -> Option<DefaultValue> {
    let text = row.default.as_deref()?;
    let value = match server {
        ServerKind::MariaDb => column_default(text, DIALECT)?,
        ServerKind::MySql => {
            let expression = extra.contains("default_generated")
                || text.to_ascii_uppercase().starts_with("CURRENT_TIMESTAMP");
            if expression {
                column_default(text, DIALECT)?
            } else {
                bare_literal(text, ty)
            }
        }
    };
    Some(typed_default(value, ty, DIALECT))
}

/// A MySQL default stored without quotes: a number for number-like types
/// (including `unsigned` integers, `bit`, `year`), else a string.
fn bare_literal(text: &str, ty: &ColumnType) -> DefaultValue {
    let number_like = match ty {
        ColumnType::Custom(custom) => {
            custom.contains("int") || custom.starts_with("bit") || custom == "year"
        }
        ColumnType::Char { .. }
        | ColumnType::Varchar { .. }
        | ColumnType::Text
        | ColumnType::Blob
        | ColumnType::Date
        | ColumnType::Time { .. }
        | ColumnType::Timestamp { .. }
        | ColumnType::Json
        | ColumnType::Jsonb
        | ColumnType::Uuid
        | ColumnType::Enum { .. }
        | ColumnType::InlineEnum { .. }
        | ColumnType::Array(_) => false,
        _ => true,
    };
    let number = number_like.then(|| DefaultValue::number(text)).flatten();
    number.unwrap_or_else(|| DefaultValue::String(text.to_string()))
}

/// Index rows grouped per (table, index), parts in key order.
fn group_index_rows(rows: &[IndexRow]) -> Vec<(&str, &str, Vec<&IndexRow>)> {
    let mut grouped: BTreeMap<(&str, &str), Vec<&IndexRow>> = BTreeMap::new();
    for row in rows {
        grouped
            .entry((row.table.as_str(), row.index.as_str()))
            .or_default()
            .push(row);
    }
    grouped
        .into_iter()
        .map(|((table, index), mut parts)| {
            parts.sort_by_key(|p| p.position);
            (table, index, parts)
        })
        .collect()
}

fn index_from_rows(name: &str, parts: &[&IndexRow], table: &str) -> Result<Index, IntrospectError> {
    let first = parts.first().ok_or_else(|| IntrospectError::Catalog {
        table: table.to_string(),
        message: format!("index `{name}` has no key parts"),
    })?;
    let index_parts = parts
        .iter()
        .map(|part| {
            let (target, prefix) = match (&part.column, &part.expression, part.prefix) {
                (Some(column), _, prefix) => (
                    IndexTarget::Column(column.clone()),
                    prefix.and_then(|length| u32::try_from(length).ok()),
                ),
                (None, Some(expression), _) => (
                    IndexTarget::Expression(canonical_expression(expression, DIALECT)),
                    None,
                ),
                (None, None, _) => {
                    return Err(IntrospectError::Catalog {
                        table: table.to_string(),
                        message: format!(
                            "index `{name}` has a key part with neither a column nor an expression"
                        ),
                    });
                }
            };
            Ok(IndexPart {
                prefix,
                target,
                descending: part.collation.as_deref() == Some("D"),
                opclass: None,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let method = first.index_type.to_ascii_lowercase();
    Ok(Index {
        name: name.to_string(),
        parts: index_parts,
        unique: first.unique,
        predicate: None,
        method: (method != "btree").then_some(method),
        nulls_not_distinct: false,
    })
}

/// Foreign-key rows grouped per (table, constraint), columns in key order.
fn group_foreign_key_rows(rows: &[ForeignKeyRow]) -> Vec<(&str, Vec<&ForeignKeyRow>)> {
    let mut grouped: BTreeMap<(&str, &str), Vec<&ForeignKeyRow>> = BTreeMap::new();
    for row in rows {
        grouped
            .entry((row.table.as_str(), row.name.as_str()))
            .or_default()
            .push(row);
    }
    grouped
        .into_iter()
        .map(|((table, _), mut parts)| {
            parts.sort_by_key(|p| p.position);
            (table, parts)
        })
        .collect()
}

fn foreign_key_from_rows(
    parts: &[&ForeignKeyRow],
    database: &str,
    table: &str,
) -> Result<ForeignKey, IntrospectError> {
    let first = parts.first().ok_or_else(|| IntrospectError::Catalog {
        table: table.to_string(),
        message: "a foreign key has no columns".to_string(),
    })?;
    let action = |rule: &str| {
        ForeignKeyAction::from_sql(rule).ok_or_else(|| IntrospectError::Catalog {
            table: table.to_string(),
            message: format!(
                "unknown referential action `{rule}` on foreign key `{}`",
                first.name
            ),
        })
    };
    Ok(ForeignKey {
        implicit_index: None,
        name: Some(first.name.clone()),
        columns: parts.iter().map(|p| p.column.clone()).collect(),
        referred_schema: (first.referred_schema != database).then(|| first.referred_schema.clone()),
        referred_table: first.referred_table.clone(),
        referred_columns: parts.iter().map(|p| p.referred_column.clone()).collect(),
        on_delete: action(&first.on_delete)?,
        on_update: action(&first.on_update)?,
        deferrable: retort_schema::Deferral::NotDeferrable,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mysql::TableRow;

    fn column(name: &str, column_type: &str, default: Option<&str>) -> ColumnRow {
        ColumnRow {
            charset: None,
            collation: None,
            table: "t".into(),
            name: name.into(),
            column_type: column_type.into(),
            nullable: true,
            default: default.map(Into::into),
            extra: String::new(),
            comment: String::new(),
            generation_expression: None,
        }
    }

    fn default_on(server: ServerKind, ty: &str, text: &str, extra: &str) -> Option<DefaultValue> {
        let mut row = column("c", ty, Some(text));
        row.extra = extra.into();
        column_from_row(&row, server, false).default
    }

    #[test]
    fn server_kind_follows_the_version() {
        assert_eq!(
            ServerKind::from_version("10.11.19-MariaDB-0+deb12u1"),
            ServerKind::MariaDb
        );
        assert_eq!(
            ServerKind::from_version("5.5.5-10.2.6-MariaDB"),
            ServerKind::MySql
        );
        assert_eq!(
            ServerKind::from_version("10.2.6-MariaDB"),
            ServerKind::MySql
        );
        assert_eq!(ServerKind::from_version("8.0.36"), ServerKind::MySql);
    }

    #[test]
    fn mariadb_and_mysql_defaults_read_alike() {
        use DefaultValue as D;
        let maria = |ty: &str, text: &str| default_on(ServerKind::MariaDb, ty, text, "");
        let mysql =
            |ty: &str, text: &str, extra: &str| default_on(ServerKind::MySql, ty, text, extra);
        assert_eq!(maria("varchar(9)", "'x'"), Some(D::String("x".into())));
        assert_eq!(mysql("varchar(9)", "x", ""), Some(D::String("x".into())));
        assert_eq!(
            maria("varchar(9)", "'it''s'"),
            Some(D::String("it's".into()))
        );
        assert_eq!(
            mysql("varchar(9)", "it's", ""),
            Some(D::String("it's".into()))
        );
        // MariaDB's NULL text is no default; on MySQL 'NULL' is a string.
        assert_eq!(maria("varchar(9)", "NULL"), None);
        assert_eq!(
            mysql("varchar(9)", "NULL", ""),
            Some(D::String("NULL".into()))
        );
        assert_eq!(maria("decimal(10,2)", "0.00"), Some(D::Number("0".into())));
        assert_eq!(
            mysql("decimal(10,2)", "0.00", ""),
            Some(D::Number("0".into()))
        );
        assert_eq!(
            mysql("int(10) unsigned", "7", ""),
            Some(D::Number("7".into()))
        );
        assert_eq!(maria("tinyint(1)", "1"), Some(D::Boolean(true)));
        assert_eq!(mysql("tinyint(1)", "0", ""), Some(D::Boolean(false)));
        assert_eq!(
            maria("timestamp", "current_timestamp()"),
            Some(D::CurrentTimestamp)
        );
        assert_eq!(
            mysql("timestamp", "CURRENT_TIMESTAMP", "DEFAULT_GENERATED"),
            Some(D::CurrentTimestamp)
        );
        assert_eq!(
            mysql("timestamp", "CURRENT_TIMESTAMP", ""),
            Some(D::CurrentTimestamp)
        );
        assert_eq!(
            mysql("datetime", "2020-01-01 00:00:00", ""),
            Some(D::String("2020-01-01 00:00:00".into()))
        );
    }

    #[test]
    fn columns_read_extra_and_comments() {
        let mut id = column("id", "int(11)", None);
        id.extra = "auto_increment".into();
        id.nullable = false;
        let id = column_from_row(&id, ServerKind::MariaDb, false);
        assert!(id.autoincrement && !id.nullable && id.ty == ColumnType::Integer);
        let mut touched = column("at", "timestamp", Some("current_timestamp()"));
        touched.extra = "on update current_timestamp()".into();
        assert_eq!(
            column_from_row(&touched, ServerKind::MariaDb, false).on_update,
            Some(DefaultValue::CurrentTimestamp)
        );
        touched.comment = "last change".into();
        let touched = column_from_row(&touched, ServerKind::MariaDb, false);
        assert!(!touched.autoincrement);
        assert_eq!(touched.default, Some(DefaultValue::CurrentTimestamp));
        assert_eq!(touched.comment.as_deref(), Some("last change"));
        // Only a LONGTEXT with its json_valid check is JSON.
        let data = column("data", "longtext", None);
        assert_eq!(
            column_from_row(&data, ServerKind::MariaDb, true).ty,
            ColumnType::Json
        );
        assert_eq!(
            column_from_row(&data, ServerKind::MariaDb, false).ty,
            ColumnType::Custom("longtext".into())
        );
    }

    fn part(index: &str, position: i64, column: &str, unique: bool) -> IndexRow {
        IndexRow {
            table: "t".into(),
            index: index.into(),
            unique,
            position,
            column: Some(column.into()),
            expression: None,
            prefix: None,
            collation: Some("A".into()),
            index_type: "BTREE".into(),
            comment: String::new(),
            visible: true,
        }
    }

    fn check(name: &str, clause: &str, level: &str) -> CheckRow {
        CheckRow {
            table: "t".into(),
            name: name.into(),
            clause: clause.into(),
            level: level.into(),
        }
    }

    #[test]
    fn a_column_states_only_the_collation_the_table_does_not_give_it() {
        let defaults = BTreeMap::from([
            ("ascii".to_string(), "ascii_general_ci".to_string()),
            ("utf8mb4".to_string(), "utf8mb4_general_ci".to_string()),
        ]);
        let table = "utf8mb4_general_ci".to_string();
        let with = |charset: &str, collation: &str| ColumnRow {
            charset: Some(charset.into()),
            collation: Some(collation.into()),
            ..column("c", "varchar(10)", None)
        };
        let read = |row: &ColumnRow| column_collation(row, Some(&table), &defaults);
        assert_eq!(read(&with("utf8mb4", "utf8mb4_general_ci")), (None, None));
        assert_eq!(
            read(&with("utf8mb4", "utf8mb4_bin")),
            (None, Some("utf8mb4_bin".into()))
        );
        assert_eq!(
            read(&with("ascii", "ascii_general_ci")),
            (Some("ascii".into()), Some("ascii_general_ci".into()))
        );
        assert_eq!(read(&column("n", "int(11)", None)), (None, None));
    }

    #[test]
    fn catalog_rows_build_a_canonical_table() {
        let mut data = column("data", "longtext", None);
        data.comment = String::new();
        let mut prefix = part("ix_name", 2, "name", false);
        prefix.prefix = Some(8);
        prefix.collation = Some("D".into());
        let mut lowered = part("ix_lower", 1, "name", false);
        lowered.column = None;
        lowered.expression = Some("(lower(`name`))".into());
        let mut fulltext = part("ft_name", 1, "name", false);
        fulltext.index_type = "FULLTEXT".into();
        fulltext.collation = None;
        let fk = |position: i64, column: &str, referred: &str| ForeignKeyRow {
            table: "t".into(),
            name: "t_ibfk_1".into(),
            position,
            column: column.into(),
            referred_schema: "other_db".into(),
            referred_table: "p".into(),
            referred_column: referred.into(),
            on_update: "RESTRICT".into(),
            on_delete: "SET NULL".into(),
        };
        let mut builder = SchemaBuilder::new(
            ServerKind::MariaDb,
            vec![TableRow {
                collation: None,
                name: "t".into(),
                comment: "things".into(),
                engine: Some("InnoDB".into()),
                create_options: String::new(),
            }],
            vec![
                check("data", "json_valid(`data`)", "Column"),
                check("CONSTRAINT_1", "`a` > 0", "Table"),
            ],
            BTreeMap::new(),
        );
        let columns = [
            column("id", "int(11)", None),
            column("a", "int(11)", None),
            column("b", "int(11)", None),
            column("name", "varchar(20)", Some("'x'")),
            data,
            ColumnRow {
                generation_expression: Some("`a` + 1".into()),
                ..column("g", "int(11)", None)
            },
            // A view's column: no such table.
            ColumnRow {
                table: "v".into(),
                ..column("id", "int(11)", None)
            },
        ];
        for row in &columns {
            builder.column(row);
        }
        let indexes = [
            part("PRIMARY", 1, "id", true),
            part("uk_name", 1, "name", true),
            // The implicit index of t_ibfk_1, named after its first column.
            part("a", 1, "a", false),
            part("a", 2, "b", false),
            part("ix_name", 1, "id", false),
            prefix,
            lowered,
            fulltext,
        ];
        let foreign_keys = [fk(2, "b", "y"), fk(1, "a", "x")];
        let schema = builder.finish("app", &indexes, &foreign_keys).unwrap();
        assert_eq!(schema.tables.len(), 1);
        let t = &schema.tables[0];
        assert_eq!(t.comment.as_deref(), Some("things"));
        let names: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["id", "a", "b", "name", "data"]);
        assert_eq!(t.column("data").unwrap().ty, ColumnType::Json);
        assert_eq!(
            t.checks,
            vec![CheckConstraint {
                name: Some("CONSTRAINT_1".into()),
                expression: "a > 0".into()
            }]
        );
        assert_eq!(t.primary_key.as_ref().unwrap().columns, ["id"]);
        assert_eq!(t.unique_constraints[0].name.as_deref(), Some("uk_name"));
        let fk = &t.foreign_keys[0];
        assert_eq!(fk.columns, ["a", "b"]);
        assert_eq!(fk.referred_columns, ["x", "y"]);
        assert_eq!(fk.referred_schema.as_deref(), Some("other_db"));
        assert_eq!(fk.on_delete, ForeignKeyAction::SetNull);
        assert_eq!(fk.on_update, ForeignKeyAction::NoAction);
        // The hidden index is kept on the key, so that its drop names it.
        assert_eq!(fk.implicit_index.as_deref(), Some("a"));
        let indexes: Vec<&str> = t.indexes.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(indexes, ["ft_name", "ix_lower", "ix_name"]);
        assert_eq!(t.indexes[0].method.as_deref(), Some("fulltext"));
        assert_eq!(
            t.indexes[1].parts[0].target,
            IndexTarget::Expression("lower(name)".into())
        );
        assert_eq!(
            t.indexes[2].parts[1],
            IndexPart {
                prefix: Some(8),
                target: IndexTarget::Column("name".into()),
                descending: true,
                opclass: None,
            }
        );
    }
}
