//! User flows: the FastAPI TodoApp journey, every command, and the errors a
//! user meets.

use crate::binary;
use retort_test_support::{RunResult, TempProject};

const TODO_MODELS: &str = "\
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email VARCHAR(255) NOT NULL UNIQUE,
    hashed_password TEXT NOT NULL,
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE todos (
    id INTEGER PRIMARY KEY,
    title VARCHAR(200) NOT NULL,
    complete BOOLEAN NOT NULL DEFAULT FALSE,
    owner_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE
);

CREATE INDEX ix_todos_owner_id ON todos (owner_id);
";

/// The revision id that `autogen`/`revision` printed.
fn generated_id(run: &RunResult) -> String {
    crate::generated_id(&run.stdout)
}

/// The revision file of `id`.
fn revision_file(project: &TempProject, id: &str) -> std::path::PathBuf {
    project
        .revision_files()
        .into_iter()
        .find(|p| p.to_string_lossy().contains(id))
        .unwrap_or_else(|| panic!("no revision file for {id}"))
}

/// Writes hand-written SQL into revision `id`'s up and down sections.
fn write_sections(project: &TempProject, id: &str, up: &str, down: &str) {
    let file = revision_file(project, id);
    let text = std::fs::read_to_string(&file).expect("read revision");
    let text = text
        .replace("-- retort:up\n", &format!("-- retort:up\n{up}"))
        .replace("-- retort:down\n", &format!("-- retort:down\n{down}"));
    std::fs::write(&file, text).expect("write revision");
}

fn columns(project: &TempProject, table: &str) -> Vec<String> {
    project
        .sqlite_rows(&format!(
            "SELECT name FROM pragma_table_info('{table}') ORDER BY cid"
        ))
        .into_iter()
        .map(|r| r[0].clone())
        .collect()
}

#[test]
fn todoapp_flow_autogen_upgrade_hand_written_and_downgrade() {
    let project = TempProject::sqlite(binary(), TODO_MODELS);

    let first = project
        .retort(&["autogen", "-m", "create users and todos"])
        .success("first autogen");
    assert!(
        first.stdout.contains("create_table users"),
        "{}",
        first.stdout
    );
    let rev1 = generated_id(&first);
    project.retort(&["upgrade", "head"]).success("upgrade head");
    project
        .retort(&["check"])
        .success("check after first upgrade");
    project.sqlite_exec(
        "INSERT INTO users (id, email, hashed_password) VALUES (1, 'ann@example.com', 'x');
         INSERT INTO todos (id, title, owner_id) VALUES (1, 'write docs', 1), (2, 'ship', 1);",
    );

    // "add age column"
    project.write(
        "schema.sql",
        &TODO_MODELS.replace(
            "    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP\n",
            "    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,\n    age INTEGER\n",
        ),
    );
    let drift = project
        .retort(&["check"])
        .expect_code(1, "check sees the new column");
    assert!(
        drift.stdout.contains("add_column users.age"),
        "{}",
        drift.stdout
    );
    let second = project
        .retort(&["autogen", "-m", "add age column"])
        .success("autogen add age column");
    let rev2 = generated_id(&second);
    let file2 = revision_file(&project, &rev2);
    assert!(file2.to_string_lossy().ends_with("_add_age_column.sql"));
    let text2 = std::fs::read_to_string(&file2).expect("read revision");
    assert!(
        text2.contains(&format!("-- retort:parents {rev1}")),
        "{text2}"
    );
    assert!(
        text2.contains("-- retort:message add age column"),
        "{text2}"
    );

    // autogen refuses while the database is behind head
    let refused = project
        .retort(&["autogen", "-m", "too early"])
        .expect_code(2, "autogen while not at head");
    assert!(refused.stderr.contains("not at head"), "{}", refused.stderr);

    // a hand-written revision
    let third = project
        .retort(&["revision", "-m", "backfill age"])
        .success("revision");
    let rev3 = generated_id(&third);
    write_sections(
        &project,
        &rev3,
        "UPDATE users SET age = 42 WHERE age IS NULL;\n",
        "UPDATE users SET age = NULL;\n",
    );

    project.retort(&["upgrade", "+1"]).success("upgrade +1");
    assert!(columns(&project, "users").contains(&"age".to_string()));
    let current = project.retort(&["current"]).success("current");
    assert!(current.stdout.contains(&rev2), "{}", current.stdout);
    assert!(!current.stdout.contains("(head)"), "{}", current.stdout);

    project.retort(&["upgrade"]).success("upgrade to head");
    assert_eq!(
        project.sqlite_rows("SELECT age FROM users"),
        vec![vec!["42".to_string()]]
    );
    let current = project.retort(&["current"]).success("current");
    assert!(
        current.stdout.contains(&format!("{rev3} (head)")),
        "{}",
        current.stdout
    );
    project.retort(&["check"]).success("check at head");

    project
        .retort(&["downgrade", "-1", "--accept-data-loss"])
        .success("downgrade -1");
    assert_eq!(
        project.sqlite_rows("SELECT age FROM users"),
        vec![vec!["NULL".to_string()]]
    );
    project
        .retort(&["downgrade", "-1", "--accept-data-loss"])
        .success("downgrade -1 again");
    assert!(!columns(&project, "users").contains(&"age".to_string()));
    assert_eq!(
        project.sqlite_rows("SELECT count(*) FROM todos"),
        vec![vec!["2".to_string()]]
    );

    project
        .retort(&["downgrade", "base", "--accept-data-loss"])
        .success("downgrade base");
    assert!(
        project
            .sqlite_rows("SELECT name FROM sqlite_master WHERE name IN ('users', 'todos')")
            .is_empty()
    );
    let current = project.retort(&["current"]).success("current at base");
    assert!(current.stdout.contains("(base)"), "{}", current.stdout);

    let history = project.retort(&["history"]).success("history");
    let lines: Vec<&str> = history.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", history.stdout);
    assert!(lines[0].contains(&format!("{rev2} -> {rev3} (head), backfill age")));
    assert!(lines[2].starts_with(&format!("<base> -> {rev1},")));
}

#[test]
fn check_and_diff_write_nothing() {
    let project = TempProject::sqlite(binary(), TODO_MODELS);
    project
        .retort(&["check"])
        .expect_code(1, "drift on an empty database");
    project.retort(&["diff"]).success("diff");
    project
        .retort(&["diff", "--format", "sql"])
        .success("diff sql");
    assert!(
        !project.db_path().exists(),
        "check/diff created the database file"
    );
    assert!(project.revision_files().is_empty());
}

#[test]
fn diff_json_is_deterministic_and_carries_hazards() {
    let project = TempProject::sqlite(binary(), "CREATE TABLE keep (id INTEGER PRIMARY KEY);\n");
    project.sqlite_exec(
        "CREATE TABLE keep (id INTEGER PRIMARY KEY, old TEXT);
         CREATE TABLE zeta (id INTEGER PRIMARY KEY);
         CREATE TABLE alpha (id INTEGER PRIMARY KEY);",
    );
    let first = project
        .retort(&["diff", "--format", "json"])
        .success("diff json")
        .stdout;
    let second = project
        .retort(&["diff", "--format", "json"])
        .success("diff json")
        .stdout;
    assert_eq!(first, second);
    let json: serde_json::Value = serde_json::from_str(&first).expect("JSON");
    let ops = json["ops"].as_array().expect("ops array");
    let names: Vec<String> = ops
        .iter()
        .map(|op| {
            format!(
                "{} {}",
                op["op"].as_str().unwrap_or(""),
                op["table"]
                    .as_str()
                    .or_else(|| op["table"]["name"].as_str())
                    .unwrap_or("")
            )
        })
        .collect();
    assert!(names.contains(&"drop_column keep".to_string()), "{names:?}");
    for op in ops {
        let codes: Vec<&str> = op["hazards"]
            .as_array()
            .expect("hazards array")
            .iter()
            .filter_map(|h| h["code"].as_str())
            .collect();
        assert!(codes.contains(&"data_loss"), "{op}");
    }
}

#[test]
fn failing_revision_is_rolled_back_and_named() {
    let project = TempProject::sqlite(binary(), TODO_MODELS);
    let first = project
        .retort(&["autogen", "-m", "init"])
        .success("autogen");
    let rev1 = generated_id(&first);
    let bad = project
        .retort(&["revision", "-m", "broken"])
        .success("revision");
    let rev2 = generated_id(&bad);
    write_sections(
        &project,
        &rev2,
        "CREATE TABLE scratch (id INTEGER);\nINSERT INTO no_such_table VALUES (1);\n",
        "",
    );
    let failed = project
        .retort(&["upgrade"])
        .expect_code(2, "failing upgrade");
    assert!(failed.stderr.contains(&rev2), "{}", failed.stderr);
    assert!(failed.stderr.contains("statement 2"), "{}", failed.stderr);
    assert!(failed.stderr.contains("no_such_table"), "{}", failed.stderr);
    // The first revision stays applied; the failed one left nothing behind.
    let current = project.retort(&["current"]).success("current");
    assert!(current.stdout.contains(&rev1), "{}", current.stdout);
    assert!(
        project
            .sqlite_rows("SELECT name FROM sqlite_master WHERE name = 'scratch'")
            .is_empty(),
        "the failed revision's first statement was not rolled back"
    );
}

#[test]
fn upgrade_sql_prints_without_touching_the_database() {
    let project = TempProject::sqlite(binary(), TODO_MODELS);
    project
        .retort(&["autogen", "-m", "init"])
        .success("autogen");
    let sql = project
        .retort(&["upgrade", "--sql"])
        .success("upgrade --sql")
        .stdout;
    assert!(sql.contains("CREATE TABLE"), "{sql}");
    assert!(sql.contains("retort_version"), "{sql}");
    assert!(!project.db_path().exists());
    let down = project
        .retort(&["downgrade", "base", "--sql"])
        .success("downgrade --sql")
        .stdout;
    assert!(down.contains("DROP TABLE"), "{down}");
}

#[test]
fn revision_prefixes_stamp_heads_show_and_merge() {
    let project = TempProject::sqlite(binary(), TODO_MODELS);
    let rev1 = generated_id(
        &project
            .retort(&["revision", "-m", "one"])
            .success("rev one"),
    );
    let rev2 = generated_id(
        &project
            .retort(&["revision", "-m", "two"])
            .success("rev two"),
    );
    // Branch: a second child of rev1, written by hand.
    let branch = "b".repeat(12);
    project.write(
        &format!("migrations/versions/{branch}_branch.sql"),
        &format!(
            "-- retort:revision {branch}\n-- retort:parents {rev1}\n-- retort:message branch\n-- retort:created 2026-01-01T00:00:00Z\n\n-- retort:up\n\n-- retort:down\n"
        ),
    );
    let heads = project.retort(&["heads"]).success("heads").stdout;
    assert_eq!(heads.lines().count(), 2, "{heads}");
    let refused = project
        .retort(&["upgrade", "head"])
        .expect_code(2, "head with two heads");
    assert!(refused.stderr.contains("merge"), "{}", refused.stderr);

    let shown = project
        .retort(&["show", &rev2[..6]])
        .success("show by prefix")
        .stdout;
    assert!(shown.contains(&format!("Revision: {rev2}")), "{shown}");
    let unknown = project
        .retort(&["show", "ffffffffffff0"])
        .expect_code(2, "unknown");
    assert!(
        unknown.stderr.contains("ffffffffffff0"),
        "{}",
        unknown.stderr
    );

    let merged = generated_id(
        &project
            .retort(&["merge", "-m", "merge heads"])
            .success("merge"),
    );
    let heads = project.retort(&["heads"]).success("heads").stdout;
    assert_eq!(heads.trim().lines().collect::<Vec<_>>().len(), 1, "{heads}");
    assert!(heads.contains(&merged), "{heads}");

    project.retort(&["stamp", &rev2]).success("stamp");
    let current = project.retort(&["current"]).success("current").stdout;
    assert!(current.contains(&rev2), "{current}");
    project
        .retort(&["upgrade", "heads"])
        .success("upgrade heads");
    let current = project.retort(&["current"]).success("current").stdout;
    assert!(current.contains(&format!("{merged} (head)")), "{current}");
    project.retort(&["stamp", "base"]).success("stamp base");
    let current = project.retort(&["current"]).success("current").stdout;
    assert!(current.contains("(base)"), "{current}");
}

#[test]
fn autogen_reports_no_changes_and_writes_nothing_when_in_sync() {
    let project = TempProject::sqlite(binary(), TODO_MODELS);
    project.autogen_and_upgrade("init");
    let run = project
        .retort(&["autogen", "-m", "nothing"])
        .success("autogen in sync");
    assert!(run.stdout.contains("No changes detected"), "{}", run.stdout);
    assert_eq!(project.revision_files().len(), 1);
    project
        .retort(&["autogen", "-m", "empty on purpose", "--allow-empty"])
        .success("allow empty");
    assert_eq!(project.revision_files().len(), 2);
}

#[test]
fn malformed_models_name_file_line_and_column_and_write_nothing() {
    let project = TempProject::sqlite(
        binary(),
        "CREATE TABLE ok (id INTEGER PRIMARY KEY);\n\nCREATE TABLE broken (id INTEGER PRIMARY KEY,, name TEXT);\n",
    );
    let run = project
        .retort(&["autogen", "-m", "x"])
        .expect_code(2, "bad models");
    assert!(run.stderr.contains("schema.sql:3:"), "{}", run.stderr);
    assert!(project.revision_files().is_empty());
    assert!(!project.db_path().exists());
}

#[test]
fn missing_config_unknown_revision_and_unreachable_database_exit_2() {
    let empty = TempProject::empty(binary());
    let run = empty.retort(&["check"]).expect_code(2, "no config");
    assert!(
        run.stderr.contains("retort.toml") || run.stderr.contains("retort init"),
        "{}",
        run.stderr
    );
    let run = empty
        .retort(&["-c", "nope.toml", "history"])
        .expect_code(2, "missing explicit config");
    assert!(run.stderr.contains("nope.toml"), "{}", run.stderr);

    let project = TempProject::sqlite(binary(), TODO_MODELS);
    let run = project
        .retort(&["upgrade", "abc123"])
        .expect_code(2, "unknown revision");
    assert!(run.stderr.contains("abc123"), "{}", run.stderr);

    let run = project.retort(&["-d", "postgres://app:hunter2@127.0.0.1:1/app", "check"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        !run.stdout.contains("hunter2") && !run.stderr.contains("hunter2"),
        "{run:?}"
    );
    let run = project.retort_with_env(
        &["current"],
        &[("DATABASE_URL", "sqlite:///nonexistent-dir/sub/x.db?mode=rw")],
    );
    assert_eq!(run.code, 2, "{run:?}");
}

#[test]
fn database_url_precedence_flag_over_env_over_file() {
    let project = TempProject::sqlite(binary(), TODO_MODELS);
    project
        .retort(&["autogen", "-m", "init"])
        .success("autogen");
    project
        .retort_with_env(&["upgrade"], &[("DATABASE_URL", "sqlite://from_env.db")])
        .success("upgrade via env");
    assert!(project.path().join("from_env.db").exists());
    assert!(!project.db_path().exists());
    project
        .retort_with_env(
            &["-d", "sqlite://from_flag.db", "upgrade"],
            &[("DATABASE_URL", "sqlite://from_env.db")],
        )
        .success("upgrade via flag");
    assert!(project.path().join("from_flag.db").exists());
}

#[test]
fn config_interpolates_environment_variables() {
    let project = TempProject::sqlite(binary(), TODO_MODELS);
    project.write(
        "retort.toml",
        "[database]\nurl = \"sqlite://${APP_DB:-default}.db\"\n[models]\npaths = [\"schema.sql\"]\n",
    );
    project
        .retort(&["autogen", "-m", "init"])
        .success("autogen");
    project
        .retort_with_env(&["upgrade"], &[("APP_DB", "interpolated")])
        .success("upgrade");
    assert!(project.path().join("interpolated.db").exists());
    project.retort(&["upgrade"]).success("upgrade with default");
    assert!(project.path().join("default.db").exists());
}

#[test]
fn init_creates_a_working_project_and_refuses_to_overwrite() {
    let project = TempProject::empty(binary());
    project.retort(&["init"]).success("init");
    assert!(project.path().join("retort.toml").is_file());
    assert!(project.path().join("schema.sql").is_file());
    assert!(project.path().join("migrations/versions").is_dir());
    let again = project.retort(&["init"]).expect_code(2, "init twice");
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
    project.autogen_and_upgrade("init");
    project.retort(&["check"]).success("check");
}

#[test]
fn concurrent_upgrades_apply_each_revision_once() {
    let project = TempProject::sqlite(binary(), TODO_MODELS);
    project
        .retort(&["autogen", "-m", "init"])
        .success("autogen");
    let log = generated_id(
        &project
            .retort(&["revision", "-m", "log"])
            .success("revision"),
    );
    write_sections(
        &project,
        &log,
        "CREATE TABLE IF NOT EXISTS applied (n INTEGER);\nINSERT INTO applied VALUES (1);\n",
        "DROP TABLE applied;\n",
    );
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let binary = binary();
            let dir = project.path().to_path_buf();
            std::thread::spawn(move || {
                std::process::Command::new(binary)
                    .arg("upgrade")
                    .current_dir(dir)
                    .env_remove("DATABASE_URL")
                    .output()
                    .expect("run retort")
            })
        })
        .collect();
    for handle in handles {
        let output = handle.join().expect("thread");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    assert_eq!(
        project.sqlite_rows("SELECT count(*) FROM applied"),
        vec![vec!["1".to_string()]]
    );
}

#[test]
fn ambiguous_prefix_lists_the_candidates() {
    let project = TempProject::sqlite(binary(), TODO_MODELS);
    for id in ["abc000000001", "abc000000002"] {
        project.write(
            &format!("migrations/versions/{id}_x.sql"),
            &format!(
                "-- retort:revision {id}\n-- retort:parents\n-- retort:message x\n-- retort:created 2026-01-01T00:00:00Z\n\n-- retort:up\n\n-- retort:down\n"
            ),
        );
    }
    for args in [&["show", "abc"][..], &["upgrade", "abc"][..]] {
        let run = project.retort(args).expect_code(2, "ambiguous prefix");
        assert!(run.stderr.contains("ambiguous"), "{}", run.stderr);
        assert!(
            run.stderr.contains("abc000000001") && run.stderr.contains("abc000000002"),
            "{}",
            run.stderr
        );
    }
    assert!(
        !project.db_path().exists(),
        "a refused upgrade created the database"
    );
}

#[test]
fn inspect_prints_the_live_schema_as_sql_and_json() {
    let project = TempProject::sqlite(binary(), TODO_MODELS);
    project.autogen_and_upgrade("init");
    let sql = project.retort(&["inspect"]).success("inspect").stdout;
    assert!(sql.contains("CREATE TABLE \"todos\""), "{sql}");
    assert!(sql.contains("CREATE INDEX \"ix_todos_owner_id\""), "{sql}");
    assert!(!sql.contains("retort_version"), "{sql}");
    let json = project
        .retort(&["inspect", "--format", "json"])
        .success("inspect json")
        .stdout;
    let schema: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let tables: Vec<&str> = schema["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(tables, ["todos", "users"]);

    // The printed SQL rebuilds an identical schema.
    let copy = TempProject::sqlite(binary(), TODO_MODELS);
    copy.sqlite_exec(&sql);
    copy.retort(&["diff", "--format", "json"])
        .success("diff")
        .stdout
        .contains("\"ops\": []")
        .then_some(())
        .expect("inspect --format sql round-trips");
}

#[test]
fn history_verbose_shows_parents_dates_and_files() {
    let project = TempProject::sqlite(binary(), TODO_MODELS);
    let first = generated_id(&project.retort(&["revision", "-m", "one"]).success("one"));
    let second = generated_id(&project.retort(&["revision", "-m", "two"]).success("two"));
    let verbose = project
        .retort(&["history", "--verbose"])
        .success("history --verbose")
        .stdout;
    assert!(
        verbose.contains(&format!("Revision: {second} (head)")),
        "{verbose}"
    );
    assert!(verbose.contains(&format!("Parents: {first}")), "{verbose}");
    assert!(verbose.contains("Parents: <base>"), "{verbose}");
    assert!(verbose.contains("_two.sql"), "{verbose}");
    assert!(verbose.contains("Created: 20"), "{verbose}");
}

#[test]
fn models_flag_and_config_flag_override_the_defaults() {
    let project = TempProject::sqlite(binary(), TODO_MODELS);
    project.write(
        "other.sql",
        "CREATE TABLE other (id INTEGER PRIMARY KEY);\n",
    );
    let diff = project
        .retort(&["--models", "other.sql", "diff"])
        .success("diff with --models")
        .stdout;
    assert!(diff.contains("create_table other"), "{diff}");
    assert!(!diff.contains("create_table users"), "{diff}");

    // A configuration elsewhere: its relative paths are relative to it.
    project.write(
        "config/retort.toml",
        "[database]\nurl = \"sqlite://nested.db\"\n[models]\npaths = [\"../other.sql\"]\n[migrations]\ndir = \"../nested-migrations\"\n",
    );
    project.mkdir("nested-migrations/versions");
    project
        .retort(&["-c", "config/retort.toml", "autogen", "-m", "other"])
        .success("autogen with -c");
    project
        .retort(&["-c", "config/retort.toml", "upgrade"])
        .success("upgrade with -c");
    assert!(project.path().join("config/nested.db").exists());
    assert_eq!(
        std::fs::read_dir(project.path().join("nested-migrations/versions"))
            .expect("versions")
            .count(),
        1
    );
}
