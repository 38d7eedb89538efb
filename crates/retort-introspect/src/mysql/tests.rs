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

/// Every spelling here reads back from MariaDB's or MySQL's catalog
/// differently from how it is written; each must still compare equal.
const RICH: &str = r#"
CREATE TABLE accounts (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    code CHAR NOT NULL,
    handle VARCHAR(40) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL DEFAULT 'anon',
    note VARCHAR(100) DEFAULT 'it''s fine',
    quoted VARCHAR(10) DEFAULT "dq",
    empty_note VARCHAR(10) NOT NULL DEFAULT '',
    nothing VARCHAR(10) DEFAULT NULL,
    balance DECIMAL(10,2) NOT NULL DEFAULT 0,
    rate DECIMAL(10,2) DEFAULT '1.50',
    whole DECIMAL DEFAULT 5,
    ratio DOUBLE DEFAULT 1.5,
    score REAL,
    small TINYINT DEFAULT -1,
    legacy INT(11) DEFAULT '7',
    width INT(11) UNSIGNED DEFAULT 3,
    big BIGINT(20) DEFAULT 42,
    flag TINYINT(1) NOT NULL DEFAULT 0,
    enabled BOOL DEFAULT 1,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    mood ENUM('sad', 'ok', 'it''s') NOT NULL DEFAULT 'ok',
    data JSON,
    body LONGTEXT,
    summary MEDIUMTEXT,
    bio TEXT COMMENT 'about me',
    avatar BLOB,
    born DATE,
    wakes TIME,
    seen_at DATETIME DEFAULT NOW(),
    opened_at DATETIME NOT NULL DEFAULT '2020-01-01',
    closed_at DATETIME(3) DEFAULT '2020-01-01 12:30:00',
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    year_joined YEAR,
    PRIMARY KEY (id),
    UNIQUE KEY uk_accounts_handle (handle),
    UNIQUE (code, small),
    KEY ix_accounts_mood (mood, created_at DESC),
    KEY ix_accounts_note_prefix (note(10)),
    CONSTRAINT positive_balance CHECK (balance >= 0),
    CHECK (small > -100 AND small < 100)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci COMMENT='bank accounts';

CREATE UNIQUE INDEX ux_accounts_note ON accounts (note, quoted);

CREATE TABLE transfers (
    id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    source_id BIGINT UNSIGNED NOT NULL,
    target_id BIGINT UNSIGNED NOT NULL,
    parent_id INT,
    amount DECIMAL(12,4) NOT NULL CHECK (amount > 0),
    memo VARCHAR(200) COMMENT '',
    status VARCHAR(10) NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'done')),
    KEY ix_transfers_status (status(4)),
    FOREIGN KEY (source_id) REFERENCES accounts (id) ON DELETE CASCADE ON UPDATE RESTRICT,
    CONSTRAINT fk_transfers_target FOREIGN KEY (target_id) REFERENCES accounts (id) ON DELETE NO ACTION,
    CONSTRAINT fk_transfers_parent FOREIGN KEY (parent_id) REFERENCES transfers (id) ON DELETE SET NULL
) ENGINE=InnoDB;
CREATE INDEX ix_transfers_parent ON transfers (parent_id);
"#;

#[tokio::test(flavor = "current_thread")]
async fn rich_schema_has_no_false_differences() {
    let Some(schema) = assert_round_trip(RICH).await else {
        return;
    };
    let accounts = schema.table("accounts").unwrap();
    assert_eq!(accounts.comment.as_deref(), Some("bank accounts"));
    let column = |name: &str| accounts.column(name).unwrap();
    assert_eq!(column("data").ty, ColumnType::Json);
    assert!(
        accounts
            .checks
            .iter()
            .all(|c| !c.expression.contains("json_valid"))
    );
    assert_eq!(
        column("balance").default,
        Some(DefaultValue::Number("0".into()))
    );
    assert_eq!(column("flag").default, Some(DefaultValue::Boolean(false)));
    assert_eq!(
        column("id").ty,
        ColumnType::Custom("bigint unsigned".into())
    );
    let transfers = schema.table("transfers").unwrap();
    // The implicit index of the unnamed and the named key are left out; the
    // declared one that serves fk_transfers_parent stays.
    let indexes: Vec<&str> = transfers.indexes.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(indexes, ["ix_transfers_parent", "ix_transfers_status"]);
    assert_eq!(transfers.column("memo").unwrap().comment, None);
}

/// Prefix lengths, FULLTEXT, ON UPDATE and generated columns: what the IR can
/// hold is read, the rest is left out rather than misread.
#[tokio::test(flavor = "current_thread")]
async fn prefix_fulltext_on_update_and_generated_columns() {
    let ddl = "
CREATE TABLE posts (
    id INT AUTO_INCREMENT PRIMARY KEY,
    title VARCHAR(200) NOT NULL,
    body TEXT,
    words INT AS (CHAR_LENGTH(body)) VIRTUAL,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
    INDEX ix_posts_title (title(10), id DESC),
    FULLTEXT INDEX ft_posts_body (body)
);";
    let Some((_db, mut conn)) = database_with(ddl).await else {
        return;
    };
    let schema = introspect_mysql(&mut conn, &IntrospectOptions::default())
        .await
        .unwrap();
    let posts = schema.table("posts").unwrap();
    let names: Vec<&str> = posts.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["id", "title", "body", "updated_at"]);
    assert_eq!(
        posts.column("updated_at").unwrap().default,
        Some(DefaultValue::CurrentTimestamp)
    );
    let title = &posts.indexes[1];
    assert_eq!(title.name, "ix_posts_title");
    assert_eq!(title.parts[0].target, IndexTarget::Column("title".into()));
    assert_eq!(title.parts[0].prefix, Some(10));
    assert!(title.parts[1].descending);
    let fulltext = &posts.indexes[0];
    assert_eq!(fulltext.name, "ft_posts_body");
    assert_eq!(fulltext.method.as_deref(), Some("fulltext"));
    conn.close().await.unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn version_table_and_views_are_left_out() {
    let ddl = "
CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(20));
CREATE VIEW item_names AS SELECT name FROM items;
CREATE TABLE retort_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY);";
    let Some((_db, mut conn)) = database_with(ddl).await else {
        return;
    };
    let schema = introspect_mysql(&mut conn, &IntrospectOptions::default())
        .await
        .unwrap();
    let names: Vec<&str> = schema.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["items"]);
    conn.close().await.unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn the_server_s_table_name_case_rule_is_carried_on_the_schema() {
    let Some((_db, mut conn)) = database_with("CREATE TABLE items (id INT PRIMARY KEY);").await
    else {
        return;
    };
    let setting: i64 = sqlx::query_scalar("SELECT CAST(@@lower_case_table_names AS SIGNED)")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let schema = introspect_mysql(&mut conn, &IntrospectOptions::default())
        .await
        .unwrap();
    assert_eq!(
        schema.table_names_ignore_case,
        setting != 0,
        "lower_case_table_names = {setting}"
    );
    conn.close().await.unwrap();
}

async fn statements_for(count: usize) -> Option<(usize, usize)> {
    let mut ddl = String::new();
    for i in 0..count {
        ddl.push_str(&format!(
            "CREATE TABLE t{i} (id INT AUTO_INCREMENT PRIMARY KEY, parent_id INT,
                 code VARCHAR(20) UNIQUE COMMENT 'code {i}', data JSON,
                 FOREIGN KEY (parent_id) REFERENCES t{i}(id), CHECK (parent_id > 0),
                 INDEX ix_t{i}_code (code, id)) COMMENT 'table {i}';"
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
    assert_eq!(few, 8);
    assert_eq!(many, few);
}

/// A table on another engine or with table options, and an index with a
/// comment, would read as plain InnoDB objects the models could declare:
/// each is refused by name, unless the filters leave it out.
#[tokio::test(flavor = "current_thread")]
async fn engines_table_options_and_index_comments_are_refused_by_name() {
    for (ddl, expected) in [
        (
            "CREATE TABLE t (a int) ENGINE=MyISAM",
            "table `t` has ENGINE=MyISAM, which retort cannot carry yet",
        ),
        (
            "CREATE TABLE t (a int) ROW_FORMAT=COMPRESSED",
            "table `t` has table options `row_format=COMPRESSED`",
        ),
        (
            "CREATE TABLE t (a int, KEY ix_t (a) COMMENT 'why')",
            "index `ix_t` on table `t` has a COMMENT, which retort cannot carry yet: exclude it \
             with [autogen] exclude_objects (\"t.ix_t\")",
        ),
        (
            "CREATE TABLE t (a int, KEY ix_t (a) IGNORED)",
            "index `ix_t` on table `t` is invisible (ignored), which retort cannot carry yet",
        ),
    ] {
        let Some((_db, mut conn)) = database_with(ddl).await else {
            return;
        };
        match introspect_mysql(&mut conn, &IntrospectOptions::default()).await {
            Err(IntrospectError::Unsupported { table, message }) => {
                assert_eq!(table, "t", "{ddl}");
                assert!(message.contains(expected), "{ddl}:\n{message}");
            }
            other => panic!("{ddl}: expected a refusal, got {other:?}"),
        }
        let options = IntrospectOptions {
            excluded: crate::Exclusions::new(|_, table, object| {
                table == "t" && object.is_none_or(|o| o == "ix_t")
            }),
            ..IntrospectOptions::default()
        };
        introspect_mysql(&mut conn, &options)
            .await
            .unwrap_or_else(|e| panic!("{ddl}: excluded, yet {e}"));
    }
}

/// MySQL names visibility IS_VISIBLE, MariaDB the opposite (IGNORED);
/// servers with neither read every index as visible.
#[test]
fn index_visibility_is_read_from_the_column_the_server_has() {
    for sql in [INDEXES_SQL, INDEXES_WITH_EXPRESSIONS_SQL] {
        assert!(
            with_visibility(sql, true, false).contains("CAST(IS_VISIBLE AS CHAR) AS is_visible")
        );
        assert!(with_visibility(sql, false, true).contains("IF(IGNORED = 'YES', 'NO', 'YES')"));
        assert!(with_visibility(sql, false, false).contains("CAST('YES' AS CHAR) AS is_visible"));
    }
}
