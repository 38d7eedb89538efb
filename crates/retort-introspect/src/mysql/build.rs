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

use super::{CatalogRows, CheckRow, ColumnRow, ForeignKeyRow, IndexRow, ServerKind};
use crate::IntrospectError;

const DIALECT: Dialect = Dialect::Mysql;

/// Builds the normalised schema from the catalog rows.
pub(crate) fn build_schema(rows: CatalogRows) -> Result<Schema, IntrospectError> {
    let mut tables: BTreeMap<String, Table> = BTreeMap::new();
    for row in &rows.tables {
        let mut table = Table::new(row.name.clone());
        table.comment = non_empty(&row.comment);
        tables.insert(row.name.clone(), table);
    }

    let json_checks: BTreeSet<(String, String)> = rows
        .checks
        .iter()
        .filter(|check| is_json_check(check))
        .map(|check| (check.table.clone(), check.name.clone()))
        .collect();

    for row in &rows.columns {
        // COLUMNS also lists the columns of views.
        let Some(table) = tables.get_mut(&row.table) else {
            continue;
        };
        if is_generated(row) {
            continue;
        }
        let json = json_checks.contains(&(row.table.clone(), row.name.clone()));
        table.columns.push(column_from_row(row, rows.server, json));
    }

    for check in &rows.checks {
        let Some(table) = tables.get_mut(&check.table) else {
            continue;
        };
        let json_column = json_checks.contains(&(check.table.clone(), check.name.clone()))
            && table
                .column(&check.name)
                .is_some_and(|c| c.ty == ColumnType::Json);
        if json_column {
            continue;
        }
        table.checks.push(CheckConstraint {
            name: Some(check.name.clone()),
            expression: canonical_expression(&check.clause, DIALECT),
        });
    }

    for (table_name, index_name, parts) in group_index_rows(&rows.indexes) {
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
        table.indexes.push(index_from_rows(index_name, &parts, table_name)?);
    }

    for (table_name, parts) in group_foreign_key_rows(&rows.foreign_keys) {
        let Some(table) = tables.get_mut(table_name) else {
            continue;
        };
        table
            .foreign_keys
            .push(foreign_key_from_rows(&parts, &rows.database, table_name)?);
    }

    let mut tables: Vec<Table> = tables.into_values().collect();
    for table in &mut tables {
        canonical_mysql_table(table);
    }
    Ok(Schema {
        tables,
        ..Schema::default()
    }
    .normalized())
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
                &format!("json_valid(`{}`)", check.name.replace('`', "``")),
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
    // ON UPDATE CURRENT_TIMESTAMP (in EXTRA) is not read: the IR has no
    // place for it, and the loader does not accept it in a model either.
    let default = default_from_row(row, server, &ty, &extra);
    Column {
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
            let target = match (&part.column, &part.expression, part.prefix) {
                (Some(column), _, None) => IndexTarget::Column(column.clone()),
                // A prefix part `title(10)`: the IR has no prefix length, so
                // it is kept as the part's text, as a model spells it.
                (Some(column), _, Some(length)) => IndexTarget::Expression(canonical_expression(
                    &format!("`{}`({length})", column.replace('`', "``")),
                    DIALECT,
                )),
                (None, Some(expression), _) => {
                    IndexTarget::Expression(canonical_expression(expression, DIALECT))
                }
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
                target,
                descending: part.collation.as_deref() == Some("D"),
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
        name: Some(first.name.clone()),
        columns: parts.iter().map(|p| p.column.clone()).collect(),
        referred_schema: (first.referred_schema != database)
            .then(|| first.referred_schema.clone()),
        referred_table: first.referred_table.clone(),
        referred_columns: parts.iter().map(|p| p.referred_column.clone()).collect(),
        on_delete: action(&first.on_delete)?,
        on_update: action(&first.on_update)?,
    })
}
