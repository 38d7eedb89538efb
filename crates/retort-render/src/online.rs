//! Online-safe PostgreSQL recipes (`RenderOptions::online`): statements
//! that keep the locks they take short or weak, so a migration does not
//! stall traffic on a table that has rows.
//!
//! - `CREATE INDEX CONCURRENTLY IF NOT EXISTS` / `DROP INDEX CONCURRENTLY
//!   IF EXISTS`, outside the transaction (PostgreSQL refuses them in a
//!   transaction block). Idempotent, so a revision that failed later can be
//!   run again; a failed concurrent build leaves an INVALID index, which
//!   `IF NOT EXISTS` would keep, so the comment tells the reader to drop it.
//! - Foreign keys and checks: `ADD CONSTRAINT … NOT VALID` (a brief lock,
//!   no scan), then `VALIDATE CONSTRAINT` on its own outside the
//!   transaction, so it commits alone: it scans under SHARE UPDATE
//!   EXCLUSIVE, which does not block reads or writes.
//! - `SET NOT NULL` through a validated check: PostgreSQL 12+ skips the
//!   full-table scan of `SET NOT NULL` when a valid `CHECK (col IS NOT
//!   NULL)` proves it (https://www.postgresql.org/docs/current/sql-altertable.html,
//!   "SET/DROP NOT NULL"); the check is dropped afterwards.
//!
//! Only objects on tables that exist before the script runs get a recipe: a
//! table created by the same script is empty and not yet in use, and a
//! statement outside the transaction could not see it anyway.

use crate::script::Step;
use crate::spelling::quote;
use retort_diff::{Constraint, HazardCode, Op, PlannedOp};
use retort_schema::{Dialect, Schema};

const PG: Dialect = Dialect::Postgres;

/// Whether `op` gets an online recipe when the script starts from `from`.
pub(crate) fn applies(op: &Op, from: &Schema, dialect: Dialect) -> bool {
    if dialect != PG {
        return false;
    }
    let existing = |table: &str| from.table(table).is_some();
    match op {
        Op::CreateIndex { table, .. } | Op::DropIndex { table, .. } => existing(table),
        Op::CreateForeignKey { table, .. } | Op::CreateCheckConstraint { table, .. } => {
            existing(table)
        }
        Op::AlterColumn {
            table,
            from: old,
            to,
        } => {
            old.nullable
                && !to.nullable
                && from
                    .table(table)
                    .is_some_and(|t| t.columns.iter().any(|c| c.name == old.name))
        }
        _ => false,
    }
}

/// The hazards `planned` keeps when rendered online: a concurrent index
/// build blocks no writes, so its `long_lock` goes.
pub(crate) fn hazards(
    planned: &PlannedOp,
    from: &Schema,
    dialect: Dialect,
) -> Vec<retort_diff::Hazard> {
    let concurrent =
        matches!(planned.op, Op::CreateIndex { .. }) && applies(&planned.op, from, dialect);
    planned
        .hazards
        .iter()
        .filter(|h| !(concurrent && h.code == HazardCode::LongLock))
        .cloned()
        .collect()
}

/// The online steps of one op.
pub(crate) struct OnlineSteps {
    /// Steps that run where the op stands.
    pub now: Vec<Step>,
    /// `VALIDATE CONSTRAINT` steps (outside the transaction), which may run
    /// any time later: the renderer gathers them, so the `NOT VALID` adds
    /// of a revision share one transaction.
    pub validate: Vec<Step>,
    /// Steps that need `validate` done first.
    pub after: Vec<Step>,
}

/// The online steps for `planned`, given its plain `statements` (rendered
/// against the current state), or `None` to keep the plain form (an
/// unnamed constraint cannot be validated by name).
pub(crate) fn steps(
    planned: &PlannedOp,
    statements: &[String],
    constraint_name: Option<String>,
    from: &Schema,
) -> Option<OnlineSteps> {
    let steps = |now, validate, after| {
        Some(OnlineSteps {
            now,
            validate,
            after,
        })
    };
    let hazards = hazards(planned, from, PG);
    match &planned.op {
        Op::CreateIndex { .. } => {
            let [statement] = statements else { return None };
            let statement = concurrent_create(statement)?;
            steps(
                vec![Step {
                    hazards,
                    statements: vec![statement],
                    comment: Some(
                        "outside the transaction: CREATE INDEX CONCURRENTLY cannot run in one; \
                     if it fails it leaves an INVALID index: drop it before running again"
                            .to_string(),
                    ),
                    transaction: false,
                }],
                vec![],
                vec![],
            )
        }
        Op::DropIndex { index, .. } => steps(
            vec![Step {
                hazards,
                statements: vec![format!(
                    "DROP INDEX CONCURRENTLY IF EXISTS {}",
                    quote(&index.name, PG)
                )],
                comment: Some(
                    "outside the transaction: DROP INDEX CONCURRENTLY cannot run in one"
                        .to_string(),
                ),
                transaction: false,
            }],
            vec![],
            vec![],
        ),
        Op::CreateForeignKey { table, .. } | Op::CreateCheckConstraint { table, .. } => {
            let name = constraint_name?;
            let [statement] = statements else { return None };
            steps(
                vec![Step {
                    hazards,
                    statements: vec![format!("{statement} NOT VALID")],
                    comment: Some(format!(
                        "NOT VALID: checks new rows only, without scanning {table}; validated below"
                    )),
                    transaction: true,
                }],
                vec![validate_step(table, &name)],
                vec![],
            )
        }
        Op::AlterColumn { table, to, .. } => {
            let set_not_null = format!(
                "ALTER TABLE {} ALTER COLUMN {} SET NOT NULL",
                quote(table, PG),
                quote(&to.name, PG)
            );
            let at = statements.iter().position(|s| *s == set_not_null)?;
            let check = not_null_check_name(table, &to.name);
            let alter = |action: String| format!("ALTER TABLE {} {action}", quote(table, PG));
            let mut first = statements[..at].to_vec();
            first.push(alter(format!(
                "ADD CONSTRAINT {} CHECK ({} IS NOT NULL) NOT VALID",
                quote(&check, PG),
                quote(&to.name, PG)
            )));
            let mut last = vec![
                set_not_null.clone(),
                alter(format!("DROP CONSTRAINT {}", quote(&check, PG))),
            ];
            last.extend_from_slice(&statements[at + 1..]);
            steps(
                vec![Step {
                    hazards,
                    statements: first,
                    comment: Some(format!(
                        "SET NOT NULL through a validated check, so {table}.{} is not scanned under an ACCESS EXCLUSIVE lock",
                        to.name
                    )),
                    transaction: true,
                }],
                vec![validate_step(table, &check)],
                vec![Step {
                    hazards: Vec::new(),
                    statements: last,
                    comment: Some(format!(
                        "the valid check proves {table}.{} has no NULL: no scan",
                        to.name
                    )),
                    transaction: true,
                }],
            )
        }
        _ => None,
    }
}

fn validate_step(table: &str, name: &str) -> Step {
    Step {
        hazards: Vec::new(),
        statements: vec![format!(
            "ALTER TABLE {} VALIDATE CONSTRAINT {}",
            quote(table, PG),
            quote(name, PG)
        )],
        comment: Some(
            "outside the transaction, so it commits alone: the scan holds SHARE UPDATE EXCLUSIVE, which blocks neither reads nor writes"
                .to_string(),
        ),
        transaction: false,
    }
}

/// `CREATE [UNIQUE] INDEX CONCURRENTLY IF NOT EXISTS …` from the plain
/// statement.
fn concurrent_create(statement: &str) -> Option<String> {
    for prefix in ["CREATE UNIQUE INDEX ", "CREATE INDEX "] {
        if let Some(rest) = statement.strip_prefix(prefix) {
            let rest = rest.strip_prefix("IF NOT EXISTS ").unwrap_or(rest);
            return Some(format!("{prefix}CONCURRENTLY IF NOT EXISTS {rest}"));
        }
    }
    None
}

/// The temporary check's name: `<table>_<column>_not_null_check`, cut to
/// PostgreSQL's 63-byte identifier limit (so the name written is the name
/// the server keeps). Not `<table>_<column>_not_null`, which PostgreSQL 18
/// gives its own NOT NULL constraints.
fn not_null_check_name(table: &str, column: &str) -> String {
    let mut name = format!("{table}_{column}_not_null_check");
    while name.len() > 63 {
        name.pop();
    }
    name
}

/// The name a constraint op creates, when it has one (its own, or the one
/// PostgreSQL gives an unnamed constraint, spelled out).
pub(crate) fn constraint_name(op: &Op, state: &Schema) -> Option<String> {
    let (table, constraint) = match op {
        Op::CreateForeignKey { table, constraint } => {
            (table, Constraint::ForeignKey(constraint.clone()))
        }
        Op::CreateCheckConstraint { table, constraint } => {
            (table, Constraint::Check(constraint.clone()))
        }
        _ => return None,
    };
    match constraint.name() {
        Some(name) => Some(name.to_string()),
        None => crate::names::implied_name(table, &constraint, state, PG),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_create_keeps_unique_and_the_rest() {
        assert_eq!(
            concurrent_create("CREATE UNIQUE INDEX \"ix\" ON \"t\" (\"a\")").as_deref(),
            Some("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS \"ix\" ON \"t\" (\"a\")")
        );
        assert_eq!(
            concurrent_create("CREATE INDEX \"ix\" ON \"t\" USING gin (\"a\")").as_deref(),
            Some("CREATE INDEX CONCURRENTLY IF NOT EXISTS \"ix\" ON \"t\" USING gin (\"a\")")
        );
        assert_eq!(concurrent_create("SELECT 1"), None);
    }

    #[test]
    fn check_names_fit_the_identifier_limit() {
        assert_eq!(not_null_check_name("t", "c"), "t_c_not_null_check");
        assert_eq!(
            not_null_check_name(&"x".repeat(40), &"y".repeat(40)).len(),
            63
        );
    }
}
