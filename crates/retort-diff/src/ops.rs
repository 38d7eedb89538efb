//! Migration ops in Alembic's vocabulary, their inverses, and their effect
//! on a schema.
//!
//! Every op carries the full definition of what it creates or removes
//! (a dropped column carries the column), so that [`Op::inverse`] is exact
//! and every revision gets a real downgrade.

use retort_schema::{
    CheckConstraint, Column, EnumType, ForeignKey, Index, IndexTarget, PrimaryKey, Schema, Table,
    UniqueConstraint,
};
use serde::{Deserialize, Serialize};

/// One schema change. Serialised with an `"op"` tag in snake case
/// (`{"op":"add_column","table":"users","column":{…}}`); this JSON is a
/// public contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    CreateEnum {
        #[serde(rename = "enum")]
        enum_type: EnumType,
    },
    DropEnum {
        #[serde(rename = "enum")]
        enum_type: EnumType,
    },
    /// A change of an enum type's value list, from `from_values` to
    /// `to_values` (both in declared order). One op covers every change so
    /// that the inverse is exact (swap the lists): where `to_values` only
    /// inserts values (`from_values` is a subsequence of it, see
    /// [`Op::enum_values_only_added`]), PostgreSQL renders it as
    /// `ALTER TYPE … ADD VALUE`; any removal or reordering (and so the
    /// inverse of every addition, since PostgreSQL cannot drop a value) is
    /// rendered as a rebuild of the type, converting every column that uses
    /// it.
    AlterEnum {
        #[serde(rename = "enum")]
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        schema: Option<String>,
        from_values: Vec<String>,
        to_values: Vec<String>,
    },
    CreateTable {
        table: Table,
    },
    DropTable {
        table: Table,
    },
    AddColumn {
        table: String,
        column: Column,
    },
    DropColumn {
        table: String,
        column: Column,
    },
    /// A change of type, nullability, default or comment of one column.
    /// `from.name == to.name`.
    AlterColumn {
        table: String,
        from: Column,
        to: Column,
    },
    CreateIndex {
        table: String,
        index: Index,
    },
    DropIndex {
        table: String,
        index: Index,
    },
    CreatePrimaryKey {
        table: String,
        constraint: PrimaryKey,
    },
    CreateUniqueConstraint {
        table: String,
        constraint: UniqueConstraint,
    },
    CreateForeignKey {
        table: String,
        constraint: ForeignKey,
    },
    CreateCheckConstraint {
        table: String,
        constraint: CheckConstraint,
    },
    DropConstraint {
        table: String,
        constraint: Constraint,
    },
    /// A change of a table's comment (`None`: no comment), on the dialects
    /// that keep comments.
    AlterTableComment {
        table: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<String>,
    },
    /// `ALTER TABLE from RENAME TO to`: keeps the rows. The database carries
    /// the table's indexes, constraints and the foreign keys that refer to
    /// it along (their names stay as they were).
    RenameTable {
        from: String,
        to: String,
    },
    /// `ALTER TABLE table RENAME COLUMN from TO to`: keeps the values. The
    /// database carries the indexes, keys and foreign keys that use the
    /// column along.
    RenameColumn {
        table: String,
        from: String,
        to: String,
    },
}

/// A table constraint, as removed by [`Op::DropConstraint`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Constraint {
    PrimaryKey(PrimaryKey),
    Unique(UniqueConstraint),
    ForeignKey(ForeignKey),
    Check(CheckConstraint),
}

impl Constraint {
    /// The constraint's name, where it has one.
    pub fn name(&self) -> Option<&str> {
        match self {
            Constraint::PrimaryKey(c) => c.name.as_deref(),
            Constraint::Unique(c) => c.name.as_deref(),
            Constraint::ForeignKey(c) => c.name.as_deref(),
            Constraint::Check(c) => c.name.as_deref(),
        }
    }
}

/// The error for an op that does not fit the schema it is applied to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApplyError {
    /// The op names a table the schema does not have.
    #[error("op `{op}` names table `{table}`, which does not exist")]
    NoSuchTable { op: &'static str, table: String },
    /// The op names a column the table does not have.
    #[error("op `{op}` names column `{table}.{column}`, which does not exist")]
    NoSuchColumn {
        op: &'static str,
        table: String,
        column: String,
    },
    /// The op names an enum type the schema does not have.
    #[error("op `{op}` names enum type `{name}`, which does not exist")]
    NoSuchEnum { op: &'static str, name: String },
    /// The op creates something that already exists.
    #[error("op `{op}` creates `{name}`, which already exists")]
    AlreadyExists { op: &'static str, name: String },
}

impl Op {
    /// The op's name in Alembic's vocabulary (`add_column`).
    pub fn name(&self) -> &'static str {
        match self {
            Op::CreateEnum { .. } => "create_enum",
            Op::DropEnum { .. } => "drop_enum",
            Op::AlterEnum { .. } => "alter_enum",
            Op::CreateTable { .. } => "create_table",
            Op::DropTable { .. } => "drop_table",
            Op::AddColumn { .. } => "add_column",
            Op::DropColumn { .. } => "drop_column",
            Op::AlterColumn { .. } => "alter_column",
            Op::CreateIndex { .. } => "create_index",
            Op::DropIndex { .. } => "drop_index",
            Op::CreatePrimaryKey { .. } => "create_primary_key",
            Op::CreateUniqueConstraint { .. } => "create_unique_constraint",
            Op::CreateForeignKey { .. } => "create_foreign_key",
            Op::CreateCheckConstraint { .. } => "create_check_constraint",
            Op::DropConstraint { .. } => "drop_constraint",
            Op::RenameTable { .. } => "rename_table",
            Op::RenameColumn { .. } => "rename_column",
            Op::AlterTableComment { .. } => "alter_table_comment",
        }
    }

    /// The table the op changes, or `None` for enum ops.
    pub fn table(&self) -> Option<&str> {
        match self {
            Op::CreateEnum { .. } | Op::DropEnum { .. } | Op::AlterEnum { .. } => None,
            Op::CreateTable { table } | Op::DropTable { table } => Some(&table.name),
            // The name the table has once the op has run.
            Op::RenameTable { to, .. } => Some(to),
            Op::AddColumn { table, .. }
            | Op::DropColumn { table, .. }
            | Op::AlterColumn { table, .. }
            | Op::CreateIndex { table, .. }
            | Op::DropIndex { table, .. }
            | Op::CreatePrimaryKey { table, .. }
            | Op::CreateUniqueConstraint { table, .. }
            | Op::CreateForeignKey { table, .. }
            | Op::CreateCheckConstraint { table, .. }
            | Op::DropConstraint { table, .. }
            | Op::AlterTableComment { table, .. }
            | Op::RenameColumn { table, .. } => Some(table),
        }
    }

    /// The op that undoes this one exactly.
    pub fn inverse(&self) -> Op {
        match self.clone() {
            Op::CreateEnum { enum_type } => Op::DropEnum { enum_type },
            Op::DropEnum { enum_type } => Op::CreateEnum { enum_type },
            Op::AlterEnum {
                name,
                schema,
                from_values,
                to_values,
            } => Op::AlterEnum {
                name,
                schema,
                from_values: to_values,
                to_values: from_values,
            },
            Op::CreateTable { table } => Op::DropTable { table },
            Op::DropTable { table } => Op::CreateTable { table },
            Op::AddColumn { table, column } => Op::DropColumn { table, column },
            Op::DropColumn { table, column } => Op::AddColumn { table, column },
            Op::AlterColumn { table, from, to } => Op::AlterColumn {
                table,
                from: to,
                to: from,
            },
            Op::CreateIndex { table, index } => Op::DropIndex { table, index },
            Op::DropIndex { table, index } => Op::CreateIndex { table, index },
            Op::CreatePrimaryKey { table, constraint } => Op::DropConstraint {
                table,
                constraint: Constraint::PrimaryKey(constraint),
            },
            Op::CreateUniqueConstraint { table, constraint } => Op::DropConstraint {
                table,
                constraint: Constraint::Unique(constraint),
            },
            Op::CreateForeignKey { table, constraint } => Op::DropConstraint {
                table,
                constraint: Constraint::ForeignKey(constraint),
            },
            Op::CreateCheckConstraint { table, constraint } => Op::DropConstraint {
                table,
                constraint: Constraint::Check(constraint),
            },
            Op::DropConstraint { table, constraint } => match constraint {
                Constraint::PrimaryKey(constraint) => Op::CreatePrimaryKey { table, constraint },
                Constraint::Unique(constraint) => Op::CreateUniqueConstraint { table, constraint },
                Constraint::ForeignKey(constraint) => Op::CreateForeignKey { table, constraint },
                Constraint::Check(constraint) => Op::CreateCheckConstraint { table, constraint },
            },
            Op::RenameTable { from, to } => Op::RenameTable { from: to, to: from },
            Op::AlterTableComment { table, from, to } => Op::AlterTableComment {
                table,
                from: to,
                to: from,
            },
            Op::RenameColumn { table, from, to } => Op::RenameColumn {
                table,
                from: to,
                to: from,
            },
        }
    }

    /// Applies the op to `schema`, as running its SQL would change the
    /// database. The renderer uses this to know each table's state between
    /// ops (SQLite rebuilds need the whole table).
    pub fn apply(&self, schema: &mut Schema) -> Result<(), ApplyError> {
        let op = self.name();
        match self {
            Op::CreateEnum { enum_type } => {
                if schema.enum_type(&enum_type.name).is_some() {
                    return Err(ApplyError::AlreadyExists {
                        op,
                        name: enum_type.name.clone(),
                    });
                }
                schema.enums.push(enum_type.clone());
            }
            Op::DropEnum { enum_type } => schema.enums.retain(|e| e.name != enum_type.name),
            Op::AlterEnum {
                name, to_values, ..
            } => {
                let target = schema
                    .enums
                    .iter_mut()
                    .find(|e| e.name == *name)
                    .ok_or_else(|| ApplyError::NoSuchEnum {
                        op,
                        name: name.clone(),
                    })?;
                target.values = to_values.clone();
            }
            Op::CreateTable { table } => {
                if schema.table(&table.name).is_some() {
                    return Err(ApplyError::AlreadyExists {
                        op,
                        name: table.name.clone(),
                    });
                }
                schema.tables.push(table.clone());
            }
            Op::DropTable { table } => {
                table_mut(schema, op, &table.name)?;
                schema.tables.retain(|t| t.name != table.name);
                schema.triggers.retain(|t| t.table != table.name);
            }
            Op::AddColumn { table, column } => {
                let target = table_mut(schema, op, table)?;
                if target.column(&column.name).is_some() {
                    return Err(ApplyError::AlreadyExists {
                        op,
                        name: format!("{table}.{}", column.name),
                    });
                }
                target.columns.push(column.clone());
            }
            Op::DropColumn { table, column } => {
                let target = table_mut(schema, op, table)?;
                column_index(target, op, &column.name)?;
                target.columns.retain(|c| c.name != column.name);
            }
            Op::AlterColumn { table, from, to } => {
                let target = table_mut(schema, op, table)?;
                let at = column_index(target, op, &from.name)?;
                target.columns[at] = to.clone();
            }
            Op::CreateIndex { table, index } => {
                let target = table_mut(schema, op, table)?;
                target.indexes.push(index.clone());
            }
            Op::DropIndex { table, index } => {
                let target = table_mut(schema, op, table)?;
                target.indexes.retain(|i| i.name != index.name);
            }
            Op::CreatePrimaryKey { table, constraint } => {
                table_mut(schema, op, table)?.primary_key = Some(constraint.clone());
            }
            Op::CreateUniqueConstraint { table, constraint } => {
                let target = table_mut(schema, op, table)?;
                target.unique_constraints.push(constraint.clone());
            }
            Op::CreateForeignKey { table, constraint } => {
                let target = table_mut(schema, op, table)?;
                target.foreign_keys.push(constraint.clone());
            }
            Op::CreateCheckConstraint { table, constraint } => {
                let target = table_mut(schema, op, table)?;
                target.checks.push(constraint.clone());
            }
            Op::DropConstraint { table, constraint } => {
                let target = table_mut(schema, op, table)?;
                match constraint {
                    Constraint::PrimaryKey(_) => target.primary_key = None,
                    Constraint::Unique(c) => remove_first(&mut target.unique_constraints, c),
                    Constraint::ForeignKey(c) => remove_first(&mut target.foreign_keys, c),
                    Constraint::Check(c) => remove_first(&mut target.checks, c),
                }
            }
            Op::AlterTableComment { table, to, .. } => {
                table_mut(schema, op, table)?.comment.clone_from(to);
            }
            Op::RenameTable { from, to } => {
                if schema.table(to).is_some() {
                    return Err(ApplyError::AlreadyExists {
                        op,
                        name: to.clone(),
                    });
                }
                table_mut(schema, op, from)?.name = to.clone();
                for table in &mut schema.tables {
                    for fk in &mut table.foreign_keys {
                        if fk.referred_table == *from {
                            fk.referred_table = to.clone();
                        }
                    }
                }
                for trigger in &mut schema.triggers {
                    if trigger.table == *from {
                        trigger.table = to.clone();
                    }
                }
            }
            Op::RenameColumn { table, from, to } => {
                let target = table_mut(schema, op, table)?;
                if target.column(to).is_some() {
                    return Err(ApplyError::AlreadyExists {
                        op,
                        name: format!("{table}.{to}"),
                    });
                }
                let at = column_index(target, op, from)?;
                target.columns[at].name = to.clone();
                rename_in_table(target, from, to);
                for other in &mut schema.tables {
                    for fk in &mut other.foreign_keys {
                        if fk.referred_table == *table {
                            rename_all(&mut fk.referred_columns, from, to);
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

impl Op {
    /// For [`Op::AlterEnum`]: whether the change only inserts values,
    /// keeping the old ones in their order (`from_values` is a subsequence
    /// of `to_values`), so that `ALTER TYPE … ADD VALUE` can perform it.
    /// `false` for every other op, and for an unchanged list.
    pub fn enum_values_only_added(&self) -> bool {
        let Op::AlterEnum {
            from_values,
            to_values,
            ..
        } = self
        else {
            return false;
        };
        if from_values == to_values {
            return false;
        }
        let mut remaining = to_values.iter();
        from_values
            .iter()
            .all(|old| remaining.any(|new| new == old))
    }
}

fn table_mut<'a>(
    schema: &'a mut Schema,
    op: &'static str,
    name: &str,
) -> Result<&'a mut Table, ApplyError> {
    schema
        .table_mut(name)
        .ok_or_else(|| ApplyError::NoSuchTable {
            op,
            table: name.to_string(),
        })
}

fn column_index(table: &Table, op: &'static str, column: &str) -> Result<usize, ApplyError> {
    table
        .columns
        .iter()
        .position(|c| c.name == column)
        .ok_or_else(|| ApplyError::NoSuchColumn {
            op,
            table: table.name.clone(),
            column: column.to_string(),
        })
}

/// Renames column `from` to `to` wherever `table`'s keys and plain index
/// parts name it, as the database does on `RENAME COLUMN`. Expressions
/// (checks, expression indexes, predicates) keep their text: the next
/// introspection shows the database's own rewrite of them.
fn rename_in_table(table: &mut Table, from: &str, to: &str) {
    if let Some(pk) = &mut table.primary_key {
        rename_all(&mut pk.columns, from, to);
    }
    for unique in &mut table.unique_constraints {
        rename_all(&mut unique.columns, from, to);
    }
    for fk in &mut table.foreign_keys {
        rename_all(&mut fk.columns, from, to);
    }
    for index in &mut table.indexes {
        for part in &mut index.parts {
            if let IndexTarget::Column(name) = &mut part.target
                && name == from
            {
                *name = to.to_string();
            }
        }
    }
}

fn rename_all(names: &mut [String], from: &str, to: &str) {
    for name in names.iter_mut().filter(|n| *n == from) {
        *name = to.to_string();
    }
}

fn remove_first<T: PartialEq>(items: &mut Vec<T>, item: &T) {
    if let Some(at) = items.iter().position(|i| i == item) {
        items.remove(at);
    }
}

/// Applies `ops` in order to a copy of `schema`.
pub fn apply_all(schema: &Schema, ops: &[Op]) -> Result<Schema, ApplyError> {
    let mut result = schema.clone();
    for op in ops {
        op.apply(&mut result)?;
    }
    result.normalize();
    Ok(result)
}

/// The ops that undo `ops`: each op's inverse, in reverse order.
pub fn invert(ops: &[Op]) -> Vec<Op> {
    ops.iter().rev().map(Op::inverse).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use retort_schema::ColumnType;

    fn users() -> Schema {
        let mut table = Table::new("users");
        table
            .columns
            .push(Column::new("id", ColumnType::Integer).not_null());
        Schema {
            tables: vec![table],
            ..Schema::default()
        }
        .normalized()
    }

    #[test]
    fn inverse_of_inverse_is_the_op() {
        let op = Op::AddColumn {
            table: "users".into(),
            column: Column::new("age", ColumnType::Integer),
        };
        assert_eq!(op.inverse().inverse(), op);
        assert_eq!(op.inverse().name(), "drop_column");
    }

    #[test]
    fn applying_ops_then_their_inverse_restores_the_schema() {
        let before = users();
        let ops = vec![
            Op::AddColumn {
                table: "users".into(),
                column: Column::new("age", ColumnType::Integer),
            },
            Op::AlterColumn {
                table: "users".into(),
                from: Column::new("age", ColumnType::Integer),
                to: Column::new("age", ColumnType::BigInt).not_null(),
            },
        ];
        let after = apply_all(&before, &ops).unwrap();
        assert_eq!(
            after.table("users").unwrap().columns[1].ty,
            ColumnType::BigInt
        );
        assert_eq!(apply_all(&after, &invert(&ops)).unwrap(), before);
    }

    #[test]
    fn op_json_is_tagged_in_snake_case() {
        let op = Op::DropColumn {
            table: "users".into(),
            column: Column::new("age", ColumnType::Integer),
        };
        let json = serde_json::to_value(&op).unwrap();
        assert_eq!(json["op"], "drop_column");
        assert_eq!(json["table"], "users");
        assert_eq!(json["column"]["type"], "integer");
    }

    #[test]
    fn apply_names_the_missing_table() {
        let err = Op::AddColumn {
            table: "ghosts".into(),
            column: Column::new("x", ColumnType::Text),
        }
        .apply(&mut users())
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "op `add_column` names table `ghosts`, which does not exist"
        );
    }
}
