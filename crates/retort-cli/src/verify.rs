//! `autogen --verify`: prove a draft before it is written.
//!
//! A scratch database is built from the live schema (SQLite: in memory;
//! PostgreSQL and MySQL: `CREATE DATABASE retort_scratch_<random>` on the
//! same server, always dropped), the draft's up runs there through the
//! runner, the result is introspected and diffed against the models (the
//! diff must be empty), then the down runs and the live schema must be
//! back. Anything else is a retort bug, reported with both schemas, and the
//! revision is not written. The scratch database has no rows, so a
//! backfill's placeholder is run as `NULL`: what is proven is the schema
//! change, not the reviewer's value.

use anyhow::{Context, Result, anyhow, bail};
use retort_diff::DiffOptions;
use retort_migrate::{
    DowngradeTarget, LockMode, Revision, RevisionGraph, RunOptions, UpgradeTarget,
};
use retort_schema::{Dialect, Index, IndexPart, Schema};

use crate::config::{DatabaseUrl, Settings};
use crate::db::{Access, Database};

/// Proves the draft (`up`, `down`) that turns `live` into `models`;
/// returns where it ran (`an in-memory database`, `retort_scratch_…`).
pub(crate) async fn prove(
    settings: &Settings,
    url: &DatabaseUrl,
    live: &Schema,
    models: &Schema,
    up: &str,
    down: &str,
) -> Result<String> {
    let guard = ScratchGuard::create(url).await?;
    let mut scratch = match Database::open_named(url, &guard.name).await {
        Ok(db) => db,
        Err(err) => {
            guard.drop_now().await;
            return Err(err);
        }
    };
    let place = match url.dialect() {
        Dialect::Sqlite => "an in-memory database".to_string(),
        _ => format!("scratch database {} (dropped)", guard.name),
    };
    let result = prove_on(&mut scratch, settings, live, models, up, down).await;
    scratch.close().await;
    guard.drop_now().await;
    result.map(|()| place)
}

/// The proof on an open scratch database; see the module docs.
pub(crate) async fn prove_on(
    scratch: &mut Database,
    settings: &Settings,
    live: &Schema,
    models: &Schema,
    up: &str,
    down: &str,
) -> Result<()> {
    let dialect = scratch.dialect();
    let options = DiffOptions { dialect };
    if dialect == Dialect::Mysql {
        // The live schema's tables are created in dependency order, which
        // a foreign-key cycle defeats; MySQL can defer the check.
        scratch.execute("SET FOREIGN_KEY_CHECKS = 0").await?;
    }
    for statement in scratch_sql(live, dialect) {
        scratch.execute(&statement).await.with_context(|| {
            format!("cannot build the scratch copy of the live schema: `{statement}` failed")
        })?;
    }
    if dialect == Dialect::Mysql {
        scratch.execute("SET FOREIGN_KEY_CHECKS = 1").await?;
    }
    let built = scratch.introspect(&settings.introspect_options()).await?;
    residue(
        &built,
        live,
        &options,
        "the scratch copy of the live schema does not introspect like the live database",
        "live database",
        "scratch copy",
    )?;

    let up = runnable(up);
    let revision = Revision::new(Vec::new(), "draft", &up, down);
    let graph = RevisionGraph::from_revisions(vec![revision])?;
    let run = RunOptions {
        version_table: settings.version_table.clone(),
        dialect,
        lock: LockMode::Session,
        ..RunOptions::default()
    };
    run_step(scratch, &graph, &run, true)
        .await
        .map_err(|err| step_error(err, dialect, "up", "on a scratch copy of the live schema"))?;
    let upgraded = scratch.introspect(&settings.introspect_options()).await?;
    residue(
        &upgraded,
        models,
        &options,
        "the draft does not reach the models",
        "models",
        "scratch database after the up",
    )?;

    run_step(scratch, &graph, &run, false)
        .await
        .map_err(|err| step_error(err, dialect, "down", "on the scratch database after its up"))?;
    let downgraded = scratch.introspect(&settings.introspect_options()).await?;
    residue(
        &downgraded,
        live,
        &options,
        "the draft's down does not restore the live schema",
        "live database",
        "scratch database after the down",
    )
}

/// A statement of the draft the database refused, with the database's
/// error as its source (printed as [`crate::format_error`] prints database
/// errors, its position pointing into `sql`).
#[derive(Debug)]
pub(crate) struct RejectedStatement {
    message: String,
    /// The statement as sent.
    pub(crate) sql: String,
    source: sqlx::Error,
}

impl std::fmt::Display for RejectedStatement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RejectedStatement {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// Why the draft's `section` failed `where_`. A statement the database
/// refused is the models' doing (they declare something the server does not
/// accept), so the error names the statement and the database's reason and
/// says to fix the models; only a residue after a step that ran is a
/// retort bug (see [`residue`]).
fn step_error(
    err: retort_migrate::MigrateError,
    dialect: Dialect,
    section: &str,
    where_: &str,
) -> anyhow::Error {
    match err {
        retort_migrate::MigrateError::Statement(failed) => {
            let failed = *failed;
            let message = format!(
                "the database refused statement {} of {} of the draft's {section} {where_}; the revision was not written:\n    {}\n\
                 the statement comes from the models: fix what {dialect} names below in the model files and run autogen again \
                 (if they are valid {dialect} SQL, please report the statement to retort)",
                failed.index,
                failed.count,
                failed.sql.replace('\n', "\n    "),
            );
            anyhow::Error::new(RejectedStatement {
                message,
                sql: failed.sql,
                source: failed.source,
            })
        }
        other => anyhow::Error::new(other).context(format!(
            "the draft's {section} failed {where_}; the revision was not written"
        )),
    }
}

/// The statements that build the scratch copy of `live`.
///
/// On MySQL/MariaDB two things the IR does not compare decide how later
/// drops are written, so the copy must reproduce them: a foreign key's
/// implicit index named otherwise than the key (after its first column,
/// where the server named the key) is created as an explicit index of that
/// name, which the key then uses instead of making its own; and a check
/// named after a column (MariaDB's column-level check) is written on its
/// column, so that restating the column drops it.
fn scratch_sql(live: &Schema, dialect: Dialect) -> Vec<String> {
    if dialect != Dialect::Mysql {
        return retort_render::schema_sql(live, dialect);
    }
    let mut copy = live.clone();
    for table in &mut copy.tables {
        let renamed: Vec<(String, Vec<String>)> = table
            .foreign_keys
            .iter()
            .filter_map(|fk| {
                let index = fk.implicit_index.as_ref()?;
                (fk.name.as_ref() != Some(index)).then(|| (index.clone(), fk.columns.clone()))
            })
            .collect();
        for (name, columns) in renamed {
            table.indexes.push(Index {
                name,
                parts: columns.into_iter().map(IndexPart::column).collect(),
                unique: false,
                predicate: None,
                method: None,
                nulls_not_distinct: false,
            });
        }
    }
    let mut statements = retort_render::schema_sql(&copy, dialect);
    for table in &live.tables {
        let head = format!(
            "CREATE TABLE {} (",
            Dialect::Mysql.quote_identifier(&table.name)
        );
        let Some(create) = statements.iter_mut().find(|s| s.starts_with(&head)) else {
            continue;
        };
        for check in &table.checks {
            if let Some(name) = &check.name
                && table.columns.iter().any(|c| &c.name == name)
            {
                *create = column_check(create, name);
            }
        }
    }
    statements
}

/// `create` (a `CREATE TABLE` with one item per line) with the table-level
/// `CONSTRAINT `column` CHECK (…)` moved onto the column's own line.
fn column_check(create: &str, column: &str) -> String {
    let quoted = Dialect::Mysql.quote_identifier(column);
    let constraint = format!("CONSTRAINT {quoted} CHECK ");
    let column_start = format!("{quoted} ");
    let mut lines: Vec<String> = create.lines().map(str::to_string).collect();
    let Some(at) = lines
        .iter()
        .position(|l| l.trim_start().starts_with(&constraint))
    else {
        return create.to_string();
    };
    let check_line = lines.remove(at);
    let check = check_line
        .trim()
        .trim_start_matches(&constraint)
        .trim_end_matches(',')
        .to_string();
    if let Some(col) = lines
        .iter_mut()
        .find(|l| l.trim_start().starts_with(&column_start))
    {
        let comma = col.ends_with(',');
        let body = col.trim_end_matches(',').to_string();
        *col = format!("{body} CHECK {check}{}", if comma { "," } else { "" });
    }
    // The removed item may have been the last: its predecessor then keeps
    // a comma before the closing parenthesis.
    if at > 0
        && lines
            .get(at)
            .is_some_and(|l| l.trim_start().starts_with(')'))
    {
        let prev = &mut lines[at - 1];
        *prev = prev.trim_end_matches(',').to_string();
    }
    lines.join("\n")
}

/// `up` as it can run on the empty scratch database: the todo lines
/// dropped and the backfill placeholder as `NULL` (there are no rows).
fn runnable(up: &str) -> String {
    up.lines()
        .filter(|line| !line.trim_start().starts_with(retort_render::TODO_DIRECTIVE))
        .map(|line| line.replace(retort_render::BACKFILL_PLACEHOLDER, "NULL"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Errors with both schemas unless `got` diffs empty against `want`.
fn residue(
    got: &Schema,
    want: &Schema,
    options: &DiffOptions,
    what: &str,
    want_name: &str,
    got_name: &str,
) -> Result<()> {
    let plan = retort_diff::diff(got, want, options);
    if plan.is_empty() {
        return Ok(());
    }
    let sql = |schema: &Schema| {
        retort_render::schema_sql(schema, options.dialect)
            .iter()
            .map(|s| format!("    {};", s.replace('\n', "\n    ")))
            .collect::<Vec<_>>()
            .join("\n")
    };
    bail!(
        "retort bug: {what}; residue: {}\nthe revision was not written; please report this with both schemas:\n  {want_name}:\n{}\n  {got_name}:\n{}",
        retort_render::summary(&plan.ops).join("; "),
        sql(want),
        sql(got)
    )
}

async fn run_step(
    db: &mut Database,
    graph: &RevisionGraph,
    run: &RunOptions,
    up: bool,
) -> Result<(), retort_migrate::MigrateError> {
    if up {
        db.upgrade(graph, &UpgradeTarget::Head, run, &mut |_| {})
            .await
    } else {
        db.downgrade(graph, &DowngradeTarget::Base, run, &mut |_| {})
            .await
    }
}

/// The scratch database on a server; dropped by [`ScratchGuard::drop_now`]
/// or, if the proof errors or panics first, by `Drop` (on a thread of its
/// own, since `Drop` cannot await).
struct ScratchGuard {
    url: DatabaseUrl,
    /// The scratch database's name (unused for SQLite).
    name: String,
    /// Whether a server database exists that still has to be dropped.
    armed: bool,
}

impl ScratchGuard {
    async fn create(url: &DatabaseUrl) -> Result<ScratchGuard> {
        let name = format!("retort_scratch_{}", retort_migrate::new_revision_id());
        let mut guard = ScratchGuard {
            url: url.clone(),
            name,
            armed: false,
        };
        let create = match url.dialect() {
            Dialect::Sqlite => return Ok(guard),
            dialect => format!("CREATE DATABASE {}", dialect.quote_identifier(&guard.name)),
        };
        let mut admin = Database::open(url, Access::ReadWrite).await?;
        let created = admin.execute(&create).await;
        admin.close().await;
        match created {
            Ok(()) => {
                guard.armed = true;
                Ok(guard)
            }
            Err(err) if is_permission_denied(&err) => Err(anyhow!(err).context(format!(
                "cannot verify the draft: the database user may not create the scratch database {} ({}); \
                 grant it (PostgreSQL: ALTER ROLE <user> CREATEDB; MySQL: GRANT CREATE, DROP ON `retort_scratch_%`.* TO <user>) \
                 or run autogen without --verify / [autogen] verify",
                guard.name, url
            ))),
            Err(err) => Err(anyhow!(err).context(format!(
                "cannot create the scratch database {} on {url} to verify the draft",
                guard.name
            ))),
        }
    }

    /// Drops the scratch database now; a failure is only reported, since
    /// the proof's own outcome matters more.
    async fn drop_now(mut self) {
        if self.armed {
            if let Err(err) = drop_database(&self.url, &self.name).await {
                warn(&err);
            }
            self.armed = false;
        }
    }
}

impl Drop for ScratchGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let (url, name) = (self.url.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("cannot start a runtime to drop the scratch database")?;
            runtime.block_on(drop_database(&url, &name))
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(err)) => warn(&err),
            Err(_) => eprintln!("warning: could not drop scratch database {}", self.name),
        }
    }
}

/// Prints `err` as a warning, its causes as [`crate::format_error`] prints
/// them (a database error without the server's source line).
fn warn(err: &anyhow::Error) {
    let text = crate::format_error(err);
    eprint!("warning: {}", text.strip_prefix("error: ").unwrap_or(&text));
}

async fn drop_database(url: &DatabaseUrl, name: &str) -> Result<()> {
    let quoted = url.dialect().quote_identifier(name);
    let mut admin = Database::open(url, Access::ReadWrite).await?;
    let result = match url.dialect() {
        Dialect::Sqlite => Ok(()),
        // FORCE (PostgreSQL 13+) ends a scratch connection that a panic
        // left open; older servers get the plain form.
        Dialect::Postgres => match admin
            .execute(&format!("DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
            .await
        {
            Ok(()) => Ok(()),
            Err(_) => {
                admin
                    .execute(&format!("DROP DATABASE IF EXISTS {quoted}"))
                    .await
            }
        },
        Dialect::Mysql => {
            admin
                .execute(&format!("DROP DATABASE IF EXISTS {quoted}"))
                .await
        }
    };
    admin.close().await;
    result.with_context(|| {
        format!("cannot drop the scratch database {name} on {url}: drop it by hand")
    })
}

/// Whether the server refused for lack of privilege (PostgreSQL SQLSTATE
/// 42501; MySQL errors 1044 and 1227).
fn is_permission_denied(err: &sqlx::Error) -> bool {
    let Some(db_err) = err.as_database_error() else {
        return false;
    };
    if db_err.code().as_deref() == Some("42501") {
        return true;
    }
    db_err
        .try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
        .is_some_and(|e| matches!(e.number(), 1044 | 1227))
}

#[cfg(test)]
mod tests {
    use super::*;
    use retort_migrate::VersionTable;
    use retort_schema::{Column, ColumnType, Table};

    fn settings() -> Settings {
        Settings {
            working_dir: std::path::PathBuf::from("."),
            config_path: None,
            database_url: None,
            model_paths: Vec::new(),
            migrations_dir: std::path::PathBuf::from("migrations"),
            version_table: VersionTable::default(),
            schemas: Vec::new(),
            lock: LockMode::Session,
            autogen_verify: false,
            online: false,
            lock_timeout: None,
            renames: Vec::new(),
            filter: crate::filter::SchemaFilter::default(),
            naming: crate::naming::NamingConvention::default(),
        }
    }

    fn users(extra: Option<Column>) -> Schema {
        let mut table = Table::new("users");
        table
            .columns
            .push(Column::new("id", ColumnType::Integer).not_null());
        table.columns.extend(extra);
        Schema {
            tables: vec![table],
            ..Schema::default()
        }
        .normalized()
    }

    async fn prove_sqlite(up: &str, down: &str) -> Result<()> {
        let url = DatabaseUrl::parse("sqlite::memory:")?;
        let mut scratch = Database::open_named(&url, "unused").await?;
        let live = users(None);
        let models = users(Some(Column::new("age", ColumnType::Integer)));
        prove_on(&mut scratch, &settings(), &live, &models, up, down).await
    }

    const ADD: &str = "ALTER TABLE \"users\" ADD COLUMN \"age\" INTEGER;";
    const DROP: &str = "ALTER TABLE \"users\" DROP COLUMN \"age\";";

    #[tokio::test]
    async fn a_correct_draft_is_proven() {
        prove_sqlite(ADD, DROP).await.unwrap();
    }

    #[tokio::test]
    async fn an_up_that_falls_short_is_a_retort_bug_with_both_schemas() {
        let err = prove_sqlite("SELECT 1;", DROP)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(
                "retort bug: the draft does not reach the models; residue: + add_column users.age"
            ) && err.contains("models:")
                && err.contains("scratch database after the up:")
                && err.contains("\"age\" INTEGER"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_down_that_does_not_restore_is_a_retort_bug() {
        let err = prove_sqlite(ADD, "SELECT 1;")
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("retort bug: the draft's down does not restore the live schema"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_statement_the_database_refuses_is_the_models_error_with_its_reason() {
        let err = prove_sqlite("ALTER TABLE nope ADD COLUMN x INTEGER;", DROP)
            .await
            .unwrap_err();
        let shown = crate::format_error(&err);
        assert!(
            shown.starts_with(
                "error: the database refused statement 1 of 1 of the draft's up on a scratch copy of the live schema; the revision was not written:\n    ALTER TABLE nope ADD COLUMN x INTEGER;\n"
            ) && shown.contains("fix what sqlite names below in the model files")
                && shown.contains("caused by: (code: 1) no such table: nope"),
            "{shown}"
        );
        assert!(
            !shown.contains("retort bug:") && !shown.contains("retort verify"),
            "{shown}"
        );
    }

    #[tokio::test]
    async fn a_refused_down_names_its_statement() {
        let err = prove_sqlite(ADD, "ALTER TABLE nope DROP COLUMN age;")
            .await
            .unwrap_err();
        let shown = crate::format_error(&err);
        assert!(
            shown.starts_with(
                "error: the database refused statement 1 of 1 of the draft's down on the scratch database after its up"
            ) && shown.contains("no such table: nope"),
            "{shown}"
        );
    }

    #[test]
    fn the_backfill_placeholder_runs_as_null_without_its_todo() {
        // The directive render writes is the one the runner refuses.
        assert_eq!(
            retort_render::TODO_DIRECTIVE,
            retort_migrate::TODO_DIRECTIVE
        );
        let up = "ALTER TABLE t ADD COLUMN c TEXT;\n-- retort:todo backfill t.c: …\nUPDATE t SET c = <placeholder> WHERE c IS NULL;";
        assert_eq!(
            runnable(up),
            "ALTER TABLE t ADD COLUMN c TEXT;\nUPDATE t SET c = NULL WHERE c IS NULL;"
        );
    }

    #[test]
    fn mariadb_column_check_moves_onto_its_column() {
        let create = "CREATE TABLE `p` (\n    `id` INT NOT NULL,\n    `q` INT NOT NULL,\n    PRIMARY KEY (`id`),\n    CONSTRAINT `q` CHECK (q >= 0)\n)";
        assert_eq!(
            column_check(create, "q"),
            "CREATE TABLE `p` (\n    `id` INT NOT NULL,\n    `q` INT NOT NULL CHECK (q >= 0),\n    PRIMARY KEY (`id`)\n)"
        );
    }
}
