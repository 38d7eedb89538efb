//! The MySQL/MariaDB backend: statement by statement, with recorded progress.
//!
//! MySQL commits implicitly before and after every `CREATE`/`ALTER`/`DROP`
//! (<https://dev.mysql.com/doc/refman/8.0/en/implicit-commit.html>), so a
//! revision cannot be rolled back as a whole. The runner therefore runs
//! `-- retort:transaction` directives as no-ops (every statement is on its
//! own anyway) and applies each statement as
//!
//! 1. an upsert into the progress table ([`VersionTable::progress_name`],
//!    one row per partly applied revision and direction: how many
//!    statements ran, a checksum of each, and `started`, the checksum of
//!    the statement about to run), in autocommit;
//! 2. `BEGIN`, the statement, the upsert recording it as run (`started`
//!    cleared), `COMMIT`. A DDL statement commits by itself and the record
//!    follows in autocommit; a DML statement and its record commit
//!    together, so a crash can never leave DML applied but unrecorded;
//! 3. after the last statement, in one InnoDB transaction, the version-table
//!    update and the deletion of the progress row.
//!
//! A failing statement is rolled back by the server on its own (statement
//! atomicity), so after a failure at statement k exactly statements 1..k-1
//! are applied and recorded. The next run of the same revision checks that
//! those statements are unchanged (per-statement checksums) and resumes at
//! statement k; a changed one is refused ([`MigrateError::ProgressMismatch`]).
//! `retort stamp` deletes every progress row (after undoing by hand).
//!
//! A crash (kill -9) between a DDL statement's implicit commit and its
//! record leaves `started` set: the server may have committed the
//! statement for the dead client. The next run asks the catalog (see
//! [`Backend::statement_took_effect`] and the `effect` module): a statement
//! whose named objects are in the state it leaves counts as applied, one
//! whose objects are as before runs again, and one the catalog cannot judge
//! stops the run ([`MigrateError::UnverifiedStatement`]). An interrupt
//! (see [`crate::Interrupt`]) cancels the running statement with
//! `KILL QUERY` from a second connection.
//!
//! Concurrent runners are serialised by `GET_LOCK(name, 600)`, a session
//! lock named [`lock_name`] (`retort:<database>.<version table>`, at most 64
//! characters), held for the whole run whatever [`LockMode`] says, and
//! released with `RELEASE_LOCK` also after an error (the server releases it
//! when the connection closes). A runner that waited plans afterwards and
//! reports [`Event::AlreadyAtTarget`](crate::Event::AlreadyAtTarget).
//!
//! The version table and the progress table are created by `upgrade`,
//! `downgrade` and `stamp` only, checked through `information_schema` first
//! because even `CREATE TABLE IF NOT EXISTS` commits implicitly.

use std::time::Duration;

use sqlx::mysql::{MySqlConnectOptions, MySqlConnection};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, Row};

use crate::MigrateError;
use crate::backend::{Backend, Effect, PartialRevision};
use crate::error::{Direction, FkViolation};
use crate::interrupt::{Canceller, Interrupt, SecondConnection};
use crate::options::{LockMode, VersionTable};

mod effect;
use effect::{Fact, Judgement};
use retort_schema::Dialect;

/// How long a runner waits in `GET_LOCK` for another one to finish before
/// failing with [`MigrateError::LockTimeout`]. Long, because the other
/// runner may be rebuilding a large table.
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(600);

/// MySQL's limit on user-lock names, in characters.
const LOCK_NAME_MAX: usize = 64;

/// The SQL text the runner sends, shared by the online runner and `--sql`
/// mode so both do exactly the same thing.
pub mod script {
    use crate::backend::PartialRevision;
    use crate::error::Direction;
    use crate::options::VersionTable;
    use retort_schema::Dialect;

    /// Opens a statement's transaction.
    pub const BEGIN: &str = "BEGIN";
    /// Ends a statement's transaction.
    pub const COMMIT: &str = "COMMIT";
    /// Undoes a failed statement's transaction (DML only; DDL is committed).
    pub const ROLLBACK: &str = "ROLLBACK";
    /// Whether a table exists in the connection's database; `?` is the bare name.
    pub const TABLE_EXISTS: &str = "SELECT COUNT(*) FROM information_schema.tables \
         WHERE table_schema = DATABASE() AND table_name = ?";
    /// The connection's database (`NULL` when none is selected).
    pub const DATABASE: &str = "SELECT CAST(DATABASE() AS CHAR)";
    /// Takes the user lock: `?` name, `?` timeout in seconds; returns 1, or
    /// 0 on timeout.
    pub const LOCK: &str = "SELECT GET_LOCK(?, ?)";
    /// Releases the user lock; `?` is the name.
    pub const UNLOCK: &str = "SELECT RELEASE_LOCK(?)";
    /// This session's id, for `KILL QUERY` from another one.
    pub const CONNECTION_ID: &str = "SELECT CONNECTION_ID()";
    /// Whether a column exists; `?` table, `?` column.
    pub const COLUMN_EXISTS: &str = "SELECT COUNT(*) FROM information_schema.columns \
         WHERE table_schema = DATABASE() AND table_name = ? AND column_name = ?";
    /// Whether an index exists; `?` table, `?` index.
    pub const INDEX_EXISTS: &str = "SELECT COUNT(*) FROM information_schema.statistics \
         WHERE table_schema = DATABASE() AND table_name = ? AND index_name = ?";
    /// Whether a constraint exists; `?` table, `?` constraint.
    pub const CONSTRAINT_EXISTS: &str = "SELECT COUNT(*) FROM information_schema.table_constraints \
         WHERE constraint_schema = DATABASE() AND table_name = ? AND constraint_name = ?";

    /// Cancels the statement the session `id` runs (from another session).
    pub fn kill_query(id: u64) -> String {
        format!("KILL QUERY {id}")
    }

    /// Keeps the session's `sql_mode` but for `NO_BACKSLASH_ESCAPES`: the
    /// rendered string literals write a backslash as `\\` (and sea-query a
    /// quote as `\'`), which that mode would read otherwise. Every retort
    /// connection and offline script runs it first.
    pub const CLEAR_NO_BACKSLASH_ESCAPES: &str = "SET SESSION sql_mode = TRIM(BOTH ',' FROM REPLACE(CONCAT(',', @@SESSION.sql_mode, ','), ',NO_BACKSLASH_ESCAPES,', ','))";

    /// A backquoted identifier ([`Dialect::quote_identifier`]).
    pub fn quote(name: &str) -> String {
        Dialect::Mysql.quote_identifier(name)
    }

    /// A string literal ([`Dialect::quote_string`]).
    pub fn literal(text: &str) -> String {
        Dialect::Mysql.quote_string(text)
    }

    /// The lock name [`super::lock_name`] computes, as an SQL expression for
    /// offline scripts (the database is the one the script runs in).
    pub fn lock_name_expr(table: &VersionTable) -> String {
        format!(
            "LEFT(CONCAT('retort:', DATABASE(), '.', {}), {})",
            literal(table.name()),
            super::LOCK_NAME_MAX
        )
    }

    /// [`LOCK`] for offline scripts.
    pub fn lock_literal(table: &VersionTable, timeout_secs: u64) -> String {
        format!("SELECT GET_LOCK({}, {timeout_secs})", lock_name_expr(table))
    }

    /// [`UNLOCK`] for offline scripts.
    pub fn unlock_literal(table: &VersionTable) -> String {
        format!("SELECT RELEASE_LOCK({})", lock_name_expr(table))
    }

    /// `CREATE TABLE IF NOT EXISTS` for the version table.
    pub fn create_version_table(table: &VersionTable) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {} (version_num VARCHAR(32) NOT NULL PRIMARY KEY)",
            quote(table.name())
        )
    }

    /// `CREATE TABLE IF NOT EXISTS` for the progress table: one row per
    /// partly applied revision and direction; `statement_index` statements
    /// of `statement_count` ran, `checksums` holds one 16-hex-digit checksum
    /// per ran statement, space-separated.
    pub fn create_progress_table(table: &VersionTable) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {} (\
             revision VARCHAR(32) NOT NULL, \
             direction VARCHAR(4) NOT NULL, \
             statement_index INT NOT NULL, \
             statement_count INT NOT NULL, \
             checksums TEXT NOT NULL, \
             started VARCHAR(16) NULL, \
             PRIMARY KEY (revision, direction))",
            quote(&table.progress_name())
        )
    }

    /// Adds the `started` column to a progress table made by an older retort.
    pub fn add_started_column(table: &VersionTable) -> String {
        format!(
            "ALTER TABLE {} ADD COLUMN started VARCHAR(16) NULL",
            quote(&table.progress_name())
        )
    }

    /// Reads the version table.
    pub fn read_versions(table: &VersionTable) -> String {
        format!(
            "SELECT CAST(version_num AS CHAR) FROM {} ORDER BY version_num",
            quote(table.name())
        )
    }

    /// Reads the progress table; `started` says whether it has the
    /// `started` column (older retorts made it without).
    pub fn read_progress(table: &VersionTable, started: bool) -> String {
        format!(
            "SELECT CAST(revision AS CHAR), CAST(direction AS CHAR), statement_index, \
             statement_count, CAST(checksums AS CHAR), {} FROM {} ORDER BY revision, direction",
            if started {
                "CAST(started AS CHAR)"
            } else {
                "CAST(NULL AS CHAR)"
            },
            quote(&table.progress_name())
        )
    }

    /// Records `progress` with its started mark (insert or replace its
    /// row), as the online runner does before and after each statement.
    pub fn record_progress(table: &VersionTable, progress: &PartialRevision) -> String {
        format!(
            "INSERT INTO {} (revision, direction, statement_index, statement_count, checksums, started) \
             VALUES ({}, {}, {}, {}, {}, {}) ON DUPLICATE KEY UPDATE \
             statement_index = VALUES(statement_index), statement_count = VALUES(statement_count), \
             checksums = VALUES(checksums), started = VALUES(started)",
            quote(&table.progress_name()),
            literal(&progress.id),
            literal(progress.direction.section()),
            progress.applied,
            progress.count,
            literal(&progress.checksums.join(" ")),
            progress
                .started
                .as_deref()
                .map_or_else(|| "NULL".to_string(), literal)
        )
    }

    /// Records `progress` (insert or replace its row).
    pub fn write_progress(table: &VersionTable, progress: &PartialRevision) -> String {
        format!(
            "INSERT INTO {} (revision, direction, statement_index, statement_count, checksums) \
             VALUES ({}, {}, {}, {}, {}) ON DUPLICATE KEY UPDATE \
             statement_index = VALUES(statement_index), statement_count = VALUES(statement_count), \
             checksums = VALUES(checksums)",
            quote(&table.progress_name()),
            literal(&progress.id),
            literal(progress.direction.section()),
            progress.applied,
            progress.count,
            literal(&progress.checksums.join(" "))
        )
    }

    /// Deletes the progress row of one revision and direction, or all rows.
    pub fn clear_progress(table: &VersionTable, which: Option<(&str, Direction)>) -> String {
        let name = quote(&table.progress_name());
        match which {
            Some((id, direction)) => format!(
                "DELETE FROM {name} WHERE revision = {} AND direction = {}",
                literal(id),
                literal(direction.section())
            ),
            None => format!("DELETE FROM {name}"),
        }
    }

    /// Statements turning version-table rows `old` into `new`.
    pub fn version_updates(table: &VersionTable, old: &[String], new: &[String]) -> Vec<String> {
        let name = quote(table.name());
        let mut out = Vec::new();
        for id in old.iter().filter(|id| !new.contains(id)) {
            out.push(format!(
                "DELETE FROM {name} WHERE version_num = {}",
                literal(id)
            ));
        }
        for id in new.iter().filter(|id| !old.contains(id)) {
            out.push(format!(
                "INSERT INTO {name} (version_num) VALUES ({})",
                literal(id)
            ));
        }
        out
    }
}

async fn exec(conn: &mut MySqlConnection, sql: &str) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(AssertSqlSafe(sql))
        .execute(&mut *conn)
        .await
        .map(|_| ())
}

fn db_err(action: impl Into<String>) -> impl FnOnce(sqlx::Error) -> MigrateError {
    let action = action.into();
    move |source| MigrateError::Database { action, source }
}

async fn table_exists(conn: &mut MySqlConnection, name: &str) -> Result<bool, MigrateError> {
    let n: i64 = sqlx::query_scalar(script::TABLE_EXISTS)
        .bind(name)
        .fetch_one(&mut *conn)
        .await
        .map_err(db_err(format!("looking for table {name}")))?;
    Ok(n > 0)
}

/// The name of the runner's user lock for `table` on this connection's
/// database: `retort:<database>.<table>`, cut to MySQL's 64-character limit
/// (two long names sharing a prefix then share the lock, which only makes
/// them wait for each other). User locks are server-wide, hence the database.
pub async fn lock_name(
    conn: &mut MySqlConnection,
    table: &VersionTable,
) -> Result<String, MigrateError> {
    let database: Option<String> = sqlx::query_scalar(script::DATABASE)
        .fetch_one(&mut *conn)
        .await
        .map_err(db_err("reading the connection's database"))?;
    let database = database.ok_or(MigrateError::NoDatabase)?;
    Ok(format!("retort:{database}.{}", table.name())
        .chars()
        .take(LOCK_NAME_MAX)
        .collect())
}

/// Takes the runner's lock, waiting at most `timeout` (the runner uses
/// [`LOCK_TIMEOUT`]).
pub async fn lock_with_timeout(
    conn: &mut MySqlConnection,
    table: &VersionTable,
    timeout: Duration,
) -> Result<(), MigrateError> {
    let name = lock_name(conn, table).await?;
    // GET_LOCK takes whole (or fractional) seconds; round up so a short
    // timeout never becomes 0, which would not wait at all.
    let secs = timeout.as_secs() + u64::from(timeout.subsec_nanos() > 0);
    let got: Option<i64> = sqlx::query_scalar(script::LOCK)
        .bind(&name)
        .bind(secs)
        .fetch_one(&mut *conn)
        .await
        .map_err(db_err(format!("taking the lock {name} (GET_LOCK)")))?;
    match got {
        Some(1) => Ok(()),
        _ => Err(MigrateError::LockTimeout {
            name,
            waited: Duration::from_secs(secs),
        }),
    }
}

async fn count(
    conn: &mut MySqlConnection,
    sql: &'static str,
    a: &str,
    b: &str,
) -> Result<bool, MigrateError> {
    let n: i64 = sqlx::query_scalar(sql)
        .bind(a)
        .bind(b)
        .fetch_one(&mut *conn)
        .await
        .map_err(db_err(format!("looking up {b} of {a} in the catalog")))?;
    Ok(n > 0)
}

async fn has_started_column(
    conn: &mut MySqlConnection,
    table: &VersionTable,
) -> Result<bool, MigrateError> {
    count(
        conn,
        script::COLUMN_EXISTS,
        &table.progress_name(),
        "started",
    )
    .await
}

/// Whether `fact` holds in the connection's database.
async fn holds(conn: &mut MySqlConnection, fact: &Fact) -> Result<bool, MigrateError> {
    Ok(match fact {
        Fact::Table { table, exists } => table_exists(conn, table).await? == *exists,
        Fact::Column {
            table,
            column,
            exists,
        } => count(conn, script::COLUMN_EXISTS, table, column).await? == *exists,
        Fact::Index {
            table,
            index,
            exists,
        } => count(conn, script::INDEX_EXISTS, table, index).await? == *exists,
        Fact::Constraint {
            table,
            constraint,
            exists,
        } => count(conn, script::CONSTRAINT_EXISTS, table, constraint).await? == *exists,
    })
}

/// Cancels the statement the session `id` runs, from a new connection
/// opened with `options` (closed again right after).
pub(crate) async fn kill_query(options: &MySqlConnectOptions, id: u64) -> Result<(), MigrateError> {
    let mut conn = options
        .connect()
        .await
        .map_err(db_err("connecting to cancel the running statement"))?;
    let killed = exec(&mut conn, &script::kill_query(id))
        .await
        .map_err(db_err("cancelling the running statement (KILL QUERY)"));
    let _ = conn.close().await;
    killed
}

impl Backend for MySqlConnection {
    type Step = ();

    const DIALECT: Dialect = Dialect::Mysql;

    async fn read_versions(&mut self, table: &VersionTable) -> Result<Vec<String>, MigrateError> {
        // Look in the catalog first: a missing table is "base", and reading
        // must never create anything.
        if !table_exists(self, table.name()).await? {
            return Ok(Vec::new());
        }
        let action = format!("reading the version table {}", table.name());
        let rows = sqlx::raw_sql(AssertSqlSafe(script::read_versions(table)))
            .fetch_all(&mut *self)
            .await
            .map_err(db_err(action.clone()))?;
        rows.iter()
            .map(|r| r.try_get::<String, _>(0))
            .collect::<Result<Vec<_>, _>>()
            .map_err(db_err(action))
    }

    async fn lock(&mut self, table: &VersionTable, mode: LockMode) -> Result<(), MigrateError> {
        match mode {
            LockMode::Session => lock_with_timeout(self, table, LOCK_TIMEOUT).await,
            // The runner holds the session lock on MySQL whatever the mode:
            // without transactional DDL there is no per-transaction lock.
            LockMode::Transaction => Ok(()),
        }
    }

    async fn unlock(&mut self, table: &VersionTable) -> Result<(), MigrateError> {
        let name = lock_name(self, table).await?;
        // Returns 0 or NULL if the lock was not held; nothing to undo then.
        sqlx::query(script::UNLOCK)
            .bind(&name)
            .execute(&mut *self)
            .await
            .map_err(db_err(format!("releasing the lock {name} (RELEASE_LOCK)")))?;
        Ok(())
    }

    async fn begin_step(
        &mut self,
        _table: &VersionTable,
        _rev_id: &str,
    ) -> Result<(), MigrateError> {
        exec(self, script::BEGIN)
            .await
            .map_err(db_err("starting a transaction (BEGIN)"))
    }

    async fn create_version_table(&mut self, table: &VersionTable) -> Result<(), MigrateError> {
        // Only when missing: CREATE TABLE commits implicitly even with IF
        // NOT EXISTS, which would end an open transaction.
        let progress = table.progress_name();
        let wanted = [
            (
                table.name().to_string(),
                script::create_version_table(table),
            ),
            (progress, script::create_progress_table(table)),
        ];
        for (name, sql) in wanted {
            if !table_exists(self, &name).await? {
                exec(self, &sql)
                    .await
                    .map_err(db_err(format!("creating the table {name}")))?;
            }
        }
        if !has_started_column(self, table).await? {
            exec(self, &script::add_started_column(table))
                .await
                .map_err(db_err(format!(
                    "adding the started column to {}",
                    table.progress_name()
                )))?;
        }
        Ok(())
    }

    async fn execute(&mut self, sql: &str) -> Result<(), sqlx::Error> {
        exec(self, sql).await
    }

    async fn integrity_check(&mut self) -> Result<Vec<FkViolation>, MigrateError> {
        // InnoDB checks foreign keys as each statement runs.
        Ok(Vec::new())
    }

    fn version_updates(table: &VersionTable, old: &[String], new: &[String]) -> Vec<String> {
        script::version_updates(table, old, new)
    }

    async fn commit_step(&mut self, _step: ()) -> Result<(), MigrateError> {
        exec(self, script::COMMIT)
            .await
            .map_err(db_err("committing (COMMIT)"))
    }

    async fn rollback_step(&mut self, _step: ()) -> Result<(), MigrateError> {
        exec(self, script::ROLLBACK)
            .await
            .map_err(db_err("rolling back (ROLLBACK)"))
    }

    async fn read_progress(
        &mut self,
        table: &VersionTable,
    ) -> Result<Vec<PartialRevision>, MigrateError> {
        let name = table.progress_name();
        if !table_exists(self, &name).await? {
            return Ok(Vec::new());
        }
        let action = format!("reading the progress table {name}");
        let started = has_started_column(self, table).await?;
        let rows = sqlx::raw_sql(AssertSqlSafe(script::read_progress(table, started)))
            .fetch_all(&mut *self)
            .await
            .map_err(db_err(action.clone()))?;
        let mut out = Vec::new();
        for row in &rows {
            let get = |source| MigrateError::Database {
                action: action.clone(),
                source,
            };
            let direction: String = row.try_get(1).map_err(get)?;
            let applied: i32 = row.try_get(2).map_err(get)?;
            let count: i32 = row.try_get(3).map_err(get)?;
            let checksums: String = row.try_get(4).map_err(get)?;
            out.push(PartialRevision {
                id: row.try_get(0).map_err(get)?,
                direction: if direction == Direction::Downgrade.section() {
                    Direction::Downgrade
                } else {
                    Direction::Upgrade
                },
                applied: usize::try_from(applied).unwrap_or(0),
                count: usize::try_from(count).unwrap_or(0),
                checksums: checksums.split_whitespace().map(str::to_string).collect(),
                started: row.try_get(5).map_err(get)?,
            });
        }
        Ok(out)
    }

    async fn write_progress(
        &mut self,
        table: &VersionTable,
        progress: &PartialRevision,
    ) -> Result<(), MigrateError> {
        exec(self, &script::record_progress(table, progress))
            .await
            .map_err(db_err(format!(
                "recording progress in {}",
                table.progress_name()
            )))
    }

    async fn statement_took_effect(&mut self, sql: &str) -> Result<Effect, MigrateError> {
        let facts = match effect::judge(sql) {
            Judgement::Transactional => return Ok(Effect::NotApplied),
            Judgement::Unknown(check) => return Ok(Effect::Unknown(check)),
            Judgement::Facts(facts) => facts,
        };
        let mut held = 0;
        for fact in &facts {
            if holds(self, fact).await? {
                held += 1;
            }
        }
        Ok(if held == facts.len() {
            Effect::Applied
        } else if held == 0 {
            Effect::NotApplied
        } else {
            Effect::Unknown(format!(
                "{held} of the {} changes it makes are in place and the others are not",
                facts.len()
            ))
        })
    }

    async fn prepare_interrupt(
        &mut self,
        interrupt: &Interrupt,
        _lock: LockMode,
    ) -> Result<Canceller, MigrateError> {
        let Some(SecondConnection::Mysql(options)) = interrupt.second_connection() else {
            return Ok(Canceller::Wait);
        };
        let id: u64 = sqlx::query_scalar(script::CONNECTION_ID)
            .fetch_one(&mut *self)
            .await
            .map_err(db_err("reading the session's CONNECTION_ID()"))?;
        Ok(Canceller::Mysql {
            options: Box::new(options.clone()),
            id,
        })
    }

    async fn clear_progress(
        &mut self,
        table: &VersionTable,
        which: Option<(&str, Direction)>,
    ) -> Result<(), MigrateError> {
        exec(self, &script::clear_progress(table, which))
            .await
            .map_err(db_err(format!(
                "clearing progress in {}",
                table.progress_name()
            )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_escape_quotes_and_backslashes() {
        assert_eq!(script::literal(r"a'b\c"), r"'a''b\\c'");
    }

    #[test]
    fn progress_rows_are_upserted_and_cleared_by_revision_and_direction() {
        let table = VersionTable::default();
        let p = PartialRevision {
            id: "111111111111".to_string(),
            direction: Direction::Upgrade,
            applied: 2,
            count: 5,
            checksums: vec!["00000000000000aa".into(), "00000000000000bb".into()],
            started: None,
        };
        assert_eq!(
            script::write_progress(&table, &p),
            "INSERT INTO `retort_version_progress` (revision, direction, statement_index, statement_count, checksums) \
             VALUES ('111111111111', 'up', 2, 5, '00000000000000aa 00000000000000bb') ON DUPLICATE KEY UPDATE \
             statement_index = VALUES(statement_index), statement_count = VALUES(statement_count), \
             checksums = VALUES(checksums)"
        );
        assert_eq!(
            script::clear_progress(&table, Some(("111111111111", Direction::Downgrade))),
            "DELETE FROM `retort_version_progress` WHERE revision = '111111111111' AND direction = 'down'"
        );
    }
}
