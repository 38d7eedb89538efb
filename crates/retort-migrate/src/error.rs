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

    /// A statement of a revision failed; the revision was rolled back.
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
}

/// Details of [`MigrateError::Statement`] (boxed: it is large).
#[derive(Debug, thiserror::Error)]
#[error(
    "revision {id} ({message:?}, {}) failed in its {} section at statement {index} of {count} (line {line}{}): `{statement}`; \
     {}, {}; fix the revision and run the command again",
    path.display(), direction.section(), segment_note(*segment, *segments),
    committed_note(*committed, *segments_committed, *segments), earlier_note(earlier)
)]
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
    /// The database error.
    #[source]
    pub source: sqlx::Error,
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
