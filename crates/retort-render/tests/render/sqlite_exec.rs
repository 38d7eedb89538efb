//! Rendered SQLite scripts run on real database files.

use crate::fixtures::*;
use retort_diff::{Constraint, Op, PlannedOp};
use retort_render::{Script, render, schema_sql};
use retort_schema::{
    CheckConstraint, Column, ColumnType, DefaultValue, Dialect, Schema, UniqueConstraint,
};
use sqlx::{AssertSqlSafe, Connection, Row, SqliteConnection, sqlite::SqliteConnectOptions};

fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

struct Db {
    _dir: tempfile::TempDir,
    conn: SqliteConnection,
}

impl Db {
    async fn with_schema(schema: &Schema) -> Db {
        let dir = tempfile::tempdir().unwrap();
        let options = SqliteConnectOptions::new()
            .filename(dir.path().join("test.db"))
            .create_if_missing(true)
            .foreign_keys(true);
        let mut conn = SqliteConnection::connect_with(&options).await.unwrap();
        for statement in schema_sql(schema, Dialect::Sqlite) {
            sqlx::raw_sql(AssertSqlSafe(statement.clone()))
                .execute(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("{statement}: {e}"));
        }
        Db { _dir: dir, conn }
    }

    async fn exec(&mut self, sql: &str) {
        sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
            .execute(&mut self.conn)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    async fn strings(&mut self, sql: &str) -> Vec<String> {
        sqlx::query(AssertSqlSafe(sql.to_string()))
            .fetch_all(&mut self.conn)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .iter()
            .map(|row| row.get::<String, _>(0))
            .collect()
    }

    async fn count(&mut self, table: &str) -> i64 {
        sqlx::query(AssertSqlSafe(format!("SELECT count(*) FROM \"{table}\"")))
            .fetch_one(&mut self.conn)
            .await
            .unwrap()
            .get(0)
    }

    /// Runs `script` the way retort-migrate's runner does on SQLite.
    async fn migrate(&mut self, script: &Script) {
        self.exec("PRAGMA foreign_keys=OFF").await;
        self.exec("BEGIN").await;
        self.exec(&script.to_sql()).await;
        let violations = sqlx::query("PRAGMA foreign_key_check")
            .fetch_all(&mut self.conn)
            .await
            .unwrap();
        assert!(violations.is_empty(), "foreign key violations");
        self.exec("COMMIT").await;
        self.exec("PRAGMA foreign_keys=ON").await;
        let integrity = self.strings("PRAGMA integrity_check").await;
        assert_eq!(integrity, vec!["ok"]);
    }

    async fn objects(&mut self) -> Vec<String> {
        self.strings("SELECT type || ' ' || name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name")
            .await
    }

    async fn seed(&mut self) {
        self.exec("INSERT INTO orgs (name) VALUES ('acme'), ('globex')")
            .await;
        self.exec(
            "INSERT INTO users (org_id, name, email, age) VALUES \
             (1, 'ann', 'ann@acme', '41'), (1, 'bob', 'bob@acme', '35'), (2, 'cy', NULL, NULL)",
        )
        .await;
    }
}

fn sqlite(ops: Vec<PlannedOp>, from: &Schema) -> Script {
    render(&ops, from, Dialect::Sqlite).unwrap()
}

#[test]
fn cascade_children_keep_their_rows_through_a_rebuild_of_the_parent() {
    block_on(async {
        let schema = app();
        let mut db = Db::with_schema(&schema).await;
        db.seed().await;
        let orgs_name = schema
            .table("orgs")
            .unwrap()
            .column("name")
            .unwrap()
            .clone();
        let script = sqlite(
            vec![planned(Op::AlterColumn {
                table: "orgs".into(),
                from: orgs_name,
                to: Column::new("name", ColumnType::Varchar { length: Some(50) }).not_null(),
            })],
            &schema,
        );
        assert!(script.to_sql().contains("DROP TABLE \"orgs\""));
        db.migrate(&script).await;
        assert_eq!(db.count("orgs").await, 2);
        assert_eq!(
            db.count("users").await,
            3,
            "ON DELETE CASCADE children survive"
        );
        // The foreign key still works after the rebuild.
        db.exec("DELETE FROM orgs WHERE id = 2").await;
        assert_eq!(db.count("users").await, 2);
        // The views that join orgs were recreated.
        assert_eq!(
            db.strings("SELECT name FROM v_user_names ORDER BY name")
                .await,
            ["ann", "bob"]
        );
    });
}

#[test]
fn alter_column_type_keeps_data_and_the_table_keeps_indexes_triggers_and_views() {
    block_on(async {
        let schema = app();
        let mut db = Db::with_schema(&schema).await;
        db.seed().await;
        let before_objects = db.objects().await;
        let script = sqlite(
            vec![planned(Op::AlterColumn {
                table: "users".into(),
                from: users_column(&schema, "age"),
                to: Column::new("age", ColumnType::Integer),
            })],
            &schema,
        );
        db.migrate(&script).await;
        let ages = db
            .strings("SELECT typeof(age) || ':' || coalesce(age, 'null') FROM users ORDER BY id")
            .await;
        assert_eq!(ages, ["integer:41", "integer:35", "null:null"]);
        assert_eq!(db.objects().await, before_objects);
        let declared = db
            .strings("SELECT type FROM pragma_table_info('users') WHERE name = 'age'")
            .await;
        assert_eq!(declared, ["INTEGER"]);
        // The trigger fires, the unique constraint and check hold.
        db.exec("INSERT INTO users (org_id, name, email) VALUES (2, 'dee', 'dee@globex')")
            .await;
        // Three from seeding, none from the rebuild's copy, one from now.
        assert_eq!(
            db.strings("SELECT what FROM audit ORDER BY id").await,
            ["user ann", "user bob", "user cy", "user dee"]
        );
        let duplicate =
            sqlx::raw_sql("INSERT INTO users (org_id, name, email) VALUES (1, 'x', 'ann@acme')")
                .execute(&mut db.conn)
                .await;
        assert!(duplicate.is_err(), "uq_users_email survived the rebuild");
        let empty_name = sqlx::raw_sql("INSERT INTO users (org_id, name) VALUES (1, '')")
            .execute(&mut db.conn)
            .await;
        assert!(empty_name.is_err(), "ck_users_name survived the rebuild");
        // AUTOINCREMENT carried on from the copied rows.
        assert_eq!(
            db.strings("SELECT CAST(max(id) AS TEXT) FROM users").await,
            ["4"]
        );
    });
}

#[test]
fn drop_column_keeps_the_other_columns_data() {
    block_on(async {
        let schema = app();
        let mut db = Db::with_schema(&schema).await;
        db.seed().await;
        let script = sqlite(
            vec![planned(Op::DropColumn {
                table: "users".into(),
                column: users_column(&schema, "age"),
            })],
            &schema,
        );
        db.migrate(&script).await;
        let rows = db
            .strings("SELECT id || ',' || org_id || ',' || name || ',' || coalesce(email, '-') FROM users ORDER BY id")
            .await;
        assert_eq!(rows, ["1,1,ann,ann@acme", "2,1,bob,bob@acme", "3,2,cy,-"]);
        let columns = db
            .strings("SELECT name FROM pragma_table_info('users')")
            .await;
        assert_eq!(columns, ["id", "org_id", "name", "email"]);
        assert!(
            db.objects()
                .await
                .contains(&"index ix_users_name".to_string())
        );
    });
}

#[test]
fn add_not_null_column_with_expression_default_rebuilds_and_fills_rows() {
    block_on(async {
        let schema = app();
        let mut db = Db::with_schema(&schema).await;
        db.seed().await;
        let script = sqlite(
            vec![planned(Op::AddColumn {
                table: "users".into(),
                column: created_at(),
            })],
            &schema,
        );
        assert!(
            script.steps[0]
                .comment
                .as_deref()
                .unwrap()
                .starts_with("rebuild users")
        );
        db.migrate(&script).await;
        let filled = db
            .strings("SELECT CAST(count(*) AS TEXT) FROM users WHERE created_at IS NOT NULL")
            .await;
        assert_eq!(filled, ["3"]);
        let default = db
            .strings("SELECT dflt_value FROM pragma_table_info('users') WHERE name = 'created_at'")
            .await;
        assert_eq!(default, ["datetime('now')"]);
    });
}

#[test]
fn add_nullable_column_and_constant_default_run_directly() {
    block_on(async {
        let schema = app();
        let mut db = Db::with_schema(&schema).await;
        db.seed().await;
        let script = sqlite(
            vec![
                planned(Op::AddColumn {
                    table: "users".into(),
                    column: Column::new("score", ColumnType::Integer)
                        .not_null()
                        .with_default(DefaultValue::Number("7".into())),
                }),
                planned(Op::AddColumn {
                    table: "users".into(),
                    column: Column::new("bio", ColumnType::Text),
                }),
            ],
            &schema,
        );
        assert!(!script.to_sql().contains("_retort_new_"));
        db.migrate(&script).await;
        assert_eq!(
            db.strings("SELECT group_concat(score) FROM users").await,
            ["7,7,7"]
        );
    });
}

#[test]
fn constraint_changes_rebuild_and_are_enforced() {
    block_on(async {
        let schema = app();
        let mut db = Db::with_schema(&schema).await;
        db.seed().await;
        let script = sqlite(
            vec![
                planned(Op::DropConstraint {
                    table: "users".into(),
                    constraint: Constraint::Unique(UniqueConstraint {
                        name: Some("uq_users_email".into()),
                        columns: vec!["email".into()],
                        nulls_not_distinct: false,
                    }),
                }),
                planned(Op::CreateCheckConstraint {
                    table: "users".into(),
                    constraint: CheckConstraint {
                        name: Some("ck_users_age".into()),
                        expression: "age IS NULL OR age > 0".into(),
                    },
                }),
            ],
            &schema,
        );
        assert_eq!(script.steps.len(), 1, "both ops share one rebuild");
        db.migrate(&script).await;
        db.exec("INSERT INTO users (org_id, name, email) VALUES (1, 'ann2', 'ann@acme')")
            .await;
        let negative = sqlx::raw_sql("INSERT INTO users (org_id, name, age) VALUES (1, 'neg', -1)")
            .execute(&mut db.conn)
            .await;
        assert!(negative.is_err());
        assert_eq!(db.count("users").await, 4);
    });
}

#[test]
fn a_table_with_every_feature_is_created_and_rebuilt_on_sqlite() {
    block_on(async {
        let schema = app();
        let mut members = schema.table("users").unwrap().clone();
        members.name = "members".into();
        members.foreign_keys[0].name = Some("fk_members_org".into());
        members.indexes = vec![expression_index()];
        members.columns.push(created_at());
        let mut db = Db::with_schema(&schema).await;
        db.seed().await;
        let create = sqlite(
            vec![planned(Op::CreateTable {
                table: members.clone(),
            })],
            &schema,
        );
        db.migrate(&create).await;
        let sql = db
            .strings("SELECT sql FROM sqlite_master WHERE name = 'members'")
            .await;
        assert!(
            sql[0].contains("CONSTRAINT \"fk_members_org\" FOREIGN KEY"),
            "{sql:?}"
        );
        db.exec("INSERT INTO members (org_id, name, email, age) VALUES (1, 'm', 'M@x', '3')")
            .await;
        // Rebuild it: the named key, the expression index and the row survive.
        let after_create = retort_diff::apply_all(
            &schema,
            &[Op::CreateTable {
                table: members.clone(),
            }],
        )
        .unwrap();
        let rebuild = sqlite(
            vec![planned(Op::AlterColumn {
                table: "members".into(),
                from: members.column("age").unwrap().clone(),
                to: Column::new("age", ColumnType::Integer),
            })],
            &after_create,
        );
        db.migrate(&rebuild).await;
        let sql = db
            .strings("SELECT sql FROM sqlite_master WHERE name IN ('members', 'ix_users_lower_email') ORDER BY name")
            .await;
        assert!(sql[0].contains("WHERE email IS NOT NULL"), "{sql:?}");
        assert!(sql[1].contains("\"fk_members_org\""), "{sql:?}");
        assert_eq!(db.count("members").await, 1);
    });
}

#[test]
fn column_collations_are_rendered_quoted_unless_built_in_and_take_effect() {
    block_on(async {
        // A collation name with a quote in it, registered on the connection
        // as reverse byte order.
        let custom = "REV\"ERSE";
        let mut table = retort_schema::Table::new("words");
        let mut reversed = Column::new("reversed", ColumnType::Text);
        reversed.collation = Some(custom.into());
        let mut folded = Column::new("folded", ColumnType::Text);
        folded.collation = Some("NOCASE".into());
        table.columns = vec![reversed, folded];
        let mut schema = Schema::default();
        schema.tables.push(table);

        let statements = schema_sql(&schema, Dialect::Sqlite);
        let create = statements.join("\n");
        assert!(
            create.contains(r#""reversed" TEXT COLLATE "REV""ERSE""#),
            "{create}"
        );
        assert!(
            create.contains(r#""folded" TEXT COLLATE NOCASE"#),
            "{create}"
        );

        let dir = tempfile::tempdir().unwrap();
        let options = SqliteConnectOptions::new()
            .filename(dir.path().join("test.db"))
            .create_if_missing(true)
            .collation(custom, |a: &str, b: &str| b.cmp(a));
        let mut conn = SqliteConnection::connect_with(&options).await.unwrap();
        for statement in &statements {
            sqlx::raw_sql(AssertSqlSafe(statement.clone()))
                .execute(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("{statement}: {e}"));
        }
        sqlx::raw_sql("INSERT INTO words VALUES ('a', 'A'), ('b', 'b')")
            .execute(&mut conn)
            .await
            .unwrap();
        let ordered: String = sqlx::query(
            "SELECT group_concat(reversed) FROM (SELECT reversed FROM words ORDER BY reversed)",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap()
        .get(0);
        assert_eq!(ordered, "b,a");
        let matched: i64 = sqlx::query("SELECT count(*) FROM words WHERE folded = 'a'")
            .fetch_one(&mut conn)
            .await
            .unwrap()
            .get(0);
        assert_eq!(matched, 1);
    });
}
