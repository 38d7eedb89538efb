//! `[autogen]` filters and `[naming]` conventions through the binary, on
//! SQLite and on the real PostgreSQL and MySQL servers: a database built by
//! hand (server-default constraint names, tables and an index the project
//! does not own) diffs clean against unnamed models, a new constraint is
//! created under the template's name, and its downgrade drops that name.

use crate::binary;
use retort_test_support::{Server, TempProject, TestDatabase, db_exec, db_rows};

const CONFIG_TAIL: &str = r#"
[autogen]
exclude_tables = ["spatial_ref_sys", "tmp_*"]
exclude_objects = ["users.ix_legacy"]

[naming]
index = "ix_{table}_{columns}"
unique = "uq_{table}_{columns}"
foreign_key = "fk_{table}_{columns}_{referred_table}"
check = "ck_{table}_{constraint_hash}"
primary_key = "pk_{table}"
"#;

/// What the database holds before retort runs: `login`'s unique constraint
/// has the server's default name, `spatial_ref_sys` / `tmp_import` and
/// `users.ix_legacy` belong to someone else.
const HAND_MADE: &str = "
CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(100) NOT NULL, login VARCHAR(50) NOT NULL UNIQUE);
CREATE TABLE spatial_ref_sys (srid INTEGER PRIMARY KEY);
CREATE TABLE tmp_import (n INTEGER);
CREATE INDEX ix_legacy ON users (email);
INSERT INTO users (id, email, login) VALUES (1, 'ann@example.com', 'ann');
";

/// The same `users`, unnamed constraints only; `tmp_scratch` is excluded
/// and so is never created.
const MODELS: &str = "
CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(100) NOT NULL, login VARCHAR(50) NOT NULL UNIQUE);
CREATE TABLE tmp_scratch (n INTEGER);
";

/// A unique constraint on `users.email` and a `todos` table with an
/// unnamed foreign key and check.
const MODELS_WITH_NEW_CONSTRAINTS: &str = "
CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(100) NOT NULL, login VARCHAR(50) NOT NULL UNIQUE, UNIQUE (email));
CREATE TABLE tmp_scratch (n INTEGER);
CREATE TABLE todos (
    id INTEGER PRIMARY KEY,
    owner_id INTEGER NOT NULL REFERENCES users (id),
    priority INTEGER NOT NULL CHECK (priority >= 0)
);
CREATE INDEX ON todos (priority);
";

struct Target {
    project: TempProject,
    /// The server URL; `None` for the project's SQLite file.
    url: Option<String>,
}

impl Target {
    fn exec(&self, sql: &str) {
        match &self.url {
            Some(url) => db_exec(url, sql),
            None => self.project.sqlite_exec(sql),
        }
    }

    fn rows(&self, query: &str) -> Vec<Vec<String>> {
        match &self.url {
            Some(url) => db_rows(url, query),
            None => self.project.sqlite_rows(query),
        }
    }

    /// Whether the database has a table called `name`.
    fn has_table(&self, name: &str) -> bool {
        let query = match self.url.as_deref() {
            None => {
                format!("SELECT name FROM sqlite_master WHERE type = 'table' AND name = '{name}'")
            }
            Some(url) if url.starts_with("mysql") => format!(
                "SELECT CAST(table_name AS CHAR) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = '{name}'"
            ),
            Some(_) => format!(
                "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() AND tablename = '{name}'"
            ),
        };
        !self.rows(&query).is_empty()
    }

    /// The names of `table`'s constraints and indexes (SQLite: the
    /// `CONSTRAINT` names in its CREATE TABLE text, plus its indexes).
    fn object_names(&self, table: &str) -> String {
        let query = match self.url.as_deref() {
            None => format!(
                "SELECT sql FROM sqlite_master WHERE tbl_name = '{table}' AND sql IS NOT NULL"
            ),
            Some(url) if url.starts_with("mysql") => format!(
                "SELECT CAST(constraint_name AS CHAR) FROM information_schema.table_constraints WHERE table_schema = DATABASE() AND table_name = '{table}'
                 UNION SELECT CAST(index_name AS CHAR) FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = '{table}'"
            ),
            Some(_) => format!(
                "SELECT conname::text FROM pg_constraint WHERE conrelid = '{table}'::regclass
                 UNION SELECT indexname::text FROM pg_indexes WHERE tablename = '{table}' AND schemaname = current_schema()"
            ),
        };
        self.rows(&query)
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn target(server: Option<Server>) -> Option<(Target, Option<TestDatabase>)> {
    let (project, url, db) = match server {
        None => (TempProject::sqlite(binary(), MODELS), None, None),
        Some(server) => {
            let db = TestDatabase::new(server)?;
            let url = db.url().to_string();
            (
                TempProject::with_url(binary(), MODELS, &url),
                Some(url),
                Some(db),
            )
        }
    };
    let config = project.read("retort.toml");
    project.write("retort.toml", &format!("{config}{CONFIG_TAIL}"));
    Some((Target { project, url }, db))
}

fn conventions_and_filters(server: Option<Server>) {
    let Some((t, _db)) = target(server) else {
        return;
    };
    let p = &t.project;
    t.exec(HAND_MADE);

    // Server-default names, other people's tables and an excluded index:
    // no diff in either direction.
    let diff = p
        .retort(&["diff"])
        .success("diff of the hand-made database")
        .stdout;
    assert!(!diff.contains("spatial_ref_sys"), "{diff}");
    assert!(!diff.contains("tmp_"), "{diff}");
    assert!(!diff.contains("ix_legacy"), "{diff}");
    p.retort(&["check"])
        .success("check of the hand-made database");
    let nothing = p
        .retort(&["autogen", "-m", "nothing"])
        .success("autogen")
        .stdout;
    assert!(nothing.contains("No changes detected"), "{nothing}");

    // New constraints get the template's names.
    p.write("schema.sql", MODELS_WITH_NEW_CONSTRAINTS);
    let generated = p
        .retort(&["autogen", "-m", "constraints"])
        .success("autogen constraints")
        .stdout;
    assert!(!generated.contains("tmp_scratch"), "{generated}");
    let files = p.revision_files();
    assert_eq!(files.len(), 1, "{files:?}");
    let revision = std::fs::read_to_string(&files[0]).expect("read revision");
    let (up, down) = revision
        .split_once("-- retort:down")
        .expect("a down section");
    for name in [
        "uq_users_email",
        "fk_todos_owner_id_users",
        "ck_todos_",
        "ix_todos_priority",
    ] {
        assert!(up.contains(name), "{name} not in the upgrade:\n{revision}");
    }
    // The excluded index is never dropped for good (SQLite recreates it
    // after rebuilding users, since the renderer starts from the whole
    // live schema).
    assert!(!up.contains("DROP INDEX"), "{revision}");
    assert!(
        !up.contains("unnamed"),
        "hazards name the new constraints:\n{revision}"
    );
    if server.is_some() {
        // SQLite drops a constraint by rebuilding the table; the others
        // drop it by the template's name.
        assert!(down.contains("uq_users_email"), "{revision}");
    }
    p.retort(&["upgrade", "head"]).success("upgrade");
    let users = t.object_names("users");
    assert!(users.contains("uq_users_email"), "{users}");
    // The excluded index survived (on SQLite: through a table rebuild).
    assert!(users.contains("ix_legacy"), "{users}");
    let todos = t.object_names("todos");
    assert!(todos.contains("fk_todos_owner_id_users"), "{todos}");
    assert!(todos.contains("ck_todos_"), "{todos}");
    assert!(todos.contains("ix_todos_priority"), "{todos}");
    if server == Some(Server::Postgres) {
        assert!(todos.contains("pk_todos"), "{todos}");
    }
    // The conventional names match the unnamed models by definition.
    p.retort(&["check"]).success("check after upgrade");

    p.retort(&["downgrade", "-1", "--accept-data-loss"])
        .success("downgrade");
    let users = t.object_names("users");
    assert!(!users.contains("uq_users_email"), "{users}");
    assert!(users.contains("ix_legacy"), "{users}");
    assert!(!t.has_table("todos"));
    for table in ["spatial_ref_sys", "tmp_import", "users"] {
        assert!(t.has_table(table), "{table} is gone");
    }
    assert!(!t.has_table("tmp_scratch"));
    assert_eq!(
        t.rows("SELECT CAST(count(*) AS CHAR) FROM users"),
        vec![vec!["1".to_string()]]
    );
}

#[test]
fn conventions_and_filters_on_sqlite() {
    conventions_and_filters(None);
}

#[test]
fn conventions_and_filters_on_postgres() {
    conventions_and_filters(Some(Server::Postgres));
}

#[test]
fn conventions_and_filters_on_mysql() {
    conventions_and_filters(Some(Server::Mysql));
}

#[test]
fn include_schemas_leaves_other_postgres_schemas_alone() {
    let Some(db) = TestDatabase::new(Server::Postgres) else {
        return;
    };
    let project = TempProject::with_url(
        binary(),
        "CREATE TABLE users (id INTEGER PRIMARY KEY);",
        db.url(),
    );
    db_exec(
        db.url(),
        "CREATE TABLE users (id INTEGER PRIMARY KEY);
         CREATE SCHEMA audit_log;
         CREATE TABLE audit_log.entries (id INTEGER PRIMARY KEY);",
    );
    let config = project.read("retort.toml");
    let with_schemas = config.replace(
        "[database]\n",
        "[database]\nschemas = [\"public\", \"audit_log\"]\n",
    );
    // Reading both schemas, the unmodelled audit_log.entries is drift.
    project.write("retort.toml", &with_schemas);
    let drift = project.retort(&["diff"]).success("diff").stdout;
    assert!(drift.contains("entries"), "{drift}");
    // Narrowed to public, it is left alone.
    project.write(
        "retort.toml",
        &format!("{with_schemas}\n[autogen]\ninclude_schemas = [\"public\"]\n"),
    );
    project
        .retort(&["check"])
        .success("check with include_schemas");
    // include_schemas must be a subset of [database] schemas.
    project.write(
        "retort.toml",
        &format!("{with_schemas}\n[autogen]\ninclude_schemas = [\"billing\"]\n"),
    );
    let err = project
        .retort(&["check"])
        .expect_code(2, "unknown schema")
        .stderr;
    assert!(err.contains("[autogen] include_schemas"), "{err}");
    assert!(err.contains("`billing`"), "{err}");
}

#[test]
fn bad_filters_and_templates_are_config_errors_naming_the_key() {
    let project = TempProject::sqlite(binary(), MODELS);
    let config = project.read("retort.toml");
    for (tail, expected) in [
        (
            "[autogen]\nexclude_tables = [\"tmp_[\"]\n",
            "[autogen] exclude_tables",
        ),
        (
            "[autogen]\nexclude_objects = [\"ix_legacy\"]\n",
            "[autogen] exclude_objects",
        ),
        (
            "[naming]\nunique = \"uq_{table}_{column_names}\"\n",
            "`{column_names}`",
        ),
        ("[naming]\ncheck = \"ck_{table}\"\n", "{constraint_hash}"),
        (
            "[autogen]\ninclude_schemas = [\"public\"]\n",
            "include_schemas is for PostgreSQL",
        ),
    ] {
        project.write("retort.toml", &format!("{config}\n{tail}"));
        let err = project.retort(&["check"]).expect_code(2, tail).stderr;
        assert!(err.contains(expected), "{tail}: {err}");
        assert!(err.contains("retort.toml"), "{tail}: {err}");
    }
}
