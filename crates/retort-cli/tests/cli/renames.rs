//! Rename detection through the binary on SQLite, PostgreSQL and MySQL:
//! unconfirmed candidates in the JSON and the summary; renames confirmed by
//! flag, by `[autogen.renames]` and by model hint keep the rows; a hint
//! naming a missing object is an error with file:line.

use crate::binary;
use retort_schema::Dialect;
use retort_test_support::{Server, TempProject, TestDatabase, db_exec, db_rows};

const V1: &str = "\
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name VARCHAR(100)
);

CREATE TABLE notes (
    id INTEGER PRIMARY KEY,
    body VARCHAR(200)
);
";

/// users.name is now full_name.
const V2: &str = "\
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    full_name VARCHAR(100)
);

CREATE TABLE notes (
    id INTEGER PRIMARY KEY,
    body VARCHAR(200)
);
";

/// notes is now memos.
const V3: &str = "\
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    full_name VARCHAR(100)
);

CREATE TABLE memos (
    id INTEGER PRIMARY KEY,
    body VARCHAR(200)
);
";

/// Both renamed again, by model hints.
const V4: &str = "\
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    display_name VARCHAR(100) -- retort:renamed_from full_name
);

CREATE TABLE jottings ( -- retort:renamed_from memos
    id INTEGER PRIMARY KEY,
    body VARCHAR(200)
);
";

fn rows(url: &str, query: &str) -> Vec<String> {
    db_rows(url, query)
        .into_iter()
        .map(|r| r.join("|"))
        .collect()
}

fn latest_revision(project: &TempProject, slug: &str) -> String {
    let path = project
        .revision_files()
        .into_iter()
        .find(|p| p.to_string_lossy().contains(slug))
        .unwrap_or_else(|| panic!("no revision {slug}"));
    std::fs::read_to_string(path).unwrap()
}

fn flow(project: &TempProject, url: &str, dialect: Dialect) {
    project
        .retort(&["autogen", "-m", "v1"])
        .success("autogen v1");
    project.retort(&["upgrade"]).success("upgrade v1");
    db_exec(
        url,
        "INSERT INTO users (id, name) VALUES (1, 'Ann'), (2, 'Bob'); \
         INSERT INTO notes (id, body) VALUES (1, 'hello')",
    );

    // Unconfirmed: drop + add, and the candidate is listed.
    project.write("schema.sql", V2);
    let json: serde_json::Value = serde_json::from_str(
        &project
            .retort(&["diff", "--format", "json"])
            .success("diff json")
            .stdout,
    )
    .unwrap();
    assert_eq!(
        json["rename_candidates"],
        serde_json::json!([{"kind":"column","table":"users","from":"name","to":"full_name","flag":"--rename users.name=full_name"}]),
        "{dialect}: {json:#}"
    );
    let ops: Vec<&str> = json["ops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|op| op["op"].as_str().unwrap())
        .collect();
    assert!(
        ops.contains(&"drop_column") && ops.contains(&"add_column"),
        "{dialect}: {ops:?}"
    );
    let text = project.retort(&["diff"]).success("diff").stdout;
    assert!(
        text.contains(
            "note: users.name -> users.full_name looks like a rename; it is planned as drop + add (the data is lost) unless confirmed with --rename users.name=full_name"
        ),
        "{dialect}: {text}"
    );
    let check = project.retort(&["check"]).expect_code(1, "drift").stdout;
    assert!(
        check.contains("--rename users.name=full_name"),
        "{dialect}: {check}"
    );

    // Confirmed by flag: one rename op, no hazard, the values survive.
    let json: serde_json::Value = serde_json::from_str(
        &project
            .retort(&[
                "diff",
                "--format",
                "json",
                "--rename",
                "users.name=full_name",
            ])
            .success("diff json with --rename")
            .stdout,
    )
    .unwrap();
    assert_eq!(
        json,
        serde_json::json!({"ops":[{"op":"rename_column","table":"users","from":"name","to":"full_name","hazards":[]}]}),
        "{dialect}"
    );
    project
        .retort(&[
            "autogen",
            "-m",
            "rename name",
            "--rename",
            "users.name=full_name",
        ])
        .success("autogen with --rename");
    let revision = latest_revision(project, "rename_name");
    assert!(revision.contains("RENAME COLUMN"), "{dialect}: {revision}");
    assert!(!revision.contains("DROP COLUMN"), "{dialect}: {revision}");
    project.retort(&["upgrade"]).success("upgrade rename");
    assert_eq!(
        rows(url, "SELECT full_name FROM users ORDER BY id"),
        ["Ann", "Bob"],
        "{dialect}"
    );
    project
        .retort(&["check"])
        .success("in sync after the rename");
    project
        .retort(&["downgrade", "-1"])
        .success("downgrade the rename");
    assert_eq!(
        rows(url, "SELECT name FROM users ORDER BY id"),
        ["Ann", "Bob"],
        "{dialect}"
    );
    project
        .retort(&["upgrade"])
        .success("upgrade the rename again");

    // Confirmed by [autogen.renames]: a table rename.
    let config = project.read("retort.toml");
    project.write(
        "retort.toml",
        &format!("{config}\n[autogen.renames]\n\"notes\" = \"memos\"\n"),
    );
    project.write("schema.sql", V3);
    let out = project
        .retort(&["autogen", "-m", "rename notes"])
        .success("autogen with config")
        .stdout;
    assert!(out.contains("rename_table notes"), "{dialect}: {out}");
    project.retort(&["upgrade"]).success("upgrade table rename");
    assert_eq!(rows(url, "SELECT body FROM memos"), ["hello"], "{dialect}");
    // The config entry is spent now, not an error.
    project
        .retort(&["check"])
        .success("in sync, config entry spent");

    // Confirmed by model hints, a table and a column at once.
    project.write("schema.sql", V4);
    let out = project
        .retort(&["autogen", "-m", "hinted"])
        .success("autogen with hints")
        .stdout;
    assert!(
        out.contains("rename_table memos") && out.contains("rename_column users.full_name"),
        "{dialect}: {out}"
    );
    project.retort(&["upgrade"]).success("upgrade hinted");
    assert_eq!(
        rows(url, "SELECT body FROM jottings"),
        ["hello"],
        "{dialect}"
    );
    assert_eq!(
        rows(url, "SELECT display_name FROM users ORDER BY id"),
        ["Ann", "Bob"],
        "{dialect}"
    );
    project.retort(&["check"]).success("in sync, hints spent");

    // A hint naming nothing the database has is an error with file:line.
    project.write(
        "schema.sql",
        &V4.replace(
            "    body VARCHAR(200)\n",
            "    body VARCHAR(200),\n    extra VARCHAR(10) -- retort:renamed_from nosuch\n",
        ),
    );
    let err = project
        .retort(&["diff"])
        .expect_code(2, "a hint naming a missing column")
        .stderr;
    assert!(
        err.contains("schema.sql:9: `-- retort:renamed_from nosuch` names column jottings.nosuch, which does not exist in the database"),
        "{dialect}: {err}"
    );
}

#[test]
fn renames_flow_on_sqlite() {
    let project = TempProject::sqlite(binary(), V1);
    let url = format!("sqlite://{}", project.db_path().display());
    flow(&project, &url, Dialect::Sqlite);
}

#[test]
fn renames_flow_on_postgres() {
    let Some(db) = TestDatabase::new(Server::Postgres) else {
        return;
    };
    let project = TempProject::with_url(binary(), V1, db.url());
    flow(&project, db.url(), Dialect::Postgres);
}

#[test]
fn renames_flow_on_mysql() {
    let Some(db) = TestDatabase::new(Server::Mysql) else {
        return;
    };
    let project = TempProject::with_url(binary(), V1, db.url());
    flow(&project, db.url(), Dialect::Mysql);
}
