//! The one error type of `retort-migrate`.

use std::path::PathBuf;

/// A foreign-key violation reported by `PRAGMA foreign_key_check` after a revision ran.
///
/// <https://www.sqlite.org/pragma.html#pragma_foreign_key_check>
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FkViolation {
    /// The child table holding the dangling reference.
    pub table: String,
    /// The rowid of the offending child row (`None` for WITHOUT ROWID tables).
    pub rowid: Option<i64>,
    /// The parent table the reference points at.
    pub parent: String,
}

impl std::fmt::Display for FkViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.rowid {
            Some(rowid) => write!(f, "{} rowid {} -> {}", self.table, rowid, self.parent),
            None => write!(f, "{} (without rowid) -> {}", self.table, self.parent),
        }
    }
}

/// Which way a revision was being run when it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Running the `-- retort:up` section.
    Upgrade,
    /// Running the `-- retort:down` section.
    Downgrade,
}

impl Direction {
    /// The section name, as in the revision file.
    pub fn section(self) -> &'static str {
        match self {
            Direction::Upgrade => "up",
            Direction::Downgrade => "down",
        }
    }

    /// The command running this section: `upgrade` or `downgrade`.
    pub fn command(self) -> &'static str {
        match self {
            Direction::Upgrade => "upgrade",
            Direction::Downgrade => "downgrade",
        }
    }
}

/// Everything that can go wrong reading revision files, planning or running them.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MigrateError {
    /// A revision file is malformed; `line` is 1-based.
    #[error("{}:{line}: {message}", path.display())]
    Parse {
        /// The revision file.
        path: PathBuf,
        /// The offending line.
        line: usize,
        /// What is wrong and how to fix it.
        message: String,
    },

    /// Reading or writing a file or directory failed.
    #[error("cannot {action} {}", path.display())]
    Io {
        /// What retort was doing (`read`, `write`, `list`…).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating-system error.
        #[source]
        source: std::io::Error,
    },

    /// `write_revision` found an existing file for this revision.
    #[error("revision file {} already exists; refusing to overwrite it (pick a new revision id)", path.display())]
    FileExists {
        /// The existing file.
        path: PathBuf,
    },

    /// Two files declare the same revision id.
    #[error("revision {id} is declared by both {} and {}; give one of them a new id", first.display(), second.display())]
    DuplicateRevision {
        /// The repeated id.
        id: String,
        /// The first file declaring it.
        first: PathBuf,
        /// The second file declaring it.
        second: PathBuf,
    },

    /// A revision names a parent that no file declares.
    #[error("revision {id} ({}) names parent {parent}, which is not in the revisions directory; restore the missing file or fix the `-- retort:parents` line", path.display())]
    UnknownParent {
        /// The revision with the bad parent.
        id: String,
        /// Its file.
        path: PathBuf,
        /// The parent id that does not exist.
        parent: String,
    },

    /// The parent links form a cycle.
    #[error("revisions form a cycle: {}; fix their `-- retort:parents` lines", files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))]
    Cycle {
        /// The files of the revisions on the cycle, sorted.
        files: Vec<PathBuf>,
    },

    /// No revision matches a revision spec.
    #[error("unknown revision `{spec}`; run `retort history` to list revisions")]
    UnknownRevision {
        /// What the user typed.
        spec: String,
    },

    /// A revision prefix matches several revisions.
    #[error("revision `{spec}` is ambiguous: it matches {}; type more characters", candidates.join(", "))]
    AmbiguousRevision {
        /// What the user typed.
        spec: String,
        /// The matching ids, sorted.
        candidates: Vec<String>,
    },

    /// `head` was requested but the graph has several heads.
    #[error("there are {} heads ({}); create a merge revision (`retort merge`) or upgrade to `heads`", heads.len(), heads.join(", "))]
    MultipleHeads {
        /// The head ids, sorted.
        heads: Vec<String>,
    },

    /// A relative step was requested from several current heads.
    #[error("the database has several current revisions ({}); relative steps are ambiguous, name a target revision instead", current.join(", "))]
    AmbiguousRelative {
        /// The current revision ids.
        current: Vec<String>,
    },

    /// A relative step goes further than the graph allows.
    #[error("cannot move {requested} revisions {direction}: only {available} available")]
    RelativeOutOfRange {
        /// `up` or `down`.
        direction: &'static str,
        /// The requested number of steps.
        requested: u32,
        /// How many steps exist.
        available: usize,
    },

    /// A downgrade target is not applied to the database.
    #[error("cannot downgrade to {id}: it is not applied (the database is at {}); upgrade instead", if current.is_empty() { "base".to_string() } else { current.join(", ") })]
    NotApplied {
        /// The requested target.
        id: String,
        /// The current revision ids.
        current: Vec<String>,
    },

    /// The version table names a revision the revisions directory does not have.
    #[error(
        "the database is at revision {id}, which is not in the revisions directory; restore its file or `retort stamp` the database"
    )]
    UnknownCurrentRevision {
        /// The id from the version table.
        id: String,
    },

    /// The version table changed under the runner in a way that makes the plan invalid.
    #[error("revision {id} cannot be {verb}: the version table changed while retort was running (now {}); run the command again", if current.is_empty() { "base".to_string() } else { current.join(", ") })]
    ConcurrentChange {
        /// The revision being run.
        id: String,
        /// `applied` or `reverted`.
        verb: &'static str,
        /// The version-table rows read inside the transaction.
        current: Vec<String>,
    },

    /// A statement of a revision failed; [`StatementError`] says what stayed
    /// applied (nothing where DDL is transactional).
    #[error(transparent)]
    Statement(Box<StatementError>),

    /// A revision left rows whose foreign keys point nowhere; it was rolled back.
    #[error(transparent)]
    ForeignKeyViolation(Box<ForeignKeyError>),

    /// `PRAGMA foreign_keys=OFF` did not take effect (the connection is inside a transaction).
    #[error(
        "could not turn foreign keys off before revision {id}: the connection is probably inside a transaction; run retort on a connection with no open transaction"
    )]
    ForeignKeysStillOn {
        /// The revision about to run.
        id: String,
    },

    /// A bookkeeping query (version table, pragma, transaction control) failed.
    #[error("database error while {action}")]
    Database {
        /// What the runner was doing.
        action: String,
        /// The database error.
        #[source]
        source: sqlx::Error,
    },

    /// The `lock` setting is neither `session` nor `transaction`.
    #[error("invalid lock mode `{0}`: expected `session` or `transaction`")]
    InvalidLockMode(String),

    /// Something retort cannot do for a dialect yet.
    #[error("{what} is not supported for {} yet; use sqlite or postgres", dialect.name())]
    UnsupportedDialect {
        /// The dialect asked for.
        dialect: retort_schema::Dialect,
        /// What was asked (e.g. `offline SQL`).
        what: &'static str,
    },

    /// The version table name is not a plain identifier.
    #[error("invalid version table name `{0}`: use letters, digits and underscores")]
    InvalidVersionTable(String),

    /// Another runner held the lock (MySQL `GET_LOCK`) for longer than the timeout.
    #[error(
        "timed out after {} s waiting for the lock `{name}`: another retort is still running on this database; \
         wait for it to finish and run the command again (`SELECT IS_USED_LOCK('{name}')` names the connection holding it)",
        waited.as_secs()
    )]
    LockTimeout {
        /// The lock name.
        name: String,
        /// How long the runner waited.
        waited: std::time::Duration,
    },

    /// The MySQL connection has no default database, so there is nowhere to
    /// keep the version table.
    #[error(
        "the mysql connection has no database selected; put the database name in the url (mysql://host/dbname)"
    )]
    NoDatabase,

    /// A revision still holds a `-- retort:todo` line (e.g. a backfill
    /// whose value the reviewer must write), so it is not ready to run.
    #[error(
        "revision {id} is not finished: {}:{line} still says `{todo}`; do what it says, delete the line, then run the {} again (nothing was applied)",
        path.display(), direction.command()
    )]
    Unfinished {
        /// The revision.
        id: String,
        /// Its file.
        path: PathBuf,
        /// The 1-based line of the todo in the file.
        line: usize,
        /// The todo line.
        todo: String,
        /// The section that would have run.
        direction: Direction,
    },

    /// A failed run left a revision partly applied (MySQL) and this run
    /// would not resume it.
    #[error(
        "revision {id} is partly applied: statements 1-{applied} of {count} of its {} section ran in an earlier run that failed; \
         run the {} again with a target that includes {id} to resume it at statement {}, \
         or undo statements 1-{applied} by hand and run {} to clear the record",
        direction.section(), direction.command(), applied + 1, stamp_hint(current)
    )]
    PartiallyApplied {
        /// The partly applied revision.
        id: String,
        /// The section that was running.
        direction: Direction,
        /// Statements 1..=applied ran.
        applied: usize,
        /// Statements in the section.
        count: usize,
        /// The version-table rows.
        current: Vec<String>,
    },

    /// A revision was partly applied by an earlier run (MySQL), and one of
    /// its applied statements has changed in the file since.
    #[error(
        "revision {id} ({}) was partly applied by an earlier run (statements 1-{applied} of its {} section), \
         but statement {changed} has changed in the file since; restore statements 1-{applied} as they were applied \
         (retort then resumes at statement {}), or undo them by hand and run {} to clear the record",
        path.display(), direction.section(), applied + 1, stamp_hint(current)
    )]
    ProgressMismatch {
        /// The revision.
        id: String,
        /// Its file.
        path: PathBuf,
        /// The section that was running.
        direction: Direction,
        /// Statements 1..=applied ran.
        applied: usize,
        /// The first applied statement whose text differs now (1-based).
        changed: usize,
        /// The version-table rows.
        current: Vec<String>,
    },

    /// A statement ran (MySQL) but recording that in the progress table failed.
    #[error(
        "statement {index} of {count} of revision {id} ran, but recording its progress failed, so the record \
         does not include it; if it was DDL it stays applied: check it by hand, undo it, and run the command again"
    )]
    ProgressNotRecorded {
        /// The revision.
        id: String,
        /// The statement (1-based).
        index: usize,
        /// Statements in the section.
        count: usize,
        /// Why recording failed.
        #[source]
        source: Box<MigrateError>,
    },
}

/// How to clear a progress record: stamp the database where it is.
fn stamp_hint(current: &[String]) -> String {
    match current {
        [] => "`retort stamp base`".to_string(),
        [one] => format!("`retort stamp {one}`"),
        many => format!("`retort stamp` (the database is at {})", many.join(", ")),
    }
}

/// Details of [`MigrateError::Statement`] (boxed: it is large).
#[derive(Debug, thiserror::Error)]
pub struct StatementError {
    /// The revision id.
    pub id: String,
    /// The revision message.
    pub message: String,
    /// The revision file.
    pub path: PathBuf,
    /// Which section ran.
    pub direction: Direction,
    /// 1-based statement number.
    pub index: usize,
    /// How many statements the section has.
    pub count: usize,
    /// The statement's starting line in the revision file.
    pub line: usize,
    /// The statement text, truncated for display.
    pub statement: String,
    /// The whole statement as sent: the database's error positions count
    /// characters into it.
    pub sql: String,
    /// 1-based segment (see `-- retort:transaction`) holding the statement.
    pub segment: usize,
    /// How many segments the section has (1 without directives).
    pub segments: usize,
    /// Statements 1..=committed of this revision were committed before the
    /// failure (earlier segments, or autocommit statements) and stay in
    /// place; 0 means the revision left nothing behind.
    pub committed: usize,
    /// Segments 1..=segments_committed completed before the failure.
    pub segments_committed: usize,
    /// Revisions this run completed before the failure (they stay applied/reverted).
    pub earlier: Vec<String>,
    /// Where DDL is not transactional (MySQL): every statement committed on
    /// its own, statements 1..=committed are recorded in the progress table,
    /// and running the command again resumes at `committed + 1`.
    pub progress_recorded: bool,
    /// The statement this run started at when it resumed a revision an
    /// earlier run left partly applied.
    pub resumed_at: Option<usize>,
    /// The version-table rows (unchanged by the failed revision).
    pub current: Vec<String>,
    /// The database error.
    #[source]
    pub source: sqlx::Error,
}

impl std::fmt::Display for StatementError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "revision {} ({:?}, {}) failed in its {} section at statement {} of {} (line {}{}): `{}`; ",
            self.id,
            self.message,
            self.path.display(),
            self.direction.section(),
            self.index,
            self.count,
            self.line,
            segment_note(self.segment, self.segments),
            self.statement,
        )?;
        if self.progress_recorded {
            write!(
                f,
                "{}, {}",
                recovery_note(self),
                earlier_note(&self.earlier)
            )
        } else {
            write!(
                f,
                "{}, {}; fix the revision and run the command again",
                committed_note(self.committed, self.segments_committed, self.segments),
                earlier_note(&self.earlier)
            )
        }
    }
}

/// `statement 3` or `statements 3-5`.
fn statement_range(first: usize, last: usize) -> String {
    if first == last {
        format!("statement {first}")
    } else {
        format!("statements {first}-{last}")
    }
}

/// What stayed applied and how to recover, where each statement committed
/// on its own and progress was recorded (MySQL).
fn recovery_note(e: &StatementError) -> String {
    let resumed = match e.resumed_at {
        Some(at) => format!("this run resumed at statement {at}; "),
        None => String::new(),
    };
    if e.committed == 0 {
        return format!(
            "{resumed}no statement of it was applied; fix the revision and run the command again"
        );
    }
    let applied = statement_range(1, e.committed);
    let verb = if e.committed == 1 { "was" } else { "were" };
    format!(
        "{resumed}{applied} {verb} applied and stay in place (MySQL commits every statement on its own), \
         and the revision is NOT recorded as {}; retort recorded this progress, so either fix {} in the file \
         so that {} the change, leaving {applied} exactly as they are, and run the command again: \
         retort resumes at statement {}; or undo {applied} by hand and run {} to clear the record",
        match e.direction {
            Direction::Upgrade => "applied",
            Direction::Downgrade => "reverted",
        },
        statement_range(e.index, e.count),
        if e.index == e.count {
            "it completes"
        } else {
            "they complete"
        },
        e.committed + 1,
        stamp_hint(&e.current)
    )
}

/// Details of [`MigrateError::ForeignKeyViolation`] (boxed: it is large).
#[derive(Debug, thiserror::Error)]
#[error(
    "revision {id} ({message:?}, {}) leaves dangling foreign keys: {}; the revision was rolled back, {}; fix the data or the revision",
    path.display(), violations.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(", "), earlier_note(earlier)
)]
pub struct ForeignKeyError {
    /// The revision id.
    pub id: String,
    /// The revision message.
    pub message: String,
    /// The revision file.
    pub path: PathBuf,
    /// The violations found (at most the first 20).
    pub violations: Vec<FkViolation>,
    /// Revisions this run completed before the failure.
    pub earlier: Vec<String>,
}

fn earlier_note(earlier: &[String]) -> String {
    if earlier.is_empty() {
        "no other revision was run".to_string()
    } else {
        format!(
            "revisions completed earlier in this run stay in place ({})",
            earlier.join(", ")
        )
    }
}

fn segment_note(segment: usize, segments: usize) -> String {
    if segments > 1 {
        format!(", segment {segment} of {segments}")
    } else {
        String::new()
    }
}

fn committed_note(committed: usize, segments_committed: usize, segments: usize) -> String {
    let range = |noun: &str, n: usize| {
        if n == 1 {
            format!("{noun} 1")
        } else {
            format!("{noun}s 1-{n}")
        }
    };
    let (statements, verb) = (
        range("statement", committed),
        if committed == 1 { "was" } else { "were" },
    );
    let tail = "stay applied, but the revision is NOT recorded as applied \
                (statements outside a transaction must be safe to run again)";
    match (committed, segments_committed) {
        (0, _) => "the revision was rolled back".to_string(),
        (_, 0) => format!("{statements} ran outside a transaction and {tail}"),
        (_, s) => format!(
            "{statements} ({} of {segments}) {verb} committed and {tail}",
            range("segment", s)
        ),
    }
}

/// A database's refusal as users read it, or `None` where `err` is not one.
///
/// PostgreSQL: the SQLSTATE, message, detail, hint and context, and the
/// error's position as line and column of `sql` (the statement as sent)
/// with that line and a caret; never the server's own source file, line
/// and routine, which sqlx appends (`at line 948`) and which read as a
/// line of the user's file. MySQL: the error number, SQLSTATE and message.
/// Other databases: their own message. Lines after the first are indented
/// for a `caused by:` line.
pub fn database_error_text(err: &sqlx::Error, sql: Option<&str>) -> Option<String> {
    let db_err = err.as_database_error()?;
    if let Some(pg) = db_err.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        return Some(postgres_error_text(pg, sql));
    }
    if let Some(my) = db_err.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
        return Some(match my.code() {
            Some(state) => format!(
                "MySQL error {} (SQLSTATE {state}): {}",
                my.number(),
                my.message()
            ),
            None => format!("MySQL error {}: {}", my.number(), my.message()),
        });
    }
    Some(db_err.to_string())
}

fn postgres_error_text(err: &sqlx::postgres::PgDatabaseError, sql: Option<&str>) -> String {
    use sqlx::postgres::PgErrorPosition;
    let mut text = format!("PostgreSQL error {}: {}", err.code(), err.message());
    for (label, value) in [
        ("detail", err.detail()),
        ("hint", err.hint()),
        ("context", err.r#where()),
    ] {
        if let Some(value) = value {
            text.push_str(&format!(
                "\n    {label}: {}",
                value.replace('\n', "\n      ")
            ));
        }
    }
    let position = match err.position() {
        Some(PgErrorPosition::Original(at)) => sql.map(|sql| (at, sql, "the statement")),
        Some(PgErrorPosition::Internal { position, query }) => {
            Some((position, query, "the server's internal query"))
        }
        None => None,
    };
    if let Some((at, sql, what)) = position
        && let Some(pointer) = caret(sql, at)
    {
        text.push_str(&format!("\n    position: {what}, {pointer}"));
    }
    text
}

/// `line L, column C:` and that line of `sql` with a caret under the
/// 1-based character `position`; `None` where `sql` is shorter.
fn caret(sql: &str, position: usize) -> Option<String> {
    let offset = sql
        .char_indices()
        .nth(position.checked_sub(1)?)
        .map(|(i, _)| i)?;
    let before = &sql[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = sql[line_start..offset].chars().count() + 1;
    let line_text = sql[line_start..].lines().next().unwrap_or_default();
    // Tabs keep their width above the caret.
    let pad: String = sql[line_start..offset]
        .chars()
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    Some(format!(
        "line {line}, column {column}:\n      {line_text}\n      {pad}^"
    ))
}

#[cfg(test)]
mod database_error_tests {
    use super::caret;

    #[test]
    fn caret_points_at_line_and_column() {
        assert_eq!(
            caret("CREATE TABL x (id int);", 8).unwrap(),
            "line 1, column 8:\n      CREATE TABL x (id int);\n             ^"
        );
        assert_eq!(
            caret("CREATE TABLE t (\n    a nope\n);", 24).unwrap(),
            "line 2, column 7:\n          a nope\n            ^"
        );
        // Characters, not bytes.
        assert_eq!(
            caret("SELECT 'é', x", 13).unwrap(),
            "line 1, column 13:\n      SELECT 'é', x\n                  ^"
        );
        assert_eq!(caret("SELECT 1", 0), None);
        assert_eq!(caret("SELECT 1", 20), None);
    }
}
