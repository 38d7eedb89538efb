//! Test helpers for retort: a temporary project that drives the real
//! `retort` binary, and blocking SQLite helpers to seed and read the
//! project's database; [`TestDatabase`], a throwaway database on a real
//! server (PostgreSQL now) named by an environment variable.
//!
//! Tests talk to real SQLite files; nothing here mocks a database.

mod servers;

pub use servers::{REQUIRE_SERVERS_VAR, Server, TestDatabase};

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection, MySqlConnection, PgConnection, Row};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A project folder with a retort.toml pointing at `app.db` and the models
/// in `schema.sql`, deleted when dropped.
pub struct TempProject {
    dir: tempfile::TempDir,
    binary: PathBuf,
}

/// What one run of the binary printed, and how it exited.
#[derive(Debug)]
pub struct RunResult {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl RunResult {
    fn from_output(output: Output) -> Self {
        RunResult {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Waits for a child started by [`TempProject::spawn_retort`]; a child
    /// ended by a signal has code -1.
    pub fn from_child(child: std::process::Child) -> Self {
        match child.wait_with_output() {
            Ok(output) => RunResult::from_output(output),
            Err(err) => panic!("cannot wait for retort: {err}"),
        }
    }

    /// Panics with both streams unless the run exited with `code`.
    pub fn expect_code(self, code: i32, what: &str) -> Self {
        assert_eq!(
            self.code, code,
            "{what}: expected exit {code}, got {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    /// Panics unless the run succeeded.
    pub fn success(self, what: &str) -> Self {
        self.expect_code(0, what)
    }
}

impl TempProject {
    /// An empty project folder; `binary` is the `retort` executable
    /// (`env!("CARGO_BIN_EXE_retort")` in the CLI's tests).
    pub fn empty(binary: impl Into<PathBuf>) -> Self {
        let dir = match tempfile::Builder::new().prefix("retort-test-").tempdir() {
            Ok(dir) => dir,
            Err(err) => panic!("cannot create a temp dir: {err}"),
        };
        TempProject {
            dir,
            binary: binary.into(),
        }
    }

    /// A project with retort.toml (SQLite `app.db`, models `schema.sql`,
    /// migrations in `migrations/`), the given models and an empty
    /// `migrations/versions/`.
    pub fn sqlite(binary: impl Into<PathBuf>, models: &str) -> Self {
        TempProject::with_url(binary, models, "sqlite://app.db")
    }

    /// A project like [`TempProject::sqlite`] whose retort.toml points at
    /// `url` (e.g. a [`TestDatabase`]'s).
    pub fn with_url(binary: impl Into<PathBuf>, models: &str, url: &str) -> Self {
        let project = TempProject::empty(binary);
        project.write(
            "retort.toml",
            &format!(
                "[database]\nurl = \"{url}\"\n\n[models]\npaths = [\"schema.sql\"]\n\n[migrations]\ndir = \"migrations\"\n"
            ),
        );
        project.write("schema.sql", models);
        project.mkdir("migrations/versions");
        project
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The project's SQLite database file.
    pub fn db_path(&self) -> PathBuf {
        self.path().join("app.db")
    }

    /// Writes `text` to `relative` inside the project, creating folders.
    pub fn write(&self, relative: &str, text: &str) {
        let path = self.path().join(relative);
        if let Some(parent) = path.parent() {
            self.mkdir_abs(parent);
        }
        if let Err(err) = std::fs::write(&path, text) {
            panic!("cannot write {}: {err}", path.display());
        }
    }

    /// Reads `relative` inside the project.
    pub fn read(&self, relative: &str) -> String {
        let path = self.path().join(relative);
        match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) => panic!("cannot read {}: {err}", path.display()),
        }
    }

    pub fn mkdir(&self, relative: &str) {
        self.mkdir_abs(&self.path().join(relative));
    }

    fn mkdir_abs(&self, path: &Path) {
        if let Err(err) = std::fs::create_dir_all(path) {
            panic!("cannot create {}: {err}", path.display());
        }
    }

    /// The revision files, sorted by name.
    pub fn revision_files(&self) -> Vec<PathBuf> {
        let dir = self.path().join("migrations/versions");
        let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
            Ok(entries) => entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "sql"))
                .collect(),
            Err(_) => Vec::new(),
        };
        files.sort();
        files
    }

    /// Brings the database to the models: `autogen -m MESSAGE`, then
    /// `upgrade head`, both expected to succeed.
    pub fn autogen_and_upgrade(&self, message: &str) {
        self.retort(&["autogen", "-m", message]).success("autogen");
        self.retort(&["upgrade", "head"]).success("upgrade");
    }

    /// Runs `retort ARGS` in the project folder, without DATABASE_URL.
    pub fn retort(&self, args: &[&str]) -> RunResult {
        self.retort_with_env(args, &[])
    }

    /// Runs `retort ARGS` in the project folder with extra environment.
    pub fn retort_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> RunResult {
        let mut command = Command::new(&self.binary);
        command
            .args(args)
            .current_dir(self.path())
            .env_remove("DATABASE_URL")
            .env("NO_COLOR", "1");
        for (key, value) in env {
            command.env(key, value);
        }
        match command.output() {
            Ok(output) => RunResult::from_output(output),
            Err(err) => panic!("cannot run {}: {err}", self.binary.display()),
        }
    }

    /// Starts `retort ARGS` in the project folder without waiting for it,
    /// its output piped (see [`RunResult::from_child`]); for tests that
    /// signal or kill a running command.
    pub fn spawn_retort(&self, args: &[&str]) -> std::process::Child {
        let mut command = Command::new(&self.binary);
        command
            .args(args)
            .current_dir(self.path())
            .env_remove("DATABASE_URL")
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        match command.spawn() {
            Ok(child) => child,
            Err(err) => panic!("cannot run {}: {err}", self.binary.display()),
        }
    }

    /// Runs SQL statements (separated by `;`, none containing one) against
    /// the project's database, creating it if needed.
    pub fn sqlite_exec(&self, sql: &str) {
        sqlite_exec(&self.db_path(), sql);
    }

    /// Every row of `query` as text cells (NULL as `NULL`).
    pub fn sqlite_rows(&self, query: &str) -> Vec<Vec<String>> {
        sqlite_rows(&self.db_path(), query)
    }
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(future),
        Err(err) => panic!("cannot start a tokio runtime: {err}"),
    }
}

async fn connect(path: &Path) -> SqliteConnection {
    match SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .connect()
        .await
    {
        Ok(conn) => conn,
        Err(err) => panic!("cannot open {}: {err}", path.display()),
    }
}

/// Runs an SQL script (several statements) on the SQLite file at `path`.
pub fn sqlite_exec(path: &Path, sql: &str) {
    block_on(async {
        let mut conn = connect(path).await;
        if let Err(err) = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(&mut conn)
            .await
        {
            panic!("cannot run SQL on {}: {err}\n{sql}", path.display());
        }
        let _ = conn.close().await;
    })
}

/// Every row of `query` on the SQLite file at `path`, as text cells.
pub fn sqlite_rows(path: &Path, query: &str) -> Vec<Vec<String>> {
    block_on(async {
        let mut conn = connect(path).await;
        let sql = format!("SELECT * FROM ({query})");
        let rows = match sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&mut conn)
            .await
        {
            Ok(rows) => rows,
            Err(err) => panic!("cannot query {}: {err}\n{query}", path.display()),
        };
        let result = rows
            .iter()
            .map(|row| {
                (0..row.len())
                    .map(|i| {
                        let text: Option<String> =
                            row.try_get_unchecked::<Option<String>, _>(i).ok().flatten();
                        text.unwrap_or_else(|| "NULL".to_string())
                    })
                    .collect()
            })
            .collect();
        let _ = conn.close().await;
        result
    })
}

/// Runs an SQL script on the database at `url` (`sqlite:`, `postgres:` or
/// `mysql:`).
pub fn db_exec(url: &str, sql: &str) {
    if let Some(path) = sqlite_path(url) {
        return sqlite_exec(Path::new(&path), sql);
    }
    let script = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()));
    let result = block_on(async {
        if is_mysql(url) {
            let mut conn = mysql_connect(url).await;
            let result = script.execute(&mut conn).await.map(|_| ());
            let _ = conn.close().await;
            result
        } else {
            let mut conn = pg_connect(url).await;
            let result = script.execute(&mut conn).await.map(|_| ());
            let _ = conn.close().await;
            result
        }
    });
    if let Err(err) = result {
        panic!("cannot run SQL: {err}\n{sql}");
    }
}

/// Every row of `query` on the database at `url`, as text cells (NULL as
/// `NULL`). On PostgreSQL and MySQL every selected column must be text:
/// cast in the query.
pub fn db_rows(url: &str, query: &str) -> Vec<Vec<String>> {
    if let Some(path) = sqlite_path(url) {
        return sqlite_rows(Path::new(&path), query);
    }
    let statement = || sqlx::AssertSqlSafe(query.to_string());
    block_on(async {
        if is_mysql(url) {
            let mut conn = mysql_connect(url).await;
            let rows = sqlx::query(statement()).fetch_all(&mut conn).await;
            let _ = conn.close().await;
            match rows {
                Ok(rows) => rows.iter().map(|row| text_cells(row, query)).collect(),
                Err(err) => panic!("cannot query: {err}\n{query}"),
            }
        } else {
            let mut conn = pg_connect(url).await;
            let rows = sqlx::query(statement()).fetch_all(&mut conn).await;
            let _ = conn.close().await;
            match rows {
                Ok(rows) => rows.iter().map(|row| text_cells(row, query)).collect(),
                Err(err) => panic!("cannot query: {err}\n{query}"),
            }
        }
    })
}

/// A row's cells as text (NULL as `NULL`).
fn text_cells<R>(row: &R, query: &str) -> Vec<String>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    (0..row.len())
        .map(|i| match row.try_get::<Option<String>, _>(i) {
            Ok(Some(text)) => text,
            Ok(None) => "NULL".to_string(),
            Err(err) => panic!("column {i} of `{query}` is not text: {err}"),
        })
        .collect()
}

fn is_mysql(url: &str) -> bool {
    url.starts_with("mysql:") || url.starts_with("mariadb:")
}

async fn mysql_connect(url: &str) -> MySqlConnection {
    match MySqlConnection::connect(url).await {
        Ok(conn) => conn,
        Err(err) => panic!("cannot connect to the test database: {err}"),
    }
}

/// The file path of a `sqlite:` URL.
fn sqlite_path(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    Some(rest.split('?').next().unwrap_or(rest).to_string())
}

async fn pg_connect(url: &str) -> PgConnection {
    match PgConnection::connect(url).await {
        Ok(conn) => conn,
        Err(err) => panic!("cannot connect to the test database: {err}"),
    }
}
