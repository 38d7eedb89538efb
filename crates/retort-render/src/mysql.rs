//! MySQL / MariaDB rules that need more than one builder call.
//!
//! - **Constraint names.** MySQL's own names for unnamed constraints are
//!   not predictable from the definition (`t_ibfk_1` counts), so every
//!   unique, foreign-key and check constraint retort creates there without
//!   a name gets the deterministic name of
//!   [`retort_schema::implied_constraint_name`] (`{table}_{cols}_fkey` …),
//!   and a later drop of the unnamed model constraint uses the same name.
//! - **Foreign keys and their index.** InnoDB needs an index whose leading
//!   columns are a foreign key's columns. Adding a key without one makes
//!   MySQL create it implicitly, named after the constraint; dropping the
//!   key leaves that index behind, so retort drops it too. An explicit index
//!   a foreign key needs cannot be dropped while the key exists (error
//!   1553), so such a drop is wrapped in drop key / drop index / re-add key
//!   (the re-added key gets its implicit index back).
//! - **TEXT/BLOB in a key.** MySQL indexes such columns only with a prefix
//!   length (`email(255)`), which an index part carries but a primary key
//!   or unique constraint does not: a key on such a column without a prefix
//!   is refused with [`RenderError::IndexNeedsPrefix`] rather than written
//!   as a statement that fails (MariaDB would build a hash index for a
//!   unique key instead, which no foreign key can use).
//!
//! <https://dev.mysql.com/doc/refman/8.0/en/create-table-foreign-keys.html>

use crate::ddl;
use crate::error::RenderError;
use crate::spelling::quote;
use retort_diff::{Constraint, Op};
use retort_schema::{ColumnType, Dialect, ForeignKey, Index, IndexTarget, Schema, Table};

const MY: Dialect = Dialect::Mysql;

/// The index's leading parts that index whole columns, up to the first
/// expression or prefix part.
fn whole_columns(index: &Index) -> Vec<String> {
    index
        .parts
        .iter()
        .map_while(|part| match &part.target {
            IndexTarget::Column(name) if part.prefix.is_none() => Some(name.clone()),
            _ => None,
        })
        .collect()
}

/// Whether an index whose columns start with `columns` exists on `table`
/// (primary key, unique constraint or index), other than the index `except`.
fn supported(table: &Table, columns: &[String], except: Option<&str>) -> bool {
    let leads = |list: &[String]| list.len() >= columns.len() && list[..columns.len()] == *columns;
    let by_key = table
        .primary_key
        .as_ref()
        .is_some_and(|pk| leads(&pk.columns))
        || table.unique_constraints.iter().any(|u| leads(&u.columns));
    let by_index = table.indexes.iter().any(|index| {
        Some(index.name.as_str()) != except && {
            // A prefix part cannot serve a foreign key.
            let names: Vec<String> = whole_columns(index);
            names.len() == index.parts.len() && leads(&names)
        }
    });
    by_key || by_index
}

/// `ALTER TABLE t DROP FOREIGN KEY n`, then `DROP INDEX` of the key's
/// implicit index when it has one (no other index in `state` serves it).
/// The index is the one the catalog reported for the key, which MySQL named
/// after the constraint when it was given a name and after the key's first
/// column when the server named the key (`{table}_ibfk_{n}`); a key read
/// from the models was created by retort, always named, so its index has
/// the constraint's name.
pub(crate) fn drop_foreign_key(
    table: &str,
    fk: &ForeignKey,
    name: &str,
    state: &Schema,
) -> Vec<String> {
    let mut out = vec![format!(
        "ALTER TABLE {} DROP FOREIGN KEY {}",
        quote(table, MY),
        quote(name, MY)
    )];
    let Some(current) = state.table(table) else {
        return out;
    };
    if supported(current, &fk.columns, None) {
        return out;
    }
    let catalog_index = fk.implicit_index.as_deref().or_else(|| {
        current
            .foreign_keys
            .iter()
            .find(|key| key.name.as_deref() == Some(name) && key.columns == fk.columns)
            .and_then(|key| key.implicit_index.as_deref())
    });
    out.push(ddl::drop_index_statement(
        table,
        catalog_index.unwrap_or(name),
        MY,
    ));
    out
}

/// The foreign keys of `table` in `state` that need `index` and no other
/// index: they must be dropped around the index's drop.
pub(crate) fn keys_needing(state: &Schema, table: &str, index: &Index) -> Vec<ForeignKey> {
    let Some(t) = state.table(table) else {
        return Vec::new();
    };
    let names: Vec<String> = whole_columns(index);
    t.foreign_keys
        .iter()
        .filter(|fk| {
            names.len() >= fk.columns.len()
                && names[..fk.columns.len()] == fk.columns[..]
                && !supported(t, &fk.columns, Some(&index.name))
        })
        .cloned()
        .collect()
}

/// `DROP INDEX`, wrapped in dropping and re-adding the foreign keys that
/// need the index (see the module doc).
pub(crate) fn drop_index(table: &str, index: &Index, state: &Schema) -> Vec<String> {
    let keys: Vec<ForeignKey> = keys_needing(state, table, index)
        .into_iter()
        .map(|mut fk| {
            if fk.name.is_none() {
                fk.name = crate::names::implied_name(
                    table,
                    &Constraint::ForeignKey(fk.clone()),
                    state,
                    MY,
                );
            }
            fk
        })
        .collect();
    let mut out = Vec::new();
    for fk in &keys {
        if let Some(name) = &fk.name {
            out.push(format!(
                "ALTER TABLE {} DROP FOREIGN KEY {}",
                quote(table, MY),
                quote(name, MY)
            ));
        }
    }
    out.push(ddl::drop_index_statement(table, &index.name, MY));
    for fk in &keys {
        out.push(format!(
            "ALTER TABLE {} ADD {}",
            quote(table, MY),
            ddl::foreign_key_clause(fk, MY)
        ));
    }
    out
}

/// Whether `op` creates a key (primary key, unique constraint or index) on
/// `table` that contains `column`, with all its columns in `state`.
fn creates_key_on(op: &Op, table: &str, column: &str, state: &Schema) -> bool {
    let columns: Vec<&str> = match op {
        Op::CreatePrimaryKey {
            table: t,
            constraint,
        } if t == table => constraint.columns.iter().map(String::as_str).collect(),
        Op::CreateUniqueConstraint {
            table: t,
            constraint,
        } if t == table => constraint.columns.iter().map(String::as_str).collect(),
        Op::CreateIndex { table: t, index } if t == table => index.column_names().collect(),
        _ => return false,
    };
    let Some(current) = state.table(table) else {
        return false;
    };
    columns.contains(&column) && columns.iter().all(|c| current.column(c).is_some())
}

/// The position in `later` of the op that must share one `ALTER TABLE` with
/// `op` on MySQL, where either alone would leave an `AUTO_INCREMENT` column
/// without a key (error 1075, "there can be only one auto column and it
/// must be defined as a key"): the key created for a column added or
/// altered to `AUTO_INCREMENT`, or, for the drop of an auto-increment
/// column's only key, the op that drops the column, takes its
/// `AUTO_INCREMENT` away or gives it its new primary key. `before` is
/// `op`'s table before it, `after` the schema once `op` is applied.
pub(crate) fn auto_increment_partner<'a>(
    op: &Op,
    before: Option<&Table>,
    after: &Schema,
    later: impl Iterator<Item = &'a Op>,
) -> Option<usize> {
    let keyless = |table: Option<&Table>, column: &str| {
        table.is_some_and(|t| {
            t.column(column).is_some_and(|c| c.autoincrement)
                && !supported(t, &[column.to_string()], None)
        })
    };
    let after_table = op.table().and_then(|t| after.table(t));
    let mut later = later.enumerate();
    match op {
        Op::AddColumn { table, column }
        | Op::AlterColumn {
            table, to: column, ..
        } if keyless(after_table, &column.name) => later
            .find(|(_, next)| creates_key_on(next, table, &column.name, after))
            .map(|(at, _)| at),
        Op::DropConstraint {
            table,
            constraint: Constraint::PrimaryKey(pk),
        } => {
            let column = pk
                .columns
                .iter()
                .find(|c| !keyless(before, c) && keyless(after_table, c))?;
            later
                .find(|(_, next)| match next {
                    Op::DropColumn {
                        table: t,
                        column: c,
                    } => t == table && &c.name == column,
                    Op::AlterColumn { table: t, from, to } => {
                        t == table && &from.name == column && !to.autoincrement
                    }
                    Op::CreatePrimaryKey { table: t, .. } => t == table,
                    _ => false,
                })
                .map(|(at, _)| at)
        }
        _ => None,
    }
}

/// Two single-statement `ALTER TABLE` renderings of the same table as one
/// statement (`ALTER TABLE t a, b`), or `None` where they are not that.
pub(crate) fn one_alter(first: &[String], second: &[String], table: &str) -> Option<String> {
    let ([first], [second]) = (first, second) else {
        return None;
    };
    let head = format!("ALTER TABLE {} ", quote(table, MY));
    let action = second.strip_prefix(&head)?;
    first
        .starts_with(&head)
        .then(|| format!("{first}, {action}"))
}

/// Whether MySQL can index a column of type `ty` only with a prefix length.
fn needs_prefix(ty: &ColumnType) -> bool {
    match ty {
        ColumnType::Text | ColumnType::Blob | ColumnType::Json => true,
        ColumnType::Custom(name) => {
            let base = name.split('(').next().unwrap_or(name);
            base.ends_with("text") || base.ends_with("blob")
        }
        _ => false,
    }
}

/// Refuses a key over a TEXT/BLOB column of `table` (columns as in the
/// table), naming the key `what` in the error.
pub(crate) fn check_key_columns(
    table: &Table,
    columns: &[&str],
    what: &str,
) -> Result<(), RenderError> {
    for column in columns {
        if let Some(c) = table.column(column)
            && needs_prefix(&c.ty)
        {
            return Err(RenderError::IndexNeedsPrefix {
                table: table.name.clone(),
                column: c.name.clone(),
                ty: c.ty.clone(),
                key: what.to_string(),
            });
        }
    }
    Ok(())
}

/// [`check_key_columns`] for an index's plain-column parts.
pub(crate) fn check_index(table: &Table, index: &Index) -> Result<(), RenderError> {
    let columns: Vec<&str> = index
        .parts
        .iter()
        .filter_map(|p| match &p.target {
            IndexTarget::Column(c) if p.prefix.is_none() => Some(c.as_str()),
            _ => None,
        })
        .collect();
    check_key_columns(table, &columns, &format!("index `{}`", index.name))
}

/// Every key of a table about to be created, checked.
pub(crate) fn check_table_keys(table: &Table) -> Result<(), RenderError> {
    if let Some(pk) = &table.primary_key {
        let columns: Vec<&str> = pk.columns.iter().map(String::as_str).collect();
        check_key_columns(table, &columns, "the primary key")?;
    }
    for unique in &table.unique_constraints {
        let columns: Vec<&str> = unique.columns.iter().map(String::as_str).collect();
        let what = match &unique.name {
            Some(name) => format!("unique constraint `{name}`"),
            None => "a unique constraint".to_string(),
        };
        check_key_columns(table, &columns, &what)?;
    }
    for index in &table.indexes {
        check_index(table, index)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state_with_key(name: &str, implicit_index: Option<&str>) -> (Schema, ForeignKey) {
        let fk = ForeignKey {
            name: Some(name.into()),
            columns: vec!["user_id".into()],
            referred_schema: None,
            referred_table: "u".into(),
            referred_columns: vec!["id".into()],
            on_delete: Default::default(),
            on_update: Default::default(),
            deferrable: Default::default(),
            implicit_index: implicit_index.map(str::to_string),
        };
        let mut table = Table::new("p");
        table
            .columns
            .push(retort_schema::Column::new("user_id", ColumnType::Integer));
        table.foreign_keys.push(fk.clone());
        let state = Schema {
            tables: vec![table],
            ..Schema::default()
        };
        (state, fk)
    }

    #[test]
    fn a_dropped_foreign_key_drops_the_index_the_catalog_named() {
        // Named `p_ibfk_1` by its author: MariaDB named the index after it.
        let (state, fk) = state_with_key("p_ibfk_1", Some("p_ibfk_1"));
        assert_eq!(
            drop_foreign_key("p", &fk, "p_ibfk_1", &state),
            [
                "ALTER TABLE `p` DROP FOREIGN KEY `p_ibfk_1`",
                "DROP INDEX `p_ibfk_1` ON `p`"
            ]
        );
        // Named by the server: the index took the first column's name.
        let (state, fk) = state_with_key("p_ibfk_1", Some("user_id"));
        let without_index = ForeignKey {
            implicit_index: None,
            ..fk
        };
        assert_eq!(
            drop_foreign_key("p", &without_index, "p_ibfk_1", &state)[1],
            "DROP INDEX `user_id` ON `p`"
        );
        // Created by retort (from the models): named after the key.
        let (state, fk) = state_with_key("p_user_id_fkey", None);
        assert_eq!(
            drop_foreign_key("p", &fk, "p_user_id_fkey", &state)[1],
            "DROP INDEX `p_user_id_fkey` ON `p`"
        );
    }

    #[test]
    fn text_and_blob_types_need_a_prefix() {
        assert!(needs_prefix(&ColumnType::Text));
        assert!(needs_prefix(&ColumnType::Custom("mediumtext".into())));
        assert!(needs_prefix(&ColumnType::Custom("tinyblob".into())));
        assert!(!needs_prefix(&ColumnType::Varchar { length: Some(255) }));
        assert!(!needs_prefix(&ColumnType::Custom("int unsigned".into())));
    }
}
