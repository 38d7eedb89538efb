//! Hazards of a revision file, for `retort lint`, `check --deny` and the
//! downgrade guard.
//!
//! A section's hazards come from two places, per statement:
//! - its `-- hazard: <code>: <message>` lines, which `autogen` writes
//!   above each step (they belong to the statement that follows them);
//! - a scan of the statement itself, so that hand-written or hand-edited
//!   SQL is checked too: `DROP TABLE`, `ALTER TABLE … DROP [COLUMN]`,
//!   `TRUNCATE` and `DELETE` without `WHERE` are `data_loss`. The statement
//!   is parsed with sqlparser (the project's dialect, then the generic
//!   one); what neither parses is scanned by keyword.
//!
//! `-- retort:allow <code>[, <code>…]` in the comment lines above a
//! statement accepts those hazards for that statement. A `DROP TABLE t`
//! followed in the same section by `ALTER TABLE … RENAME TO t` replaces the
//! table (SQLite's rebuild) and loses nothing, so it is not reported.

use retort_diff::HazardCode;
use retort_migrate::split_statements;
use retort_schema::Dialect;
use sqlparser::ast::{
    AlterTableOperation, FromTable, ObjectName, ObjectType, RenameTableNameKind, Statement,
};
use sqlparser::dialect::{GenericDialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;

/// One hazard of one statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// 1-based line of the statement, relative to the section text.
    pub line: usize,
    pub code: HazardCode,
    pub message: String,
    /// Accepted by a `-- retort:allow` line above the statement.
    pub allowed: bool,
    /// What the statement destroys, as its SQL says (not its hazard lines):
    /// the same for every finding of one statement.
    pub losses: Vec<Loss>,
}

/// Data a statement destroys, named so that it can be counted.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Loss {
    /// A table and its rows (`DROP TABLE`).
    Table(String),
    /// Every row of a table (`TRUNCATE`, `DELETE` without `WHERE`).
    Rows(String),
    /// The values of a column (`ALTER TABLE … DROP COLUMN`).
    Values { table: String, column: String },
}

const HAZARD_PREFIX: &str = "-- hazard:";
const ALLOW_PREFIX: &str = "-- retort:allow";

/// The hazards of a section (`up` or `down` text), statement by statement.
pub fn lint_section(sql: &str, dialect: Option<Dialect>) -> Vec<Finding> {
    let lines: Vec<&str> = sql.lines().collect();
    // Without a dialect, standard SQL: a backslash is an ordinary character.
    let statements = split_statements(sql, dialect.unwrap_or(Dialect::Postgres));
    let scans: Vec<Scan> = statements
        .iter()
        .map(|s| scan_statement(&s.sql, dialect))
        .collect();
    let mut findings = Vec::new();
    let mut previous_end = 0; // 1-based line where the previous statement ended
    for (index, statement) in statements.iter().enumerate() {
        // The comment lines between the previous statement and this one.
        let preamble = lines
            .get(previous_end..statement.line.saturating_sub(1))
            .unwrap_or_default();
        previous_end = statement.line + statement.sql.matches('\n').count();
        let mut allowed = Vec::new();
        let mut mine: Vec<(HazardCode, String)> = Vec::new();
        for line in preamble.iter().map(|l| l.trim()) {
            if let Some(rest) = line.strip_prefix(ALLOW_PREFIX) {
                allowed.extend(allow_codes(rest));
            } else if let Some(rest) = line.strip_prefix(HAZARD_PREFIX) {
                let (code, message) = rest.split_once(':').unwrap_or((rest, ""));
                if let Some(code) = HazardCode::from_code(code) {
                    mine.push((code, message.trim().to_string()));
                }
            }
        }
        let mut losses = Vec::new();
        for (code, message, loss) in &scans[index].destructive {
            let replaced = match loss {
                Some(Loss::Table(table)) => scans[index + 1..]
                    .iter()
                    .any(|later| later.renamed_to.as_ref() == Some(table)),
                _ => false,
            };
            if replaced {
                continue;
            }
            losses.extend(loss.clone());
            if !mine.iter().any(|(c, _)| c == code) {
                mine.push((*code, message.clone()));
            }
        }
        findings.extend(mine.into_iter().map(|(code, message)| Finding {
            line: statement.line,
            allowed: allowed.contains(&code),
            code,
            message,
            losses: losses.clone(),
        }));
    }
    findings
}

/// The codes of an allow line's text after `-- retort:allow`: codes
/// separated by commas or spaces, up to the first word that is not a code
/// (a reason may follow: `-- retort:allow data_loss: unused since v2`).
fn allow_codes(text: &str) -> Vec<HazardCode> {
    text.split([',', ' ', '\t', ':'])
        .filter(|w| !w.is_empty())
        .map_while(HazardCode::from_code)
        .collect()
}

/// What a statement destroys, and the table it renames another one to.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Scan {
    /// (code, message, what is lost).
    pub destructive: Vec<(HazardCode, String, Option<Loss>)>,
    pub renamed_to: Option<String>,
}

/// Scans one statement for destructive SQL.
pub fn scan_statement(sql: &str, dialect: Option<Dialect>) -> Scan {
    match parse(sql, dialect) {
        Some(statements) => {
            let mut scan = Scan::default();
            for statement in &statements {
                scan_ast(statement, &mut scan);
            }
            scan
        }
        None => scan_keywords(sql),
    }
}

fn parse(sql: &str, dialect: Option<Dialect>) -> Option<Vec<Statement>> {
    let specific = match dialect {
        Some(Dialect::Sqlite) => Parser::parse_sql(&SQLiteDialect {}, sql).ok(),
        Some(Dialect::Postgres) => Parser::parse_sql(&PostgreSqlDialect {}, sql).ok(),
        Some(Dialect::Mysql) => Parser::parse_sql(&MySqlDialect {}, sql).ok(),
        None => None,
    };
    specific.or_else(|| Parser::parse_sql(&GenericDialect {}, sql).ok())
}

fn last_name(name: &ObjectName) -> String {
    name.0
        .last()
        .and_then(|part| part.as_ident())
        .map_or_else(|| name.to_string(), |ident| ident.value.clone())
}

fn data_loss(scan: &mut Scan, message: String, loss: Loss) {
    scan.destructive
        .push((HazardCode::DataLoss, message, Some(loss)));
}

fn scan_ast(statement: &Statement, scan: &mut Scan) {
    match statement {
        Statement::Drop {
            object_type: ObjectType::Table,
            names,
            ..
        } => {
            for name in names {
                let table = last_name(name);
                data_loss(
                    scan,
                    format!("drops table {table} and all its rows (DROP TABLE)"),
                    Loss::Table(table),
                );
            }
        }
        Statement::Truncate(truncate) => {
            for target in &truncate.table_names {
                let table = last_name(&target.name);
                data_loss(
                    scan,
                    format!("deletes every row of {table} (TRUNCATE)"),
                    Loss::Rows(table),
                );
            }
        }
        Statement::Delete(delete) if delete.selection.is_none() => {
            let tables = match &delete.from {
                FromTable::WithFromKeyword(t) | FromTable::WithoutKeyword(t) => t,
            };
            for table in tables {
                let name = match &table.relation {
                    sqlparser::ast::TableFactor::Table { name, .. } => last_name(name),
                    other => other.to_string(),
                };
                data_loss(
                    scan,
                    format!(
                        "deletes every row of {} (DELETE without WHERE)",
                        table.relation
                    ),
                    Loss::Rows(name),
                );
            }
        }
        Statement::AlterTable(alter) => {
            let table = last_name(&alter.name);
            for operation in &alter.operations {
                match operation {
                    AlterTableOperation::DropColumn { column_names, .. } => {
                        for column in column_names {
                            data_loss(
                                scan,
                                format!(
                                    "drops column {table}.{} and its values (DROP COLUMN)",
                                    column.value
                                ),
                                Loss::Values {
                                    table: table.clone(),
                                    column: column.value.clone(),
                                },
                            );
                        }
                    }
                    AlterTableOperation::RenameTable { table_name } => {
                        let (RenameTableNameKind::As(name) | RenameTableNameKind::To(name)) =
                            table_name;
                        scan.renamed_to = Some(last_name(name));
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

/// The fallback for statements sqlparser does not parse: the same rules on
/// the words of the statement (comments and string literals are not
/// skipped, so this errs towards reporting).
fn scan_keywords(sql: &str) -> Scan {
    let words: Vec<String> = sql
        .split(|c: char| c.is_whitespace() || c == ';' || c == '(' || c == ',')
        .filter(|w| !w.is_empty())
        .map(|w| w.to_string())
        .collect();
    let upper: Vec<String> = words.iter().map(|w| w.to_ascii_uppercase()).collect();
    let name = |i: usize| {
        words
            .get(i)
            .map(|w| w.trim_matches(['"', '`', '[', ']']).to_string())
            .unwrap_or_default()
    };
    let skip_if_exists = |i: usize| {
        if upper.get(i).map(String::as_str) == Some("IF")
            && upper.get(i + 1).map(String::as_str) == Some("EXISTS")
        {
            i + 2
        } else {
            i
        }
    };
    let mut scan = Scan::default();
    let first = |n: usize| upper.iter().take(n).map(String::as_str).collect::<Vec<_>>();
    match first(2).as_slice() {
        ["DROP", "TABLE"] => {
            let table = name(skip_if_exists(2));
            data_loss(
                &mut scan,
                format!("drops table {table} and all its rows (DROP TABLE)"),
                Loss::Table(table),
            );
        }
        ["TRUNCATE", ..] => {
            let at = if upper.get(1).map(String::as_str) == Some("TABLE") {
                2
            } else {
                1
            };
            data_loss(
                &mut scan,
                format!("deletes every row of {} (TRUNCATE)", name(at)),
                Loss::Rows(name(at)),
            );
        }
        ["DELETE", "FROM"] if !upper.iter().any(|w| w == "WHERE") => {
            data_loss(
                &mut scan,
                format!("deletes every row of {} (DELETE without WHERE)", name(2)),
                Loss::Rows(name(2)),
            );
        }
        ["ALTER", "TABLE"] => {
            let at = skip_if_exists(2);
            let table = name(at);
            for (i, word) in upper.iter().enumerate().skip(at + 1) {
                let next = upper.get(i + 1).map(String::as_str).unwrap_or("");
                if word == "DROP" {
                    let column = match next {
                        "COLUMN" => Some(name(skip_if_exists(i + 2))),
                        // DROP DEFAULT / NOT NULL / CONSTRAINT …: not a column.
                        "DEFAULT" | "NOT" | "CONSTRAINT" | "INDEX" | "KEY" | "PRIMARY"
                        | "FOREIGN" | "CHECK" | "IDENTITY" | "EXPRESSION" | "" => None,
                        _ => Some(name(i + 1)),
                    };
                    if let Some(column) = column {
                        data_loss(
                            &mut scan,
                            format!("drops column {table}.{column} and its values (DROP COLUMN)"),
                            Loss::Values {
                                table: table.clone(),
                                column,
                            },
                        );
                    }
                } else if word == "RENAME" && next == "TO" {
                    scan.renamed_to = Some(name(i + 2));
                }
            }
        }
        _ => {}
    }
    scan
}

/// Parses `--deny` values: codes separated by commas (`data_loss,long_lock`).
pub fn parse_codes(text: &str) -> Result<HazardCode, String> {
    HazardCode::from_code(text).ok_or_else(|| {
        let known: Vec<&str> = HazardCode::ALL.iter().map(|c| c.as_str()).collect();
        format!("unknown hazard `{text}`: use one of {}", known.join(", "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(sql: &str) -> Vec<(usize, &'static str, bool)> {
        lint_section(sql, Some(Dialect::Postgres))
            .into_iter()
            .map(|f| (f.line, f.code.as_str(), f.allowed))
            .collect()
    }

    fn scanned(sql: &str) -> Vec<String> {
        scan_statement(sql, Some(Dialect::Mysql))
            .destructive
            .into_iter()
            .map(|(_, message, _)| message)
            .collect()
    }

    #[test]
    fn hazard_lines_belong_to_the_statement_below_them() {
        let sql = "-- hazard: long_lock: creates index ix on t\nCREATE INDEX ix ON t (a);\n\nCREATE TABLE u (id int);\n";
        let found = lint_section(sql, None);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].line, 2);
        assert_eq!(found[0].code, HazardCode::LongLock);
        assert_eq!(found[0].message, "creates index ix on t");
    }

    #[test]
    fn hand_written_destructive_statements_are_data_loss() {
        assert_eq!(
            scanned("DROP TABLE IF EXISTS legacy"),
            ["drops table legacy and all its rows (DROP TABLE)"]
        );
        assert_eq!(
            scanned("ALTER TABLE users DROP COLUMN name"),
            ["drops column users.name and its values (DROP COLUMN)"]
        );
        assert_eq!(
            scanned("TRUNCATE TABLE users"),
            ["deletes every row of users (TRUNCATE)"]
        );
        assert_eq!(
            scanned("DELETE FROM users"),
            ["deletes every row of users (DELETE without WHERE)"]
        );
        assert!(scanned("DELETE FROM users WHERE id = 1").is_empty());
        assert!(scanned("ALTER TABLE users ALTER COLUMN a DROP DEFAULT").is_empty());
        assert!(scanned("ALTER TABLE users DROP CONSTRAINT ck").is_empty());
        assert!(scanned("UPDATE users SET a = 1").is_empty());
    }

    #[test]
    fn the_keyword_fallback_applies_the_same_rules() {
        let sql = "ALTER TABLE `users` DROP `name`, ALGORITHM=WHATEVER(";
        assert!(parse(sql, Some(Dialect::Mysql)).is_none(), "must not parse");
        assert_eq!(
            scan_keywords(sql).destructive[0].1,
            "drops column users.name and its values (DROP COLUMN)"
        );
        assert_eq!(
            scan_keywords("drop table if exists \"old\" cascade ;;").destructive[0].1,
            "drops table old and all its rows (DROP TABLE)"
        );
        assert!(
            scan_keywords("DELETE FROM t WHERE x")
                .destructive
                .is_empty()
        );
        assert!(
            scan_keywords("ALTER TABLE t ALTER c DROP NOT NULL")
                .destructive
                .is_empty()
        );
    }

    #[test]
    fn a_rebuild_drop_table_replaced_by_a_rename_is_not_data_loss() {
        let sql = "CREATE TABLE \"_retort_new_users\" (id INTEGER);\nINSERT INTO \"_retort_new_users\" (id) SELECT id FROM \"users\";\nDROP TABLE \"users\";\nALTER TABLE \"_retort_new_users\" RENAME TO \"users\";\n";
        assert!(codes(sql).is_empty(), "{:?}", codes(sql));
        assert_eq!(codes("DROP TABLE \"users\";\n"), [(1, "data_loss", false)]);
    }

    #[test]
    fn allow_lines_accept_the_named_hazards_of_the_next_statement_only() {
        let sql = "-- hazard: data_loss: drops column users.name and its values\n-- hazard: irreversible: gone\n-- retort:allow data_loss: unused since v2\nALTER TABLE users DROP COLUMN name;\nDELETE FROM users;\n";
        assert_eq!(
            codes(sql),
            [
                (4, "data_loss", true),
                (4, "irreversible", false),
                (5, "data_loss", false)
            ]
        );
        let both = "-- retort:allow data_loss, irreversible\n-- hazard: irreversible: gone\nDROP TABLE t;\n";
        assert_eq!(
            codes(both),
            [(3, "irreversible", true), (3, "data_loss", true)]
        );
    }

    #[test]
    fn deny_values_are_hazard_codes() {
        assert_eq!(parse_codes("long_lock"), Ok(HazardCode::LongLock));
        assert_eq!(parse_codes("data-loss"), Ok(HazardCode::DataLoss));
        assert!(parse_codes("nope").unwrap_err().contains("data_loss"));
    }
}
