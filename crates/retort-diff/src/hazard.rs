//! Hazards: what can go wrong when an op runs.
//!
//! [`hazards`] looks at one op on its own (plus the dialect): it never sees
//! the data, so every hazard is a "may", stated with the subject it concerns
//! (`users.age`) so that a reviewer can decide.

use crate::DiffOptions;
use crate::ops::{Constraint, Op};
use retort_schema::{ColumnType, DefaultValue, Dialect};
use serde::{Deserialize, Serialize};

/// A hazard's stable code, as it appears in JSON and in `-- hazard:` lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HazardCode {
    /// The op deletes data: a dropped table or column, a narrowing type.
    DataLoss,
    /// The database rewrites the whole table (every SQLite rebuild).
    TableRewrite,
    /// The op holds a lock that blocks reads or writes for its duration.
    LongLock,
    /// The op fails if existing rows violate it (NOT NULL without default,
    /// a new unique or check constraint, a new foreign key).
    FailsOnExistingRows,
    /// The op's inverse cannot restore what it removed.
    Irreversible,
}

impl HazardCode {
    /// The snake-case code (`data_loss`).
    pub fn as_str(self) -> &'static str {
        match self {
            HazardCode::DataLoss => "data_loss",
            HazardCode::TableRewrite => "table_rewrite",
            HazardCode::LongLock => "long_lock",
            HazardCode::FailsOnExistingRows => "fails_on_existing_rows",
            HazardCode::Irreversible => "irreversible",
        }
    }
}

/// One hazard of one op: its code and a sentence naming the subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hazard {
    pub code: HazardCode,
    pub message: String,
}

impl Hazard {
    /// A hazard with `code` and `message`.
    pub fn new(code: HazardCode, message: impl Into<String>) -> Self {
        Hazard {
            code,
            message: message.into(),
        }
    }
}

/// The hazards of running `op` on `options.dialect`, in a fixed order
/// (the order the checks below are written in).
pub fn hazards(op: &Op, options: &DiffOptions) -> Vec<Hazard> {
    let dialect = options.dialect;
    let mut found = Vec::new();
    match op {
        Op::DropTable { table } => {
            found.push(Hazard::new(
                HazardCode::DataLoss,
                format!("drops table {} and all its rows", table.name),
            ));
            found.push(Hazard::new(
                HazardCode::Irreversible,
                format!("the downgrade re-creates table {} empty", table.name),
            ));
        }
        Op::DropColumn { table, column } => {
            let subject = format!("{table}.{}", column.name);
            found.push(Hazard::new(
                HazardCode::DataLoss,
                format!("drops column {subject} and its values"),
            ));
            found.push(Hazard::new(
                HazardCode::Irreversible,
                format!("the downgrade re-creates column {subject} without its values"),
            ));
            if !dialect.drop_column() {
                found.push(rebuild(dialect, table, "drop column"));
            }
        }
        Op::AddColumn { table, column } => {
            let subject = format!("{table}.{}", column.name);
            let no_default = column.default.is_none() || column.default == Some(DefaultValue::Null);
            if !column.nullable && no_default && !column.autoincrement {
                found.push(Hazard::new(
                    HazardCode::FailsOnExistingRows,
                    format!(
                        "adds NOT NULL column {subject} without a default; \
                         fails if {table} has rows (add a default or make it nullable first)"
                    ),
                ));
            }
            // SQLite's ADD COLUMN refuses NOT NULL without a default and
            // non-constant defaults: https://www.sqlite.org/lang_altertable.html
            if !dialect.add_column_unrestricted()
                && ((!column.nullable && no_default)
                    || column.default.as_ref().is_some_and(is_non_constant))
            {
                found.push(rebuild(dialect, table, "add column"));
            }
        }
        Op::AlterColumn { table, from, to } => {
            let subject = format!("{table}.{}", to.name);
            if narrows(&from.ty, &to.ty) {
                found.push(Hazard::new(
                    HazardCode::DataLoss,
                    format!(
                        "changes {subject} from {} to {}; values that do not fit are \
                         lost or rejected",
                        from.ty, to.ty
                    ),
                ));
            }
            if from.nullable && !to.nullable {
                found.push(Hazard::new(
                    HazardCode::FailsOnExistingRows,
                    format!("makes {subject} NOT NULL; fails if any row has NULL in it"),
                ));
            }
            if dialect == Dialect::Postgres && postgres_type_change_rewrites(&from.ty, &to.ty) {
                found.push(Hazard::new(
                    HazardCode::TableRewrite,
                    format!(
                        "changing {subject} from {} to {} rewrites table {table} and its \
                         indexes",
                        from.ty, to.ty
                    ),
                ));
                found.push(Hazard::new(
                    HazardCode::LongLock,
                    format!(
                        "holds an ACCESS EXCLUSIVE lock on {table} while it is rewritten: \
                         blocks reads and writes"
                    ),
                ));
            }
            if !dialect.alter_column() {
                found.push(rebuild(dialect, table, "alter column"));
            }
        }
        Op::CreateIndex { table, index } => {
            if index.unique {
                found.push(Hazard::new(
                    HazardCode::FailsOnExistingRows,
                    format!(
                        "creates unique index {} on {table}; fails if existing rows \
                         have duplicates",
                        index.name
                    ),
                ));
            }
            if blocking_index_build(dialect) {
                found.push(Hazard::new(
                    HazardCode::LongLock,
                    format!(
                        "creates index {} on {table} without CONCURRENTLY; \
                         blocks writes to {table} while it builds",
                        index.name
                    ),
                ));
            }
        }
        Op::CreatePrimaryKey { table, constraint } => {
            found.push(Hazard::new(
                HazardCode::FailsOnExistingRows,
                format!(
                    "adds primary key ({}) to {table}; fails if existing rows have \
                     duplicates or NULLs",
                    constraint.columns.join(", ")
                ),
            ));
            if !dialect.alter_constraints() {
                found.push(rebuild(dialect, table, "add primary key"));
            }
        }
        Op::CreateUniqueConstraint { table, constraint } => {
            found.push(Hazard::new(
                HazardCode::FailsOnExistingRows,
                format!(
                    "adds unique constraint {} on {table} ({}); fails if existing rows \
                     have duplicates",
                    display_name(constraint.name.as_deref()),
                    constraint.columns.join(", ")
                ),
            ));
            if !dialect.alter_constraints() {
                found.push(rebuild(dialect, table, "add unique constraint"));
            }
        }
        Op::CreateForeignKey { table, constraint } => {
            found.push(Hazard::new(
                HazardCode::FailsOnExistingRows,
                format!(
                    "adds foreign key {} {table}({}) -> {}({}); fails if existing rows \
                     reference missing rows",
                    display_name(constraint.name.as_deref()),
                    constraint.columns.join(", "),
                    constraint.referred_table,
                    constraint.referred_columns.join(", ")
                ),
            ));
            if !dialect.alter_constraints() {
                found.push(rebuild(dialect, table, "add foreign key"));
            }
        }
        Op::CreateCheckConstraint { table, constraint } => {
            found.push(Hazard::new(
                HazardCode::FailsOnExistingRows,
                format!(
                    "adds check constraint {} on {table} ({}); fails if existing rows \
                     violate it",
                    display_name(constraint.name.as_deref()),
                    constraint.expression
                ),
            ));
            if !dialect.alter_constraints() {
                found.push(rebuild(dialect, table, "add check constraint"));
            }
        }
        Op::DropConstraint { table, constraint } => {
            if !dialect.alter_constraints() {
                let what = match constraint {
                    Constraint::PrimaryKey(_) => "drop primary key",
                    Constraint::Unique(_) => "drop unique constraint",
                    Constraint::ForeignKey(_) => "drop foreign key",
                    Constraint::Check(_) => "drop check constraint",
                };
                found.push(rebuild(dialect, table, what));
            }
        }
        Op::AlterEnum {
            name,
            from_values,
            to_values,
            ..
        } if dialect.named_enums() && !op.enum_values_only_added() => {
            let removed: Vec<&str> = from_values
                .iter()
                .filter(|v| !to_values.contains(v))
                .map(String::as_str)
                .collect();
            if !removed.is_empty() {
                let list = removed
                    .iter()
                    .map(|v| DefaultValue::String(v.to_string()).to_sql())
                    .collect::<Vec<_>>()
                    .join(", ");
                found.push(Hazard::new(
                    HazardCode::DataLoss,
                    format!(
                        "removes {list} from enum {name}; the conversion fails while any \
                         row holds a removed value (update those rows first)"
                    ),
                ));
            }
            found.push(Hazard::new(
                HazardCode::TableRewrite,
                format!(
                    "{dialect} cannot remove or reorder enum values in place: rebuilds \
                     enum {name}, rewriting every table with a column of that type"
                ),
            ));
            found.push(Hazard::new(
                HazardCode::LongLock,
                format!(
                    "holds an ACCESS EXCLUSIVE lock on each table using enum {name} while \
                     it is rewritten"
                ),
            ));
        }
        Op::AlterEnum { .. }
        | Op::CreateEnum { .. }
        | Op::DropEnum { .. }
        | Op::CreateTable { .. }
        | Op::DropIndex { .. } => {}
    }
    found
}

fn rebuild(dialect: Dialect, table: &str, what: &str) -> Hazard {
    Hazard::new(
        HazardCode::TableRewrite,
        format!("{dialect} cannot {what} in place: rebuilds table {table}, copying every row"),
    )
}

fn display_name(name: Option<&str>) -> &str {
    name.unwrap_or("(unnamed)")
}

/// Whether a plain `CREATE INDEX` blocks writes for the whole build.
/// PostgreSQL takes a SHARE lock unless the index is built `CONCURRENTLY`
/// (https://www.postgresql.org/docs/current/sql-createindex.html); MySQL's
/// InnoDB builds indexes online, and SQLite databases are single-writer
/// anyway. Kept here rather than on `Dialect` because only hazards need it.
fn blocking_index_build(dialect: Dialect) -> bool {
    matches!(dialect, Dialect::Postgres)
}

/// Whether PostgreSQL rewrites the table (and rebuilds its indexes) to
/// change a column from `from` to `to`. It does not where the old
/// representation is valid for the new type (binary coercible, and no
/// length or precision check can fail): `varchar(n)` → `varchar(m ≥ n)`,
/// `varchar` ↔ `text`, `numeric(p,s)` → `numeric(p' ≥ p,s)` or unbounded
/// `numeric`. Everything else (`integer` → `bigint`, any `USING` cast,
/// narrowing) rewrites: https://www.postgresql.org/docs/current/sql-altertable.html
/// ("Notes").
pub(crate) fn postgres_type_change_rewrites(from: &ColumnType, to: &ColumnType) -> bool {
    if from == to {
        return false;
    }
    let unbounded_text =
        |ty: &ColumnType| matches!(ty, ColumnType::Text | ColumnType::Varchar { length: None });
    match (from, to) {
        (ColumnType::Varchar { length: Some(a) }, ColumnType::Varchar { length: Some(b) }) => b < a,
        (ColumnType::Varchar { .. } | ColumnType::Text, _) if unbounded_text(to) => false,
        (
            ColumnType::Decimal {
                precision: p1,
                scale: s1,
            },
            ColumnType::Decimal {
                precision: p2,
                scale: s2,
            },
        ) => match p2 {
            None => false,
            Some(p2) => p1.is_none_or(|p1| *p2 < p1) || s1.unwrap_or(0) != s2.unwrap_or(0),
        },
        (ColumnType::Array(a), ColumnType::Array(b)) => postgres_type_change_rewrites(a, b),
        _ => true,
    }
}

/// Whether SQLite's `ADD COLUMN` would refuse `default` as non-constant.
fn is_non_constant(default: &DefaultValue) -> bool {
    matches!(
        default,
        DefaultValue::CurrentTimestamp
            | DefaultValue::CurrentDate
            | DefaultValue::CurrentTime
            | DefaultValue::Expression(_)
    )
}

/// The family a type belongs to: a change inside a family can be checked
/// for narrowing; a change across families always risks data.
#[derive(PartialEq, Eq)]
enum Family {
    Integer,
    Float,
    Decimal,
    Boolean,
    Text,
    Blob,
    Date,
    Time,
    Timestamp,
    Json,
    Uuid,
    Enum,
    Array,
    Other,
}

fn family(ty: &ColumnType) -> Family {
    match ty {
        ColumnType::SmallInt | ColumnType::Integer | ColumnType::BigInt => Family::Integer,
        ColumnType::Real | ColumnType::Double => Family::Float,
        ColumnType::Decimal { .. } => Family::Decimal,
        ColumnType::Boolean => Family::Boolean,
        ColumnType::Char { .. } | ColumnType::Varchar { .. } | ColumnType::Text => Family::Text,
        ColumnType::Blob => Family::Blob,
        ColumnType::Date => Family::Date,
        ColumnType::Time { .. } => Family::Time,
        ColumnType::Timestamp { .. } => Family::Timestamp,
        ColumnType::Json | ColumnType::Jsonb => Family::Json,
        ColumnType::Uuid => Family::Uuid,
        ColumnType::Enum { .. } | ColumnType::InlineEnum { .. } => Family::Enum,
        ColumnType::Array(_) => Family::Array,
        ColumnType::Custom(_) => Family::Other,
    }
}

fn integer_width(ty: &ColumnType) -> u8 {
    match ty {
        ColumnType::SmallInt => 2,
        ColumnType::Integer => 4,
        _ => 8,
    }
}

/// A length or precision bound; `None` is unbounded.
fn bound_shrinks(from: Option<u32>, to: Option<u32>) -> bool {
    match (from, to) {
        (_, None) => false,
        (None, Some(_)) => true,
        (Some(a), Some(b)) => b < a,
    }
}

fn text_bound(ty: &ColumnType) -> Option<u32> {
    match ty {
        ColumnType::Char { length } | ColumnType::Varchar { length } => *length,
        _ => None,
    }
}

/// Whether changing a column from `from` to `to` may lose or reject values.
pub(crate) fn narrows(from: &ColumnType, to: &ColumnType) -> bool {
    if from == to {
        return false;
    }
    if family(from) != family(to) {
        return true;
    }
    match (from, to) {
        (ColumnType::Real | ColumnType::Double, _) => {
            matches!((from, to), (ColumnType::Double, ColumnType::Real))
        }
        (
            ColumnType::Decimal {
                precision: p1,
                scale: s1,
            },
            ColumnType::Decimal {
                precision: p2,
                scale: s2,
            },
        ) => bound_shrinks(*p1, *p2) || s2.unwrap_or(0) < s1.unwrap_or(0),
        (ColumnType::Array(a), ColumnType::Array(b)) => narrows(a, b),
        (ColumnType::InlineEnum { values: a }, ColumnType::InlineEnum { values: b }) => {
            !a.iter().all(|v| b.contains(v))
        }
        // A different named enum, or a named enum turned inline: values
        // are matched by text at best.
        (ColumnType::Enum { .. } | ColumnType::InlineEnum { .. }, _) => true,
        (ColumnType::Json | ColumnType::Jsonb, _)
        | (ColumnType::Time { .. }, _)
        | (ColumnType::Timestamp { .. }, _) => false,
        _ if family(from) == Family::Integer => integer_width(to) < integer_width(from),
        _ if family(from) == Family::Text => bound_shrinks(text_bound(from), text_bound(to)),
        _ => true,
    }
}
