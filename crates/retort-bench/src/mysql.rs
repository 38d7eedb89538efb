//! MySQL/MariaDB: a fresh database per size on the server, dropped at the
//! end (also on error); the floor is the introspector's own bulk
//! `information_schema` queries through the `mariadb` command-line client.

use crate::Settings;
use crate::generate::schema_ddl;
use crate::measure::{best_of, best_of_command, count_statements, first_line, retort_check};
use crate::report::Row;
use anyhow::{Context, Result, bail};
use retort_diff::{DiffOptions, diff};
use retort_introspect::{IntrospectOptions, introspect_mysql};
use retort_schema::Dialect;
use sqlx::{Connection, MySqlConnection};
use std::fs::File;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The introspector's catalog reads on MariaDB, in its order: the server
/// facts, tables, columns, index parts, foreign-key rules and columns, and
/// checks. Taken from
/// the introspector's own files so the floor cannot drift from what it
/// sends.
const FLOOR_QUERIES: [&str; 7] = [
    include_str!("../../retort-introspect/src/mysql/server.sql"),
    include_str!("../../retort-introspect/src/mysql/tables.sql"),
    include_str!("../../retort-introspect/src/mysql/columns.sql"),
    include_str!("../../retort-introspect/src/mysql/indexes.sql"),
    include_str!("../../retort-introspect/src/mysql/foreign_key_rules.sql"),
    include_str!("../../retort-introspect/src/mysql/foreign_keys.sql"),
    include_str!("../../retort-introspect/src/mysql/checks_mariadb.sql"),
];

/// The floor SQL for the shell: each query with the version-table
/// parameter written in and a terminating semicolon.
fn floor_sql(version_table: &str) -> String {
    FLOOR_QUERIES
        .iter()
        .map(|sql| {
            let sql = sql.replace("<> ?", &format!("<> '{version_table}'"));
            format!("{};\n", sql.trim_end())
        })
        .collect()
}

pub async fn measure(tables: usize, settings: &Settings, server_url: &str) -> Result<Row> {
    let name = format!("retort_bench_{tables}_{}", std::process::id());
    let server = Server::parse(server_url)?;
    let database = Database::create(&server, &name)?;
    measure_in(tables, settings, &database).await
    // `database` drops here, after the measurement, whatever its outcome.
}

async fn measure_in(tables: usize, settings: &Settings, database: &Database<'_>) -> Result<Row> {
    let mut row = Row {
        tables,
        ..Row::default()
    };
    let scratch = tempfile::tempdir().context("cannot create a temp folder")?;
    let models = scratch.path().join("models.sql");
    std::fs::write(&models, schema_ddl(tables, Dialect::Mysql, settings.seed))
        .context("cannot write the model file")?;
    database
        .client()
        .stdin(File::open(&models).context("cannot open the model file")?)
        .run("load the generated DDL")?;

    let options = IntrospectOptions::default();
    // On the command line: `best_of_command` gives the child an empty stdin.
    let floor_sql = floor_sql(&options.version_table);
    let (floor, _) = best_of_command(
        settings.runs,
        || {
            let mut command = database.client();
            command.arg("-e").arg(&floor_sql);
            command
        },
        false,
    )?;
    row.floor = Some(floor);

    retort_check(settings, scratch.path(), &database.url, &models, &mut row)?;

    let mut conn = MySqlConnection::connect(&database.url)
        .await
        .with_context(|| format!("cannot connect to database {}", database.name))?;
    let mut fastest = Duration::MAX;
    let mut live = None;
    for _ in 0..settings.runs {
        let start = Instant::now();
        live = Some(introspect_mysql(&mut conn, &options).await?);
        fastest = fastest.min(start.elapsed());
    }
    row.introspect = Some(fastest);
    let (counted, queries) = count_statements(introspect_mysql(&mut conn, &options)).await;
    counted?;
    row.queries = Some(queries);
    conn.close().await.ok();
    let Some(live) = live else {
        bail!("no introspection run was made")
    };
    if live.tables.len() != tables {
        bail!(
            "introspection read {} tables, {tables} were created",
            live.tables.len()
        );
    }

    let model_paths = [models.clone()];
    let (load_time, model_schema) = best_of(settings.runs, || {
        Ok(retort_models::load_files(&model_paths, Dialect::Mysql)?)
    })?;
    row.load_models = Some(load_time);
    let diff_options = DiffOptions {
        dialect: Dialect::Mysql,
    };
    let (diff_time, plan) = best_of(settings.runs, || {
        Ok(diff(&live, &model_schema, &diff_options))
    })?;
    row.diff = Some(diff_time);
    if !plan.is_empty() {
        row.notes.push(format!(
            "diff(live, models) found {} op(s) on an unchanged schema: a bug to fix",
            plan.ops.len()
        ));
    }
    Ok(row)
}

/// Where the server is, as the `mariadb` client wants it.
#[derive(Debug, PartialEq, Eq)]
struct Server {
    user: String,
    password: Option<String>,
    host: String,
    port: Option<String>,
    /// `mysql://user@host:port` without the database, to append one to.
    base: String,
}

impl Server {
    /// Reads `mysql://user[:password]@host[:port][/database]`.
    fn parse(url: &str) -> Result<Server> {
        let Some(rest) = url
            .strip_prefix("mysql://")
            .or_else(|| url.strip_prefix("mariadb://"))
        else {
            bail!("`{url}` is not a mysql:// URL: pass --mysql-url mysql://user@host:port/db");
        };
        let authority = rest.split(['/', '?']).next().unwrap_or_default();
        let (credentials, address) = match authority.rsplit_once('@') {
            Some((credentials, address)) => (credentials, address),
            None => ("root", authority),
        };
        let (user, password) = match credentials.split_once(':') {
            Some((user, password)) => (user, Some(password.to_string())),
            None => (credentials, None),
        };
        let (host, port) = match address.rsplit_once(':') {
            Some((host, port)) => (host, Some(port.to_string())),
            None => (address, None),
        };
        Ok(Server {
            user: user.to_string(),
            password,
            host: host.to_string(),
            port,
            base: format!("mysql://{authority}"),
        })
    }

    /// The `mariadb` client on this server, optionally in `database`,
    /// stopping at the first error, output discarded.
    fn client(&self, database: Option<&str>) -> Command {
        let mut command = Command::new("mariadb");
        command
            .arg("--no-defaults")
            .arg(format!("-h{}", self.host))
            .arg(format!("-u{}", self.user));
        if let Some(port) = &self.port {
            command.arg(format!("-P{port}"));
        }
        if let Some(password) = &self.password {
            command.arg(format!("-p{password}"));
        }
        if let Some(database) = database {
            command.arg(database);
        }
        command.stdin(Stdio::null()).stdout(Stdio::null());
        command
    }
}

/// A database created for one size and dropped when this value drops, so
/// an error never leaves it behind.
struct Database<'s> {
    server: &'s Server,
    name: String,
    url: String,
}

impl<'s> Database<'s> {
    fn create(server: &'s Server, name: &str) -> Result<Database<'s>> {
        server
            .client(None)
            .arg("-e")
            .arg(format!("CREATE DATABASE {name}"))
            .run("create the bench database")
            .context("is the server up? set RETORT_BENCH_MYSQL_URL or pass --mysql-url")?;
        Ok(Database {
            server,
            name: name.to_string(),
            url: format!("{}/{name}", server.base),
        })
    }

    fn client(&self) -> Command {
        self.server.client(Some(&self.name))
    }
}

impl Drop for Database<'_> {
    fn drop(&mut self) {
        let dropped = self
            .server
            .client(None)
            .arg("-e")
            .arg(format!("DROP DATABASE IF EXISTS {}", self.name))
            .run("drop the bench database");
        if let Err(err) = dropped {
            eprintln!(
                "warning: could not drop database {} ({err:#}); drop it by hand",
                self.name
            );
        }
    }
}

trait RunExt {
    fn run(&mut self, what: &str) -> Result<()>;
}

impl RunExt for Command {
    /// Runs the command, turning a failure into an error naming `what`.
    fn run(&mut self, what: &str) -> Result<()> {
        let output = self
            .stderr(Stdio::piped())
            .output()
            .with_context(|| format!("cannot run mariadb to {what} (is it on PATH?)"))?;
        if !output.status.success() {
            bail!("mariadb failed to {what}: {}", first_line(&output.stderr));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_url_becomes_client_arguments() {
        let server = match Server::parse("mysql://root@127.0.0.1:3306/test") {
            Ok(server) => server,
            Err(err) => panic!("{err:#}"),
        };
        assert_eq!(server.user, "root");
        assert_eq!(server.password, None);
        assert_eq!(server.host, "127.0.0.1");
        assert_eq!(server.port.as_deref(), Some("3306"));
        assert_eq!(server.base, "mysql://root@127.0.0.1:3306");
        let with_password = match Server::parse("mysql://u:secret@db/x") {
            Ok(server) => server,
            Err(err) => panic!("{err:#}"),
        };
        assert_eq!(with_password.password.as_deref(), Some("secret"));
        assert_eq!(with_password.port, None);
        assert!(Server::parse("postgres://h/x").is_err());
    }

    #[test]
    fn floor_sql_binds_the_version_table_and_ends_each_query() {
        let sql = floor_sql("retort_version");
        assert!(!sql.contains("<> ?"), "{sql}");
        assert_eq!(sql.matches("<> 'retort_version'").count(), 6);
        let ends = sql
            .lines()
            .filter(|line| !line.trim_start().starts_with("--") && line.ends_with(';'))
            .count();
        assert_eq!(ends, 7, "{sql}");
    }
}
