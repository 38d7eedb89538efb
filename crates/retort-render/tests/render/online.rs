//! Online-safe PostgreSQL recipes (`RenderOptions::online`): one snapshot
//! per recipe in `snapshots/render/`, and the scripts run on a real server
//! against a table with rows.

use crate::fixtures::*;
use retort_diff::{HazardCode, Op, PlannedOp};
use retort_render::{RenderOptions, Script, adjust_hazards, render, render_with, summary};
use retort_schema::{CheckConstraint, Column, ColumnType, Dialect, ForeignKey, ForeignKeyAction};

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

fn online() -> RenderOptions {
    RenderOptions::default()
        .with_online(true)
        .with_lock_timeout(Some("5s".into()))
}

fn pg_online(ops: &[PlannedOp]) -> Script {
    render_with(ops, &app(), Dialect::Postgres, &online()).unwrap()
}

fn case(name: &str, ops: Vec<PlannedOp>) {
    snapshot!(name, pg_online(&ops).to_sql());
}

fn long_lock_index(name: &str, columns: &[&str]) -> PlannedOp {
    with_hazard(
        Op::CreateIndex {
            table: "users".into(),
            index: index(name, columns),
        },
        HazardCode::LongLock,
        "creates index without CONCURRENTLY; blocks writes to users",
    )
}

fn audit_fk(name: Option<&str>) -> Op {
    Op::CreateForeignKey {
        table: "users".into(),
        constraint: ForeignKey {
            implicit_index: None,
            name: name.map(str::to_string),
            columns: vec!["id".into()],
            referred_schema: None,
            referred_table: "audit".into(),
            referred_columns: vec!["id".into()],
            on_delete: ForeignKeyAction::NoAction,
            on_update: ForeignKeyAction::NoAction,
            deferrable: retort_schema::Deferral::NotDeferrable,
        },
    }
}

fn age_check(name: Option<&str>) -> Op {
    Op::CreateCheckConstraint {
        table: "users".into(),
        constraint: CheckConstraint {
            name: name.map(str::to_string),
            expression: "length(age) < 4".into(),
        },
    }
}

fn email_not_null() -> Op {
    let from = users_column(&app(), "email");
    Op::AlterColumn {
        table: "users".into(),
        to: from.clone().not_null(),
        from,
    }
}

#[test]
fn online_create_index_is_concurrent_outside_the_transaction() {
    let ops = [long_lock_index("ix_users_email", &["email"])];
    let sql = pg_online(&ops).to_sql();
    assert!(sql.starts_with("-- retort:transaction off\n"), "{sql}");
    assert!(!sql.contains("long_lock"), "{sql}");
    snapshot!("online_create_index", sql);
}

#[test]
fn online_drop_index_is_concurrent() {
    case(
        "online_drop_index",
        vec![planned(Op::DropIndex {
            table: "users".into(),
            index: index("ix_users_name", &["name"]),
        })],
    );
}

#[test]
fn online_foreign_keys_are_added_not_valid_then_validated() {
    case(
        "online_foreign_key",
        vec![
            planned(audit_fk(Some("fk_users_audit"))),
            planned(audit_fk(None)),
        ],
    );
}

#[test]
fn online_checks_are_added_not_valid_then_validated() {
    case(
        "online_check",
        vec![
            planned(age_check(Some("ck_users_age"))),
            planned(age_check(None)),
        ],
    );
}

#[test]
fn online_set_not_null_goes_through_a_validated_check() {
    case("online_set_not_null", vec![planned(email_not_null())]);
}

#[test]
fn online_segments_keep_the_order_of_the_ops() {
    // The index needs the column added before it: the concurrent build
    // runs after the transaction that adds it, and the later ops in a
    // third segment, each transaction opened by SET LOCAL lock_timeout.
    let add = planned(Op::AddColumn {
        table: "users".into(),
        column: Column::new("nickname", ColumnType::Text),
    });
    case(
        "online_mixed",
        vec![
            add,
            long_lock_index("ix_users_nickname", &["nickname"]),
            planned(age_check(Some("ck_users_age"))),
        ],
    );
}

#[test]
fn online_recipes_skip_tables_the_script_creates() {
    let mut table = retort_schema::Table::new("tags");
    table.columns.push(id());
    let ops = vec![
        planned(Op::CreateTable { table }),
        planned(Op::CreateIndex {
            table: "tags".into(),
            index: index("ix_tags_id", &["id"]),
        }),
    ];
    let sql = pg_online(&ops).to_sql();
    assert!(!sql.contains("CONCURRENTLY"), "{sql}");
    assert!(!sql.contains("retort:transaction"), "{sql}");
    snapshot!("online_new_table", sql);
}

#[test]
fn online_options_change_nothing_on_other_dialects() {
    let ops = vec![
        long_lock_index("ix_users_org", &["org_id"]),
        planned(age_check(Some("ck_users_age"))),
    ];
    for dialect in [Dialect::Sqlite, Dialect::Mysql] {
        assert!(!online().affects(dialect));
        let plain = render(&ops, &app(), dialect).unwrap();
        let with = render_with(&ops, &app(), dialect, &online()).unwrap();
        assert_eq!(plain, with, "{dialect}");
        assert_eq!(
            adjust_hazards(&ops, &app(), dialect, &online()),
            ops,
            "{dialect}"
        );
    }
    assert!(online().affects(Dialect::Postgres));
}

#[test]
fn without_options_postgres_renders_plain_statements() {
    let ops = vec![
        long_lock_index("ix_users_email", &["email"]),
        planned(age_check(Some("ck_users_age"))),
    ];
    let sql = render(&ops, &app(), Dialect::Postgres).unwrap().to_sql();
    assert!(
        !sql.contains("INDEX CONCURRENTLY") && !sql.contains("NOT VALID"),
        "{sql}"
    );
    assert!(sql.contains("long_lock"), "{sql}");
}

#[test]
fn lock_timeout_alone_opens_each_transaction() {
    let options = RenderOptions::default().with_lock_timeout(Some("250ms".into()));
    let ops = [planned(age_check(Some("ck_users_age")))];
    let sql = render_with(&ops, &app(), Dialect::Postgres, &options)
        .unwrap()
        .to_sql();
    assert!(
        sql.contains("SET LOCAL lock_timeout = '250ms';\n\n-- ")
            || sql.contains("SET LOCAL lock_timeout = '250ms';\n\nALTER"),
        "{sql}"
    );
    assert!(!sql.contains("NOT VALID"), "{sql}");
}

#[test]
fn online_summary_drops_long_lock_for_concurrent_builds() {
    let ops = vec![
        long_lock_index("ix_users_email", &["email"]),
        planned(audit_fk(Some("fk_users_audit"))),
    ];
    let adjusted = adjust_hazards(&ops, &app(), Dialect::Postgres, &online());
    assert!(adjusted[0].hazards.is_empty());
    let lines = summary(&adjusted).join("\n");
    assert!(!lines.contains("long_lock"), "{lines}");
}

mod postgres {
    //! The online scripts on a real server, against tables with rows.

    use super::*;
    use retort_render::schema_sql;
    use retort_test_support::{Server, TestDatabase};
    use sqlx::{AssertSqlSafe, Connection, PgConnection};

    async fn exec(conn: &mut PgConnection, sql: &str) {
        sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
            .execute(&mut *conn)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    async fn strings(conn: &mut PgConnection, sql: &str) -> Vec<String> {
        use sqlx::Row;
        sqlx::query(AssertSqlSafe(sql.to_string()))
            .fetch_all(&mut *conn)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .iter()
            .map(|r| r.get::<String, _>(0))
            .collect()
    }

    #[test]
    fn online_scripts_run_in_segments_on_a_table_with_rows() {
        let Some(db) = TestDatabase::new(Server::Postgres) else {
            return;
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let mut conn = PgConnection::connect(db.url()).await.unwrap();
            // The fixture's view and trigger are SQLite's.
            let mut schema = app();
            schema.views.clear();
            schema.triggers.clear();
            for statement in schema_sql(&schema, Dialect::Postgres) {
                exec(&mut conn, &statement).await;
            }
            exec(
                &mut conn,
                "INSERT INTO orgs (name) VALUES ('o');
                 INSERT INTO audit (what) VALUES ('a'), ('b');
                 INSERT INTO users (org_id, name, email, age) VALUES (1, 'x', 'x@e', '1'), (1, 'y', 'y@e', '22');",
            )
            .await;
            let ops = vec![
                planned(Op::AddColumn {
                    table: "users".into(),
                    column: Column::new("nickname", ColumnType::Text),
                }),
                long_lock_index("ix_users_nickname", &["nickname"]),
                planned(audit_fk(None)),
                planned(age_check(Some("ck_users_age"))),
                planned(email_not_null()),
                planned(Op::DropIndex {
                    table: "users".into(),
                    index: index("ix_users_name", &["name"]),
                }),
            ];
            let script = pg_online(&ops);
            crate::pg_exec::migrate(&mut conn, &script).await;
            let constraints = strings(
                &mut conn,
                "SELECT conname || ':' || convalidated FROM pg_constraint \
                 WHERE conrelid = 'users'::regclass AND contype IN ('c', 'f') ORDER BY conname",
            )
            .await;
            assert_eq!(
                constraints,
                [
                    "ck_users_age:true",
                    "ck_users_name:true",
                    "users_id_fkey:true",
                    "users_org_id_fkey:true"
                ]
            );
            let not_null = strings(
                &mut conn,
                "SELECT is_nullable FROM information_schema.columns \
                 WHERE table_name = 'users' AND column_name = 'email'",
            )
            .await;
            assert_eq!(not_null, ["NO"]);
            let indexes = strings(
                &mut conn,
                "SELECT c.relname || ':' || i.indisvalid FROM pg_index i \
                 JOIN pg_class c ON c.oid = i.indexrelid \
                 WHERE i.indrelid = 'users'::regclass AND c.relname LIKE 'ix_%' ORDER BY 1",
            )
            .await;
            assert_eq!(indexes, ["ix_users_nickname:true"]);
            // Running the whole script again fails only where it must: the
            // statements outside the transaction are idempotent.
            let idempotent = script.to_sql();
            let idempotent = idempotent.lines().filter(|l| {
                l.contains("INDEX CONCURRENTLY IF") || l.contains("VALIDATE CONSTRAINT \"ck_users_age\"")
            });
            for statement in idempotent {
                exec(&mut conn, statement).await;
            }
            conn.close().await.unwrap();
        });
    }
}
