//! SQLite: a temp-file database per size; the floor is the introspector's
//! own four catalog reads through the `sqlite3` shell.

use crate::Settings;
use crate::generate::schema_ddl;
use crate::measure::{best_of, count_statements, first_line, retort_check};
use crate::report::Row;
use anyhow::{Context, Result, bail};
use retort_diff::{DiffOptions, diff};
use retort_introspect::{IntrospectOptions, introspect_sqlite};
use retort_schema::Dialect;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};
use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The floor: the four bulk reads `introspect_sqlite` makes, with the
/// version-table parameter written in.
const FLOOR_QUERIES: [&str; 4] = [
    include_str!("floor/sqlite/objects.sql"),
    include_str!("floor/sqlite/columns.sql"),
    include_str!("floor/sqlite/indexes.sql"),
    include_str!("floor/sqlite/foreign_keys.sql"),
];

pub async fn measure(tables: usize, settings: &Settings) -> Result<Row> {
    let mut row = Row {
        tables,
        ..Row::default()
    };
    let scratch = tempfile::tempdir().context("cannot create a temp folder")?;
    let db_path = scratch.path().join("bench.db");
    let models = scratch.path().join("models.sql");
    let ddl = schema_ddl(tables, Dialect::Sqlite, settings.seed);
    std::fs::write(&models, &ddl).context("cannot write the model file")?;

    let options = SqliteConnectOptions::new().filename(&db_path);
    let mut conn = options
        .clone()
        .create_if_missing(true)
        .connect()
        .await
        .context("cannot create the SQLite database")?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(ddl))
        .execute(&mut conn)
        .await
        .context("cannot load the generated DDL into SQLite")?;
    conn.close().await.ok();

    // The floor.
    let floor_sql = scratch.path().join("floor.sql");
    std::fs::write(&floor_sql, FLOOR_QUERIES.concat()).context("cannot write the floor SQL")?;
    match floor(settings.runs, &db_path, &floor_sql) {
        Ok(wall) => row.floor = Some(wall),
        Err(err) => row.notes.push(format!("floor not measured: {err:#}")),
    }

    let url = format!("sqlite://{}", db_path.display());
    retort_check(settings, scratch.path(), &url, &models, &mut row)?;

    // In-process figures.
    let mut conn = options
        .read_only(true)
        .connect()
        .await
        .context("cannot open the SQLite database")?;
    let introspect_options = IntrospectOptions::default();
    let mut fastest = Duration::MAX;
    let mut live = None;
    for _ in 0..settings.runs {
        let start = Instant::now();
        live = Some(introspect_sqlite(&mut conn, &introspect_options).await?);
        fastest = fastest.min(start.elapsed());
    }
    row.introspect = Some(fastest);
    let Some(live) = live else {
        bail!("no introspection run was made")
    };
    let (counted, queries) =
        count_statements(introspect_sqlite(&mut conn, &introspect_options)).await;
    counted?;
    row.queries = Some(queries);
    conn.close().await.ok();

    let model_paths = [models.clone()];
    let (load_time, model_schema) = best_of(settings.runs, || {
        Ok(retort_models::load_files(&model_paths, Dialect::Sqlite)?)
    })?;
    row.load_models = Some(load_time);
    let diff_options = DiffOptions {
        dialect: Dialect::Sqlite,
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
    if live.tables.len() != tables {
        bail!(
            "introspection read {} tables, {tables} were created",
            live.tables.len()
        );
    }
    Ok(row)
}

/// The floor queries through `sqlite3 -readonly`, fed on stdin with the
/// output discarded: best of `runs`.
fn floor(runs: usize, db_path: &Path, floor_sql: &Path) -> Result<Duration> {
    let mut best = Duration::MAX;
    for _ in 0..runs {
        let input = File::open(floor_sql).context("cannot open the floor SQL")?;
        let start = Instant::now();
        let output = Command::new("sqlite3")
            .arg("-readonly")
            .arg(db_path)
            .stdin(input)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .context("cannot run the sqlite3 shell (is it on PATH?)")?;
        best = best.min(start.elapsed());
        if !output.status.success() {
            bail!("sqlite3 failed: {}", first_line(&output.stderr));
        }
    }
    Ok(best)
}
