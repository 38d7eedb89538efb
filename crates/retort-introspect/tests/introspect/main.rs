//! Creates real SQLite files from DDL and checks what the introspector reads.

use retort_introspect::{IntrospectError, IntrospectOptions, introspect_sqlite};
use retort_schema::{
    CheckConstraint, Column, ColumnType, DefaultValue, Dialect, ForeignKey, ForeignKeyAction,
    Index, IndexPart, IndexTarget, PrimaryKey, Schema, Table, Trigger, UniqueConstraint, View,
};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, SqliteConnection};

const OPEN_TODOS_VIEW: &str =
    "CREATE VIEW open_todos AS SELECT id, title FROM todos WHERE NOT done";
const TOUCH_TRIGGER: &str = "CREATE TRIGGER todos_touch AFTER UPDATE ON todos BEGIN UPDATE users SET is_active = 1 WHERE id = NEW.owner_id; END";

fn ddl() -> String {
    format!(
        "
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email VARCHAR(255) NOT NULL UNIQUE,
    hashed_password TEXT NOT NULL,
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX ux_users_lower_email ON users (lower(email));

CREATE TABLE todos (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL CHECK (length(title) > 0),
    done BOOLEAN NOT NULL DEFAULT FALSE,
    priority INTEGER NOT NULL DEFAULT 0,
    owner_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    parent_id INTEGER,
    deleted_at TIMESTAMP,
    CONSTRAINT fk_todos_parent FOREIGN KEY (parent_id) REFERENCES todos (id) ON DELETE SET NULL,
    CONSTRAINT ck_todos_priority CHECK (priority BETWEEN 0 AND 5)
);
CREATE INDEX ix_todos_owner_id ON todos(owner_id);
CREATE INDEX ix_todos_open ON todos (owner_id, priority DESC) WHERE deleted_at IS NULL;

CREATE TABLE memberships (
    user_id INTEGER NOT NULL REFERENCES users,
    group_name TEXT NOT NULL,
    role TEXT DEFAULT 'member',
    seat INTEGER DEFAULT NULL,
    PRIMARY KEY (user_id, group_name),
    CONSTRAINT uq_memberships_seat UNIQUE (group_name, seat),
    UNIQUE (role, seat)
);

{OPEN_TODOS_VIEW};
{TOUCH_TRIGGER};

CREATE TABLE retort_version (version_num TEXT PRIMARY KEY);
CREATE INDEX ix_retort_version ON retort_version (version_num);
CREATE TRIGGER retort_version_audit AFTER INSERT ON retort_version BEGIN SELECT 1; END;
"
    )
}

/// A fresh SQLite file holding `ddl`; the directory lives as long as the guard.
async fn database(ddl: &str) -> (tempfile::TempDir, SqliteConnection) {
    let dir = tempfile::tempdir().unwrap();
    let options = SqliteConnectOptions::new()
        .filename(dir.path().join("test.db"))
        .create_if_missing(true);
    let mut conn = SqliteConnection::connect_with(&options).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(ddl.to_string()))
        .execute(&mut conn)
        .await
        .unwrap();
    (dir, conn)
}

fn expected() -> Schema {
    let mut users = Table::new("users");
    users.columns = vec![
        Column::new("id", ColumnType::Integer).not_null(),
        Column::new("email", ColumnType::Varchar { length: Some(255) }).not_null(),
        Column::new("hashed_password", ColumnType::Text).not_null(),
        Column::new("is_active", ColumnType::Boolean)
            .not_null()
            .with_default(DefaultValue::Boolean(true)),
        Column::new(
            "created_at",
            ColumnType::Timestamp {
                with_time_zone: false,
                precision: None,
            },
        )
        .not_null()
        .with_default(DefaultValue::CurrentTimestamp),
    ];
    users.primary_key = Some(PrimaryKey {
        name: None,
        columns: vec!["id".into()],
    });
    users.unique_constraints = vec![UniqueConstraint {
        name: None,
        columns: vec!["email".into()],
        nulls_not_distinct: false,
    }];
    users.indexes = vec![Index {
        name: "ux_users_lower_email".into(),
        parts: vec![IndexPart {
            prefix: None,
            target: IndexTarget::Expression("lower(email)".into()),
            descending: false,
            opclass: None,
        }],
        unique: true,
        predicate: None,
        method: None,
        nulls_not_distinct: false,
    }];

    let mut todos = Table::new("todos");
    let mut id = Column::new("id", ColumnType::Integer).not_null();
    id.autoincrement = true;
    todos.columns = vec![
        id,
        Column::new("title", ColumnType::Text).not_null(),
        Column::new("done", ColumnType::Boolean)
            .not_null()
            .with_default(DefaultValue::Boolean(false)),
        Column::new("priority", ColumnType::Integer)
            .not_null()
            .with_default(DefaultValue::Number("0".into())),
        Column::new("owner_id", ColumnType::Integer).not_null(),
        Column::new("parent_id", ColumnType::Integer),
        Column::new(
            "deleted_at",
            ColumnType::Timestamp {
                with_time_zone: false,
                precision: None,
            },
        ),
    ];
    todos.primary_key = Some(PrimaryKey {
        name: None,
        columns: vec!["id".into()],
    });
    todos.indexes = vec![
        Index {
            name: "ix_todos_owner_id".into(),
            parts: vec![IndexPart::column("owner_id")],
            unique: false,
            predicate: None,
            method: None,
            nulls_not_distinct: false,
        },
        Index {
            name: "ix_todos_open".into(),
            parts: vec![
                IndexPart::column("owner_id"),
                IndexPart {
                    prefix: None,
                    target: IndexTarget::Column("priority".into()),
                    descending: true,
                    opclass: None,
                },
            ],
            unique: false,
            predicate: Some("deleted_at IS NULL".into()),
            method: None,
            nulls_not_distinct: false,
        },
    ];
    todos.foreign_keys = vec![
        ForeignKey {
            implicit_index: None,
            name: None,
            columns: vec!["owner_id".into()],
            referred_schema: None,
            referred_table: "users".into(),
            referred_columns: vec!["id".into()],
            on_delete: ForeignKeyAction::Cascade,
            on_update: ForeignKeyAction::NoAction,
            deferrable: retort_schema::Deferral::NotDeferrable,
        },
        ForeignKey {
            implicit_index: None,
            name: Some("fk_todos_parent".into()),
            columns: vec!["parent_id".into()],
            referred_schema: None,
            referred_table: "todos".into(),
            referred_columns: vec!["id".into()],
            on_delete: ForeignKeyAction::SetNull,
            on_update: ForeignKeyAction::NoAction,
            deferrable: retort_schema::Deferral::NotDeferrable,
        },
    ];
    todos.checks = vec![
        CheckConstraint {
            name: None,
            expression: "length(title) > 0".into(),
        },
        CheckConstraint {
            name: Some("ck_todos_priority".into()),
            expression: "priority BETWEEN 0 AND 5".into(),
        },
    ];

    let mut memberships = Table::new("memberships");
    memberships.columns = vec![
        Column::new("user_id", ColumnType::Integer).not_null(),
        Column::new("group_name", ColumnType::Text).not_null(),
        Column::new("role", ColumnType::Text).with_default(DefaultValue::String("member".into())),
        Column::new("seat", ColumnType::Integer),
    ];
    memberships.primary_key = Some(PrimaryKey {
        name: None,
        columns: vec!["user_id".into(), "group_name".into()],
    });
    memberships.unique_constraints = vec![
        UniqueConstraint {
            name: Some("uq_memberships_seat".into()),
            columns: vec!["group_name".into(), "seat".into()],
            nulls_not_distinct: false,
        },
        UniqueConstraint {
            name: None,
            columns: vec!["role".into(), "seat".into()],
            nulls_not_distinct: false,
        },
    ];
    memberships.foreign_keys = vec![ForeignKey {
        implicit_index: None,
        name: None,
        columns: vec!["user_id".into()],
        referred_schema: None,
        referred_table: "users".into(),
        // `REFERENCES users` names no column: the parent's primary key.
        referred_columns: vec!["id".into()],
        on_delete: ForeignKeyAction::NoAction,
        on_update: ForeignKeyAction::NoAction,
        deferrable: retort_schema::Deferral::NotDeferrable,
    }];

    Schema {
        tables: vec![users, todos, memberships],
        enums: vec![],
        views: vec![View {
            name: "open_todos".into(),
            sql: OPEN_TODOS_VIEW.into(),
        }],
        triggers: vec![Trigger {
            name: "todos_touch".into(),
            table: "todos".into(),
            sql: TOUCH_TRIGGER.into(),
        }],
        table_names_ignore_case: false,
    }
    .normalized()
}

#[tokio::test(flavor = "current_thread")]
async fn users_todos_schema_introspects_as_declared() {
    let (_dir, mut conn) = database(&ddl()).await;
    let schema = introspect_sqlite(&mut conn, &IntrospectOptions::default())
        .await
        .unwrap();
    let expected = expected();
    // Table by table first, so a failure points at the table that differs.
    for (got, want) in schema.tables.iter().zip(&expected.tables) {
        assert_eq!(got, want, "table {}", want.name);
    }
    assert_eq!(schema, expected);
}

#[tokio::test(flavor = "current_thread")]
async fn version_table_is_only_excluded_by_its_configured_name() {
    let (_dir, mut conn) = database(&ddl()).await;
    let options = IntrospectOptions {
        version_table: "alembic_version".into(),
        ..IntrospectOptions::default()
    };
    let schema = introspect_sqlite(&mut conn, &options).await.unwrap();
    let version = schema.table("retort_version").expect("version table read");
    assert_eq!(version.indexes[0].name, "ix_retort_version");
    assert!(
        schema
            .triggers
            .iter()
            .any(|t| t.name == "retort_version_audit")
    );
    // SQLite's own bookkeeping (AUTOINCREMENT's sqlite_sequence) never shows.
    assert!(schema.tables.iter().all(|t| !t.name.starts_with("sqlite_")));
}

#[tokio::test(flavor = "current_thread")]
async fn expression_default_matches_the_statement_not_the_stripped_pragma_text() {
    let ddl =
        "CREATE TABLE events (id INTEGER PRIMARY KEY, at TEXT NOT NULL DEFAULT (datetime('now')))";
    let (_dir, mut conn) = database(ddl).await;
    let schema = introspect_sqlite(&mut conn, &IntrospectOptions::default())
        .await
        .unwrap();
    let declared = retort_models::parse_create_table(ddl, Dialect::Sqlite).unwrap();
    let got = schema.table("events").unwrap().column("at").unwrap();
    assert_eq!(got.default, declared.column("at").unwrap().default);
    assert!(got.default.is_some());
}

#[tokio::test(flavor = "current_thread")]
async fn unique_folded_into_the_primary_key_index_is_still_reported() {
    // SQLite builds no index for a UNIQUE identical to the primary key, so
    // pragma_index_list alone would miss it and `check` would report drift.
    let ddl = "CREATE TABLE pairs (a INTEGER, b INTEGER, PRIMARY KEY (a, b), \
               CONSTRAINT uq_pairs UNIQUE (a, b))";
    let (_dir, mut conn) = database(ddl).await;
    let schema = introspect_sqlite(&mut conn, &IntrospectOptions::default())
        .await
        .unwrap();
    assert_eq!(
        schema.table("pairs").unwrap().unique_constraints,
        vec![UniqueConstraint {
            name: Some("uq_pairs".into()),
            columns: vec!["a".into(), "b".into()],
            nulls_not_distinct: false,
        }]
    );
}

/// A STRICT or WITHOUT ROWID table read as a plain one would lose the
/// clause on a rebuild: introspection refuses the table by name, as the
/// loader refuses the clause in a model.
#[tokio::test(flavor = "current_thread")]
async fn strict_and_without_rowid_tables_are_refused_by_name() {
    for (ddl, clause) in [
        (
            "CREATE TABLE s (id INTEGER PRIMARY KEY, v TEXT) STRICT",
            "STRICT",
        ),
        (
            "CREATE TABLE s (k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID",
            "WITHOUT ROWID",
        ),
    ] {
        let (_dir, mut conn) = database(ddl).await;
        let err = introspect_sqlite(&mut conn, &IntrospectOptions::default())
            .await
            .unwrap_err();
        match err {
            IntrospectError::Catalog { table, message } => {
                assert_eq!(table, "s");
                assert!(message.contains(clause), "{message}");
            }
            other => panic!("expected a catalog error, got {other:?}"),
        }
    }
}

/// retort's IR has no generated columns yet: skipping one would let a
/// table rebuild drop it, so introspection refuses the table by name.
#[tokio::test(flavor = "current_thread")]
async fn generated_columns_are_refused_by_name() {
    let ddl = "CREATE TABLE boxes (w INTEGER, h INTEGER, area INTEGER GENERATED ALWAYS AS (w * h) STORED)";
    let (_dir, mut conn) = database(ddl).await;
    let err = introspect_sqlite(&mut conn, &IntrospectOptions::default())
        .await
        .unwrap_err();
    match err {
        IntrospectError::Catalog { table, message } => {
            assert_eq!(table, "boxes");
            assert!(message.contains("GENERATED"), "{message}");
        }
        other => panic!("expected a catalog error, got {other:?}"),
    }
}
