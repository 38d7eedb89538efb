//! Rendered PostgreSQL scripts run on a real server (`RETORT_TEST_PG_URL`),
//! each test in its own database.

use retort_diff::{DiffOptions, diff, invert, plan};
use retort_render::{Script, TRANSACTION_OFF, TRANSACTION_ON, render, schema_sql};
use retort_schema::{
    Column, ColumnType, DefaultValue, Dialect, EnumType, PrimaryKey, Schema, Table,
};
use retort_test_support::{Server, TestDatabase};
use sqlx::{AssertSqlSafe, Connection, PgConnection, Row};

fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

async fn exec(conn: &mut PgConnection, sql: &str) {
    sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
        .execute(&mut *conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn strings(conn: &mut PgConnection, sql: &str) -> Vec<String> {
    sqlx::query(AssertSqlSafe(sql.to_string()))
        .fetch_all(&mut *conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .iter()
        .map(|row| row.get::<Option<String>, _>(0).unwrap_or_default())
        .collect()
}

/// Runs a revision section the way retort-migrate's runner does: split at
/// the `-- retort:transaction off|on` directives; each statement of an
/// "off" segment alone in autocommit, each "on" segment in one
/// transaction.
pub(crate) async fn migrate(conn: &mut PgConnection, script: &Script) {
    let text = script.to_sql();
    let mut segments: Vec<(bool, String)> = vec![(true, String::new())];
    for line in text.lines() {
        match line.trim() {
            TRANSACTION_OFF => segments.push((false, String::new())),
            TRANSACTION_ON => segments.push((true, String::new())),
            _ => {
                let last = segments.last_mut().unwrap();
                last.1.push_str(line);
                last.1.push('\n');
            }
        }
    }
    for (transactional, sql) in segments {
        if transactional {
            let mut tx = conn.begin().await.unwrap();
            sqlx::raw_sql(AssertSqlSafe(sql.clone()))
                .execute(&mut *tx)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            tx.commit().await.unwrap();
        } else {
            // Statements end at a line ending in `;`.
            let mut statement = String::new();
            for line in sql.lines().filter(|l| !l.starts_with("--")) {
                statement.push_str(line);
                statement.push('\n');
                if line.ends_with(';') {
                    exec(conn, &statement).await;
                    statement.clear();
                }
            }
        }
    }
}

fn pk_table(name: &str, columns: Vec<Column>) -> Table {
    let mut table = Table::new(name);
    let mut id = Column::new("id", ColumnType::Integer).not_null();
    id.autoincrement = true;
    table.columns.push(id);
    table.columns.extend(columns);
    table.primary_key = Some(PrimaryKey {
        name: None,
        columns: vec!["id".into()],
    });
    table
}

fn mood_type(values: &[&str]) -> EnumType {
    EnumType {
        schema: None,
        name: "mood".into(),
        values: values.iter().map(|v| v.to_string()).collect(),
    }
}

fn mood() -> ColumnType {
    ColumnType::Enum {
        name: "mood".into(),
    }
}

/// The upgrade and downgrade scripts from `from` to `to`.
fn scripts(from: &Schema, to: &Schema) -> (Script, Script) {
    let options = DiffOptions {
        dialect: Dialect::Postgres,
    };
    let upgrade = diff(from, to, &options);
    let up = render(&upgrade.ops, from, Dialect::Postgres).unwrap();
    let down_plan = plan(invert(&upgrade.ops()), &options);
    let down = render(&down_plan.ops, to, Dialect::Postgres).unwrap();
    (up, down)
}

async fn create(conn: &mut PgConnection, schema: &Schema) {
    for statement in schema_sql(schema, Dialect::Postgres) {
        exec(conn, &statement).await;
    }
}

async fn enum_values(conn: &mut PgConnection) -> Vec<String> {
    strings(
        conn,
        "SELECT e.enumlabel::text FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid \
         WHERE t.typname = 'mood' ORDER BY e.enumsortorder",
    )
    .await
}

/// (data_type or udt_name, is_nullable, column_default) of `table.column`.
async fn column_info(conn: &mut PgConnection, table: &str, column: &str) -> Vec<String> {
    let sql = format!(
        "SELECT concat_ws(' | ', CASE WHEN data_type = 'USER-DEFINED' THEN udt_name ELSE data_type END, \
         is_nullable, column_default) FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name = '{table}' AND column_name = '{column}'"
    );
    strings(conn, &sql).await
}

#[test]
fn an_appended_enum_value_is_added_outside_the_transaction_and_usable_in_it() {
    let Some(db) = TestDatabase::new(Server::Postgres) else {
        return;
    };
    block_on(async {
        let mut conn = PgConnection::connect(db.url()).await.unwrap();
        let column = |default: &str| {
            Column::new("mood", mood()).with_default(DefaultValue::String(default.into()))
        };
        let mut from = Schema {
            tables: vec![pk_table("people", vec![column("sad")])],
            enums: vec![mood_type(&["sad", "ok"])],
            ..Schema::default()
        }
        .normalized();
        from.normalize();
        let to = Schema {
            tables: vec![pk_table("people", vec![column("happy")])],
            enums: vec![mood_type(&["meh", "sad", "ok", "happy"])],
            ..Schema::default()
        }
        .normalized();
        create(&mut conn, &from).await;
        exec(
            &mut conn,
            "INSERT INTO people (mood) VALUES ('sad'), ('ok')",
        )
        .await;

        let (up, down) = scripts(&from, &to);
        let sql = up.to_sql();
        assert!(sql.starts_with(TRANSACTION_OFF), "{sql}");
        assert!(
            sql.contains("ADD VALUE IF NOT EXISTS 'meh' BEFORE 'sad'"),
            "{sql}"
        );
        migrate(&mut conn, &up).await;
        assert_eq!(enum_values(&mut conn).await, ["meh", "sad", "ok", "happy"]);
        assert_eq!(
            column_info(&mut conn, "people", "mood").await,
            ["mood | YES | 'happy'::mood"]
        );
        exec(&mut conn, "INSERT INTO people DEFAULT VALUES").await;
        assert_eq!(
            strings(&mut conn, "SELECT mood::text FROM people ORDER BY id").await,
            ["sad", "ok", "happy"]
        );
        // Re-running the off segment is harmless (IF NOT EXISTS).
        migrate(
            &mut conn,
            &Script {
                steps: up
                    .steps
                    .iter()
                    .filter(|s| !s.transaction)
                    .cloned()
                    .collect(),
            },
        )
        .await;

        // The downgrade rebuilds the type without the added values.
        exec(&mut conn, "DELETE FROM people WHERE mood = 'happy'").await;
        migrate(&mut conn, &down).await;
        assert_eq!(enum_values(&mut conn).await, ["sad", "ok"]);
        assert_eq!(
            column_info(&mut conn, "people", "mood").await,
            ["mood | YES | 'sad'::mood"]
        );
        assert_eq!(
            strings(&mut conn, "SELECT mood::text FROM people ORDER BY id").await,
            ["sad", "ok"]
        );
    });
}

#[test]
fn a_removed_and_reordered_enum_rebuilds_the_type_converting_rows() {
    let Some(db) = TestDatabase::new(Server::Postgres) else {
        return;
    };
    block_on(async {
        let mut conn = PgConnection::connect(db.url()).await.unwrap();
        let columns = || {
            vec![
                Column::new("mood", mood())
                    .not_null()
                    .with_default(DefaultValue::String("a".into())),
                Column::new("history", ColumnType::Array(Box::new(mood()))),
            ]
        };
        let from = Schema {
            tables: vec![pk_table("people", columns())],
            enums: vec![mood_type(&["a", "b", "c"])],
            ..Schema::default()
        }
        .normalized();
        let to = Schema {
            tables: vec![pk_table("people", columns())],
            enums: vec![mood_type(&["c", "a"])],
            ..Schema::default()
        }
        .normalized();
        create(&mut conn, &from).await;
        exec(
            &mut conn,
            "INSERT INTO people (mood, history) VALUES ('a', '{a,c}'), ('c', NULL)",
        )
        .await;

        let (up, down) = scripts(&from, &to);
        let sql = up.to_sql();
        assert!(!sql.contains(TRANSACTION_OFF), "{sql}");
        assert!(
            sql.contains("-- hazard: data_loss: removes 'b' from enum mood"),
            "{sql}"
        );
        migrate(&mut conn, &up).await;
        assert_eq!(enum_values(&mut conn).await, ["c", "a"]);
        assert_eq!(
            column_info(&mut conn, "people", "mood").await,
            ["mood | NO | 'a'::mood"]
        );
        assert_eq!(
            column_info(&mut conn, "people", "history").await,
            ["ARRAY | YES"]
        );
        assert_eq!(
            strings(
                &mut conn,
                "SELECT mood::text || ' ' || coalesce(history::text, '-') FROM people ORDER BY mood"
            )
            .await,
            ["c -", "a {a,c}"],
            "rows converted and sorted by the new order"
        );
        assert_eq!(
            strings(
                &mut conn,
                "SELECT typname::text FROM pg_type WHERE typname LIKE 'mood%' ORDER BY 1"
            )
            .await,
            ["mood"]
        );
        migrate(&mut conn, &down).await;
        assert_eq!(enum_values(&mut conn).await, ["a", "b", "c"]);
        exec(&mut conn, "INSERT INTO people (mood) VALUES ('b')").await;
    });
}

#[test]
fn varchar_to_integer_converts_with_using_and_keeps_the_data() {
    let Some(db) = TestDatabase::new(Server::Postgres) else {
        return;
    };
    block_on(async {
        let mut conn = PgConnection::connect(db.url()).await.unwrap();
        let from = Schema {
            tables: vec![pk_table(
                "items",
                vec![
                    Column::new("qty", ColumnType::Varchar { length: Some(10) })
                        .with_default(DefaultValue::String("5".into())),
                    Column::new("flag", ColumnType::Integer),
                    Column::new("n", ColumnType::Integer),
                ],
            )],
            ..Schema::default()
        }
        .normalized();
        let to = Schema {
            tables: vec![pk_table(
                "items",
                vec![
                    Column::new("qty", ColumnType::Integer)
                        .not_null()
                        .with_default(DefaultValue::Number("7".into())),
                    Column::new("flag", ColumnType::Boolean),
                    Column::new("n", ColumnType::BigInt),
                ],
            )],
            ..Schema::default()
        }
        .normalized();
        create(&mut conn, &from).await;
        exec(
            &mut conn,
            "INSERT INTO items (qty, flag, n) VALUES ('1', 0, 10), ('42', 3, 2147483647)",
        )
        .await;

        let (up, down) = scripts(&from, &to);
        let sql = up.to_sql();
        assert!(
            sql.contains("ALTER COLUMN \"qty\" DROP DEFAULT;\nALTER TABLE \"items\" ALTER COLUMN \"qty\" TYPE integer USING \"qty\"::integer;"),
            "{sql}"
        );
        assert!(sql.contains("ALTER COLUMN \"n\" TYPE bigint;"), "{sql}");
        assert!(
            sql.contains("-- hazard: table_rewrite: changing items.n"),
            "{sql}"
        );
        migrate(&mut conn, &up).await;
        assert_eq!(
            column_info(&mut conn, "items", "qty").await,
            ["integer | NO | 7"]
        );
        assert_eq!(
            column_info(&mut conn, "items", "flag").await,
            ["boolean | YES"]
        );
        assert_eq!(column_info(&mut conn, "items", "n").await, ["bigint | YES"]);
        assert_eq!(
            strings(
                &mut conn,
                "SELECT qty::text || ' ' || flag::text || ' ' || n::text FROM items ORDER BY id"
            )
            .await,
            ["1 false 10", "42 true 2147483647"]
        );
        exec(
            &mut conn,
            "INSERT INTO items (n) VALUES (9223372036854775807)",
        )
        .await;
        exec(&mut conn, "DELETE FROM items WHERE n > 2147483647").await;

        // Back: integer -> varchar and bigint -> integer are assignment
        // casts (no USING); boolean -> integer is not.
        let sql = down.to_sql();
        assert!(sql.contains("TYPE varchar(10);"), "{sql}");
        assert!(
            sql.contains("TYPE integer USING \"flag\"::integer"),
            "{sql}"
        );
        migrate(&mut conn, &down).await;
        assert_eq!(
            column_info(&mut conn, "items", "qty").await,
            ["character varying | YES | '5'::character varying"]
        );
        assert_eq!(
            strings(
                &mut conn,
                "SELECT qty || ' ' || flag::text || ' ' || n::text FROM items ORDER BY id"
            )
            .await,
            ["1 0 10", "42 1 2147483647"]
        );
    });
}

#[test]
fn identity_columns_are_created_added_and_dropped() {
    let Some(db) = TestDatabase::new(Server::Postgres) else {
        return;
    };
    block_on(async {
        let mut conn = PgConnection::connect(db.url()).await.unwrap();
        let mut plain = Table::new("tickets");
        plain
            .columns
            .push(Column::new("id", ColumnType::Integer).not_null());
        plain.columns.push(Column::new("title", ColumnType::Text));
        let from = Schema {
            tables: vec![plain],
            ..Schema::default()
        }
        .normalized();
        let mut identity = from.clone();
        identity.tables[0].columns[0].autoincrement = true;
        create(&mut conn, &from).await;
        exec(
            &mut conn,
            "INSERT INTO tickets (id, title) VALUES (1, 'a'), (5, 'b')",
        )
        .await;

        let (up, down) = scripts(&from, &identity);
        migrate(&mut conn, &up).await;
        exec(&mut conn, "INSERT INTO tickets (title) VALUES ('c')").await;
        assert_eq!(
            strings(&mut conn, "SELECT id::text FROM tickets WHERE title = 'c'").await,
            ["6"],
            "the sequence starts past the existing ids"
        );
        assert_eq!(
            strings(
                &mut conn,
                "SELECT is_identity || ' ' || identity_generation FROM information_schema.columns \
                 WHERE table_name = 'tickets' AND column_name = 'id'"
            )
            .await,
            ["YES BY DEFAULT"]
        );
        migrate(&mut conn, &down).await;
        assert_eq!(
            strings(
                &mut conn,
                "SELECT is_identity FROM information_schema.columns \
                 WHERE table_name = 'tickets' AND column_name = 'id'"
            )
            .await,
            ["NO"]
        );
    });
}

#[test]
fn a_table_with_every_postgres_feature_is_created_as_rendered() {
    let Some(db) = TestDatabase::new(Server::Postgres) else {
        return;
    };
    block_on(async {
        let mut conn = PgConnection::connect(db.url()).await.unwrap();
        let mut table = pk_table(
            "Weird \"Name\"",
            vec![
                Column::new("doc", ColumnType::Jsonb),
                Column::new("email", ColumnType::Text),
            ],
        );
        table.comment = Some("it's a table".into());
        table.columns[1].comment = Some("the document".into());
        table.indexes = vec![
            retort_schema::Index {
                name: "ix_doc".into(),
                parts: vec![retort_schema::IndexPart::column("doc")],
                unique: false,
                predicate: None,
                method: Some("gin".into()),
                nulls_not_distinct: false,
            },
            retort_schema::Index {
                name: "ix_email".into(),
                parts: vec![retort_schema::IndexPart {
                    prefix: None,
                    target: retort_schema::IndexTarget::Expression("lower(email)".into()),
                    descending: true,
                    opclass: None,
                }],
                unique: true,
                predicate: Some("email IS NOT NULL".into()),
                method: None,
                nulls_not_distinct: false,
            },
        ];
        let schema = Schema {
            tables: vec![table],
            ..Schema::default()
        }
        .normalized();
        create(&mut conn, &schema).await;
        exec(
            &mut conn,
            "INSERT INTO \"Weird \"\"Name\"\"\" (doc, email) VALUES ('{}', 'A@x')",
        )
        .await;
        assert_eq!(
            strings(
                &mut conn,
                "SELECT indexdef FROM pg_indexes WHERE indexname LIKE 'ix_%' ORDER BY indexname"
            )
            .await,
            [
                "CREATE INDEX ix_doc ON public.\"Weird \"\"Name\"\"\" USING gin (doc)",
                "CREATE UNIQUE INDEX ix_email ON public.\"Weird \"\"Name\"\"\" USING btree (lower(email) DESC) WHERE (email IS NOT NULL)",
            ]
        );
        assert_eq!(
            strings(
                &mut conn,
                "SELECT obj_description('public.\"Weird \"\"Name\"\"\"'::regclass, 'pg_class') || ' / ' || \
                 col_description('public.\"Weird \"\"Name\"\"\"'::regclass, 2)"
            )
            .await,
            ["it's a table / the document"]
        );
        assert_eq!(
            strings(
                &mut conn,
                "SELECT is_identity FROM information_schema.columns WHERE column_name = 'id'"
            )
            .await,
            ["YES"]
        );
    });
}
