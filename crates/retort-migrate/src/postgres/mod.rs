//! The PostgreSQL backend: the exact statement sequence around each revision.
//!
//! DDL is transactional on PostgreSQL, so each revision (each transactional
//! segment, see `-- retort:transaction`) runs as
//!
//! 1. `BEGIN`, then — with [`LockMode::Transaction`] — `pg_advisory_xact_lock`;
//! 2. `CREATE TABLE IF NOT EXISTS` for the version table, then re-read it;
//! 3. the revision's statements;
//! 4. the version-table update and `COMMIT`, or `ROLLBACK` on any failure,
//!    which leaves schema and version table exactly as before.
//!
//! With [`LockMode::Session`] (the default) the whole run sits between
//! `pg_advisory_lock(key)` and `pg_advisory_unlock(key)`, so concurrent
//! runners queue and each plans from what the previous one left. The key is
//! [`advisory_lock_key`]. The wait is unbounded unless the connection sets
//! `lock_timeout`, which applies to advisory locks too.
//!
//! The version table name is never schema-qualified: it lives in the first
//! schema of the connection's `search_path`, like every unqualified table
//! the revisions create.

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, Row};

use crate::MigrateError;
use crate::backend::Backend;
use crate::error::FkViolation;
use crate::interrupt::{Canceller, Interrupt, SecondConnection};
use crate::options::{LockMode, VersionTable};
use retort_schema::fnv1a_64;

/// The SQL text the runner sends, shared by the online runner and `--sql`
/// mode so both do exactly the same thing.
pub mod script {
    use crate::options::VersionTable;

    /// Opens a revision's transaction.
    pub const BEGIN: &str = "BEGIN";
    /// Ends a revision's transaction.
    pub const COMMIT: &str = "COMMIT";
    /// Undoes a revision's transaction.
    pub const ROLLBACK: &str = "ROLLBACK";
    /// Whether the (unqualified, search_path-resolved) version table exists;
    /// `$1` is the quoted name. A catalog lookup, not a failing query, so it
    /// never aborts a transaction.
    pub const VERSION_TABLE_EXISTS: &str = "SELECT to_regclass($1) IS NOT NULL";
    /// Takes the session advisory lock; `$1` is [`super::advisory_lock_key`].
    pub const LOCK: &str = "SELECT pg_advisory_lock($1)";
    /// Releases the session advisory lock.
    pub const UNLOCK: &str = "SELECT pg_advisory_unlock($1)";
    /// Takes the transaction-scoped advisory lock (released at COMMIT/ROLLBACK).
    pub const XACT_LOCK: &str = "SELECT pg_advisory_xact_lock($1)";
    /// The server process of this session, for cancelling its statement.
    pub const BACKEND_PID: &str = "SELECT pg_backend_pid()";
    /// Cancels the statement the session `$1` runs (from another session).
    pub const CANCEL_BACKEND: &str = "SELECT pg_cancel_backend($1)";

    /// [`LOCK`] with the key inlined, for offline scripts.
    pub fn lock_literal(key: i64) -> String {
        format!("SELECT pg_advisory_lock({key})")
    }

    /// [`UNLOCK`] with the key inlined, for offline scripts.
    pub fn unlock_literal(key: i64) -> String {
        format!("SELECT pg_advisory_unlock({key})")
    }

    /// [`XACT_LOCK`] with the key inlined, for offline scripts.
    pub fn xact_lock_literal(key: i64) -> String {
        format!("SELECT pg_advisory_xact_lock({key})")
    }

    /// `CREATE TABLE IF NOT EXISTS` for the version table.
    pub fn create_version_table(table: &VersionTable) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {} (version_num VARCHAR(32) NOT NULL PRIMARY KEY)",
            table.quoted()
        )
    }

    /// Reads the version table.
    pub fn read_versions(table: &VersionTable) -> String {
        format!(
            "SELECT version_num FROM {} ORDER BY version_num",
            table.quoted()
        )
    }

    /// Statements turning version-table rows `old` into `new` (standard
    /// SQL, as on SQLite; ids are validated hex).
    pub fn version_updates(table: &VersionTable, old: &[String], new: &[String]) -> Vec<String> {
        crate::backend::standard_version_updates(table, old, new)
    }
}

/// The advisory-lock key for a version table: the 64-bit FNV-1a hash of
/// the bytes `retort:` followed by the bare table name, read as a signed
/// integer (`bigint`). Stable across retort versions and platforms, so
/// every runner (and an offline script run by psql) on one database agrees;
/// runners of the same table name in different schemas share the key,
/// which only makes them wait for each other.
pub fn advisory_lock_key(table: &VersionTable) -> i64 {
    let hash = fnv1a_64(b"retort:".iter().chain(table.name().as_bytes()).copied());
    i64::from_ne_bytes(hash.to_ne_bytes())
}

async fn exec(conn: &mut PgConnection, sql: &str) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(AssertSqlSafe(sql))
        .execute(&mut *conn)
        .await
        .map(|_| ())
}

fn db_err(action: impl Into<String>) -> impl FnOnce(sqlx::Error) -> MigrateError {
    let action = action.into();
    move |source| MigrateError::Database { action, source }
}

/// Cancels the statement the session with server process `pid` runs, from
/// a new connection opened with `options` (closed again right after).
pub(crate) async fn cancel_backend(
    options: &PgConnectOptions,
    pid: i32,
) -> Result<(), MigrateError> {
    let mut conn = options
        .connect()
        .await
        .map_err(db_err("connecting to cancel the running statement"))?;
    let cancelled = sqlx::query(script::CANCEL_BACKEND)
        .bind(pid)
        .execute(&mut conn)
        .await
        .map_err(db_err(
            "cancelling the running statement (pg_cancel_backend)",
        ));
    let _ = conn.close().await;
    cancelled.map(drop)
}

impl Backend for PgConnection {
    type Step = ();

    const DIALECT: retort_schema::Dialect = retort_schema::Dialect::Postgres;

    async fn read_versions(&mut self, table: &VersionTable) -> Result<Vec<String>, MigrateError> {
        let exists: bool = sqlx::query_scalar(script::VERSION_TABLE_EXISTS)
            .bind(table.quoted())
            .fetch_one(&mut *self)
            .await
            .map_err(db_err("looking for the version table"))?;
        if !exists {
            return Ok(Vec::new());
        }
        let rows = sqlx::raw_sql(AssertSqlSafe(script::read_versions(table)))
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

    async fn lock(&mut self, table: &VersionTable, mode: LockMode) -> Result<(), MigrateError> {
        let (sql, action) = match mode {
            LockMode::Session => (script::LOCK, "taking the advisory lock (pg_advisory_lock)"),
            LockMode::Transaction => (
                script::XACT_LOCK,
                "taking the advisory lock (pg_advisory_xact_lock)",
            ),
        };
        sqlx::query(sql)
            .bind(advisory_lock_key(table))
            .execute(&mut *self)
            .await
            .map_err(db_err(action))?;
        Ok(())
    }

    async fn unlock(&mut self, table: &VersionTable) -> Result<(), MigrateError> {
        // Returns false if the lock was not held; nothing to undo then.
        sqlx::query(script::UNLOCK)
            .bind(advisory_lock_key(table))
            .execute(&mut *self)
            .await
            .map_err(db_err("releasing the advisory lock (pg_advisory_unlock)"))?;
        Ok(())
    }

    async fn begin_step(
        &mut self,
        _table: &VersionTable,
        _rev_id: &str,
    ) -> Result<(), MigrateError> {
        exec(self, script::BEGIN)
            .await
            .map_err(db_err("starting the revision's transaction (BEGIN)"))
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
        // Constraints are enforced as statements run; deferred ones are
        // checked by COMMIT, whose failure rolls the revision back.
        Ok(Vec::new())
    }

    fn version_updates(table: &VersionTable, old: &[String], new: &[String]) -> Vec<String> {
        script::version_updates(table, old, new)
    }

    async fn prepare_interrupt(
        &mut self,
        interrupt: &Interrupt,
        lock: LockMode,
    ) -> Result<Canceller, MigrateError> {
        let Some(SecondConnection::Postgres(options)) = interrupt.second_connection() else {
            return Ok(Canceller::Wait);
        };
        if lock == LockMode::Transaction {
            // Behind a transaction-pooling proxy (the reason for this mode)
            // the server process changes between transactions, so a pid
            // read now could name another client's session.
            return Ok(Canceller::Wait);
        }
        let pid: i32 = sqlx::query_scalar(script::BACKEND_PID)
            .fetch_one(&mut *self)
            .await
            .map_err(db_err("reading the session's pg_backend_pid()"))?;
        Ok(Canceller::Postgres {
            options: Box::new(options.clone()),
            pid,
        })
    }

    async fn commit_step(&mut self, _step: ()) -> Result<(), MigrateError> {
        if let Err(source) = exec(self, script::COMMIT).await {
            // A failed COMMIT (e.g. a deferred constraint) has already
            // rolled back; the ROLLBACK just makes sure no transaction is left.
            let _ = exec(self, script::ROLLBACK).await;
            return Err(MigrateError::Database {
                action: "committing the revision (it was rolled back)".to_string(),
                source,
            });
        }
        Ok(())
    }

    async fn rollback_step(&mut self, _step: ()) -> Result<(), MigrateError> {
        exec(self, script::ROLLBACK)
            .await
            .map_err(db_err("rolling the revision back"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advisory_lock_key_is_stable() {
        // Pinned: changing it would let old and new retort versions run
        // side by side on one database without excluding each other.
        assert_eq!(
            advisory_lock_key(&VersionTable::default()),
            EXPECTED_DEFAULT_KEY
        );
        assert_ne!(
            advisory_lock_key(&VersionTable::new("other_version").unwrap()),
            EXPECTED_DEFAULT_KEY
        );
    }

    // FNV-1a 64 of b"retort:retort_version", computed independently.
    const EXPECTED_DEFAULT_KEY: i64 = 5_664_315_863_396_273_194;
}
