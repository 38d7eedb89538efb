//! `--online` / `[autogen] online`: online-safe PostgreSQL revisions run
//! through the binary on a real server, and the note other dialects print.

use crate::binary;
use retort_test_support::{Server, TempProject, TestDatabase, db_exec, db_rows};

const BEFORE: &str = "\
CREATE TABLE teams (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE players (
    id INTEGER PRIMARY KEY,
    team_id INTEGER,
    nick TEXT,
    score INTEGER
);
";

const AFTER: &str = "\
CREATE TABLE teams (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE players (
    id INTEGER PRIMARY KEY,
    team_id INTEGER CONSTRAINT fk_players_team REFERENCES teams (id),
    nick TEXT NOT NULL,
    score INTEGER CONSTRAINT ck_players_score CHECK (score >= 0)
);

CREATE INDEX ix_players_nick ON players (nick);
";

/// The up section of the revision file autogen's `stdout` names.
fn generated_up(project: &TempProject, stdout: &str) -> String {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("Generated "))
        .unwrap_or_else(|| panic!("no Generated line in: {stdout}"));
    let name = line.rsplit('/').next().unwrap_or(line);
    let file = project
        .revision_files()
        .into_iter()
        .find(|f| f.ends_with(name))
        .unwrap_or_else(|| panic!("no revision file {name}"));
    let text = std::fs::read_to_string(file).unwrap();
    let up = text.split("-- retort:up\n").nth(1).unwrap();
    up.split("-- retort:down").next().unwrap().to_string()
}

#[test]
fn online_revision_on_a_table_with_rows_upgrades_checks_and_downgrades() {
    let Some(db) = TestDatabase::new(Server::Postgres) else {
        return;
    };
    let project = TempProject::with_url(binary(), BEFORE, db.url());
    project.autogen_and_upgrade("init");
    db_exec(
        db.url(),
        "INSERT INTO teams VALUES (1, 'red'), (2, 'blue');
         INSERT INTO players VALUES (1, 1, 'ann', 3), (2, 2, 'bob', 0), (3, NULL, 'cy', NULL);
         INSERT INTO players SELECT i, 1 + i % 2, 'p' || i, i FROM generate_series(10, 10009) AS i;
         ANALYZE players;",
    );
    project.write("schema.sql", AFTER);
    // The plain draft's index build blocks writes to 10,003 rows; the
    // online one does not.
    let plain = project
        .retort(&["diff", "--format", "json"])
        .success("diff");
    assert!(plain.stdout.contains("long_lock"), "{}", plain.stdout);
    let online = project
        .retort(&["diff", "--format", "json", "--online"])
        .success("diff --online");
    assert!(!online.stdout.contains("long_lock"), "{}", online.stdout);

    let run = project
        .retort(&["autogen", "--online", "-m", "constraints online"])
        .success("autogen --online");
    assert!(!run.stdout.contains("long_lock"), "{}", run.stdout);
    let up = generated_up(&project, &run.stdout);
    let index = up
        .find("CREATE INDEX CONCURRENTLY IF NOT EXISTS \"ix_players_nick\"")
        .unwrap_or_else(|| panic!("no concurrent index build:\n{up}"));
    // The last directive before the build switches the transaction off.
    let before = &up[..index];
    let off = before.rfind("-- retort:transaction off\n");
    assert!(off > before.rfind("-- retort:transaction on\n"), "{up}");
    for expected in [
        "ADD CONSTRAINT \"fk_players_team\" FOREIGN KEY (\"team_id\") REFERENCES \"teams\" (\"id\") NOT VALID;",
        "VALIDATE CONSTRAINT \"fk_players_team\";",
        "CHECK (score >= 0) NOT VALID;",
        "VALIDATE CONSTRAINT \"ck_players_score\";",
        "ADD CONSTRAINT \"players_nick_not_null_check\" CHECK (\"nick\" IS NOT NULL) NOT VALID;",
        "ALTER COLUMN \"nick\" SET NOT NULL;",
        "SET LOCAL lock_timeout = '5s';",
    ] {
        assert!(up.contains(expected), "missing {expected}:\n{up}");
    }

    project
        .retort(&["upgrade", "head"])
        .success("upgrade online");
    project
        .retort(&["check"])
        .success("check after the online upgrade");
    let constraints = db_rows(
        db.url(),
        "SELECT conname, convalidated::text FROM pg_constraint \
         WHERE conrelid = 'players'::regclass AND contype IN ('c', 'f') ORDER BY conname",
    );
    assert_eq!(
        constraints,
        [["ck_players_score", "true"], ["fk_players_team", "true"]]
    );
    let valid = db_rows(
        db.url(),
        "SELECT indisvalid::text FROM pg_index WHERE indexrelid = 'ix_players_nick'::regclass",
    );
    assert_eq!(valid, [["true"]]);

    project
        .retort(&["downgrade", "-1"])
        .success("downgrade the online revision");
    project.write("schema.sql", BEFORE);
    let back = project
        .retort(&["diff"])
        .success("diff after the downgrade");
    assert_eq!(back.stdout.trim(), "No changes detected");
    assert_eq!(
        db_rows(db.url(), "SELECT count(*)::text FROM players"),
        [["10003"]]
    );
}

#[test]
fn online_validation_fails_on_violating_rows_and_says_where() {
    let Some(db) = TestDatabase::new(Server::Postgres) else {
        return;
    };
    let project = TempProject::with_url(binary(), BEFORE, db.url());
    project.autogen_and_upgrade("init");
    db_exec(
        db.url(),
        "INSERT INTO teams VALUES (1, 'red');
         INSERT INTO players VALUES (1, 1, 'ann', -5);",
    );
    project.write("schema.sql", AFTER);
    project
        .retort(&["autogen", "--online", "-m", "constraints online"])
        .success("autogen --online");
    let run = project.retort(&["upgrade", "head"]);
    assert_ne!(run.code, 0, "{}", run.stdout);
    assert!(run.stderr.contains("ck_players_score"), "{}", run.stderr);
}

#[test]
fn config_online_and_lock_timeout_apply_and_other_dialects_say_they_ignore_them() {
    let project = TempProject::sqlite(binary(), BEFORE);
    project.autogen_and_upgrade("init");
    project.write("schema.sql", AFTER);
    let run = project
        .retort(&["diff", "--online"])
        .success("diff --online");
    let notes = run.stdout.matches("PostgreSQL-only").count();
    assert_eq!(notes, 1, "{}", run.stdout);
    let sql = project
        .retort(&["diff", "--format", "sql", "--online"])
        .success("diff --format sql --online");
    assert!(sql.stdout.starts_with("-- note: "), "{}", sql.stdout);
    assert!(!sql.stdout.contains("CONCURRENTLY"), "{}", sql.stdout);

    let config = project.read("retort.toml");
    project.write(
        "retort.toml",
        &format!("{config}\n[autogen]\nlock_timeout = \"5 seconds\"\n"),
    );
    let bad = project.retort(&["diff"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(
        bad.stderr.contains("[autogen] lock_timeout"),
        "{}",
        bad.stderr
    );
}

#[test]
fn config_online_writes_the_online_plan_on_postgres() {
    let Some(db) = TestDatabase::new(Server::Postgres) else {
        return;
    };
    let project = TempProject::with_url(binary(), BEFORE, db.url());
    project.autogen_and_upgrade("init");
    project.write("schema.sql", AFTER);
    let config = project.read("retort.toml");
    project.write(
        "retort.toml",
        &format!("{config}\n[autogen]\nonline = true\nlock_timeout = \"750ms\"\n"),
    );
    let sql = project
        .retort(&["diff", "--format", "sql"])
        .success("diff --format sql");
    assert!(
        sql.stdout.contains("CREATE INDEX CONCURRENTLY"),
        "{}",
        sql.stdout
    );
    assert!(
        sql.stdout.contains("SET LOCAL lock_timeout = '750ms';"),
        "{}",
        sql.stdout
    );
}
