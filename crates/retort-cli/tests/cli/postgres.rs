//! The retort binary against a real PostgreSQL server: the TodoApp flow,
//! concurrent deploys, and a failing revision. Each test gets a database of
//! its own (`RETORT_TEST_PG_URL`; skipped with a notice where unset, a
//! failure where `RETORT_TEST_REQUIRE_SERVERS=1`).

use crate::binary;
use retort_test_support::{Server, TempProject, TestDatabase, db_rows};

const TODO_MODELS: &str = "\
CREATE TABLE users (
    id SERIAL PRIMARY KEY,
    email VARCHAR(255) NOT NULL UNIQUE,
    hashed_password TEXT NOT NULL,
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE todos (
    id SERIAL PRIMARY KEY,
    title VARCHAR(200) NOT NULL,
    owner_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE
);

CREATE INDEX ix_todos_owner_id ON todos (owner_id);
";

#[test]
fn todoapp_flow_on_postgres() {
    let Some(db) = TestDatabase::new(Server::Postgres) else {
        return;
    };
    let project = TempProject::with_url(binary(), TODO_MODELS, db.url());
    project
        .retort(&["autogen", "-m", "create users and todos"])
        .success("autogen");
    project.retort(&["upgrade", "head"]).success("upgrade");
    project.retort(&["check"]).success("check after upgrade");
    retort_test_support::db_exec(
        db.url(),
        "INSERT INTO users (email, hashed_password) VALUES ('ann@example.com', 'x');
         INSERT INTO todos (title, owner_id) VALUES ('write', 1), ('ship', 1);",
    );

    project.write(
        "schema.sql",
        &TODO_MODELS.replace(
            "    created_at TIMESTAMPTZ NOT NULL DEFAULT now()\n",
            "    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),\n    age INTEGER\n",
        ),
    );
    project.retort(&["check"]).expect_code(1, "drift");
    let generated = project
        .retort(&["autogen", "-m", "add age column"])
        .success("autogen age")
        .stdout;
    assert!(generated.contains("add_column users.age"), "{generated}");
    project.retort(&["upgrade", "+1"]).success("upgrade +1");
    project.retort(&["check"]).success("check at head");
    project
        .retort(&["downgrade", "-1", "--accept-data-loss"])
        .success("downgrade -1");
    assert_eq!(
        db_rows(db.url(), "SELECT count(*)::text FROM todos"),
        vec![vec!["2".to_string()]]
    );
    project
        .retort(&["downgrade", "base", "--accept-data-loss"])
        .success("downgrade base");
    assert_eq!(
        db_rows(
            db.url(),
            "SELECT count(*)::text FROM pg_tables WHERE schemaname = current_schema() AND tablename IN ('users', 'todos')"
        ),
        vec![vec!["0".to_string()]]
    );
    let sql = project
        .retort(&["upgrade", "--sql"])
        .success("upgrade --sql")
        .stdout;
    assert!(sql.contains("pg_advisory_lock"), "{sql}");
    assert!(sql.contains("BEGIN;"), "{sql}");
}

#[test]
fn concurrent_deploys_apply_each_revision_once_and_the_others_report_at_head() {
    let Some(db) = TestDatabase::new(Server::Postgres) else {
        return;
    };
    let project = TempProject::with_url(binary(), TODO_MODELS, db.url());
    project
        .retort(&["autogen", "-m", "init"])
        .success("autogen");
    let log = crate::generated_id(
        &project
            .retort(&["revision", "-m", "log"])
            .success("revision")
            .stdout,
    );
    let file = project
        .revision_files()
        .into_iter()
        .find(|p| p.to_string_lossy().contains(&log))
        .expect("revision file");
    let text = std::fs::read_to_string(&file).expect("read");
    std::fs::write(
        &file,
        text.replace(
            "-- retort:up\n",
            "-- retort:up\nCREATE TABLE IF NOT EXISTS applied (n INTEGER);\nINSERT INTO applied VALUES (1);\n",
        ),
    )
    .expect("write");
    let runs: Vec<_> = (0..4)
        .map(|_| {
            let binary = binary();
            let dir = project.path().to_path_buf();
            std::thread::spawn(move || {
                std::process::Command::new(binary)
                    .args(["upgrade", "head"])
                    .current_dir(dir)
                    .env_remove("DATABASE_URL")
                    .output()
                    .expect("run retort")
            })
        })
        .collect();
    let mut already = 0;
    for run in runs {
        let output = run.join().expect("thread");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        if stdout.contains("Already at target") {
            already += 1;
        }
    }
    assert_eq!(already, 3, "three of the four deploys found nothing to do");
    assert_eq!(
        db_rows(db.url(), "SELECT count(*)::text FROM applied"),
        vec![vec!["1".to_string()]]
    );
}

#[test]
fn a_failing_revision_leaves_postgres_untouched() {
    let Some(db) = TestDatabase::new(Server::Postgres) else {
        return;
    };
    let project = TempProject::with_url(binary(), TODO_MODELS, db.url());
    let id = crate::generated_id(
        &project
            .retort(&["revision", "-m", "broken"])
            .success("revision")
            .stdout,
    );
    let file = project.revision_files().remove(0);
    let text = std::fs::read_to_string(&file).expect("read");
    std::fs::write(
        &file,
        text.replace(
            "-- retort:up\n",
            "-- retort:up\nCREATE TABLE scratch (id INTEGER);\nALTER TABLE no_such_table ADD COLUMN x INTEGER;\n",
        ),
    )
    .expect("write");
    let failed = project
        .retort(&["upgrade"])
        .expect_code(2, "failing upgrade");
    assert!(failed.stderr.contains(&id), "{}", failed.stderr);
    assert!(
        failed.stderr.contains("statement 2 of 2"),
        "{}",
        failed.stderr
    );
    assert_eq!(
        db_rows(
            db.url(),
            "SELECT count(*)::text FROM pg_tables WHERE tablename IN ('scratch', 'retort_version')"
        ),
        vec![vec!["0".to_string()]],
        "the failed revision left a table behind"
    );
    let current = project.retort(&["current"]).success("current").stdout;
    assert!(current.contains("(base)"), "{current}");
}

#[test]
fn tables_outside_the_default_schema_are_refused_not_misplaced() {
    let Some(db) = TestDatabase::new(Server::Postgres) else {
        return;
    };
    let project = TempProject::with_url(
        binary(),
        "CREATE TABLE billing.invoices (id SERIAL PRIMARY KEY);\n",
        db.url(),
    );
    let run = project
        .retort(&["autogen", "-m", "invoices"])
        .expect_code(2, "autogen for another schema");
    assert!(run.stderr.contains("billing.invoices"), "{}", run.stderr);
    assert!(project.revision_files().is_empty());
}

#[test]
fn init_project_for_postgres_is_clean_after_its_first_upgrade() {
    crate::assert_init_project_is_clean(Server::Postgres, "postgres");
}

/// A revision `broken` whose up section is `up`; returns its id.
fn write_broken_revision(project: &TempProject, up: &str) -> String {
    let id = crate::generated_id(
        &project
            .retort(&["revision", "-m", "broken"])
            .success("revision")
            .stdout,
    );
    let file = project.revision_files().remove(0);
    let text = std::fs::read_to_string(&file).expect("read");
    std::fs::write(
        &file,
        text.replace("-- retort:up\n", &format!("-- retort:up\n{up}\n")),
    )
    .expect("write");
    id
}

#[test]
fn a_postgres_error_shows_sqlstate_detail_and_position_not_the_servers_source_line() {
    let Some(db) = TestDatabase::new(Server::Postgres) else {
        return;
    };
    let project = TempProject::with_url(binary(), TODO_MODELS, db.url());
    write_broken_revision(
        &project,
        "CREATE TABLE pairs (a INTEGER PRIMARY KEY);\nINSERT INTO pairs VALUES (1);\nINSERT INTO pairs\n    VALUES (1);",
    );
    let failed = project
        .retort(&["upgrade"])
        .expect_code(2, "unique violation")
        .stderr;
    assert!(
        failed.contains(
            "PostgreSQL error 23505: duplicate key value violates unique constraint \"pairs_pkey\""
        ) && failed.contains("detail: Key (a)=(1) already exists.")
            && failed.contains("statement 3 of 3"),
        "{failed}"
    );
    assert!(!failed.contains("at line"), "{failed}");

    // A syntax error on the statement's second line: line, column, caret.
    let project = TempProject::with_url(binary(), TODO_MODELS, db.url());
    write_broken_revision(
        &project,
        "CREATE TABLE t (\n    a INTEGER,\n    b INTEGR NOT NULL\n);",
    );
    let failed = project
        .retort(&["upgrade"])
        .expect_code(2, "unknown type")
        .stderr;
    assert!(
        failed.contains("PostgreSQL error 42704: type \"integr\" does not exist")
            && failed.contains(
                "position: the statement, line 3, column 7:\n          b INTEGR NOT NULL\n            ^"
            ),
        "{failed}"
    );
    assert!(!failed.contains("at line"), "{failed}");

    // A hint.
    let project = TempProject::with_url(binary(), TODO_MODELS, db.url());
    write_broken_revision(&project, "SELECT lower(1);");
    let failed = project
        .retort(&["upgrade"])
        .expect_code(2, "no such function")
        .stderr;
    assert!(
        failed.contains("PostgreSQL error 42883: function lower(integer) does not exist")
            && failed.contains("hint: No function matches the given name and argument types.")
            && failed.contains("position: the statement, line 1, column 8:"),
        "{failed}"
    );
    assert!(!failed.contains("at line"), "{failed}");

    // A connection error: no statement, and no server source line either.
    let unknown = db
        .url()
        .rsplit_once('/')
        .map(|(server, _)| format!("{server}/retort_no_such_db"))
        .expect("url");
    let failed = project
        .retort(&["-d", &unknown, "current"])
        .expect_code(2, "unknown database")
        .stderr;
    assert!(
        failed.contains("PostgreSQL error 3D000: database \"retort_no_such_db\" does not exist"),
        "{failed}"
    );
    assert!(!failed.contains("at line"), "{failed}");
}

#[test]
fn autogen_verify_reports_a_model_postgres_refuses_as_the_users_error() {
    let Some(db) = TestDatabase::new(Server::Postgres) else {
        return;
    };
    let models = "CREATE TABLE t (\n    id INTEGER PRIMARY KEY,\n    a INTEGER CHECK (no_such_fn(a) > 0)\n);\n";
    let project = TempProject::with_url(binary(), models, db.url());
    let failed = project
        .retort(&["autogen", "--verify", "-m", "create t"])
        .expect_code(2, "a check calling an unknown function")
        .stderr;
    assert!(
        failed.starts_with(
            "error: the database refused statement 1 of 1 of the draft's up on a scratch copy of the live schema; the revision was not written:\n    CREATE TABLE \"t\" ("
        ) && failed.contains("fix what postgres names below in the model files and run autogen again")
            && failed.contains("caused by: PostgreSQL error 42883: function no_such_fn(integer) does not exist")
            && failed.contains("hint: No function matches the given name and argument types.")
            && failed.contains("position: the statement, line "),
        "{failed}"
    );
    // The caret sits under the call.
    let caret = failed
        .lines()
        .position(|l| l.trim() == "^")
        .expect("a caret line");
    let lines: Vec<&str> = failed.lines().collect();
    let column = lines[caret].find('^').expect("caret");
    assert!(
        lines[caret - 1][column..].starts_with("no_such_fn"),
        "{failed}"
    );
    for noise in ["retort bug:", "retort verify", "at line"] {
        assert!(!failed.contains(noise), "{noise}: {failed}");
    }
    assert!(
        project.revision_files().is_empty(),
        "no revision is written"
    );
}
