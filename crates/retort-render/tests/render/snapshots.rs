//! Per-dialect SQL for each op, as insta snapshots in `snapshots/render/`.

use crate::fixtures::*;
use retort_diff::{Constraint, HazardCode, Op, PlannedOp};
use retort_render::{create_table_sql, render, schema_sql, summary};
use retort_schema::{
    CheckConstraint, Column, ColumnType, DefaultValue, Dialect, EnumType, ForeignKey,
    ForeignKeyAction, PrimaryKey, Schema, UniqueConstraint,
};

macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({
            snapshot_path => concat!(env!("CARGO_MANIFEST_DIR"), "/../../snapshots/render"),
            prepend_module_to_snapshot => false,
        }, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

/// The script for each dialect, or its error.
fn all_dialects(ops: &[PlannedOp], from: &Schema) -> String {
    let mut out = String::new();
    for dialect in Dialect::ALL {
        out.push_str(&format!("===== {dialect}\n"));
        match render(ops, from, dialect) {
            Ok(script) => out.push_str(&script.to_sql()),
            Err(err) => out.push_str(&format!("error: {err}\n")),
        }
    }
    out
}

fn case(name: &str, ops: Vec<PlannedOp>) {
    snapshot!(name, all_dialects(&ops, &app()));
}

fn fk_users_orgs(name: Option<&str>) -> ForeignKey {
    ForeignKey {
        implicit_index: None,
        name: name.map(str::to_string),
        columns: vec!["org_id".into()],
        referred_schema: None,
        referred_table: "orgs".into(),
        referred_columns: vec!["id".into()],
        on_delete: ForeignKeyAction::Cascade,
        on_update: ForeignKeyAction::NoAction,
        deferrable: retort_schema::Deferral::NotDeferrable,
    }
}

#[test]
fn create_table() {
    let mut table = app().table("users").unwrap().clone();
    table.name = "members".into();
    table.foreign_keys[0].name = Some("fk_members_org".into());
    table.indexes.push(expression_index());
    table.columns.push(created_at());
    case("create_table", vec![planned(Op::CreateTable { table })]);
}

#[test]
fn drop_table() {
    let table = app().table("audit").unwrap().clone();
    case(
        "drop_table",
        vec![with_hazard(
            Op::DropTable { table },
            HazardCode::DataLoss,
            "drops table audit and all its rows",
        )],
    );
}

#[test]
fn add_column_direct() {
    case(
        "add_column_direct",
        vec![
            planned(Op::AddColumn {
                table: "users".into(),
                column: Column::new("nickname", ColumnType::Varchar { length: Some(30) }),
            }),
            planned(Op::AddColumn {
                table: "users".into(),
                column: Column::new("score", ColumnType::Integer)
                    .not_null()
                    .with_default(DefaultValue::Number("0".into())),
            }),
        ],
    );
}

#[test]
fn add_column_not_null_expression_default_rebuilds_on_sqlite() {
    case(
        "add_column_rebuild",
        vec![planned(Op::AddColumn {
            table: "users".into(),
            column: created_at(),
        })],
    );
}

#[test]
fn drop_column() {
    let column = users_column(&app(), "age");
    case(
        "drop_column",
        vec![with_hazard(
            Op::DropColumn {
                table: "users".into(),
                column,
            },
            HazardCode::DataLoss,
            "drops column users.age",
        )],
    );
}

#[test]
fn alter_column() {
    let from = users_column(&app(), "age");
    let to = Column::new("age", ColumnType::Integer)
        .not_null()
        .with_default(DefaultValue::Number("0".into()));
    case(
        "alter_column",
        vec![planned(Op::AlterColumn {
            table: "users".into(),
            from,
            to,
        })],
    );
}

#[test]
fn consecutive_rebuild_ops_merge_into_one_step() {
    let schema = app();
    let ops = vec![
        with_hazard(
            Op::DropColumn {
                table: "users".into(),
                column: users_column(&schema, "age"),
            },
            HazardCode::DataLoss,
            "drops column users.age",
        ),
        with_hazard(
            Op::AlterColumn {
                table: "users".into(),
                from: users_column(&schema, "email"),
                to: Column::new("email", ColumnType::Varchar { length: Some(200) }),
            },
            HazardCode::TableRewrite,
            "rebuilds table users",
        ),
        with_hazard(
            Op::CreateCheckConstraint {
                table: "users".into(),
                constraint: CheckConstraint {
                    name: Some("ck_email".into()),
                    expression: "email LIKE '%@%'".into(),
                },
            },
            HazardCode::TableRewrite,
            "rebuilds table users",
        ),
        planned(Op::CreateIndex {
            table: "users".into(),
            index: expression_index_without_age(),
        }),
    ];
    let script = render(&ops, &schema, Dialect::Sqlite).unwrap();
    assert_eq!(script.steps.len(), 2, "one rebuild, then the index");
    assert_eq!(script.steps[0].hazards.len(), 2, "hazards are a union");
    snapshot!("merged_rebuild", all_dialects(&ops, &schema));
}

fn expression_index_without_age() -> retort_schema::Index {
    let mut index = expression_index();
    index.parts.truncate(1);
    index
}

#[test]
fn indexes() {
    case(
        "indexes",
        vec![
            planned(Op::CreateIndex {
                table: "users".into(),
                index: expression_index(),
            }),
            planned(Op::CreateIndex {
                table: "users".into(),
                index: index("ix_users_org_age", &["org_id", "age"]),
            }),
            planned(Op::DropIndex {
                table: "users".into(),
                index: index("ix_users_name", &["name"]),
            }),
        ],
    );
}

#[test]
fn constraints() {
    case(
        "constraints",
        vec![
            planned(Op::DropConstraint {
                table: "users".into(),
                constraint: Constraint::Unique(UniqueConstraint {
                    name: Some("uq_users_email".into()),
                    columns: vec!["email".into()],
                    nulls_not_distinct: false,
                }),
            }),
            planned(Op::CreateUniqueConstraint {
                table: "users".into(),
                constraint: UniqueConstraint {
                    name: Some("uq_users_org_name".into()),
                    columns: vec!["org_id".into(), "name".into()],
                    nulls_not_distinct: false,
                },
            }),
            planned(Op::CreateForeignKey {
                table: "audit".into(),
                constraint: ForeignKey {
                    implicit_index: None,
                    name: Some("fk_audit_self".into()),
                    columns: vec!["id".into()],
                    referred_schema: None,
                    referred_table: "audit".into(),
                    referred_columns: vec!["id".into()],
                    on_delete: ForeignKeyAction::SetNull,
                    on_update: ForeignKeyAction::Cascade,
                    deferrable: retort_schema::Deferral::NotDeferrable,
                },
            }),
            planned(Op::DropConstraint {
                table: "users".into(),
                constraint: Constraint::Check(CheckConstraint {
                    name: Some("ck_users_name".into()),
                    expression: "length(name) > 0".into(),
                }),
            }),
        ],
    );
}

#[test]
fn primary_key() {
    let mut schema = app();
    schema.table_mut("audit").unwrap().primary_key = None;
    let ops = vec![planned(Op::CreatePrimaryKey {
        table: "audit".into(),
        constraint: PrimaryKey {
            name: Some("pk_audit".into()),
            columns: vec!["id".into()],
        },
    })];
    snapshot!("primary_key", all_dialects(&ops, &schema));
}

#[test]
fn dropping_an_unnamed_constraint_uses_the_implied_name() {
    let ops = vec![planned(Op::DropConstraint {
        table: "users".into(),
        constraint: Constraint::ForeignKey(fk_users_orgs(None)),
    })];
    let sql = |dialect| render(&ops, &app(), dialect).unwrap().to_sql();
    assert_eq!(
        sql(Dialect::Postgres),
        "ALTER TABLE \"users\" DROP CONSTRAINT \"users_org_id_fkey\";\n"
    );
    // MySQL: the name retort gave it when creating it; its implicit index
    // goes with it.
    assert_eq!(
        sql(Dialect::Mysql),
        "ALTER TABLE `users` DROP FOREIGN KEY `users_org_id_fkey`;\nDROP INDEX `users_org_id_fkey` ON `users`;\n"
    );
    // SQLite rebuilds the table, so it needs no name.
    assert!(render(&ops, &app(), Dialect::Sqlite).is_ok());
}

#[test]
fn enums() {
    let mood = EnumType {
        schema: None,
        name: "mood".into(),
        values: vec!["sad".into(), "it's ok".into()],
    };
    case(
        "enums",
        vec![
            planned(Op::CreateEnum {
                enum_type: mood.clone(),
            }),
            planned(Op::AddColumn {
                table: "users".into(),
                column: Column::new(
                    "mood",
                    ColumnType::Enum {
                        name: "mood".into(),
                    },
                ),
            }),
        ],
    );
}

/// `app()` plus enum `mood` used by `users.mood` (default 'ok') and
/// `audit.moods` (an array).
fn app_with_mood(values: &[&str]) -> Schema {
    let mut schema = app();
    schema.enums.push(EnumType {
        schema: None,
        name: "mood".into(),
        values: values.iter().map(|v| v.to_string()).collect(),
    });
    let mood = ColumnType::Enum {
        name: "mood".into(),
    };
    schema
        .table_mut("users")
        .unwrap()
        .columns
        .push(Column::new("mood", mood.clone()).with_default(DefaultValue::String("ok".into())));
    schema
        .table_mut("audit")
        .unwrap()
        .columns
        .push(Column::new("moods", ColumnType::Array(Box::new(mood))));
    schema
}

fn alter_mood(from: &[&str], to: &[&str]) -> PlannedOp {
    let op = Op::AlterEnum {
        name: "mood".into(),
        schema: None,
        from_values: from.iter().map(|v| v.to_string()).collect(),
        to_values: to.iter().map(|v| v.to_string()).collect(),
    };
    PlannedOp {
        hazards: retort_diff::hazards(
            &op,
            &retort_diff::DiffOptions {
                dialect: Dialect::Postgres,
            },
        ),
        op,
    }
}

#[test]
fn enum_values_added_run_outside_the_transaction_first() {
    let from = app_with_mood(&["sad", "ok"]);
    let users_mood = users_column(&from, "mood");
    let ops = vec![
        planned(Op::AddColumn {
            table: "users".into(),
            column: Column::new("nickname", ColumnType::Text),
        }),
        alter_mood(&["sad", "ok"], &["meh", "sad", "ok", "happy"]),
        planned(Op::AlterColumn {
            table: "users".into(),
            from: users_mood.clone(),
            to: users_mood.with_default(DefaultValue::String("happy".into())),
        }),
    ];
    let script = render(&ops, &from, Dialect::Postgres).unwrap();
    // Steps are in the order they run: the added values first.
    assert!(!script.steps[0].transaction);
    snapshot!("enum_add_value", all_dialects(&ops, &from));
}

#[test]
fn enum_values_removed_or_reordered_rebuild_the_type() {
    let from = app_with_mood(&["sad", "ok", "happy"]);
    let ops = vec![alter_mood(&["sad", "ok", "happy"], &["ok", "sad"])];
    snapshot!("enum_rebuild", all_dialects(&ops, &from));
}

#[test]
fn an_enum_created_in_the_same_script_is_rebuilt_not_altered() {
    let ops = vec![
        planned(Op::CreateEnum {
            enum_type: EnumType {
                schema: None,
                name: "mood".into(),
                values: vec!["sad".into()],
            },
        }),
        alter_mood(&["sad"], &["sad", "ok"]),
    ];
    let script = render(&ops, &app(), Dialect::Postgres).unwrap();
    assert!(script.steps.iter().all(|s| s.transaction));
    assert!(
        script
            .to_sql()
            .contains("CREATE TYPE \"mood__retort_new\" AS ENUM ('sad', 'ok')")
    );
}

#[test]
fn a_default_on_a_value_the_type_lacks_yet_waits_for_the_rebuild() {
    // The downgrade of "add 'c', remove 'b', default b -> c": the column
    // comes first and may not name 'b' before the rebuild brings it back.
    let from = app_with_mood(&["c", "a"]);
    let users_mood = users_column(&from, "mood");
    let ops = vec![
        planned(Op::AlterColumn {
            table: "users".into(),
            from: users_mood.clone(),
            to: users_mood.with_default(DefaultValue::String("b".into())),
        }),
        alter_mood(&["c", "a"], &["a", "b"]),
    ];
    let sql = render(&ops, &from, Dialect::Postgres).unwrap().to_sql();
    assert!(!sql.contains("SET DEFAULT 'b';\n\n"), "{sql}");
    assert!(
        sql.ends_with("ALTER TABLE \"users\" ALTER COLUMN \"mood\" SET DEFAULT 'b';\n"),
        "{sql}"
    );
}

#[test]
fn postgres_type_changes_use_using_only_without_an_assignment_cast() {
    let alter = |from: Column, to: Column| {
        let op = Op::AlterColumn {
            table: "users".into(),
            from,
            to,
        };
        PlannedOp {
            hazards: retort_diff::hazards(
                &op,
                &retort_diff::DiffOptions {
                    dialect: Dialect::Postgres,
                },
            ),
            op,
        }
    };
    let varchar = |n| ColumnType::Varchar { length: Some(n) };
    let before = [
        Column::new("a", varchar(10)).with_default(DefaultValue::String("1".into())),
        Column::new("b", ColumnType::Integer),
        Column::new("c", varchar(20)),
        Column::new("d", ColumnType::Integer),
        Column::new("e", ColumnType::Text),
    ];
    let after = [
        Column::new("a", ColumnType::Integer)
            .not_null()
            .with_default(DefaultValue::Number("0".into())),
        Column::new("b", ColumnType::BigInt),
        Column::new("c", varchar(50)),
        Column::new("d", ColumnType::Boolean),
        Column::new("e", ColumnType::Jsonb),
    ];
    let mut schema = app();
    let users = schema.table_mut("users").unwrap();
    users
        .columns
        .retain(|c| c.name == "id" || c.name == "org_id");
    users.columns.extend(before.iter().cloned());
    let ops: Vec<PlannedOp> = before
        .into_iter()
        .zip(after)
        .map(|(from, to)| alter(from, to))
        .collect();
    let mut out = render(&ops, &schema, Dialect::Postgres).unwrap().to_sql();
    out.push_str("===== summary\n");
    out.push_str(&summary(&ops).join("\n"));
    snapshot!("alter_column_types_postgres", out);
}

#[test]
fn an_op_that_does_not_fit_the_schema_is_an_error() {
    let ops = vec![planned(Op::AddColumn {
        table: "ghosts".into(),
        column: Column::new("x", ColumnType::Text),
    })];
    let err = render(&ops, &app(), Dialect::Sqlite).unwrap_err();
    assert_eq!(
        err.to_string(),
        "op `add_column` does not fit the schema being migrated; regenerate the revision"
    );
    assert!(std::error::Error::source(&err).is_some());
}

#[test]
fn whole_schema() {
    let schema = app();
    let mut out = String::new();
    for dialect in Dialect::ALL {
        out.push_str(&format!("===== {dialect}\n"));
        for statement in schema_sql(&schema, dialect) {
            out.push_str(&statement);
            out.push_str(";\n");
        }
    }
    snapshot!("schema_sql", out);
}

#[test]
fn create_table_sql_inlines_sqlite_autoincrement_key() {
    let table = app().table("orgs").unwrap().clone();
    assert_eq!(
        create_table_sql(&table, Dialect::Sqlite),
        vec![
            "CREATE TABLE \"orgs\" (\n    \"id\" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,\n    \"name\" TEXT NOT NULL\n)"
        ]
    );
}

#[test]
fn summary_lines() {
    let schema = app();
    let ops = vec![
        planned(Op::AddColumn {
            table: "users".into(),
            column: Column::new("nickname", ColumnType::Integer),
        }),
        with_hazard(
            Op::DropTable {
                table: schema.table("audit").unwrap().clone(),
            },
            HazardCode::DataLoss,
            "drops table audit and all its rows",
        ),
        planned(Op::AlterColumn {
            table: "users".into(),
            from: users_column(&schema, "age"),
            to: Column::new("age", ColumnType::Integer).not_null(),
        }),
        planned(Op::CreateIndex {
            table: "users".into(),
            index: expression_index(),
        }),
        planned(Op::CreateForeignKey {
            table: "users".into(),
            constraint: fk_users_orgs(Some("fk_users_org")),
        }),
        planned(Op::DropConstraint {
            table: "users".into(),
            constraint: Constraint::Unique(UniqueConstraint {
                name: None,
                columns: vec!["email".into()],
                nulls_not_distinct: false,
            }),
        }),
    ];
    let lines = summary(&ops);
    assert_eq!(lines[0], "+ add_column users.nickname (integer, nullable)");
    assert_eq!(
        lines[1],
        "- drop_table audit  [data_loss: drops table audit and all its rows]"
    );
    snapshot!("summary", lines.join("\n"));
}

/// A NOT NULL column without a default, added to a table with rows: add
/// it nullable, a backfill the reviewer must finish, then set NOT NULL.
#[test]
fn add_not_null_column_to_table_with_rows_renders_backfill_recipe() {
    use retort_render::{RenderOptions, backfill_tables, render_with};
    let ops = vec![planned(Op::AddColumn {
        table: "users".into(),
        column: Column::new("nickname", ColumnType::Text).not_null(),
    })];
    assert_eq!(
        backfill_tables(&ops).into_iter().collect::<Vec<_>>(),
        vec!["users".to_string()]
    );
    let mut options = RenderOptions::default();
    options.tables_with_rows = ["users".to_string()].into();
    let mut out = String::new();
    for dialect in Dialect::ALL {
        out.push_str(&format!("===== {dialect}\n"));
        let script = render_with(&ops, &app(), dialect, &options).unwrap();
        let sql = script.to_sql();
        assert!(
            sql.contains("-- retort:todo backfill users.nickname: ")
                && sql.contains("= <placeholder> WHERE"),
            "{dialect}: {sql}"
        );
        out.push_str(&sql);
        // On an empty table the plain ADD COLUMN … NOT NULL stays.
        let plain = render(&ops, &app(), dialect).unwrap().to_sql();
        assert!(!plain.contains("retort:todo"), "{dialect}: {plain}");
    }
    snapshot!("add_not_null_column_to_table_with_rows", out);
    // A default, a nullable column or another table: no recipe.
    let with_default = vec![planned(Op::AddColumn {
        table: "users".into(),
        column: Column::new("nickname", ColumnType::Text)
            .not_null()
            .with_default(DefaultValue::String("x".into())),
    })];
    assert!(backfill_tables(&with_default).is_empty());
}

#[test]
fn renames() {
    let ops = vec![
        planned(Op::RenameTable {
            from: "orgs".into(),
            to: "companies".into(),
        }),
        planned(Op::RenameColumn {
            table: "users".into(),
            from: "name".into(),
            to: "full_name".into(),
        }),
    ];
    let lines = summary(&ops);
    assert_eq!(lines[0], "~ rename_table orgs (→ companies)");
    assert_eq!(lines[1], "~ rename_column users.name (→ full_name)");
    case("renames", ops);
}
