//! Models the loader refuses: `diff`, `check` and `autogen` all stop with
//! the same diagnostic (exit code 2), never a crash or a revision.

use retort_test_support::{Server, TempProject, TestDatabase};

use crate::binary;

/// Runs `diff`, `check` and `autogen` on SQLite models `models`; each must
/// exit 2 with a diagnostic `code` at `schema.sql:LINE:COLUMN`, and write
/// no revision.
fn refused_everywhere(models: &str, code: &str, line_col: &str) {
    refused_everywhere_on(&TempProject::sqlite(binary(), models), code, line_col);
}

fn refused_everywhere_on(project: &TempProject, code: &str, line_col: &str) {
    for command in [&["diff"][..], &["check"], &["autogen", "-m", "x"]] {
        let run = project.retort(command).expect_code(2, &command.join(" "));
        assert!(
            run.stderr.contains(&format!("schema.sql:{line_col}]")) && run.stderr.contains(code),
            "{command:?}: expected {code} at {line_col}:\n{}",
            run.stderr.chars().take(2000).collect::<String>()
        );
    }
    assert!(project.revision_files().is_empty());
}

#[test]
fn deep_expressions_are_refused_at_their_position() {
    let chain = vec!["1"; 7000].join(" + ");
    refused_everywhere(
        &format!("CREATE TABLE t (\n  id INTEGER PRIMARY KEY,\n  n INTEGER DEFAULT {chain}\n);\n"),
        "expression-too-deep",
        "3:21",
    );
    refused_everywhere(
        &format!(
            "CREATE TABLE t (\n  id INTEGER PRIMARY KEY,\n  n INTEGER,\n  CHECK ({chain} > n)\n);\n"
        ),
        "expression-too-deep",
        "4:9",
    );
    let parens = format!("{}1{}", "(".repeat(3000), ")".repeat(3000));
    refused_everywhere(
        &format!("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER DEFAULT {parens});\n"),
        "expression-too-deep",
        "1:59",
    );
    let calls = format!("{}n{}", "abs(".repeat(3000), ")".repeat(3000));
    refused_everywhere(
        &format!(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER);\nCREATE INDEX ix ON t ({calls});\n"
        ),
        "expression-too-deep",
        "2:20",
    );
}

#[test]
fn expressions_short_of_the_bound_still_load() {
    // 30 nested calls and a 300-term chain: far beyond real schemas, and
    // within the bound.
    let calls = format!("{}n{}", "abs(".repeat(30), ")".repeat(30));
    let chain = vec!["1"; 300].join(" + ");
    let project = TempProject::sqlite(
        binary(),
        &format!(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER DEFAULT ({chain}), CHECK ({calls} >= 0));\n"
        ),
    );
    project.autogen_and_upgrade("deep");
    project.retort(&["check"]).success("check after upgrade");
}

#[test]
fn postgres_unknown_type_is_refused_before_upgrade() {
    let Some(db) = TestDatabase::new(Server::Postgres) else {
        return;
    };
    let project = TempProject::with_url(
        binary(),
        "CREATE TABLE todos (\n    id int PRIMARY KEY,\n    status todo_status NOT NULL\n);\n",
        db.url(),
    );
    refused_everywhere_on(&project, "unknown-type", "3:5");
}

#[test]
fn mysql_key_on_a_whole_text_column_is_refused_before_upgrade() {
    let Some(db) = TestDatabase::new(Server::Mysql) else {
        return;
    };
    let project = TempProject::with_url(
        binary(),
        "CREATE TABLE notes (\n    body TEXT,\n    UNIQUE KEY uq_body (body)\n);\n",
        db.url(),
    );
    refused_everywhere_on(&project, "unsupported-key", "3:25");
}

#[test]
fn sqlite_default_now_is_refused_before_upgrade() {
    refused_everywhere(
        "CREATE TABLE t (\n    id INTEGER PRIMARY KEY,\n    at TEXT DEFAULT (now())\n);\n",
        "invalid-default",
        "3:22",
    );
}

#[test]
fn postgres_partitioning_is_refused_by_name() {
    let Some(db) = TestDatabase::new(Server::Postgres) else {
        return;
    };
    let project = TempProject::with_url(
        binary(),
        "CREATE TABLE m (id int, at date)\n  PARTITION BY RANGE (at);\n",
        db.url(),
    );
    refused_everywhere_on(&project, "unsupported-clause", "2:3");
    let run = project.retort(&["diff"]);
    assert!(
        run.stderr.contains("PARTITION BY is not supported yet"),
        "{}",
        run.stderr
    );
    let project = TempProject::with_url(
        binary(),
        "CREATE TABLE m (id int, at date);\nCREATE TABLE m1 PARTITION OF m\n  FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');\n",
        db.url(),
    );
    refused_everywhere_on(&project, "unsupported-clause", "2:17");
}

#[test]
fn sqlite_strict_tables_are_refused_by_name() {
    refused_everywhere(
        "CREATE TABLE t (\n    id INTEGER PRIMARY KEY,\n    v TEXT\n) STRICT;\n",
        "unsupported-clause",
        "4:3",
    );
}

/// The live side refuses what the models cannot declare: a database object
/// with such a feature stops `diff` (exit 2) with the object, its table
/// and the feature named, instead of reading as something else. Once the
/// `[autogen]` filters leave it out, it no longer stops the run.
#[test]
fn postgres_live_features_the_models_cannot_declare_are_refused_unless_excluded() {
    let Some(db) = TestDatabase::new(Server::Postgres) else {
        return;
    };
    retort_test_support::db_exec(
        db.url(),
        "CREATE TABLE legacy (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY);
         CREATE TABLE t (a int, b int);
         CREATE INDEX ix_t ON t (a) INCLUDE (b);",
    );
    let project = TempProject::with_url(binary(), "CREATE TABLE t (a int, b int);\n", db.url());
    let run = project.retort(&["diff"]).expect_code(2, "diff");
    assert!(
        run.stderr.contains(
            "column `id` on table `legacy` is GENERATED ALWAYS AS IDENTITY (retort creates and \
             compares identity columns as GENERATED BY DEFAULT), which retort cannot carry yet: \
             switch it with `ALTER TABLE legacy ALTER COLUMN id SET GENERATED BY DEFAULT`, or \
             exclude the table with [autogen] exclude_tables"
        ),
        "{}",
        run.stderr
    );
    let config = project.read("retort.toml");
    project.write(
        "retort.toml",
        &format!("{config}\n[autogen]\nexclude_tables = [\"legacy\"]\n"),
    );
    let run = project.retort(&["diff"]).expect_code(2, "diff");
    assert!(
        run.stderr.contains(
            "index `ix_t` on table `t` has INCLUDE columns, which retort cannot carry yet: \
             exclude it with [autogen] exclude_objects (\"t.ix_t\") or the table with \
             exclude_tables, or drop the clause"
        ),
        "{}",
        run.stderr
    );
    project.write(
        "retort.toml",
        &format!(
            "{config}\n[autogen]\nexclude_tables = [\"legacy\"]\nexclude_objects = [\"t.ix_t\"]\n"
        ),
    );
    project.retort(&["check"]).success("check");
    assert!(project.revision_files().is_empty());
}

/// The same on MySQL/MariaDB: a table on another engine stops `diff` by
/// name until `exclude_tables` leaves it out.
#[test]
fn mysql_live_engines_the_models_cannot_declare_are_refused_unless_excluded() {
    let Some(db) = TestDatabase::new(Server::Mysql) else {
        return;
    };
    retort_test_support::db_exec(
        db.url(),
        "CREATE TABLE cache (k int) ENGINE=MyISAM; CREATE TABLE t (a int);",
    );
    let project = TempProject::with_url(binary(), "CREATE TABLE t (a int);\n", db.url());
    let run = project.retort(&["diff"]).expect_code(2, "diff");
    assert!(
        run.stderr.contains(
            "table `cache` has ENGINE=MyISAM, which retort cannot carry yet (the models declare \
             InnoDB tables without options): exclude the table with [autogen] exclude_tables"
        ),
        "{}",
        run.stderr
    );
    let config = project.read("retort.toml");
    project.write(
        "retort.toml",
        &format!("{config}\n[autogen]\nexclude_tables = [\"cache\"]\n"),
    );
    project.retort(&["check"]).success("check");
}
