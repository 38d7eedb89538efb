//! `retort upgrade` stopped from outside while a statement runs: Ctrl-C
//! (SIGINT) must cancel the statement on the server, roll back, release the
//! lock and exit 130 saying where the database is; `kill -9` must leave a
//! database the next `retort upgrade` resumes correctly and read-only
//! commands can read. Real child processes, real signals, real servers.

use crate::binary;
use retort_test_support::{RunResult, Server, TempProject, TestDatabase, db_exec, db_rows};
use std::process::Child;
use std::time::{Duration, Instant};

/// A project with one hand-written revision whose up section is `up`.
fn project_with_revision(url: &str, up: &str) -> (TempProject, std::path::PathBuf) {
    let project = TempProject::with_url(binary(), "", url);
    project
        .retort(&["revision", "-m", "slow"])
        .success("revision");
    let file = project.revision_files().remove(0);
    let text = std::fs::read_to_string(&file).expect("read revision");
    std::fs::write(
        &file,
        text.replace("-- retort:up\n", &format!("-- retort:up\n{up}\n")),
    )
    .expect("write revision");
    (project, file)
}

/// Polls `query` (one text cell) on `url` until it returns `want`.
fn wait_for(url: &str, query: &str, want: &str, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let got = db_rows(url, query)
            .first()
            .and_then(|row| row.first())
            .cloned()
            .unwrap_or_default();
        if got == want {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("retort ended ({status}) before `{query}` returned {want}");
        }
        assert!(Instant::now() < deadline, "`{query}` never returned {want}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn send(signal: &str, child: &Child) {
    let status = std::process::Command::new("kill")
        .args(["-s", signal, &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -s {signal} failed");
}

/// SIGINT, then the child's result and how long it took to stop.
fn interrupt(child: Child) -> (RunResult, Duration) {
    stop_with("INT", child)
}

/// `signal`, then the child's result and how long it took to stop.
fn stop_with(signal: &str, child: Child) -> (RunResult, Duration) {
    send(signal, &child);
    let sent = Instant::now();
    let result = RunResult::from_child(child);
    (result, sent.elapsed())
}

fn assert_interrupted(result: &RunResult, took: Duration) {
    assert_eq!(
        result.code, 130,
        "exit code\n--- stdout\n{}\n--- stderr\n{}",
        result.stdout, result.stderr
    );
    assert!(
        took < Duration::from_secs(15),
        "stopping took {took:?}: the statement was waited for, not cancelled"
    );
    assert!(
        result.stderr.contains("the lock is released"),
        "{}",
        result.stderr
    );
}

#[test]
fn ctrl_c_on_postgres_cancels_the_statement_rolls_back_and_frees_the_lock() {
    let Some(db) = TestDatabase::new(Server::Postgres) else {
        return;
    };
    let (project, file) = project_with_revision(
        db.url(),
        "CREATE TABLE made_first (id int);\nSELECT pg_sleep(30);",
    );
    let mut child = project.spawn_retort(&["upgrade"]);
    let running = "SELECT count(*)::text FROM pg_stat_activity \
                   WHERE datname = current_database() AND query LIKE 'SELECT pg_sleep(30)%'";
    wait_for(db.url(), running, "1", &mut child);
    let (result, took) = interrupt(child);
    assert_interrupted(&result, took);
    assert!(
        result
            .stderr
            .contains("statement 2 of 2 (line 8) was cancelled on the server"),
        "{}",
        result.stderr
    );
    assert!(
        result.stderr.contains("transaction was rolled back"),
        "{}",
        result.stderr
    );
    assert!(
        result.stderr.contains("the database is at base"),
        "{}",
        result.stderr
    );
    assert_eq!(db_rows(db.url(), running), vec![vec!["0".to_string()]]);
    assert_eq!(
        db_rows(
            db.url(),
            "SELECT count(*)::text FROM pg_locks WHERE locktype = 'advisory' \
                   AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ),
        vec![vec!["0".to_string()]],
        "the advisory lock is released"
    );
    assert_eq!(
        db_rows(db.url(), "SELECT (to_regclass('made_first') IS NULL)::text"),
        vec![vec!["true".to_string()]],
        "statement 1 was rolled back with the revision"
    );
    let current = project.retort(&["current"]).success("current").stdout;
    assert!(current.contains("(base)"), "{current}");

    // The next run neither waits for a lock nor finds anything half done.
    let text = std::fs::read_to_string(&file).expect("read");
    std::fs::write(&file, text.replace("SELECT pg_sleep(30);", "SELECT 1;")).expect("write");
    let started = Instant::now();
    project.retort(&["upgrade"]).success("upgrade after Ctrl-C");
    assert!(started.elapsed() < Duration::from_secs(15));
    let current = project.retort(&["current"]).success("current").stdout;
    assert!(current.contains("(head)"), "{current}");
}

#[test]
fn ctrl_c_on_mariadb_kills_the_query_records_progress_and_frees_the_lock() {
    let Some(db) = TestDatabase::new(Server::Mysql) else {
        return;
    };
    let (project, file) = project_with_revision(
        db.url(),
        "CREATE TABLE made_first (id INT);\nSELECT SLEEP(30);\nCREATE TABLE made_last (id INT);",
    );
    let mut child = project.spawn_retort(&["upgrade"]);
    let running = "SELECT CAST(count(*) AS CHAR) FROM information_schema.processlist \
                   WHERE db = DATABASE() AND info LIKE 'SELECT SLEEP(30)%'";
    wait_for(db.url(), running, "1", &mut child);
    let (result, took) = interrupt(child);
    assert_interrupted(&result, took);
    assert!(
        result.stderr.contains("interrupted during revision"),
        "{}",
        result.stderr
    );
    assert!(
        result
            .stderr
            .contains("statement 2 of 3 (line 8) was cancelled on the server"),
        "{}",
        result.stderr
    );
    assert!(
        result
            .stderr
            .contains("statement 1 stays applied and is recorded"),
        "{}",
        result.stderr
    );
    assert!(
        result.stderr.contains("resume at statement 2"),
        "{}",
        result.stderr
    );
    assert_eq!(db_rows(db.url(), running), vec![vec!["0".to_string()]]);
    let tables = "SELECT CAST(count(*) AS CHAR) FROM information_schema.tables \
                  WHERE table_schema = DATABASE() AND table_name IN ('made_first', 'made_last')";
    assert_eq!(db_rows(db.url(), tables), vec![vec!["1".to_string()]]);
    let current = project.retort(&["current"]).success("current").stdout;
    assert!(current.contains("partly applied"), "{current}");

    // Statement 2 did not run, so it may change before the resume.
    let text = std::fs::read_to_string(&file).expect("read");
    std::fs::write(&file, text.replace("SELECT SLEEP(30);", "SELECT 1;")).expect("write");
    let started = Instant::now();
    let resumed = project
        .retort(&["upgrade"])
        .success("upgrade after Ctrl-C")
        .stdout;
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "the lock was free"
    );
    assert!(resumed.contains("resuming"), "{resumed}");
    assert_eq!(db_rows(db.url(), tables), vec![vec!["2".to_string()]]);
    let current = project.retort(&["current"]).success("current").stdout;
    assert!(current.contains("(head)"), "{current}");
    assert!(!current.contains("partly applied"), "{current}");
}

/// A statement SQLite needs many seconds for.
const SLOW_SQLITE_INSERT: &str = "CREATE TABLE made_first (x INTEGER);\n\
    WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000000) \
    INSERT INTO made_first SELECT x FROM c;";

/// Waits until the child holds SQLite's write lock (its journal exists).
fn wait_for_journal(project: &TempProject, child: &mut Child, run: Duration) {
    let journal = project.path().join("app.db-journal");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !journal.exists() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("retort ended ({status}) before it started writing");
        }
        assert!(Instant::now() < deadline, "no journal appeared");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(run);
}

#[test]
fn ctrl_c_on_sqlite_interrupts_the_statement_and_rolls_back() {
    stop_sqlite_statement_with("INT");
}

#[test]
fn sigterm_on_sqlite_interrupts_the_statement_and_rolls_back() {
    stop_sqlite_statement_with("TERM");
}

fn stop_sqlite_statement_with(signal: &str) {
    let project = TempProject::sqlite(binary(), "");
    project.sqlite_exec("CREATE TABLE keep (id INTEGER)");
    project
        .retort(&["revision", "-m", "slow"])
        .success("revision");
    let file = project.revision_files().remove(0);
    let text = std::fs::read_to_string(&file).expect("read revision");
    std::fs::write(
        &file,
        text.replace(
            "-- retort:up\n",
            &format!("-- retort:up\n{SLOW_SQLITE_INSERT}\n"),
        ),
    )
    .expect("write revision");
    let mut child = project.spawn_retort(&["upgrade"]);
    wait_for_journal(&project, &mut child, Duration::from_millis(300));
    let (result, took) = stop_with(signal, child);
    assert_interrupted(&result, took);
    assert!(
        result.stderr.contains("statement 2 of 2"),
        "{}",
        result.stderr
    );
    assert!(
        result.stderr.contains("transaction was rolled back"),
        "{}",
        result.stderr
    );
    assert!(
        !project.path().join("app.db-journal").exists(),
        "the rollback removed the journal"
    );
    let current = project.retort(&["current"]).success("current").stdout;
    assert!(current.contains("(base)"), "{current}");
    assert_eq!(
        project.sqlite_rows("SELECT count(*) FROM sqlite_master WHERE name = 'made_first'"),
        vec![vec!["0".to_string()]]
    );
}

#[test]
fn after_kill_9_on_sqlite_read_only_commands_still_read() {
    let project = TempProject::sqlite(binary(), "CREATE TABLE keep (id INTEGER);\n");
    project.autogen_and_upgrade("keep");
    let before = project.revision_files();
    project
        .retort(&["revision", "-m", "slow"])
        .success("revision");
    let file = project
        .revision_files()
        .into_iter()
        .find(|f| !before.contains(f))
        .expect("the new revision");
    let text = std::fs::read_to_string(&file).expect("read revision");
    std::fs::write(
        &file,
        text.replace(
            "-- retort:up\n",
            &format!("-- retort:up\n{SLOW_SQLITE_INSERT}\n"),
        ),
    )
    .expect("write revision");
    let mut child = project.spawn_retort(&["upgrade"]);
    // Long enough for the insert to spill pages into the database file,
    // which makes the journal hot.
    wait_for_journal(&project, &mut child, Duration::from_secs(2));
    child.kill().expect("kill -9");
    let _ = child.wait();
    assert!(
        project.path().join("app.db-journal").exists(),
        "kill -9 leaves a hot journal"
    );
    let current = project
        .retort(&["current"])
        .success("current after kill -9")
        .stdout;
    assert!(
        current.contains(" keep"),
        "the first revision only: {current}"
    );
    assert_eq!(
        project.sqlite_rows("SELECT count(*) FROM sqlite_master WHERE name = 'made_first'"),
        vec![vec!["0".to_string()]],
        "the killed revision was rolled back from the journal"
    );
}

/// Rows enough that `ALTER TABLE … ALGORITHM=COPY` takes seconds.
const BIG_ROWS: u32 = 150_000;

fn big_table(url: &str) {
    db_exec(
        url,
        &format!(
            "CREATE TABLE big (id INT AUTO_INCREMENT PRIMARY KEY, pad VARCHAR(100) NOT NULL);
             SET SESSION max_recursive_iterations = {BIG_ROWS};
             INSERT INTO big (pad) WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {BIG_ROWS})
             SELECT REPEAT('x', 100) FROM s;"
        ),
    );
}

const BIG_REVISION: &str = "ALTER TABLE big ADD COLUMN note VARCHAR(20) NULL, ALGORITHM=COPY;\n\
    CREATE INDEX ix_big_note ON big (note);\n\
    ALTER TABLE big ADD COLUMN extra INT NULL, ALGORITHM=COPY;\n\
    ALTER TABLE big DROP COLUMN pad, ALGORITHM=COPY;";

/// `retort upgrade` killed with SIGKILL `after` the statement matching
/// `like` shows in the process list; the next `retort upgrade` completes
/// and leaves the catalog as the revision says.
fn kill_9_during_ddl_then_resume(like: &str, after: Duration) {
    let Some(db) = TestDatabase::new(Server::Mysql) else {
        return;
    };
    big_table(db.url());
    let (project, _) = project_with_revision(db.url(), BIG_REVISION);
    let mut child = project.spawn_retort(&["upgrade"]);
    let running = format!(
        "SELECT CAST(count(*) AS CHAR) FROM information_schema.processlist \
         WHERE db = DATABASE() AND info LIKE '{like}'"
    );
    wait_for(db.url(), &running, "1", &mut child);
    std::thread::sleep(after);
    child.kill().expect("kill -9");
    let _ = child.wait();

    let current = project
        .retort(&["current"])
        .success("current after kill -9")
        .stdout;
    assert!(current.contains("partly applied"), "{current}");
    let resumed = project.retort(&["upgrade"]).success("resume after kill -9");
    let columns = db_rows(
        db.url(),
        "SELECT CAST(GROUP_CONCAT(column_name ORDER BY ordinal_position) AS CHAR) FROM information_schema.columns \
         WHERE table_schema = DATABASE() AND table_name = 'big'",
    );
    assert_eq!(
        columns,
        vec![vec!["id,note,extra".to_string()]],
        "{}",
        resumed.stdout
    );
    let indexes = db_rows(
        db.url(),
        "SELECT CAST(count(*) AS CHAR) FROM information_schema.statistics \
         WHERE table_schema = DATABASE() AND table_name = 'big' AND index_name = 'ix_big_note'",
    );
    assert_eq!(indexes, vec![vec!["1".to_string()]]);
    assert_eq!(
        db_rows(db.url(), "SELECT CAST(count(*) AS CHAR) FROM big"),
        vec![vec![BIG_ROWS.to_string()]]
    );
    let current = project.retort(&["current"]).success("current").stdout;
    assert!(current.contains("(head)"), "{current}");
    assert!(!current.contains("partly applied"), "{current}");
}

#[test]
fn kill_9_as_the_first_alter_starts_on_mariadb_resumes_correctly() {
    kill_9_during_ddl_then_resume("ALTER TABLE big ADD COLUMN note%", Duration::ZERO);
}

#[test]
fn kill_9_in_the_middle_of_the_first_alter_on_mariadb_resumes_correctly() {
    kill_9_during_ddl_then_resume(
        "ALTER TABLE big ADD COLUMN note%",
        Duration::from_millis(700),
    );
}

#[test]
fn kill_9_during_a_later_alter_on_mariadb_resumes_correctly() {
    kill_9_during_ddl_then_resume(
        "ALTER TABLE big ADD COLUMN extra%",
        Duration::from_millis(300),
    );
}

#[test]
fn kill_9_during_a_dropping_alter_on_mariadb_resumes_correctly() {
    // At once: this copy is of narrow rows, and on a quiet machine it ends
    // within a few hundred milliseconds.
    kill_9_during_ddl_then_resume("ALTER TABLE big DROP COLUMN pad%", Duration::ZERO);
}

#[test]
fn kill_9_during_an_in_place_alter_on_mariadb_stops_and_says_what_to_check() {
    let Some(db) = TestDatabase::new(Server::Mysql) else {
        return;
    };
    big_table(db.url());
    let (project, _) = project_with_revision(
        db.url(),
        "ALTER TABLE big MODIFY COLUMN pad VARCHAR(200) NOT NULL, ALGORITHM=COPY;\n\
         CREATE TABLE after_it (id INT);",
    );
    let mut child = project.spawn_retort(&["upgrade"]);
    let running = "SELECT CAST(count(*) AS CHAR) FROM information_schema.processlist \
                   WHERE db = DATABASE() AND info LIKE 'ALTER TABLE big MODIFY%'";
    wait_for(db.url(), running, "1", &mut child);
    child.kill().expect("kill -9");
    let _ = child.wait();

    // Waits for the lock the killed session holds until the server has
    // finished the ALTER, then refuses to guess.
    let stopped = project
        .retort(&["upgrade"])
        .expect_code(2, "resume after kill -9 during MODIFY");
    assert!(
        stopped
            .stderr
            .contains("statement 1 of 2 of its up section (line 7)"),
        "{}",
        stopped.stderr
    );
    assert!(
        stopped.stderr.contains("cannot tell from the catalog"),
        "{}",
        stopped.stderr
    );
    assert_eq!(
        db_rows(
            db.url(),
            "SELECT CAST(count(*) AS CHAR) FROM information_schema.tables \
             WHERE table_schema = DATABASE() AND table_name = 'after_it'"
        ),
        vec![vec!["0".to_string()]],
        "nothing after the unverified statement ran"
    );
    // The server finished the ALTER for the dead client: say so as the
    // message tells, and the run resumes after it.
    let length = db_rows(
        db.url(),
        "SELECT CAST(character_maximum_length AS CHAR) FROM information_schema.columns \
         WHERE table_schema = DATABASE() AND table_name = 'big' AND column_name = 'pad'",
    );
    let took_effect = length == vec![vec!["200".to_string()]];
    let message = stopped.stderr.replace('\n', " ");
    let (from, to) = if took_effect {
        ("if it did, run ", "; if it did not")
    } else {
        ("if it did not, run ", "; then run")
    };
    let start = message.find(from).expect("the fix for this case") + from.len();
    let end = start + message[start..].find(to).expect("end of the fix");
    db_exec(db.url(), &message[start..end]);
    let resumed = project
        .retort(&["upgrade"])
        .success("upgrade after the record was fixed");
    if took_effect {
        assert!(resumed.stdout.contains("resuming"), "{}", resumed.stdout);
    }
    assert_eq!(
        db_rows(
            db.url(),
            "SELECT CAST(character_maximum_length AS CHAR) FROM information_schema.columns \
             WHERE table_schema = DATABASE() AND table_name = 'big' AND column_name = 'pad'",
        ),
        vec![vec!["200".to_string()]]
    );
    let current = project.retort(&["current"]).success("current").stdout;
    assert!(current.contains("(head)"), "{current}");
}

#[test]
fn ctrl_c_while_waiting_for_the_lock_on_postgres_stops_at_once() {
    let Some(db) = TestDatabase::new(Server::Postgres) else {
        return;
    };
    let (project, _) = project_with_revision(db.url(), "SELECT pg_sleep(30);");
    let mut first = project.spawn_retort(&["upgrade"]);
    let running = "SELECT count(*)::text FROM pg_stat_activity \
                   WHERE datname = current_database() AND query LIKE 'SELECT pg_sleep(30)%'";
    wait_for(db.url(), running, "1", &mut first);
    let mut second = project.spawn_retort(&["upgrade"]);
    let waiting = "SELECT count(*)::text FROM pg_locks WHERE locktype = 'advisory' \
                   AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND NOT granted";
    wait_for(db.url(), waiting, "1", &mut second);
    let (result, took) = interrupt(second);
    assert_eq!(result.code, 130, "{}", result.stderr);
    assert!(took < Duration::from_secs(15), "took {took:?}");
    assert!(
        result.stderr.contains("while waiting for the runner lock"),
        "{}",
        result.stderr
    );
    assert_eq!(db_rows(db.url(), waiting), vec![vec!["0".to_string()]]);
    let (first, took) = interrupt(first);
    assert_interrupted(&first, took);
}
