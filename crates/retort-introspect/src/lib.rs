//! Reads a live database catalog into retort's schema IR.
//!
//! The introspector is the other producer of a [`Schema`](retort_schema::Schema) besides the model
//! loader (`retort-models`). A database created from some DDL must introspect
//! *equal* (after [`Schema::normalize`](retort_schema::Schema::normalize)) to what the loader reads from the same
//! DDL: that equality is what makes `retort check` report "in sync", so every
//! piece of canonical text (types, defaults, expressions) goes through the
//! loader's own canonicalisers rather than a second implementation here.
//!
//! ```no_run
//! # async fn run(conn: &mut sqlx::SqliteConnection) -> Result<(), retort_introspect::IntrospectError> {
//! use retort_introspect::{IntrospectOptions, introspect_sqlite};
//!
//! let schema = introspect_sqlite(conn, &IntrospectOptions::default()).await?;
//! for table in &schema.tables {
//!     println!("{}: {} columns", table.name, table.columns.len());
//! }
//! # Ok(()) }
//! ```
//!
//! Design decision: each catalog relation is read once for all tables (SQLite's
//! table-valued pragma functions joined against `sqlite_schema`), so the number
//! of queries is constant whatever the table count; the rows are then turned
//! into IR by pure functions that are tested without a database. Backends live
//! in their own modules (`sqlite/`, `postgres/`, `mysql/`). PostgreSQL
//! reads raw `pg_catalog` columns in seven bulk queries, see
//! [`introspect_postgres`]; MySQL and MariaDB read `information_schema` in
//! at most seven, see [`introspect_mysql`].
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod mysql;
mod postgres;
mod reader;
mod sqlite;

pub use mysql::introspect_mysql;
pub use postgres::introspect_postgres;
pub use sqlite::introspect_sqlite;

use std::sync::Arc;

/// What to read and what to leave out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntrospectOptions {
    /// retort's own bookkeeping table, left out of the introspected schema
    /// (with its indexes and triggers) so it never shows up as drift.
    pub version_table: String,
    /// retort's other bookkeeping tables, named by the runner that keeps
    /// them (MySQL's record of partly applied revisions, whose name is cut
    /// to fit the identifier limit), left out like the version table.
    pub bookkeeping_tables: Vec<String>,
    /// PostgreSQL: the schemas (namespaces) to read. Empty means the
    /// connection's `current_schema()`. Tables of the first (the default
    /// schema) are reported with `schema: None`, the others with their
    /// schema's name. SQLite and MySQL ignore it (MySQL reads the
    /// connection's current database, `DATABASE()`).
    pub schemas: Vec<String>,
    /// The objects the caller leaves out (its table filters). An object
    /// with a feature retort cannot carry is refused only where it is
    /// kept: an excluded one is never compared, so it need not fail the run.
    /// PostgreSQL and MySQL ask it; SQLite has nothing it refuses this way.
    pub excluded: Exclusions,
}

impl Default for IntrospectOptions {
    fn default() -> Self {
        IntrospectOptions {
            version_table: "retort_version".to_string(),
            bookkeeping_tables: vec!["retort_version_progress".to_string()],
            schemas: Vec::new(),
            excluded: Exclusions::default(),
        }
    }
}

/// Whether an object is left out, asked with its table's schema as the IR
/// writes it (`None` in the default schema), its table's name and, for an
/// index or constraint, its own name (`None` asks about the whole table).
type ExcludedFn = dyn Fn(Option<&str>, &str, Option<&str>) -> bool + Send + Sync;

/// The caller's table filters, as a predicate (none: everything is kept).
#[derive(Clone, Default)]
pub struct Exclusions(Option<Arc<ExcludedFn>>);

impl Exclusions {
    /// `excludes(schema, table, object)`: see [`IntrospectOptions::excluded`].
    pub fn new(
        excludes: impl Fn(Option<&str>, &str, Option<&str>) -> bool + Send + Sync + 'static,
    ) -> Self {
        Exclusions(Some(Arc::new(excludes)))
    }

    /// Whether the table (with `object: None`) or one of its indexes or
    /// constraints is left out.
    pub fn excludes(&self, schema: Option<&str>, table: &str, object: Option<&str>) -> bool {
        self.0.as_ref().is_some_and(|excludes| {
            excludes(schema, table, None)
                || object.is_some_and(|o| excludes(schema, table, Some(o)))
        })
    }
}

impl std::fmt::Debug for Exclusions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Exclusions(..)"
        } else {
            "Exclusions(none)"
        })
    }
}

/// Two sets of exclusions are equal when they are the same predicate.
impl PartialEq for Exclusions {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        }
    }
}

impl Eq for Exclusions {}

/// Why a catalog could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IntrospectError {
    /// A catalog query failed (connection lost, database locked, a SQLite too
    /// old for the table-valued pragma functions, which need 3.16).
    #[error("cannot read the database catalog ({what})")]
    Query {
        /// Which catalog read failed, e.g. `table columns (pragma_table_xinfo)`.
        what: &'static str,
        #[source]
        source: sqlx::Error,
    },
    /// The catalog holds text retort cannot understand, such as a
    /// `sqlite_schema.sql` statement that fails to parse.
    #[error(
        "cannot understand the catalog entry for `{table}`: {message}; \
         please report this statement to retort"
    )]
    Catalog {
        /// The table (or index, view, trigger) whose catalog entry failed.
        table: String,
        message: String,
    },
    /// A table, index, constraint or column has a feature the schema model
    /// cannot carry yet: read as something else, it would be diffed and
    /// recreated without it. `message` names the object and the way out.
    #[error("{message}")]
    Unsupported {
        /// The table the object belongs to.
        table: String,
        message: String,
    },
}
