//! The retort binary against a real MariaDB/MySQL server, where DDL is not
//! transactional: the TodoApp flow, and a revision that fails half way
//! (`RETORT_TEST_MYSQL_URL`; skipped with a notice where unset, a failure
//! where `RETORT_TEST_REQUIRE_SERVERS=1`).

use crate::binary;
use retort_test_support::{Server, TempProject, TestDatabase, db_rows};

const TODO_MODELS: &str = "\
CREATE TABLE users (
    id INT AUTO_INCREMENT PRIMARY KEY,
    email VARCHAR(255) NOT NULL UNIQUE,
    hashed_password TEXT NOT NULL,
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE todos (
    id INT AUTO_INCREMENT PRIMARY KEY,
    title VARCHAR(200) NOT NULL,
    owner_id INT NOT NULL,
    FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE CASCADE
);

CREATE INDEX ix_todos_owner_id ON todos (owner_id);
";

fn count(url: &str, query: &str) -> String {
    db_rows(url, query)
        .first()
        .and_then(|row| row.first())
        .cloned()
        .unwrap_or_default()
}

#[test]
fn todoapp_flow_on_mysql() {
    let Some(db) = TestDatabase::new(Server::Mysql) else {
        return;
    };
    let project = TempProject::with_url(binary(), TODO_MODELS, db.url());
    project
        .retort(&["autogen", "-m", "create users and todos"])
        .success("autogen");
    project.retort(&["upgrade"]).success("upgrade");
    project.retort(&["check"]).success("check after upgrade");
    retort_test_support::db_exec(
        db.url(),
        "INSERT INTO users (email, hashed_password) VALUES ('ann@example.com', 'x');
         INSERT INTO todos (title, owner_id) VALUES ('write', 1), ('ship', 1);",
    );
    project.write(
        "schema.sql",
        &TODO_MODELS.replace(
            "    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP\n",
            "    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,\n    age INT\n",
        ),
    );
    project.retort(&["check"]).expect_code(1, "drift");
    project
        .retort(&["autogen", "-m", "add age column"])
        .success("autogen age");
    project.retort(&["upgrade", "+1"]).success("upgrade +1");
    project.retort(&["check"]).success("check at head");
    project
        .retort(&["downgrade", "-1", "--accept-data-loss"])
        .success("downgrade -1");
    assert_eq!(
        count(db.url(), "SELECT CAST(count(*) AS CHAR) FROM todos"),
        "2"
    );
    project
        .retort(&["downgrade", "base", "--accept-data-loss"])
        .success("downgrade base");
    assert_eq!(
        count(
            db.url(),
            "SELECT CAST(count(*) AS CHAR) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name IN ('users', 'todos')"
        ),
        "0"
    );
}

#[test]
fn a_revision_failing_half_way_reports_what_was_applied_and_resumes_once_fixed() {
    let Some(db) = TestDatabase::new(Server::Mysql) else {
        return;
    };
    let project = TempProject::with_url(binary(), TODO_MODELS, db.url());
    project
        .retort(&["revision", "-m", "three tables"])
        .success("revision");
    let file = project.revision_files().remove(0);
    let text = std::fs::read_to_string(&file).expect("read");
    let broken = text.replace(
        "-- retort:up\n",
        "-- retort:up\nCREATE TABLE s1 (id INT);\nCREATE TABLE s2 (id INT);\nCREATE TABLE s3 (id INT, FOREIGN KEY (id) REFERENCES nowhere (id));\nCREATE TABLE s4 (id INT);\nCREATE TABLE s5 (id INT);\n",
    );
    std::fs::write(&file, &broken).expect("write");

    let failed = project
        .retort(&["upgrade"])
        .expect_code(2, "failing upgrade");
    assert!(
        failed.stderr.contains("statement 3 of 5"),
        "{}",
        failed.stderr
    );
    assert!(
        failed.stderr.contains("statements 1-2 were applied"),
        "{}",
        failed.stderr
    );
    assert_eq!(
        count(
            db.url(),
            "SELECT CAST(count(*) AS CHAR) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name IN ('s1', 's2')"
        ),
        "2",
        "statements 1-2 stay applied: MySQL commits DDL"
    );
    let current = project.retort(&["current"]).success("current").stdout;
    assert!(current.contains("(base)"), "{current}");
    assert!(current.contains("partly applied"), "{current}");

    // Fix statement 3 only; the run resumes there.
    std::fs::write(
        &file,
        broken.replace(", FOREIGN KEY (id) REFERENCES nowhere (id)", ""),
    )
    .expect("fix");
    let resumed = project
        .retort(&["upgrade"])
        .success("resumed upgrade")
        .stdout;
    assert!(resumed.contains("resuming"), "{resumed}");
    assert_eq!(
        count(
            db.url(),
            "SELECT CAST(count(*) AS CHAR) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name LIKE 's_'"
        ),
        "5"
    );
    let current = project.retort(&["current"]).success("current").stdout;
    assert!(current.contains("(head)"), "{current}");
    assert!(!current.contains("partly applied"), "{current}");
}

#[test]
fn init_project_for_mysql_is_clean_after_its_first_upgrade() {
    crate::assert_init_project_is_clean(Server::Mysql, "mysql");
}

#[test]
fn a_mysql_error_shows_its_number_sqlstate_and_message() {
    let Some(db) = TestDatabase::new(Server::Mysql) else {
        return;
    };
    let project = TempProject::with_url(
        binary(),
        "CREATE TABLE t (id INTEGER PRIMARY KEY);\n",
        db.url(),
    );
    project.autogen_and_upgrade("create t");
    let id = crate::generated_id(
        &project
            .retort(&["revision", "-m", "broken"])
            .success("revision")
            .stdout,
    );
    let file = project
        .revision_files()
        .into_iter()
        .find(|f| {
            f.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(&id))
        })
        .expect("the new revision");
    let text = std::fs::read_to_string(&file).expect("read");
    std::fs::write(
        &file,
        text.replace(
            "-- retort:up\n",
            "-- retort:up\nALTER TABLE t ADD COLUMN id INTEGER;\n",
        ),
    )
    .expect("write");
    let failed = project
        .retort(&["upgrade"])
        .expect_code(2, "duplicate column")
        .stderr;
    assert!(
        failed.contains("caused by: MySQL error 1060 (SQLSTATE 42S21): Duplicate column name 'id'"),
        "{failed}"
    );
    assert!(!failed.contains("error returned from database"), "{failed}");
}

/// A version table whose name leaves no room for `_progress` within
/// MySQL's 64 characters: the runner cuts the progress table's name, and
/// introspection leaves out that table, not the name it would have had.
#[test]
fn a_long_version_table_name_keeps_its_progress_table_out_of_the_diff() {
    let Some(db) = TestDatabase::new(Server::Mysql) else {
        return;
    };
    let version_table = "v".repeat(60);
    let project =
        TempProject::with_url(binary(), "CREATE TABLE t (id INT PRIMARY KEY);\n", db.url());
    let config = project.read("retort.toml").replace(
        "[database]\n",
        &format!("[database]\nversion_table = \"{version_table}\"\n"),
    );
    project.write("retort.toml", &config);
    project.autogen_and_upgrade("create t");
    let progress = format!("{}_progress", &version_table[..55]);
    assert_eq!(
        count(
            db.url(),
            &format!(
                "SELECT CAST(count(*) AS CHAR) FROM information_schema.tables \
                 WHERE table_schema = DATABASE() AND table_name = '{progress}'"
            )
        ),
        "1",
        "the runner keeps its progress table under the cut name"
    );
    project
        .retort(&["check"])
        .success("check after upgrade: the progress table is not drift");
}
