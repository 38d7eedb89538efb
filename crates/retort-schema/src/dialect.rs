//! The databases retort speaks, and what each of them can do.
//!
//! Code branches on the capability predicates below, never on
//! `dialect == Sqlite` scattered around, so that a new capability or dialect
//! is one place to change.

use crate::{NameKind, NameRules};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

/// A database dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    Sqlite,
    Postgres,
    Mysql,
}

/// The error for a dialect name that retort does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown dialect `{0}`: expected sqlite, postgres or mysql")]
pub struct UnknownDialect(pub String);

impl Dialect {
    /// Every dialect, in a stable order.
    pub const ALL: [Dialect; 3] = [Dialect::Sqlite, Dialect::Postgres, Dialect::Mysql];

    /// The lowercase name used in configuration and output.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
            Dialect::Mysql => "mysql",
        }
    }

    /// The dialect a connection URL points at, from its scheme
    /// (`sqlite:`, `postgres://` / `postgresql://`, `mysql://` / `mariadb://`).
    pub fn from_url(url: &str) -> Option<Dialect> {
        let scheme = url.split(':').next()?.to_ascii_lowercase();
        match scheme.as_str() {
            "sqlite" => Some(Dialect::Sqlite),
            "postgres" | "postgresql" => Some(Dialect::Postgres),
            "mysql" | "mariadb" => Some(Dialect::Mysql),
            _ => None,
        }
    }

    /// DDL runs inside a transaction and rolls back with it, so a revision
    /// either applies whole or not at all. MySQL commits implicitly before
    /// and after every `CREATE`/`ALTER`/`DROP`.
    pub fn transactional_ddl(self) -> bool {
        matches!(self, Dialect::Sqlite | Dialect::Postgres)
    }

    /// `ALTER TABLE t ALTER COLUMN c TYPE …` / `SET NOT NULL` / `SET DEFAULT`
    /// (or MySQL's `MODIFY COLUMN`) exist. SQLite has none of them: such a
    /// change is a table rebuild.
    pub fn alter_column(self) -> bool {
        !matches!(self, Dialect::Sqlite)
    }

    /// `ALTER TABLE t ADD CONSTRAINT …` / `DROP CONSTRAINT …` exist. SQLite
    /// has neither: adding a foreign key, unique or check constraint to an
    /// existing table is a table rebuild.
    pub fn alter_constraints(self) -> bool {
        !matches!(self, Dialect::Sqlite)
    }

    /// `ALTER TABLE t DROP COLUMN c` can drop any column. SQLite's (3.35+)
    /// refuses columns that are indexed, keyed or constrained, so retort
    /// rebuilds the table instead, which always works.
    pub fn drop_column(self) -> bool {
        !matches!(self, Dialect::Sqlite)
    }

    /// `ALTER TABLE t ADD COLUMN c … NOT NULL` without a default and
    /// `ADD COLUMN` with a non-constant default work. SQLite refuses both.
    pub fn add_column_unrestricted(self) -> bool {
        !matches!(self, Dialect::Sqlite)
    }

    /// Partial indexes: `CREATE INDEX i ON t (c) WHERE c IS NOT NULL`.
    pub fn partial_index(self) -> bool {
        matches!(self, Dialect::Sqlite | Dialect::Postgres)
    }

    /// Named enum types: `CREATE TYPE mood AS ENUM ('sad', 'ok')`.
    pub fn named_enums(self) -> bool {
        matches!(self, Dialect::Postgres)
    }

    /// Table and column comments: `COMMENT ON TABLE t IS '…'` or MySQL's
    /// `COMMENT '…'` clause.
    pub fn comments(self) -> bool {
        matches!(self, Dialect::Postgres | Dialect::Mysql)
    }

    /// `CREATE TABLE` may name a table that does not exist yet in a
    /// `REFERENCES` clause (SQLite checks foreign keys only when rows are
    /// written), so tables in a foreign-key cycle can be created with their
    /// foreign keys inline. Elsewhere the cycle must be broken with a later
    /// `ALTER TABLE … ADD FOREIGN KEY`.
    pub fn forward_references(self) -> bool {
        matches!(self, Dialect::Sqlite)
    }

    /// `ALTER TABLE t RENAME COLUMN a TO b` exists and keeps the values,
    /// carrying indexes and keys along: SQLite 3.25+ (retort bundles a newer
    /// one), MySQL 8.0+ and MariaDB 10.5+, every supported PostgreSQL. (Older
    /// MySQL needs `CHANGE COLUMN` with the full definition; retort does not
    /// target it.)
    pub fn rename_column(self) -> bool {
        true
    }

    /// Unquoted identifiers are folded to lower case as the statement is
    /// read, so `CREATE TABLE Users` creates `users` and `"Users"` is
    /// another table (PostgreSQL). SQLite and MySQL keep the declared
    /// spelling and compare names by [`Dialect::identifier_key`] instead.
    pub fn folds_unquoted_identifiers(self) -> bool {
        matches!(self, Dialect::Postgres)
    }

    /// The identity of a `kind` name with the server's default settings:
    /// two names are the same object when their keys are equal (SQLite:
    /// `Users` and `users`; PostgreSQL, whose folding happened while
    /// reading: only equal names). See [`NameRules`] for a database whose
    /// settings are known.
    pub fn identifier_key(self, kind: NameKind, name: &str) -> Cow<'_, str> {
        NameRules::new(self).key(kind, name)
    }

    /// Index names are scoped to the table (MySQL: `DROP INDEX i ON t`)
    /// rather than to the schema (`DROP INDEX i`).
    pub fn table_scoped_index_names(self) -> bool {
        matches!(self, Dialect::Mysql)
    }

    /// `name` as a quoted identifier: `"x"` (SQLite, PostgreSQL) or `` `x` ``
    /// (MySQL), the quote character doubled inside. Every identifier that
    /// reaches SQL text goes through here, whatever it holds: quotes,
    /// backticks, `;`, comment markers, newlines.
    pub fn quote_identifier(self, name: &str) -> String {
        let q = match self {
            Dialect::Mysql => '`',
            Dialect::Sqlite | Dialect::Postgres => '"',
        };
        let mut out = String::with_capacity(name.len() + 2);
        out.push(q);
        for c in name.chars() {
            if c == q {
                out.push(q);
            }
            out.push(c);
        }
        out.push(q);
        out
    }

    /// `text` as a string literal: single quotes, a quote inside doubled.
    /// MySQL also reads a backslash as an escape (unless `sql_mode` has
    /// `NO_BACKSLASH_ESCAPES`, which retort's connections clear), so there a
    /// backslash is doubled too. Every literal that reaches SQL text goes
    /// through here.
    pub fn quote_string(self, text: &str) -> String {
        let mut out = String::with_capacity(text.len() + 2);
        out.push('\'');
        for c in text.chars() {
            match c {
                '\'' => out.push_str("''"),
                '\\' if self == Dialect::Mysql => out.push_str("\\\\"),
                other => out.push(other),
            }
        }
        out.push('\'');
        out
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Dialect {
    type Err = UnknownDialect;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "sqlite" | "sqlite3" => Ok(Dialect::Sqlite),
            "postgres" | "postgresql" | "pg" => Ok(Dialect::Postgres),
            "mysql" | "mariadb" => Ok(Dialect::Mysql),
            _ => Err(UnknownDialect(s.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn identifiers_double_their_quote_and_literals_their_escapes() {
        use super::Dialect;
        assert_eq!(Dialect::Sqlite.quote_identifier("a\"b`"), "\"a\"\"b`\"");
        assert_eq!(
            Dialect::Postgres.quote_identifier("a\"\"b"),
            "\"a\"\"\"\"b\""
        );
        assert_eq!(Dialect::Mysql.quote_identifier("a`b\""), "`a``b\"`");
        assert_eq!(Dialect::Postgres.quote_string("it's \\ x"), "'it''s \\ x'");
        assert_eq!(Dialect::Mysql.quote_string("it's \\ x"), "'it''s \\\\ x'");
    }

    use super::*;

    #[test]
    fn dialect_from_url_reads_the_scheme() {
        assert_eq!(Dialect::from_url("sqlite://app.db"), Some(Dialect::Sqlite));
        assert_eq!(Dialect::from_url("sqlite::memory:"), Some(Dialect::Sqlite));
        assert_eq!(
            Dialect::from_url("postgresql://u:p@h/db"),
            Some(Dialect::Postgres)
        );
        assert_eq!(Dialect::from_url("mariadb://h/db"), Some(Dialect::Mysql));
        assert_eq!(Dialect::from_url("oracle://h"), None);
    }

    #[test]
    fn dialect_names_round_trip() {
        for dialect in Dialect::ALL {
            assert_eq!(dialect.name().parse::<Dialect>(), Ok(dialect));
        }
        assert!("db2".parse::<Dialect>().is_err());
    }
}
