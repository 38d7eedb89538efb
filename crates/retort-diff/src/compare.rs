//! Comparison: which ops turn one schema into the other, unordered.
//!
//! Everything is matched by a stated key and iterated in that key's order
//! (BTreeMap or sorted input), so the same pair of schemas always yields
//! the same ops in the same order before [`crate::order`] sorts them.

use crate::DiffOptions;
use crate::ops::{Constraint, Op};
use crate::order::foreign_keys_removed;
use retort_schema::{
    CheckConstraint, Column, ColumnType, DefaultValue, Dialect, ForeignKey, PrimaryKey, Schema,
    Table, UniqueConstraint,
};
use std::collections::BTreeMap;

/// The ops that turn `from` into `to`, in comparison order.
pub(crate) fn compare(from: &Schema, to: &Schema, options: &DiffOptions) -> Vec<Op> {
    let mut ops = Vec::new();

    let from_enums: BTreeMap<&str, _> = from.enums.iter().map(|e| (e.name.as_str(), e)).collect();
    let to_enums: BTreeMap<&str, _> = to.enums.iter().map(|e| (e.name.as_str(), e)).collect();
    for (name, old) in &from_enums {
        match to_enums.get(name) {
            None => ops.push(Op::DropEnum {
                enum_type: (*old).clone(),
            }),
            // One op for any change of the value list: the renderer picks
            // ADD VALUE or a rebuild (a drop + create would fail while a
            // column uses the type).
            Some(new) if new.values != old.values => ops.push(Op::AlterEnum {
                name: new.name.clone(),
                schema: new.schema.clone(),
                from_values: old.values.clone(),
                to_values: new.values.clone(),
            }),
            Some(_) => {}
        }
    }
    for (name, new) in &to_enums {
        if !from_enums.contains_key(name) {
            ops.push(Op::CreateEnum {
                enum_type: (*new).clone(),
            });
        }
    }

    let from_tables = tables_by_key(from);
    let to_tables = tables_by_key(to);
    for (key, old) in &from_tables {
        match to_tables.get(key) {
            None => ops.push(Op::DropTable {
                table: (*old).clone(),
            }),
            Some(new) => compare_table(old, new, options, &mut ops),
        }
    }
    for (key, new) in &to_tables {
        if !from_tables.contains_key(key) {
            ops.push(Op::CreateTable {
                table: (*new).clone(),
            });
        }
    }
    if options.dialect != Dialect::Sqlite {
        rebuild_foreign_keys_of_dropped_keys(from, &mut ops);
    }
    ops
}

/// A foreign key that stays while the key it refers to (the referred
/// table's primary key, unique constraint or unique index on its referred
/// columns) is dropped cannot stay in place meanwhile: PostgreSQL refuses
/// the drop (the foreign key depends on the key's index) and MySQL too
/// (errno 150) unless another index covers the columns. Such a foreign key
/// is dropped and created again; the ordering (rule 2) puts the drop before
/// the key's and the creation after the new key. SQLite checks keys only
/// when rows change, and its table rebuilds recreate them anyway.
fn rebuild_foreign_keys_of_dropped_keys(from: &Schema, ops: &mut Vec<Op>) {
    fn sorted(mut columns: Vec<&str>) -> Vec<&str> {
        columns.sort_unstable();
        columns
    }
    let mut dropped_keys: Vec<(&str, Vec<&str>)> = Vec::new();
    for op in ops.iter() {
        match op {
            Op::DropConstraint {
                table,
                constraint:
                    Constraint::PrimaryKey(PrimaryKey { columns, .. })
                    | Constraint::Unique(UniqueConstraint { columns, .. }),
            } => dropped_keys.push((table, sorted(columns.iter().map(String::as_str).collect()))),
            Op::DropIndex { table, index } if index.unique => {
                dropped_keys.push((table, sorted(index.column_names().collect())));
            }
            _ => {}
        }
    }
    if dropped_keys.is_empty() {
        return;
    }
    // Keys the plan drops anyway, a dropped table's included.
    let dropped_foreign_keys: Vec<(&str, &ForeignKey)> =
        ops.iter().flat_map(foreign_keys_removed).collect();
    let mut rebuilt = Vec::new();
    for table in &from.tables {
        for fk in &table.foreign_keys {
            let referred = sorted(fk.referred_columns.iter().map(String::as_str).collect());
            let refers_to_dropped = dropped_keys.iter().any(|(key_table, columns)| {
                *key_table == fk.referred_table && *columns == referred
            });
            if refers_to_dropped && !dropped_foreign_keys.contains(&(table.name.as_str(), fk)) {
                rebuilt.push((table.name.clone(), fk.clone()));
            }
        }
    }
    for (table, fk) in rebuilt {
        ops.push(Op::DropConstraint {
            table: table.clone(),
            constraint: Constraint::ForeignKey(fk.clone()),
        });
        ops.push(Op::CreateForeignKey {
            table,
            constraint: fk,
        });
    }
}

fn tables_by_key(schema: &Schema) -> BTreeMap<(Option<&str>, &str), &Table> {
    schema
        .tables
        .iter()
        .map(|t| ((t.schema.as_deref(), t.name.as_str()), t))
        .collect()
}

fn compare_table(from: &Table, to: &Table, options: &DiffOptions, ops: &mut Vec<Op>) {
    let table = || to.name.clone();

    // Column order is ignored: columns are matched by name.
    let from_columns: BTreeMap<&str, &Column> =
        from.columns.iter().map(|c| (c.name.as_str(), c)).collect();
    let to_columns: BTreeMap<&str, &Column> =
        to.columns.iter().map(|c| (c.name.as_str(), c)).collect();
    for (name, old) in &from_columns {
        match to_columns.get(name) {
            None => ops.push(Op::DropColumn {
                table: table(),
                column: (*old).clone(),
            }),
            Some(new) if !same_column_of(from, old, to, new, options) => {
                ops.push(Op::AlterColumn {
                    table: table(),
                    from: (*old).clone(),
                    to: (*new).clone(),
                })
            }
            Some(_) => {}
        }
    }
    for (name, new) in &to_columns {
        if !from_columns.contains_key(name) {
            ops.push(Op::AddColumn {
                table: table(),
                column: (*new).clone(),
            });
        }
    }

    if options.dialect.comments() && from.comment != to.comment {
        ops.push(Op::AlterTableComment {
            table: table(),
            from: from.comment.clone(),
            to: to.comment.clone(),
        });
    }

    if !same_primary_key(from.primary_key.as_ref(), to.primary_key.as_ref()) {
        if let Some(old) = &from.primary_key {
            ops.push(Op::DropConstraint {
                table: table(),
                constraint: Constraint::PrimaryKey(old.clone()),
            });
        }
        if let Some(new) = &to.primary_key {
            ops.push(Op::CreatePrimaryKey {
                table: table(),
                constraint: new.clone(),
            });
        }
    }

    let from_indexes: BTreeMap<&str, _> =
        from.indexes.iter().map(|i| (i.name.as_str(), i)).collect();
    let to_indexes: BTreeMap<&str, _> = to.indexes.iter().map(|i| (i.name.as_str(), i)).collect();
    for (name, old) in &from_indexes {
        if to_indexes.get(name) != Some(old) {
            ops.push(Op::DropIndex {
                table: table(),
                index: (*old).clone(),
            });
        }
    }
    for (name, new) in &to_indexes {
        if from_indexes.get(name) != Some(new) {
            ops.push(Op::CreateIndex {
                table: table(),
                index: (*new).clone(),
            });
        }
    }

    let uniques = match_constraints(
        &from.unique_constraints,
        &to.unique_constraints,
        |c: &UniqueConstraint| c.name.as_deref(),
        |a, b| a.columns == b.columns && a.nulls_not_distinct == b.nulls_not_distinct,
    );
    push_constraint_ops(uniques, ops, &to.name, Constraint::Unique, |table, c| {
        Op::CreateUniqueConstraint {
            table,
            constraint: c,
        }
    });
    let foreign_keys = match_constraints(
        &from.foreign_keys,
        &to.foreign_keys,
        |c: &ForeignKey| c.name.as_deref(),
        same_foreign_key,
    );
    push_constraint_ops(
        foreign_keys,
        ops,
        &to.name,
        Constraint::ForeignKey,
        |table, c| Op::CreateForeignKey {
            table,
            constraint: c,
        },
    );
    let checks = match_constraints(
        &from.checks,
        &to.checks,
        |c: &CheckConstraint| c.name.as_deref(),
        |a, b| a.expression == b.expression,
    );
    push_constraint_ops(checks, ops, &to.name, Constraint::Check, |table, c| {
        Op::CreateCheckConstraint {
            table,
            constraint: c,
        }
    });
}

fn push_constraint_ops<T: Clone>(
    (removed, added): (Vec<&T>, Vec<&T>),
    ops: &mut Vec<Op>,
    table: &str,
    wrap: fn(T) -> Constraint,
    create: fn(String, T) -> Op,
) {
    for old in removed {
        ops.push(Op::DropConstraint {
            table: table.to_string(),
            constraint: wrap(old.clone()),
        });
    }
    for new in added {
        ops.push(create(table.to_string(), new.clone()));
    }
}

/// Pairs constraints: by name when both sides are named, otherwise by
/// definition (a catalog may name what the model left unnamed, and vice
/// versa; a guessed name would be wrong on some database). Returns the
/// unmatched or changed ones: (to drop, to create).
fn match_constraints<'a, T>(
    from: &'a [T],
    to: &'a [T],
    name: impl Fn(&T) -> Option<&str>,
    same_definition: impl Fn(&T, &T) -> bool,
) -> (Vec<&'a T>, Vec<&'a T>) {
    let mut from_matched = vec![false; from.len()];
    let mut to_matched = vec![false; to.len()];
    let mut removed = Vec::new();
    let mut added = Vec::new();
    for (i, old) in from.iter().enumerate() {
        let Some(old_name) = name(old) else { continue };
        let Some(j) = (0..to.len()).find(|&j| !to_matched[j] && name(&to[j]) == Some(old_name))
        else {
            continue;
        };
        from_matched[i] = true;
        to_matched[j] = true;
        if !same_definition(old, &to[j]) {
            removed.push(old);
            added.push(&to[j]);
        }
    }
    for (i, old) in from.iter().enumerate() {
        if from_matched[i] {
            continue;
        }
        let found = (0..to.len()).find(|&j| {
            !to_matched[j]
                && (name(old).is_none() || name(&to[j]).is_none())
                && same_definition(old, &to[j])
        });
        if let Some(j) = found {
            from_matched[i] = true;
            to_matched[j] = true;
        }
    }
    removed.extend(
        from.iter()
            .zip(&from_matched)
            .filter(|(_, matched)| !**matched)
            .map(|(c, _)| c),
    );
    added.extend(
        to.iter()
            .zip(&to_matched)
            .filter(|(_, matched)| !**matched)
            .map(|(c, _)| c),
    );
    (removed, added)
}

fn same_foreign_key(a: &ForeignKey, b: &ForeignKey) -> bool {
    a.columns == b.columns
        && a.referred_schema == b.referred_schema
        && a.referred_table == b.referred_table
        && a.referred_columns == b.referred_columns
        && a.on_delete == b.on_delete
        && a.on_update == b.on_update
        && a.deferrable == b.deferrable
}

/// Primary keys are equal when their columns are; names count only when
/// both sides have one (SQLite's catalog never reports a name).
fn same_primary_key(from: Option<&PrimaryKey>, to: Option<&PrimaryKey>) -> bool {
    match (from, to) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            a.columns == b.columns && (a.name.is_none() || b.name.is_none() || a.name == b.name)
        }
        _ => false,
    }
}

/// Whether two same-named columns differ only in ways that do not matter.
pub(crate) fn same_column(from: &Column, to: &Column, options: &DiffOptions) -> bool {
    from.ty == to.ty
        && from.nullable == to.nullable
        && from.autoincrement == to.autoincrement
        && same_default(&to.ty, from.default.as_ref(), to.default.as_ref())
        && (!options.dialect.comments() || from.comment == to.comment)
        && same_collation(from, to, options.dialect)
        && from.on_update == to.on_update
}

/// [`same_column`], where a column without a collation of its own also
/// matches one that names its table's default collation (or only the set
/// whose default collation that is).
fn same_column_of(
    from_table: &Table,
    from: &Column,
    to_table: &Table,
    to: &Column,
    options: &DiffOptions,
) -> bool {
    // `column` has its table's default collation, which `other` names, or
    // `other` names only the set whose default collation that is.
    let has_table_default = |column: &Column, table: &Table, other: &Column| {
        let is_default_collation = |c: &String| table.default_collation.as_ref() == Some(c);
        let is_default_charset = |c: &String| table.default_charset.as_ref() == Some(c);
        let named = match (&other.charset, &other.collation) {
            // The catalog's set beside the collation: it is the set's default.
            (Some(charset), Some(collation)) => {
                is_default_collation(collation) || is_default_charset(charset)
            }
            (None, Some(collation)) => is_default_collation(collation),
            (Some(charset), None) => is_default_charset(charset),
            (None, None) => false,
        };
        column.charset.is_none() && column.collation.is_none() && named
    };
    if same_column(from, to, options) {
        return true;
    }
    let collation_is_the_difference = {
        let mut restated = from.clone();
        restated.charset.clone_from(&to.charset);
        restated.collation.clone_from(&to.collation);
        same_column(&restated, to, options)
    };
    collation_is_the_difference
        && (has_table_default(from, from_table, to) || has_table_default(to, to_table, from))
}

/// Collation equality. MySQL: the same collation, or one side naming a set
/// alone (a model's `CHARACTER SET x`) and the other that set beside its
/// default collation (the catalog). SQLite: the same name in any case,
/// `BINARY` being the collation of a column that names none.
fn same_collation(a: &Column, b: &Column, dialect: Dialect) -> bool {
    if dialect == Dialect::Sqlite {
        let name = |c: &Column| {
            c.collation
                .as_deref()
                .map(str::to_ascii_uppercase)
                .filter(|n| n != "BINARY")
        };
        return name(a) == name(b);
    }
    match (&a.collation, &b.collation) {
        (Some(x), Some(y)) => x == y,
        (None, None) => a.charset == b.charset,
        (Some(_), None) | (None, Some(_)) => a.charset.is_some() && a.charset == b.charset,
    }
}

/// Default equality, plus what catalogs introduce: SQLite and MySQL store a
/// boolean default as `1`/`0`.
fn same_default(ty: &ColumnType, from: Option<&DefaultValue>, to: Option<&DefaultValue>) -> bool {
    match (from, to) {
        (Some(a), Some(b)) if *ty == ColumnType::Boolean => {
            boolean_default(a) == boolean_default(b)
        }
        _ => from == to,
    }
}

/// A boolean column's default as a boolean where it is one.
fn boolean_default(value: &DefaultValue) -> Result<bool, &DefaultValue> {
    match value {
        DefaultValue::Boolean(b) => Ok(*b),
        DefaultValue::Number(n) if n == "1" => Ok(true),
        DefaultValue::Number(n) if n == "0" => Ok(false),
        other => Err(other),
    }
}
