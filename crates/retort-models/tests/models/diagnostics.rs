use retort_models::{ModelError, load_files, load_str};
use retort_schema::Dialect;

use crate::with_snapshots;

fn errors(ddl: &str) -> ModelError {
    match load_str(ddl, "schema.sql", Dialect::Sqlite) {
        Ok(schema) => panic!("expected diagnostics, got {schema:?}"),
        Err(err) => err,
    }
}

/// `(code, "line:column")` of each diagnostic.
fn codes(err: &ModelError) -> Vec<(&'static str, String)> {
    err.diagnostics()
        .unwrap()
        .iter()
        .map(|d| (d.code, format!("{}:{}", d.line, d.column)))
        .collect()
}

#[test]
fn parse_error_on_line_three_reports_its_position() {
    let err = errors("CREATE TABLE a (id INTEGER);\n\nCREATE TABLE b (id INTEGER,, x TEXT);\n");
    assert_eq!(codes(&err), [("parse-error", "3:28".to_string())]);
    assert!(
        err.to_string()
            .starts_with("schema.sql:3:28: error[parse-error]: "),
        "{err}"
    );
    with_snapshots!({
        insta::assert_snapshot!("parse_error_line_3", err.to_string());
        insta::assert_snapshot!("parse_error_line_3_fancy", err.render_fancy());
    });
}

#[test]
fn every_problem_in_a_file_is_reported() {
    let err = errors(
        "CREATE TABLE users (\n    id INTEGER PRIMARY KEY,\n    email TEXT\n);\nCREATE TABLE oops (id INTEGER\nCREATE INDEX ix_users_name ON users (name);\n",
    );
    let found = codes(&err);
    assert_eq!(
        found.len(),
        1,
        "the unterminated statement swallows the next: {found:?}"
    );

    let err = errors(
        "CREATE TABLE users (\n    id INTEGER PRIMARY KEY,\n    email TEXT\n);\nCREATE TABLE oops (id INTEGER;\nCREATE INDEX ix_users_name ON users (name);\nINSERT INTO users VALUES (1, 'a');\n",
    );
    assert_eq!(
        codes(&err),
        [
            ("parse-error", "5:30".to_string()),
            ("unknown-column", "6:38".to_string()),
            ("unsupported-statement", "7:1".to_string()),
        ]
    );
    with_snapshots!({
        insta::assert_snapshot!("several_problems", err.to_string());
        insta::assert_snapshot!("several_problems_fancy", err.render_fancy());
    });
}

#[test]
fn semantic_problems_are_diagnosed() {
    let err = errors(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, email TEXT);
CREATE TABLE users (id INTEGER);
CREATE TABLE todos (
    id INTEGER PRIMARY KEY,
    owner_id INTEGER REFERENCES users(uid),
    team_id INTEGER REFERENCES teams(id),
    UNIQUE (title),
    PRIMARY KEY (id)
);
CREATE INDEX ix_todos_owner ON todos (owner_id);
CREATE INDEX ix_todos_owner ON todos (id);
CREATE INDEX ix_ghosts ON ghosts (id);
CREATE VIEW v AS SELECT 1;
",
    );
    assert_eq!(
        codes(&err),
        [
            ("duplicate-column", "1:57".to_string()),
            ("duplicate-table", "2:14".to_string()),
            ("unknown-column", "5:39".to_string()),
            ("unknown-table", "6:32".to_string()),
            ("unknown-column", "7:13".to_string()),
            ("duplicate-primary-key", "8:18".to_string()),
            ("duplicate-index", "11:14".to_string()),
            ("unknown-table", "12:27".to_string()),
            ("unsupported-statement", "13:1".to_string()),
        ]
    );
    let text = err.to_string();
    assert!(
        text.contains("help: declare table `teams` in the models, or remove the reference"),
        "{text}"
    );
    with_snapshots!({
        insta::assert_snapshot!("semantic_problems", text);
    });
}

#[test]
fn problems_across_files_name_their_file() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.sql");
    let b = dir.path().join("b.sql");
    std::fs::write(&a, "CREATE TABLE users (id INTEGER PRIMARY KEY);\n").unwrap();
    std::fs::write(
        &b,
        "-- again\nCREATE TABLE users (id INTEGER PRIMARY KEY);\n",
    )
    .unwrap();
    let err = load_files(&[a.clone(), b.clone()], Dialect::Sqlite).unwrap_err();
    let diagnostic = err.diagnostics().unwrap().iter().next().unwrap();
    assert_eq!(diagnostic.code, "duplicate-table");
    assert_eq!(diagnostic.path, b.display().to_string());
    assert_eq!((diagnostic.line, diagnostic.column), (2, 14));
    assert!(
        diagnostic
            .help
            .as_deref()
            .unwrap()
            .contains(&format!("{}:1:14", a.display())),
        "{diagnostic}"
    );
}

#[test]
fn tokenizer_errors_are_parse_errors() {
    let err = errors("CREATE TABLE t (\n  name TEXT DEFAULT 'unterminated\n);\n");
    assert_eq!(codes(&err)[0].0, "parse-error");
    assert_eq!(err.diagnostics().unwrap().iter().next().unwrap().line, 2);
}

#[test]
fn a_table_that_did_not_parse_is_not_reported_unknown_as_well() {
    let err = errors(
        "CREATE TABLE users (\n    id INTEGER PRIMARY KEY,,\n    name TEXT\n);\nCREATE INDEX ix_users_name ON users (name);\n",
    );
    assert_eq!(codes(&err), [("parse-error", "2:28".to_string())]);
}

fn errors_in(ddl: &str, dialect: Dialect) -> ModelError {
    match load_str(ddl, "schema.sql", dialect) {
        Ok(schema) => panic!("expected diagnostics for {dialect}, got {schema:?}"),
        Err(err) => err,
    }
}

#[test]
fn types_the_database_does_not_know_are_refused() {
    let err = errors_in(
        "CREATE TYPE mood AS ENUM ('ok', 'sad');\nCREATE TABLE todos (\n    id int PRIMARY KEY,\n    status todo_status NOT NULL,\n    tags todo_tag[],\n    mood mood,\n    addr inet,\n    span interval day to second,\n    name citext\n);\n",
        Dialect::Postgres,
    );
    assert_eq!(
        codes(&err),
        [
            ("unknown-type", "4:5".to_string()),
            ("unknown-type", "5:5".to_string()),
        ]
    );
    with_snapshots!({
        insta::assert_snapshot!("unknown_type_postgres", err.to_string());
    });
    let err = errors_in(
        "CREATE TABLE t (id int PRIMARY KEY, flags todo_status, n int unsigned, b longblob, y year, s set('a','b'));",
        Dialect::Mysql,
    );
    assert_eq!(codes(&err), [("unknown-type", "1:37".to_string())]);
    with_snapshots!({
        insta::assert_snapshot!("unknown_type_mysql", err.to_string());
    });
    // A type whose CREATE TYPE did not parse is not reported unknown too.
    let err = errors_in(
        "CREATE TYPE mood AS ENUM ('ok',, 'sad');\nCREATE TABLE t (id int PRIMARY KEY, m mood);\n",
        Dialect::Postgres,
    );
    assert_eq!(codes(&err), [("parse-error", "1:32".to_string())]);
    // SQLite takes any type name, by its affinity rules.
    let schema = load_str(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, status todo_status, data);",
        "schema.sql",
        Dialect::Sqlite,
    )
    .unwrap();
    let t = schema.table("t").unwrap();
    assert_eq!(
        t.column("status").unwrap().ty,
        retort_schema::ColumnType::Custom("todo_status".into())
    );
    assert_eq!(
        t.column("data").unwrap().ty,
        retort_schema::ColumnType::Blob
    );
}

#[test]
fn sqlite_defaults_it_cannot_evaluate_are_refused() {
    let err = errors_in(
        "CREATE TABLE t (\n    id INTEGER PRIMARY KEY,\n    a TEXT DEFAULT now(),\n    b TEXT DEFAULT (now()),\n    c INTEGER DEFAULT 1 + 1,\n    d INTEGER DEFAULT (id + 1),\n    e INTEGER DEFAULT ((SELECT 1)),\n    ok1 TEXT DEFAULT (datetime('now')),\n    ok2 TEXT DEFAULT CURRENT_TIMESTAMP,\n    ok3 INTEGER DEFAULT -1,\n    ok4 INTEGER DEFAULT (abs(-1) + random()),\n    ok5 TEXT DEFAULT 'x',\n    ok6 TEXT DEFAULT (CAST(1 AS TEXT) || lower('A'))\n);\n",
        Dialect::Sqlite,
    );
    assert_eq!(
        codes(&err),
        [
            ("invalid-default", "3:20".to_string()),
            ("invalid-default", "4:21".to_string()),
            ("invalid-default", "5:23".to_string()),
            ("invalid-default", "6:24".to_string()),
            ("invalid-default", "7:25".to_string()),
        ]
    );
    with_snapshots!({
        insta::assert_snapshot!("sqlite_invalid_defaults", err.to_string());
    });
    // Elsewhere now() is CURRENT_TIMESTAMP.
    load_str(
        "CREATE TABLE t (id int PRIMARY KEY, at timestamp DEFAULT now());",
        "schema.sql",
        Dialect::Postgres,
    )
    .unwrap();
}

#[test]
fn mysql_keys_on_whole_text_and_blob_columns_are_refused() {
    let err = errors_in(
        "CREATE TABLE t (\n    body TEXT,\n    doc LONGBLOB,\n    name VARCHAR(50),\n    PRIMARY KEY (body),\n    UNIQUE KEY uq_doc (doc),\n    KEY ix_name (name)\n);\nCREATE INDEX ix_body ON t (name, body);\nCREATE TABLE u (data TEXT UNIQUE, j JSON PRIMARY KEY);\n",
        Dialect::Mysql,
    );
    assert_eq!(
        codes(&err),
        [
            ("unsupported-key", "5:18".to_string()),
            ("unsupported-key", "6:24".to_string()),
            ("unsupported-key", "9:34".to_string()),
            ("unsupported-key", "10:17".to_string()),
            ("unsupported-key", "10:35".to_string()),
        ]
    );
    with_snapshots!({
        insta::assert_snapshot!("mysql_unprefixed_keys", err.to_string());
    });
}

#[test]
fn a_table_of_no_columns_is_refused_where_the_database_refuses_it() {
    for dialect in [Dialect::Sqlite, Dialect::Mysql] {
        let err = match load_str("CREATE TABLE t ();\n", "schema.sql", dialect) {
            Ok(schema) => panic!("{dialect}: expected a diagnostic, got {schema:?}"),
            Err(err) => err,
        };
        assert_eq!(
            codes(&err),
            [("empty-table", "1:14".to_string())],
            "{dialect}"
        );
    }
    let schema = load_str("CREATE TABLE t ();\n", "schema.sql", Dialect::Postgres)
        .expect("PostgreSQL allows a table of no columns");
    assert!(schema.table("t").is_some_and(|t| t.columns.is_empty()));
}
