//! Revision files, the revision graph, the version table and the runner.
//!
//! - [`Revision`] is one `<id>_<slug>.sql` file ([`parse_revision`],
//!   [`render_revision`], [`write_revision`]); its format is a public contract.
//! - [`RevisionGraph`] loads a directory, validates it (unique ids, known
//!   parents, no cycles) and answers heads/bases/history/prefix resolution.
//! - [`plan_upgrade`] / [`plan_downgrade`] turn a target into an ordered list
//!   of revisions; [`upgrade`] / [`downgrade`] / [`stamp`] run them through a
//!   [`Backend`] (SQLite, PostgreSQL, MySQL/MariaDB), and [`offline_upgrade_sql`] prints the
//!   same steps as a script in [`RunOptions::dialect`].
//! - [`RunOptions::interrupt`] stops a run from outside (Ctrl-C): the
//!   running statement is cancelled on the server, the transaction rolled
//!   back, the lock released, and [`MigrateError::Interrupted`] says what
//!   state the database is in ([`Interrupted`]).
//! - Inside a section, `-- retort:transaction off` / `-- retort:transaction on`
//!   lines split it into [`Segment`]s: "off" statements run one by one in
//!   autocommit (e.g. `ALTER TYPE … ADD VALUE`, `CREATE INDEX CONCURRENTLY`),
//!   each "on" segment in one transaction, and the version table is updated
//!   in the last transactional one. A failure after a committed segment is
//!   reported with what stayed applied, and the revision is not recorded, so
//!   such statements must be idempotent (`IF NOT EXISTS`).
//!
//! ```no_run
//! # async fn demo() -> Result<(), retort_migrate::MigrateError> {
//! use sqlx::ConnectOptions;
//! use retort_migrate::*;
//! let graph = RevisionGraph::load(std::path::Path::new("migrations"))?;
//! let mut conn = sqlite_connect_options("sqlite:app.db")?
//!     .connect()
//!     .await
//!     .map_err(|source| MigrateError::Database { action: "connecting".into(), source })?;
//! upgrade(&mut conn, &graph, &UpgradeTarget::Head, &RunOptions::default(), &mut |e| {
//!     let _ = e; // the CLI prints these
//! })
//! .await
//! # }
//! ```
//!
//! Key design decision: like sqlx's migrator there is ONE runner loop, and
//! each revision runs with its version-table update in one transaction that
//! also re-reads the version table under the write lock. A failure therefore
//! leaves the schema and the version table exactly as before that revision,
//! and concurrent runners on one database never apply a revision twice. On
//! PostgreSQL a session advisory lock ([`LockMode`]) additionally wraps the
//! whole run, so waiting runners plan after the first one finished and
//! report [`Event::AlreadyAtTarget`].
//!
//! MySQL commits DDL implicitly, so there a revision cannot be atomic: the
//! runner (see [`mysql`]) applies it statement by statement under a
//! `GET_LOCK` session lock and records progress after each statement; a
//! failure names what stayed applied, never records the revision, and the
//! next run resumes after the recorded statements if they are unchanged
//! ([`partial_progress`] lists such revisions for `retort current`). The
//! version table holds one row per current head (like `alembic_version`), so
//! branches and merges need no extra bookkeeping.
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod backend;
mod error;
mod graph;
mod interrupt;
pub mod mysql;
mod offline;
mod options;
pub mod postgres;
mod revision;
mod runner;
mod split;
pub mod sqlite;

pub use backend::{Backend, Effect, PartialRevision, statement_checksum};
pub use error::{
    Direction, FkViolation, ForeignKeyError, MigrateError, StatementError, UnverifiedStatement,
    database_error_text,
};
pub use graph::{
    DowngradeTarget, RevisionGraph, UpgradeTarget, plan_downgrade, plan_upgrade,
    rows_after_downgrade, rows_after_upgrade,
};
pub use interrupt::{Canceller, Interrupt, Interrupted, SecondConnection, StatementFate};
pub use offline::{offline_downgrade_sql, offline_upgrade_sql};
pub use options::{DEFAULT_VERSION_TABLE, Event, LockMode, RunOptions, VersionTable};
pub use revision::{
    REVISION_ID_LEN, Revision, SLUG_MAX_LEN, TODO_DIRECTIVE, is_revision_id, new_revision_id,
    now_timestamp, parse_revision, read_revision, render_revision, slug, write_revision,
};
pub use runner::{current, downgrade, partial_progress, stamp, upgrade};
pub use split::{Segment, Statement, split_segments, split_statements};
pub use sqlite::sqlite_connect_options;
