//! Against a real MySQL/MariaDB server (`RETORT_TEST_MYSQL_URL`): a database
//! made from DDL must introspect equal to what the model loader reads from
//! the same DDL, constraint names aside where the model leaves them unnamed
//! (MySQL's generated names are kept; the differ matches by definition).

use super::*;
use retort_models::load_str;
use retort_schema::{ColumnType, DefaultValue, Dialect, ForeignKeyAction, IndexTarget};
use retort_test_support::{Server, TestDatabase};
use sqlx::Connection;

async fn database_with(ddl: &str) -> Option<(TestDatabase, MySqlConnection)> {
    let db = TestDatabase::new(Server::Mysql)?;
    let mut conn = MySqlConnection::connect(db.url()).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(ddl.to_string()))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("cannot run the DDL: {e}\n{ddl}"));
    Some((db, conn))
}

/// `introspected` with the names of constraints the model leaves unnamed
/// erased, where a model constraint with the same definition is unnamed:
/// what the differ does when it matches them.
fn unnamed_like(mut introspected: Schema, loaded: &Schema) -> Schema {
    for table in &mut introspected.tables {
        let Some(model) = loaded.table(&table.name) else {
            continue;
        };
        for unique in &mut table.unique_constraints {
            if model
                .unique_constraints
                .iter()
                .any(|m| m.name.is_none() && m.columns == unique.columns)
            {
                unique.name = None;
            }
        }
        for key in &mut table.foreign_keys {
            let same = |m: &retort_schema::ForeignKey| {
                m.name.is_none()
                    && m.columns == key.columns
                    && m.referred_table == key.referred_table
                    && m.referred_columns == key.referred_columns
            };
            if model.foreign_keys.iter().any(same) {
                key.name = None;
            }
        }
        for check in &mut table.checks {
            if model
                .checks
                .iter()
                .any(|m| m.name.is_none() && m.expression == check.expression)
            {
                check.name = None;
            }
        }
        table.normalize();
    }
    introspected
}

/// Introspects a database made from `ddl` and compares it with the loader.
async fn assert_round_trip(ddl: &str) -> Option<Schema> {
    let (_db, mut conn) = database_with(ddl).await?;
    let introspected = introspect_mysql(&mut conn, &IntrospectOptions::default())
        .await
        .unwrap();
    let loaded = load_str(ddl, "schema.sql", Dialect::Mysql).unwrap();
    let comparable = unnamed_like(introspected.clone(), &loaded);
    assert_tables_eq(&comparable, &loaded);
    conn.close().await.unwrap();
    Some(introspected)
}

/// Compares table by table, so a failure names the table that differs.
fn assert_tables_eq(introspected: &Schema, loaded: &Schema) {
    let names = |s: &Schema| s.tables.iter().map(|t| t.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(introspected), names(loaded), "table lists differ");
    for (got, want) in introspected.tables.iter().zip(&loaded.tables) {
        for (c_got, c_want) in got.columns.iter().zip(&want.columns) {
            assert_eq!(c_got, c_want, "column {}.{} differs", got.name, c_want.name);
        }
        assert_eq!(got, want, "table {} differs", got.name);
    }
    assert_eq!(introspected, loaded);
}

const USERS_TODOS: &str = "
CREATE TABLE users (
    id INT AUTO_INCREMENT PRIMARY KEY,
    email VARCHAR(255) NOT NULL UNIQUE,
    hashed_password VARCHAR(255) NOT NULL,
    is_active BOOLEAN DEFAULT TRUE,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE todos (
    id INT AUTO_INCREMENT PRIMARY KEY,
    owner_id INT NOT NULL,
    title VARCHAR(200) NOT NULL,
    done BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX ix_todos_title ON todos (title);
";

#[tokio::test(flavor = "current_thread")]
async fn users_and_todos_introspect_equal_to_the_models() {
    let Some(schema) = assert_round_trip(USERS_TODOS).await else {
        return;
    };
    let users = schema.table("users").unwrap();
    let id = users.column("id").unwrap();
    assert!(id.autoincrement && id.default.is_none() && id.ty == ColumnType::Integer);
    let active = users.column("is_active").unwrap();
    assert_eq!(active.ty, ColumnType::Boolean);
    assert_eq!(active.default, Some(DefaultValue::Boolean(true)));
    assert_eq!(
        users.column("created_at").unwrap().default,
        Some(DefaultValue::CurrentTimestamp)
    );
    // MySQL's own names are kept.
    assert_eq!(users.unique_constraints[0].name.as_deref(), Some("email"));
    let todos = schema.table("todos").unwrap();
    assert_eq!(todos.foreign_keys[0].on_delete, ForeignKeyAction::Cascade);
    assert_eq!(todos.foreign_keys[0].name.as_deref(), Some("todos_ibfk_1"));
    // The index MySQL made for the foreign key is not reported.
    let indexes: Vec<&str> = todos.indexes.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(indexes, ["ix_todos_title"]);
}
