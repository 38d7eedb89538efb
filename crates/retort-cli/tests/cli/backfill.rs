//! Issue 5 points 7 and 8 through the binary on every dialect: a NOT NULL
//! column without a default added to a table with rows becomes add
//! nullable → backfill (a `-- retort:todo` the reviewer must finish) → set
//! NOT NULL; `upgrade` refuses until the todo is gone; `autogen --verify`
//! proves each draft on a scratch database that is always dropped.

use crate::binary;
use retort_schema::Dialect;
use retort_test_support::{Server, TempProject, TestDatabase, db_exec, db_rows};

const BEFORE: &str =
    "CREATE TABLE users (\n    id INTEGER PRIMARY KEY,\n    name VARCHAR(100)\n);\n";
const AFTER: &str = "CREATE TABLE users (\n    id INTEGER PRIMARY KEY,\n    name VARCHAR(100),\n    nickname VARCHAR(100) NOT NULL\n);\n";

/// A project whose database holds `users` with two rows; `None` where the
/// server is not configured (printed, and a failure in CI).
fn project(dialect: Dialect) -> Option<(TempProject, String, Option<TestDatabase>)> {
    let (project, url, db) = match dialect {
        Dialect::Sqlite => {
            let project = TempProject::sqlite(binary(), BEFORE);
            let url = format!("sqlite://{}", project.db_path().display());
            (project, url, None)
        }
        Dialect::Postgres | Dialect::Mysql => {
            let server = if dialect == Dialect::Postgres {
                Server::Postgres
            } else {
                Server::Mysql
            };
            let db = TestDatabase::new(server)?;
            let project = TempProject::with_url(binary(), BEFORE, db.url());
            (project, db.url().to_string(), Some(db))
        }
    };
    db_exec(&url, BEFORE);
    db_exec(
        &url,
        "INSERT INTO users (id, name) VALUES (1, 'Ann'), (2, 'Bob')",
    );
    Some((project, url, db))
}

fn backfill_flow(dialect: Dialect) {
    let Some((project, url, _db)) = project(dialect) else {
        return;
    };
    project.write("schema.sql", AFTER);
    let generated = project
        .retort(&["autogen", "--verify", "-m", "add nickname"])
        .success("autogen --verify on a table with rows");
    assert!(
        generated.stdout.contains("users has rows") && generated.stdout.contains("verified"),
        "{}",
        generated.stdout
    );
    let files = project.revision_files();
    assert_eq!(files.len(), 1);
    let text = std::fs::read_to_string(&files[0]).unwrap();
    let todo_line = text
        .lines()
        .position(|l| l.starts_with("-- retort:todo backfill users.nickname"))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("no todo in the revision:\n{text}"));
    let up = text.split("-- retort:down").next().unwrap();
    let add = up.find("ADD COLUMN").expect("adds the column");
    let update = up.find("<placeholder>").expect("backfills");
    let not_null = up.rfind("NOT NULL").expect("sets NOT NULL");
    assert!(
        add < update && update < not_null,
        "three steps in order:\n{up}"
    );

    let refused = project
        .retort(&["upgrade"])
        .expect_code(2, "upgrade with an unfinished backfill");
    let file_name = files[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        refused.stderr.contains("is not finished")
            && refused.stderr.contains(&format!("{file_name}:{todo_line}")),
        "names revision, file and line {todo_line}: {}",
        refused.stderr
    );
    // Nothing applied: the column does not exist yet.
    let present = columns(&url, dialect);
    assert!(!present.contains(&"nickname".to_string()), "{present:?}");

    let finished: String = text
        .lines()
        .filter(|l| !l.starts_with("-- retort:todo"))
        .map(|l| l.replace("<placeholder>", "'anon'") + "\n")
        .collect();
    std::fs::write(&files[0], finished).unwrap();
    project
        .retort(&["upgrade"])
        .success("upgrade once backfilled");
    project
        .retort(&["check"])
        .success("the column is NOT NULL as the models say");
    let values = db_rows(&url, "SELECT nickname FROM users ORDER BY id");
    assert_eq!(
        values,
        vec![vec!["anon".to_string()], vec!["anon".to_string()]]
    );
    project
        .retort(&["downgrade", "-1", "--accept-data-loss"])
        .success("downgrade");
    assert!(!columns(&url, dialect).contains(&"nickname".to_string()));
}

fn columns(url: &str, dialect: Dialect) -> Vec<String> {
    let query = match dialect {
        Dialect::Sqlite => "SELECT name FROM pragma_table_info('users')",
        Dialect::Postgres => {
            "SELECT column_name::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'users'"
        }
        Dialect::Mysql => {
            "SELECT CAST(column_name AS CHAR) FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = 'users'"
        }
    };
    db_rows(url, query)
        .into_iter()
        .map(|r| r[0].clone())
        .collect()
}

#[test]
fn backfill_recipe_on_sqlite() {
    backfill_flow(Dialect::Sqlite);
}

#[test]
fn backfill_recipe_on_postgres() {
    backfill_flow(Dialect::Postgres);
}

#[test]
fn backfill_recipe_on_mysql() {
    backfill_flow(Dialect::Mysql);
}

/// The scratch databases of `--verify` are gone after the run, also when
/// the proof fails (here: the user may not create databases).
fn scratch_databases(server: Server) -> Vec<Vec<String>> {
    let admin = server.admin_url().expect("server configured");
    let query = match server {
        Server::Postgres => {
            "SELECT datname::text FROM pg_database WHERE datname LIKE 'retort\\_scratch\\_%'"
        }
        _ => {
            "SELECT CAST(schema_name AS CHAR) FROM information_schema.schemata WHERE schema_name LIKE 'retort\\_scratch\\_%'"
        }
    };
    db_rows(&admin, query)
}

#[test]
fn verify_leaves_no_scratch_database_on_postgres() {
    let Some((project, _url, _db)) = project(Dialect::Postgres) else {
        return;
    };
    project.write("schema.sql", AFTER.replace(" NOT NULL", "").as_str());
    let run = project
        .retort(&["autogen", "--verify", "-m", "add nickname"])
        .success("autogen --verify");
    let name = run
        .stdout
        .split_whitespace()
        .find(|w| w.starts_with("retort_scratch_"))
        .unwrap_or_else(|| panic!("names its scratch database: {}", run.stdout));
    let left: Vec<String> = scratch_databases(Server::Postgres)
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    assert!(!left.iter().any(|n| n == name), "{name} was not dropped");
}

#[test]
fn verify_config_switch_and_denied_create_database_on_postgres() {
    let Some((project, url, _db)) = project(Dialect::Postgres) else {
        return;
    };
    let role = format!("retort_nocreatedb_{}", std::process::id());
    let admin = Server::Postgres.admin_url().unwrap();
    db_exec(&admin, &format!("DROP ROLE IF EXISTS {role}"));
    db_exec(&admin, &format!("CREATE ROLE {role} LOGIN"));
    db_exec(
        &url,
        &format!("GRANT ALL ON SCHEMA public TO {role}; GRANT ALL ON users TO {role}"),
    );
    let as_role = url.replacen("postgres://postgres@", &format!("postgres://{role}@"), 1);
    assert_ne!(as_role, url, "test URL has the expected user");
    // The config switch alone turns verification on.
    let config = project.read("retort.toml");
    project.write(
        "retort.toml",
        &format!("{config}\n[autogen]\nverify = true\n"),
    );
    project.write("schema.sql", AFTER);
    let denied = project
        .retort(&["-d", &as_role, "autogen", "-m", "add nickname"])
        .expect_code(2, "verify without CREATE DATABASE privilege");
    // Its grants live in the test database: revoke them there first.
    db_exec(&url, &format!("DROP OWNED BY {role}"));
    db_exec(&admin, &format!("DROP ROLE {role}"));
    assert!(
        denied
            .stderr
            .contains("may not create the scratch database")
            && denied.stderr.contains("CREATEDB"),
        "{}",
        denied.stderr
    );
    assert!(project.revision_files().is_empty(), "nothing written");
}
