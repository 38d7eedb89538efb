//! The SQLite backend: the exact statement sequence around each revision.
//!
//! SQLite cannot change most of a table in place, so revisions rebuild tables
//! (create new, copy, drop old, rename). With foreign keys enforced, dropping
//! the old parent table would cascade into its children, so the documented
//! procedure (<https://www.sqlite.org/lang_altertable.html#otheralter>) is:
//!
//! 1. `PRAGMA foreign_keys=OFF`, *outside* any transaction — inside one the
//!    pragma is a silent no-op (<https://www.sqlite.org/pragma.html#pragma_foreign_keys>),
//!    so the runner reads it back and refuses to continue if it is still on;
//! 2. `BEGIN IMMEDIATE`, which takes the write lock up front so concurrent
//!    runners on one file queue on the busy timeout instead of interleaving;
//! 3. the revision's statements;
//! 4. `PRAGMA foreign_key_check`, which must return no rows;
//! 5. the version-table update, `COMMIT`, then foreign keys restored.
//!
//! Segments after `-- retort:transaction off` run in autocommit with
//! foreign keys as the connection has them. Concurrent runners are only
//! exactly-once for revisions without such directives: between segments no
//! lock is held, so segment statements must be idempotent.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{AssertSqlSafe, Row};

use crate::MigrateError;
use crate::backend::Backend;
use crate::error::FkViolation;
use crate::interrupt::{Canceller, Interrupt};
use crate::options::{LockMode, VersionTable};

/// How many virtual-machine steps SQLite runs between two looks at the
/// interrupt: often enough to stop within milliseconds, rare enough to
/// cost nothing.
const INTERRUPT_CHECK_STEPS: i32 = 10_000;

/// The busy timeout [`sqlite_connect_options`] sets: how long a runner waits
/// for another one holding the write lock.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Connect options for running revisions against `url` (`sqlite:path` or
/// `sqlite://path`): creates the file if missing and sets a 30 s busy timeout.
///
/// Callers that build their own options must set a busy timeout too, or a
/// second concurrent `upgrade` fails with "database is locked" instead of
/// waiting for the first one's `BEGIN IMMEDIATE` transaction to finish.
pub fn sqlite_connect_options(url: &str) -> Result<SqliteConnectOptions, MigrateError> {
    let opts = SqliteConnectOptions::from_str(url).map_err(|source| MigrateError::Database {
        action: "parsing the sqlite connection url".to_string(),
        source,
    })?;
    Ok(opts.create_if_missing(true).busy_timeout(BUSY_TIMEOUT))
}

/// The SQL text the runner sends, shared by the online runner and `--sql` mode
/// so both do exactly the same thing.
pub mod script {
    use crate::options::VersionTable;

    /// Turns enforcement off; must run outside a transaction.
    pub const FOREIGN_KEYS_OFF: &str = "PRAGMA foreign_keys = OFF";
    /// Turns enforcement back on after the revision committed.
    pub const FOREIGN_KEYS_ON: &str = "PRAGMA foreign_keys = ON";
    /// Reads the enforcement flag (0 or 1).
    pub const READ_FOREIGN_KEYS: &str = "PRAGMA foreign_keys";
    /// Takes the database write lock for the whole revision.
    pub const BEGIN: &str = "BEGIN IMMEDIATE";
    /// Lists rows whose foreign keys point nowhere: (table, rowid, parent, fkid).
    pub const FOREIGN_KEY_CHECK: &str = "PRAGMA foreign_key_check";
    /// Ends the revision's transaction.
    pub const COMMIT: &str = "COMMIT";
    /// Undoes the revision's transaction.
    pub const ROLLBACK: &str = "ROLLBACK";

    /// `CREATE TABLE IF NOT EXISTS` for the version table.
    pub fn create_version_table(table: &VersionTable) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {} (version_num VARCHAR(32) NOT NULL PRIMARY KEY)",
            table.quoted()
        )
    }

    /// Statements turning version-table rows `old` into `new` (standard
    /// SQL; ids are validated hex).
    pub fn version_updates(table: &VersionTable, old: &[String], new: &[String]) -> Vec<String> {
        crate::backend::standard_version_updates(table, old, new)
    }
}

/// What [`Backend::begin_step`] changed and [`Backend::commit_step`] restores.
#[derive(Debug)]
pub struct SqliteStep {
    foreign_keys_were_on: bool,
}

async fn exec(conn: &mut SqliteConnection, sql: &str) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(AssertSqlSafe(sql))
        .execute(&mut *conn)
        .await
        .map(|_| ())
}

fn db_err(action: impl Into<String>) -> impl FnOnce(sqlx::Error) -> MigrateError {
    let action = action.into();
    move |source| MigrateError::Database { action, source }
}

async fn read_foreign_keys(conn: &mut SqliteConnection) -> Result<bool, MigrateError> {
    let on: i64 = sqlx::query_scalar(script::READ_FOREIGN_KEYS)
        .fetch_one(&mut *conn)
        .await
        .map_err(db_err("reading PRAGMA foreign_keys"))?;
    Ok(on != 0)
}

impl Backend for SqliteConnection {
    type Step = SqliteStep;

    const DIALECT: retort_schema::Dialect = retort_schema::Dialect::Sqlite;

    async fn read_versions(&mut self, table: &VersionTable) -> Result<Vec<String>, MigrateError> {
        // Look before reading: a missing table means "base", and reading the
        // current version must never create anything.
        let exists: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1")
                .bind(table.name())
                .fetch_optional(&mut *self)
                .await
                .map_err(db_err("looking for the version table"))?;
        if exists.is_none() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT version_num FROM {} ORDER BY version_num",
            table.quoted()
        );
        let rows = sqlx::raw_sql(AssertSqlSafe(sql))
            .fetch_all(&mut *self)
            .await
            .map_err(db_err(format!(
                "reading the version table {}",
                table.name()
            )))?;
        rows.iter()
            .map(|r| r.try_get::<String, _>(0))
            .collect::<Result<Vec<_>, _>>()
            .map_err(db_err(format!(
                "reading the version table {}",
                table.name()
            )))
    }

    async fn lock(&mut self, _table: &VersionTable, _mode: LockMode) -> Result<(), MigrateError> {
        // BEGIN IMMEDIATE in every step already serialises runners.
        Ok(())
    }

    async fn unlock(&mut self, _table: &VersionTable) -> Result<(), MigrateError> {
        Ok(())
    }

    async fn begin_step(
        &mut self,
        _table: &VersionTable,
        rev_id: &str,
    ) -> Result<SqliteStep, MigrateError> {
        let foreign_keys_were_on = read_foreign_keys(self).await?;
        let step = SqliteStep {
            foreign_keys_were_on,
        };
        exec(self, script::FOREIGN_KEYS_OFF)
            .await
            .map_err(db_err("turning foreign keys off"))?;
        if read_foreign_keys(self).await? {
            return Err(MigrateError::ForeignKeysStillOn {
                id: rev_id.to_string(),
            });
        }
        if let Err(source) = exec(self, script::BEGIN).await {
            restore(self, &step).await;
            return Err(MigrateError::Database {
                action: "starting the revision's transaction (BEGIN IMMEDIATE); another retort may hold the lock".to_string(),
                source,
            });
        }
        Ok(step)
    }

    async fn create_version_table(&mut self, table: &VersionTable) -> Result<(), MigrateError> {
        exec(self, &script::create_version_table(table))
            .await
            .map_err(db_err(format!(
                "creating the version table {}",
                table.name()
            )))
    }

    async fn execute(&mut self, sql: &str) -> Result<(), sqlx::Error> {
        exec(self, sql).await
    }

    async fn integrity_check(&mut self) -> Result<Vec<FkViolation>, MigrateError> {
        let rows = sqlx::raw_sql(script::FOREIGN_KEY_CHECK)
            .fetch_all(&mut *self)
            .await
            .map_err(db_err("running PRAGMA foreign_key_check"))?;
        let mut out = Vec::new();
        for row in rows.iter().take(20) {
            let get = |e| MigrateError::Database {
                action: "reading PRAGMA foreign_key_check".to_string(),
                source: e,
            };
            out.push(FkViolation {
                table: row.try_get(0).map_err(get)?,
                rowid: row.try_get(1).map_err(get)?,
                parent: row.try_get(2).map_err(get)?,
            });
        }
        Ok(out)
    }

    fn version_updates(table: &VersionTable, old: &[String], new: &[String]) -> Vec<String> {
        script::version_updates(table, old, new)
    }

    async fn prepare_interrupt(
        &mut self,
        interrupt: &Interrupt,
        _lock: LockMode,
    ) -> Result<Canceller, MigrateError> {
        // The statement runs on sqlx's worker thread; a progress handler
        // returning false makes SQLite abort it with SQLITE_INTERRUPT
        // (<https://www.sqlite.org/c3ref/progress_handler.html>), which also
        // rolls the transaction back. A connection has one progress
        // handler: this replaces any the caller set, for the run.
        let triggered = interrupt.flag();
        self.lock_handle()
            .await
            .map_err(db_err("setting the interrupt's progress handler"))?
            .set_progress_handler(INTERRUPT_CHECK_STEPS, move || !triggered());
        Ok(Canceller::Wait)
    }

    async fn disarm_interrupt(&mut self) {
        // Only fails if the worker thread is gone, and the handler with it.
        if let Ok(mut handle) = self.lock_handle().await {
            handle.remove_progress_handler();
        }
    }

    async fn commit_step(&mut self, step: SqliteStep) -> Result<(), MigrateError> {
        if let Err(source) = exec(self, script::COMMIT).await {
            let _ = self.rollback_step(step).await;
            return Err(MigrateError::Database {
                action: "committing the revision".to_string(),
                source,
            });
        }
        restore(self, &step).await;
        Ok(())
    }

    async fn rollback_step(&mut self, step: SqliteStep) -> Result<(), MigrateError> {
        let result = match exec(self, script::ROLLBACK).await {
            // SQLite rolls the whole transaction back by itself when an
            // interrupted statement or certain errors (SQLITE_FULL,
            // SQLITE_IOERR…) end it: then nothing is left to roll back.
            Err(sqlx::Error::Database(e)) if e.message().contains("no transaction is active") => {
                Ok(())
            }
            other => other.map_err(db_err("rolling the revision back")),
        };
        restore(self, &step).await;
        result
    }
}

/// Puts foreign-key enforcement back as it was. Best effort: it only fails
/// if the connection is gone, and then the setting is gone with it.
async fn restore(conn: &mut SqliteConnection, step: &SqliteStep) {
    if step.foreign_keys_were_on {
        let _ = exec(conn, script::FOREIGN_KEYS_ON).await;
    }
}
