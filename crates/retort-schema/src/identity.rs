//! When two identifiers name the same object: each database's rules.
//!
//! - PostgreSQL folds unquoted identifiers to lower case while it reads a
//!   statement and compares names exactly afterwards
//!   (<https://www.postgresql.org/docs/current/sql-syntax-lexical.html#SQL-SYNTAX-IDENTIFIERS>);
//!   the model loader folds the same way, so names compare exactly here.
//! - SQLite compares every identifier ignoring ASCII case and keeps the
//!   declared spelling (`CREATE TABLE Users` is found as `users`).
//! - MySQL and MariaDB compare column, index and constraint names ignoring
//!   case; table names as the server's `lower_case_table_names` says
//!   (<https://dev.mysql.com/doc/refman/8.0/en/identifier-case-sensitivity.html>):
//!   0, the Linux default, compares them as written, 1 and 2 ignoring case.
//!
//! Names keep the spelling they were declared with; only comparison goes
//! through [`NameRules::key`].

use crate::{Dialect, Schema};
use std::borrow::Cow;

/// What an identifier names: dialects compare some kinds differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NameKind {
    Table,
    Column,
    Index,
    /// Primary-key, unique, foreign-key and check constraint names.
    Constraint,
    EnumType,
}

impl NameKind {
    /// Every kind, in a stable order.
    pub const ALL: [NameKind; 5] = [
        NameKind::Table,
        NameKind::Column,
        NameKind::Index,
        NameKind::Constraint,
        NameKind::EnumType,
    ];
}

/// How one database compares identifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameRules {
    dialect: Dialect,
    table_names_ignore_case: bool,
}

impl NameRules {
    /// The rules of `dialect` with the server's defaults (MySQL: table
    /// names compared as written, `lower_case_table_names = 0`).
    pub fn new(dialect: Dialect) -> Self {
        NameRules {
            dialect,
            table_names_ignore_case: false,
        }
    }

    /// The rules of the database `live` was read from: it carries MySQL's
    /// `lower_case_table_names` ([`Schema::table_names_ignore_case`]).
    pub fn of(dialect: Dialect, live: &Schema) -> Self {
        NameRules {
            dialect,
            table_names_ignore_case: live.table_names_ignore_case,
        }
    }

    /// Whether names of `kind` compare ignoring case.
    pub fn ignores_case(&self, kind: NameKind) -> bool {
        match self.dialect {
            Dialect::Postgres => false,
            Dialect::Sqlite => true,
            Dialect::Mysql => match kind {
                NameKind::Table | NameKind::EnumType => self.table_names_ignore_case,
                NameKind::Column | NameKind::Index | NameKind::Constraint => true,
            },
        }
    }

    /// Whether any kind of name compares ignoring case.
    pub fn ignores_any_case(&self) -> bool {
        NameKind::ALL
            .into_iter()
            .any(|kind| self.ignores_case(kind))
    }

    /// Whether every kind of name the dialect has compares ignoring case
    /// (SQLite; enum types count only where the dialect has them).
    pub fn ignores_every_case(&self) -> bool {
        NameKind::ALL
            .into_iter()
            .filter(|kind| *kind != NameKind::EnumType || self.dialect.named_enums())
            .all(|kind| self.ignores_case(kind))
    }

    /// The identity of `name`: two names of one kind are the same object
    /// exactly when their keys are equal.
    pub fn key<'a>(&self, kind: NameKind, name: &'a str) -> Cow<'a, str> {
        if !self.ignores_case(kind) {
            return Cow::Borrowed(name);
        }
        match self.dialect {
            // SQLite folds ASCII letters only (sqlite3StrICmp).
            Dialect::Sqlite if name.bytes().any(|b| b.is_ascii_uppercase()) => {
                Cow::Owned(name.to_ascii_lowercase())
            }
            // MySQL compares identifiers in a case-insensitive Unicode
            // collation.
            Dialect::Mysql if name.chars().any(char::is_uppercase) => {
                Cow::Owned(name.to_lowercase())
            }
            _ => Cow::Borrowed(name),
        }
    }

    /// Whether `a` and `b` name the same object of `kind`.
    pub fn same(&self, kind: NameKind, a: &str, b: &str) -> bool {
        a == b || self.key(kind, a) == self.key(kind, b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_dialect_compares_names_by_its_own_rules() {
        let pg = NameRules::new(Dialect::Postgres);
        assert!(!pg.same(NameKind::Table, "Users", "users"));
        assert!(!pg.same(NameKind::Column, "Name", "name"));

        let sqlite = NameRules::new(Dialect::Sqlite);
        for kind in [
            NameKind::Table,
            NameKind::Column,
            NameKind::Index,
            NameKind::Constraint,
        ] {
            assert!(sqlite.same(kind, "Users", "uSERS"));
        }
        // ASCII only, as SQLite itself.
        assert!(!sqlite.same(NameKind::Table, "Ärger", "ärger"));

        let mysql = NameRules::new(Dialect::Mysql);
        assert!(!mysql.same(NameKind::Table, "Users", "users"));
        assert!(mysql.same(NameKind::Column, "Name", "name"));
        assert!(mysql.same(NameKind::Index, "IX_Name", "ix_name"));
        assert!(mysql.same(NameKind::Constraint, "FK_A", "fk_a"));

        let folding = Schema {
            table_names_ignore_case: true,
            ..Schema::default()
        };
        let mysql = NameRules::of(Dialect::Mysql, &folding);
        assert!(mysql.same(NameKind::Table, "Users", "users"));

        assert!(sqlite.ignores_every_case());
        assert!(mysql.ignores_every_case());
        let mysql = NameRules::new(Dialect::Mysql);
        assert!(!mysql.ignores_every_case() && mysql.ignores_any_case());
        assert!(!pg.ignores_any_case());
    }

    #[test]
    fn a_key_borrows_names_already_in_their_folded_form() {
        let sqlite = NameRules::new(Dialect::Sqlite);
        assert!(matches!(
            sqlite.key(NameKind::Table, "users"),
            Cow::Borrowed(_)
        ));
        assert_eq!(sqlite.key(NameKind::Table, "Users"), "users");
    }
}
