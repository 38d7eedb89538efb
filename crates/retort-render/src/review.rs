//! The review summary: one line per planned op, for people reading a
//! plan before it runs.

use crate::{direct, spelling};
use retort_diff::{Constraint, Op, PlannedOp};
use retort_schema::Column;

/// One review line per op: a sign (`+` creates, `-` drops, `~` changes),
/// the op name, its subject and details, then its hazards in brackets:
/// `+ add_column users.age (integer, nullable)`,
/// `- drop_table legacy  [data_loss: drops table legacy and all its rows]`.
pub fn summary(ops: &[PlannedOp]) -> Vec<String> {
    ops.iter()
        .map(|planned| {
            let op = &planned.op;
            let sign = match op {
                Op::CreateEnum { .. }
                | Op::CreateTable { .. }
                | Op::AddColumn { .. }
                | Op::CreateIndex { .. }
                | Op::CreatePrimaryKey { .. }
                | Op::CreateUniqueConstraint { .. }
                | Op::CreateForeignKey { .. }
                | Op::CreateCheckConstraint { .. } => '+',
                Op::DropEnum { .. }
                | Op::DropTable { .. }
                | Op::DropColumn { .. }
                | Op::DropIndex { .. }
                | Op::DropConstraint { .. } => '-',
                Op::AlterColumn { .. }
                | Op::AlterTableComment { .. }
                | Op::AlterEnum { .. }
                | Op::RenameTable { .. }
                | Op::RenameColumn { .. } => '~',
            };
            let mut line = format!("{sign} {} {}", op.name(), op_subject(op));
            if let Some(details) = op_details(op) {
                line.push_str(&format!(" ({details})"));
            }
            if !planned.hazards.is_empty() {
                line.push(' ');
                for hazard in &planned.hazards {
                    line.push_str(&format!(" [{}: {}]", hazard.code.as_str(), hazard.message));
                }
            }
            line
        })
        .collect()
}

/// What an op changes: `users`, `users.age`, `users.ix_users_email`.
pub(crate) fn op_subject(op: &Op) -> String {
    match op {
        Op::CreateEnum { enum_type } | Op::DropEnum { enum_type } => enum_type.name.clone(),
        Op::AlterEnum { name, .. } => name.clone(),
        Op::CreateTable { table } | Op::DropTable { table } => table.name.clone(),
        Op::AddColumn { table, column } | Op::DropColumn { table, column } => {
            format!("{table}.{}", column.name)
        }
        Op::AlterColumn { table, to, .. } => format!("{table}.{}", to.name),
        Op::CreateIndex { table, index } | Op::DropIndex { table, index } => {
            format!("{table}.{}", index.name)
        }
        Op::CreatePrimaryKey { table, constraint } => qualified(table, constraint.name.as_deref()),
        Op::CreateUniqueConstraint { table, constraint } => {
            qualified(table, constraint.name.as_deref())
        }
        Op::CreateForeignKey { table, constraint } => qualified(table, constraint.name.as_deref()),
        Op::CreateCheckConstraint { table, constraint } => {
            qualified(table, constraint.name.as_deref())
        }
        Op::DropConstraint { table, constraint } => qualified(table, constraint.name()),
        Op::RenameTable { from, .. } => from.clone(),
        Op::RenameColumn { table, from, .. } => format!("{table}.{from}"),
        Op::AlterTableComment { table, .. } => table.clone(),
    }
}

fn qualified(table: &str, name: Option<&str>) -> String {
    match name {
        Some(name) => format!("{table}.{name}"),
        None => table.to_string(),
    }
}

fn column_details(column: &Column) -> String {
    let mut parts = vec![
        column.ty.to_string(),
        if column.nullable {
            "nullable".to_string()
        } else {
            "not null".to_string()
        },
    ];
    if let Some(default) = &column.default {
        parts.push(format!("default {default}"));
    }
    if column.autoincrement {
        parts.push("autoincrement".to_string());
    }
    parts.join(", ")
}

fn op_details(op: &Op) -> Option<String> {
    let details = match op {
        Op::CreateEnum { enum_type } => enum_type
            .values
            .iter()
            .map(|v| retort_schema::DefaultValue::String(v.clone()).to_sql())
            .collect::<Vec<_>>()
            .join(", "),
        Op::AlterEnum {
            from_values,
            to_values,
            ..
        } => {
            let list = |values: &[String]| {
                values
                    .iter()
                    .map(|v| retort_schema::DefaultValue::String(v.clone()).to_sql())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            format!("{} → {}", list(from_values), list(to_values))
        }
        Op::CreateTable { table } => {
            let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
            names.join(", ")
        }
        Op::AddColumn { column, .. } => column_details(column),
        Op::AlterColumn { from, to, .. } => {
            let mut changes = Vec::new();
            if from.ty != to.ty {
                changes.push(format!("{} → {}", from.ty, to.ty));
            }
            if from.nullable != to.nullable {
                changes.push(if to.nullable {
                    "not null → nullable".to_string()
                } else {
                    "nullable → not null".to_string()
                });
            }
            if from.default != to.default {
                let show = |d: &Option<retort_schema::DefaultValue>| match d {
                    Some(d) => format!("default {d}"),
                    None => "no default".to_string(),
                };
                changes.push(format!("{} → {}", show(&from.default), show(&to.default)));
            }
            if from.autoincrement != to.autoincrement {
                changes.push(format!(
                    "autoincrement {} → {}",
                    from.autoincrement, to.autoincrement
                ));
            }
            if from.comment != to.comment {
                changes.push("comment".to_string());
            }
            if from.on_update != to.on_update {
                let show = |v: &Option<retort_schema::DefaultValue>| match v {
                    Some(value) => format!("on update {value}"),
                    None => "no on update".to_string(),
                };
                changes.push(format!(
                    "{} → {}",
                    show(&from.on_update),
                    show(&to.on_update)
                ));
            }
            if (&from.charset, &from.collation) != (&to.charset, &to.collation) {
                let show = |c: &Column| match (&c.charset, &c.collation) {
                    (_, Some(collation)) => format!("collation {collation}"),
                    (Some(charset), None) => format!("character set {charset}"),
                    (None, None) => "the default collation".to_string(),
                };
                changes.push(format!("{} → {}", show(from), show(to)));
            }
            changes.join(", ")
        }
        Op::CreateIndex { index, .. } => {
            let parts: Vec<String> = index
                .parts
                .iter()
                .map(|p| {
                    let target = match &p.target {
                        retort_schema::IndexTarget::Column(c) => match p.prefix {
                            Some(length) => format!("{c}({length})"),
                            None => c.clone(),
                        },
                        retort_schema::IndexTarget::Expression(e) => spelling::parenthesize(e),
                    };
                    if p.descending {
                        format!("{target} DESC")
                    } else {
                        target
                    }
                })
                .collect();
            let mut text = String::new();
            if index.unique {
                text.push_str("unique ");
            }
            text.push_str(&parts.join(", "));
            if let Some(predicate) = &index.predicate {
                text.push_str(&format!(" WHERE {predicate}"));
            }
            text
        }
        Op::CreatePrimaryKey { constraint, .. } => {
            direct::describe_constraint(&Constraint::PrimaryKey(constraint.clone()))
        }
        Op::CreateUniqueConstraint { constraint, .. } => {
            direct::describe_constraint(&Constraint::Unique(constraint.clone()))
        }
        Op::CreateForeignKey { constraint, .. } => {
            let mut text = direct::describe_constraint(&Constraint::ForeignKey(constraint.clone()));
            for (label, action) in [
                ("on delete", constraint.on_delete),
                ("on update", constraint.on_update),
            ] {
                if action != retort_schema::ForeignKeyAction::NoAction {
                    text.push_str(&format!(
                        " {label} {}",
                        action.as_sql().to_ascii_lowercase()
                    ));
                }
            }
            text
        }
        Op::CreateCheckConstraint { constraint, .. } => {
            direct::describe_constraint(&Constraint::Check(constraint.clone()))
        }
        Op::DropConstraint { constraint, .. } => direct::describe_constraint(constraint),
        Op::RenameTable { to, .. } | Op::RenameColumn { to, .. } => format!("→ {to}"),
        Op::AlterTableComment { from, to, .. } => {
            let text = |comment: &Option<String>| {
                comment.as_deref().map_or_else(
                    || "no comment".to_string(),
                    |c| {
                        format!(
                            "comment {}",
                            retort_schema::DefaultValue::String(c.to_string())
                        )
                    },
                )
            };
            format!("{} → {}", text(from), text(to))
        }
        Op::DropEnum { .. }
        | Op::DropTable { .. }
        | Op::DropColumn { .. }
        | Op::DropIndex { .. } => {
            return None;
        }
    };
    Some(details)
}
