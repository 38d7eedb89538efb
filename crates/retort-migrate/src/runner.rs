//! The one runner loop: for each planned revision, lock, re-read the version
//! table, run the section's statements, check integrity, update the version
//! table and commit — all in one transaction per revision. Backends supply
//! the individual steps through [`Backend`]; the loop is shared.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::MigrateError;
use crate::error::{Direction, FkViolation, ForeignKeyError, StatementError};
use crate::graph::{
    DowngradeTarget, RevisionGraph, UpgradeTarget, plan_downgrade, plan_upgrade,
    rows_after_downgrade, rows_after_upgrade,
};
use crate::revision::Revision;
use crate::split::{Statement, split_statements};
use crate::sqlite::script;

/// The default version table name, like `alembic_version`.
pub const DEFAULT_VERSION_TABLE: &str = "retort_version";

/// A validated version-table name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionTable(String);

impl VersionTable {
    /// Accepts names made of ASCII letters, digits and `_`, not starting with a digit.
    pub fn new(name: &str) -> Result<Self, MigrateError> {
        let ok = !name.is_empty()
            && name.len() <= 63
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if ok {
            Ok(VersionTable(name.to_string()))
        } else {
            Err(MigrateError::InvalidVersionTable(name.to_string()))
        }
    }

    /// The bare name.
    pub fn name(&self) -> &str {
        &self.0
    }

    /// The name as a quoted SQL identifier.
    pub fn quoted(&self) -> String {
        format!("\"{}\"", self.0)
    }
}

impl Default for VersionTable {
    fn default() -> Self {
        VersionTable(DEFAULT_VERSION_TABLE.to_string())
    }
}

/// Settings of a run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Where the current revisions are recorded.
    pub version_table: VersionTable,
}

/// Progress reported by the runner; the CLI renders these.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// About to apply a revision (the lock is not taken yet).
    Applying {
        /// Revision id.
        id: String,
        /// Revision message.
        message: String,
    },
    /// A revision was applied and committed.
    Applied {
        /// Revision id.
        id: String,
        /// Time spent, lock wait included.
        elapsed: Duration,
    },
    /// About to revert a revision.
    Reverting {
        /// Revision id.
        id: String,
        /// Revision message.
        message: String,
    },
    /// A revision was reverted and committed.
    Reverted {
        /// Revision id.
        id: String,
        /// Time spent, lock wait included.
        elapsed: Duration,
    },
    /// Another process applied this revision while this one waited for the lock.
    AlreadyApplied {
        /// Revision id.
        id: String,
    },
    /// Another process reverted this revision while this one waited for the lock.
    AlreadyReverted {
        /// Revision id.
        id: String,
    },
    /// Nothing to do: the database is already at the target.
    AlreadyAtTarget {
        /// The current version-table rows.
        current: Vec<String>,
    },
    /// The version table was set without running any SQL.
    Stamped {
        /// The version-table rows now.
        current: Vec<String>,
    },
}

/// The per-database steps the runner loop needs. Implemented for
/// [`sqlx::SqliteConnection`]; PostgreSQL and MySQL plug in the same way.
pub trait Backend: Send {
    /// Whatever `begin_step` must hand to `commit_step`/`rollback_step`
    /// (e.g. a pragma value to restore).
    type Step: Send;

    /// The version-table rows, sorted; a missing table is "base" (empty).
    /// Must not create or write anything.
    fn read_versions(
        &mut self,
        table: &VersionTable,
    ) -> impl Future<Output = Result<Vec<String>, MigrateError>> + Send;

    /// Prepares and opens the revision's transaction, taking the write lock,
    /// and creates the version table if missing.
    fn begin_step(
        &mut self,
        table: &VersionTable,
        rev_id: &str,
    ) -> impl Future<Output = Result<Self::Step, MigrateError>> + Send;

    /// Runs one statement of a revision.
    fn execute(&mut self, sql: &str) -> impl Future<Output = Result<(), sqlx::Error>> + Send;

    /// Checks the database after the statements ran (SQLite: `PRAGMA foreign_key_check`).
    fn integrity_check(
        &mut self,
    ) -> impl Future<Output = Result<Vec<FkViolation>, MigrateError>> + Send;

    /// Turns version-table rows `old` into `new`.
    fn write_versions(
        &mut self,
        table: &VersionTable,
        old: &[String],
        new: &[String],
    ) -> impl Future<Output = Result<(), MigrateError>> + Send;

    /// Commits the revision's transaction and restores what `begin_step` changed.
    fn commit_step(
        &mut self,
        step: Self::Step,
    ) -> impl Future<Output = Result<(), MigrateError>> + Send;

    /// Rolls the revision's transaction back and restores what `begin_step` changed.
    fn rollback_step(
        &mut self,
        step: Self::Step,
    ) -> impl Future<Output = Result<(), MigrateError>> + Send;
}

/// The current version-table rows (sorted; empty = base). Never creates the table.
pub async fn current<B: Backend>(
    conn: &mut B,
    version_table: &VersionTable,
) -> Result<Vec<String>, MigrateError> {
    conn.read_versions(version_table).await
}

/// Applies revisions until the database is at `target`.
pub async fn upgrade<B: Backend>(
    conn: &mut B,
    graph: &RevisionGraph,
    target: &UpgradeTarget,
    opts: &RunOptions,
    on_event: &mut (dyn FnMut(Event) + Send),
) -> Result<(), MigrateError> {
    let rows = conn.read_versions(&opts.version_table).await?;
    let plan = plan_upgrade(graph, &rows, target)?;
    run(conn, graph, &plan, Direction::Upgrade, opts, on_event, rows).await
}

/// Reverts revisions until the database is at `target`.
pub async fn downgrade<B: Backend>(
    conn: &mut B,
    graph: &RevisionGraph,
    target: &DowngradeTarget,
    opts: &RunOptions,
    on_event: &mut (dyn FnMut(Event) + Send),
) -> Result<(), MigrateError> {
    let rows = conn.read_versions(&opts.version_table).await?;
    let plan = plan_downgrade(graph, &rows, target)?;
    run(
        conn,
        graph,
        &plan,
        Direction::Downgrade,
        opts,
        on_event,
        rows,
    )
    .await
}

/// Sets the version table to `spec` without running any revision SQL.
/// `spec` is `base` (empty table), `head`, `heads`, or a revision id/prefix.
pub async fn stamp<B: Backend>(
    conn: &mut B,
    graph: &RevisionGraph,
    spec: &str,
    opts: &RunOptions,
    on_event: &mut (dyn FnMut(Event) + Send),
) -> Result<(), MigrateError> {
    let new: Vec<String> = match spec {
        "base" => Vec::new(),
        "heads" => graph.heads().iter().map(|r| r.id.clone()).collect(),
        "head" => {
            let heads = graph.heads();
            if heads.len() > 1 {
                return Err(MigrateError::MultipleHeads {
                    heads: heads.iter().map(|r| r.id.clone()).collect(),
                });
            }
            heads.iter().map(|r| r.id.clone()).collect()
        }
        _ => vec![graph.resolve(spec)?.id.clone()],
    };
    let step = conn.begin_step(&opts.version_table, spec).await?;
    let result = async {
        let old = conn.read_versions(&opts.version_table).await?;
        conn.write_versions(&opts.version_table, &old, &new).await
    }
    .await;
    match result {
        Ok(()) => conn.commit_step(step).await?,
        Err(e) => {
            let _ = conn.rollback_step(step).await;
            return Err(e);
        }
    }
    on_event(Event::Stamped { current: new });
    Ok(())
}

/// A section's statements with line numbers made absolute in the file.
fn statements(rev: &Revision, direction: Direction) -> Vec<Statement> {
    let (sql, first_line) = match direction {
        Direction::Upgrade => (&rev.up, rev.up_line),
        Direction::Downgrade => (&rev.down, rev.down_line),
    };
    split_statements(sql)
        .into_iter()
        .map(|s| Statement {
            line: s.line + first_line.saturating_sub(1),
            sql: s.sql,
        })
        .collect()
}

/// Shortens a statement for an error message: first line, at most 200 chars.
fn excerpt(sql: &str) -> String {
    const MAX: usize = 200;
    let mut lines = sql.lines();
    let first = lines.next().unwrap_or_default();
    let mut out: String = first.chars().take(MAX).collect();
    if out.len() < first.len() || lines.next().is_some() {
        out.push_str(" …");
    }
    out
}

enum Outcome {
    Done,
    Skipped,
}

/// The runner loop shared by upgrade and downgrade.
async fn run<B: Backend>(
    conn: &mut B,
    graph: &RevisionGraph,
    plan: &[&Revision],
    direction: Direction,
    opts: &RunOptions,
    on_event: &mut (dyn FnMut(Event) + Send),
    rows: Vec<String>,
) -> Result<(), MigrateError> {
    if plan.is_empty() {
        on_event(Event::AlreadyAtTarget { current: rows });
        return Ok(());
    }
    let table = &opts.version_table;
    let mut done: Vec<String> = Vec::new();
    for rev in plan {
        let started = Instant::now();
        let (id, message) = (rev.id.clone(), rev.message.clone());
        on_event(match direction {
            Direction::Upgrade => Event::Applying { id, message },
            Direction::Downgrade => Event::Reverting { id, message },
        });
        let step = conn.begin_step(table, &rev.id).await?;
        let outcome = run_one(conn, graph, rev, direction, table, &done).await;
        let id = rev.id.clone();
        match outcome {
            Ok(Outcome::Skipped) => {
                conn.rollback_step(step).await?;
                on_event(match direction {
                    Direction::Upgrade => Event::AlreadyApplied { id },
                    Direction::Downgrade => Event::AlreadyReverted { id },
                });
            }
            Ok(Outcome::Done) => {
                conn.commit_step(step).await?;
                let elapsed = started.elapsed();
                on_event(match direction {
                    Direction::Upgrade => Event::Applied { id, elapsed },
                    Direction::Downgrade => Event::Reverted { id, elapsed },
                });
                done.push(rev.id.clone());
            }
            Err(e) => {
                // The original error matters more than a failed rollback; a
                // failed rollback means the connection is gone, and SQLite
                // rolls back on close.
                let _ = conn.rollback_step(step).await;
                return Err(e);
            }
        }
    }
    Ok(())
}

/// One revision inside its open transaction.
async fn run_one<B: Backend>(
    conn: &mut B,
    graph: &RevisionGraph,
    rev: &Revision,
    direction: Direction,
    table: &VersionTable,
    done: &[String],
) -> Result<Outcome, MigrateError> {
    // Re-read under the lock: another runner may have moved the table since
    // we planned, and a revision must never run twice.
    let rows = conn.read_versions(table).await?;
    let new_rows = match direction {
        Direction::Upgrade => {
            if graph.is_covered(&rows, &rev.id) {
                return Ok(Outcome::Skipped);
            }
            if !rev.parents.iter().all(|p| graph.is_covered(&rows, p)) {
                return Err(MigrateError::ConcurrentChange {
                    id: rev.id.clone(),
                    verb: "applied",
                    current: rows,
                });
            }
            rows_after_upgrade(graph, &rows, rev)
        }
        Direction::Downgrade => {
            if !rows.contains(&rev.id) {
                if graph.is_covered(&rows, &rev.id) {
                    return Err(MigrateError::ConcurrentChange {
                        id: rev.id.clone(),
                        verb: "reverted",
                        current: rows,
                    });
                }
                return Ok(Outcome::Skipped);
            }
            rows_after_downgrade(graph, &rows, rev)
        }
    };
    let stmts = statements(rev, direction);
    let count = stmts.len();
    for (n, stmt) in stmts.iter().enumerate() {
        if let Err(source) = conn.execute(&stmt.sql).await {
            return Err(MigrateError::Statement(Box::new(StatementError {
                id: rev.id.clone(),
                message: rev.message.clone(),
                path: rev.path.clone(),
                direction,
                index: n + 1,
                count,
                line: stmt.line,
                statement: excerpt(&stmt.sql),
                earlier: done.to_vec(),
                source,
            })));
        }
    }
    let violations = conn.integrity_check().await?;
    if !violations.is_empty() {
        return Err(MigrateError::ForeignKeyViolation(Box::new(
            ForeignKeyError {
                id: rev.id.clone(),
                message: rev.message.clone(),
                path: rev.path.clone(),
                violations,
                earlier: done.to_vec(),
            },
        )));
    }
    conn.write_versions(table, &rows, &new_rows).await?;
    Ok(Outcome::Done)
}

/// The SQL `upgrade` would run from version-table rows `from` to `target`,
/// as one SQLite script (`--sql` mode). No database is touched.
pub fn offline_upgrade_sql(
    graph: &RevisionGraph,
    from: &[String],
    target: &UpgradeTarget,
    opts: &RunOptions,
) -> Result<String, MigrateError> {
    let plan = plan_upgrade(graph, from, target)?;
    offline(graph, from, &plan, Direction::Upgrade, opts)
}

/// The SQL `downgrade` would run from version-table rows `from` to `target`.
pub fn offline_downgrade_sql(
    graph: &RevisionGraph,
    from: &[String],
    target: &DowngradeTarget,
    opts: &RunOptions,
) -> Result<String, MigrateError> {
    let plan = plan_downgrade(graph, from, target)?;
    offline(graph, from, &plan, Direction::Downgrade, opts)
}

fn offline(
    graph: &RevisionGraph,
    from: &[String],
    plan: &[&Revision],
    direction: Direction,
    opts: &RunOptions,
) -> Result<String, MigrateError> {
    let table = &opts.version_table;
    let state = |rows: &[String]| {
        if rows.is_empty() {
            "base".to_string()
        } else {
            rows.join(", ")
        }
    };
    let mut out = String::new();
    let mut rows = from.to_vec();
    out.push_str(&format!(
        "-- retort {}: {} revision(s), starting from {}\n-- generated offline for sqlite; foreign keys are assumed to be ON before the script\n\n",
        match direction {
            Direction::Upgrade => "upgrade",
            Direction::Downgrade => "downgrade",
        },
        plan.len(),
        state(&rows),
    ));
    if direction == Direction::Upgrade {
        out.push_str(&format!("{};\n\n", script::create_version_table(table)));
    }
    for rev in plan {
        let new_rows = match direction {
            Direction::Upgrade => rows_after_upgrade(graph, &rows, rev),
            Direction::Downgrade => rows_after_downgrade(graph, &rows, rev),
        };
        out.push_str(&format!(
            "-- {} {}: {} -> {} ({})\n",
            match direction {
                Direction::Upgrade => "upgrade",
                Direction::Downgrade => "downgrade",
            },
            rev.id,
            state(&rows),
            state(&new_rows),
            rev.message
        ));
        out.push_str(&format!(
            "{};\n{};\n",
            script::FOREIGN_KEYS_OFF,
            script::BEGIN
        ));
        for stmt in statements(rev, direction) {
            out.push_str(stmt.sql.trim_end_matches(';').trim_end());
            out.push_str(";\n");
        }
        out.push_str(&format!(
            "-- must return no rows; otherwise ROLLBACK\n{};\n",
            script::FOREIGN_KEY_CHECK
        ));
        for sql in script::version_updates(table, &rows, &new_rows) {
            out.push_str(&format!("{sql};\n"));
        }
        out.push_str(&format!(
            "{};\n{};\n\n",
            script::COMMIT,
            script::FOREIGN_KEYS_ON
        ));
        rows = new_rows;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_table_names_are_validated() {
        assert_eq!(
            VersionTable::new("my_versions").unwrap().quoted(),
            "\"my_versions\""
        );
        for bad in ["", "1abc", "a-b", "a\"b", "x y"] {
            assert!(
                matches!(
                    VersionTable::new(bad),
                    Err(MigrateError::InvalidVersionTable(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn excerpt_keeps_the_first_line_and_marks_truncation() {
        assert_eq!(excerpt("SELECT 1;"), "SELECT 1;");
        assert_eq!(excerpt("SELECT\n1;"), "SELECT …");
        assert_eq!(excerpt(&"x".repeat(300)).chars().count(), 202);
    }
}
