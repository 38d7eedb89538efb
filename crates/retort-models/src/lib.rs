//! The model loader: reads the tables a project declares in SQL DDL files
//! into retort's schema IR ([`retort_schema::Schema`]).
//!
//! Model files hold `CREATE TABLE` and `CREATE INDEX` statements (and, for
//! PostgreSQL, `CREATE TYPE … AS ENUM` and `COMMENT ON`), written in the
//! dialect of the target database and parsed with sqlparser in that
//! dialect. [`load_files`] reads files or directories of `*.sql`,
//! [`load_str`] one string. Every problem is collected, not just the first:
//! [`ModelError::Invalid`] carries [`Diagnostics`], each with a code and a
//! `path:line:column`, which [`ModelError::render_fancy`] shows with a
//! source excerpt.
//!
//! ```
//! use retort_models::load_str;
//! use retort_schema::{ColumnType, Dialect};
//!
//! let schema = load_str(
//!     "CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(255) NOT NULL UNIQUE);",
//!     "schema.sql",
//!     Dialect::Sqlite,
//! )?;
//! let users = schema.table("users").unwrap();
//! assert_eq!(users.column("email").unwrap().ty, ColumnType::Varchar { length: Some(255) });
//! # Ok::<(), retort_models::ModelError>(())
//! ```
//!
//! Design decision: the same canonicalisation functions ([`column_type`],
//! [`default_value`], [`canonical_expression`], [`parse_create_table`],
//! [`parse_create_index`]) are public so that the introspector turns catalog
//! text into the IR exactly as the loader turns model text into it. Any
//! difference between the two paths would show up as a false diff.

#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod canonical;
mod depth;
mod error;
mod interval;
mod loader;
mod refusals;

use std::io::BufRead;
use std::path::{Path, PathBuf};

use retort_schema::{Dialect, Index, Schema, Table};

pub use canonical::{
    Side, canonical_expression, canonical_expression_of, canonical_mysql_table, column_default,
    column_type, default_value, left_associative, name_parts, postgres_precedence, type_name_part,
    typed_default,
};
pub use error::{Diagnostic, Diagnostics, ModelError};

use loader::Loader;
pub use loader::{RenameHint, UnnamedIndexName};

/// Reads model files into one normalised schema. A directory stands for
/// all `*.sql` files directly in it, sorted by name; files are read in the
/// order given. Tables may reference tables of any other file.
pub fn load_files(paths: &[PathBuf], dialect: Dialect) -> Result<Schema, ModelError> {
    let mut loader = Loader::new(dialect);
    for path in paths {
        if path.is_dir() {
            for file in sql_files_in(path)? {
                add_file(&mut loader, &file)?;
            }
        } else {
            add_file(&mut loader, path)?;
        }
    }
    loader.finish()
}

/// Like [`load_files`], but a `CREATE INDEX` without a name (otherwise an
/// `unnamed-index` error) is named by `unnamed_index_name(table, columns)`,
/// where `columns` are the index's plain columns and `expr` for each
/// expression part: a project's naming convention.
pub fn load_files_with(
    paths: &[PathBuf],
    dialect: Dialect,
    unnamed_index_name: UnnamedIndexName,
) -> Result<Schema, ModelError> {
    let mut loader = Loader::new(dialect);
    loader.name_unnamed_indexes(unnamed_index_name);
    for path in paths {
        if path.is_dir() {
            for file in sql_files_in(path)? {
                add_file(&mut loader, &file)?;
            }
        } else {
            add_file(&mut loader, path)?;
        }
    }
    loader.finish()
}

/// The `-- retort:renamed_from OLD` hints in the model files (see
/// [`RenameHint`]), in file and line order. Only reading a file can fail
/// here: problems in the DDL are [`load_files`]'s to report.
pub fn rename_hints(paths: &[PathBuf], dialect: Dialect) -> Result<Vec<RenameHint>, ModelError> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            files.extend(sql_files_in(path)?);
        } else {
            files.push(path.clone());
        }
    }
    let mut loader = Loader::new(dialect);
    for file in files {
        let io = |source| ModelError::Io {
            path: file.clone(),
            source,
        };
        // Parsing a file again is the cost of a hint: files without one
        // (the usual case) are only scanned for the marker, a line at a
        // time, so that `check` does not hold the models' text again
        // beside both schemas.
        if has_line_containing(&file, loader::RENAMED_FROM).map_err(io)? {
            let text = std::fs::read_to_string(&file).map_err(io)?;
            loader.add_source(&file.display().to_string(), text);
        }
    }
    Ok(loader.rename_hints().to_vec())
}

fn has_line_containing(path: &Path, marker: &str) -> std::io::Result<bool> {
    let mut reader = std::io::BufReader::new(std::fs::File::open(path)?);
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(false);
        }
        if line
            .windows(marker.len())
            .any(|window| window == marker.as_bytes())
        {
            return Ok(true);
        }
    }
}

/// Like [`rename_hints`], for one string; `origin` names it.
pub fn rename_hints_str(source: &str, origin: &str, dialect: Dialect) -> Vec<RenameHint> {
    let mut loader = Loader::new(dialect);
    loader.add_source(origin, source.to_string());
    loader.rename_hints().to_vec()
}

/// Reads model DDL from a string into a normalised schema; `origin` names
/// it in diagnostics (usually the file name).
pub fn load_str(source: &str, origin: &str, dialect: Dialect) -> Result<Schema, ModelError> {
    let mut loader = Loader::new(dialect);
    loader.add_source(origin, source.to_string());
    loader.finish()
}

/// Reads one `CREATE TABLE` statement (such as SQLite's `sqlite_master.sql`)
/// into a normalised [`Table`], exactly as the loader would.
///
/// Only the table itself is checked. A foreign key written `REFERENCES t`
/// without columns keeps empty `referred_columns`, since `t`'s primary key
/// is not known here: [`resolve_foreign_keys`] fills them in once every
/// table is read.
pub fn parse_create_table(sql: &str, dialect: Dialect) -> Result<Table, ModelError> {
    let mut loader = Loader::new(dialect);
    loader.add_source("<sql>", sql.to_string());
    loader.finish_single_table()
}

/// Reads one `CREATE [UNIQUE] INDEX` statement (such as SQLite's
/// `sqlite_master.sql` for an index) into the name of the table it indexes
/// and the [`Index`]: its name, parts (plain columns or canonical
/// expressions, with `DESC`), uniqueness, canonical `WHERE` predicate and
/// non-default access method. Whether the table and columns exist is not
/// checked.
pub fn parse_create_index(sql: &str, dialect: Dialect) -> Result<(String, Index), ModelError> {
    let mut loader = Loader::new(dialect);
    loader.add_source("<sql>", sql.to_string());
    loader.finish_single_index()
}

/// Whether `sql` (an expression or statements) nests more deeply than
/// retort reads safely: a chain of hundreds of operators or dozens of
/// nested parentheses, whose parse tree would overflow the stack when it
/// is printed or dropped. Code that parses catalog or revision text with
/// sqlparser itself checks this first, as the loader does; text that does
/// not tokenize is not too deep.
pub fn nests_too_deeply(sql: &str, dialect: Dialect) -> bool {
    let sql_dialect = canonical::sql_dialect(dialect);
    sqlparser::tokenizer::Tokenizer::new(&*sql_dialect, sql)
        .tokenize_with_location()
        .is_ok_and(|tokens| depth::too_deep(&tokens).is_some())
}

/// Fills in the referred columns of foreign keys written without them
/// (`REFERENCES t`) with `t`'s primary key, as the loader does. Keys whose
/// table is not in `schema`, or has no primary key, are left alone.
pub fn resolve_foreign_keys(schema: &mut Schema) {
    let primary_keys: Vec<(Option<String>, String, Vec<String>)> = schema
        .tables
        .iter()
        .filter_map(|t| {
            let pk = t.primary_key.as_ref()?;
            Some((t.schema.clone(), t.name.clone(), pk.columns.clone()))
        })
        .collect();
    for table in &mut schema.tables {
        for key in &mut table.foreign_keys {
            if !key.referred_columns.is_empty() {
                continue;
            }
            if let Some((_, _, columns)) = primary_keys
                .iter()
                .find(|(s, n, _)| *s == key.referred_schema && *n == key.referred_table)
            {
                key.referred_columns = columns.clone();
            }
        }
    }
}

fn add_file(loader: &mut Loader, path: &Path) -> Result<(), ModelError> {
    let text = std::fs::read_to_string(path).map_err(|source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    loader.add_source(&path.display().to_string(), text);
    Ok(())
}

fn sql_files_in(dir: &Path) -> Result<Vec<PathBuf>, ModelError> {
    let io = |source| ModelError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        let is_sql = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("sql"));
        if is_sql && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}
