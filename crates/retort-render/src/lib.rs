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
mod mysql;
mod names;
mod online;
mod postgres;
mod spelling;
mod sqlite;

use retort_diff::{ApplyError, Constraint, Hazard, HazardCode, Op, PlannedOp};
use retort_schema::{Column, ColumnType, Dialect, Schema, Table, View};
use std::collections::BTreeSet;

/// The error for ops that cannot be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// The op does not fit the schema it is rendered against (it names a
    /// table that does not exist at that point, or creates one twice).
    #[error("op `{op}` does not fit the schema being migrated; regenerate the revision")]
    Apply {
        op: &'static str,
        #[source]
        source: ApplyError,
    },
    /// The dialect has no statement for what the op does.
    #[error("{dialect} cannot express {what} (op `{op}`)")]
    Unsupported {
        op: &'static str,
        dialect: Dialect,
        what: String,
    },
    /// A column's type does not exist in the dialect.
    #[error(
        "{dialect} has no type `{ty}` for column `{table}.{column}`; use a type {dialect} supports"
    )]
    UnsupportedType {
        table: String,
        column: String,
        ty: ColumnType,
        dialect: Dialect,
    },
    /// MySQL indexes a TEXT/BLOB column only with a prefix length, which
    /// the schema IR does not carry.
    #[error(
        "mysql cannot index the {ty} column `{table}.{column}` of {key} without a prefix length; make the column VARCHAR(n), or create the index by hand in the revision (`{column}(255)`)"
    )]
    IndexNeedsPrefix {
        table: String,
        column: String,
        ty: ColumnType,
        key: String,
    },
    /// A constraint without a name cannot be dropped by name.
    #[error(
        "cannot drop the unnamed {constraint} of `{table}` on {dialect}: name the constraint in the model (CONSTRAINT <name> …) and migrate that first"
    )]
    UnnamedConstraint {
        table: String,
        constraint: String,
        dialect: Dialect,
    },
}

/// The SQL of a revision section: steps in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Script {
    pub steps: Vec<Step>,
}

/// One op (or one merged SQLite rebuild) as SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The hazards of the op(s), in order, without duplicates.
    pub hazards: Vec<Hazard>,
    /// Complete statements, without the trailing `;`.
    pub statements: Vec<String>,
    /// A note for the reader, e.g. why a table is rebuilt.
    pub comment: Option<String>,
    /// Whether the step runs inside the revision's transaction. `false`
    /// for statements a database refuses (or cannot use the result of)
    /// inside a transaction block, like PostgreSQL's
    /// `ALTER TYPE … ADD VALUE`; such statements are written to be
    /// idempotent (`IF NOT EXISTS`), since a later failure cannot roll
    /// them back.
    pub transaction: bool,
}

/// The directive lines of the revision-file format that open a segment run
/// outside any transaction (each statement in autocommit) and one run in a
/// transaction.
pub const TRANSACTION_OFF: &str = "-- retort:transaction off";
/// See [`TRANSACTION_OFF`].
pub const TRANSACTION_ON: &str = "-- retort:transaction on";

impl Script {
    /// The script as text: per step, `-- hazard: <code>: <message>` lines,
    /// an optional `-- <comment>` line, then each statement and `;`; steps
    /// separated by a blank line.
    ///
    /// Steps run in order; each run of steps outside the transaction is
    /// opened by a [`TRANSACTION_OFF`] line, and each run of transactional
    /// steps after one by a [`TRANSACTION_ON`] line. A script with no step
    /// outside the transaction has no directive (one transactional
    /// segment, the format's default).
    pub fn to_sql(&self) -> String {
        let mut runs: Vec<(bool, Vec<&Step>)> = Vec::new();
        for step in &self.steps {
            match runs.last_mut() {
                Some((transaction, steps)) if *transaction == step.transaction => steps.push(step),
                _ => runs.push((step.transaction, vec![step])),
            }
        }
        let mut parts = Vec::with_capacity(runs.len());
        for (at, (transaction, steps)) in runs.iter().enumerate() {
            let blocks = blocks_sql(steps);
            parts.push(match (at, transaction) {
                (0, true) => blocks,
                (_, true) => format!("{TRANSACTION_ON}\n{blocks}"),
                (_, false) => format!("{TRANSACTION_OFF}\n{blocks}"),
            });
        }
        parts.join("\n")
    }
}

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

/// `text` for a `--` comment line: a line break in it (a name may hold
/// one) would end the comment and make the rest of the name SQL, so breaks
/// are written `\n` / `\r`.
fn one_line(text: &str) -> String {
    text.replace('\r', "\\r").replace('\n', "\\n")
}

fn blocks_sql(steps: &[&Step]) -> String {
    let mut blocks = Vec::with_capacity(steps.len());
    for step in steps {
        let mut block = String::new();
        for hazard in &step.hazards {
            block.push_str(&format!(
                "-- hazard: {}: {}\n",
                hazard.code.as_str(),
                one_line(&hazard.message)
            ));
        }
        if let Some(comment) = &step.comment {
            block.push_str(&format!("-- {}\n", one_line(comment)));
        }
        for statement in &step.statements {
            block.push_str(statement);
            block.push_str(";\n");
        }
        blocks.push(block);
    }
    blocks.join("\n")
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

/// One review line per op: a sign (`+` creates, `-` drops, `~` changes),
/// the op name, its subject and details, then its hazards in brackets:
/// `+ add_column users.age (integer, nullable)`,
/// `- drop_table legacy  [data_loss: drops table legacy and all its rows]`.
pub fn summary(ops: &[PlannedOp]) -> Vec<String> {
    ops.iter()
        .map(|planned| {
            let op = &planned.op;
            let sign = match op {
                Op::CreateEnum { .. }
                | Op::CreateTable { .. }
                | Op::AddColumn { .. }
                | Op::CreateIndex { .. }
                | Op::CreatePrimaryKey { .. }
                | Op::CreateUniqueConstraint { .. }
                | Op::CreateForeignKey { .. }
                | Op::CreateCheckConstraint { .. } => '+',
                Op::DropEnum { .. }
                | Op::DropTable { .. }
                | Op::DropColumn { .. }
                | Op::DropIndex { .. }
                | Op::DropConstraint { .. } => '-',
                Op::AlterColumn { .. }
                | Op::AlterTableComment { .. }
                | Op::AlterEnum { .. }
                | Op::RenameTable { .. }
                | Op::RenameColumn { .. } => '~',
            };
            let mut line = format!("{sign} {} {}", op.name(), op_subject(op));
            if let Some(details) = op_details(op) {
                line.push_str(&format!(" ({details})"));
            }
            if !planned.hazards.is_empty() {
                line.push(' ');
                for hazard in &planned.hazards {
                    line.push_str(&format!(" [{}: {}]", hazard.code.as_str(), hazard.message));
                }
            }
            line
        })
        .collect()
}

/// What an op changes: `users`, `users.age`, `users.ix_users_email`.
fn op_subject(op: &Op) -> String {
    match op {
        Op::CreateEnum { enum_type } | Op::DropEnum { enum_type } => enum_type.name.clone(),
        Op::AlterEnum { name, .. } => name.clone(),
        Op::CreateTable { table } | Op::DropTable { table } => table.name.clone(),
        Op::AddColumn { table, column } | Op::DropColumn { table, column } => {
            format!("{table}.{}", column.name)
        }
        Op::AlterColumn { table, to, .. } => format!("{table}.{}", to.name),
        Op::CreateIndex { table, index } | Op::DropIndex { table, index } => {
            format!("{table}.{}", index.name)
        }
        Op::CreatePrimaryKey { table, constraint } => qualified(table, constraint.name.as_deref()),
        Op::CreateUniqueConstraint { table, constraint } => {
            qualified(table, constraint.name.as_deref())
        }
        Op::CreateForeignKey { table, constraint } => qualified(table, constraint.name.as_deref()),
        Op::CreateCheckConstraint { table, constraint } => {
            qualified(table, constraint.name.as_deref())
        }
        Op::DropConstraint { table, constraint } => qualified(table, constraint.name()),
        Op::RenameTable { from, .. } => from.clone(),
        Op::RenameColumn { table, from, .. } => format!("{table}.{from}"),
        Op::AlterTableComment { table, .. } => table.clone(),
    }
}

fn qualified(table: &str, name: Option<&str>) -> String {
    match name {
        Some(name) => format!("{table}.{name}"),
        None => table.to_string(),
    }
}

fn column_details(column: &Column) -> String {
    let mut parts = vec![
        column.ty.to_string(),
        if column.nullable {
            "nullable".to_string()
        } else {
            "not null".to_string()
        },
    ];
    if let Some(default) = &column.default {
        parts.push(format!("default {default}"));
    }
    if column.autoincrement {
        parts.push("autoincrement".to_string());
    }
    parts.join(", ")
}

fn op_details(op: &Op) -> Option<String> {
    let details = match op {
        Op::CreateEnum { enum_type } => enum_type
            .values
            .iter()
            .map(|v| retort_schema::DefaultValue::String(v.clone()).to_sql())
            .collect::<Vec<_>>()
            .join(", "),
        Op::AlterEnum {
            from_values,
            to_values,
            ..
        } => {
            let list = |values: &[String]| {
                values
                    .iter()
                    .map(|v| retort_schema::DefaultValue::String(v.clone()).to_sql())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            format!("{} → {}", list(from_values), list(to_values))
        }
        Op::CreateTable { table } => {
            let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
            names.join(", ")
        }
        Op::AddColumn { column, .. } => column_details(column),
        Op::AlterColumn { from, to, .. } => {
            let mut changes = Vec::new();
            if from.ty != to.ty {
                changes.push(format!("{} → {}", from.ty, to.ty));
            }
            if from.nullable != to.nullable {
                changes.push(if to.nullable {
                    "not null → nullable".to_string()
                } else {
                    "nullable → not null".to_string()
                });
            }
            if from.default != to.default {
                let show = |d: &Option<retort_schema::DefaultValue>| match d {
                    Some(d) => format!("default {d}"),
                    None => "no default".to_string(),
                };
                changes.push(format!("{} → {}", show(&from.default), show(&to.default)));
            }
            if from.autoincrement != to.autoincrement {
                changes.push(format!(
                    "autoincrement {} → {}",
                    from.autoincrement, to.autoincrement
                ));
            }
            if from.comment != to.comment {
                changes.push("comment".to_string());
            }
            if from.on_update != to.on_update {
                let show = |v: &Option<retort_schema::DefaultValue>| match v {
                    Some(value) => format!("on update {value}"),
                    None => "no on update".to_string(),
                };
                changes.push(format!(
                    "{} → {}",
                    show(&from.on_update),
                    show(&to.on_update)
                ));
            }
            if (&from.charset, &from.collation) != (&to.charset, &to.collation) {
                let show = |c: &Column| match (&c.charset, &c.collation) {
                    (_, Some(collation)) => format!("collation {collation}"),
                    (Some(charset), None) => format!("character set {charset}"),
                    (None, None) => "the default collation".to_string(),
                };
                changes.push(format!("{} → {}", show(from), show(to)));
            }
            changes.join(", ")
        }
        Op::CreateIndex { index, .. } => {
            let parts: Vec<String> = index
                .parts
                .iter()
                .map(|p| {
                    let target = match &p.target {
                        retort_schema::IndexTarget::Column(c) => match p.prefix {
                            Some(length) => format!("{c}({length})"),
                            None => c.clone(),
                        },
                        retort_schema::IndexTarget::Expression(e) => spelling::parenthesize(e),
                    };
                    if p.descending {
                        format!("{target} DESC")
                    } else {
                        target
                    }
                })
                .collect();
            let mut text = String::new();
            if index.unique {
                text.push_str("unique ");
            }
            text.push_str(&parts.join(", "));
            if let Some(predicate) = &index.predicate {
                text.push_str(&format!(" WHERE {predicate}"));
            }
            text
        }
        Op::CreatePrimaryKey { constraint, .. } => {
            direct::describe_constraint(&Constraint::PrimaryKey(constraint.clone()))
        }
        Op::CreateUniqueConstraint { constraint, .. } => {
            direct::describe_constraint(&Constraint::Unique(constraint.clone()))
        }
        Op::CreateForeignKey { constraint, .. } => {
            let mut text = direct::describe_constraint(&Constraint::ForeignKey(constraint.clone()));
            for (label, action) in [
                ("on delete", constraint.on_delete),
                ("on update", constraint.on_update),
            ] {
                if action != retort_schema::ForeignKeyAction::NoAction {
                    text.push_str(&format!(
                        " {label} {}",
                        action.as_sql().to_ascii_lowercase()
                    ));
                }
            }
            text
        }
        Op::CreateCheckConstraint { constraint, .. } => {
            direct::describe_constraint(&Constraint::Check(constraint.clone()))
        }
        Op::DropConstraint { constraint, .. } => direct::describe_constraint(constraint),
        Op::RenameTable { to, .. } | Op::RenameColumn { to, .. } => format!("→ {to}"),
        Op::AlterTableComment { from, to, .. } => {
            let text = |comment: &Option<String>| {
                comment.as_deref().map_or_else(
                    || "no comment".to_string(),
                    |c| {
                        format!(
                            "comment {}",
                            retort_schema::DefaultValue::String(c.to_string())
                        )
                    },
                )
            };
            format!("{} → {}", text(from), text(to))
        }
        Op::DropEnum { .. }
        | Op::DropTable { .. }
        | Op::DropColumn { .. }
        | Op::DropIndex { .. } => {
            return None;
        }
    };
    Some(details)
}

#[cfg(test)]
mod comment_line_tests {
    use super::*;

    /// A name with a line break ends up in hazard and step comments; the
    /// break must not end the `--` comment and turn the rest into SQL.
    #[test]
    fn line_breaks_in_comments_stay_inside_the_comment() {
        let name = "t\nDROP TABLE users; --\r\nx";
        let script = Script {
            steps: vec![Step {
                hazards: vec![Hazard {
                    code: HazardCode::DataLoss,
                    message: format!("drops table {name} and all its rows"),
                    rows: None,
                    non_null: None,
                    estimated: false,
                }],
                statements: vec![format!(
                    "DROP TABLE {}",
                    spelling::quote(name, Dialect::Sqlite)
                )],
                comment: Some(format!("rebuild {name}")),
                transaction: true,
            }],
        };
        let sql = script.to_sql();
        let lines: Vec<&str> = sql.lines().collect();
        // Each comment is one whole line; the statement follows them (its
        // quoted name may span lines: that is inside the identifier).
        assert!(lines[0].starts_with("-- hazard: "), "{sql}");
        assert!(lines[0].ends_with("x and all its rows"), "{sql}");
        assert_eq!(
            lines[1], "-- rebuild t\\nDROP TABLE users; --\\r\\nx",
            "{sql}"
        );
        assert!(lines[2].starts_with("DROP TABLE \"t"), "{sql}");
    }
}
