//! SQLite's table rebuild: the procedure SQLite prescribes for every schema
//! change its `ALTER TABLE` cannot make
//! (<https://www.sqlite.org/lang_altertable.html#otheralter>).
//!
//! Foreign-key enforcement must be off while the old table is dropped, or
//! `ON DELETE CASCADE` children would lose their rows. `PRAGMA foreign_keys`
//! is a no-op inside a transaction, so the runner (retort-migrate) switches
//! it off before `BEGIN` and runs `PRAGMA foreign_key_check` before
//! `COMMIT`; the rebuild itself emits no PRAGMA.

use crate::ddl::{self, BuildFor};
use crate::spelling::{mentions, quote};
use retort_diff::Op;
use retort_schema::{Column, DefaultValue, Dialect, Schema, Table, Trigger, View};
use sea_query as sq;

/// Prefix of the table a rebuild copies rows into before renaming it.
pub(crate) const NEW_TABLE_PREFIX: &str = "_retort_new_";

/// Whether SQLite's `ALTER TABLE ADD COLUMN` can add `column` to `table`
/// (<https://www.sqlite.org/lang_altertable.html#alter_table_add_column>):
/// not a key or unique column, a constant default, a non-NULL default when
/// NOT NULL, a NULL default when it references another table.
pub(crate) fn can_add_column(table: &Table, column: &Column) -> bool {
    let constant_default = match &column.default {
        None | Some(DefaultValue::Null) => true,
        Some(DefaultValue::Boolean(_) | DefaultValue::Number(_) | DefaultValue::String(_)) => true,
        Some(
            DefaultValue::CurrentTimestamp
            | DefaultValue::CurrentDate
            | DefaultValue::CurrentTime
            | DefaultValue::Expression(_),
        ) => false,
    };
    let null_default = matches!(column.default, None | Some(DefaultValue::Null));
    let keyed = table.is_primary_key_column(&column.name)
        || table
            .unique_constraints
            .iter()
            .any(|u| u.columns.contains(&column.name));
    let referencing = table
        .foreign_keys
        .iter()
        .any(|fk| fk.columns.contains(&column.name));
    constant_default
        && !column.autoincrement
        && !keyed
        && (column.nullable || !null_default)
        && (!referencing || null_default)
}

/// Whether `op` needs a table rebuild on `dialect`, given the schema as it
/// is just before the op.
pub(crate) fn needs_rebuild(op: &Op, state: &Schema, dialect: Dialect) -> bool {
    match op {
        Op::AlterColumn { .. } => !dialect.alter_column(),
        Op::DropColumn { .. } => !dialect.drop_column(),
        Op::CreatePrimaryKey { .. }
        | Op::CreateUniqueConstraint { .. }
        | Op::CreateForeignKey { .. }
        | Op::CreateCheckConstraint { .. }
        | Op::DropConstraint { .. } => !dialect.alter_constraints(),
        Op::AddColumn { table, column } => {
            !dialect.add_column_unrestricted()
                && state
                    .table(table)
                    .is_some_and(|t| !can_add_column(t, column))
        }
        Op::CreateEnum { .. }
        | Op::DropEnum { .. }
        | Op::AlterEnum { .. }
        | Op::CreateTable { .. }
        | Op::DropTable { .. }
        | Op::CreateIndex { .. }
        | Op::DropIndex { .. }
        | Op::RenameTable { .. }
        | Op::RenameColumn { .. } => false,
    }
}

/// The views a rebuild of `table` must drop and recreate: those that
/// mention it, and transitively those that mention such a view, in the
/// order they can be recreated.
fn dependent_views<'a>(views: &'a [View], table: &str) -> Vec<&'a View> {
    let mut found: Vec<&View> = Vec::new();
    let mut frontier = vec![table.to_string()];
    while let Some(name) = frontier.pop() {
        for view in views {
            let known = found.iter().any(|v| v.name == view.name);
            if !known && view.name != name && mentions(&view.sql, &name) {
                found.push(view);
                frontier.push(view.name.clone());
            }
        }
    }
    found
}

/// The statements that rebuild `table` from its definition in `before` to
/// its definition in `after`.
///
/// Preconditions: `table` exists in both schemas (the caller applied the
/// ops, which checks it).
pub(crate) fn rebuild_statements(before: &Table, after: &Schema, table: &Table) -> Vec<String> {
    let dialect = Dialect::Sqlite;
    let name = &table.name;
    let temp = format!("{NEW_TABLE_PREFIX}{name}");
    let views = dependent_views(&after.views, name);
    // Triggers on the table go with DROP TABLE. Triggers on other tables
    // whose body names it would make the RENAME fail (SQLite re-checks the
    // whole schema), so they are dropped and recreated too.
    let triggers: Vec<&Trigger> = after
        .triggers
        .iter()
        .filter(|t| t.table.eq_ignore_ascii_case(name) || mentions(&t.sql, name))
        .collect();

    let mut statements = Vec::new();
    for view in views.iter().rev() {
        statements.push(format!("DROP VIEW {}", quote(&view.name, dialect)));
    }
    // SQLite compares names ignoring ASCII case: `ON Users` is on `users`.
    for trigger in triggers
        .iter()
        .filter(|t| !t.table.eq_ignore_ascii_case(name))
    {
        statements.push(format!("DROP TRIGGER {}", quote(&trigger.name, dialect)));
    }

    let mut new_table = table.clone();
    new_table.name = temp.clone();
    statements.push(ddl::create_table_statement(&new_table, dialect));

    let copied: Vec<&str> = table
        .columns
        .iter()
        .filter(|c| before.column(&c.name).is_some())
        .map(|c| c.name.as_str())
        .collect();
    if !copied.is_empty() {
        let mut select = sq::Query::select();
        select.from(sq::Alias::new(name.as_str()));
        for column in &copied {
            select.column(sq::Alias::new(*column));
        }
        let mut insert = sq::Query::insert();
        insert
            .into_table(sq::Alias::new(temp.as_str()))
            .columns(copied.iter().map(|c| sq::Alias::new(*c)));
        // select_from only fails when the column counts differ, and both
        // lists are `copied`.
        if insert.select_from(select).is_ok() {
            statements.push(insert.build_for(dialect));
        }
    }

    statements.push(
        sq::Table::drop()
            .table(sq::Alias::new(name.as_str()))
            .build_for(dialect),
    );
    statements.push(
        sq::Table::rename()
            .table(sq::Alias::new(temp.as_str()), sq::Alias::new(name.as_str()))
            .build_for(dialect),
    );
    for index in &table.indexes {
        statements.push(ddl::create_index_statement(name, index, dialect));
    }
    for trigger in &triggers {
        statements.push(trigger.sql.trim().trim_end_matches(';').to_string());
    }
    for view in &views {
        statements.push(view.sql.trim().trim_end_matches(';').to_string());
    }
    statements
}
