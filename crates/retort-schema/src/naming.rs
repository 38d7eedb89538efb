//! The names databases give constraints created without one.
//!
//! A model may leave a constraint unnamed; PostgreSQL then names it after
//! the table and columns. The introspector reads such a name back as
//! "unnamed" (so it matches the model), and the renderer needs the same
//! name to drop the constraint later: both use [`implied_constraint_name`],
//! so the two can never disagree.
//!
//! MySQL's own names are not predictable from the definition (foreign keys
//! are numbered `t_ibfk_1`, `t_ibfk_2` in creation order), so there the
//! roles are reversed: the renderer names every constraint it creates
//! explicitly, with the PostgreSQL-style name [`implied_constraint_name`]
//! returns for MySQL, and a later drop of the unnamed model constraint
//! uses the same name. The introspector keeps MySQL's real names.

use crate::Dialect;

/// The kinds of constraint a database names by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConstraintKind {
    PrimaryKey,
    Unique,
    ForeignKey,
    /// A check; `columns` are the table columns its expression uses.
    Check,
}

/// PostgreSQL's longest identifier, in bytes (`NAMEDATALEN - 1`).
const POSTGRES_MAX_IDENTIFIER_BYTES: usize = 63;

/// MySQL's longest identifier, in characters
/// (<https://dev.mysql.com/doc/refman/8.0/en/identifier-length.html>).
const MYSQL_MAX_IDENTIFIER_CHARS: usize = 64;

/// The name `dialect` gives an unnamed constraint of `kind` on `table` over
/// `columns`, where that name is predictable; `None` elsewhere.
///
/// PostgreSQL (`ChooseConstraintName` / `ChooseIndexName` in
/// `src/backend/commands/indexcmds.c` and `tablecmds.c`): `{table}_pkey`,
/// `{table}_{columns}_key`, `{table}_{columns}_fkey`, and
/// `{table}_{column}_check` when the check uses one column, else
/// `{table}_check`; shortened to 63 bytes. A name that collided and got a
/// number appended (`t_check1`) is not predicted.
///
/// MySQL: the same names, which retort gives explicitly to every unnamed
/// constraint it creates there, shortened to 64 characters; no name for a
/// primary key (MySQL always calls it `PRIMARY` and drops it without one).
pub fn implied_constraint_name(
    dialect: Dialect,
    table: &str,
    kind: ConstraintKind,
    columns: &[String],
) -> Option<String> {
    let limit = match (dialect, kind) {
        (Dialect::Postgres, _) => Limit::Bytes(POSTGRES_MAX_IDENTIFIER_BYTES),
        (Dialect::Mysql, ConstraintKind::PrimaryKey) | (Dialect::Sqlite, _) => return None,
        (Dialect::Mysql, _) => Limit::Chars(MYSQL_MAX_IDENTIFIER_CHARS),
    };
    let joined = columns.join("_");
    let (middle, label) = match kind {
        ConstraintKind::PrimaryKey => ("", "pkey"),
        ConstraintKind::Unique => (joined.as_str(), "key"),
        ConstraintKind::ForeignKey => (joined.as_str(), "fkey"),
        ConstraintKind::Check if columns.len() == 1 => (joined.as_str(), "check"),
        ConstraintKind::Check => ("", "check"),
    };
    Some(make_object_name(table, middle, label, limit))
}

/// How an identifier's length is limited: PostgreSQL counts bytes, MySQL
/// characters.
#[derive(Clone, Copy)]
enum Limit {
    Bytes(usize),
    Chars(usize),
}

impl Limit {
    fn max(self) -> usize {
        match self {
            Limit::Bytes(n) | Limit::Chars(n) => n,
        }
    }

    fn len(self, name: &str) -> usize {
        match self {
            Limit::Bytes(_) => name.len(),
            Limit::Chars(_) => name.chars().count(),
        }
    }

    /// The longest prefix of `name` of at most `len` units.
    fn clip(self, name: &str, len: usize) -> String {
        match self {
            Limit::Bytes(_) => {
                let mut end = len.min(name.len());
                while !name.is_char_boundary(end) {
                    end -= 1;
                }
                name[..end].to_string()
            }
            Limit::Chars(_) => name.chars().take(len).collect(),
        }
    }
}

/// PostgreSQL's `makeObjectName`: `name1_name2_label`, with name1 and name2
/// shortened (the longer first) to fit the identifier limit.
fn make_object_name(name1: &str, name2: &str, label: &str, limit: Limit) -> String {
    let mut overhead = label.len() + 1;
    if !name2.is_empty() {
        overhead += 1;
    }
    let available = limit.max().saturating_sub(overhead);
    let (mut len1, mut len2) = (limit.len(name1), limit.len(name2));
    while len1 + len2 > available {
        if len1 > len2 {
            len1 -= 1;
        } else {
            len2 -= 1;
        }
    }
    let clip = |name: &str, len: usize| limit.clip(name, len);
    let mut out = clip(name1, len1);
    if !name2.is_empty() {
        out.push('_');
        out.push_str(&clip(name2, len2));
    }
    out.push('_');
    out.push_str(label);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(columns: &[&str]) -> Vec<String> {
        columns.iter().map(|c| c.to_string()).collect()
    }

    #[test]
    fn postgres_names_follow_choose_constraint_name() {
        let pg = |kind, columns: &[&str]| {
            implied_constraint_name(Dialect::Postgres, "todos", kind, &names(columns))
        };
        assert_eq!(
            pg(ConstraintKind::PrimaryKey, &["id"]).as_deref(),
            Some("todos_pkey")
        );
        assert_eq!(
            pg(ConstraintKind::Unique, &["a", "b"]).as_deref(),
            Some("todos_a_b_key")
        );
        assert_eq!(
            pg(ConstraintKind::ForeignKey, &["owner_id"]).as_deref(),
            Some("todos_owner_id_fkey")
        );
        assert_eq!(
            pg(ConstraintKind::Check, &["n"]).as_deref(),
            Some("todos_n_check")
        );
        assert_eq!(
            pg(ConstraintKind::Check, &["a", "b"]).as_deref(),
            Some("todos_check")
        );
        assert_eq!(
            implied_constraint_name(Dialect::Sqlite, "t", ConstraintKind::PrimaryKey, &[]),
            None
        );
    }

    #[test]
    fn mysql_names_are_postgres_style_within_64_characters() {
        let my = |table: &str, kind, columns: &[&str]| {
            implied_constraint_name(Dialect::Mysql, table, kind, &names(columns))
        };
        assert_eq!(my("todos", ConstraintKind::PrimaryKey, &["id"]), None);
        assert_eq!(
            my("todos", ConstraintKind::ForeignKey, &["owner_id"]).as_deref(),
            Some("todos_owner_id_fkey")
        );
        assert_eq!(
            my("todos", ConstraintKind::Unique, &["a", "b"]).as_deref(),
            Some("todos_a_b_key")
        );
        assert_eq!(
            my("todos", ConstraintKind::Check, &["n"]).as_deref(),
            Some("todos_n_check")
        );
        let long = my(&"é".repeat(50), ConstraintKind::Unique, &[&"c".repeat(30)]).unwrap();
        assert_eq!(long.chars().count(), 64);
        assert_eq!(long, format!("{}_{}_key", "é".repeat(30), "c".repeat(29)));
    }

    #[test]
    fn long_names_are_shortened_to_63_bytes_longer_part_first() {
        let table = "t".repeat(50);
        let column = "c".repeat(30);
        let name = implied_constraint_name(
            Dialect::Postgres,
            &table,
            ConstraintKind::Unique,
            &names(&[&column]),
        )
        .unwrap();
        assert_eq!(name.len(), 63);
        assert!(name.ends_with("_key"));
        assert_eq!(name, format!("{}_{}_key", "t".repeat(29), "c".repeat(29)));
    }
}
