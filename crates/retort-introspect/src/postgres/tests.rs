//! Against a real PostgreSQL server (`RETORT_TEST_PG_URL`): a database made
//! from DDL must introspect equal to what the model loader reads from the
//! same DDL. That equality is the no-false-positive property `retort check`
//! relies on.

use super::*;
use retort_models::load_str;
use retort_schema::{ColumnType, DefaultValue, Dialect};
use retort_test_support::{Server, TestDatabase};
use sqlx::Connection;

async fn database_with(ddl: &str) -> Option<(TestDatabase, PgConnection)> {
    let db = TestDatabase::new(Server::Postgres)?;
    let mut conn = PgConnection::connect(db.url()).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(ddl.to_string()))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("cannot run the DDL: {e}\n{ddl}"));
    Some((db, conn))
}

/// Introspects a database made from `ddl` and compares it with the loader.
async fn assert_round_trip(ddl: &str) -> Option<Schema> {
    let (_db, mut conn) = database_with(ddl).await?;
    let introspected = introspect_postgres(&mut conn, &IntrospectOptions::default())
        .await
        .unwrap();
    let loaded = load_str(ddl, "schema.sql", Dialect::Postgres).unwrap();
    pretty_assertions_eq(&introspected, &loaded);
    conn.close().await.unwrap();
    Some(introspected)
}

/// Compares table by table, so a failure names the table that differs.
fn pretty_assertions_eq(introspected: &Schema, loaded: &Schema) {
    let names = |s: &Schema| s.tables.iter().map(|t| t.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(introspected), names(loaded), "table lists differ");
    for (got, want) in introspected.tables.iter().zip(&loaded.tables) {
        for (c_got, c_want) in got.columns.iter().zip(&want.columns) {
            assert_eq!(c_got, c_want, "column {}.{} differs", got.name, c_want.name);
        }
        assert_eq!(got, want, "table {} differs", got.name);
    }
    assert_eq!(introspected.enums, loaded.enums, "enum types differ");
    assert_eq!(introspected, loaded);
}

const USERS_TODOS: &str = "
CREATE TABLE users (
    id SERIAL PRIMARY KEY,
    email VARCHAR(255) NOT NULL UNIQUE,
    hashed_password TEXT NOT NULL,
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE todos (
    id SERIAL PRIMARY KEY,
    owner_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title VARCHAR(200) NOT NULL,
    done BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX ix_todos_owner_id ON todos (owner_id);
";

#[tokio::test(flavor = "current_thread")]
async fn users_and_todos_introspect_equal_to_the_models() {
    let Some(schema) = assert_round_trip(USERS_TODOS).await else {
        return;
    };
    let users = schema.table("users").unwrap();
    let id = users.column("id").unwrap();
    assert!(id.autoincrement && id.default.is_none() && id.ty == ColumnType::Integer);
    assert_eq!(
        users.column("created_at").unwrap().default,
        Some(DefaultValue::CurrentTimestamp)
    );
    let todos = schema.table("todos").unwrap();
    assert_eq!(
        todos.foreign_keys[0].on_delete,
        retort_schema::ForeignKeyAction::Cascade
    );
    assert_eq!(todos.indexes[0].name, "ix_todos_owner_id");
}

/// Every spelling here reads back differently from the catalog than it is
/// written; each must still compare equal.
const RICH: &str = r#"
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');

CREATE TABLE accounts (
    id BIGSERIAL PRIMARY KEY,
    code CHAR(3) NOT NULL,
    handle CHARACTER VARYING(40) NOT NULL DEFAULT 'anon',
    note TEXT DEFAULT 'it''s fine',
    empty_note TEXT NOT NULL DEFAULT '',
    balance NUMERIC(12, 2) NOT NULL DEFAULT 0.00,
    ratio DOUBLE PRECISION DEFAULT 1.5,
    score REAL,
    small SMALLINT DEFAULT -1,
    big INT8 DEFAULT 42,
    flag BOOL NOT NULL DEFAULT false,
    current_mood mood NOT NULL DEFAULT 'ok',
    moods mood[],
    tags TEXT[] NOT NULL DEFAULT '{}',
    matrix INTEGER[][],
    data JSONB NOT NULL DEFAULT '{}',
    raw_json JSON,
    avatar BYTEA,
    uid UUID,
    born DATE DEFAULT CURRENT_DATE,
    wakes TIME,
    wakes_tz TIMETZ,
    seen_at TIMESTAMP WITHOUT TIME ZONE,
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT now(),
    ip INET,
    CONSTRAINT accounts_handle_unique UNIQUE (handle),
    CONSTRAINT positive_balance CHECK (balance >= 0),
    CHECK (small > -100 AND small < 100)
);
COMMENT ON TABLE accounts IS 'one row per customer';
COMMENT ON COLUMN accounts.handle IS 'what others see';

CREATE TABLE events (
    id INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id BIGINT REFERENCES accounts (id) ON DELETE SET NULL ON UPDATE CASCADE,
    kind VARCHAR(20) NOT NULL CHECK (kind IN ('login', 'logout')),
    label TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (account_id, at)
);
CREATE INDEX ix_events_label_lower ON events (lower(label));
CREATE INDEX ix_events_recent ON events (at DESC, kind) WHERE kind <> 'logout';
CREATE UNIQUE INDEX ux_events_kind_label ON events (kind, label);
CREATE INDEX ix_events_label_hash ON events USING hash (label);

-- Spellings whose catalog form the loader must canonicalise the same way.
CREATE TABLE traps (
    one_char CHAR,
    whole NUMERIC(10),
    approx FLOAT,
    approx_small FLOAT(10),
    counter SERIAL,
    ident BIGINT GENERATED BY DEFAULT AS IDENTITY,
    yes BOOLEAN DEFAULT 't',
    five INTEGER DEFAULT '5',
    precise TIMESTAMP(3) WITH TIME ZONE,
    sum_default INTEGER DEFAULT (1 + 2),
    a TEXT,
    b VARCHAR(10),
    CHECK (b LIKE 'x%'),
    CHECK (a || b <> ''),
    UNIQUE NULLS NOT DISTINCT (a, b)
);

CREATE TABLE memberships (
    account_id BIGINT NOT NULL REFERENCES accounts,
    event_id INTEGER NOT NULL,
    role TEXT NOT NULL DEFAULT 'member',
    PRIMARY KEY (account_id, event_id),
    CONSTRAINT fk_memberships_event FOREIGN KEY (event_id) REFERENCES events (id) ON DELETE RESTRICT
);
"#;

#[tokio::test(flavor = "current_thread")]
async fn rich_schema_has_no_false_differences() {
    let Some(schema) = assert_round_trip(RICH).await else {
        return;
    };
    let accounts = schema.table("accounts").unwrap();
    assert_eq!(accounts.comment.as_deref(), Some("one row per customer"));
    assert_eq!(
        accounts.column("moods").unwrap().ty,
        ColumnType::Array(Box::new(ColumnType::Enum {
            name: "mood".into()
        }))
    );
    assert_eq!(schema.enums[0].values, ["sad", "ok", "happy"]);
    let events = schema.table("events").unwrap();
    assert!(events.column("id").unwrap().autoincrement);
    assert_eq!(events.indexes.len(), 4);
}

#[tokio::test(flavor = "current_thread")]
async fn version_table_system_and_extension_objects_are_left_out() {
    let ddl = "CREATE EXTENSION IF NOT EXISTS pg_trgm;
               CREATE TABLE retort_version (version_num VARCHAR(32) PRIMARY KEY);
               CREATE TABLE kept (id INTEGER PRIMARY KEY);";
    let Some((_db, mut conn)) = database_with(ddl).await else {
        return;
    };
    let schema = introspect_postgres(&mut conn, &IntrospectOptions::default())
        .await
        .unwrap();
    let names: Vec<&str> = schema.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["kept"]);
}

#[tokio::test(flavor = "current_thread")]
async fn other_schemas_are_read_when_listed_and_named() {
    let ddl = "CREATE SCHEMA audit;
               CREATE TABLE users (id SERIAL PRIMARY KEY);
               CREATE TABLE audit.log (id SERIAL PRIMARY KEY,
                   user_id INTEGER REFERENCES public.users (id));";
    let Some((_db, mut conn)) = database_with(ddl).await else {
        return;
    };
    let only_default = introspect_postgres(&mut conn, &IntrospectOptions::default())
        .await
        .unwrap();
    assert_eq!(only_default.tables.len(), 1);
    let options = IntrospectOptions {
        schemas: vec!["public".into(), "audit".into()],
        ..IntrospectOptions::default()
    };
    let both = introspect_postgres(&mut conn, &options).await.unwrap();
    let log = both
        .tables
        .iter()
        .find(|t| t.name == "log")
        .expect("audit.log read");
    assert_eq!(log.schema.as_deref(), Some("audit"));
    assert_eq!(log.foreign_keys[0].referred_schema, None);
    assert_eq!(both.table("users").unwrap().schema, None);
}

#[tokio::test(flavor = "current_thread")]
async fn exclusion_constraints_are_refused_by_name() {
    let ddl = "CREATE TABLE rooms (id INTEGER, during TSRANGE,
                   CONSTRAINT no_overlap EXCLUDE USING gist (during WITH &&));";
    let Some((_db, mut conn)) = database_with(ddl).await else {
        return;
    };
    match introspect_postgres(&mut conn, &IntrospectOptions::default()).await {
        Err(IntrospectError::Catalog { table, message }) => {
            assert_eq!(table, "rooms");
            assert!(message.contains("no_overlap"), "{message}");
        }
        other => panic!("expected a catalog error, got {other:?}"),
    }
}

async fn statements_for(count: usize) -> Option<(usize, usize)> {
    let mut ddl = String::from("CREATE TYPE state AS ENUM ('a', 'b');");
    for i in 0..count {
        ddl.push_str(&format!(
            "CREATE TABLE t{i} (id SERIAL PRIMARY KEY, parent_id INTEGER REFERENCES t{i}(id),
                 code TEXT UNIQUE, s state DEFAULT 'a', CHECK (id > 0));
             CREATE INDEX ix_t{i}_code ON t{i}(lower(code)) WHERE code IS NOT NULL;
             COMMENT ON TABLE t{i} IS 'table {i}';"
        ));
    }
    let (_db, mut conn) = database_with(&ddl).await?;
    let mut reader = CatalogReader::new(&mut conn);
    let schema = read_catalog(&mut reader, &IntrospectOptions::default())
        .await
        .unwrap();
    Some((reader.statements(), schema.tables.len()))
}

#[tokio::test(flavor = "current_thread")]
async fn query_count_does_not_grow_with_table_count() {
    let Some((few, few_tables)) = statements_for(3).await else {
        return;
    };
    let Some((many, many_tables)) = statements_for(60).await else {
        return;
    };
    assert_eq!((few_tables, many_tables), (3, 60));
    assert_eq!(few, 7);
    assert_eq!(many, few);
}

#[test]
fn servers_before_15_read_nulls_not_distinct_as_false() {
    let column = "i.indnullsnotdistinct";
    let old = for_server(INDEXES_SQL, 140_011, column);
    assert!(!old.0.contains(column), "{}", old.0);
    assert!(old.0.contains("false AS nulls_not_distinct"));
    assert!(for_server(INDEXES_SQL, 150_004, column).0.contains(column));
    let constraints = for_server(CONSTRAINTS_SQL, 130_000, "ci.indnullsnotdistinct");
    assert!(
        constraints
            .0
            .contains("COALESCE(false, false) AS nulls_not_distinct")
    );
}
