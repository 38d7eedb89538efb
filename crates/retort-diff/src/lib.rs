//! Compares two schemas and emits ordered, invertible migration ops.
//!
//! `diff(&from, &to, &options)` returns a [`Plan`]: the ops that turn `from`
//! (the live database) into `to` (the models), in an order that runs (a
//! table before the tables whose foreign keys reference it; drops in the
//! reverse order), each with its hazards. This crate does no IO.
//!
//! ```
//! use retort_diff::{DiffOptions, apply_all, diff, invert, plan};
//! use retort_schema::{Column, ColumnType, Dialect, Schema, Table};
//!
//! let mut users = Table::new("users");
//! users.columns.push(Column::new("id", ColumnType::Integer).not_null());
//! let before = Schema { tables: vec![users.clone()], ..Schema::default() }.normalized();
//! users.columns.push(Column::new("age", ColumnType::Integer));
//! let after = Schema { tables: vec![users], ..Schema::default() }.normalized();
//!
//! let options = DiffOptions { dialect: Dialect::Sqlite };
//! let upgrade = diff(&before, &after, &options);
//! assert_eq!(upgrade.ops()[0].name(), "add_column");
//! assert_eq!(apply_all(&before, &upgrade.ops()).unwrap(), after);
//! assert!(diff(&after, &after, &options).is_empty());
//!
//! let downgrade = plan(invert(&upgrade.ops()), &options);
//! assert_eq!(downgrade.ops[0].hazards[0].code.as_str(), "data_loss");
//! ```
//!
//! Renames: the differ never guesses one. It lists the dropped/added pairs
//! that look like renames in [`Plan::rename_candidates`], and
//! [`diff_with_renames`] turns the ones the user confirmed into
//! `rename_table` / `rename_column` ops (module `rename`).
//!
//! Three stages, one module each: `compare` matches the two schemas by
//! stated keys and lists the ops (equal schemas give no ops: a false
//! positive is the worst bug a differ can have, so every equivalence a
//! catalog introduces is handled there), `order` sorts them along a
//! dependency graph (its module doc states the rules), and `hazard` flags
//! what may go wrong. Design decision: ops carry whole definitions (a
//! dropped table carries the table) so that [`invert`] gives an exact
//! downgrade, and the downgrade is ordered by construction because every
//! ordering rule has a mirror rule.

#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod compare;
mod hazard;
mod hazard_docs;
mod identity;
mod ops;
mod order;
mod rename;

pub use hazard::{
    Hazard, HazardCode, LONG_LOCK_MIN_ROWS, StatsRequest, TableRows, TableStats, hazards,
    hazards_with_stats, thousands,
};
pub use hazard_docs::{HazardDoc, hazard_doc, hazards_markdown};
pub use identity::reconcile;
pub use ops::{ApplyError, Constraint, Op, apply_all, invert};
pub use rename::{Rename, RenameCandidate, RenameError};

use retort_schema::{Dialect, Schema};
use serde::{Deserialize, Serialize};

/// What the differ needs to know beyond the two schemas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffOptions {
    /// The dialect the ops will be rendered for; it decides what counts as
    /// a change (e.g. SQLite has no comments) and which hazards apply.
    pub dialect: Dialect,
}

/// An op with its hazards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedOp {
    #[serde(flatten)]
    pub op: Op,
    pub hazards: Vec<Hazard>,
}

/// The ordered ops that turn one schema into another. Serialises as
/// `{"ops":[…]}`, the JSON contract of `retort diff --format json`
/// (plus `"rename_candidates":[…]` when there are any).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Plan {
    pub ops: Vec<PlannedOp>,
    /// Dropped and added objects that look like renames but were not
    /// confirmed: the plan drops and adds them (see [`diff_with_renames`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rename_candidates: Vec<RenameCandidate>,
}

impl Plan {
    /// Whether the schemas were equal.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// The bare ops, in order.
    pub fn ops(&self) -> Vec<Op> {
        self.ops.iter().map(|p| p.op.clone()).collect()
    }
}

/// The plan that turns `from` (the live database) into `to` (the models).
/// Both must be normalised ([`Schema::normalize`]); then
/// `apply_all(from, &diff(from, to, o).ops())` equals `to` up to column
/// order and the equivalences the comparison allows (unnamed vs named
/// constraints of the same definition, `TRUE` vs `1` on a boolean column,
/// comments where the dialect has none, the spelling of names the dialect
/// compares equal: `Users` in the models is the database's `users` on
/// SQLite, and the ops spell it `users`).
///
/// The plan lists pairs that look like renames in
/// [`Plan::rename_candidates`] and drops and adds them;
/// [`diff_with_renames`] turns confirmed ones into rename ops.
pub fn diff(from: &Schema, to: &Schema, options: &DiffOptions) -> Plan {
    let (from, to) = identity::reconcile(from, to, options.dialect);
    diff_reconciled(&from, &to, options)
}

fn diff_reconciled(from: &Schema, to: &Schema, options: &DiffOptions) -> Plan {
    let ops = compare::compare(from, to, options);
    let mut plan = plan(order::order(ops, options), options);
    plan.rename_candidates = rename::candidates(from, to, options);
    plan
}

/// Like [`diff`], with the confirmed `renames` as `rename_table` /
/// `rename_column` ops, run first; the other ops are computed against the
/// renamed database, so they use the new names and the rows survive.
/// Fails when a rename does not fit: the old name must be in `from` and
/// gone from `to`, the new name in `to` and free in `from`.
pub fn diff_with_renames(
    from: &Schema,
    to: &Schema,
    options: &DiffOptions,
    renames: &[Rename],
) -> Result<Plan, RenameError> {
    let (from, to) = identity::reconcile(from, to, options.dialect);
    let renames = identity::respell_renames(renames, &from, &to, options.dialect);
    let rename_ops = rename::rename_ops(&from, &to, &renames)?;
    if rename_ops.is_empty() {
        return Ok(diff_reconciled(&from, &to, options));
    }
    let renamed = apply_all(&from, &rename_ops).map_err(RenameError::Apply)?;
    // `renamed` takes its new names from `to` (respelled above), so the
    // pair is still reconciled: no second pass over both schemas.
    let rest = diff_reconciled(&renamed, &to, options);
    let mut ops = plan(rename_ops, options).ops;
    ops.extend(rest.ops);
    Ok(Plan {
        ops,
        rename_candidates: rest.rename_candidates,
    })
}

/// Attaches hazards to `ops`, keeping their order; e.g. the downgrade
/// `plan(invert(&upgrade.ops()), &options)`.
pub fn plan(ops: Vec<Op>, options: &DiffOptions) -> Plan {
    plan_with_stats(ops, options, &TableStats::default())
}

/// Like [`plan`], with hazards stated against the row counts in `stats`
/// ([`hazards_with_stats`]): e.g. after [`diff`], the caller reads the
/// counts [`StatsRequest::for_ops`] asks for and re-plans
/// `plan_with_stats(plan.ops(), &options, &stats)`.
pub fn plan_with_stats(ops: Vec<Op>, options: &DiffOptions, stats: &TableStats) -> Plan {
    Plan {
        ops: ops
            .into_iter()
            .map(|op| PlannedOp {
                hazards: hazards_with_stats(&op, options, stats),
                op,
            })
            .collect(),
        rename_candidates: Vec::new(),
    }
}
