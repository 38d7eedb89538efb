//! Ordering: a dependency graph over the ops, sorted topologically.
//!
//! An edge `a → b` means "a must run before b". The rules, each written so
//! that its mirror image holds for the inverse ops (the downgrade is the
//! upgrade's inverses in reverse order, so it is ordered by construction):
//!
//! 1. **Tables first and last.** `create_table(t)` precedes every other op
//!    on `t`; every other op on `t` precedes `drop_table(t)`.
//! 2. **Foreign keys after what they refer to.** An op that adds a foreign
//!    key to `p(cols)` (`create_table` with the key inline, or
//!    `create_foreign_key`) runs after the ops that provide `p(cols)`:
//!    `create_table(p)`, `add_column`/`alter_column` of a referred column,
//!    and new primary keys, unique constraints and unique indexes on `p`.
//!    Mirror: an op that removes a foreign key (`drop_constraint`, or
//!    `drop_table` of the referencing table) runs before `drop_table(p)`,
//!    `drop_column`/`alter_column` of a referred column and the drop of a key
//!    on `p`. Hence parents are created before children and children are
//!    dropped before parents.
//! 3. **Columns before what is built on them.** `add_column(t, c)` and
//!    `alter_column(t, c)` precede the new indexes and constraints of `t`
//!    that use `c`; dropped indexes and constraints that use `c` precede
//!    `drop_column(t, c)` and `alter_column(t, c)`. Expressions (checks,
//!    expression indexes, partial-index predicates) "use" every identifier
//!    that appears in them, which may add harmless edges but never misses one.
//! 4. **Enums around their users.** `create_enum(e)` precedes the
//!    `create_table`/`add_column`/`alter_column` that start using `e`; the
//!    `drop_table`/`drop_column`/`alter_column` that stop using `e` precede
//!    `drop_enum(e)`. An `alter_enum(e)` that adds values precedes the
//!    `create_table`/`add_column`/`alter_column` whose new column uses `e`
//!    (they may use a new value, e.g. as default); mirror: the
//!    `drop_table`/`drop_column`/`alter_column` whose old column uses `e`
//!    precede an `alter_enum(e)` that removes values (the type's rebuild
//!    then converts fewer tables, and a dropped row cannot make the
//!    conversion fail). An `alter_column` whose old and new columns both use
//!    `e`, next to an `alter_enum(e)` that both adds and removes, follows
//!    the first rule only; the downgrade of such a pair has the
//!    `alter_column` first, which the renderer handles by leaving a default
//!    that names a value the type lacks yet to the type's rebuild.
//!    A foreign key that stays while the key it refers to is replaced is
//!    dropped and created again around it (see `compare`), on PostgreSQL
//!    and MySQL, where the key cannot be dropped from under it.
//! 5. **Names are freed before they are reused.** An op that removes an
//!    index (by name: index names are schema-wide on SQLite and PostgreSQL),
//!    a named constraint (per table), a primary key or an enum precedes the
//!    op that creates one with the same name.
//!
//! **Foreign-key cycles** among tables created together (a ⇄ b, or longer;
//! a self-reference is no cycle and always stays inline): where the dialect
//! allows forward references (SQLite), the keys stay inline and the tables of
//! a cycle are ordered by name; elsewhere every key between two tables of the
//! same strongly connected component is taken out of its `create_table` and
//! emitted as `create_foreign_key`, which rule 1 and 2 place after both
//! creates. Dropped tables get the mirror treatment (`drop_constraint` of
//! the cycle's keys, then the `drop_table`s).
//!
//! Ties are broken by the key (phase rank, table name, op kind, object
//! name) — see [`SortKey`] — then by comparison order, so the output is
//! deterministic. Invariant: the rules never form a cycle for ops produced by
//! [`crate::diff`]; if given ops that do, the ops left in the cycle are
//! appended in key order rather than lost.

use crate::DiffOptions;
use crate::ops::{Constraint, Op};
use petgraph::Direction;
use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use retort_schema::{ColumnType, ForeignKey, Index, IndexTarget, Table};
use std::collections::{BTreeMap, BTreeSet};

/// Orders `ops` (and splits foreign-key cycles out of `create_table` /
/// `drop_table` where the dialect needs it).
pub(crate) fn order(ops: Vec<Op>, options: &DiffOptions) -> Vec<Op> {
    let (ops, inline_cycles) = break_cycles(ops, options);
    let context = Context { inline_cycles };
    let mut graph: DiGraph<usize, ()> = DiGraph::with_capacity(ops.len(), 0);
    let nodes: Vec<NodeIndex> = (0..ops.len()).map(|i| graph.add_node(i)).collect();
    for (i, j) in candidate_pairs(&ops) {
        if must_precede(&ops[i], &ops[j], &context) {
            graph.add_edge(nodes[i], nodes[j], ());
        }
    }

    // Kahn's algorithm, always taking the smallest ready key.
    let keys: Vec<SortKey> = ops.iter().map(sort_key).collect();
    let mut waiting: Vec<usize> = nodes
        .iter()
        .map(|&n| graph.neighbors_directed(n, Direction::Incoming).count())
        .collect();
    let mut ready: BTreeSet<(&SortKey, usize)> = (0..ops.len())
        .filter(|&i| waiting[i] == 0)
        .map(|i| (&keys[i], i))
        .collect();
    let mut sorted = Vec::with_capacity(ops.len());
    let mut done = vec![false; ops.len()];
    while let Some((_, i)) = ready.pop_first() {
        sorted.push(i);
        done[i] = true;
        for next in graph.neighbors_directed(nodes[i], Direction::Outgoing) {
            let j = graph[next];
            waiting[j] -= 1;
            if waiting[j] == 0 {
                ready.insert((&keys[j], j));
            }
        }
    }
    let mut left: Vec<usize> = (0..ops.len()).filter(|&i| !done[i]).collect();
    left.sort_by(|&a, &b| (&keys[a], a).cmp(&(&keys[b], b)));
    sorted.extend(left);

    let mut slots: Vec<Option<Op>> = ops.into_iter().map(Some).collect();
    sorted.into_iter().filter_map(|i| slots[i].take()).collect()
}

/// The tie-break key: (phase rank, table name, op kind, object name).
/// Phases follow the natural order of a migration: drop foreign keys, drop
/// other indexes and constraints, drop tables, drop columns, drop enums,
/// create enums, create tables, add columns, alter columns, create keys,
/// indexes and checks, create foreign keys.
type SortKey = (u8, String, u8, String);

fn sort_key(op: &Op) -> SortKey {
    let table = op.table().unwrap_or_default().to_string();
    let (phase, kind, object) = match op {
        Op::DropConstraint {
            constraint: Constraint::ForeignKey(fk),
            ..
        } => (0, 0, foreign_key_label(fk)),
        Op::DropIndex { index, .. } => (1, 0, index.name.clone()),
        Op::DropConstraint { constraint, .. } => (1, 1, constraint_label(constraint)),
        Op::DropTable { .. } => (2, 0, String::new()),
        Op::DropColumn { column, .. } => (3, 0, column.name.clone()),
        Op::DropEnum { enum_type } => (4, 0, enum_type.name.clone()),
        Op::CreateEnum { enum_type } => (5, 0, enum_type.name.clone()),
        Op::AlterEnum { name, .. } => (5, 1, name.clone()),
        Op::CreateTable { .. } => (6, 0, String::new()),
        Op::AddColumn { column, .. } => (7, 0, column.name.clone()),
        Op::AlterColumn { to, .. } => (8, 0, to.name.clone()),
        Op::AlterTableComment { .. } => (8, 1, String::new()),
        Op::CreatePrimaryKey { constraint, .. } => (9, 0, constraint.columns.join(",")),
        Op::CreateUniqueConstraint { constraint, .. } => (
            9,
            1,
            constraint_label(&Constraint::Unique(constraint.clone())),
        ),
        Op::CreateCheckConstraint { constraint, .. } => (
            9,
            2,
            constraint_label(&Constraint::Check(constraint.clone())),
        ),
        Op::CreateIndex { index, .. } => (9, 3, index.name.clone()),
        Op::CreateForeignKey { constraint, .. } => (10, 0, foreign_key_label(constraint)),
        // `diff` runs confirmed renames before everything else and compares
        // the renamed schema, so renames never reach the graph from there;
        // given here anyway, they sort first.
        Op::RenameTable { from, .. } => (0, 0, from.clone()),
        Op::RenameColumn { from, .. } => (0, 0, from.clone()),
    };
    (phase, table, kind, object)
}

fn foreign_key_label(fk: &ForeignKey) -> String {
    fk.name.clone().unwrap_or_else(|| {
        format!(
            "({})->{}({})",
            fk.columns.join(","),
            fk.referred_table,
            fk.referred_columns.join(",")
        )
    })
}

fn constraint_label(constraint: &Constraint) -> String {
    match constraint {
        Constraint::PrimaryKey(pk) => pk.name.clone().unwrap_or_default(),
        Constraint::Unique(u) => u
            .name
            .clone()
            .unwrap_or_else(|| format!("({})", u.columns.join(","))),
        Constraint::ForeignKey(fk) => foreign_key_label(fk),
        Constraint::Check(c) => c.name.clone().unwrap_or_else(|| c.expression.clone()),
    }
}

/// Pairs (child, parent) of tables created, or dropped, together whose
/// foreign keys stay inline although they form a cycle.
struct Context {
    inline_cycles: BTreeSet<(String, String)>,
}

/// Splits the foreign keys that form cycles out of `create_table` and
/// `drop_table` ops where the dialect cannot reference a table before it
/// exists; elsewhere returns the cycles so that their edges are skipped.
fn break_cycles(ops: Vec<Op>, options: &DiffOptions) -> (Vec<Op>, BTreeSet<(String, String)>) {
    let created: Vec<&Table> = ops
        .iter()
        .filter_map(|op| match op {
            Op::CreateTable { table } => Some(table),
            _ => None,
        })
        .collect();
    let dropped: Vec<&Table> = ops
        .iter()
        .filter_map(|op| match op {
            Op::DropTable { table } => Some(table),
            _ => None,
        })
        .collect();
    let mut cycles = foreign_key_cycles(&created);
    cycles.extend(foreign_key_cycles(&dropped));
    if options.dialect.forward_references() || cycles.is_empty() {
        return (ops, cycles);
    }

    let mut result = Vec::with_capacity(ops.len());
    let mut added = Vec::new();
    for op in ops {
        match op {
            Op::CreateTable { mut table } => {
                for fk in take_cycle_keys(&mut table, &cycles) {
                    added.push(Op::CreateForeignKey {
                        table: table.name.clone(),
                        constraint: fk,
                    });
                }
                result.push(Op::CreateTable { table });
            }
            Op::DropTable { mut table } => {
                for fk in take_cycle_keys(&mut table, &cycles) {
                    added.push(Op::DropConstraint {
                        table: table.name.clone(),
                        constraint: Constraint::ForeignKey(fk),
                    });
                }
                result.push(Op::DropTable { table });
            }
            other => result.push(other),
        }
    }
    result.extend(added);
    (result, BTreeSet::new())
}

fn take_cycle_keys(table: &mut Table, cycles: &BTreeSet<(String, String)>) -> Vec<ForeignKey> {
    let (cycle, kept): (Vec<ForeignKey>, Vec<ForeignKey>) = std::mem::take(&mut table.foreign_keys)
        .into_iter()
        .partition(|fk| cycles.contains(&(table.name.clone(), fk.referred_table.clone())));
    table.foreign_keys = kept;
    cycle
}

/// The (child, parent) pairs, child ≠ parent, that lie in one strongly
/// connected component of the foreign-key graph among `tables`.
fn foreign_key_cycles(tables: &[&Table]) -> BTreeSet<(String, String)> {
    let mut graph: DiGraph<&str, ()> = DiGraph::new();
    let names: BTreeMap<&str, NodeIndex> = tables
        .iter()
        .map(|t| t.name.as_str())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(|name| (name, graph.add_node(name)))
        .collect();
    for table in tables {
        for fk in &table.foreign_keys {
            if let (Some(&child), Some(&parent)) = (
                names.get(table.name.as_str()),
                names.get(fk.referred_table.as_str()),
            ) && child != parent
            {
                graph.add_edge(child, parent, ());
            }
        }
    }
    let mut component: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, scc) in tarjan_scc(&graph).into_iter().enumerate() {
        if scc.len() > 1 {
            for node in scc {
                component.insert(graph[node], i);
            }
        }
    }
    let mut pairs = BTreeSet::new();
    for table in tables {
        for fk in &table.foreign_keys {
            let child = component.get(table.name.as_str());
            if table.name != fk.referred_table
                && child.is_some()
                && child == component.get(fk.referred_table.as_str())
            {
                pairs.insert((table.name.clone(), fk.referred_table.clone()));
            }
        }
    }
    pairs
}

/// The pairs `(i, j)` of ops that some rule may order (`i` before `j`), so
/// that [`must_precede`] is asked about those only: every rule relates ops
/// on one table, a foreign key's table and the table it refers to, an enum
/// and the ops whose columns use it, or a name's removal and its reuse.
/// Asking about every pair instead is quadratic in the op count (a diff of
/// 20,000 new tables made 400 million calls).
fn candidate_pairs(ops: &[Op]) -> BTreeSet<(usize, usize)> {
    let mut by_table: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    let mut by_enum: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    let mut enum_ops: Vec<(usize, &str)> = Vec::new();
    let mut creators: BTreeMap<Name<'_>, Vec<usize>> = BTreeMap::new();
    for (i, op) in ops.iter().enumerate() {
        if let Some(table) = op.table() {
            by_table.entry(table).or_default().push(i);
        }
        let used = enums_of_new_column(op)
            .into_iter()
            .chain(enums_of_old_column(op));
        for name in used.collect::<BTreeSet<_>>() {
            by_enum.entry(name).or_default().push(i);
        }
        match op {
            Op::CreateEnum { enum_type } | Op::DropEnum { enum_type } => {
                enum_ops.push((i, enum_type.name.as_str()));
            }
            Op::AlterEnum { name, .. } => enum_ops.push((i, name.as_str())),
            _ => {}
        }
        for name in names_created(op) {
            creators.entry(name).or_default().push(i);
        }
    }
    let none: &[usize] = &[];
    let on = |table: &str| by_table.get(table).map_or(none, Vec::as_slice);
    let mut pairs = BTreeSet::new();
    // Rules 1 and 3: ops on the same table.
    for group in by_table.values() {
        for &i in group {
            pairs.extend(group.iter().filter(|&&j| j != i).map(|&j| (i, j)));
        }
    }
    for (i, op) in ops.iter().enumerate() {
        // Rule 2: what provides a key before the foreign key added to it;
        // the foreign key removed before what withdraws its key.
        for (_, fk) in foreign_keys_added(op) {
            pairs.extend(on(&fk.referred_table).iter().map(|&a| (a, i)));
        }
        for (_, fk) in foreign_keys_removed(op) {
            pairs.extend(on(&fk.referred_table).iter().map(|&b| (i, b)));
        }
        // Rule 5: a freed name before its reuse.
        for name in names_removed(op) {
            if let Some(reusers) = creators.get(&name) {
                pairs.extend(reusers.iter().map(|&b| (i, b)));
            }
        }
    }
    // Rule 4: an enum op and the ops whose columns use that enum.
    for (i, name) in enum_ops {
        for &j in by_enum.get(name).map_or(none, Vec::as_slice) {
            pairs.insert((i, j));
            pairs.insert((j, i));
        }
    }
    pairs.retain(|(i, j)| i != j);
    pairs
}

/// Whether `a` must run before `b` (the rules of the module doc).
fn must_precede(a: &Op, b: &Op, context: &Context) -> bool {
    // Rule 1.
    if let Op::CreateTable { table } = a
        && b.table() == Some(table.name.as_str())
    {
        return true;
    }
    if let Op::DropTable { table } = b
        && a.table() == Some(table.name.as_str())
    {
        return true;
    }

    // Rule 2.
    for (owner, fk) in foreign_keys_added(b) {
        let inline_cycle = matches!((a, b), (Op::CreateTable { .. }, Op::CreateTable { .. }))
            && context
                .inline_cycles
                .contains(&(owner.to_string(), fk.referred_table.clone()));
        if !inline_cycle && provides_key(a, &fk.referred_table, &fk.referred_columns) {
            return true;
        }
    }
    for (owner, fk) in foreign_keys_removed(a) {
        let inline_cycle = matches!((a, b), (Op::DropTable { .. }, Op::DropTable { .. }))
            && context
                .inline_cycles
                .contains(&(owner.to_string(), fk.referred_table.clone()));
        if !inline_cycle && withdraws_key(b, &fk.referred_table, &fk.referred_columns) {
            return true;
        }
    }

    // Rule 3.
    if let Some((table, column)) = column_created(a)
        && is_object_creation(b)
        && let Some((object_table, columns)) = object_columns(b)
        && object_table == table
        && columns.contains(column)
    {
        return true;
    }
    if let Some((table, column)) = column_removed(b)
        && !is_object_creation(a)
        && let Some((object_table, columns)) = object_columns(a)
        && object_table == table
        && columns.contains(column)
    {
        return true;
    }

    // Rule 4.
    if let Op::CreateEnum { enum_type } = a
        && enums_started(b).contains(enum_type.name.as_str())
    {
        return true;
    }
    if let Op::DropEnum { enum_type } = b
        && enums_stopped(a).contains(enum_type.name.as_str())
    {
        return true;
    }
    if let Op::AlterEnum {
        name,
        from_values,
        to_values,
        ..
    } = a
        && to_values.iter().any(|v| !from_values.contains(v))
        && enums_of_new_column(b).contains(name.as_str())
    {
        return true;
    }
    if let Op::AlterEnum {
        name,
        from_values,
        to_values,
        ..
    } = b
        && from_values.iter().any(|v| !to_values.contains(v))
        && enums_of_old_column(a).contains(name.as_str())
        && !(to_values.iter().any(|v| !from_values.contains(v))
            && enums_of_new_column(a).contains(name.as_str()))
    {
        return true;
    }

    // Rule 5.
    let freed = names_removed(a);
    !freed.is_empty() && names_created(b).iter().any(|n| freed.contains(n))
}

fn foreign_keys_added(op: &Op) -> Vec<(&str, &ForeignKey)> {
    match op {
        Op::CreateTable { table } => table
            .foreign_keys
            .iter()
            .filter(|fk| fk.referred_table != table.name)
            .map(|fk| (table.name.as_str(), fk))
            .collect(),
        Op::CreateForeignKey { table, constraint } => vec![(table.as_str(), constraint)],
        _ => Vec::new(),
    }
}

/// The foreign keys `op` removes, with their tables (a dropped table's own
/// keys too, except one to itself).
pub(crate) fn foreign_keys_removed(op: &Op) -> Vec<(&str, &ForeignKey)> {
    match op {
        Op::DropTable { table } => table
            .foreign_keys
            .iter()
            .filter(|fk| fk.referred_table != table.name)
            .map(|fk| (table.name.as_str(), fk))
            .collect(),
        Op::DropConstraint {
            table,
            constraint: Constraint::ForeignKey(fk),
        } => vec![(table.as_str(), fk)],
        _ => Vec::new(),
    }
}

/// Whether `op` creates something a foreign key to `table(columns)` needs.
fn provides_key(op: &Op, table: &str, columns: &[String]) -> bool {
    if op.table() != Some(table) {
        return false;
    }
    match op {
        Op::CreateTable { .. }
        | Op::CreatePrimaryKey { .. }
        | Op::CreateUniqueConstraint { .. } => true,
        Op::CreateIndex { index, .. } => index.unique,
        Op::AddColumn { column, .. } => columns.contains(&column.name),
        Op::AlterColumn { to, .. } => columns.contains(&to.name),
        _ => false,
    }
}

/// Whether `op` removes or changes something a foreign key to
/// `table(columns)` needs.
fn withdraws_key(op: &Op, table: &str, columns: &[String]) -> bool {
    if op.table() != Some(table) {
        return false;
    }
    match op {
        Op::DropTable { .. } => true,
        Op::DropConstraint { constraint, .. } => matches!(
            constraint,
            Constraint::PrimaryKey(_) | Constraint::Unique(_)
        ),
        Op::DropIndex { index, .. } => index.unique,
        Op::DropColumn { column, .. } => columns.contains(&column.name),
        Op::AlterColumn { from, .. } => columns.contains(&from.name),
        _ => false,
    }
}

fn column_created(op: &Op) -> Option<(&str, &str)> {
    match op {
        Op::AddColumn { table, column } => Some((table, &column.name)),
        Op::AlterColumn { table, to, .. } => Some((table, &to.name)),
        _ => None,
    }
}

fn column_removed(op: &Op) -> Option<(&str, &str)> {
    match op {
        Op::DropColumn { table, column } => Some((table, &column.name)),
        Op::AlterColumn { table, from, .. } => Some((table, &from.name)),
        _ => None,
    }
}

fn is_object_creation(op: &Op) -> bool {
    matches!(
        op,
        Op::CreateIndex { .. }
            | Op::CreatePrimaryKey { .. }
            | Op::CreateUniqueConstraint { .. }
            | Op::CreateForeignKey { .. }
            | Op::CreateCheckConstraint { .. }
    )
}

/// For index and constraint ops: the table and the columns the object uses.
fn object_columns(op: &Op) -> Option<(&str, BTreeSet<&str>)> {
    let (table, columns): (&String, BTreeSet<&str>) = match op {
        Op::CreateIndex { table, index } | Op::DropIndex { table, index } => {
            (table, index_columns(index))
        }
        Op::CreatePrimaryKey { table, constraint } => (table, names(&constraint.columns)),
        Op::CreateUniqueConstraint { table, constraint } => (table, names(&constraint.columns)),
        Op::CreateForeignKey { table, constraint } => (table, names(&constraint.columns)),
        Op::CreateCheckConstraint { table, constraint } => {
            (table, identifiers(&constraint.expression).collect())
        }
        Op::DropConstraint { table, constraint } => match constraint {
            Constraint::PrimaryKey(c) => (table, names(&c.columns)),
            Constraint::Unique(c) => (table, names(&c.columns)),
            Constraint::ForeignKey(c) => (table, names(&c.columns)),
            Constraint::Check(c) => (table, identifiers(&c.expression).collect()),
        },
        _ => return None,
    };
    Some((table.as_str(), columns))
}

fn names(columns: &[String]) -> BTreeSet<&str> {
    columns.iter().map(String::as_str).collect()
}

fn index_columns(index: &Index) -> BTreeSet<&str> {
    let mut columns = BTreeSet::new();
    for part in &index.parts {
        match &part.target {
            IndexTarget::Column(name) => {
                columns.insert(name.as_str());
            }
            IndexTarget::Expression(text) => columns.extend(identifiers(text)),
        }
    }
    if let Some(predicate) = &index.predicate {
        columns.extend(identifiers(predicate));
    }
    columns
}

/// Every identifier-like word of an SQL expression, quotes stripped.
fn identifiers(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|word| !word.is_empty())
}

fn enums_of<'a>(ty: &'a ColumnType, into: &mut BTreeSet<&'a str>) {
    match ty {
        ColumnType::Enum { name } => {
            into.insert(name.as_str());
        }
        ColumnType::Array(inner) => enums_of(inner, into),
        _ => {}
    }
}

fn column_enums(ty: &ColumnType) -> BTreeSet<&str> {
    let mut set = BTreeSet::new();
    enums_of(ty, &mut set);
    set
}

/// Enum types `op` starts using.
fn enums_started(op: &Op) -> BTreeSet<&str> {
    match op {
        Op::CreateTable { table } => {
            let mut set = BTreeSet::new();
            for column in &table.columns {
                enums_of(&column.ty, &mut set);
            }
            set
        }
        Op::AddColumn { column, .. } => column_enums(&column.ty),
        Op::AlterColumn { from, to, .. } => {
            let before = column_enums(&from.ty);
            column_enums(&to.ty)
                .into_iter()
                .filter(|e| !before.contains(e))
                .collect()
        }
        _ => BTreeSet::new(),
    }
}

/// Enum types `op` stops using.
fn enums_stopped(op: &Op) -> BTreeSet<&str> {
    match op {
        Op::DropTable { table } => {
            let mut set = BTreeSet::new();
            for column in &table.columns {
                enums_of(&column.ty, &mut set);
            }
            set
        }
        Op::DropColumn { column, .. } => column_enums(&column.ty),
        Op::AlterColumn { from, to, .. } => {
            let after = column_enums(&to.ty);
            column_enums(&from.ty)
                .into_iter()
                .filter(|e| !after.contains(e))
                .collect()
        }
        _ => BTreeSet::new(),
    }
}

/// Enum types used by what `op` creates: a new table, an added column, an
/// altered column's new definition.
fn enums_of_new_column(op: &Op) -> BTreeSet<&str> {
    match op {
        Op::CreateTable { table } => {
            let mut set = BTreeSet::new();
            for column in &table.columns {
                enums_of(&column.ty, &mut set);
            }
            set
        }
        Op::AddColumn { column, .. } | Op::AlterColumn { to: column, .. } => {
            column_enums(&column.ty)
        }
        _ => BTreeSet::new(),
    }
}

/// Enum types used by what `op` removes: a dropped table or column, an
/// altered column's old definition.
fn enums_of_old_column(op: &Op) -> BTreeSet<&str> {
    match op {
        Op::DropTable { table } => {
            let mut set = BTreeSet::new();
            for column in &table.columns {
                enums_of(&column.ty, &mut set);
            }
            set
        }
        Op::DropColumn { column, .. } | Op::AlterColumn { from: column, .. } => {
            column_enums(&column.ty)
        }
        _ => BTreeSet::new(),
    }
}

/// A name that two objects cannot hold at once.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Name<'a> {
    Index(&'a str),
    Constraint(&'a str, &'a str),
    PrimaryKey(&'a str),
    Enum(&'a str),
}

fn table_names(table: &Table) -> Vec<Name<'_>> {
    let t = table.name.as_str();
    let mut found: Vec<Name<'_>> = table
        .indexes
        .iter()
        .map(|i| Name::Index(i.name.as_str()))
        .collect();
    let constraint_names = table
        .unique_constraints
        .iter()
        .filter_map(|c| c.name.as_deref())
        .chain(table.foreign_keys.iter().filter_map(|c| c.name.as_deref()))
        .chain(table.checks.iter().filter_map(|c| c.name.as_deref()));
    found.extend(constraint_names.map(|n| Name::Constraint(t, n)));
    found
}

fn constraint_name<'a>(table: &'a str, constraint: &'a Constraint) -> Vec<Name<'a>> {
    match constraint {
        Constraint::PrimaryKey(_) => vec![Name::PrimaryKey(table)],
        other => other
            .name()
            .map(|n| Name::Constraint(table, n))
            .into_iter()
            .collect(),
    }
}

fn names_removed(op: &Op) -> Vec<Name<'_>> {
    match op {
        Op::DropTable { table } => table_names(table),
        Op::DropIndex { index, .. } => vec![Name::Index(&index.name)],
        Op::DropConstraint { table, constraint } => constraint_name(table, constraint),
        Op::DropEnum { enum_type } => vec![Name::Enum(&enum_type.name)],
        _ => Vec::new(),
    }
}

fn names_created(op: &Op) -> Vec<Name<'_>> {
    match op {
        Op::CreateTable { table } => table_names(table),
        Op::CreateIndex { index, .. } => vec![Name::Index(&index.name)],
        Op::CreatePrimaryKey { table, .. } => vec![Name::PrimaryKey(table)],
        Op::CreateUniqueConstraint { table, constraint } => constraint
            .name
            .as_deref()
            .map(|n| Name::Constraint(table, n))
            .into_iter()
            .collect(),
        Op::CreateForeignKey { table, constraint } => constraint
            .name
            .as_deref()
            .map(|n| Name::Constraint(table, n))
            .into_iter()
            .collect(),
        Op::CreateCheckConstraint { table, constraint } => constraint
            .name
            .as_deref()
            .map(|n| Name::Constraint(table, n))
            .into_iter()
            .collect(),
        Op::CreateEnum { enum_type } => vec![Name::Enum(&enum_type.name)],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use retort_schema::{EnumType, IndexPart, PrimaryKey};

    fn no_cycles() -> Context {
        Context {
            inline_cycles: BTreeSet::new(),
        }
    }

    fn index_op(table: &str, name: &str, create: bool) -> Op {
        let index = Index {
            name: name.into(),
            parts: vec![IndexPart::column("id")],
            unique: false,
            predicate: None,
            method: None,
            nulls_not_distinct: false,
        };
        let table = table.to_string();
        if create {
            Op::CreateIndex { table, index }
        } else {
            Op::DropIndex { table, index }
        }
    }

    // The phase ranks alone would put these drops first too; the edges make
    // it a rule that survives any other edge pulling the drop later.
    #[test]
    fn a_freed_name_precedes_its_reuse() {
        let context = no_cycles();
        let drop = index_op("a", "ix_shared", false);
        let create = index_op("b", "ix_shared", true);
        assert!(must_precede(&drop, &create, &context));
        assert!(!must_precede(&create, &drop, &context));
        assert!(!must_precede(
            &drop,
            &index_op("b", "ix_other", true),
            &context
        ));

        let pk = PrimaryKey {
            name: None,
            columns: vec!["id".into()],
        };
        let drop_pk = Op::DropConstraint {
            table: "t".into(),
            constraint: Constraint::PrimaryKey(pk.clone()),
        };
        let create_pk = Op::CreatePrimaryKey {
            table: "t".into(),
            constraint: pk,
        };
        assert!(must_precede(&drop_pk, &create_pk, &context));

        let mood = EnumType {
            schema: None,
            name: "mood".into(),
            values: vec!["sad".into()],
        };
        assert!(must_precede(
            &Op::DropEnum {
                enum_type: mood.clone()
            },
            &Op::CreateEnum { enum_type: mood },
            &context
        ));
    }

    #[test]
    fn ties_are_broken_by_phase_then_table_then_kind_then_object() {
        let ops = vec![
            index_op("b", "ix_2", true),
            index_op("b", "ix_1", true),
            index_op("a", "ix_3", true),
            index_op("z", "ix_0", false),
        ];
        let sorted = order(
            ops,
            &DiffOptions {
                dialect: retort_schema::Dialect::Sqlite,
            },
        );
        let names: Vec<String> = sorted
            .iter()
            .map(|op| format!("{} {}", op.name(), sort_key(op).3))
            .collect();
        assert_eq!(
            names,
            [
                "drop_index ix_0",
                "create_index ix_3",
                "create_index ix_1",
                "create_index ix_2"
            ]
        );
    }

    fn fk(to: &str) -> ForeignKey {
        ForeignKey {
            name: None,
            columns: vec!["parent_id".into()],
            referred_schema: None,
            referred_table: to.into(),
            referred_columns: vec!["id".into()],
            on_delete: Default::default(),
            on_update: Default::default(),
            deferrable: Default::default(),
            implicit_index: None,
        }
    }

    fn new_table(name: &str, parent: Option<&str>, enum_name: Option<&str>) -> Table {
        let mut table = Table::new(name);
        table.columns = vec![retort_schema::Column::new("id", ColumnType::BigInt)];
        if let Some(parent) = parent {
            table
                .columns
                .push(retort_schema::Column::new("parent_id", ColumnType::BigInt));
            table.foreign_keys.push(fk(parent));
        }
        if let Some(e) = enum_name {
            table.columns.push(retort_schema::Column::new(
                "mood",
                ColumnType::Enum { name: e.into() },
            ));
        }
        table
    }

    /// A mix of ops touching every rule: tables with foreign keys, enums,
    /// columns, indexes and a reused index name.
    fn mixed_ops() -> Vec<Op> {
        let mood = EnumType {
            schema: None,
            name: "mood".into(),
            values: vec!["sad".into()],
        };
        vec![
            Op::CreateEnum {
                enum_type: mood.clone(),
            },
            Op::CreateTable {
                table: new_table("a", None, Some("mood")),
            },
            Op::CreateTable {
                table: new_table("b", Some("a"), None),
            },
            Op::DropTable {
                table: new_table("old_child", Some("old"), None),
            },
            Op::DropTable {
                table: new_table("old", None, None),
            },
            Op::AddColumn {
                table: "c".into(),
                column: retort_schema::Column::new("id", ColumnType::BigInt),
            },
            index_op("c", "ix_shared", true),
            index_op("d", "ix_shared", false),
            Op::CreateForeignKey {
                table: "c".into(),
                constraint: fk("a"),
            },
            Op::DropColumn {
                table: "d".into(),
                column: retort_schema::Column::new("id", ColumnType::BigInt),
            },
            Op::AlterEnum {
                name: "mood".into(),
                schema: None,
                from_values: vec!["sad".into()],
                to_values: vec!["sad".into(), "glad".into()],
            },
            Op::AddColumn {
                table: "e".into(),
                column: retort_schema::Column::new(
                    "m",
                    ColumnType::Enum {
                        name: "mood".into(),
                    },
                ),
            },
        ]
    }

    #[test]
    fn every_edge_is_among_the_candidate_pairs() {
        let ops = mixed_ops();
        let context = no_cycles();
        let candidates = candidate_pairs(&ops);
        let mut edges = 0;
        for (i, a) in ops.iter().enumerate() {
            for (j, b) in ops.iter().enumerate() {
                if i != j && must_precede(a, b, &context) {
                    edges += 1;
                    assert!(
                        candidates.contains(&(i, j)),
                        "{} -> {} is an edge but not a candidate",
                        a.name(),
                        b.name()
                    );
                }
            }
        }
        assert!(edges >= 8, "the mix exercises the rules: {edges} edges");
    }

    #[test]
    fn candidate_pairs_grow_linearly_with_independent_tables() {
        // A chain of new tables, each referring to the one before: a diff
        // against an empty database. Every pair would be n * (n - 1).
        let n = 2000;
        let ops: Vec<Op> = (0..n)
            .map(|i| Op::CreateTable {
                table: new_table(
                    &format!("t{i:05}"),
                    (i > 0).then(|| format!("t{:05}", i - 1)).as_deref(),
                    None,
                ),
            })
            .collect();
        let pairs = candidate_pairs(&ops).len();
        assert!(pairs <= 2 * n, "{pairs} candidate pairs for {n} tables");
        let sorted = order(
            ops,
            &DiffOptions {
                dialect: retort_schema::Dialect::Postgres,
            },
        );
        assert_eq!(sorted.len(), n);
    }
}
