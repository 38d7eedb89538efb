//! PostgreSQL: a fresh database per size on the server, dropped at the end
//! (also on error); the floor is six bulk `pg_catalog` queries through
//! `psql`, the reference measurement of the benchmark issue.

use crate::Settings;
use crate::generate::schema_ddl;
use crate::measure::{best_of, best_of_command, count_statements, first_line, retort_check};
use crate::report::Row;
use anyhow::{Context, Result, bail};
use retort_diff::{DiffOptions, diff};
use retort_introspect::IntrospectOptions;
use retort_schema::{Dialect, Schema};
use sqlx::{Connection, PgConnection};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The six floor queries: columns, constraints, indexes, comments, enums,
/// sequences, formatted by the server's own functions.
const FLOOR_QUERIES: [&str; 6] = [
    include_str!("floor/postgres/columns.sql"),
    include_str!("floor/postgres/constraints.sql"),
    include_str!("floor/postgres/indexes.sql"),
    include_str!("floor/postgres/comments.sql"),
    include_str!("floor/postgres/enums.sql"),
    include_str!("floor/postgres/sequences.sql"),
];

/// The PostgreSQL introspector, in process.
async fn introspect(
    conn: &mut PgConnection,
    options: &IntrospectOptions,
) -> Result<Option<Schema>> {
    Ok(Some(
        retort_introspect::introspect_postgres(conn, options).await?,
    ))
}

pub async fn measure(tables: usize, settings: &Settings, server_url: &str) -> Result<Row> {
    let name = format!("retort_bench_{tables}_{}", std::process::id());
    let database = Database::create(server_url, &name)?;
    measure_in(tables, settings, &database).await
    // `database` drops here, after the measurement, whatever its outcome.
}

async fn measure_in(tables: usize, settings: &Settings, database: &Database) -> Result<Row> {
    let mut row = Row {
        tables,
        ..Row::default()
    };
    let scratch = tempfile::tempdir().context("cannot create a temp folder")?;
    let models = scratch.path().join("models.sql");
    std::fs::write(
        &models,
        schema_ddl(tables, Dialect::Postgres, settings.seed),
    )
    .context("cannot write the model file")?;
    // Not in one transaction (`-1`): 5,000 tables take more locks than a
    // default server's max_locks_per_transaction allows.
    psql(&database.url)
        .arg("-f")
        .arg(&models)
        .stdout(Stdio::null())
        .run("load the generated DDL")?;
    // Fresh statistics, as on a long-lived server, so neither the floor nor
    // retort pays for a cold planner.
    psql(&database.url)
        .arg("-c")
        .arg("ANALYZE")
        .run("analyze")?;

    let floor_sql = scratch.path().join("floor.sql");
    std::fs::write(&floor_sql, FLOOR_QUERIES.concat()).context("cannot write the floor SQL")?;
    let (floor, _) = best_of_command(
        settings.runs,
        || {
            let mut command = psql(&database.url);
            command.arg("-f").arg(&floor_sql);
            command
        },
        false,
    )?;
    row.floor = Some(floor);

    retort_check(settings, scratch.path(), &database.url, &models, &mut row)?;

    let mut conn = PgConnection::connect(&database.url)
        .await
        .with_context(|| format!("cannot connect to database {}", database.name))?;
    let options = IntrospectOptions::default();
    if introspect(&mut conn, &options).await?.is_none() {
        row.notes.push(
            "in-process introspect/diff/queries: the PostgreSQL introspector (branch pg-introspect) is not on this branch yet"
                .into(),
        );
        conn.close().await.ok();
        return Ok(row);
    }
    let mut fastest = Duration::MAX;
    let mut live = None;
    for _ in 0..settings.runs {
        let start = Instant::now();
        live = introspect(&mut conn, &options).await?;
        fastest = fastest.min(start.elapsed());
    }
    row.introspect = Some(fastest);
    let (counted, queries) = count_statements(introspect(&mut conn, &options)).await;
    counted?;
    row.queries = Some(queries);
    conn.close().await.ok();
    let Some(live) = live else {
        bail!("the PostgreSQL introspector stopped answering between runs")
    };

    let model_paths = [models.clone()];
    let (load_time, model_schema) = best_of(settings.runs, || {
        Ok(retort_models::load_files(&model_paths, Dialect::Postgres)?)
    })?;
    row.load_models = Some(load_time);
    let diff_options = DiffOptions {
        dialect: Dialect::Postgres,
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

/// A database created for one size and dropped when this value drops, so
/// an error or a failed assertion never leaves it behind.
struct Database {
    server_url: String,
    name: String,
    url: String,
}

impl Database {
    fn create(server_url: &str, name: &str) -> Result<Database> {
        psql(server_url)
            .arg("-c")
            .arg(format!("CREATE DATABASE {name}"))
            .run("create the bench database")
            .context("is the server up? set RETORT_BENCH_PG_URL or pass --pg-url")?;
        Ok(Database {
            server_url: server_url.to_string(),
            name: name.to_string(),
            url: with_database(server_url, name),
        })
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let dropped = psql(&self.server_url)
            .arg("-c")
            .arg(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .run("drop the bench database");
        if let Err(err) = dropped {
            eprintln!(
                "warning: could not drop database {} ({err:#}); drop it by hand",
                self.name
            );
        }
    }
}

/// `url` with its database (the path) replaced by `name`, keeping any
/// `?query`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    let mut out = format!("{}/{name}", &base[..path_start]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// `psql` on `url`, quiet, with no `.psqlrc`, stopping at the first error.
fn psql(url: &str) -> Command {
    let mut command = Command::new("psql");
    command
        .arg("-X")
        .arg("-q")
        .arg("-v")
        .arg("ON_ERROR_STOP=1")
        .arg("-d")
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    command
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
            .with_context(|| format!("cannot run psql to {what} (is it on PATH?)"))?;
        if !output.status.success() {
            bail!("psql failed to {what}: {}", first_line(&output.stderr));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn with_database_replaces_only_the_path() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "b1"),
            "postgres://postgres@127.0.0.1:5432/b1"
        );
        assert_eq!(
            with_database("postgres://u:p@h/test?sslmode=disable", "b1"),
            "postgres://u:p@h/b1?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://h:5432", "b1"),
            "postgres://h:5432/b1"
        );
    }
}
