//! The offline script writer (`--sql` mode): the SQL the runner would send
//! for a plan, as one script in [`RunOptions::dialect`], built from the same
//! statement text as the online backends. No database is touched.

use crate::MigrateError;
use crate::backend::{PartialRevision, statement_checksum};
use crate::error::Direction;
use crate::graph::{
    DowngradeTarget, RevisionGraph, UpgradeTarget, plan_downgrade, plan_upgrade,
    rows_after_downgrade, rows_after_upgrade,
};
use crate::options::{LockMode, RunOptions, VersionTable};
use crate::revision::{Revision, check_finished, section_segments};
use crate::split::Statement;
use crate::{mysql, postgres, sqlite};
use retort_schema::Dialect;

/// The SQL `upgrade` would run from version-table rows `from` to `target`,
/// as one script in `opts.dialect` (`--sql` mode). No database is touched.
pub fn offline_upgrade_sql(
    graph: &RevisionGraph,
    from: &[String],
    target: &UpgradeTarget,
    opts: &RunOptions,
) -> Result<String, MigrateError> {
    let plan = plan_upgrade(graph, from, target)?;
    check_finished(&plan, Direction::Upgrade)?;
    offline(graph, from, &plan, Direction::Upgrade, opts)
}

/// The SQL `downgrade` would run from version-table rows `from` to `target`.
pub fn offline_downgrade_sql(
    graph: &RevisionGraph,
    from: &[String],
    target: &DowngradeTarget,
    opts: &RunOptions,
) -> Result<String, MigrateError> {
    let plan = plan_downgrade(graph, from, target)?;
    check_finished(&plan, Direction::Downgrade)?;
    offline(graph, from, &plan, Direction::Downgrade, opts)
}

/// `base` or the rows, for script comments.
fn state(rows: &[String]) -> String {
    if rows.is_empty() {
        "base".to_string()
    } else {
        rows.join(", ")
    }
}

/// The MySQL script: what the online runner does (see [`crate::mysql`]),
/// statement by statement with a progress row after each one, so that a
/// run that stops halfway can be resumed by `retort upgrade`. The mysql
/// client stops at the first error unless run with `--force`.
fn offline_mysql(
    graph: &RevisionGraph,
    from: &[String],
    plan: &[&Revision],
    direction: Direction,
    opts: &RunOptions,
) -> String {
    use mysql::script;
    let table = &opts.version_table;
    let mut out = String::new();
    let mut rows = from.to_vec();
    out.push_str(&format!(
        "-- retort {}: {} revision(s), starting from {}\n\
         -- generated offline for mysql; DDL commits implicitly, so every statement is applied on its own\n\
         -- and recorded in {} (a failed run can be resumed by retort); run it with the mysql client\n\n",
        direction.command(),
        plan.len(),
        state(&rows),
        table.progress_name(),
    ));
    out.push_str(&format!(
        "-- string literals escape backslashes: NO_BACKSLASH_ESCAPES must be off\n{};\n\n",
        script::CLEAR_NO_BACKSLASH_ESCAPES
    ));
    out.push_str(&format!(
        "-- must return 1; 0 means another retort held the lock for {} s\n{};\n\n",
        mysql::LOCK_TIMEOUT.as_secs(),
        script::lock_literal(table, mysql::LOCK_TIMEOUT.as_secs())
    ));
    out.push_str(&format!(
        "{};\n{};\n\n",
        script::create_version_table(table),
        script::create_progress_table(table)
    ));
    for rev in plan {
        let new_rows = match direction {
            Direction::Upgrade => rows_after_upgrade(graph, &rows, rev),
            Direction::Downgrade => rows_after_downgrade(graph, &rows, rev),
        };
        out.push_str(&format!(
            "-- {} {}: {} -> {} ({})\n",
            direction.command(),
            rev.id,
            state(&rows),
            state(&new_rows),
            rev.message
        ));
        let statements: Vec<Statement> = section_segments(rev, direction, Dialect::Mysql)
            .into_iter()
            .flat_map(|s| s.statements)
            .collect();
        let checksums: Vec<String> = statements
            .iter()
            .map(|s| statement_checksum(&s.sql))
            .collect();
        for (i, stmt) in statements.iter().enumerate() {
            out.push_str(stmt.sql.trim_end_matches(';').trim_end());
            out.push_str(";\n");
            let record = PartialRevision {
                id: rev.id.clone(),
                direction,
                applied: i + 1,
                count: statements.len(),
                checksums: checksums[..=i].to_vec(),
                started: None,
            };
            out.push_str(&format!("{};\n", script::write_progress(table, &record)));
        }
        out.push_str(&format!("{};\n", script::BEGIN));
        for sql in script::version_updates(table, &rows, &new_rows) {
            out.push_str(&format!("{sql};\n"));
        }
        out.push_str(&format!(
            "{};\n{};\n\n",
            script::clear_progress(table, Some((&rev.id, direction))),
            script::COMMIT
        ));
        rows = new_rows;
    }
    out.push_str(&format!("{};\n", script::unlock_literal(table)));
    out
}

/// The dialect-specific lines of an offline script.
struct OfflineText {
    /// Second header line.
    note: &'static str,
    /// Once, before the first revision (after the version table is created).
    prologue: Vec<String>,
    /// Once, at the end.
    epilogue: Vec<String>,
    /// Opens a transactional segment.
    begin: Vec<String>,
    /// Closes a transactional segment, before the version-table update.
    check: Vec<String>,
    /// Ends a transactional segment.
    commit: Vec<String>,
    create_version_table: String,
    version_updates: fn(&VersionTable, &[String], &[String]) -> Vec<String>,
}

impl OfflineText {
    fn new(opts: &RunOptions) -> Result<OfflineText, MigrateError> {
        let table = &opts.version_table;
        match opts.dialect {
            Dialect::Sqlite => Ok(OfflineText {
                note: "-- generated offline for sqlite; foreign keys are assumed to be ON before the script",
                prologue: Vec::new(),
                epilogue: Vec::new(),
                begin: vec![
                    sqlite::script::FOREIGN_KEYS_OFF.to_string(),
                    sqlite::script::BEGIN.to_string(),
                ],
                check: vec![
                    "-- must return no rows; otherwise ROLLBACK".to_string(),
                    sqlite::script::FOREIGN_KEY_CHECK.to_string(),
                ],
                commit: vec![
                    sqlite::script::COMMIT.to_string(),
                    sqlite::script::FOREIGN_KEYS_ON.to_string(),
                ],
                create_version_table: sqlite::script::create_version_table(table),
                version_updates: sqlite::script::version_updates,
            }),
            Dialect::Postgres => {
                let key = postgres::advisory_lock_key(table);
                let (prologue, epilogue, mut begin) = match opts.lock {
                    LockMode::Session => (
                        vec![postgres::script::lock_literal(key)],
                        vec![postgres::script::unlock_literal(key)],
                        vec![postgres::script::BEGIN.to_string()],
                    ),
                    LockMode::Transaction => (
                        Vec::new(),
                        Vec::new(),
                        vec![postgres::script::BEGIN.to_string()],
                    ),
                };
                if opts.lock == LockMode::Transaction {
                    begin.push(postgres::script::xact_lock_literal(key));
                }
                Ok(OfflineText {
                    note: "-- generated offline for postgres; run it with psql -v ON_ERROR_STOP=1",
                    prologue,
                    epilogue,
                    begin,
                    check: Vec::new(),
                    commit: vec![postgres::script::COMMIT.to_string()],
                    create_version_table: postgres::script::create_version_table(table),
                    version_updates: postgres::script::version_updates,
                })
            }
            other => Err(MigrateError::UnsupportedDialect {
                dialect: other,
                what: "offline SQL",
            }),
        }
    }
}

fn offline(
    graph: &RevisionGraph,
    from: &[String],
    plan: &[&Revision],
    direction: Direction,
    opts: &RunOptions,
) -> Result<String, MigrateError> {
    if opts.dialect == Dialect::Mysql {
        return Ok(offline_mysql(graph, from, plan, direction, opts));
    }
    let text = OfflineText::new(opts)?;
    let table = &opts.version_table;
    let lines = |out: &mut String, lines: &[String]| {
        for l in lines {
            out.push_str(l);
            if !l.starts_with("--") {
                out.push(';');
            }
            out.push('\n');
        }
    };
    let mut out = String::new();
    let mut rows = from.to_vec();
    out.push_str(&format!(
        "-- retort {}: {} revision(s), starting from {}\n{}\n\n",
        match direction {
            Direction::Upgrade => "upgrade",
            Direction::Downgrade => "downgrade",
        },
        plan.len(),
        state(&rows),
        text.note,
    ));
    if !text.prologue.is_empty() {
        lines(&mut out, &text.prologue);
        out.push('\n');
    }
    if direction == Direction::Upgrade {
        out.push_str(&format!("{};\n\n", text.create_version_table));
    }
    for rev in plan {
        let new_rows = match direction {
            Direction::Upgrade => rows_after_upgrade(graph, &rows, rev),
            Direction::Downgrade => rows_after_downgrade(graph, &rows, rev),
        };
        out.push_str(&format!(
            "-- {} {}: {} -> {} ({})\n",
            match direction {
                Direction::Upgrade => "upgrade",
                Direction::Downgrade => "downgrade",
            },
            rev.id,
            state(&rows),
            state(&new_rows),
            rev.message
        ));
        let segs = section_segments(rev, direction, opts.dialect);
        for (k, seg) in segs.iter().enumerate() {
            if !seg.transactional {
                out.push_str("-- retort:transaction off (each statement on its own, outside a transaction)\n");
            } else {
                if k > 0 {
                    out.push_str("-- retort:transaction on\n");
                }
                lines(&mut out, &text.begin);
            }
            for stmt in &seg.statements {
                out.push_str(stmt.sql.trim_end_matches(';').trim_end());
                out.push_str(";\n");
            }
            if seg.transactional {
                lines(&mut out, &text.check);
                if k + 1 == segs.len() {
                    for sql in (text.version_updates)(table, &rows, &new_rows) {
                        out.push_str(&format!("{sql};\n"));
                    }
                }
                lines(&mut out, &text.commit);
            }
        }
        out.push('\n');
        rows = new_rows;
    }
    if !text.epilogue.is_empty() {
        lines(&mut out, &text.epilogue);
    }
    Ok(out)
}
