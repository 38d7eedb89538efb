//! Ops a dialect performs with one or a few statements, no rebuild.

use crate::ddl::{self, BuildFor};
use crate::error::RenderError;
use crate::mysql;
use crate::names::{creation_name, implied_name};
use crate::spelling::{self, quote, quote_list};
use retort_diff::{Constraint, Op};
use retort_schema::{Dialect, Schema};
use sea_query as sq;

fn alter_table(table: &str, dialect: Dialect, action: &str) -> String {
    format!("ALTER TABLE {} {action}", quote(table, dialect))
}

fn unsupported(op: &Op, dialect: Dialect, what: &str) -> RenderError {
    RenderError::Unsupported {
        op: op.name(),
        dialect,
        what: what.to_string(),
    }
}

/// The statements for `op`, on a database whose schema is `state`.
pub(crate) fn statements(
    op: &Op,
    state: &Schema,
    dialect: Dialect,
) -> Result<Vec<String>, RenderError> {
    let out = match op {
        Op::CreateEnum { enum_type } => {
            if !dialect.named_enums() {
                return Err(unsupported(
                    op,
                    dialect,
                    &format!("enum type `{}`", enum_type.name),
                ));
            }
            let values: Vec<String> = enum_type
                .values
                .iter()
                .map(|v| spelling::literal(v, dialect))
                .collect();
            vec![format!(
                "CREATE TYPE {} AS ENUM ({})",
                quote(&enum_type.name, dialect),
                values.join(", ")
            )]
        }
        Op::DropEnum { enum_type } => {
            if !dialect.named_enums() {
                return Err(unsupported(
                    op,
                    dialect,
                    &format!("enum type `{}`", enum_type.name),
                ));
            }
            vec![format!("DROP TYPE {}", quote(&enum_type.name, dialect))]
        }
        // Rendered by `postgres::alter_enum_step` where enums exist.
        Op::AlterEnum { name, .. } => {
            return Err(unsupported(op, dialect, &format!("enum type `{name}`")));
        }
        Op::CreateTable { table } => {
            if dialect == Dialect::Mysql {
                mysql::check_table_keys(table)?;
            }
            ddl::create_table_with_indexes(table, dialect)
        }
        Op::AlterTableComment { table, to, .. } => match dialect {
            Dialect::Postgres => vec![format!(
                "COMMENT ON TABLE {} IS {}",
                quote(table, dialect),
                to.as_deref()
                    .map_or_else(|| "NULL".to_string(), |c| spelling::literal(c, dialect))
            )],
            // MySQL keeps "no comment" as the empty one.
            Dialect::Mysql => vec![alter_table(
                table,
                dialect,
                &format!(
                    "COMMENT = {}",
                    spelling::literal(to.as_deref().unwrap_or_default(), dialect)
                ),
            )],
            Dialect::Sqlite => return Err(unsupported(op, dialect, "table comments")),
        },
        // The same spelling on all three: PostgreSQL, SQLite and MySQL all
        // accept `ALTER TABLE … RENAME TO …`.
        Op::RenameTable { from, to } => {
            vec![alter_table(
                from,
                dialect,
                &format!("RENAME TO {}", quote(to, dialect)),
            )]
        }
        // SQLite 3.25+, MySQL 8.0+ and MariaDB 10.5+; the database carries
        // indexes, keys and (SQLite) triggers and views along.
        Op::RenameColumn { table, from, to } => {
            if !dialect.rename_column() {
                return Err(unsupported(op, dialect, "ALTER TABLE … RENAME COLUMN"));
            }
            vec![alter_table(
                table,
                dialect,
                &format!(
                    "RENAME COLUMN {} TO {}",
                    quote(from, dialect),
                    quote(to, dialect)
                ),
            )]
        }
        Op::DropTable { table } => vec![
            sq::Table::drop()
                .table(sq::Alias::new(table.name.as_str()))
                .build_for(dialect),
        ],
        Op::AddColumn { table, column } => {
            let mut out = vec![
                sq::Table::alter()
                    .table(sq::Alias::new(table.as_str()))
                    .add_column(ddl::column_def(column, dialect))
                    .build_for(dialect),
            ];
            if let (Some(comment), Dialect::Postgres) = (&column.comment, dialect) {
                out.push(ddl::column_comment_statement(
                    table,
                    &column.name,
                    Some(comment),
                    dialect,
                ));
            }
            out
        }
        Op::DropColumn { table, column } => {
            if !dialect.drop_column() {
                return Err(unsupported(op, dialect, "ALTER TABLE … DROP COLUMN"));
            }
            vec![
                sq::Table::alter()
                    .table(sq::Alias::new(table.as_str()))
                    .drop_column(sq::Alias::new(column.name.as_str()))
                    .build_for(dialect),
            ]
        }
        Op::AlterColumn { table, from, to } => match dialect {
            Dialect::Postgres => crate::postgres::alter_column(table, from, to, state),
            // MODIFY COLUMN restates the whole column; anything left out
            // (default, NOT NULL, comment) would be lost.
            Dialect::Mysql => vec![
                sq::Table::alter()
                    .table(sq::Alias::new(table.as_str()))
                    .modify_column(ddl::column_def(to, dialect))
                    .build_for(dialect),
            ],
            // The renderer rebuilds the table instead (`sqlite::needs_rebuild`).
            Dialect::Sqlite => {
                return Err(unsupported(op, dialect, "ALTER TABLE … ALTER COLUMN"));
            }
        },
        Op::CreateIndex { table, index } => {
            if index.predicate.is_some() && !dialect.partial_index() {
                return Err(unsupported(
                    op,
                    dialect,
                    &format!("partial index `{}` on `{table}`", index.name),
                ));
            }
            if let (Dialect::Mysql, Some(t)) = (dialect, state.table(table)) {
                mysql::check_index(t, index)?;
            }
            vec![ddl::create_index_statement(table, index, dialect)]
        }
        Op::DropIndex { table, index } if dialect == Dialect::Mysql => {
            mysql::drop_index(table, index, state)
        }
        Op::DropIndex { table, index } => {
            vec![ddl::drop_index_statement(table, &index.name, dialect)]
        }
        Op::CreatePrimaryKey { table, constraint } => {
            let action = format!(
                "ADD {}PRIMARY KEY ({})",
                ddl::constraint_prefix(constraint.name.as_deref(), dialect),
                quote_list(&constraint.columns, dialect)
            );
            vec![alter_table(table, dialect, &action)]
        }
        Op::CreateUniqueConstraint { table, constraint } => {
            if let (Dialect::Mysql, Some(t)) = (dialect, state.table(table)) {
                let columns: Vec<&str> = constraint.columns.iter().map(String::as_str).collect();
                mysql::check_key_columns(t, &columns, "a unique constraint")?;
            }
            let name = creation_name(
                table,
                &Constraint::Unique(constraint.clone()),
                state,
                dialect,
            );
            let action = format!(
                "ADD {}{} ({})",
                ddl::constraint_prefix(name.as_deref(), dialect),
                ddl::unique_keyword(constraint.nulls_not_distinct),
                quote_list(&constraint.columns, dialect)
            );
            vec![alter_table(table, dialect, &action)]
        }
        Op::CreateForeignKey { table, constraint } => {
            let mut constraint = constraint.clone();
            constraint.name = creation_name(
                table,
                &Constraint::ForeignKey(constraint.clone()),
                state,
                dialect,
            );
            let constraint = &constraint;
            if ddl::builder_writes_foreign_key(constraint, dialect) {
                vec![ddl::foreign_key_statement(table, constraint, dialect).build_for(dialect)]
            } else {
                let action = format!("ADD {}", ddl::foreign_key_clause(constraint, dialect));
                vec![alter_table(table, dialect, &action)]
            }
        }
        Op::CreateCheckConstraint { table, constraint } => {
            let name = creation_name(
                table,
                &Constraint::Check(constraint.clone()),
                state,
                dialect,
            );
            let action = format!(
                "ADD {}CHECK ({})",
                ddl::constraint_prefix(name.as_deref(), dialect),
                constraint.expression
            );
            vec![alter_table(table, dialect, &action)]
        }
        Op::DropConstraint { table, constraint } => {
            drop_constraint(table, constraint, state, dialect)?
        }
    };
    Ok(out)
}

fn drop_constraint(
    table: &str,
    constraint: &Constraint,
    state: &Schema,
    dialect: Dialect,
) -> Result<Vec<String>, RenderError> {
    // MySQL's primary key is always called PRIMARY and dropped without name.
    if let (Constraint::PrimaryKey(_), Dialect::Mysql) = (constraint, dialect) {
        return Ok(vec![alter_table(table, dialect, "DROP PRIMARY KEY")]);
    }
    // An unnamed constraint carries the name the database gave it, where
    // that name is predictable (PostgreSQL's).
    let implied = implied_name(table, constraint, state, dialect);
    let Some(name) = constraint.name().or(implied.as_deref()) else {
        return Err(RenderError::UnnamedConstraint {
            table: table.to_string(),
            constraint: describe_constraint(constraint),
            dialect,
        });
    };
    if let (Constraint::ForeignKey(fk), Dialect::Mysql) = (constraint, dialect) {
        return Ok(mysql::drop_foreign_key(table, fk, name, state));
    }
    let sql = match (constraint, dialect) {
        (Constraint::Unique(_), Dialect::Mysql) => alter_table(
            table,
            dialect,
            &format!("DROP INDEX {}", quote(name, dialect)),
        ),
        // MariaDB keeps a column's own CHECK with the column, under the
        // column's name: it goes away when the column is restated without it.
        (Constraint::Check(_), Dialect::Mysql)
            if let Some(column) = state
                .table(table)
                .and_then(|t| t.columns.iter().find(|c| c.name == name)) =>
        {
            sq::Table::alter()
                .table(sq::Alias::new(table))
                .modify_column(ddl::column_def(column, dialect))
                .build_for(dialect)
        }
        (Constraint::Check(_), Dialect::Mysql) => alter_table(
            table,
            dialect,
            // `DROP CONSTRAINT` is what MariaDB and MySQL 8.0.19+ both
            // accept; MariaDB has no `DROP CHECK`.
            &format!("DROP CONSTRAINT {}", quote(name, dialect)),
        ),
        _ => alter_table(
            table,
            dialect,
            &format!("DROP CONSTRAINT {}", quote(name, dialect)),
        ),
    };
    Ok(vec![sql])
}

/// A constraint's kind and definition, without its name (which the
/// context shows): `unique (email)`, `foreign key (org_id) → orgs (id)`.
pub(crate) fn describe_constraint(constraint: &Constraint) -> String {
    match constraint {
        Constraint::PrimaryKey(c) => format!("primary key ({})", c.columns.join(", ")),
        Constraint::Unique(c) => format!("unique ({})", c.columns.join(", ")),
        Constraint::ForeignKey(c) => format!(
            "foreign key ({}) → {} ({})",
            c.columns.join(", "),
            c.referred_table,
            c.referred_columns.join(", ")
        ),
        Constraint::Check(c) => format!("check ({})", c.expression),
    }
}
