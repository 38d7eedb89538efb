//! Opening the database a command works on.
//!
//! Commands that only read (`check`, `diff`, `current`, `inspect`,
//! `autogen`) open SQLite read-only and never create the file: `check` must
//! write nothing, so a database that does not exist yet reads as an empty
//! one. Commands that write (`upgrade`, `downgrade`, `stamp`) create it.

use anyhow::{Context, Result, bail};
use retort_schema::Dialect;
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection};
use std::str::FromStr;
use std::time::Duration;

use crate::config::DatabaseUrl;
use retort_introspect::IntrospectOptions;
use retort_migrate::{
    DowngradeTarget, Event, MigrateError, PartialRevision, RevisionGraph, RunOptions,
    SecondConnection, UpgradeTarget, VersionTable,
};
use retort_schema::Schema;

/// How long a SQLite connection waits for another process's lock, e.g.
/// while a concurrent `retort upgrade` applies a revision.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// Whether the command may change the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    ReadOnly,
    ReadWrite,
}

/// An open database connection, one variant per supported backend.
pub enum Database {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
    Mysql(MySqlConnection),
}

/// Evaluates `$body` with `$conn` bound to the connection inside `$db`,
/// whichever backend it is: code that is generic over the connection is
/// written once instead of once per variant.
macro_rules! on_connection {
    ($db:expr, $conn:ident => $body:expr) => {
        match $db {
            Database::Sqlite($conn) => $body,
            Database::Postgres($conn) => $body,
            Database::Mysql($conn) => $body,
        }
    };
}

impl Database {
    /// Connects to `url`; errors show the URL redacted.
    pub async fn open(url: &DatabaseUrl, access: Access) -> Result<Database> {
        match url.dialect() {
            Dialect::Sqlite => open_sqlite(url, access).await.map(Database::Sqlite),
            Dialect::Postgres => open_postgres(url).await.map(Database::Postgres),
            Dialect::Mysql => open_mysql(url).await.map(Database::Mysql),
        }
    }

    /// Where the runner opens a second connection to cancel its running
    /// statement on an interrupt: the same server and credentials. SQLite
    /// needs none (the runner's own connection stops the statement).
    pub fn second_connection(url: &DatabaseUrl) -> Result<Option<SecondConnection>> {
        Ok(match url.dialect() {
            Dialect::Sqlite => None,
            Dialect::Postgres => Some(SecondConnection::Postgres(
                PgConnectOptions::from_str(url.expose())
                    .with_context(|| format!("invalid PostgreSQL URL {url}"))?,
            )),
            Dialect::Mysql => Some(SecondConnection::Mysql(mysql_options(url)?)),
        })
    }

    /// The backend this connection talks to.
    pub fn dialect(&self) -> Dialect {
        match self {
            Database::Sqlite(_) => Dialect::Sqlite,
            Database::Postgres(_) => Dialect::Postgres,
            Database::Mysql(_) => Dialect::Mysql,
        }
    }

    /// Reads the live schema.
    pub async fn introspect(&mut self, options: &IntrospectOptions) -> Result<Schema> {
        Ok(match self {
            Database::Sqlite(conn) => retort_introspect::introspect_sqlite(conn, options).await?,
            Database::Postgres(conn) => {
                retort_introspect::introspect_postgres(conn, options).await?
            }
            Database::Mysql(conn) => retort_introspect::introspect_mysql(conn, options).await?,
        })
    }

    /// The revisions the version table records as applied.
    pub async fn current(&mut self, table: &VersionTable) -> Result<Vec<String>, MigrateError> {
        on_connection!(self, conn => retort_migrate::current(conn, table).await)
    }

    /// Revisions a non-transactional database (MySQL) has only partly applied.
    pub async fn partial_progress(
        &mut self,
        table: &VersionTable,
    ) -> Result<Vec<PartialRevision>, MigrateError> {
        on_connection!(self, conn => retort_migrate::partial_progress(conn, table).await)
    }

    pub async fn upgrade(
        &mut self,
        graph: &RevisionGraph,
        target: &UpgradeTarget,
        options: &RunOptions,
        on_event: &mut (dyn FnMut(Event) + Send),
    ) -> Result<(), MigrateError> {
        on_connection!(self, conn => {
            retort_migrate::upgrade(conn, graph, target, options, on_event).await
        })
    }

    pub async fn downgrade(
        &mut self,
        graph: &RevisionGraph,
        target: &DowngradeTarget,
        options: &RunOptions,
        on_event: &mut (dyn FnMut(Event) + Send),
    ) -> Result<(), MigrateError> {
        on_connection!(self, conn => {
            retort_migrate::downgrade(conn, graph, target, options, on_event).await
        })
    }

    /// Records `spec` as the applied revisions without running anything.
    pub async fn stamp(
        &mut self,
        graph: &RevisionGraph,
        spec: &str,
        options: &RunOptions,
        on_event: &mut (dyn FnMut(Event) + Send),
    ) -> Result<(), MigrateError> {
        on_connection!(self, conn => {
            retort_migrate::stamp(conn, graph, spec, options, on_event).await
        })
    }

    /// Whether `table` (in the connection's default schema) holds at least
    /// one row: a cheap probe that stops at the first row.
    pub async fn has_rows(&mut self, table: &str) -> Result<bool> {
        let sql = format!(
            "SELECT 1 FROM {} LIMIT 1",
            self.dialect().quote_identifier(table)
        );
        let found = on_connection!(self, conn => {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_optional(&mut *conn)
                .await
                .map(|row| row.is_some())
        });
        found.with_context(|| format!("cannot check whether table {table} has rows"))
    }

    /// The single integer `sql` (one `SELECT count(*) …`) returns.
    pub async fn fetch_count(&mut self, sql: &str) -> Result<i64, sqlx::Error> {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        on_connection!(self, conn => sqlx::query_scalar(sql).fetch_one(&mut *conn).await)
    }

    /// Runs `sql` (one statement, or several where the driver allows).
    pub async fn execute(&mut self, sql: &str) -> Result<(), sqlx::Error> {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        on_connection!(self, conn => sqlx::raw_sql(sql).execute(&mut *conn).await.map(drop))
    }

    /// Connects to the database `name` on the server `url` points at, with
    /// the same credentials (PostgreSQL, MySQL). SQLite has no server:
    /// there `name` is ignored and a fresh in-memory database is opened.
    pub async fn open_named(url: &DatabaseUrl, name: &str) -> Result<Database> {
        let context = || format!("cannot connect to database {name} on {url}");
        Ok(match url.dialect() {
            Dialect::Sqlite => Database::Sqlite(
                SqliteConnectOptions::from_str("sqlite::memory:")?
                    .connect()
                    .await
                    .with_context(context)?,
            ),
            Dialect::Postgres => Database::Postgres(
                PgConnectOptions::from_str(url.expose())
                    .with_context(|| format!("invalid PostgreSQL URL {url}"))?
                    .database(name)
                    .connect()
                    .await
                    .with_context(context)?,
            ),
            Dialect::Mysql => Database::Mysql(
                mysql_options(url)?
                    .database(name)
                    .connect()
                    .await
                    .with_context(context)?,
            ),
        })
    }

    pub async fn close(self) {
        on_connection!(self, conn => {
            let _ = conn.close().await;
        })
    }
}

async fn open_sqlite(url: &DatabaseUrl, access: Access) -> Result<SqliteConnection> {
    let options = SqliteConnectOptions::from_str(url.expose())
        .with_context(|| format!("invalid SQLite URL {url}"))?
        .busy_timeout(SQLITE_BUSY_TIMEOUT);
    let in_memory = options.get_filename().as_os_str().is_empty()
        || options
            .get_filename()
            .to_string_lossy()
            .contains(":memory:");
    let filename = options.get_filename().to_path_buf();
    if !in_memory
        && filename
            .parent()
            .is_some_and(|dir| !dir.as_os_str().is_empty() && !dir.is_dir())
    {
        bail!(
            "cannot open database {url}: the folder {} does not exist",
            filename
                .parent()
                .map_or_else(String::new, |d| d.display().to_string())
        );
    }
    let options = match access {
        Access::ReadWrite => options.create_if_missing(true),
        Access::ReadOnly if !in_memory && !options.get_filename().exists() => {
            // Nothing to read: an empty in-memory database stands in, so
            // read-only commands neither fail nor create the file.
            SqliteConnectOptions::from_str("sqlite::memory:")?
        }
        // A process that died inside a transaction leaves a hot journal,
        // which only a read-write connection can roll back: read-only, every
        // read fails with SQLITE_READONLY_ROLLBACK (776). Opening read-write
        // (never creating) lets SQLite restore the last committed state on
        // the first read; the command itself still writes nothing.
        Access::ReadOnly if needs_recovery(&filename) => options,
        Access::ReadOnly => options.read_only(true),
    };
    options
        .connect()
        .await
        .with_context(|| format!("cannot open database {url}"))
}

/// Whether the SQLite file at `db` has a rollback journal or write-ahead
/// log next to it that must be replayed or rolled back before reading.
fn needs_recovery(db: &std::path::Path) -> bool {
    ["-journal", "-wal"].iter().any(|suffix| {
        let mut name = db.as_os_str().to_os_string();
        name.push(suffix);
        std::fs::metadata(name).is_ok_and(|m| m.len() > 0)
    })
}

/// Connects to PostgreSQL. Read-only commands need no special mode: they
/// only run catalog queries and never create the version table.
async fn open_postgres(url: &DatabaseUrl) -> Result<PgConnection> {
    let options = PgConnectOptions::from_str(url.expose())
        .with_context(|| format!("invalid PostgreSQL URL {url}"))?;
    options
        .connect()
        .await
        .with_context(|| format!("cannot connect to database {url}"))
}

/// Connects to MySQL or MariaDB (`mysql://` or `mariadb://`).
async fn open_mysql(url: &DatabaseUrl) -> Result<MySqlConnection> {
    let mut conn = mysql_options(url)?
        .connect()
        .await
        .with_context(|| format!("cannot connect to database {url}"))?;
    // Rendered string literals escape a backslash as `\\`, which
    // NO_BACKSLASH_ESCAPES (a server or account default) would read as two.
    sqlx::raw_sql(retort_migrate::mysql::script::CLEAR_NO_BACKSLASH_ESCAPES)
        .execute(&mut conn)
        .await
        .with_context(|| format!("cannot set the session sql_mode on {url}"))?;
    Ok(conn)
}

fn mysql_options(url: &DatabaseUrl) -> Result<MySqlConnectOptions> {
    // sqlx knows the scheme as `mysql`; MariaDB speaks the same protocol.
    let text = match url.expose().strip_prefix("mariadb:") {
        Some(rest) => format!("mysql:{rest}"),
        None => url.expose().to_string(),
    };
    MySqlConnectOptions::from_str(&text).with_context(|| format!("invalid MySQL URL {url}"))
}
