//! Data-aware hazards, `check --deny`, `lint`, `-- retort:allow` and the
//! downgrade guard, through the binary on SQLite, PostgreSQL and MySQL.

use crate::binary;
use retort_schema::Dialect;
use retort_test_support::{Server, TempProject, TestDatabase, db_exec};

const V1: &str = "\
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email VARCHAR(100) NOT NULL,
    name VARCHAR(100)
);

CREATE TABLE empty_t (
    id INTEGER PRIMARY KEY,
    a VARCHAR(10)
);
";

/// v1 without users.name, and empty_t gains a NOT NULL column without a
/// default (harmless here, where the table is empty; not where it has rows).
const V2: &str = "\
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email VARCHAR(100) NOT NULL
);

CREATE TABLE empty_t (
    id INTEGER PRIMARY KEY,
    a VARCHAR(10),
    b INTEGER NOT NULL
);
";

/// Adds `line` above the first line of the revision starting with `before`.
fn insert_above(path: &std::path::Path, before: &str, line: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    let at = text
        .find(before)
        .unwrap_or_else(|| panic!("no {before} in {text}"));
    let edited = format!("{}{line}\n{}", &text[..at], &text[at..]);
    std::fs::write(path, edited).unwrap();
}

fn flow(project: &TempProject, url: &str, dialect: Dialect) {
    project
        .retort(&["autogen", "-m", "v1"])
        .success("autogen v1");
    project.retort(&["upgrade"]).success("upgrade v1");
    db_exec(
        url,
        "INSERT INTO users (id, email, name) VALUES (1, 'a@x', 'Ann'), (2, 'b@x', NULL), (3, 'c@x', 'Cy')",
    );
    project.write("schema.sql", V2);

    // Data-aware text and JSON.
    let text = project.retort(&["diff"]).success("diff").stdout;
    assert!(
        text.contains("drops column users.name, holding 2 non-null values"),
        "{dialect}: {text}"
    );
    assert!(
        text.contains(
            "fails_on_existing_rows: adds NOT NULL column empty_t.b without a default; fails if empty_t has rows (add a default or make it nullable first) (empty_t has 0 rows here)"
        ),
        "{dialect}: empty_t is empty here, but the revision fails where it has rows: {text}"
    );
    let json: serde_json::Value = serde_json::from_str(
        &project
            .retort(&["diff", "--format", "json"])
            .success("json")
            .stdout,
    )
    .unwrap();
    let drop = json["ops"]
        .as_array()
        .unwrap()
        .iter()
        .find(|op| op["op"] == "drop_column")
        .expect("a drop_column op");
    assert_eq!(drop["hazards"][0]["rows"], 3, "{dialect}: {drop:#}");
    assert_eq!(drop["hazards"][0]["non_null"], 2, "{dialect}: {drop:#}");

    // check --deny lists the denied hazards of the pending ops.
    let check = project
        .retort(&["check", "--deny", "data_loss"])
        .expect_code(1, "check --deny")
        .stdout;
    assert!(
        check.contains("denied: data_loss: drops column users.name, holding 2 non-null values"),
        "{dialect}: {check}"
    );
    project
        .retort(&["check", "--deny", "nonsense"])
        .expect_code(2, "an unknown hazard is a usage error");

    // The revision file carries the figures; lint denies it until allowed.
    project
        .retort(&["autogen", "-m", "drop name"])
        .success("autogen v2");
    let files = project.revision_files();
    let v2 = files
        .iter()
        .find(|p| p.to_string_lossy().contains("drop_name"))
        .expect("the v2 revision")
        .clone();
    let revision = std::fs::read_to_string(&v2).unwrap();
    assert!(
        revision
            .contains("-- hazard: data_loss: drops column users.name, holding 2 non-null values"),
        "{dialect}: {revision}"
    );
    let lint = project.retort(&["lint"]).expect_code(1, "lint").stdout;
    assert!(
        lint.contains(": denied: data_loss: drops column users.name"),
        "{dialect}: {lint}"
    );
    assert!(
        lint.contains("2 denied hazard(s) in 1 revision(s)"),
        "{dialect}: {lint}"
    );
    project
        .retort(&["lint", "--deny", "long_lock"])
        .success("lint with nothing denied");
    insert_above(
        &v2,
        "-- hazard: data_loss",
        "-- retort:allow data_loss: the name moved to profiles",
    );
    let lint = project
        .retort(&["lint", "--deny", "data_loss"])
        .success("lint once allowed")
        .stdout;
    assert!(lint.contains(": allowed: data_loss"), "{dialect}: {lint}");
    project
        .retort(&["lint"])
        .expect_code(1, "irreversible is still denied");

    // Reverting the revision that dropped users.name destroys nothing (it
    // re-adds the column empty): it goes ahead, with a note.
    project.retort(&["upgrade"]).success("upgrade v2");
    project.retort(&["lint"]).success("nothing pending");
    let id = v2
        .file_name()
        .unwrap()
        .to_string_lossy()
        .split('_')
        .next()
        .unwrap()
        .to_string();
    let reverted = project
        .retort(&["downgrade", "-1"])
        .success("downgrade of a revision whose up dropped a column")
        .stdout;
    assert!(
        reverted.contains(&format!(
            "note: reverting revision {id} (drop name) does not restore what its upgrade removed: the downgrade re-creates column users.name without its values"
        )),
        "{dialect}: {reverted}"
    );

    // A hand-written revision is scanned too.
    project.retort(&["upgrade"]).success("upgrade again");
    let out = project
        .retort(&["revision", "-m", "purge users"])
        .success("revision")
        .stdout;
    let purge = project
        .revision_files()
        .into_iter()
        .find(|p| p.to_string_lossy().contains("purge_users"))
        .unwrap_or_else(|| panic!("{out}"));
    insert_above(&purge, "\n-- retort:down", "DELETE FROM users;");
    let lint = project
        .retort(&["lint"])
        .expect_code(1, "hand-written")
        .stdout;
    assert!(
        lint.contains("denied: data_loss: deletes every row of users (DELETE without WHERE)"),
        "{dialect}: {lint}"
    );
    insert_above(&purge, "DELETE FROM users;", "-- retort:allow data_loss");
    project.retort(&["lint"]).success("hand-written, allowed");
}

#[test]
fn hazards_flow_on_sqlite() {
    let project = TempProject::sqlite(binary(), V1);
    let url = format!("sqlite://{}", project.db_path().display());
    flow(&project, &url, Dialect::Sqlite);
}

#[test]
fn hazards_flow_on_postgres() {
    let Some(db) = TestDatabase::new(Server::Postgres) else {
        return;
    };
    let project = TempProject::with_url(binary(), V1, db.url());
    flow(&project, db.url(), Dialect::Postgres);
}

#[test]
fn hazards_flow_on_mysql() {
    let Some(db) = TestDatabase::new(Server::Mysql) else {
        return;
    };
    let project = TempProject::with_url(binary(), V1, db.url());
    flow(&project, db.url(), Dialect::Mysql);
}

const BIG: &str = "CREATE TABLE big (id INTEGER PRIMARY KEY, v INTEGER);\n";

/// On PostgreSQL a large table is not counted: its `reltuples` estimate is
/// reported, and an index build on it is a long lock; on a small table it
/// is not.
#[test]
fn large_postgres_tables_report_estimates_and_long_locks() {
    let Some(db) = TestDatabase::new(Server::Postgres) else {
        return;
    };
    let models = format!("{BIG}CREATE TABLE small (id INTEGER PRIMARY KEY, v INTEGER);\n");
    let project = TempProject::with_url(binary(), &models, db.url());
    project
        .retort(&["autogen", "-m", "tables"])
        .success("autogen");
    project.retort(&["upgrade"]).success("upgrade");
    db_exec(
        db.url(),
        "INSERT INTO big SELECT g, g FROM generate_series(1, 300000) g; ANALYZE big;
         INSERT INTO small VALUES (1, 1);",
    );
    project.write(
        "schema.sql",
        &format!(
            "{models}CREATE INDEX ix_big_v ON big (v);\nCREATE INDEX ix_small_v ON small (v);\n"
        ),
    );
    let text = project.retort(&["diff"]).success("diff").stdout;
    let big = text.lines().find(|l| l.contains("ix_big_v")).unwrap();
    assert!(
        big.contains("[long_lock: creates index ix_big_v on big without CONCURRENTLY")
            && big.contains("(big has about 300,000 rows)"),
        "{text}"
    );
    let small = text.lines().find(|l| l.contains("ix_small_v")).unwrap();
    assert!(!small.contains("long_lock"), "{text}");
    let json: serde_json::Value = serde_json::from_str(
        &project
            .retort(&["diff", "--format", "json"])
            .success("json")
            .stdout,
    )
    .unwrap();
    let hazard = &json["ops"]
        .as_array()
        .unwrap()
        .iter()
        .find(|op| op["index"]["name"] == "ix_big_v")
        .unwrap()["hazards"][0];
    assert_eq!(hazard["estimated"], true, "{hazard:#}");
    assert_eq!(hazard["rows"], 300000, "{hazard:#}");
    project
        .retort(&["check", "--deny", "long_lock"])
        .expect_code(1, "check --deny long_lock");
}

/// On MySQL a table whose `TABLE_ROWS` estimate is large is reported with
/// the estimate ("about"), not counted.
#[test]
fn large_mysql_tables_report_estimates() {
    let Some(db) = TestDatabase::new(Server::Mysql) else {
        return;
    };
    let project = TempProject::with_url(binary(), BIG, db.url());
    project.retort(&["autogen", "-m", "big"]).success("autogen");
    project.retort(&["upgrade"]).success("upgrade");
    db_exec(
        db.url(),
        "INSERT INTO big WITH RECURSIVE s (n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n < 199) SELECT a.n * 200 + b.n + 1, 0 FROM s a, s b;
         ANALYZE TABLE big;",
    );
    project.write("schema.sql", "CREATE TABLE big (id INTEGER PRIMARY KEY);\n");
    let text = project.retort(&["diff"]).success("diff").stdout;
    assert!(
        text.contains("drops column big.v and its values (big has about "),
        "{text}"
    );
}

const EMPTY_V1: &str = "\
CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,
    code VARCHAR(100),
    tag VARCHAR(50)
);
";

/// A NOT NULL column without a default, a unique index and a narrowing
/// type change on a table that is empty in this database.
const EMPTY_V2: &str = "\
CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,
    code VARCHAR(20),
    tag VARCHAR(50),
    owner INTEGER NOT NULL
);

CREATE UNIQUE INDEX ux_accounts_tag ON accounts (tag);
";

/// The revision written against an empty table carries the hazards it has
/// wherever it runs, with this database's figure as extra information.
fn empty_table_flow(project: &TempProject, dialect: Dialect) {
    project.autogen_and_upgrade("v1");
    project.write("schema.sql", EMPTY_V2);
    project
        .retort(&["autogen", "-m", "tighten accounts"])
        .success("autogen v2");
    let path = project
        .revision_files()
        .into_iter()
        .find(|p| p.to_string_lossy().contains("tighten_accounts"))
        .expect("the v2 revision");
    let revision = std::fs::read_to_string(&path).unwrap();
    let up = revision
        .split("-- retort:down")
        .next()
        .unwrap_or_default()
        .to_string();
    for expected in [
        "-- hazard: fails_on_existing_rows: adds NOT NULL column accounts.owner without a default; fails if accounts has rows (add a default or make it nullable first) (accounts has 0 rows here)",
        "lost or rejected (accounts has 0 rows here)",
    ] {
        assert!(up.contains(expected), "{dialect}: no `{expected}` in {up}");
    }
    assert!(
        up.contains("-- hazard: data_loss: changes accounts.code from "),
        "{dialect}: {up}"
    );
    // MySQL reads a unique index back as a unique constraint.
    let unique = up
        .lines()
        .find(|l| l.contains("ux_accounts_tag on accounts"))
        .unwrap_or_else(|| panic!("{dialect}: no unique hazard in {up}"));
    assert!(
        unique.starts_with("-- hazard: fails_on_existing_rows: ")
            && unique
                .ends_with("fails if existing rows have duplicates (accounts has 0 rows here)"),
        "{dialect}: {unique}"
    );
}

#[test]
fn hazards_of_an_empty_table_stay_in_the_revision_on_sqlite() {
    let project = TempProject::sqlite(binary(), EMPTY_V1);
    empty_table_flow(&project, Dialect::Sqlite);
}

#[test]
fn hazards_of_an_empty_table_stay_in_the_revision_on_postgres() {
    let Some(db) = TestDatabase::new(Server::Postgres) else {
        return;
    };
    let project = TempProject::with_url(binary(), EMPTY_V1, db.url());
    empty_table_flow(&project, Dialect::Postgres);
}

#[test]
fn hazards_of_an_empty_table_stay_in_the_revision_on_mysql() {
    let Some(db) = TestDatabase::new(Server::Mysql) else {
        return;
    };
    let project = TempProject::with_url(binary(), EMPTY_V1, db.url());
    empty_table_flow(&project, Dialect::Mysql);
}

const GUARD_V1: &str = "CREATE TABLE t (id INTEGER PRIMARY KEY);\n";

const GUARD_V2: &str = "\
CREATE TABLE t (id INTEGER PRIMARY KEY, score INTEGER);

CREATE TABLE posts (id INTEGER PRIMARY KEY, title VARCHAR(50));
";

const GUARD_V3: &str = "\
CREATE TABLE t (id INTEGER PRIMARY KEY, score INTEGER, note VARCHAR(50));

CREATE TABLE posts (id INTEGER PRIMARY KEY, title VARCHAR(50));
";

/// The revision id of the file whose name holds `slug`.
fn revision_id(project: &TempProject, slug: &str) -> String {
    let path = project
        .revision_files()
        .into_iter()
        .find(|p| p.to_string_lossy().contains(slug))
        .unwrap_or_else(|| panic!("no revision {slug}"));
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    name.split('_').next().unwrap().to_string()
}

/// `upgrade head` / `downgrade -1` works where the down drops nothing
/// written; it is refused, listing every revision and what it destroys,
/// where it would.
fn downgrade_guard_flow(project: &TempProject, url: &str, dialect: Dialect) {
    project.autogen_and_upgrade("create t");
    project.write("schema.sql", GUARD_V2);
    project.autogen_and_upgrade("score and posts");
    project.write("schema.sql", GUARD_V3);
    project.autogen_and_upgrade("add note");
    let (v2, v3) = (
        revision_id(project, "score_and_posts"),
        revision_id(project, "add_note"),
    );

    // Empty: add_column and create_table revisions revert one by one.
    project
        .retort(&["downgrade", "-1"])
        .success("downgrade of add_column, nothing written");
    project
        .retort(&["downgrade", "-1"])
        .success("downgrade of add_column + create_table, nothing written");
    project.retort(&["upgrade", "head"]).success("upgrade head");

    // Rows but only NULLs in the dropped column: nothing is lost.
    db_exec(url, "INSERT INTO t (id) VALUES (1), (2)");
    project
        .retort(&["downgrade", "-1"])
        .success("downgrade of add_column whose column holds only NULLs");
    project
        .retort(&["upgrade", "head"])
        .success("upgrade head again");

    db_exec(
        url,
        "UPDATE t SET score = 5; UPDATE t SET note = 'x' WHERE id = 1;
         INSERT INTO posts (id, title) VALUES (1, 'hello')",
    );
    let refused = project
        .retort(&["downgrade", "-2"])
        .expect_code(2, "downgrade over data")
        .stderr;
    for expected in [
        "refusing to downgrade: it would destroy data".to_string(),
        format!("revision {v3} (add note), "),
        "drops column t.note, holding 1 non-null value\n".to_string(),
        format!("revision {v2} (score and posts), "),
        "drops column t.score, holding 2 non-null values".to_string(),
        "drops table posts, holding 1 row".to_string(),
        "--accept-data-loss".to_string(),
    ] {
        assert!(
            refused.contains(&expected),
            "{dialect}: no `{expected}` in {refused}"
        );
    }
    let current = project.retort(&["current"]).success("current").stdout;
    assert!(
        current.contains(&v3),
        "{dialect}: the refused downgrade changed nothing: {current}"
    );
    project
        .retort(&["downgrade", "-2", "--accept-data-loss"])
        .success("downgrade accepted");
    let current = project.retort(&["current"]).success("current").stdout;
    assert!(
        !current.contains(&v2) && !current.contains(&v3),
        "{dialect}: {current}"
    );
}

#[test]
fn downgrade_guard_counts_what_it_drops_on_sqlite() {
    let project = TempProject::sqlite(binary(), GUARD_V1);
    let url = format!("sqlite://{}", project.db_path().display());
    downgrade_guard_flow(&project, &url, Dialect::Sqlite);
}

#[test]
fn downgrade_guard_counts_what_it_drops_on_postgres() {
    let Some(db) = TestDatabase::new(Server::Postgres) else {
        return;
    };
    let project = TempProject::with_url(binary(), GUARD_V1, db.url());
    downgrade_guard_flow(&project, db.url(), Dialect::Postgres);
}

#[test]
fn downgrade_guard_counts_what_it_drops_on_mysql() {
    let Some(db) = TestDatabase::new(Server::Mysql) else {
        return;
    };
    let project = TempProject::with_url(binary(), GUARD_V1, db.url());
    downgrade_guard_flow(&project, db.url(), Dialect::Mysql);
}
