//! Integration tests for retort-migrate: the graph, planning, and the SQLite
//! runner on real database files.

use std::path::{Path, PathBuf};

use retort_migrate::*;
use sqlx::{ConnectOptions, SqliteConnection};

/// A revision as it would be written to `dir` by `write_revision`.
fn rev(id: &str, parents: &[&str], message: &str, up: &str, down: &str) -> Revision {
    let mut r = Revision::new(
        parents.iter().map(|p| p.to_string()).collect(),
        message,
        up,
        down,
    );
    r.id = id.to_string();
    r.created = "2026-01-01T00:00:00Z".to_string();
    r
}

/// Writes revisions into a fresh directory and loads the graph from it.
fn project(revs: &[Revision]) -> (tempfile::TempDir, RevisionGraph) {
    let dir = tempfile::tempdir().unwrap();
    for r in revs {
        write_revision(dir.path(), r).unwrap();
    }
    let graph = RevisionGraph::load(dir.path()).unwrap();
    (dir, graph)
}

fn ids(revs: &[&Revision]) -> Vec<String> {
    revs.iter().map(|r| r.id.clone()).collect()
}

/// The error and its causes, one per line, as the CLI prints them.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = format!("error: {err}");
    let mut cause = err.source();
    while let Some(c) = cause {
        out.push_str(&format!("\n  caused by: {c}"));
        cause = c.source();
    }
    out
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

mod graph {
    use super::*;

    const A1: &str = "aaaaaaaaaaa1";
    const A2: &str = "aaaaaaaaaaa2";
    const A3: &str = "aaaaaaaaaaa3";
    const B1: &str = "bbbbbbbbbbb1";
    const B2: &str = "bbbbbbbbbbb2";
    const B3: &str = "bbbbbbbbbbb3";
    const M: &str = "cccccccccccc";

    fn linear() -> (tempfile::TempDir, RevisionGraph) {
        project(&[
            rev(A1, &[], "one", "SELECT 1;", ""),
            rev(A2, &[A1], "two", "SELECT 2;", ""),
            rev(A3, &[A2], "three", "SELECT 3;", ""),
        ])
    }

    fn branched(with_merge: bool) -> (tempfile::TempDir, RevisionGraph) {
        let mut revs = vec![
            rev(B1, &[], "base", "", ""),
            rev(B2, &[B1], "left", "", ""),
            rev(B3, &[B1], "right", "", ""),
        ];
        if with_merge {
            revs.push(rev(M, &[B2, B3], "merge", "", ""));
        }
        project(&revs)
    }

    #[test]
    fn linear_graph_heads_bases_history() {
        let (_d, g) = linear();
        assert_eq!(ids(&g.heads()), [A3]);
        assert_eq!(ids(&g.bases()), [A1]);
        assert_eq!(ids(&g.history()), [A3, A2, A1]);
        assert_eq!(ids(&g.ancestors(A3)), [A1, A2]);
        assert_eq!(ids(&g.descendants(A1)), [A2, A3]);
        assert_eq!(ids(&g.children(A1)), [A2]);
        assert!(g.get(A2).unwrap().path.ends_with("aaaaaaaaaaa2_two.sql"));
    }

    #[test]
    fn load_ignores_other_files() {
        let (dir, _g) = linear();
        std::fs::write(dir.path().join("README.md"), "not a revision").unwrap();
        std::fs::write(dir.path().join(".retort-x.tmp"), "junk").unwrap();
        assert_eq!(
            RevisionGraph::load(dir.path()).unwrap().revisions().len(),
            3
        );
    }

    #[test]
    fn branches_give_two_heads_and_head_is_an_error() {
        let (_d, g) = branched(false);
        assert_eq!(ids(&g.heads()), [B2, B3]);
        let err = plan_upgrade(&g, &[], &UpgradeTarget::Head).unwrap_err();
        assert!(matches!(err, MigrateError::MultipleHeads { .. }));
        assert!(err.to_string().contains("merge revision"), "{err}");
        assert!(err.to_string().contains("`heads`"), "{err}");
        assert_eq!(
            ids(&plan_upgrade(&g, &[], &UpgradeTarget::Heads).unwrap()),
            [B1, B2, B3]
        );
        // History is deterministic: ties by id.
        assert_eq!(ids(&g.history()), [B2, B3, B1]);
    }

    #[test]
    fn merge_revision_joins_heads() {
        let (_d, g) = branched(true);
        assert_eq!(ids(&g.heads()), [M]);
        assert_eq!(ids(&g.history()), [M, B2, B3, B1]);
        assert_eq!(
            ids(&plan_upgrade(&g, &strings(&[B2]), &UpgradeTarget::Head).unwrap()),
            [B3, M]
        );
        assert_eq!(
            ids(&plan_upgrade(&g, &strings(&[B2, B3]), &UpgradeTarget::Relative(1)).unwrap()),
            [M]
        );

        let m = g.get(M).unwrap();
        assert_eq!(rows_after_upgrade(&g, &strings(&[B2, B3]), m), [M]);
        assert_eq!(rows_after_downgrade(&g, &strings(&[M]), m), [B2, B3]);
        let b2 = g.get(B2).unwrap();
        // B1 stays covered by B3, so it does not come back.
        assert_eq!(rows_after_downgrade(&g, &strings(&[B2, B3]), b2), [B3]);
        assert_eq!(
            ids(
                &plan_downgrade(&g, &strings(&[M]), &DowngradeTarget::Revision(B1.into())).unwrap()
            ),
            [M, B2, B3]
        );
    }

    #[test]
    fn prefix_resolution() {
        let (_d, g) = project(&[
            rev("abc000000001", &[], "x", "", ""),
            rev("abc000000002", &["abc000000001"], "y", "", ""),
            rev("def000000001", &["abc000000002"], "z", "", ""),
        ]);
        assert_eq!(g.resolve("def").unwrap().id, "def000000001");
        assert_eq!(g.resolve("abc000000001").unwrap().id, "abc000000001");
        match g.resolve("abc") {
            Err(MigrateError::AmbiguousRevision { spec, candidates }) => {
                assert_eq!(spec, "abc");
                assert_eq!(candidates, ["abc000000001", "abc000000002"]);
            }
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(g.resolve("123"), Err(MigrateError::UnknownRevision { spec }) if spec == "123")
        );
        assert!(matches!(
            g.resolve(""),
            Err(MigrateError::UnknownRevision { .. })
        ));
    }

    #[test]
    fn cycles_unknown_parents_and_duplicates_name_the_files() {
        let mut x = rev("aaaaaaaaaaa1", &["aaaaaaaaaaa3"], "x", "", "");
        x.path = PathBuf::from("x.sql");
        let mut y = rev("aaaaaaaaaaa2", &["aaaaaaaaaaa1"], "y", "", "");
        y.path = PathBuf::from("y.sql");
        let mut z = rev("aaaaaaaaaaa3", &["aaaaaaaaaaa2"], "z", "", "");
        z.path = PathBuf::from("z.sql");
        let mut base = rev("aaaaaaaaaaa4", &[], "base", "", "");
        base.path = PathBuf::from("base.sql");
        match RevisionGraph::from_revisions(vec![x, y, z.clone(), base]) {
            Err(MigrateError::Cycle { files }) => {
                assert_eq!(
                    files,
                    [
                        PathBuf::from("x.sql"),
                        PathBuf::from("y.sql"),
                        PathBuf::from("z.sql")
                    ]
                );
            }
            other => panic!("{other:?}"),
        }

        let (dir, _g) = linear();
        std::fs::write(
            dir.path().join("bbbbbbbbbbbb_orphan.sql"),
            render_revision(&rev("bbbbbbbbbbbb", &["999999999999"], "orphan", "", "")),
        )
        .unwrap();
        let err = RevisionGraph::load(dir.path()).unwrap_err();
        assert!(matches!(err, MigrateError::UnknownParent { .. }));
        assert!(err.to_string().contains("bbbbbbbbbbbb_orphan.sql"), "{err}");
        assert!(err.to_string().contains("999999999999"), "{err}");

        let (dir, _g) = linear();
        std::fs::write(
            dir.path().join("aaaaaaaaaaa1_copy.sql"),
            render_revision(&rev(A1, &[], "copy", "", "")),
        )
        .unwrap();
        let err = RevisionGraph::load(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("aaaaaaaaaaa1_copy.sql") && err.contains("aaaaaaaaaaa1_one.sql"),
            "{err}"
        );
    }

    #[test]
    fn parse_error_in_a_file_fails_the_load_with_its_path() {
        let (dir, _g) = linear();
        std::fs::write(dir.path().join("broken.sql"), "-- retort:revision nope\n").unwrap();
        let err = RevisionGraph::load(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("broken.sql:1: bad revision id `nope`"),
            "{err}"
        );
    }

    #[test]
    fn upgrade_plans() {
        let (_d, g) = linear();
        assert_eq!(
            ids(&plan_upgrade(&g, &[], &UpgradeTarget::Head).unwrap()),
            [A1, A2, A3]
        );
        assert_eq!(
            ids(&plan_upgrade(&g, &strings(&[A1]), &UpgradeTarget::Relative(1)).unwrap()),
            [A2]
        );
        assert_eq!(
            ids(&plan_upgrade(&g, &[], &UpgradeTarget::Revision("aaaaaaaaaaa2".into())).unwrap()),
            [A1, A2]
        );
        assert!(
            plan_upgrade(&g, &strings(&[A3]), &UpgradeTarget::Head)
                .unwrap()
                .is_empty()
        );
        assert!(
            plan_upgrade(&g, &strings(&[A3]), &UpgradeTarget::Revision(A1.into()))
                .unwrap()
                .is_empty()
        );
        assert!(matches!(
            plan_upgrade(&g, &strings(&[A2]), &UpgradeTarget::Relative(2)),
            Err(MigrateError::RelativeOutOfRange {
                requested: 2,
                available: 1,
                ..
            })
        ));
        assert!(matches!(
            plan_upgrade(&g, &strings(&["ffffffffffff"]), &UpgradeTarget::Head),
            Err(MigrateError::UnknownCurrentRevision { .. })
        ));
    }

    #[test]
    fn downgrade_plans() {
        let (_d, g) = linear();
        let at3 = strings(&[A3]);
        assert_eq!(
            ids(&plan_downgrade(&g, &at3, &DowngradeTarget::Relative(2)).unwrap()),
            [A3, A2]
        );
        assert_eq!(
            ids(&plan_downgrade(&g, &at3, &DowngradeTarget::Base).unwrap()),
            [A3, A2, A1]
        );
        assert_eq!(
            ids(&plan_downgrade(&g, &at3, &DowngradeTarget::Revision(A1.into())).unwrap()),
            [A3, A2]
        );
        assert!(matches!(
            plan_downgrade(&g, &strings(&[A1]), &DowngradeTarget::Revision(A2.into())),
            Err(MigrateError::NotApplied { .. })
        ));
        assert!(matches!(
            plan_downgrade(&g, &strings(&[A1]), &DowngradeTarget::Relative(2)),
            Err(MigrateError::RelativeOutOfRange { .. })
        ));
        let (_d, g) = branched(false);
        assert!(matches!(
            plan_downgrade(&g, &strings(&[B2, B3]), &DowngradeTarget::Relative(1)),
            Err(MigrateError::AmbiguousRelative { .. })
        ));
    }

    #[test]
    fn targets_parse_from_cli_words() {
        assert_eq!(UpgradeTarget::from("head"), UpgradeTarget::Head);
        assert_eq!(UpgradeTarget::from("heads"), UpgradeTarget::Heads);
        assert_eq!(UpgradeTarget::from("+2"), UpgradeTarget::Relative(2));
        assert_eq!(
            UpgradeTarget::from("ab12"),
            UpgradeTarget::Revision("ab12".into())
        );
        assert_eq!(DowngradeTarget::from("base"), DowngradeTarget::Base);
        assert_eq!(DowngradeTarget::from("-1"), DowngradeTarget::Relative(1));
        assert_eq!(
            DowngradeTarget::from("ab12"),
            DowngradeTarget::Revision("ab12".into())
        );
    }
}

mod runner {
    use super::*;
    use sqlx::Row;

    const R1: &str = "111111111111";
    const R2: &str = "222222222222";
    const R3: &str = "333333333333";

    async fn connect(path: &Path) -> SqliteConnection {
        sqlite_connect_options(&format!("sqlite://{}", path.display()))
            .unwrap()
            .connect()
            .await
            .unwrap()
    }

    async fn tables(conn: &mut SqliteConnection) -> Vec<String> {
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .fetch_all(&mut *conn)
            .await
            .unwrap()
    }

    async fn columns(conn: &mut SqliteConnection, table: &str) -> Vec<String> {
        sqlx::query_scalar("SELECT name FROM pragma_table_info(?1) ORDER BY cid")
            .bind(table)
            .fetch_all(&mut *conn)
            .await
            .unwrap()
    }

    async fn scalar(conn: &mut SqliteConnection, sql: &'static str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(&mut *conn).await.unwrap()
    }

    async fn versions(conn: &mut SqliteConnection) -> Vec<String> {
        current(conn, &VersionTable::default()).await.unwrap()
    }

    fn chain() -> (tempfile::TempDir, RevisionGraph) {
        project(&[
            rev(
                R1,
                &[],
                "create users",
                "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);",
                "DROP TABLE users;",
            ),
            rev(
                R2,
                &[R1],
                "add age",
                "ALTER TABLE users ADD COLUMN age INTEGER;",
                "ALTER TABLE users DROP COLUMN age;",
            ),
            rev(
                R3,
                &[R2],
                "create posts",
                "CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id));",
                "DROP TABLE posts;",
            ),
        ])
    }

    async fn up(
        conn: &mut SqliteConnection,
        g: &RevisionGraph,
        target: &str,
    ) -> Result<Vec<Event>, MigrateError> {
        let mut events = Vec::new();
        upgrade(
            conn,
            g,
            &UpgradeTarget::from(target),
            &RunOptions::default(),
            &mut |e| events.push(e),
        )
        .await?;
        Ok(events)
    }

    async fn down(
        conn: &mut SqliteConnection,
        g: &RevisionGraph,
        target: &str,
    ) -> Result<Vec<Event>, MigrateError> {
        let mut events = Vec::new();
        downgrade(
            conn,
            g,
            &DowngradeTarget::from(target),
            &RunOptions::default(),
            &mut |e| events.push(e),
        )
        .await?;
        Ok(events)
    }

    #[tokio::test(flavor = "current_thread")]
    async fn reading_the_current_version_never_creates_the_table() {
        let db = tempfile::tempdir().unwrap();
        let mut conn = connect(&db.path().join("app.db")).await;
        assert_eq!(versions(&mut conn).await, Vec::<String>::new());
        assert_eq!(tables(&mut conn).await, Vec::<String>::new());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn upgrade_and_downgrade_step_by_step() {
        let (_d, g) = chain();
        let db = tempfile::tempdir().unwrap();
        let mut conn = connect(&db.path().join("app.db")).await;

        let events = up(&mut conn, &g, "+1").await.unwrap();
        assert!(
            matches!(&events[..], [Event::Applying { id, message }, Event::Applied { id: id2, .. }] if id == R1 && message == "create users" && id2 == R1)
        );
        assert_eq!(versions(&mut conn).await, [R1]);
        assert_eq!(tables(&mut conn).await, ["retort_version", "users"]);

        up(&mut conn, &g, "head").await.unwrap();
        assert_eq!(versions(&mut conn).await, [R3]);
        assert_eq!(
            tables(&mut conn).await,
            ["posts", "retort_version", "users"]
        );
        assert_eq!(columns(&mut conn, "users").await, ["id", "name", "age"]);

        let events = up(&mut conn, &g, "head").await.unwrap();
        assert_eq!(
            events,
            [Event::AlreadyAtTarget {
                current: strings(&[R3])
            }]
        );

        let events = down(&mut conn, &g, "-1").await.unwrap();
        assert!(
            matches!(&events[..], [Event::Reverting { id, .. }, Event::Reverted { .. }] if id == R3)
        );
        assert_eq!(versions(&mut conn).await, [R2]);
        assert_eq!(tables(&mut conn).await, ["retort_version", "users"]);

        down(&mut conn, &g, "1111").await.unwrap();
        assert_eq!(versions(&mut conn).await, [R1]);
        assert_eq!(columns(&mut conn, "users").await, ["id", "name"]);

        down(&mut conn, &g, "base").await.unwrap();
        assert_eq!(versions(&mut conn).await, Vec::<String>::new());
        assert_eq!(tables(&mut conn).await, ["retort_version"]);

        up(&mut conn, &g, "2222").await.unwrap();
        assert_eq!(versions(&mut conn).await, [R2]);
        assert_eq!(columns(&mut conn, "users").await, ["id", "name", "age"]);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn branches_and_merge_keep_one_row_per_head() {
        let (_d, g) = project(&[
            rev(R1, &[], "base", "CREATE TABLE a (x);", "DROP TABLE a;"),
            rev(R2, &[R1], "left", "CREATE TABLE l (x);", "DROP TABLE l;"),
            rev(R3, &[R1], "right", "CREATE TABLE r (x);", "DROP TABLE r;"),
        ]);
        let db = tempfile::tempdir().unwrap();
        let mut conn = connect(&db.path().join("app.db")).await;
        assert!(matches!(
            up(&mut conn, &g, "head").await,
            Err(MigrateError::MultipleHeads { .. })
        ));
        assert_eq!(tables(&mut conn).await, Vec::<String>::new());
        up(&mut conn, &g, "heads").await.unwrap();
        assert_eq!(versions(&mut conn).await, [R2, R3]);
        down(&mut conn, &g, R1).await.unwrap();
        assert_eq!(versions(&mut conn).await, [R1]);
        assert_eq!(tables(&mut conn).await, ["a", "retort_version"]);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn failing_statement_rolls_the_revision_back_and_names_it() {
        let (_d, g) = project(&[
            rev(R1, &[], "create a", "CREATE TABLE a (x);", "DROP TABLE a;"),
            rev(
                R2,
                &[R1],
                "broken",
                "CREATE TABLE b (x);\nINSERT INTO missing VALUES (1);\nCREATE TABLE c (x);",
                "",
            ),
        ]);
        let db = tempfile::tempdir().unwrap();
        let mut conn = connect(&db.path().join("app.db")).await;
        let err = up(&mut conn, &g, "head").await.unwrap_err();
        let MigrateError::Statement(ref failure) = err else {
            panic!("{err:?}");
        };
        assert_eq!(
            (failure.id.as_str(), failure.index, failure.count),
            (R2, 2, 3)
        );
        // up section starts on line 7; the bad statement is its second line.
        assert_eq!(failure.line, 8);
        assert_eq!(failure.statement, "INSERT INTO missing VALUES (1);");
        assert_eq!(failure.earlier, [R1.to_string()]);
        assert!(failure.path.ends_with("222222222222_broken.sql"));
        let msg = err.to_string();
        assert!(msg.contains("statement 2 of 3 (line 8)"), "{msg}");
        assert!(msg.contains("stay in place (111111111111)"), "{msg}");
        insta::with_settings!({
            snapshot_path => concat!(env!("CARGO_MANIFEST_DIR"), "/../../snapshots/migrate"),
            prepend_module_to_snapshot => false,
            filters => vec![(r"[^ ,(]*[/\\](\w+\.sql)", "[DIR]/$1")],
        }, {
            insta::assert_snapshot!("statement_error", error_chain(&err));
        });
        let source = std::error::Error::source(&err).unwrap().to_string();
        assert!(source.contains("no such table: missing"), "{source}");
        // Nothing of R2 remains, R1 stays applied, and foreign keys are back on.
        assert_eq!(tables(&mut conn).await, ["a", "retort_version"]);
        assert_eq!(versions(&mut conn).await, [R1]);
        assert_eq!(scalar(&mut conn, "PRAGMA foreign_keys").await, 1);
    }

    fn parent_child(r2_up: &str) -> (tempfile::TempDir, RevisionGraph) {
        project(&[
            rev(
                R1,
                &[],
                "parent and child",
                "CREATE TABLE parent (id INTEGER PRIMARY KEY);\n\
                 CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent (id) ON DELETE CASCADE);\n\
                 INSERT INTO parent (id) VALUES (1), (2);\n\
                 INSERT INTO child (id, parent_id) VALUES (10, 1), (20, 2);",
                "",
            ),
            rev(R2, &[R1], "change parent", r2_up, ""),
        ])
    }

    #[tokio::test(flavor = "current_thread")]
    async fn foreign_keys_are_off_while_a_revision_rebuilds_a_parent_table() {
        let (_d, g) = parent_child(
            "CREATE TABLE parent_new (id INTEGER PRIMARY KEY, name TEXT);\n\
             INSERT INTO parent_new (id) SELECT id FROM parent;\n\
             DROP TABLE parent;\n\
             ALTER TABLE parent_new RENAME TO parent;",
        );
        let db = tempfile::tempdir().unwrap();
        let mut conn = connect(&db.path().join("app.db")).await;
        assert_eq!(scalar(&mut conn, "PRAGMA foreign_keys").await, 1);
        up(&mut conn, &g, "head").await.unwrap();
        // With enforcement on, DROP TABLE parent would have cascaded into child.
        assert_eq!(scalar(&mut conn, "SELECT count(*) FROM child").await, 2);
        assert_eq!(columns(&mut conn, "parent").await, ["id", "name"]);
        assert_eq!(versions(&mut conn).await, [R2]);
        assert_eq!(scalar(&mut conn, "PRAGMA foreign_keys").await, 1);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn dangling_foreign_key_is_rolled_back_by_foreign_key_check() {
        let (_d, g) = parent_child("DELETE FROM parent WHERE id = 1;");
        let db = tempfile::tempdir().unwrap();
        let mut conn = connect(&db.path().join("app.db")).await;
        let err = up(&mut conn, &g, "head").await.unwrap_err();
        let MigrateError::ForeignKeyViolation(ref failure) = err else {
            panic!("{err:?}");
        };
        assert_eq!(failure.id, R2);
        assert_eq!(
            failure.violations,
            [FkViolation {
                table: "child".into(),
                rowid: Some(10),
                parent: "parent".into()
            }]
        );
        assert!(
            err.to_string().contains("child rowid 10 -> parent"),
            "{err}"
        );
        assert_eq!(scalar(&mut conn, "SELECT count(*) FROM parent").await, 2);
        assert_eq!(scalar(&mut conn, "SELECT count(*) FROM child").await, 2);
        assert_eq!(versions(&mut conn).await, [R1]);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn revision_inside_an_open_transaction_is_refused() {
        let (_d, g) = chain();
        let db = tempfile::tempdir().unwrap();
        let mut conn = connect(&db.path().join("app.db")).await;
        sqlx::raw_sql("BEGIN").execute(&mut conn).await.unwrap();
        let err = up(&mut conn, &g, "head").await.unwrap_err();
        assert!(
            matches!(err, MigrateError::ForeignKeysStillOn { .. }),
            "{err:?}"
        );
        sqlx::raw_sql("ROLLBACK").execute(&mut conn).await.unwrap();
        assert_eq!(tables(&mut conn).await, Vec::<String>::new());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn stamp_sets_the_version_table_without_running_sql() {
        let (_d, g) = chain();
        let db = tempfile::tempdir().unwrap();
        let mut conn = connect(&db.path().join("app.db")).await;
        let opts = RunOptions {
            version_table: VersionTable::new("my_versions").unwrap(),
            ..RunOptions::default()
        };
        let mut events = Vec::new();
        stamp(&mut conn, &g, "2222", &opts, &mut |e| events.push(e))
            .await
            .unwrap();
        assert_eq!(
            events,
            [Event::Stamped {
                current: strings(&[R2])
            }]
        );
        assert_eq!(tables(&mut conn).await, ["my_versions"]);
        assert_eq!(current(&mut conn, &opts.version_table).await.unwrap(), [R2]);
        // Upgrading from the stamp runs only what comes after it.
        upgrade(&mut conn, &g, &UpgradeTarget::Head, &opts, &mut |_| {})
            .await
            .unwrap();
        assert_eq!(tables(&mut conn).await, ["my_versions", "posts"]);
        stamp(&mut conn, &g, "base", &opts, &mut |_| {})
            .await
            .unwrap();
        assert_eq!(
            current(&mut conn, &opts.version_table).await.unwrap(),
            Vec::<String>::new()
        );
    }

    #[test]
    fn concurrent_upgrades_apply_each_revision_once() {
        let mut revs = vec![rev(
            R1,
            &[],
            "log",
            "CREATE TABLE log (rev TEXT NOT NULL);\nINSERT INTO log VALUES ('r1');",
            "",
        )];
        let mut parent = R1.to_string();
        for n in 2..=8 {
            let id = format!("{n:012x}");
            let up = format!("INSERT INTO log VALUES ('r{n}');");
            revs.push(rev(&id, &[&parent], &format!("step {n}"), &up, ""));
            parent = id;
        }
        let (_d, g) = project(&revs);
        let db = tempfile::tempdir().unwrap();
        let path = db.path().join("app.db");
        let barrier = std::sync::Barrier::new(2);
        let results: Vec<(Result<(), MigrateError>, Vec<Event>)> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..2)
                .map(|_| {
                    s.spawn(|| {
                        let rt = tokio::runtime::Builder::new_current_thread()
                            .enable_all()
                            .build()
                            .unwrap();
                        rt.block_on(async {
                            let mut conn = connect(&path).await;
                            barrier.wait();
                            let mut events = Vec::new();
                            let r = upgrade(
                                &mut conn,
                                &g,
                                &UpgradeTarget::Head,
                                &RunOptions::default(),
                                &mut |e| events.push(e),
                            )
                            .await;
                            (r, events)
                        })
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut applied = 0;
        for (r, events) in &results {
            r.as_ref().unwrap();
            applied += events
                .iter()
                .filter(|e| matches!(e, Event::Applied { .. }))
                .count();
        }
        assert_eq!(applied, 8, "{results:?}");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let mut conn = connect(&path).await;
            let rows = sqlx::query("SELECT rev, count(*) FROM log GROUP BY rev ORDER BY rev")
                .fetch_all(&mut conn)
                .await
                .unwrap();
            let got: Vec<(String, i64)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
            let want: Vec<(String, i64)> = (1..=8).map(|n| (format!("r{n}"), 1)).collect();
            assert_eq!(got, want);
            assert_eq!(versions(&mut conn).await, [format!("{:012x}", 8)]);
        });
    }

    #[tokio::test(flavor = "current_thread")]
    async fn offline_upgrade_script_does_what_the_runner_does() {
        let (_d, g) = chain();
        let sql =
            offline_upgrade_sql(&g, &[], &UpgradeTarget::Head, &RunOptions::default()).unwrap();
        let db = tempfile::tempdir().unwrap();
        let mut conn = connect(&db.path().join("app.db")).await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .unwrap();
        assert_eq!(versions(&mut conn).await, [R3]);
        assert_eq!(
            tables(&mut conn).await,
            ["posts", "retort_version", "users"]
        );
    }
}

mod offline {
    use super::*;

    const R1: &str = "111111111111";
    const R2: &str = "222222222222";

    fn graph() -> (tempfile::TempDir, RevisionGraph) {
        project(&[
            rev(
                R1,
                &[],
                "create users",
                "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, updated TEXT);\n\n-- keep names tidy\nCREATE TRIGGER users_touch AFTER UPDATE ON users BEGIN\n  UPDATE users SET updated = 'now; really' WHERE id = new.id;\nEND;",
                "DROP TRIGGER users_touch;\nDROP TABLE users;",
            ),
            rev(
                R2,
                &[R1],
                "add age",
                "ALTER TABLE users ADD COLUMN age INTEGER",
                "ALTER TABLE users DROP COLUMN age;",
            ),
        ])
    }

    fn snapshot(name: &str, text: &str) {
        insta::with_settings!({
            snapshot_path => concat!(env!("CARGO_MANIFEST_DIR"), "/../../snapshots/migrate"),
            prepend_module_to_snapshot => false,
        }, {
            insta::assert_snapshot!(name, text);
        });
    }

    #[test]
    fn offline_upgrade_sql_snapshot() {
        let (_d, g) = graph();
        snapshot(
            "offline_upgrade",
            &offline_upgrade_sql(&g, &[], &UpgradeTarget::Head, &RunOptions::default()).unwrap(),
        );
    }

    #[test]
    fn offline_downgrade_sql_snapshot() {
        let (_d, g) = graph();
        snapshot(
            "offline_downgrade",
            &offline_downgrade_sql(
                &g,
                &strings(&[R2]),
                &DowngradeTarget::Base,
                &RunOptions::default(),
            )
            .unwrap(),
        );
    }

    #[test]
    fn offline_from_an_unknown_revision_is_an_error() {
        let (_d, g) = graph();
        let err = offline_upgrade_sql(
            &g,
            &strings(&["ffffffffffff"]),
            &UpgradeTarget::Head,
            &RunOptions::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("ffffffffffff"), "{err}");
    }
}

mod postgres {
    use super::*;
    use retort_test_support::{Server, TestDatabase};
    use sqlx::{Connection, PgConnection, Row};

    const R1: &str = "111111111111";
    const R2: &str = "222222222222";
    const R3: &str = "333333333333";

    async fn connect(db: &TestDatabase) -> PgConnection {
        PgConnection::connect(db.url()).await.unwrap()
    }

    async fn tables(conn: &mut PgConnection) -> Vec<String> {
        sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = current_schema() ORDER BY 1",
        )
        .fetch_all(&mut *conn)
        .await
        .unwrap()
    }

    async fn columns(conn: &mut PgConnection, table: &str) -> Vec<String> {
        sqlx::query_scalar(
            "SELECT column_name::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
        )
        .bind(table)
        .fetch_all(&mut *conn)
        .await
        .unwrap()
    }

    async fn versions(conn: &mut PgConnection) -> Vec<String> {
        current(conn, &VersionTable::default()).await.unwrap()
    }

    async fn up_with(
        conn: &mut PgConnection,
        g: &RevisionGraph,
        target: &str,
        opts: &RunOptions,
    ) -> Result<Vec<Event>, MigrateError> {
        let mut events = Vec::new();
        upgrade(conn, g, &UpgradeTarget::from(target), opts, &mut |e| {
            events.push(e)
        })
        .await?;
        Ok(events)
    }

    async fn up(
        conn: &mut PgConnection,
        g: &RevisionGraph,
        target: &str,
    ) -> Result<Vec<Event>, MigrateError> {
        up_with(conn, g, target, &RunOptions::default()).await
    }

    async fn down(
        conn: &mut PgConnection,
        g: &RevisionGraph,
        target: &str,
    ) -> Result<Vec<Event>, MigrateError> {
        let mut events = Vec::new();
        downgrade(
            conn,
            g,
            &DowngradeTarget::from(target),
            &RunOptions::default(),
            &mut |e| events.push(e),
        )
        .await?;
        Ok(events)
    }

    async fn advisory_locks(conn: &mut PgConnection) -> i64 {
        sqlx::query_scalar(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' \
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        )
        .fetch_one(&mut *conn)
        .await
        .unwrap()
    }

    fn chain() -> (tempfile::TempDir, RevisionGraph) {
        project(&[
            rev(
                R1,
                &[],
                "create users",
                "CREATE TABLE users (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL);",
                "DROP TABLE users;",
            ),
            rev(
                R2,
                &[R1],
                "add age",
                "ALTER TABLE users ADD COLUMN age INTEGER;",
                "ALTER TABLE users DROP COLUMN age;",
            ),
            rev(
                R3,
                &[R2],
                "create posts",
                "CREATE TABLE posts (id BIGSERIAL PRIMARY KEY, user_id BIGINT REFERENCES users (id));",
                "DROP TABLE posts;",
            ),
        ])
    }

    #[tokio::test(flavor = "current_thread")]
    async fn upgrade_downgrade_and_relative_steps() {
        let Some(db) = TestDatabase::new(Server::Postgres) else {
            return;
        };
        let (_d, g) = chain();
        let mut conn = connect(&db).await;
        // Reading the current version on a fresh database creates nothing.
        assert_eq!(versions(&mut conn).await, Vec::<String>::new());
        assert_eq!(tables(&mut conn).await, Vec::<String>::new());

        let events = up(&mut conn, &g, "+1").await.unwrap();
        assert!(
            matches!(&events[..], [Event::Applying { id, .. }, Event::Applied { id: id2, .. }] if id == R1 && id2 == R1),
            "{events:?}"
        );
        assert_eq!(tables(&mut conn).await, ["retort_version", "users"]);
        up(&mut conn, &g, "head").await.unwrap();
        assert_eq!(versions(&mut conn).await, [R3]);
        assert_eq!(columns(&mut conn, "users").await, ["id", "name", "age"]);
        assert_eq!(
            up(&mut conn, &g, "head").await.unwrap(),
            [Event::AlreadyAtTarget {
                current: strings(&[R3])
            }]
        );
        down(&mut conn, &g, "-2").await.unwrap();
        assert_eq!(versions(&mut conn).await, [R1]);
        assert_eq!(columns(&mut conn, "users").await, ["id", "name"]);
        assert_eq!(tables(&mut conn).await, ["retort_version", "users"]);
        down(&mut conn, &g, "base").await.unwrap();
        assert_eq!(tables(&mut conn).await, ["retort_version"]);
        up(&mut conn, &g, "2222").await.unwrap();
        assert_eq!(versions(&mut conn).await, [R2]);
        // Every run released its session lock.
        assert_eq!(advisory_locks(&mut conn).await, 0);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn failing_second_statement_rolls_back_ddl_and_version_table() {
        let Some(db) = TestDatabase::new(Server::Postgres) else {
            return;
        };
        let broken =
            "CREATE TABLE b (x INT);\nINSERT INTO missing VALUES (1);\nCREATE TABLE c (x INT);";
        // From base: even the version table creation is rolled back.
        let (_d, g) = project(&[rev(R1, &[], "broken", broken, "")]);
        let mut conn = connect(&db).await;
        let err = up(&mut conn, &g, "head").await.unwrap_err();
        let MigrateError::Statement(ref failure) = err else {
            panic!("{err:?}");
        };
        assert_eq!((failure.index, failure.count, failure.line), (2, 3, 8));
        assert_eq!(failure.statement, "INSERT INTO missing VALUES (1);");
        assert_eq!(failure.committed, 0);
        assert!(
            err.to_string()
                .contains("statement 2 of 3 (line 8): `INSERT INTO missing VALUES (1);`; the revision was rolled back"),
            "{err}"
        );
        let source = std::error::Error::source(&err).unwrap().to_string();
        assert!(
            source.contains("relation \"missing\" does not exist"),
            "{source}"
        );
        assert_eq!(tables(&mut conn).await, Vec::<String>::new());

        // After a good revision: the table of the first statement is gone
        // and the version table still says R1.
        let (_d, g) = project(&[
            rev(R1, &[], "create a", "CREATE TABLE a (x INT);", ""),
            rev(R2, &[R1], "broken", broken, ""),
        ]);
        let err = up(&mut conn, &g, "head").await.unwrap_err();
        assert!(matches!(err, MigrateError::Statement(_)), "{err:?}");
        assert_eq!(tables(&mut conn).await, ["a", "retort_version"]);
        assert_eq!(versions(&mut conn).await, [R1]);
        assert_eq!(advisory_locks(&mut conn).await, 0);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn the_advisory_lock_is_released_after_an_error() {
        let Some(db) = TestDatabase::new(Server::Postgres) else {
            return;
        };
        let (_bad_dir, bad) = project(&[rev(
            R1,
            &[],
            "t",
            "CREATE TABLE t (x INT);\nSELECT 1/0;",
            "",
        )]);
        let (_good_dir, good) = project(&[rev(R1, &[], "t", "CREATE TABLE t (x INT);", "")]);
        let mut first = connect(&db).await;
        up(&mut first, &bad, "head").await.unwrap_err();
        // `first` stays open: a lock it still held would block `second` forever.
        let mut second = connect(&db).await;
        let events = tokio::time::timeout(
            std::time::Duration::from_secs(20),
            up(&mut second, &good, "head"),
        )
        .await
        .expect("the failed run still holds the advisory lock")
        .unwrap();
        assert!(events.iter().any(|e| matches!(e, Event::Applied { .. })));
        assert_eq!(versions(&mut first).await, [R1]);
    }

    /// A log table and `n` revisions each inserting their own row; the first
    /// one sleeps so that every runner is waiting while it runs.
    fn logged_chain(n: usize) -> (tempfile::TempDir, RevisionGraph) {
        let mut revs = vec![rev(
            R1,
            &[],
            "log",
            "CREATE TABLE log (rev TEXT NOT NULL);\nSELECT pg_sleep(0.3);\nINSERT INTO log VALUES ('r1');",
            "",
        )];
        let mut parent = R1.to_string();
        for k in 2..=n {
            let id = format!("{k:012x}");
            let up = format!("INSERT INTO log VALUES ('r{k}');");
            revs.push(rev(&id, &[&parent], &format!("step {k}"), &up, ""));
            parent = id;
        }
        project(&revs)
    }

    async fn concurrent_upgrades(lock: LockMode) -> Vec<Vec<Event>> {
        let Some(db) = TestDatabase::new(Server::Postgres) else {
            return Vec::new();
        };
        const REVISIONS: usize = 6;
        let (_d, g) = logged_chain(REVISIONS);
        let opts = RunOptions {
            lock,
            ..RunOptions::default()
        };
        let mut conns = Vec::new();
        for _ in 0..4 {
            conns.push(connect(&db).await);
        }
        let [mut a, mut b, mut c, mut d] = conns.try_into().unwrap();
        let (ra, rb, rc, rd) = tokio::join!(
            up_with(&mut a, &g, "head", &opts),
            up_with(&mut b, &g, "head", &opts),
            up_with(&mut c, &g, "head", &opts),
            up_with(&mut d, &g, "head", &opts),
        );
        let all: Vec<Vec<Event>> = [ra, rb, rc, rd].into_iter().map(Result::unwrap).collect();
        let applied: usize = all
            .iter()
            .flatten()
            .filter(|e| matches!(e, Event::Applied { .. }))
            .count();
        assert_eq!(applied, REVISIONS, "{all:?}");
        let rows = sqlx::query("SELECT rev, count(*) FROM log GROUP BY rev ORDER BY rev")
            .fetch_all(&mut a)
            .await
            .unwrap();
        let got: Vec<(String, i64)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        let want: Vec<(String, i64)> = (1..=REVISIONS).map(|k| (format!("r{k}"), 1)).collect();
        assert_eq!(got, want);
        assert_eq!(versions(&mut a).await, [format!("{REVISIONS:012x}")]);
        assert_eq!(advisory_locks(&mut a).await, 0);
        all
    }

    #[tokio::test(flavor = "current_thread")]
    async fn concurrent_upgrades_apply_each_revision_once_and_the_others_wait() {
        let all = concurrent_upgrades(LockMode::Session).await;
        if all.is_empty() {
            return;
        }
        // With the session lock one runner does everything; the others plan
        // after it and find nothing to do.
        let waited = all
            .iter()
            .filter(|events| matches!(&events[..], [Event::AlreadyAtTarget { .. }]))
            .count();
        assert_eq!(waited, 3, "{all:?}");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn transaction_scoped_lock_also_applies_each_revision_once() {
        let all = concurrent_upgrades(LockMode::Transaction).await;
        if all.is_empty() {
            return;
        }
        // Runners interleave per revision; whatever one finds done it skips.
        let skipped = all
            .iter()
            .flatten()
            .filter(|e| {
                matches!(
                    e,
                    Event::AlreadyApplied { .. } | Event::AlreadyAtTarget { .. }
                )
            })
            .count();
        assert!(skipped >= 3, "{all:?}");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn the_version_table_follows_the_search_path() {
        let Some(db) = TestDatabase::new(Server::Postgres) else {
            return;
        };
        let (_d, g) = chain();
        let mut admin = connect(&db).await;
        sqlx::raw_sql("CREATE SCHEMA app")
            .execute(&mut admin)
            .await
            .unwrap();
        let opts: sqlx::postgres::PgConnectOptions = db.url().parse().unwrap();
        let mut conn = opts
            .options([("search_path", "app")])
            .connect()
            .await
            .unwrap();
        up(&mut conn, &g, "+1").await.unwrap();
        let placed: Vec<(String, String)> = sqlx::query_as(
            "SELECT table_schema::text, table_name::text FROM information_schema.tables \
             WHERE table_schema IN ('app', 'public') ORDER BY 1, 2",
        )
        .fetch_all(&mut admin)
        .await
        .unwrap();
        assert_eq!(
            placed,
            [
                ("app".to_string(), "retort_version".to_string()),
                ("app".to_string(), "users".to_string())
            ]
        );
        // The public schema has no version table: base there.
        assert_eq!(versions(&mut admin).await, Vec::<String>::new());
        assert_eq!(versions(&mut conn).await, [R1]);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn stamp_on_postgres() {
        let Some(db) = TestDatabase::new(Server::Postgres) else {
            return;
        };
        let (_d, g) = chain();
        let mut conn = connect(&db).await;
        stamp(&mut conn, &g, "2222", &RunOptions::default(), &mut |_| {})
            .await
            .unwrap();
        assert_eq!(tables(&mut conn).await, ["retort_version"]);
        assert_eq!(versions(&mut conn).await, [R2]);
        assert_eq!(advisory_locks(&mut conn).await, 0);
    }

    fn enum_project(r2_up: &str) -> (tempfile::TempDir, RevisionGraph) {
        project(&[
            rev(
                R1,
                &[],
                "mood",
                "CREATE TYPE mood AS ENUM ('sad', 'ok');\nCREATE TABLE person (name TEXT, m mood);",
                "",
            ),
            rev(R2, &[R1], "happy", r2_up, ""),
        ])
    }

    async fn enum_labels(conn: &mut PgConnection) -> Vec<String> {
        sqlx::query_scalar(
            "SELECT enumlabel::text FROM pg_enum WHERE enumtypid = 'mood'::regtype ORDER BY enumsortorder",
        )
        .fetch_all(&mut *conn)
        .await
        .unwrap()
    }

    #[tokio::test(flavor = "current_thread")]
    async fn add_value_in_an_off_segment_is_usable_in_the_next_one() {
        let Some(db) = TestDatabase::new(Server::Postgres) else {
            return;
        };
        let mut conn = connect(&db).await;
        // Without the directive, PostgreSQL refuses to use the new value in
        // the transaction that added it.
        let (_d, g) = enum_project(
            "ALTER TYPE mood ADD VALUE IF NOT EXISTS 'happy';\nINSERT INTO person VALUES ('ann', 'happy');",
        );
        let err = up(&mut conn, &g, "head").await.unwrap_err();
        let source = std::error::Error::source(&err).unwrap().to_string();
        assert!(source.contains("unsafe use of new value"), "{source}");
        assert_eq!(enum_labels(&mut conn).await, ["sad", "ok"]);

        let (_d, g) = enum_project(
            "-- retort:transaction off\nALTER TYPE mood ADD VALUE IF NOT EXISTS 'happy';\n\
             -- retort:transaction on\nINSERT INTO person VALUES ('ann', 'happy');",
        );
        up(&mut conn, &g, "head").await.unwrap();
        assert_eq!(enum_labels(&mut conn).await, ["sad", "ok", "happy"]);
        assert_eq!(versions(&mut conn).await, [R2]);
        let m: String = sqlx::query_scalar("SELECT m::text FROM person")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(m, "happy");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn failure_after_an_off_segment_says_what_was_applied() {
        let Some(db) = TestDatabase::new(Server::Postgres) else {
            return;
        };
        let mut conn = connect(&db).await;
        let (_d, g) = enum_project(
            "-- retort:transaction off\nALTER TYPE mood ADD VALUE IF NOT EXISTS 'happy';\n\
             -- retort:transaction on\nINSERT INTO person VALUES ('ann', 'happy');\nINSERT INTO missing VALUES (1);",
        );
        let err = up(&mut conn, &g, "head").await.unwrap_err();
        let MigrateError::Statement(ref failure) = err else {
            panic!("{err:?}");
        };
        assert_eq!(
            (
                failure.index,
                failure.count,
                failure.segment,
                failure.segments,
                failure.committed,
                failure.segments_committed
            ),
            (3, 3, 2, 2, 1, 1)
        );
        let msg = err.to_string();
        assert!(
            msg.contains("statement 3 of 3 (line 11, segment 2 of 2)"),
            "{msg}"
        );
        assert!(
            msg.contains("statement 1 (segment 1 of 2) was committed and stay applied, but the revision is NOT recorded as applied"),
            "{msg}"
        );
        // The off segment stays; the on segment and the version row do not.
        assert_eq!(enum_labels(&mut conn).await, ["sad", "ok", "happy"]);
        assert_eq!(versions(&mut conn).await, [R1]);
        let people: i64 = sqlx::query_scalar("SELECT count(*) FROM person")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(people, 0);

        // The fixed revision re-runs its idempotent off segment and completes.
        let (_d, g) = enum_project(
            "-- retort:transaction off\nALTER TYPE mood ADD VALUE IF NOT EXISTS 'happy';\n\
             -- retort:transaction on\nINSERT INTO person VALUES ('ann', 'happy');",
        );
        up(&mut conn, &g, "head").await.unwrap();
        assert_eq!(versions(&mut conn).await, [R2]);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn offline_postgres_script_does_what_the_runner_does() {
        let Some(db) = TestDatabase::new(Server::Postgres) else {
            return;
        };
        let (_d, g) = chain();
        let opts = RunOptions {
            dialect: retort_schema::Dialect::Postgres,
            ..RunOptions::default()
        };
        let sql = offline_upgrade_sql(&g, &[], &UpgradeTarget::Head, &opts).unwrap();
        let mut conn = connect(&db).await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .unwrap();
        assert_eq!(versions(&mut conn).await, [R3]);
        assert_eq!(
            tables(&mut conn).await,
            ["posts", "retort_version", "users"]
        );
        assert_eq!(advisory_locks(&mut conn).await, 0);
    }
}

mod segments {
    use super::*;

    const R1: &str = "111111111111";
    const R2: &str = "222222222222";

    async fn connect(path: &Path) -> SqliteConnection {
        sqlite_connect_options(&format!("sqlite://{}", path.display()))
            .unwrap()
            .connect()
            .await
            .unwrap()
    }

    async fn count(conn: &mut SqliteConnection, sql: &'static str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(&mut *conn).await.unwrap()
    }

    #[tokio::test(flavor = "current_thread")]
    async fn sqlite_runs_segments_in_order_and_records_at_the_end() {
        let (_d, g) = project(&[
            rev(R1, &[], "log", "CREATE TABLE log (x INT);", ""),
            rev(
                R2,
                &[R1],
                "segmented",
                "INSERT INTO log VALUES (1);\n-- retort:transaction off\nINSERT INTO log VALUES (2);",
                "",
            ),
        ]);
        let db = tempfile::tempdir().unwrap();
        let mut conn = connect(&db.path().join("app.db")).await;
        upgrade(
            &mut conn,
            &g,
            &UpgradeTarget::Head,
            &RunOptions::default(),
            &mut |_| {},
        )
        .await
        .unwrap();
        assert_eq!(count(&mut conn, "SELECT count(*) FROM log").await, 2);
        assert_eq!(
            current(&mut conn, &VersionTable::default()).await.unwrap(),
            [R2]
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn sqlite_failure_in_a_later_segment_keeps_earlier_ones_and_no_version() {
        let (_d, g) = project(&[
            rev(R1, &[], "log", "CREATE TABLE log (x INT);", ""),
            rev(
                R2,
                &[R1],
                "segmented",
                "-- retort:transaction off\nINSERT INTO log VALUES (1);\nINSERT INTO log VALUES (2);\n\
                 -- retort:transaction on\nINSERT INTO log VALUES (3);\nINSERT INTO missing VALUES (1);",
                "",
            ),
        ]);
        let db = tempfile::tempdir().unwrap();
        let mut conn = connect(&db.path().join("app.db")).await;
        let err = upgrade(
            &mut conn,
            &g,
            &UpgradeTarget::Head,
            &RunOptions::default(),
            &mut |_| {},
        )
        .await
        .unwrap_err();
        let MigrateError::Statement(ref failure) = err else {
            panic!("{err:?}");
        };
        assert_eq!((failure.committed, failure.segments_committed), (2, 1));
        assert!(
            err.to_string()
                .contains("statements 1-2 (segment 1 of 2) were committed and stay applied"),
            "{err}"
        );
        assert_eq!(count(&mut conn, "SELECT count(*) FROM log").await, 2);
        assert_eq!(
            current(&mut conn, &VersionTable::default()).await.unwrap(),
            [R1]
        );
        assert_eq!(count(&mut conn, "PRAGMA foreign_keys").await, 1);
    }

    #[test]
    fn transaction_directive_is_parsed_and_validated() {
        let text = format!(
            "-- retort:revision {R1}\n-- retort:parents\n-- retort:message m\n-- retort:created t\n\n\
             -- retort:up\n-- retort:transaction off\nSELECT 1;\n\n-- retort:down\n"
        );
        let r = parse_revision(&text, Path::new("x.sql")).unwrap();
        assert_eq!(r.up, "-- retort:transaction off\nSELECT 1;");
        assert_eq!(render_revision(&r), text);
        let bad = text.replace("transaction off", "transaction maybe");
        let err = parse_revision(&bad, Path::new("x.sql"))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("x.sql:7: bad `-- retort:transaction maybe`"),
            "{err}"
        );
        let header = text.replace(
            "-- retort:created t\n",
            "-- retort:created t\n-- retort:transaction off\n",
        );
        let err = parse_revision(&header, Path::new("x.sql"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("belongs inside"), "{err}");
    }

    fn graph() -> (tempfile::TempDir, RevisionGraph) {
        project(&[
            rev(
                R1,
                &[],
                "mood",
                "CREATE TYPE mood AS ENUM ('sad', 'ok');\nCREATE TABLE person (name TEXT, m mood);",
                "DROP TABLE person;\nDROP TYPE mood;",
            ),
            rev(
                R2,
                &[R1],
                "happy",
                "-- retort:transaction off\nALTER TYPE mood ADD VALUE IF NOT EXISTS 'happy';\n\
                 -- retort:transaction on\nUPDATE person SET m = 'happy' WHERE m = 'ok';\n\
                 -- retort:transaction off\nCREATE INDEX CONCURRENTLY IF NOT EXISTS person_m ON person (m);",
                "DROP INDEX person_m;",
            ),
        ])
    }

    fn snapshot(name: &str, text: &str) {
        insta::with_settings!({
            snapshot_path => concat!(env!("CARGO_MANIFEST_DIR"), "/../../snapshots/migrate"),
            prepend_module_to_snapshot => false,
        }, {
            insta::assert_snapshot!(name, text);
        });
    }

    #[test]
    fn offline_postgres_upgrade_snapshot() {
        let (_d, g) = graph();
        let opts = RunOptions {
            dialect: retort_schema::Dialect::Postgres,
            ..RunOptions::default()
        };
        snapshot(
            "offline_upgrade_postgres",
            &offline_upgrade_sql(&g, &[], &UpgradeTarget::Head, &opts).unwrap(),
        );
        let opts = RunOptions {
            lock: LockMode::Transaction,
            ..opts
        };
        snapshot(
            "offline_downgrade_postgres_transaction_lock",
            &offline_downgrade_sql(&g, &strings(&[R2]), &DowngradeTarget::Base, &opts).unwrap(),
        );
    }

    #[test]
    fn offline_sqlite_segments_snapshot() {
        let (_d, g) = project(&[rev(
            R1,
            &[],
            "segmented",
            "CREATE TABLE a (x);\n-- retort:transaction off\nVACUUM;",
            "DROP TABLE a;",
        )]);
        snapshot(
            "offline_upgrade_sqlite_segments",
            &offline_upgrade_sql(&g, &[], &UpgradeTarget::Head, &RunOptions::default()).unwrap(),
        );
    }

    #[test]
    fn offline_mysql_snapshot() {
        let (_d, g) = project(&[
            rev(
                R1,
                &[],
                "create users",
                "CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR(50));\n\
                 -- retort:transaction off\n\
                 INSERT INTO users VALUES (1, 'it''s');",
                "DROP TABLE users;",
            ),
            rev(
                R2,
                &[R1],
                "add age",
                "ALTER TABLE users ADD COLUMN age INT;",
                "ALTER TABLE users DROP COLUMN age;",
            ),
        ]);
        let opts = RunOptions {
            dialect: retort_schema::Dialect::Mysql,
            ..RunOptions::default()
        };
        snapshot(
            "offline_upgrade_mysql",
            &offline_upgrade_sql(&g, &[], &UpgradeTarget::Head, &opts).unwrap(),
        );
        snapshot(
            "offline_downgrade_mysql",
            &offline_downgrade_sql(&g, &strings(&[R2]), &DowngradeTarget::Base, &opts).unwrap(),
        );
    }

    #[test]
    fn lock_mode_names() {
        assert_eq!(
            LockMode::from_name("transaction").unwrap(),
            LockMode::Transaction
        );
        assert_eq!(LockMode::from_name("session").unwrap().name(), "session");
        assert!(matches!(
            LockMode::from_name("table"),
            Err(MigrateError::InvalidLockMode(_))
        ));
    }
}

mod mysql {
    use super::*;
    use retort_test_support::{Server, TestDatabase};
    use sqlx::{Connection, MySqlConnection, Row};

    const R1: &str = "111111111111";
    const R2: &str = "222222222222";
    const R3: &str = "333333333333";

    async fn connect(db: &TestDatabase) -> MySqlConnection {
        MySqlConnection::connect(db.url()).await.unwrap()
    }

    async fn tables(conn: &mut MySqlConnection) -> Vec<String> {
        sqlx::query_scalar(
            "SELECT CAST(table_name AS CHAR) FROM information_schema.tables \
             WHERE table_schema = DATABASE() ORDER BY 1",
        )
        .fetch_all(&mut *conn)
        .await
        .unwrap()
    }

    async fn columns(conn: &mut MySqlConnection, table: &str) -> Vec<String> {
        sqlx::query_scalar(
            "SELECT CAST(column_name AS CHAR) FROM information_schema.columns \
             WHERE table_schema = DATABASE() AND table_name = ? ORDER BY ordinal_position",
        )
        .bind(table)
        .fetch_all(&mut *conn)
        .await
        .unwrap()
    }

    async fn versions(conn: &mut MySqlConnection) -> Vec<String> {
        current(conn, &VersionTable::default()).await.unwrap()
    }

    async fn partial(conn: &mut MySqlConnection) -> Vec<PartialRevision> {
        partial_progress(conn, &VersionTable::default())
            .await
            .unwrap()
    }

    /// Whether any connection holds the runner's lock.
    async fn lock_held(conn: &mut MySqlConnection) -> bool {
        let name = retort_migrate::mysql::lock_name(conn, &VersionTable::default())
            .await
            .unwrap();
        let holder: Option<i64> = sqlx::query_scalar("SELECT IS_USED_LOCK(?)")
            .bind(name)
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        holder.is_some()
    }

    async fn up(
        conn: &mut MySqlConnection,
        g: &RevisionGraph,
        target: &str,
    ) -> Result<Vec<Event>, MigrateError> {
        let mut events = Vec::new();
        upgrade(
            conn,
            g,
            &UpgradeTarget::from(target),
            &RunOptions::default(),
            &mut |e| events.push(e),
        )
        .await?;
        Ok(events)
    }

    async fn down(
        conn: &mut MySqlConnection,
        g: &RevisionGraph,
        target: &str,
    ) -> Result<Vec<Event>, MigrateError> {
        let mut events = Vec::new();
        downgrade(
            conn,
            g,
            &DowngradeTarget::from(target),
            &RunOptions::default(),
            &mut |e| events.push(e),
        )
        .await?;
        Ok(events)
    }

    fn chain() -> (tempfile::TempDir, RevisionGraph) {
        project(&[
            rev(
                R1,
                &[],
                "create users",
                "CREATE TABLE users (id BIGINT AUTO_INCREMENT PRIMARY KEY, name TEXT NOT NULL);",
                "DROP TABLE users;",
            ),
            rev(
                R2,
                &[R1],
                "add age",
                "ALTER TABLE users ADD COLUMN age INT;",
                "ALTER TABLE users DROP COLUMN age;",
            ),
            rev(
                R3,
                &[R2],
                "create posts",
                "CREATE TABLE posts (id BIGINT PRIMARY KEY, user_id BIGINT, \
                 FOREIGN KEY (user_id) REFERENCES users (id));",
                "DROP TABLE posts;",
            ),
        ])
    }

    /// Under NO_BACKSLASH_ESCAPES `'a\\b'` is two backslashes; the
    /// statement every retort connection and offline script runs first
    /// turns the mode off (and keeps the rest), so the rendered literal is
    /// read as one backslash again.
    #[tokio::test(flavor = "current_thread")]
    async fn backslash_escapes_are_turned_back_on() {
        let Some(db) = TestDatabase::new(Server::Mysql) else {
            return;
        };
        let mut conn = connect(&db).await;
        sqlx::raw_sql("SET SESSION sql_mode = 'NO_BACKSLASH_ESCAPES,STRICT_TRANS_TABLES'")
            .execute(&mut conn)
            .await
            .unwrap();
        let literal = retort_migrate::mysql::script::literal("a\\b");
        let read = |sql: String| sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql));
        let before: String = read(format!("SELECT CAST({literal} AS CHAR)"))
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(before, "a\\\\b");
        sqlx::raw_sql(retort_migrate::mysql::script::CLEAR_NO_BACKSLASH_ESCAPES)
            .execute(&mut conn)
            .await
            .unwrap();
        // Another text: sqlx caches the statement prepared under the old mode.
        let after: String = read(format!("SELECT CAST({literal} AS CHAR) AS cleared"))
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(after, "a\\b");
        let mode: String = read("SELECT CAST(@@SESSION.sql_mode AS CHAR)".to_string())
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(mode, "STRICT_TRANS_TABLES");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn upgrade_downgrade_and_relative_steps() {
        let Some(db) = TestDatabase::new(Server::Mysql) else {
            return;
        };
        let (_d, g) = chain();
        let mut conn = connect(&db).await;
        // Reading the current version on a fresh database creates nothing.
        assert_eq!(versions(&mut conn).await, Vec::<String>::new());
        assert_eq!(partial(&mut conn).await, []);
        assert_eq!(tables(&mut conn).await, Vec::<String>::new());

        let events = up(&mut conn, &g, "+1").await.unwrap();
        assert!(
            matches!(&events[..], [Event::Applying { id, .. }, Event::Applied { id: id2, .. }] if id == R1 && id2 == R1),
            "{events:?}"
        );
        assert_eq!(
            tables(&mut conn).await,
            ["retort_version", "retort_version_progress", "users"]
        );
        up(&mut conn, &g, "head").await.unwrap();
        assert_eq!(versions(&mut conn).await, [R3]);
        assert_eq!(columns(&mut conn, "users").await, ["id", "name", "age"]);
        assert_eq!(
            up(&mut conn, &g, "head").await.unwrap(),
            [Event::AlreadyAtTarget {
                current: strings(&[R3])
            }]
        );
        down(&mut conn, &g, "-2").await.unwrap();
        assert_eq!(versions(&mut conn).await, [R1]);
        assert_eq!(columns(&mut conn, "users").await, ["id", "name"]);
        down(&mut conn, &g, "base").await.unwrap();
        assert_eq!(
            tables(&mut conn).await,
            ["retort_version", "retort_version_progress"]
        );
        assert_eq!(versions(&mut conn).await, Vec::<String>::new());
        up(&mut conn, &g, "2222").await.unwrap();
        assert_eq!(versions(&mut conn).await, [R2]);
        // Nothing half-done is left, and every run released its lock.
        assert_eq!(partial(&mut conn).await, []);
        assert!(!lock_held(&mut conn).await);
    }

    /// R1 creates table `a`; R2 has five statements, the third of which is
    /// `third`.
    fn five_statements(third: &str, first: &str) -> (tempfile::TempDir, RevisionGraph) {
        project(&[
            rev(R1, &[], "create a", "CREATE TABLE a (x INT);", ""),
            rev(
                R2,
                &[R1],
                "five steps",
                &format!(
                    "{first}\nCREATE TABLE s2 (x INT);\n{third}\n\
                     -- retort:transaction off\nCREATE TABLE s4 (x INT);\n\
                     -- retort:transaction on\nINSERT INTO s4 VALUES (4);"
                ),
                "DROP TABLE s4;\nDROP TABLE s3;\nDROP TABLE s2;\nDROP TABLE s1;",
            ),
        ])
    }

    const FIRST: &str = "CREATE TABLE s1 (x INT);";
    const BROKEN: &str = "INSERT INTO missing VALUES (1);";
    const FIXED: &str = "CREATE TABLE s3 (x INT);";

    #[tokio::test(flavor = "current_thread")]
    async fn failure_at_statement_3_of_5_keeps_1_and_2_and_the_fixed_file_resumes_at_3() {
        let Some(db) = TestDatabase::new(Server::Mysql) else {
            return;
        };
        let mut conn = connect(&db).await;
        let (_d, g) = five_statements(BROKEN, FIRST);
        let err = up(&mut conn, &g, "head").await.unwrap_err();
        let MigrateError::Statement(ref failure) = err else {
            panic!("{err:?}");
        };
        assert_eq!(
            (
                failure.index,
                failure.count,
                failure.committed,
                failure.line
            ),
            (3, 5, 2, 9)
        );
        assert!(failure.progress_recorded);
        assert_eq!(failure.current, [R1]);
        let msg = err.to_string();
        for part in [
            "revision 222222222222 (\"five steps\", ",
            "failed in its up section at statement 3 of 5 (line 9): `INSERT INTO missing VALUES (1);`; ",
            "statements 1-2 were applied and stay in place (MySQL commits every statement on its own), \
             and the revision is NOT recorded as applied; ",
            "either fix statements 3-5 in the file so that they complete the change, leaving statements 1-2 \
             exactly as they are, and run the command again: retort resumes at statement 3; \
             or undo statements 1-2 by hand and run `retort stamp 111111111111` to clear the record, ",
            "revisions completed earlier in this run stay in place (111111111111)",
        ] {
            assert!(msg.contains(part), "missing {part:?} in\n{msg}");
        }
        let source = std::error::Error::source(&err).unwrap().to_string();
        assert!(source.contains("missing"), "{source}");
        // Statements 1-2 are in place, the revision is not recorded, the
        // progress is, and the lock was released.
        assert_eq!(
            tables(&mut conn).await,
            ["a", "retort_version", "retort_version_progress", "s1", "s2"]
        );
        assert_eq!(versions(&mut conn).await, [R1]);
        let recorded = partial(&mut conn).await;
        assert_eq!(
            recorded
                .iter()
                .map(|p| (p.id.as_str(), p.direction, p.applied, p.count))
                .collect::<Vec<_>>(),
            [(R2, Direction::Upgrade, 2, 5)]
        );
        assert_eq!(
            recorded[0].checksums,
            [
                statement_checksum(FIRST),
                statement_checksum("CREATE TABLE s2 (x INT)")
            ]
        );
        assert!(!lock_held(&mut conn).await);

        // The fixed file resumes at statement 3 and completes.
        let (_d, g) = five_statements(FIXED, FIRST);
        let events = up(&mut conn, &g, "head").await.unwrap();
        assert!(
            matches!(
                &events[..],
                [Event::Applying { .. }, Event::Resuming { id, applied: 2, count: 5 }, Event::Applied { .. }]
                    if id == R2
            ),
            "{events:?}"
        );
        assert_eq!(versions(&mut conn).await, [R2]);
        assert_eq!(partial(&mut conn).await, []);
        assert_eq!(
            tables(&mut conn).await,
            [
                "a",
                "retort_version",
                "retort_version_progress",
                "s1",
                "s2",
                "s3",
                "s4"
            ]
        );
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM s4")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(n, 1);
        // And the downgrade reverts all of it.
        down(&mut conn, &g, "-1").await.unwrap();
        assert_eq!(
            tables(&mut conn).await,
            ["a", "retort_version", "retort_version_progress"]
        );
        assert_eq!(versions(&mut conn).await, [R1]);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_failed_resume_reports_where_it_started() {
        let Some(db) = TestDatabase::new(Server::Mysql) else {
            return;
        };
        let mut conn = connect(&db).await;
        let (_d, g) = five_statements(BROKEN, FIRST);
        up(&mut conn, &g, "head").await.unwrap_err();
        // Still broken: fails at the same statement, nothing new applied.
        let err = up(&mut conn, &g, "head").await.unwrap_err();
        let MigrateError::Statement(ref failure) = err else {
            panic!("{err:?}");
        };
        assert_eq!(
            (failure.index, failure.committed, failure.resumed_at),
            (3, 2, Some(3))
        );
        assert!(
            err.to_string()
                .contains("this run resumed at statement 3; statements 1-2 were applied"),
            "{err}"
        );
        assert_eq!(partial(&mut conn).await[0].applied, 2);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn editing_an_applied_statement_is_refused_and_stamp_clears_the_record() {
        let Some(db) = TestDatabase::new(Server::Mysql) else {
            return;
        };
        let mut conn = connect(&db).await;
        let (_d, g) = five_statements(BROKEN, FIRST);
        up(&mut conn, &g, "head").await.unwrap_err();

        let (_d, g) = five_statements(FIXED, "CREATE TABLE s1 (x BIGINT);");
        let err = up(&mut conn, &g, "head").await.unwrap_err();
        assert!(
            matches!(
                err,
                MigrateError::ProgressMismatch {
                    applied: 2,
                    changed: 1,
                    ..
                }
            ),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains("was partly applied by an earlier run (statements 1-2 of its up section), but statement 1 has changed in the file since; restore statements 1-2 as they were applied (retort then resumes at statement 3), or undo them by hand and run `retort stamp 111111111111` to clear the record"),
            "{msg}"
        );
        // Refused before running anything.
        assert_eq!(
            tables(&mut conn).await,
            ["a", "retort_version", "retort_version_progress", "s1", "s2"]
        );
        assert_eq!(versions(&mut conn).await, [R1]);
        assert!(!lock_held(&mut conn).await);

        // Running any other revision first is refused too.
        let err = down(&mut conn, &g, "base").await.unwrap_err();
        assert!(
            matches!(err, MigrateError::PartiallyApplied { ref id, applied: 2, count: 5, .. } if id == R2),
            "{err:?}"
        );
        assert!(
            err.to_string().contains("run the upgrade again with a target that includes 222222222222 to resume it at statement 3, or undo statements 1-2 by hand and run `retort stamp 111111111111`"),
            "{err}"
        );

        // The other recovery: undo by hand, stamp, and the edited file runs whole.
        sqlx::raw_sql("DROP TABLE s1; DROP TABLE s2")
            .execute(&mut conn)
            .await
            .unwrap();
        stamp(&mut conn, &g, R1, &RunOptions::default(), &mut |_| {})
            .await
            .unwrap();
        assert_eq!(partial(&mut conn).await, []);
        let events = up(&mut conn, &g, "head").await.unwrap();
        assert!(
            !events.iter().any(|e| matches!(e, Event::Resuming { .. })),
            "{events:?}"
        );
        assert_eq!(versions(&mut conn).await, [R2]);
        assert_eq!(columns(&mut conn, "s1").await, ["x"]);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn the_lock_is_released_after_an_error() {
        let Some(db) = TestDatabase::new(Server::Mysql) else {
            return;
        };
        let (_bad_dir, bad) = project(&[rev(
            R1,
            &[],
            "t",
            "CREATE TABLE t (x INT);\nINSERT INTO missing VALUES (1);",
            "",
        )]);
        let (_good_dir, good) = project(&[rev(
            R1,
            &[],
            "t",
            "CREATE TABLE t (x INT);\nCREATE TABLE u (x INT);",
            "",
        )]);
        let mut first = connect(&db).await;
        up(&mut first, &bad, "head").await.unwrap_err();
        // `first` stays open: a lock it still held would block `second`.
        let mut second = connect(&db).await;
        let events = tokio::time::timeout(
            std::time::Duration::from_secs(20),
            up(&mut second, &good, "head"),
        )
        .await
        .expect("the failed run still holds the lock")
        .unwrap();
        assert!(events.iter().any(|e| matches!(e, Event::Applied { .. })));
        assert_eq!(versions(&mut first).await, [R1]);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn lock_timeout_is_a_clear_error_and_the_name_matches_the_script() {
        let Some(db) = TestDatabase::new(Server::Mysql) else {
            return;
        };
        let table = VersionTable::default();
        let mut holder = connect(&db).await;
        let mut waiter = connect(&db).await;
        retort_migrate::mysql::lock_with_timeout(
            &mut holder,
            &table,
            std::time::Duration::from_secs(1),
        )
        .await
        .unwrap();
        let err = retort_migrate::mysql::lock_with_timeout(
            &mut waiter,
            &table,
            std::time::Duration::from_millis(300),
        )
        .await
        .unwrap_err();
        let name = format!("retort:{}.retort_version", db.name());
        assert!(
            matches!(err, MigrateError::LockTimeout { name: ref n, .. } if *n == name),
            "{err:?}"
        );
        assert!(
            err.to_string().starts_with(&format!(
                "timed out after 1 s waiting for the lock `{name}`: another retort is still running on this database"
            )),
            "{err}"
        );
        // The offline script computes the same name in SQL.
        let expr = retort_migrate::mysql::script::lock_name_expr(&table);
        let from_sql: String = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT {expr}")))
            .fetch_one(&mut waiter)
            .await
            .unwrap();
        assert_eq!(from_sql, name);
    }

    /// A log table and `n` revisions each inserting their own row; the first
    /// one sleeps so that every runner is waiting while it runs.
    fn logged_chain(n: usize) -> (tempfile::TempDir, RevisionGraph) {
        let mut revs = vec![rev(
            R1,
            &[],
            "log",
            "CREATE TABLE log (rev VARCHAR(10) NOT NULL);\nDO SLEEP(0.3);\nINSERT INTO log VALUES ('r1');",
            "",
        )];
        let mut parent = R1.to_string();
        for k in 2..=n {
            let id = format!("{k:012x}");
            let up = format!("INSERT INTO log VALUES ('r{k}');\nCREATE TABLE t{k} (x INT);");
            revs.push(rev(&id, &[&parent], &format!("step {k}"), &up, ""));
            parent = id;
        }
        project(&revs)
    }

    #[tokio::test(flavor = "current_thread")]
    async fn concurrent_upgrades_apply_each_revision_once_and_the_others_wait() {
        let Some(db) = TestDatabase::new(Server::Mysql) else {
            return;
        };
        const REVISIONS: usize = 6;
        let (_d, g) = logged_chain(REVISIONS);
        let mut conns = Vec::new();
        for _ in 0..4 {
            conns.push(connect(&db).await);
        }
        let [mut a, mut b, mut c, mut d] = conns.try_into().unwrap();
        let (ra, rb, rc, rd) = tokio::join!(
            up(&mut a, &g, "head"),
            up(&mut b, &g, "head"),
            up(&mut c, &g, "head"),
            up(&mut d, &g, "head"),
        );
        let all: Vec<Vec<Event>> = [ra, rb, rc, rd].into_iter().map(Result::unwrap).collect();
        let applied: usize = all
            .iter()
            .flatten()
            .filter(|e| matches!(e, Event::Applied { .. }))
            .count();
        assert_eq!(applied, REVISIONS, "{all:?}");
        let waited = all
            .iter()
            .filter(|events| matches!(&events[..], [Event::AlreadyAtTarget { .. }]))
            .count();
        assert_eq!(waited, 3, "{all:?}");
        let rows =
            sqlx::query("SELECT CAST(rev AS CHAR), COUNT(*) FROM log GROUP BY rev ORDER BY rev")
                .fetch_all(&mut a)
                .await
                .unwrap();
        let got: Vec<(String, i64)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        let want: Vec<(String, i64)> = (1..=REVISIONS).map(|k| (format!("r{k}"), 1)).collect();
        assert_eq!(got, want);
        assert_eq!(versions(&mut a).await, [format!("{REVISIONS:012x}")]);
        assert!(!lock_held(&mut a).await);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn transaction_lock_mode_still_takes_the_session_lock() {
        let Some(db) = TestDatabase::new(Server::Mysql) else {
            return;
        };
        let (_d, g) = logged_chain(2);
        let opts = RunOptions {
            lock: LockMode::Transaction,
            ..RunOptions::default()
        };
        let mut a = connect(&db).await;
        let mut b = connect(&db).await;
        let (mut ea, mut eb) = (Vec::new(), Vec::new());
        let (mut pa, mut pb) = (|e| ea.push(e), |e| eb.push(e));
        let (ra, rb) = tokio::join!(
            upgrade(&mut a, &g, &UpgradeTarget::Head, &opts, &mut pa),
            upgrade(&mut b, &g, &UpgradeTarget::Head, &opts, &mut pb),
        );
        ra.unwrap();
        rb.unwrap();
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM log")
            .fetch_one(&mut a)
            .await
            .unwrap();
        assert_eq!(n, 2);
        assert!(
            [&ea, &eb]
                .iter()
                .any(|e| matches!(&e[..], [Event::AlreadyAtTarget { .. }])),
            "{ea:?} {eb:?}"
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn stamp_on_mysql() {
        let Some(db) = TestDatabase::new(Server::Mysql) else {
            return;
        };
        let (_d, g) = chain();
        let mut conn = connect(&db).await;
        stamp(&mut conn, &g, "2222", &RunOptions::default(), &mut |_| {})
            .await
            .unwrap();
        assert_eq!(
            tables(&mut conn).await,
            ["retort_version", "retort_version_progress"]
        );
        assert_eq!(versions(&mut conn).await, [R2]);
        assert!(!lock_held(&mut conn).await);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn offline_mysql_script_does_what_the_runner_does() {
        let Some(db) = TestDatabase::new(Server::Mysql) else {
            return;
        };
        let (_d, g) = chain();
        let opts = RunOptions {
            dialect: retort_schema::Dialect::Mysql,
            ..RunOptions::default()
        };
        let sql = offline_upgrade_sql(&g, &[], &UpgradeTarget::Head, &opts).unwrap();
        let mut conn = connect(&db).await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .unwrap();
        assert_eq!(versions(&mut conn).await, [R3]);
        assert_eq!(partial(&mut conn).await, []);
        assert_eq!(
            tables(&mut conn).await,
            [
                "posts",
                "retort_version",
                "retort_version_progress",
                "users"
            ]
        );
        assert!(!lock_held(&mut conn).await);
        // The online runner agrees with what the script recorded.
        assert_eq!(
            up(&mut conn, &g, "head").await.unwrap(),
            [Event::AlreadyAtTarget {
                current: strings(&[R3])
            }]
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_script_stopped_halfway_is_resumed_by_the_runner() {
        let Some(db) = TestDatabase::new(Server::Mysql) else {
            return;
        };
        let (_d, g) = five_statements(FIXED, FIRST);
        let opts = RunOptions {
            dialect: retort_schema::Dialect::Mysql,
            ..RunOptions::default()
        };
        let sql = offline_upgrade_sql(&g, &[], &UpgradeTarget::Head, &opts).unwrap();
        // Simulate the mysql client stopping after R2's second statement and
        // its progress row.
        let cut = sql.find("CREATE TABLE s3").unwrap();
        let mut conn = connect(&db).await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql[..cut].to_string()))
            .execute(&mut conn)
            .await
            .unwrap();
        let events = up(&mut conn, &g, "head").await.unwrap();
        assert!(
            events
                .iter()
                .any(|e| matches!(e, Event::Resuming { applied: 2, .. })),
            "{events:?}"
        );
        assert_eq!(versions(&mut conn).await, [R2]);
    }
}

/// `-- retort:todo` lines: kept by the parser, refused by the runner.
mod todos {
    use super::*;

    const R1: &str = "aaaaaaaaaaa1";
    const R2: &str = "aaaaaaaaaaa2";

    const UNFINISHED_UP: &str = "ALTER TABLE users ADD COLUMN nick TEXT;\n\
        -- retort:todo backfill users.nick: replace <placeholder>\n\
        UPDATE users SET nick = <placeholder> WHERE nick IS NULL;";

    fn unfinished() -> (tempfile::TempDir, RevisionGraph) {
        project(&[
            rev(
                R1,
                &[],
                "create users",
                "CREATE TABLE users (id INTEGER PRIMARY KEY);",
                "DROP TABLE users;",
            ),
            rev(
                R2,
                &[R1],
                "add nick",
                UNFINISHED_UP,
                "ALTER TABLE users DROP COLUMN nick;",
            ),
        ])
    }

    #[test]
    fn parser_keeps_todo_lines_and_knows_their_file_line() {
        let (_dir, graph) = unfinished();
        let r2 = graph.get(R2).unwrap();
        let text = std::fs::read_to_string(&r2.path).unwrap();
        let todos = r2.todos(true);
        assert_eq!(todos.len(), 1);
        let (line, todo) = &todos[0];
        assert_eq!(
            text.lines().nth(line - 1).unwrap().trim(),
            todo,
            "line {line} of the file"
        );
        assert!(todo.starts_with("-- retort:todo backfill users.nick"));
        assert!(r2.todos(false).is_empty());
        // A comment that merely mentions the word is not a todo.
        let mut other = r2.clone();
        other.up = "-- retort:todolist is not a directive\nSELECT 1;".into();
        assert!(other.todos(true).is_empty());
    }

    #[test]
    fn todo_in_the_header_is_an_error() {
        let text = "-- retort:revision aaaaaaaaaaa1\n-- retort:parents\n-- retort:todo x\n";
        let err = parse_revision(text, Path::new("v/aaaaaaaaaaa1_x.sql")).unwrap_err();
        assert!(err.to_string().contains("belongs inside"), "{err}");
    }

    #[tokio::test]
    async fn upgrade_refuses_an_unfinished_revision_and_applies_nothing() {
        let (dir, graph) = unfinished();
        let db = dir.path().join("app.db");
        let mut conn = sqlite_connect_options(&format!("sqlite://{}", db.display()))
            .unwrap()
            .create_if_missing(true)
            .connect()
            .await
            .unwrap();
        let err = upgrade(
            &mut conn,
            &graph,
            &UpgradeTarget::Head,
            &RunOptions::default(),
            &mut |_| {},
        )
        .await
        .unwrap_err();
        let message = err.to_string();
        assert!(
            message.starts_with(&format!("revision {R2} is not finished: "))
                && message.contains("_add_nick.sql:")
                && message.contains("still says `-- retort:todo backfill users.nick"),
            "{message}"
        );
        // Refused before the first revision ran, not half way.
        assert!(
            current(&mut conn, &VersionTable::default())
                .await
                .unwrap()
                .is_empty()
        );
        let tables: Vec<String> =
            sqlx::query_scalar("SELECT name FROM sqlite_master WHERE name = 'users'")
                .fetch_all(&mut conn)
                .await
                .unwrap();
        assert!(tables.is_empty(), "nothing applied");

        let offline =
            offline_upgrade_sql(&graph, &[], &UpgradeTarget::Head, &RunOptions::default())
                .unwrap_err();
        assert!(
            matches!(offline, MigrateError::Unfinished { .. }),
            "{offline}"
        );

        // Once the reviewer fills the value and deletes the line, it runs.
        let path = graph.get(R2).unwrap().path.clone();
        let text = std::fs::read_to_string(&path).unwrap();
        let finished: String = text
            .lines()
            .filter(|l| !l.starts_with("-- retort:todo"))
            .map(|l| l.replace("<placeholder>", "'anon'") + "\n")
            .collect();
        std::fs::write(&path, finished).unwrap();
        let graph = RevisionGraph::load(dir.path()).unwrap();
        upgrade(
            &mut conn,
            &graph,
            &UpgradeTarget::Head,
            &RunOptions::default(),
            &mut |_| {},
        )
        .await
        .unwrap();
        assert_eq!(
            current(&mut conn, &VersionTable::default()).await.unwrap(),
            vec![R2.to_string()]
        );
    }
}

mod interrupts {
    use super::*;
    use std::time::{Duration, Instant};

    const R1: &str = "111111111111";
    const R2: &str = "222222222222";

    async fn connect(path: &Path) -> SqliteConnection {
        sqlite_connect_options(&format!("sqlite://{}", path.display()))
            .unwrap()
            .connect()
            .await
            .unwrap()
    }

    /// R1 is quick; R2 inserts rows for many seconds.
    fn slow_chain() -> (tempfile::TempDir, RevisionGraph) {
        project(&[
            rev(
                R1,
                &[],
                "quick",
                "CREATE TABLE a (id INTEGER);",
                "DROP TABLE a;",
            ),
            rev(
                R2,
                &[R1],
                "slow",
                "CREATE TABLE b (x INTEGER);\n\
                 WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 500000000) \
                 INSERT INTO b SELECT x FROM c;",
                "DROP TABLE b;",
            ),
        ])
    }

    #[tokio::test]
    async fn a_trigger_during_a_sqlite_statement_stops_it_and_rolls_the_revision_back() {
        let (dir, graph) = slow_chain();
        let db = dir.path().join("app.db");
        let mut conn = connect(&db).await;
        let opts = RunOptions::default();
        let interrupt = opts.interrupt.clone();
        let trigger = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(500)).await;
            interrupt.trigger();
        });
        let started = Instant::now();
        let err = upgrade(&mut conn, &graph, &UpgradeTarget::Head, &opts, &mut |_| {})
            .await
            .unwrap_err();
        trigger.await.unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "not waited for"
        );
        let MigrateError::Interrupted(interrupted) = err else {
            panic!("{err}");
        };
        assert_eq!(interrupted.revision.as_deref(), Some(R2));
        assert_eq!(interrupted.statement.map(|(i, n, _)| (i, n)), Some((2, 2)));
        assert_eq!(interrupted.fate, Some(StatementFate::Cancelled));
        assert!(interrupted.rolled_back);
        assert_eq!(interrupted.earlier, strings(&[R1]));
        assert_eq!(interrupted.current, strings(&[R1]));
        // Nothing of R2 is left, and the connection works normally again
        // (the progress handler is gone).
        let b: Option<String> =
            sqlx::query_scalar("SELECT name FROM sqlite_master WHERE name = 'b'")
                .fetch_optional(&mut conn)
                .await
                .unwrap();
        assert_eq!(b, None);
        assert_eq!(
            current(&mut conn, &VersionTable::default()).await.unwrap(),
            strings(&[R1])
        );
        sqlx::raw_sql("CREATE TABLE after_it (id INTEGER)")
            .execute(&mut conn)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_trigger_before_the_run_stops_it_before_any_revision() {
        let (dir, graph) = slow_chain();
        let mut conn = connect(&dir.path().join("app.db")).await;
        let opts = RunOptions::default();
        opts.interrupt.trigger();
        let err = upgrade(&mut conn, &graph, &UpgradeTarget::Head, &opts, &mut |_| {})
            .await
            .unwrap_err();
        let MigrateError::Interrupted(interrupted) = err else {
            panic!("{err}");
        };
        assert_eq!(interrupted.revision, None);
        assert!(interrupted.earlier.is_empty());
        let text = interrupted.to_string();
        assert!(text.contains("interrupted between revisions"), "{text}");
    }
}
