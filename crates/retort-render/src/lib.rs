//! Renders migration ops as SQL for one dialect, and as a review summary.
//!
//! [`render`] turns the differ's [`PlannedOp`]s into a [`Script`]: one
//! [`Step`] per op (or per merged SQLite rebuild), each with its hazards, an
//! optional comment and its statements. [`Script::to_sql`] is the text that
//! goes into a revision file. [`create_table_sql`] and [`schema_sql`] render
//! whole tables and schemas (for `retort inspect --format sql` and fixtures);
//! [`summary`] renders one review line per op.
//!
//! ```
//! use retort_diff::{Op, PlannedOp};
//! use retort_render::render;
//! use retort_schema::{Column, ColumnType, Dialect, Schema, Table};
//!
//! let mut users = Table::new("users");
//! users.columns.push(Column::new("id", ColumnType::Integer).not_null());
//! let from = Schema { tables: vec![users], ..Schema::default() };
//! let op = Op::AddColumn { table: "users".into(), column: Column::new("age", ColumnType::Integer) };
//! let script = render(&[PlannedOp { op, hazards: vec![] }], &from, Dialect::Sqlite).unwrap();
//! assert_eq!(script.to_sql(), "ALTER TABLE \"users\" ADD COLUMN \"age\" INTEGER;\n");
//! ```
//!
//! Design decisions:
//! - sea-query builds every statement it expresses exactly; what it cannot
//!   (expression defaults, expression and partial indexes, SQLite's named
//!   foreign keys, `ADD CONSTRAINT` for keys and checks, the rebuild's view
//!   and trigger handling) is written by hand with the same quoting. Its
//!   SQLite builder panics on alters SQLite lacks, so every op is checked
//!   against the dialect's capabilities before a builder sees it.
//! - The renderer tracks the schema: each op is rendered against the schema
//!   as the previous ops left it, because a SQLite rebuild needs the whole
//!   table at that point.
//! - Consecutive SQLite rebuild ops on one table merge into one rebuild, so
//!   a revision copies each table's rows once.

#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod ddl;
mod direct;
mod error;
mod mysql;
mod names;
mod online;
mod postgres;
mod review;
mod script;
mod spelling;
mod sqlite;

use retort_diff::{ApplyError, Hazard, HazardCode, Op, PlannedOp};
use retort_schema::{Column, Dialect, Schema, Table, View};
use std::collections::BTreeSet;

pub use error::RenderError;
use review::op_subject;
pub use review::summary;
pub use script::{Script, Step, TRANSACTION_OFF, TRANSACTION_ON};

/// How [`render_with`] writes a script. The default is what [`render`]
/// writes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RenderOptions {
    /// PostgreSQL: online-safe recipes (concurrent index builds and drops
    /// outside the transaction, constraints added `NOT VALID` and then
    /// validated on their own, `SET NOT NULL` through a validated check).
    /// Other dialects ignore it.
    pub online: bool,
    /// PostgreSQL: a `lock_timeout` value (`'5s'`, `'500ms'`) set with
    /// `SET LOCAL` as the first statement of each transactional segment,
    /// so a statement waiting for a lock fails instead of queueing every
    /// query behind it. Other dialects ignore it.
    pub lock_timeout: Option<String>,
    /// Tables known to hold at least one row (the CLI reads it from the
    /// database; by default every table is taken to be empty). Adding a
    /// NOT NULL column without a default to one of these renders the
    /// backfill recipe (see [`backfill_tables`]).
    pub tables_with_rows: BTreeSet<String>,
}

impl RenderOptions {
    /// These options with [`online`](Self::online) set to `online`.
    pub fn with_online(mut self, online: bool) -> Self {
        self.online = online;
        self
    }

    /// These options with [`lock_timeout`](Self::lock_timeout) set.
    pub fn with_lock_timeout(mut self, lock_timeout: Option<String>) -> Self {
        self.lock_timeout = lock_timeout;
        self
    }

    /// Whether the options change anything on `dialect`: only PostgreSQL
    /// has online recipes and `lock_timeout`.
    pub fn affects(&self, dialect: Dialect) -> bool {
        dialect == Dialect::Postgres && (self.online || self.lock_timeout.is_some())
    }
}

/// `ops` with the hazards they keep under `options`: rendered online on
/// PostgreSQL, an index build on an existing table is concurrent and loses
/// its `long_lock`. For the summary and JSON of a plan rendered with
/// [`render_with`], which adjusts its `-- hazard:` lines the same way.
pub fn adjust_hazards(
    ops: &[PlannedOp],
    from: &Schema,
    dialect: Dialect,
    options: &RenderOptions,
) -> Vec<PlannedOp> {
    ops.iter()
        .map(|planned| PlannedOp {
            op: planned.op.clone(),
            hazards: if options.online {
                online::hazards(planned, from, dialect)
            } else {
                planned.hazards.clone()
            },
        })
        .collect()
}

/// `name` as a quoted identifier of `dialect`, the quote character doubled
/// inside: the renderer's one quoting rule, for SQL written outside it.
pub fn quote_identifier(name: &str, dialect: Dialect) -> String {
    spelling::quote(name, dialect)
}

/// The placeholder in a backfill's `UPDATE`, which the reviewer replaces
/// with the value existing rows get. It is not valid SQL on purpose.
pub const BACKFILL_PLACEHOLDER: &str = "<placeholder>";

/// The revision-file directive that marks unfinished work; `retort
/// upgrade` refuses a revision that still holds one. Must equal
/// `retort_migrate::TODO_DIRECTIVE` (retort-render does not depend on
/// retort-migrate; a CLI test checks the two agree).
pub const TODO_DIRECTIVE: &str = "-- retort:todo";

/// SQL that performs `ops` on a database whose schema is `from`.
pub fn render(ops: &[PlannedOp], from: &Schema, dialect: Dialect) -> Result<Script, RenderError> {
    render_with(ops, from, dialect, &RenderOptions::default())
}

/// The tables whose row presence changes how `ops` render: those that get
/// a NOT NULL column without a default (and not auto-incremented). Only
/// these need probing for rows.
pub fn backfill_tables(ops: &[PlannedOp]) -> BTreeSet<String> {
    ops.iter()
        .filter_map(|planned| match &planned.op {
            Op::AddColumn { table, column } if needs_value(column) => Some(table.clone()),
            _ => None,
        })
        .collect()
}

/// Whether existing rows have no value for `column` once it is added.
fn needs_value(column: &Column) -> bool {
    !column.nullable
        && matches!(
            column.default,
            None | Some(retort_schema::DefaultValue::Null)
        )
        && !column.autoincrement
}

/// An op to render, or the backfill between adding a column nullable and
/// making it NOT NULL.
enum Item {
    Op(Box<PlannedOp>),
    Backfill { table: String, column: String },
}

/// `ops` with each NOT NULL column added without a default to a table that
/// has rows replaced by the three-step recipe: add it nullable, backfill
/// (an `UPDATE` the reviewer must finish), then set NOT NULL. A plain
/// `ADD COLUMN … NOT NULL` would fail on such a table (PostgreSQL, SQLite's
/// rebuild) or silently fill in `''`/`0` (MySQL in non-strict mode).
fn expand_backfills(ops: &[PlannedOp], options: &RenderOptions, dialect: Dialect) -> Vec<Item> {
    let mut items = Vec::with_capacity(ops.len());
    for planned in ops {
        match &planned.op {
            Op::AddColumn { table, column }
                if needs_value(column) && options.tables_with_rows.contains(table) =>
            {
                let mut nullable = column.clone();
                nullable.nullable = true;
                let add = Op::AddColumn {
                    table: table.clone(),
                    column: nullable.clone(),
                };
                let set_not_null = Op::AlterColumn {
                    table: table.clone(),
                    from: nullable,
                    to: column.clone(),
                };
                items.push(Item::Op(Box::new(planned_with_hazards(add, dialect))));
                items.push(Item::Backfill {
                    table: table.clone(),
                    column: column.name.clone(),
                });
                items.push(Item::Op(Box::new(planned_with_hazards(
                    set_not_null,
                    dialect,
                ))));
            }
            _ => items.push(Item::Op(Box::new(planned.clone()))),
        }
    }
    items
}

fn planned_with_hazards(op: Op, dialect: Dialect) -> PlannedOp {
    PlannedOp {
        hazards: retort_diff::hazards(&op, &retort_diff::DiffOptions { dialect }),
        op,
    }
}

/// The backfill step: a [`TODO_DIRECTIVE`] line, then an `UPDATE` with
/// [`BACKFILL_PLACEHOLDER`] for the value.
fn backfill_step(table: &str, column: &str, dialect: Dialect) -> Step {
    let (t, c) = (
        spelling::quote(table, dialect),
        spelling::quote(column, dialect),
    );
    Step {
        hazards: Vec::new(),
        statements: vec![format!(
            "UPDATE {t} SET {c} = {BACKFILL_PLACEHOLDER} WHERE {c} IS NULL"
        )],
        comment: Some(format!(
            "{} backfill {table}.{column}: {table} has rows; replace {BACKFILL_PLACEHOLDER} with the value they get (TODO), then delete this line",
            TODO_DIRECTIVE.trim_start_matches("-- ")
        )),
        transaction: true,
    }
}

/// [`render`] with `options` (which tables hold rows, online recipes,
/// `lock_timeout`).
pub fn render_with(
    ops: &[PlannedOp],
    from: &Schema,
    dialect: Dialect,
    options: &RenderOptions,
) -> Result<Script, RenderError> {
    let mut items = expand_backfills(ops, options, dialect);
    let mut state = from.clone();
    // Enum values added outside the transaction run before everything
    // else (see postgres::alter_enum_step).
    let mut first = Vec::new();
    let mut steps = Vec::new();
    // Online validations not yet written: they run at the next step
    // outside the transaction, before a step that needs them, or last.
    let mut validations: Vec<Step> = Vec::new();
    let mut at = 0;
    while at < items.len() {
        let planned = match &items[at] {
            Item::Op(planned) => planned,
            Item::Backfill { table, column } => {
                steps.push(backfill_step(table, column, dialect));
                at += 1;
                continue;
            }
        };
        let op = &planned.op;
        if let (true, Some(table)) = (sqlite::needs_rebuild(op, &state, dialect), op.table()) {
            let before = state.clone();
            let mut hazards = Vec::new();
            let mut reasons: Vec<String> = Vec::new();
            while let Some(Item::Op(next)) = items.get(at) {
                if next.op.table() != Some(table)
                    || !sqlite::needs_rebuild(&next.op, &state, dialect)
                {
                    break;
                }
                apply(&next.op, &mut state)?;
                push_unique(&mut hazards, &next.hazards);
                reasons.push(format!("{} {}", next.op.name(), op_subject(&next.op)));
                at += 1;
            }
            steps.push(rebuild_step(
                &before, &state, table, dialect, hazards, &reasons,
            )?);
            continue;
        }
        check_types(op, dialect)?;
        if dialect.named_enums()
            && let Some(step) = postgres::alter_enum_step(planned, from, &state, dialect)
        {
            if step.transaction {
                steps.push(step);
            } else {
                first.push(step);
            }
            apply(op, &mut state)?;
            at += 1;
            continue;
        }
        if options.online && online::applies(op, from, dialect) {
            // A constraint is validated by name: render an unnamed one
            // with the name PostgreSQL would give it.
            let name = online::constraint_name(op, &state);
            let named = name_constraint(op, name.as_deref());
            let statements = direct::statements(&named, &state, dialect)?;
            if let Some(online) = online::steps(planned, &statements, name, from) {
                apply(op, &mut state)?;
                if online.now.iter().any(|s| !s.transaction) {
                    steps.append(&mut validations);
                }
                steps.extend(online.now);
                validations.extend(online.validate);
                if !online.after.is_empty() {
                    steps.append(&mut validations);
                    steps.extend(online.after);
                }
                at += 1;
                continue;
            }
        }
        let statements = direct::statements(op, &state, dialect)?;
        // The table as it was, for the MySQL check below (one table, not
        // the whole schema, is copied per op).
        let before = match (dialect, op.table()) {
            (Dialect::Mysql, Some(table)) => Some(state.table(table).cloned()),
            _ => None,
        };
        apply(op, &mut state)?;
        let hazards = planned.hazards.clone();
        if let Some(before) = before {
            let planned = planned.as_ref().clone();
            if let Some(step) = auto_increment_step(
                &planned,
                before.as_ref(),
                &mut state,
                &mut items,
                at,
                &statements,
            )? {
                steps.push(step);
                at += 1;
                continue;
            }
        }
        steps.push(Step {
            hazards,
            statements,
            comment: None,
            transaction: true,
        });
        at += 1;
    }
    steps.append(&mut validations);
    first.extend(steps);
    let mut steps = first;
    if dialect == Dialect::Postgres
        && let Some(timeout) = &options.lock_timeout
    {
        steps = with_lock_timeout(steps, timeout);
    }
    Ok(Script { steps })
}

/// MySQL: `planned` (already applied to `state`, its statements rendered)
/// and the later op that must share its `ALTER TABLE`
/// ([`mysql::auto_increment_partner`]) as one step; the partner leaves
/// `items`. `None` where there is no partner or the two do not make one
/// statement.
fn auto_increment_step(
    planned: &PlannedOp,
    before: Option<&Table>,
    state: &mut Schema,
    items: &mut Vec<Item>,
    at: usize,
    statements: &[String],
) -> Result<Option<Step>, RenderError> {
    let later = items[at + 1..].iter().filter_map(|item| match item {
        Item::Op(next) => Some(&next.op),
        Item::Backfill { .. } => None,
    });
    let Some(nth) = mysql::auto_increment_partner(&planned.op, before, state, later) else {
        return Ok(None);
    };
    let Some(position) = items
        .iter()
        .enumerate()
        .skip(at + 1)
        .filter(|(_, item)| matches!(item, Item::Op(_)))
        .nth(nth)
        .map(|(position, _)| position)
    else {
        return Ok(None);
    };
    let Item::Op(partner) = &items[position] else {
        return Ok(None);
    };
    let Some(table) = planned.op.table() else {
        return Ok(None);
    };
    let second = direct::statements(&partner.op, state, Dialect::Mysql)?;
    let Some(statement) = mysql::one_alter(statements, &second, table) else {
        return Ok(None);
    };
    apply(&partner.op, state)?;
    let mut hazards = planned.hazards.clone();
    push_unique(&mut hazards, &partner.hazards);
    items.remove(position);
    Ok(Some(Step {
        hazards,
        statements: vec![statement],
        comment: None,
        transaction: true,
    }))
}

/// `op` with its constraint named `name` (for a foreign key or check
/// without one).
fn name_constraint(op: &Op, name: Option<&str>) -> Op {
    let mut op = op.clone();
    match &mut op {
        Op::CreateForeignKey { constraint, .. } if constraint.name.is_none() => {
            constraint.name = name.map(str::to_string);
        }
        Op::CreateCheckConstraint { constraint, .. } if constraint.name.is_none() => {
            constraint.name = name.map(str::to_string);
        }
        _ => {}
    }
    op
}

/// `steps` with `SET LOCAL lock_timeout = '<timeout>'` opening each run of
/// transactional steps (each such run is one transaction of the revision).
fn with_lock_timeout(steps: Vec<Step>, timeout: &str) -> Vec<Step> {
    let mut out = Vec::with_capacity(steps.len() + 1);
    let mut in_transaction = false;
    for step in steps {
        if step.transaction && !in_transaction {
            out.push(Step {
                hazards: Vec::new(),
                statements: vec![format!(
                    "SET LOCAL lock_timeout = {}",
                    spelling::literal(timeout, Dialect::Postgres)
                )],
                comment: Some(
                    "give up on a lock wait rather than block the table's traffic behind it"
                        .to_string(),
                ),
                transaction: true,
            });
        }
        in_transaction = step.transaction;
        out.push(step);
    }
    out
}

fn apply(op: &Op, state: &mut Schema) -> Result<(), RenderError> {
    op.apply(state).map_err(|source| RenderError::Apply {
        op: op.name(),
        source,
    })
}

/// Adds `hazards` to a merged rebuild step's list: each once, and one
/// `table_rewrite` in all, since the ops share a single rebuild.
fn push_unique(into: &mut Vec<Hazard>, hazards: &[Hazard]) {
    for hazard in hazards {
        let repeated_rewrite = hazard.code == HazardCode::TableRewrite
            && into.iter().any(|h| h.code == HazardCode::TableRewrite);
        if !repeated_rewrite && !into.contains(hazard) {
            into.push(hazard.clone());
        }
    }
}

fn rebuild_step(
    before: &Schema,
    after: &Schema,
    table: &str,
    dialect: Dialect,
    hazards: Vec<Hazard>,
    reasons: &[String],
) -> Result<Step, RenderError> {
    let missing = |op: &'static str| RenderError::Apply {
        op,
        source: ApplyError::NoSuchTable {
            op,
            table: table.to_string(),
        },
    };
    let old = before.table(table).ok_or_else(|| missing("rebuild"))?;
    let new = after.table(table).ok_or_else(|| missing("rebuild"))?;
    check_table_types(new, dialect)?;
    Ok(Step {
        hazards,
        statements: sqlite::rebuild_statements(old, after, new),
        comment: Some(format!(
            "rebuild {table} (SQLite cannot {} in place): rows are copied",
            reasons.join(", ")
        )),
        transaction: true,
    })
}

fn unsupported_type(table: &str, column: &Column, dialect: Dialect) -> Result<(), RenderError> {
    match spelling::column_type(&column.ty, dialect) {
        Some(_) => Ok(()),
        None => Err(RenderError::UnsupportedType {
            table: table.to_string(),
            column: column.name.clone(),
            ty: column.ty.clone(),
            dialect,
        }),
    }
}

fn check_table_types(table: &Table, dialect: Dialect) -> Result<(), RenderError> {
    table
        .columns
        .iter()
        .try_for_each(|c| unsupported_type(&table.name, c, dialect))
}

fn check_types(op: &Op, dialect: Dialect) -> Result<(), RenderError> {
    match op {
        Op::CreateTable { table } => check_table_types(table, dialect),
        Op::AddColumn { table, column }
        | Op::AlterColumn {
            table, to: column, ..
        } => unsupported_type(table, column, dialect),
        _ => Ok(()),
    }
}

/// `CREATE TABLE` for `table` followed by its `CREATE INDEX` statements
/// (and, on PostgreSQL, its `COMMENT ON` statements). A type the dialect
/// lacks is written in its canonical spelling.
pub fn create_table_sql(table: &Table, dialect: Dialect) -> Vec<String> {
    ddl::create_table_with_indexes(table, dialect)
}

/// The whole schema: enum types, tables in foreign-key dependency order
/// (a referenced table first, ties by name; tables in a cycle by name),
/// then views (a referenced view first) and triggers.
pub fn schema_sql(schema: &Schema, dialect: Dialect) -> Vec<String> {
    let mut out = Vec::new();
    if dialect.named_enums() {
        for enum_type in &schema.enums {
            let op = Op::CreateEnum {
                enum_type: enum_type.clone(),
            };
            out.extend(direct::statements(&op, schema, dialect).unwrap_or_default());
        }
    }
    for table in tables_in_dependency_order(schema) {
        out.extend(create_table_sql(table, dialect));
    }
    for view in views_in_dependency_order(&schema.views) {
        out.push(statement_text(&view.sql));
    }
    for trigger in &schema.triggers {
        out.push(statement_text(&trigger.sql));
    }
    out
}

fn statement_text(sql: &str) -> String {
    sql.trim().trim_end_matches(';').trim_end().to_string()
}

fn tables_in_dependency_order(schema: &Schema) -> Vec<&Table> {
    let names: BTreeSet<&str> = schema.tables.iter().map(|t| t.name.as_str()).collect();
    let mut done: BTreeSet<&str> = BTreeSet::new();
    let mut order: Vec<&Table> = Vec::new();
    let mut sorted: Vec<&Table> = schema.tables.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    while order.len() < sorted.len() {
        // The first table by name whose referenced tables are all created.
        let ready = sorted.iter().find(|t| {
            !done.contains(t.name.as_str())
                && t.foreign_keys.iter().all(|fk| {
                    fk.referred_table == t.name
                        || !names.contains(fk.referred_table.as_str())
                        || done.contains(fk.referred_table.as_str())
                })
        });
        // In a cycle nothing is ready: take the first remaining by name.
        let next = ready.or_else(|| sorted.iter().find(|t| !done.contains(t.name.as_str())));
        let Some(next) = next else { break };
        done.insert(next.name.as_str());
        order.push(next);
    }
    order
}

fn views_in_dependency_order(views: &[View]) -> Vec<&View> {
    let mut order: Vec<&View> = Vec::new();
    let mut remaining: Vec<&View> = views.iter().collect();
    remaining.sort_by(|a, b| a.name.cmp(&b.name));
    while !remaining.is_empty() {
        let ready = remaining.iter().position(|v| {
            remaining
                .iter()
                .all(|other| other.name == v.name || !spelling::mentions(&v.sql, &other.name))
        });
        let next = remaining.remove(ready.unwrap_or(0));
        order.push(next);
    }
    order
}
