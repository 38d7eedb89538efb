//! Throwaway databases on real database servers, for tests.
//!
//! A test asks for a [`TestDatabase`] on a [`Server`]; the server's URL comes
//! from an environment variable (`RETORT_TEST_PG_URL`, e.g.
//! `postgres://postgres@127.0.0.1:5432/test`). Each database gets a unique
//! name and is dropped when the value is. Where the variable is unset the
//! test is skipped with a visible notice on stderr, unless
//! `RETORT_TEST_REQUIRE_SERVERS=1` (set in CI), which turns the skip into a
//! failure so a misconfigured CI cannot pass by skipping everything.
//!
//! ```no_run
//! use retort_test_support::{Server, TestDatabase};
//!
//! let Some(db) = TestDatabase::new(Server::Postgres) else { return };
//! println!("connect to {}", db.url());
//! ```
//!
//! Creating and dropping run on a helper thread with its own runtime, so a
//! [`TestDatabase`] works in plain `#[test]`s and inside `#[tokio::test]`s
//! alike (a runtime cannot be blocked on from within another one).

use sqlx::{Connection, MySqlConnection, PgConnection};
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Set to `1` to make a missing server URL a test failure instead of a skip.
pub const REQUIRE_SERVERS_VAR: &str = "RETORT_TEST_REQUIRE_SERVERS";

/// A kind of database server tests can run against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Server {
    /// PostgreSQL, at the URL in `RETORT_TEST_PG_URL`.
    Postgres,
    /// MySQL or MariaDB, at the URL in `RETORT_TEST_MYSQL_URL`.
    Mysql,
}

impl Server {
    /// The environment variable holding the server's admin URL.
    pub fn url_var(self) -> &'static str {
        match self {
            Server::Postgres => "RETORT_TEST_PG_URL",
            Server::Mysql => "RETORT_TEST_MYSQL_URL",
        }
    }

    /// The admin URL from the environment; `None` after printing a notice
    /// where it is unset, or a panic where servers are required.
    pub fn admin_url(self) -> Option<String> {
        match std::env::var(self.url_var()) {
            Ok(url) if !url.trim().is_empty() => Some(url),
            _ => {
                let var = self.url_var();
                if std::env::var(REQUIRE_SERVERS_VAR).is_ok_and(|v| v == "1") {
                    panic!("{var} is not set, and {REQUIRE_SERVERS_VAR}=1 requires the server");
                }
                // Written to the stream itself, not through `eprintln!`,
                // which the test harness captures and hides for tests that
                // pass: a skip must be visible.
                let _ = std::io::Write::write_all(
                    &mut std::io::stderr(),
                    format!("skipping: {var} is not set\n").as_bytes(),
                );
                None
            }
        }
    }

    async fn execute(self, admin_url: &str, sql: String) -> Result<(), sqlx::Error> {
        match self {
            Server::Postgres => {
                let mut conn = PgConnection::connect(admin_url).await?;
                let result = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                    .execute(&mut conn)
                    .await
                    .map(|_| ());
                let _ = conn.close().await;
                result
            }
            Server::Mysql => {
                let mut conn = MySqlConnection::connect(admin_url).await?;
                let result = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                    .execute(&mut conn)
                    .await
                    .map(|_| ());
                let _ = conn.close().await;
                result
            }
        }
    }

    fn create_sql(self, name: &str) -> String {
        match self {
            Server::Postgres => format!("CREATE DATABASE \"{name}\""),
            Server::Mysql => format!("CREATE DATABASE `{name}`"),
        }
    }

    fn drop_sql(self, name: &str) -> String {
        match self {
            // FORCE (PostgreSQL 13+) ends connections a test left open.
            Server::Postgres => format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
            Server::Mysql => format!("DROP DATABASE IF EXISTS `{name}`"),
        }
    }
}

/// A uniquely named database on a test server, dropped on drop.
#[derive(Debug)]
pub struct TestDatabase {
    server: Server,
    admin_url: String,
    name: String,
    url: String,
}

impl TestDatabase {
    /// Creates a fresh database on `server`, or returns `None` (after a
    /// notice on stderr) where the server's URL variable is unset. Panics
    /// where the server cannot be reached: a set URL means the test must run.
    pub fn new(server: Server) -> Option<TestDatabase> {
        let admin_url = server.admin_url()?;
        let name = unique_name();
        let url = with_database(&admin_url, &name);
        let create = server.create_sql(&name);
        if let Err(err) = run_blocking(server.execute(&admin_url, create)) {
            panic!(
                "cannot create test database `{name}` on the server in {}: {err}",
                server.url_var()
            );
        }
        Some(TestDatabase {
            server,
            admin_url,
            name,
            url,
        })
    }

    /// The database's name (`retort_test_<pid>_<counter>_<random>`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A URL connecting to this database (the admin URL with its database
    /// replaced).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The server this database lives on.
    pub fn server(&self) -> Server {
        self.server
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let drop = self.server.drop_sql(&self.name);
        if let Err(err) = run_blocking(self.server.execute(&self.admin_url, drop)) {
            // A panic in drop during a panic aborts; a leftover database is
            // only clutter, so say so and go on.
            eprintln!("warning: cannot drop test database `{}`: {err}", self.name);
        }
    }
}

/// `retort_test_<pid>_<counter>_<random>`: unique within the process by the
/// counter, across processes by the pid, across runs by the random part.
fn unique_name() -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let counter = COUNTER.fetch_add(1, Ordering::Relaxed);
    // RandomState is seeded randomly per process: no extra dependency.
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_usize(counter);
    let random = hasher.finish() & 0xffff_ffff;
    format!("retort_test_{}_{counter}_{random:08x}", std::process::id())
}

/// `url` with its database (the path) replaced by `database`, keeping any
/// query string: `postgres://u@h:5432/test?x=1` → `postgres://u@h:5432/db?x=1`.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    let mut out = format!("{}/{database}", &base[..host_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// Runs `future` to completion on a new thread with its own runtime.
fn run_blocking<F>(future: F) -> F::Output
where
    F: std::future::Future + Send,
    F::Output: Send,
{
    std::thread::scope(|scope| {
        let handle = scope.spawn(|| {
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime.block_on(future),
                Err(err) => panic!("cannot start a tokio runtime: {err}"),
            }
        });
        match handle.join() {
            Ok(output) => output,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_gets_the_database_replaced() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "db"),
            "postgres://postgres@127.0.0.1:5432/db"
        );
        assert_eq!(
            with_database("postgres://u:p@h/test?sslmode=disable", "db"),
            "postgres://u:p@h/db?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h:1", "db"), "postgres://h:1/db");
    }

    #[test]
    fn names_are_unique_and_valid_identifiers() {
        let (a, b) = (unique_name(), unique_name());
        assert_ne!(a, b);
        assert!(a.starts_with(&format!("retort_test_{}_", std::process::id())));
        assert!(a.len() < 63 && a.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_'));
    }

    #[test]
    fn database_is_created_and_dropped() {
        let Some(db) = TestDatabase::new(Server::Postgres) else {
            return;
        };
        let name = db.name().to_string();
        let admin = db.admin_url.clone();
        let count = |admin: String, name: String| async move {
            let mut conn = PgConnection::connect(&admin).await?;
            let row: (i64,) = sqlx::query_as("SELECT count(*) FROM pg_database WHERE datname = $1")
                .bind(name)
                .fetch_one(&mut conn)
                .await?;
            Ok::<i64, sqlx::Error>(row.0)
        };
        let url = db.url().to_string();
        let connected = run_blocking(async move { PgConnection::connect(&url).await.map(|_| ()) });
        assert!(connected.is_ok(), "{connected:?}");
        assert_eq!(run_blocking(count(admin.clone(), name.clone())).unwrap(), 1);
        drop(db);
        assert_eq!(run_blocking(count(admin, name)).unwrap(), 0);
    }
}
