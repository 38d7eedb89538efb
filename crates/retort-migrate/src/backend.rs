//! The per-database steps the runner loop needs ([`Backend`]), what a
//! backend records about a partly applied revision, and the version-table
//! statements the backends and the offline script share.

use std::future::Future;

use crate::MigrateError;
use crate::error::{Direction, FkViolation};
use crate::interrupt::{Canceller, Interrupt};
use crate::options::{LockMode, VersionTable};
use retort_schema::{Dialect, fnv1a_64};

/// A revision an earlier run left partly applied where DDL is not
/// transactional (MySQL): its first `applied` statements ran and stay in
/// place, and it is not in the version table. See [`partial_progress`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartialRevision {
    /// Revision id.
    pub id: String,
    /// Which section was running.
    pub direction: Direction,
    /// Statements 1..=applied ran.
    pub applied: usize,
    /// Statements in the section when they ran.
    pub count: usize,
    /// [`statement_checksum`] of each applied statement, in order.
    pub checksums: Vec<String>,
    /// The checksum of statement `applied + 1` when it was started but its
    /// end was never recorded (the runner was killed while it ran): it may
    /// or may not have taken effect, and the next run checks the catalog.
    pub started: Option<String>,
}

/// The checksum recorded for an applied statement: FNV-1a 64 of its text
/// without surrounding whitespace and trailing `;`, as 16 hex digits. It
/// detects edits, not attacks: any change to the text (comments inside the
/// statement included) counts as a change.
pub fn statement_checksum(sql: &str) -> String {
    let text = sql.trim().trim_end_matches(';').trim_end();
    format!("{:016x}", fnv1a_64(text.bytes()))
}

/// The per-database steps the runner loop needs. Implemented for
/// [`sqlx::SqliteConnection`], [`sqlx::PgConnection`] and
/// [`sqlx::MySqlConnection`].
pub trait Backend: Send {
    /// Whatever `begin_step` must hand to `commit_step`/`rollback_step`
    /// (e.g. a pragma value to restore).
    type Step: Send;

    /// The database's dialect; the runner branches on its capabilities
    /// (`transactional_ddl`: one transaction per revision, or statement by
    /// statement with recorded progress).
    const DIALECT: Dialect;

    /// The version-table rows, sorted; a missing table is "base" (empty).
    /// Must not create or write anything.
    fn read_versions(
        &mut self,
        table: &VersionTable,
    ) -> impl Future<Output = Result<Vec<String>, MigrateError>> + Send;

    /// Takes the runner lock keyed by the version table. `Session`: before
    /// planning, held until [`Backend::unlock`]. `Transaction`: right after
    /// `begin_step`, released by the commit or rollback. Backends whose
    /// transactions already serialise runners (SQLite) do nothing.
    fn lock(
        &mut self,
        table: &VersionTable,
        mode: LockMode,
    ) -> impl Future<Output = Result<(), MigrateError>> + Send;

    /// Releases the session lock taken by [`Backend::lock`].
    fn unlock(
        &mut self,
        table: &VersionTable,
    ) -> impl Future<Output = Result<(), MigrateError>> + Send;

    /// Prepares and opens a transaction (SQLite: foreign keys off, then
    /// `BEGIN IMMEDIATE`, which takes the write lock).
    fn begin_step(
        &mut self,
        table: &VersionTable,
        rev_id: &str,
    ) -> impl Future<Output = Result<Self::Step, MigrateError>> + Send;

    /// Creates the version table if missing, inside the open transaction.
    fn create_version_table(
        &mut self,
        table: &VersionTable,
    ) -> impl Future<Output = Result<(), MigrateError>> + Send;

    /// Runs one statement of a revision.
    fn execute(&mut self, sql: &str) -> impl Future<Output = Result<(), sqlx::Error>> + Send;

    /// Checks the database after the statements ran (SQLite: `PRAGMA foreign_key_check`).
    fn integrity_check(
        &mut self,
    ) -> impl Future<Output = Result<Vec<FkViolation>, MigrateError>> + Send;

    /// The statements turning version-table rows `old` into `new`, in this
    /// database's SQL; the offline script writes the same text.
    fn version_updates(table: &VersionTable, old: &[String], new: &[String]) -> Vec<String>;

    /// Turns version-table rows `old` into `new`, inside the open
    /// transaction, by running [`Backend::version_updates`].
    fn write_versions(
        &mut self,
        table: &VersionTable,
        old: &[String],
        new: &[String],
    ) -> impl Future<Output = Result<(), MigrateError>> + Send {
        async move {
            for sql in Self::version_updates(table, old, new) {
                self.execute(&sql)
                    .await
                    .map_err(|source| MigrateError::Database {
                        action: format!("updating the version table {}", table.name()),
                        source,
                    })?;
            }
            Ok(())
        }
    }

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

    /// The partly applied revisions recorded by earlier runs, sorted by id
    /// then direction. Must not create or write anything. Backends with
    /// transactional DDL never leave any.
    fn read_progress(
        &mut self,
        _table: &VersionTable,
    ) -> impl Future<Output = Result<Vec<PartialRevision>, MigrateError>> + Send {
        async { Ok(Vec::new()) }
    }

    /// Records that `progress.applied` statements of a revision ran
    /// (replacing its earlier record). Called inside the statement's
    /// transaction, right after it, where DDL is not transactional.
    fn write_progress(
        &mut self,
        _table: &VersionTable,
        _progress: &PartialRevision,
    ) -> impl Future<Output = Result<(), MigrateError>> + Send {
        async { Ok(()) }
    }

    /// Whether `sql`, the statement an earlier run started and never
    /// recorded the end of ([`PartialRevision::started`]), took effect,
    /// judged from the catalog. Only called where DDL is not transactional.
    fn statement_took_effect(
        &mut self,
        _sql: &str,
    ) -> impl Future<Output = Result<Effect, MigrateError>> + Send {
        async {
            Ok(Effect::Unknown(
                "this database cannot tell whether a statement took effect".to_string(),
            ))
        }
    }

    /// Makes the session stoppable by a triggered `interrupt` and says how
    /// the runner cancels a running statement ([`Canceller`]): from a
    /// second connection, or by itself (SQLite's progress handler). The
    /// default waits for the statement. `lock` is the run's lock mode
    /// (behind a transaction-pooling proxy a session id may name another
    /// client's session).
    fn prepare_interrupt(
        &mut self,
        _interrupt: &Interrupt,
        _lock: LockMode,
    ) -> impl Future<Output = Result<Canceller, MigrateError>> + Send {
        async { Ok(Canceller::Wait) }
    }

    /// Undoes [`Backend::prepare_interrupt`], so that the rollback and the
    /// lock release after an interrupt are not interrupted themselves.
    fn disarm_interrupt(&mut self) -> impl Future<Output = ()> + Send {
        async {}
    }

    /// Deletes the record of one revision and direction, or every record
    /// (`None`, by `stamp`).
    fn clear_progress(
        &mut self,
        _table: &VersionTable,
        _which: Option<(&str, Direction)>,
    ) -> impl Future<Output = Result<(), MigrateError>> + Send {
        async { Ok(()) }
    }
}

/// What the catalog says about a statement an earlier run started (see
/// [`Backend::statement_took_effect`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// What the statement creates, drops or changes is in the state it leaves.
    Applied,
    /// It is in the state before the statement (or the statement is
    /// transactional and so was rolled back with its unrecorded end).
    NotApplied,
    /// The catalog cannot tell; the text says what to check by hand.
    Unknown(String),
}

/// Statements turning version-table rows `old` into `new` in standard SQL
/// (SQLite and PostgreSQL). Ids are validated hex, so inlining them as
/// literals is safe.
pub(crate) fn standard_version_updates(
    table: &VersionTable,
    old: &[String],
    new: &[String],
) -> Vec<String> {
    let mut out = Vec::new();
    for id in old.iter().filter(|id| !new.contains(id)) {
        out.push(format!(
            "DELETE FROM {} WHERE version_num = '{}'",
            table.quoted(),
            id.replace('\'', "''")
        ));
    }
    for id in new.iter().filter(|id| !old.contains(id)) {
        out.push(format!(
            "INSERT INTO {} (version_num) VALUES ('{}')",
            table.quoted(),
            id.replace('\'', "''")
        ));
    }
    out
}
