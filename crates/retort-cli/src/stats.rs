//! Row counts for data-aware hazards.
//!
//! retort-diff does no IO: it says what it wants counted
//! ([`StatsRequest`]) and states hazards against the [`TableStats`] read
//! here. Counting must stay cheap on a production-sized database, so:
//! - PostgreSQL reads `reltuples` and the table's size for all requested
//!   tables in one query, and runs `count(*)` only on tables smaller than
//!   [`PG_COUNT_MAX_PAGES`] pages; a larger table reports the estimate, or
//!   nothing when it was never analysed (`reltuples` = -1);
//! - MySQL reads `TABLE_ROWS` (an estimate) in one query and counts tables
//!   estimated below [`MYSQL_COUNT_BELOW_ROWS`] rows (an empty estimate can
//!   be stale, so a count settles it);
//! - SQLite counts every requested table (a local file).
//!
//! Where a table is counted, the non-null values of its dropped columns are
//! counted in the same statement (`count(col)`).

use anyhow::{Context, Result};
use retort_diff::{StatsRequest, TableRows, TableStats};
use retort_schema::Dialect;
// Identifiers are quoted by count_sql (Dialect::quote_identifier).
use sqlx::{AssertSqlSafe, Row};
use std::collections::BTreeSet;

use crate::db::Database;

/// PostgreSQL tables below this many pages (8 MB at the default 8 kB block
/// size) are counted exactly: a scan that small takes milliseconds.
pub const PG_COUNT_MAX_PAGES: i64 = 1024;

/// MySQL tables estimated below this many rows are counted exactly.
pub const MYSQL_COUNT_BELOW_ROWS: i64 = retort_diff::LONG_LOCK_MIN_ROWS as i64;

/// Reads the figures `request` asks for.
pub async fn read_stats(db: &mut Database, request: &StatsRequest) -> Result<TableStats> {
    let mut stats = TableStats::default();
    if request.is_empty() {
        return Ok(stats);
    }
    match db {
        Database::Sqlite(conn) => {
            for (table, columns) in &request.tables {
                let sql = count_sql(table, columns, Dialect::Sqlite);
                let row = sqlx::query(AssertSqlSafe(sql))
                    .fetch_one(&mut *conn)
                    .await
                    .with_context(|| format!("cannot count the rows of {table}"))?;
                stats.tables.insert(table.clone(), counted(&row, columns)?);
            }
        }
        Database::Postgres(conn) => {
            let names: Vec<String> = request.tables.keys().cloned().collect();
            let rows = sqlx::query(include_str!("stats/postgres.sql"))
                .bind(&names)
                .fetch_all(&mut *conn)
                .await
                .context("cannot read row estimates from pg_class")?;
            for row in rows {
                let table: String = row.try_get("name")?;
                let estimate: f64 = row.try_get("estimate")?;
                let pages: i64 = row.try_get("pages")?;
                let columns = request.tables.get(&table).cloned().unwrap_or_default();
                if pages < PG_COUNT_MAX_PAGES {
                    let row = sqlx::query(AssertSqlSafe(count_sql(
                        &table,
                        &columns,
                        Dialect::Postgres,
                    )))
                    .fetch_one(&mut *conn)
                    .await
                    .with_context(|| format!("cannot count the rows of {table}"))?;
                    stats.tables.insert(table, counted(&row, &columns)?);
                } else if estimate >= 0.0 {
                    stats
                        .tables
                        .insert(table, estimated(estimate.round() as u64));
                }
            }
        }
        Database::Mysql(conn) => {
            let rows = sqlx::query(include_str!("stats/mysql.sql"))
                .fetch_all(&mut *conn)
                .await
                .context("cannot read row estimates from information_schema.TABLES")?;
            for row in rows {
                let table: String = row.try_get("name")?;
                let Some(columns) = request.tables.get(&table) else {
                    continue;
                };
                let estimate: i64 = row.try_get("estimate")?;
                if estimate < MYSQL_COUNT_BELOW_ROWS {
                    let row =
                        sqlx::query(AssertSqlSafe(count_sql(&table, columns, Dialect::Mysql)))
                            .fetch_one(&mut *conn)
                            .await
                            .with_context(|| format!("cannot count the rows of {table}"))?;
                    stats.tables.insert(table, counted(&row, columns)?);
                } else {
                    stats
                        .tables
                        .insert(table, estimated(estimate.max(0) as u64));
                }
            }
        }
    }
    Ok(stats)
}

fn estimated(rows: u64) -> TableRows {
    TableRows {
        rows,
        estimated: true,
        ..TableRows::default()
    }
}

/// `SELECT count(*), count("a"), … FROM "t"`, quoted for `dialect`.
pub fn count_sql(table: &str, columns: &BTreeSet<String>, dialect: Dialect) -> String {
    let ident = |name: &str| dialect.quote_identifier(name);
    let mut select = vec!["count(*)".to_string()];
    select.extend(columns.iter().map(|c| format!("count({})", ident(c))));
    format!("SELECT {} FROM {}", select.join(", "), ident(table))
}

/// The figures of a [`count_sql`] row.
fn counted<R: Row>(row: &R, columns: &BTreeSet<String>) -> Result<TableRows>
where
    usize: sqlx::ColumnIndex<R>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let rows: i64 = row.try_get(0usize)?;
    let mut figures = TableRows {
        rows: rows.max(0) as u64,
        ..TableRows::default()
    };
    for (i, column) in columns.iter().enumerate() {
        let n: i64 = row.try_get(i + 1)?;
        figures.non_null.insert(column.clone(), n.max(0) as u64);
    }
    Ok(figures)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_sql_counts_rows_and_each_dropped_column_with_quoting() {
        let columns: BTreeSet<String> = ["na\"me".to_string(), "age".to_string()].into();
        assert_eq!(
            count_sql("users", &columns, Dialect::Postgres),
            r#"SELECT count(*), count("age"), count("na""me") FROM "users""#
        );
        assert_eq!(
            count_sql("my`t", &BTreeSet::new(), Dialect::Mysql),
            "SELECT count(*) FROM `my``t`"
        );
    }
}
