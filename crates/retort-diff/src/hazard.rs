//! Hazards: what can go wrong when an op runs.
//!
//! [`hazards`] looks at one op on its own (plus the dialect): without the
//! data every hazard is a "may", stated with the subject it concerns
//! (`users.age`) so that a reviewer can decide. [`hazards_with_stats`] also
//! sees row counts the caller read from the database ([`TableStats`]; this
//! crate does no IO) and then states figures and drops what cannot happen:
//!
//! - `fails_on_existing_rows` is always reported: the revision runs later on
//!   databases that do have rows. On a table known to be empty here the
//!   message says so ("0 rows here") rather than the hazard disappearing;
//! - `long_lock` is not reported for a table with fewer than
//!   [`LONG_LOCK_MIN_ROWS`] rows (the lock lasts milliseconds);
//! - `table_rewrite` on an empty table says it is instant, otherwise how
//!   many rows are copied;
//! - `data_loss` names how many rows (or non-null values of a dropped
//!   column) are lost.
//!
//! Figures describe the database retort read, which may not be production.

use crate::DiffOptions;
use crate::ops::{Constraint, Op};
use retort_schema::{ColumnType, DefaultValue, Dialect};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Below this many rows a table's `long_lock` is not reported: locking a
/// table that small for an index build or rewrite lasts milliseconds. An
/// estimate at or above it is reported with the figure.
pub const LONG_LOCK_MIN_ROWS: u64 = 10_000;

/// Row counts of the tables a plan touches, read from the database by the
/// caller (see [`StatsRequest`]). Tables are named as ops name them
/// (without schema).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TableStats {
    pub tables: BTreeMap<String, TableRows>,
}

/// The figures of one table.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TableRows {
    /// Rows in the table: counted, or the catalog's estimate.
    pub rows: u64,
    /// Whether `rows` is the catalog's estimate (`reltuples`,
    /// `information_schema.TABLES.TABLE_ROWS`) rather than a count.
    pub estimated: bool,
    /// Non-null values of the columns the plan drops, where counted.
    pub non_null: BTreeMap<String, u64>,
}

/// What a plan needs counted: every table an op touches, and per table the
/// columns it drops (whose non-null values the summary states).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StatsRequest {
    pub tables: BTreeMap<String, BTreeSet<String>>,
}

impl StatsRequest {
    /// The tables and dropped columns of `ops`. Tables created by the plan
    /// are left out: they hold no rows yet.
    pub fn for_ops<'a>(ops: impl IntoIterator<Item = &'a Op>) -> StatsRequest {
        let mut tables: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut created = BTreeSet::new();
        for op in ops {
            match op {
                Op::CreateTable { table } => {
                    created.insert(table.name.clone());
                }
                // The database knows a renamed table by its old name only
                // until the plan runs: later ops on it go without figures.
                Op::RenameTable { to, .. } => {
                    created.insert(to.clone());
                }
                Op::RenameColumn { .. } => {}
                Op::DropColumn { table, column } => {
                    tables
                        .entry(table.clone())
                        .or_default()
                        .insert(column.name.clone());
                }
                _ => {
                    if let Some(table) = op.table() {
                        tables.entry(table.to_string()).or_default();
                    }
                }
            }
        }
        tables.retain(|table, _| !created.contains(table));
        StatsRequest { tables }
    }

    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }
}

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
    /// Every code, in documentation order.
    pub const ALL: [HazardCode; 5] = [
        HazardCode::DataLoss,
        HazardCode::TableRewrite,
        HazardCode::LongLock,
        HazardCode::FailsOnExistingRows,
        HazardCode::Irreversible,
    ];

    /// The code spelled `text` (`data_loss`; `-` may stand for `_`).
    pub fn from_code(text: &str) -> Option<HazardCode> {
        let text = text.trim().replace('-', "_");
        HazardCode::ALL
            .into_iter()
            .find(|code| code.as_str().eq_ignore_ascii_case(&text))
    }

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

/// One hazard of one op: its code, a sentence naming the subject, and the
/// figures it is based on where the caller supplied [`TableStats`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hazard {
    pub code: HazardCode,
    pub message: String,
    /// Rows of the table concerned, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<u64>,
    /// Non-null values of a dropped column, when counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub non_null: Option<u64>,
    /// Whether `rows` is the catalog's estimate rather than a count.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub estimated: bool,
}

impl Hazard {
    /// A hazard with `code` and `message`, without figures.
    pub fn new(code: HazardCode, message: impl Into<String>) -> Self {
        Hazard {
            code,
            message: message.into(),
            rows: None,
            non_null: None,
            estimated: false,
        }
    }

    /// This hazard with the figures of `table`.
    fn with_rows(mut self, table: Option<&TableRows>) -> Self {
        if let Some(table) = table {
            self.rows = Some(table.rows);
            self.estimated = table.estimated;
        }
        self
    }
}

/// The hazards of running `op` on `options.dialect`, in a fixed order
/// (the order the checks below are written in), without data.
pub fn hazards(op: &Op, options: &DiffOptions) -> Vec<Hazard> {
    hazards_with_stats(op, options, &TableStats::default())
}

/// `n` with thousands separators: `4,123`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `4,123 rows`, `about 1,000,000 rows`, `1 row`.
fn rows_phrase(table: &TableRows) -> String {
    let about = if table.estimated { "about " } else { "" };
    let unit = if table.rows == 1 { "row" } else { "rows" };
    format!("{about}{} {unit}", thousands(table.rows))
}

/// Whether the table is known to hold no rows (a count, not an estimate:
/// an unanalysed table's estimate can be 0).
fn known_empty(table: Option<&TableRows>) -> bool {
    table.is_some_and(|t| t.rows == 0 && !t.estimated)
}

/// Whether a lock on the table is too short to report.
fn lock_is_short(table: Option<&TableRows>) -> bool {
    table.is_some_and(|t| t.rows < LONG_LOCK_MIN_ROWS)
}

/// " (users has 4,123 rows)", " (users has 0 rows here)", or "" without
/// figures. An empty table is worded as this database's state only: the
/// revision may run where the table has rows.
fn has_rows(name: &str, table: Option<&TableRows>) -> String {
    match table {
        Some(_) if known_empty(table) => format!(" ({name} has 0 rows here)"),
        Some(t) => format!(" ({name} has {})", rows_phrase(t)),
        None => String::new(),
    }
}

/// The hazards of running `op` on `options.dialect`, stated with the row
/// counts of `stats` where it has the table (see the module doc for what
/// the figures change).
pub fn hazards_with_stats(op: &Op, options: &DiffOptions, stats: &TableStats) -> Vec<Hazard> {
    let dialect = options.dialect;
    let rows = op.table().and_then(|t| stats.tables.get(t));
    let mut found = Vec::new();
    match op {
        Op::DropTable { table } => {
            let message = match rows {
                Some(t) if known_empty(Some(t)) => {
                    format!("drops table {} (empty in this database)", table.name)
                }
                Some(t) => format!("drops table {} and its {}", table.name, rows_phrase(t)),
                None => format!("drops table {} and all its rows", table.name),
            };
            found.push(Hazard::new(HazardCode::DataLoss, message).with_rows(rows));
            found.push(Hazard::new(
                HazardCode::Irreversible,
                format!("the downgrade re-creates table {} empty", table.name),
            ));
        }
        Op::DropColumn { table, column } => {
            let subject = format!("{table}.{}", column.name);
            let non_null = rows.and_then(|t| t.non_null.get(&column.name).copied());
            let message = match (non_null, rows) {
                (Some(1), _) => format!("drops column {subject}, holding 1 non-null value"),
                (Some(n), _) => format!(
                    "drops column {subject}, holding {} non-null values",
                    thousands(n)
                ),
                (None, Some(t)) => format!(
                    "drops column {subject} and its values ({table} has {})",
                    rows_phrase(t)
                ),
                (None, None) => format!("drops column {subject} and its values"),
            };
            let mut hazard = Hazard::new(HazardCode::DataLoss, message).with_rows(rows);
            hazard.non_null = non_null;
            found.push(hazard);
            found.push(Hazard::new(
                HazardCode::Irreversible,
                format!("the downgrade re-creates column {subject} without its values"),
            ));
            if !dialect.drop_column() {
                found.push(rebuild(dialect, table, "drop column", rows));
            }
        }
        Op::AddColumn { table, column } => {
            let subject = format!("{table}.{}", column.name);
            let no_default = column.default.is_none() || column.default == Some(DefaultValue::Null);
            if !column.nullable && no_default && !column.autoincrement {
                let message = match rows {
                    Some(t) if !t.estimated && t.rows > 0 => format!(
                        "adds NOT NULL column {subject} without a default; \
                         fails because {table} has {} (add a default or make it nullable first)",
                        rows_phrase(t)
                    ),
                    _ => format!(
                        "adds NOT NULL column {subject} without a default; \
                         fails if {table} has rows (add a default or make it nullable first){}",
                        has_rows(table, rows)
                    ),
                };
                found.push(Hazard::new(HazardCode::FailsOnExistingRows, message).with_rows(rows));
            }
            // SQLite's ADD COLUMN refuses NOT NULL without a default and
            // non-constant defaults: https://www.sqlite.org/lang_altertable.html
            if !dialect.add_column_unrestricted()
                && ((!column.nullable && no_default)
                    || column.default.as_ref().is_some_and(is_non_constant))
            {
                found.push(rebuild(dialect, table, "add column", rows));
            }
        }
        Op::AlterColumn { table, from, to } => {
            let subject = format!("{table}.{}", to.name);
            if narrows(&from.ty, &to.ty, dialect) {
                found.push(
                    Hazard::new(
                        HazardCode::DataLoss,
                        format!(
                            "changes {subject} from {} to {}; values that do not fit are \
                             lost or rejected{}",
                            from.ty,
                            to.ty,
                            has_rows(table, rows)
                        ),
                    )
                    .with_rows(rows),
                );
            }
            if from.nullable && !to.nullable {
                found.push(
                    Hazard::new(
                        HazardCode::FailsOnExistingRows,
                        format!(
                            "makes {subject} NOT NULL; fails if any row has NULL in it{}",
                            has_rows(table, rows)
                        ),
                    )
                    .with_rows(rows),
                );
            }
            if dialect == Dialect::Postgres && postgres_type_change_rewrites(&from.ty, &to.ty) {
                found.push(
                    Hazard::new(
                        HazardCode::TableRewrite,
                        format!(
                            "changing {subject} from {} to {} rewrites table {table} and its \
                             indexes{}",
                            from.ty,
                            to.ty,
                            rewrite_figures(rows)
                        ),
                    )
                    .with_rows(rows),
                );
                if !lock_is_short(rows) {
                    found.push(
                        Hazard::new(
                            HazardCode::LongLock,
                            format!(
                                "holds an ACCESS EXCLUSIVE lock on {table} while it is \
                                 rewritten: blocks reads and writes{}",
                                has_rows(table, rows)
                            ),
                        )
                        .with_rows(rows),
                    );
                }
            }
            // A collation change restates the type: no rewrite, but the
            // column's indexes are rebuilt under the same lock.
            if dialect == Dialect::Postgres
                && from.collation != to.collation
                && !postgres_type_change_rewrites(&from.ty, &to.ty)
                && !lock_is_short(rows)
            {
                found.push(
                    Hazard::new(
                        HazardCode::LongLock,
                        format!(
                            "changing the collation of {subject} holds an ACCESS EXCLUSIVE lock \
                             on {table} while the indexes on the column are rebuilt: blocks \
                             reads and writes{}",
                            has_rows(table, rows)
                        ),
                    )
                    .with_rows(rows),
                );
            }
            if !dialect.alter_column() {
                found.push(rebuild(dialect, table, "alter column", rows));
            }
        }
        Op::CreateIndex { table, index } => {
            if index.unique {
                found.push(
                    Hazard::new(
                        HazardCode::FailsOnExistingRows,
                        format!(
                            "creates unique index {} on {table}; fails if existing rows \
                             have duplicates{}",
                            index.name,
                            has_rows(table, rows)
                        ),
                    )
                    .with_rows(rows),
                );
            }
            if blocking_index_build(dialect) && !lock_is_short(rows) {
                found.push(
                    Hazard::new(
                        HazardCode::LongLock,
                        format!(
                            "creates index {} on {table} without CONCURRENTLY; \
                             blocks writes to {table} while it builds{}",
                            index.name,
                            has_rows(table, rows)
                        ),
                    )
                    .with_rows(rows),
                );
            }
        }
        Op::CreatePrimaryKey { table, constraint } => {
            let mut message = format!(
                "adds primary key ({}) to {table}; fails if existing rows have \
                     duplicates or NULLs",
                constraint.columns.join(", ")
            );
            message.push_str(&has_rows(table, rows));
            found.push(Hazard::new(HazardCode::FailsOnExistingRows, message).with_rows(rows));
            if !dialect.alter_constraints() {
                found.push(rebuild(dialect, table, "add primary key", rows));
            }
        }
        Op::CreateUniqueConstraint { table, constraint } => {
            let mut message = format!(
                "adds unique constraint {} on {table} ({}); fails if existing rows \
                     have duplicates",
                display_name(constraint.name.as_deref()),
                constraint.columns.join(", ")
            );
            message.push_str(&has_rows(table, rows));
            found.push(Hazard::new(HazardCode::FailsOnExistingRows, message).with_rows(rows));
            if !dialect.alter_constraints() {
                found.push(rebuild(dialect, table, "add unique constraint", rows));
            }
        }
        Op::CreateForeignKey { table, constraint } => {
            let mut message = format!(
                "adds foreign key {} {table}({}) -> {}({}); fails if existing rows \
                     reference missing rows",
                display_name(constraint.name.as_deref()),
                constraint.columns.join(", "),
                constraint.referred_table,
                constraint.referred_columns.join(", ")
            );
            message.push_str(&has_rows(table, rows));
            found.push(Hazard::new(HazardCode::FailsOnExistingRows, message).with_rows(rows));
            if !dialect.alter_constraints() {
                found.push(rebuild(dialect, table, "add foreign key", rows));
            }
        }
        Op::CreateCheckConstraint { table, constraint } => {
            let mut message = format!(
                "adds check constraint {} on {table} ({}); fails if existing rows \
                     violate it",
                display_name(constraint.name.as_deref()),
                constraint.expression
            );
            message.push_str(&has_rows(table, rows));
            found.push(Hazard::new(HazardCode::FailsOnExistingRows, message).with_rows(rows));
            if !dialect.alter_constraints() {
                found.push(rebuild(dialect, table, "add check constraint", rows));
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
                found.push(rebuild(dialect, table, what, rows));
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
        | Op::DropIndex { .. }
        | Op::AlterTableComment { .. }
        // A rename keeps every row and value: no hazard on any dialect.
        | Op::RenameTable { .. }
        | Op::RenameColumn { .. } => {}
    }
    found
}

fn rebuild(dialect: Dialect, table: &str, what: &str, rows: Option<&TableRows>) -> Hazard {
    let copying = match rows {
        Some(t) if known_empty(Some(t)) => {
            " (empty in this database, so it is instant)".to_string()
        }
        Some(t) => format!(", copying its {}", rows_phrase(t)),
        None => ", copying every row".to_string(),
    };
    Hazard::new(
        HazardCode::TableRewrite,
        format!("{dialect} cannot {what} in place: rebuilds table {table}{copying}"),
    )
    .with_rows(rows)
}

/// How much a rewrite copies: " (empty in this database, so it is
/// instant)", " (4,123 rows)", or "" without figures.
fn rewrite_figures(rows: Option<&TableRows>) -> String {
    match rows {
        Some(t) if known_empty(Some(t)) => " (empty in this database, so it is instant)".into(),
        Some(t) => format!(" ({})", rows_phrase(t)),
        None => String::new(),
    }
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

/// The fractional-second digits a time type without `(n)` keeps: 6 on
/// PostgreSQL (and SQLite, which keeps the text), 0 on MySQL.
fn default_fraction_digits(dialect: Dialect) -> u32 {
    match dialect {
        Dialect::Mysql => 0,
        Dialect::Postgres | Dialect::Sqlite => 6,
    }
}

/// Whether changing a column from `from` to `to` may lose or reject values.
pub(crate) fn narrows(from: &ColumnType, to: &ColumnType, dialect: Dialect) -> bool {
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
        (ColumnType::Array(a), ColumnType::Array(b)) => narrows(a, b, dialect),
        (ColumnType::InlineEnum { values: a }, ColumnType::InlineEnum { values: b }) => {
            !a.iter().all(|v| b.contains(v))
        }
        // A different named enum, or a named enum turned inline: values
        // are matched by text at best.
        (ColumnType::Enum { .. } | ColumnType::InlineEnum { .. }, _) => true,
        // Fewer fractional-second digits round the values.
        (
            ColumnType::Time { precision: p1, .. } | ColumnType::Timestamp { precision: p1, .. },
            ColumnType::Time { precision: p2, .. } | ColumnType::Timestamp { precision: p2, .. },
        ) => {
            let digits = |p: &Option<u32>| p.unwrap_or(default_fraction_digits(dialect));
            digits(p2) < digits(p1)
        }
        (ColumnType::Json | ColumnType::Jsonb, _)
        | (ColumnType::Time { .. }, _)
        | (ColumnType::Timestamp { .. }, _) => false,
        _ if family(from) == Family::Integer => integer_width(to) < integer_width(from),
        _ if family(from) == Family::Text => bound_shrinks(text_bound(from), text_bound(to)),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fewer_fractional_second_digits_narrow_on_mysql() {
        let datetime = |precision| ColumnType::Timestamp {
            with_time_zone: false,
            precision,
        };
        let timestamp = |precision| ColumnType::Timestamp {
            with_time_zone: true,
            precision,
        };
        let time = |precision| ColumnType::Time {
            with_time_zone: false,
            precision,
        };
        let narrows = |from: &ColumnType, to: &ColumnType| narrows(from, to, Dialect::Mysql);
        assert!(!narrows(&datetime(None), &datetime(Some(3))));
        assert!(narrows(&datetime(Some(3)), &datetime(None)));
        assert!(narrows(&timestamp(Some(6)), &timestamp(Some(3))));
        assert!(!narrows(&time(Some(2)), &time(Some(4))));
        assert!(narrows(&time(Some(2)), &datetime(None)));
        assert!(narrows(
            &ColumnType::Custom("year".into()),
            &datetime(Some(3))
        ));
    }
}
