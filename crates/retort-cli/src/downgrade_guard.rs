//! The downgrade guard: `retort downgrade` refuses to revert revisions
//! whose down sections would destroy data, unless `--accept-data-loss`.
//!
//! Most down sections carry `data_loss` and `irreversible` hazards (the
//! down of `add_column` drops the column, the down of `create_table` drops
//! the table), but what they destroy is usually empty: the column or table
//! was added by the revision being reverted. So the guard counts, in the
//! database at hand, the rows and non-null values each such statement would
//! drop, and refuses only where a count is not zero, or where it cannot
//! count (a removed enum value, a hand-written `-- hazard:` line it cannot
//! tie to a table, an object that does not exist yet because a revision
//! reverted earlier renames it). The refusal lists every affected revision
//! and what it would destroy.
//!
//! Counts are exact up to [`COUNT_CAP`] (a `LIMIT`ed scan: cheap however
//! large the table) and read before the run, against the schema before the
//! first revision is reverted. The runner plans again under its lock; a
//! revision applied meanwhile by another process is not checked here.

use anyhow::{Result, bail};
use retort_diff::{HazardCode, thousands};
use retort_migrate::{DowngradeTarget, RevisionGraph};
use retort_schema::{Dialect, Schema};
// Identifiers in the counting queries are quoted by retort_render's one
// quoting rule.
use std::io::Write;

use crate::config::Settings;
use crate::db::{Access, Database};
use crate::lint::{Finding, Loss};

/// Counts stop here: beyond it the refusal says "more than".
pub const COUNT_CAP: u64 = 1_000_000;

/// Refuses (an error listing every revision and what it destroys) when
/// reverting to `target` would destroy data; prints a note for each
/// reverted revision whose upgrade removed data its downgrade cannot bring
/// back (nothing is lost by the downgrade itself).
pub(crate) async fn refuse_data_loss(
    settings: &Settings,
    graph: &RevisionGraph,
    target: &DowngradeTarget,
    out: &mut (dyn Write + Send),
) -> Result<()> {
    let url = settings.require_database()?;
    let dialect = url.dialect();
    let mut db = Database::open(url, Access::ReadOnly).await?;
    let result = check(&mut db, settings, graph, target, dialect, out).await;
    db.close().await;
    result
}

async fn check(
    db: &mut Database,
    settings: &Settings,
    graph: &RevisionGraph,
    target: &DowngradeTarget,
    dialect: Dialect,
    out: &mut (dyn Write + Send),
) -> Result<()> {
    let current = db.current(&settings.version_table).await?;
    let plan = retort_migrate::plan_downgrade(graph, &current, target)?;
    let mut schema: Option<Schema> = None;
    let mut problems = Vec::new();
    for rev in plan {
        for finding in crate::lint::lint_section(&rev.up, Some(dialect)) {
            if finding.code == HazardCode::Irreversible && !finding.allowed {
                writeln!(
                    out,
                    "note: reverting revision {} ({}) does not restore what its upgrade removed: {} ({}:{})",
                    rev.id,
                    rev.message,
                    finding.message,
                    settings.display_path(&rev.path),
                    rev.up_line + finding.line - 1
                )?;
            }
        }
        let findings = crate::lint::lint_section(&rev.down, Some(dialect));
        for statement in statements(&findings) {
            if schema.is_none() {
                schema = Some(db.introspect(&settings.introspect_options()).await?);
            }
            let Some(live) = schema.as_ref() else {
                continue;
            };
            for what in destroyed(db, live, &statement, dialect).await? {
                problems.push(format!(
                    "  revision {} ({}), {}:{}: {what}",
                    rev.id,
                    rev.message,
                    settings.display_path(&rev.path),
                    rev.down_line + statement[0].line - 1
                ));
            }
        }
    }
    if !problems.is_empty() {
        bail!(
            "refusing to downgrade: it would destroy data\n{}\npass --accept-data-loss to revert anyway, or accept a statement with `-- retort:allow data_loss, irreversible` on the line above it",
            problems.join("\n")
        );
    }
    Ok(())
}

/// The findings of `findings` that destroy data (`data_loss`, or
/// `irreversible` in a down section) and are not allowed, grouped by
/// statement.
fn statements(findings: &[Finding]) -> Vec<Vec<&Finding>> {
    let mut grouped: Vec<Vec<&Finding>> = Vec::new();
    for finding in findings
        .iter()
        .filter(|f| !f.allowed && matches!(f.code, HazardCode::DataLoss | HazardCode::Irreversible))
    {
        match grouped.last_mut() {
            Some(group) if group[0].line == finding.line => group.push(finding),
            _ => grouped.push(vec![finding]),
        }
    }
    grouped
}

/// What a hazard line's message says is lost, for the messages retort
/// writes: the table or `table.column` text that follows.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Claim<'a> {
    /// Text starting with a table name.
    Table(&'a str),
    /// Text starting with `table.column`.
    Column(&'a str),
}

fn claim(message: &str) -> Option<Claim<'_>> {
    for marker in ["drops table ", "re-creates table "] {
        if let Some((_, rest)) = message.split_once(marker) {
            return Some(Claim::Table(rest));
        }
    }
    for marker in ["drops column ", "re-creates column "] {
        if let Some((_, rest)) = message.split_once(marker) {
            return Some(Claim::Column(rest));
        }
    }
    // "changes users.age from integer to smallint; …"
    message
        .strip_prefix("changes ")
        .filter(|rest| rest.contains(" from "))
        .map(Claim::Column)
}

/// Whether `text` starts with `name` followed by the end of a name in a
/// hazard message (a space, a comma, or the end).
fn starts_with_name(text: &str, name: &str) -> bool {
    text.strip_prefix(name)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', ',', ';', ')']))
}

/// The loss a claim names in `schema`: the longest table (and column) name
/// that fits, so names holding spaces or dots resolve too.
fn resolve(claim: &Claim<'_>, schema: &Schema) -> Option<Loss> {
    match claim {
        Claim::Table(text) => schema
            .tables
            .iter()
            .filter(|t| starts_with_name(text, &t.name))
            .max_by_key(|t| t.name.len())
            .map(|t| Loss::Table(t.name.clone())),
        Claim::Column(text) => schema
            .tables
            .iter()
            .filter_map(|t| {
                let rest = text.strip_prefix(&t.name)?.strip_prefix('.')?;
                let column = t
                    .columns
                    .iter()
                    .filter(|c| starts_with_name(rest, &c.name))
                    .max_by_key(|c| c.name.len())?;
                Some((t.name.len() + column.name.len(), &t.name, &column.name))
            })
            .max_by_key(|(len, _, _)| *len)
            .map(|(_, table, column)| Loss::Values {
                table: table.clone(),
                column: column.clone(),
            }),
    }
}

/// What one statement destroys, as lines of the refusal: nothing when
/// every count is zero.
async fn destroyed(
    db: &mut Database,
    schema: &Schema,
    findings: &[&Finding],
    dialect: Dialect,
) -> Result<Vec<String>> {
    let mut losses: Vec<Loss> = findings[0].losses.clone();
    let mut uncounted = Vec::new();
    for finding in findings {
        match claim(&finding.message).map(|c| resolve(&c, schema)) {
            Some(Some(loss)) => losses.push(loss),
            // A name retort wrote but the database does not hold (yet).
            Some(None) if finding.losses.is_empty() => uncounted.push(format!(
                "{}: {} (not in the database now, so retort cannot count what it loses)",
                finding.code.as_str(),
                finding.message
            )),
            None if finding.losses.is_empty() => uncounted.push(format!(
                "{}: {} (retort cannot count what this loses)",
                finding.code.as_str(),
                finding.message
            )),
            _ => {}
        }
    }
    let mut lines = uncounted;
    // Spelled as the database spells them, so a statement's unquoted name
    // and a hazard line's name count once.
    let mut present = Vec::new();
    for loss in losses {
        match existing(&loss, schema) {
            Some(found) => present.push(found),
            None => lines.push(format!(
                "{} is not in the database now, so retort cannot count what dropping it loses",
                describe(&loss)
            )),
        }
    }
    present.sort();
    present.dedup();
    for existing in present {
        let n = count(db, &count_sql(&existing, dialect)).await?;
        if n > 0 {
            let figure = if n > COUNT_CAP {
                format!("more than {}", thousands(COUNT_CAP))
            } else {
                thousands(n)
            };
            let unit = match (&existing, n) {
                (Loss::Values { .. }, 1) => "non-null value",
                (Loss::Values { .. }, _) => "non-null values",
                (_, 1) => "row",
                _ => "rows",
            };
            lines.push(format!("{}, holding {figure} {unit}", describe(&existing)));
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    lines.retain(|line| seen.insert(line.clone()));
    Ok(lines)
}

fn describe(loss: &Loss) -> String {
    match loss {
        Loss::Table(table) => format!("drops table {table}"),
        Loss::Rows(table) => format!("deletes every row of {table}"),
        Loss::Values { table, column } => format!("drops column {table}.{column}"),
    }
}

/// `loss` with the names the database spells (a statement's unquoted
/// names may differ in case), or `None` when the object does not exist.
fn existing(loss: &Loss, schema: &Schema) -> Option<Loss> {
    let table = |name: &str| {
        schema.tables.iter().find(|t| t.name == name).or_else(|| {
            schema
                .tables
                .iter()
                .find(|t| t.name.eq_ignore_ascii_case(name))
        })
    };
    match loss {
        Loss::Table(name) => table(name).map(|t| Loss::Table(t.name.clone())),
        Loss::Rows(name) => table(name).map(|t| Loss::Rows(t.name.clone())),
        Loss::Values {
            table: name,
            column,
        } => {
            let t = table(name)?;
            let c = t.columns.iter().find(|c| c.name == *column).or_else(|| {
                t.columns
                    .iter()
                    .find(|c| c.name.eq_ignore_ascii_case(column))
            })?;
            Some(Loss::Values {
                table: t.name.clone(),
                column: c.name.clone(),
            })
        }
    }
}

/// A count of what `loss` destroys, stopping after [`COUNT_CAP`] + 1.
fn count_sql(loss: &Loss, dialect: Dialect) -> String {
    let quote = |name: &str| retort_render::quote_identifier(name, dialect);
    let (table, filter) = match loss {
        Loss::Table(table) | Loss::Rows(table) => (table, String::new()),
        Loss::Values { table, column } => (table, format!(" WHERE {} IS NOT NULL", quote(column))),
    };
    format!(
        "SELECT count(*) FROM (SELECT 1 FROM {}{filter} LIMIT {}) AS counted",
        quote(table),
        COUNT_CAP + 1
    )
}

async fn count(db: &mut Database, sql: &str) -> Result<u64> {
    let n = db
        .fetch_count(sql)
        .await
        .map_err(|e| anyhow::anyhow!("cannot count what the downgrade would drop ({sql}): {e}"))?;
    Ok(n.max(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use retort_schema::{Column, ColumnType, Table};

    fn schema() -> Schema {
        let mut users = Table::new("users");
        users.columns = vec![
            Column::new("score", ColumnType::Integer),
            Column::new("score x", ColumnType::Integer),
        ];
        let mut dotted = Table::new("users.v2");
        dotted.columns = vec![Column::new("a", ColumnType::Integer)];
        Schema {
            tables: vec![users, dotted],
            ..Schema::default()
        }
    }

    fn loss(message: &str) -> Option<Loss> {
        resolve(&claim(message)?, &schema())
    }

    #[test]
    fn hazard_messages_resolve_to_the_longest_names_in_the_database() {
        let values = |table: &str, column: &str| {
            Some(Loss::Values {
                table: table.into(),
                column: column.into(),
            })
        };
        assert_eq!(
            loss("drops column users.score and its values"),
            values("users", "score")
        );
        assert_eq!(
            loss("drops column users.score x, holding 3 non-null values"),
            values("users", "score x")
        );
        assert_eq!(
            loss("drops column users.v2.a and its values"),
            values("users.v2", "a")
        );
        assert_eq!(
            loss(
                "changes users.score from integer to smallint; values that do not fit are lost or rejected"
            ),
            values("users", "score")
        );
        assert_eq!(
            loss("upgrading again re-creates column users.score without its values"),
            values("users", "score")
        );
        assert_eq!(
            loss("drops table users.v2 and all its rows"),
            Some(Loss::Table("users.v2".into()))
        );
        assert_eq!(
            loss("upgrading again re-creates table users empty"),
            Some(Loss::Table("users".into()))
        );
        assert_eq!(loss("drops table missing and all its rows"), None);
        assert!(claim("removes 'b' from enum mood; the conversion fails").is_none());
    }

    #[test]
    fn counts_stop_at_the_cap_and_quote_names() {
        let sql = count_sql(
            &Loss::Values {
                table: "my`t".into(),
                column: "c".into(),
            },
            Dialect::Mysql,
        );
        assert_eq!(
            sql,
            "SELECT count(*) FROM (SELECT 1 FROM `my``t` WHERE `c` IS NOT NULL LIMIT 1000001) AS counted"
        );
    }
}
