//! Constraint names the renderer derives rather than reads: the name a
//! database gives an unnamed constraint, and on MySQL the deterministic
//! name retort gives every constraint it creates (see `mysql`).

use retort_diff::Constraint;
use retort_schema::{ConstraintKind, Dialect, Schema, Table, implied_constraint_name};

/// Whether the renderer names every constraint it creates (see `mysql`):
/// MySQL, whose own names cannot be predicted.
pub(crate) fn names_created_constraints(dialect: Dialect) -> bool {
    matches!(dialect, Dialect::Mysql)
}

/// `table` with every unnamed unique, foreign-key and check constraint
/// given its deterministic name.
pub(crate) fn with_constraint_names(table: &Table) -> Table {
    let mut named = table.clone();
    let state = Schema {
        tables: vec![table.clone()],
        ..Schema::default()
    };
    for unique in &mut named.unique_constraints {
        if unique.name.is_none() {
            unique.name = implied(table, &Constraint::Unique(unique.clone()), &state);
        }
    }
    for fk in &mut named.foreign_keys {
        if fk.name.is_none() {
            fk.name = implied(table, &Constraint::ForeignKey(fk.clone()), &state);
        }
    }
    for check in &mut named.checks {
        if check.name.is_none() {
            check.name = implied(table, &Constraint::Check(check.clone()), &state);
        }
    }
    named
}

fn implied(table: &Table, constraint: &Constraint, state: &Schema) -> Option<String> {
    implied_name(&table.name, constraint, state, Dialect::Mysql)
}

/// The name to create `constraint` with: its own, or on MySQL (where
/// retort names what it creates) the deterministic implied name.
pub(crate) fn creation_name(
    table: &str,
    constraint: &Constraint,
    state: &Schema,
    dialect: Dialect,
) -> Option<String> {
    match constraint.name() {
        Some(name) => Some(name.to_string()),
        None if names_created_constraints(dialect) => {
            implied_name(table, constraint, state, dialect)
        }
        None => None,
    }
}

/// The name `dialect` gave `constraint` if it was created unnamed (on
/// MySQL: the name retort gave it).
pub(crate) fn implied_name(
    table: &str,
    constraint: &Constraint,
    state: &Schema,
    dialect: Dialect,
) -> Option<String> {
    let (kind, columns) = match constraint {
        Constraint::PrimaryKey(pk) => (ConstraintKind::PrimaryKey, pk.columns.clone()),
        Constraint::Unique(unique) => (ConstraintKind::Unique, unique.columns.clone()),
        Constraint::ForeignKey(fk) => (ConstraintKind::ForeignKey, fk.columns.clone()),
        Constraint::Check(check) => {
            // The database names a check after the one column it uses.
            let used = state
                .table(table)
                .map(|t| {
                    t.columns
                        .iter()
                        .filter(|c| mentions(&check.expression, &c.name))
                        .map(|c| c.name.clone())
                        .collect()
                })
                .unwrap_or_default();
            (ConstraintKind::Check, used)
        }
    };
    implied_constraint_name(dialect, table, kind, &columns)
}

/// Whether `word` occurs in `expression` as a whole identifier.
fn mentions(expression: &str, word: &str) -> bool {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    expression.match_indices(word).any(|(at, _)| {
        let before = expression[..at].chars().next_back();
        let after = expression[at + word.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}
