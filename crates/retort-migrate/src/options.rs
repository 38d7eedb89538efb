//! What a run is given (the version table, the lock mode, the offline
//! dialect, the interrupt) and what it reports ([`Event`]); shared by the
//! online runner, the backends and the offline script writer.

use std::time::Duration;

use crate::MigrateError;
use crate::interrupt::Interrupt;
use retort_schema::Dialect;

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
        Dialect::Postgres.quote_identifier(&self.0)
    }

    /// The table recording partly applied revisions where DDL is not
    /// transactional (MySQL): the name followed by `_progress`, its stem cut
    /// so the whole fits MySQL's 64-character identifier limit. Like the
    /// version table, introspection must leave it out.
    pub fn progress_name(&self) -> String {
        const SUFFIX: &str = "_progress";
        let stem: String = self.0.chars().take(64 - SUFFIX.len()).collect();
        format!("{stem}{SUFFIX}")
    }
}

impl Default for VersionTable {
    fn default() -> Self {
        VersionTable(DEFAULT_VERSION_TABLE.to_string())
    }
}

/// How concurrent runners on one database are kept apart.
///
/// PostgreSQL: [`LockMode::Session`] holds `pg_advisory_lock(key)` from
/// before planning until the run ends (also when it fails), so a runner
/// that waited plans from what the first one left and reports
/// [`Event::AlreadyAtTarget`]. The key is
/// [`advisory_lock_key`](crate::postgres::advisory_lock_key) of the version
/// table name.
///
/// [`LockMode::Transaction`] takes `pg_advisory_xact_lock(key)` at the start
/// of every revision transaction instead; the server releases it at COMMIT
/// or ROLLBACK. Use it behind PgBouncer in transaction pooling mode, where a
/// session lock would stay on a server connection that other clients then
/// borrow, and the unlock could run on a different server connection. Its
/// price: runners interleave per revision. Each transaction still re-reads
/// the version table under the lock and skips what is applied, so
/// single-transaction revisions still run exactly once, but statements in
/// the segments of a revision split by `-- retort:transaction` directives
/// before its last transaction are not covered and may run twice: they must
/// be idempotent (they should be anyway).
///
/// SQLite ignores the mode: `BEGIN IMMEDIATE` per revision already
/// serialises runners on one file.
///
/// MySQL ignores it too and always holds its session lock (`GET_LOCK`) for
/// the whole run: without transactional DDL, runners must never interleave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LockMode {
    /// One lock for the whole run (the default).
    #[default]
    Session,
    /// One lock per revision transaction (PgBouncer transaction pooling).
    Transaction,
}

impl LockMode {
    /// The configuration spelling: `session` or `transaction`.
    pub fn name(self) -> &'static str {
        match self {
            LockMode::Session => "session",
            LockMode::Transaction => "transaction",
        }
    }

    /// Parses the configuration spelling (`session` or `transaction`).
    pub fn from_name(name: &str) -> Result<LockMode, MigrateError> {
        match name {
            "session" => Ok(LockMode::Session),
            "transaction" => Ok(LockMode::Transaction),
            _ => Err(MigrateError::InvalidLockMode(name.to_string())),
        }
    }
}

/// Settings of a run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Where the current revisions are recorded.
    pub version_table: VersionTable,
    /// Which SQL the offline (`--sql`) script is written in. The online
    /// runner follows the connection type instead.
    pub dialect: Dialect,
    /// How concurrent runners are kept apart (PostgreSQL).
    pub lock: LockMode,
    /// Stops the run on request (Ctrl-C): see [`Interrupt`].
    pub interrupt: Interrupt,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            version_table: VersionTable::default(),
            dialect: Dialect::Sqlite,
            lock: LockMode::Session,
            interrupt: Interrupt::default(),
        }
    }
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
    /// An earlier run applied the first `applied` statements of this
    /// revision and failed (non-transactional DDL, MySQL); they are
    /// unchanged in the file, so this run starts at statement `applied + 1`.
    /// Follows [`Event::Applying`] / [`Event::Reverting`].
    Resuming {
        /// Revision id.
        id: String,
        /// Statements applied by the earlier run.
        applied: usize,
        /// Statements in the section.
        count: usize,
    },
    /// The version table was set without running any SQL.
    Stamped {
        /// The version-table rows now.
        current: Vec<String>,
    },
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
}
