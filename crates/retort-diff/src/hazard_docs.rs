//! The reference documentation of each hazard, in the manner of ruff's
//! rule docs. `docs/hazards.md` is [`hazards_markdown`]'s output, and a
//! test fails when the two differ, so the docs cannot drift from the codes.

use crate::hazard::{HazardCode, LONG_LOCK_MIN_ROWS, thousands};

/// What one hazard means and what to do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HazardDoc {
    pub code: HazardCode,
    /// A noun phrase for the rule, kebab-case (`drops-data`).
    pub name: &'static str,
    /// What the op does that earns the hazard.
    pub what: &'static str,
    /// Why that is dangerous.
    pub why: &'static str,
    /// A revision fragment carrying the hazard.
    pub example: &'static str,
    /// What to do instead.
    pub instead: &'static str,
    /// How row counts change the report.
    pub data_aware: &'static str,
}

/// The documentation of `code`.
pub fn hazard_doc(code: HazardCode) -> HazardDoc {
    match code {
        HazardCode::DataLoss => HazardDoc {
            code,
            name: "drops-data",
            what: "The op deletes stored values: `drop_table`, `drop_column`, a type change \
                   that narrows a column (`varchar(100)` to `varchar(20)`, `bigint` to \
                   `integer`, text to a number), or removing a value from an enum. `retort \
                   lint` also reports hand-written `DROP TABLE`, `ALTER TABLE … DROP COLUMN`, \
                   `TRUNCATE` and `DELETE` without `WHERE`.",
            why: "Nothing brings the values back: the downgrade re-creates the structure, \
                  not the data. A narrowing change either fails half way on the first value \
                  that does not fit or, on MySQL without strict mode, silently truncates it.",
            example: "-- hazard: data_loss: drops column users.name, holding 4,123 non-null values\n\
                      ALTER TABLE \"users\" DROP COLUMN \"name\";",
            instead: "Make sure the data is no longer needed, or copy it first (a new column or \
                      table, a backup). If the column was renamed, tell retort \
                      (`--rename users.name=full_name`) so it renders a rename that keeps the \
                      rows. Stop the application reading the column before the revision that \
                      drops it (expand, then contract).",
            data_aware: "The message states how many rows a dropped table holds and how many \
                         non-null values a dropped column holds (and the rows of a table whose \
                         column narrows); the JSON carries them as `rows` and `non_null`. Always \
                         reported, also on an empty table.",
        },
        HazardCode::TableRewrite => HazardDoc {
            code,
            name: "rewrites-table",
            what: "The database copies every row of the table: every SQLite rebuild (what \
                   `ALTER TABLE` cannot do in place), a PostgreSQL type change that is not \
                   binary coercible (`integer` to `bigint`), and rebuilding a PostgreSQL enum \
                   to remove or reorder values.",
            why: "The rewrite takes time and disk space proportional to the table, holds a \
                  lock while it runs and, on PostgreSQL, rebuilds every index of the table.",
            example: "-- hazard: table_rewrite: sqlite cannot drop column in place: rebuilds \
                      table users, copying its 4,123 rows\n\
                      CREATE TABLE \"_retort_new_users\" (…);\n\
                      INSERT INTO \"_retort_new_users\" (…) SELECT … FROM \"users\";\n\
                      DROP TABLE \"users\";\n\
                      ALTER TABLE \"_retort_new_users\" RENAME TO \"users\";",
            instead: "Schedule the revision when the table can be locked, or change the schema \
                      in steps that avoid the rewrite: add a new column, backfill it in \
                      batches, switch the application, then drop the old column.",
            data_aware: "On a table that is empty in the database retort read, the message \
                         says the rewrite is instant; otherwise it names the rows copied.",
        },
        HazardCode::LongLock => HazardDoc {
            code,
            name: "blocks-table",
            what: "The op holds a lock that blocks writes (or reads and writes) for as long as \
                   it runs: `CREATE INDEX` without `CONCURRENTLY` on PostgreSQL (SHARE lock), \
                   a PostgreSQL table rewrite (ACCESS EXCLUSIVE).",
            why: "Every query that needs the table queues behind the lock, and queries \
                  queue behind those: an index build of minutes is an outage of minutes.",
            example: "-- hazard: long_lock: creates index ix_users_email on users without \
                      CONCURRENTLY; blocks writes to users while it builds (users has about \
                      2,400,000 rows)\n\
                      CREATE INDEX \"ix_users_email\" ON \"users\" (\"email\");",
            instead: "On PostgreSQL build indexes `CONCURRENTLY` outside the transaction \
                      (`-- retort:transaction off`), set a `lock_timeout`, and run long \
                      rewrites in a maintenance window.",
            data_aware: "Not reported for a table with fewer rows than the threshold below: \
                         the lock lasts milliseconds. At or above it the message names the \
                         rows.",
        },
        HazardCode::FailsOnExistingRows => HazardDoc {
            code,
            name: "fails-on-existing-rows",
            what: "The op adds a rule existing rows may break: a NOT NULL column without a \
                   default, NOT NULL on a nullable column, a unique index or constraint, a \
                   primary key, a foreign key or a check constraint.",
            why: "The revision works on an empty development database and fails on \
                  production, half way through a deploy (and on MySQL, whose DDL is not \
                  transactional, after the statements before it have committed).",
            example: "-- hazard: fails_on_existing_rows: adds NOT NULL column users.age \
                      without a default; fails because users has 4,123 rows (add a default or \
                      make it nullable first)\n\
                      ALTER TABLE \"users\" ADD COLUMN \"age\" INTEGER NOT NULL;",
            instead: "Add the column nullable or with a default, backfill it, then add NOT \
                      NULL; find and fix duplicates or orphans before adding the constraint.",
            data_aware: "Always reported, whatever the database retort read holds: the \
                         revision runs later on databases that do have rows. The message \
                         states the rows of the database at hand (`users has 0 rows here`, \
                         `fails because users has 4,123 rows`) as extra information.",
        },
        HazardCode::Irreversible => HazardDoc {
            code,
            name: "cannot-undo",
            what: "The op's inverse cannot restore what the op removed: the downgrade of a \
                   dropped column re-creates it empty, the downgrade of a dropped table \
                   re-creates it without rows. In a down section it marks a downgrade that \
                   destroys data a later upgrade cannot bring back.",
            why: "A downgrade looks like an undo but is not one: it reports success and the \
                  data is gone.",
            example: "-- hazard: irreversible: the downgrade re-creates column users.name \
                      without its values\n\
                      ALTER TABLE \"users\" DROP COLUMN \"name\";",
            instead: "Keep a backup of the data before upgrading. `retort downgrade` refuses \
                      to revert a revision carrying this hazard in its down section while \
                      what it drops holds data, unless `--accept-data-loss` is given; in its \
                      up section it prints a note.",
            data_aware: "Not data-aware.",
        },
    }
}

/// The text of `docs/hazards.md`.
pub fn hazards_markdown() -> String {
    let mut out = String::from(
        "# Hazards\n\n\
         <!-- Generated by retort_diff::hazards_markdown(); edit crates/retort-diff/src/hazard_docs.rs \
         and run `RETORT_UPDATE_DOCS=1 cargo test -p retort-diff hazards_md` -->\n\n\
         Every op retort plans carries the hazards below where they apply. They appear in \
         `retort diff --format json` (`\"hazards\": [{\"code\": …, \"message\": …}]`, plus \
         `rows`, `non_null` and `estimated` where retort read the figures), in the text \
         summary of `diff`, `check` and `autogen`, and as `-- hazard: <code>: <message>` \
         lines above the statements in a revision file.\n\n\
         Hazards are data-aware: before planning, retort reads row counts of the tables the \
         plan touches (PostgreSQL: `pg_class.reltuples` in one query, `count(*)` for tables \
         under 1,024 pages; MySQL: `information_schema.TABLES.TABLE_ROWS`, `count(*)` below \
         the threshold; SQLite: `count(*)`), and for dropped columns the non-null values \
         (`count(column)`, where the table is counted). The figures describe the database \
         retort connects to, which may not be production.\n\n\
         ## Gating\n\n\
         - `retort check --deny data_loss,long_lock` also exits 1 when the pending ops, or a \
         revision not yet applied, carry a denied hazard, and lists them.\n\
         - `retort lint [REV]` reads the `-- hazard:` lines of the revisions not yet applied \
         (or of REV) and scans their statements for hand-written destructive SQL; it exits 1 \
         when a denied hazard (`--deny`, default `data_loss,irreversible`) is found.\n\
         - `-- retort:allow <code>[, <code>]` in the comment lines above a statement accepts \
         those hazards for that statement.\n\
         - `retort downgrade` refuses to revert a revision whose down section would destroy \
         data (a `data_loss` or `irreversible` statement whose table holds rows, or column \
         non-null values, in the database at hand), listing every such revision, unless \
         `--accept-data-loss` is given.\n\n",
    );
    out.push_str("| Code | Name | Summary |\n|---|---|---|\n");
    for code in HazardCode::ALL {
        let doc = hazard_doc(code);
        let summary = doc.what.split(". ").next().unwrap_or(doc.what);
        let summary = summary.trim_end_matches('.');
        out.push_str(&format!(
            "| `{}` | {} | {summary}. |\n",
            code.as_str(),
            doc.name
        ));
    }
    for code in HazardCode::ALL {
        let doc = hazard_doc(code);
        out.push_str(&format!(
            "\n## `{}` ({})\n\n\
             ### What it means\n\n{}\n\n\
             ### Why it is dangerous\n\n{}\n\n\
             ### Example\n\n```sql\n{}\n```\n\n\
             ### What to do instead\n\n{}\n\n\
             ### Data-aware\n\n{}\n",
            code.as_str(),
            doc.name,
            doc.what,
            doc.why,
            doc.example,
            doc.instead,
            doc.data_aware,
        ));
        if code == HazardCode::LongLock {
            out.push_str(&format!(
                "\nThreshold: {} rows.\n",
                thousands(LONG_LOCK_MIN_ROWS)
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/hazards.md is generated: regenerate it with
    /// `RETORT_UPDATE_DOCS=1 cargo test -p retort-diff hazards_md`.
    #[test]
    fn hazards_md_matches_the_generated_text() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/hazards.md");
        let generated = hazards_markdown();
        if std::env::var_os("RETORT_UPDATE_DOCS").is_some() {
            std::fs::write(&path, &generated).expect("write docs/hazards.md");
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == generated,
            "docs/hazards.md is stale: run `RETORT_UPDATE_DOCS=1 cargo test -p retort-diff hazards_md`"
        );
    }

    #[test]
    fn every_code_is_documented_with_its_own_example() {
        for code in HazardCode::ALL {
            let doc = hazard_doc(code);
            assert_eq!(doc.code, code);
            assert!(
                doc.example
                    .contains(&format!("-- hazard: {}:", code.as_str())),
                "{code:?}"
            );
        }
    }
}
