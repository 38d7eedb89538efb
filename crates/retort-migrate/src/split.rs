//! Splitting a revision section into statements.
//!
//! The runner executes one statement at a time so that a failure names the
//! statement and its line. The splitter understands just enough lexical SQL
//! to find the terminating semicolons: quotes (`'…'`, `"…"`, `` `…` ``,
//! `[…]`), comments (`--`, `/* */`), PostgreSQL dollar quotes (`$tag$…$tag$`)
//! and SQLite `CREATE TRIGGER … BEGIN … END;` bodies, whose inner semicolons
//! belong to the trigger (<https://www.sqlite.org/lang_createtrigger.html>).

use retort_schema::Dialect;

/// One statement of a section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The statement text, trimmed, including its terminating `;` if it had one.
    pub sql: String,
    /// 1-based line of the statement's first character within the input.
    pub line: usize,
}

/// Splits `sql` into statements; chunks holding only whitespace and comments
/// are dropped. Line numbers are relative to `sql` (line 1 = first line).
/// On MySQL a backslash inside a quoted string escapes the next character
/// (`'it\'s; x'` is one literal), as the server reads it.
pub fn split_statements(sql: &str, dialect: Dialect) -> Vec<Statement> {
    let backslash_escapes = dialect == Dialect::Mysql;
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = 1;
    // Where the current statement's first real token is (offset, line).
    let mut first_token: Option<(usize, usize)> = None;
    // Keyword tracking for CREATE TRIGGER bodies.
    let mut words: Vec<String> = Vec::new();
    let mut trigger = false;
    let mut depth: usize = 0;

    let finish = |out: &mut Vec<Statement>, first: Option<(usize, usize)>, end: usize| {
        if let Some((start, line)) = first {
            let text = sql[start..end].trim();
            if !text.is_empty() && text != ";" {
                out.push(Statement {
                    sql: text.to_string(),
                    line,
                });
            }
        }
    };

    while i < bytes.len() {
        let b = bytes[i];
        let next = bytes.get(i + 1).copied();
        match b {
            b'\n' => {
                line += 1;
                i += 1;
            }
            b'-' if next == Some(b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if next == Some(b'*') => {
                i += 2;
                while i < bytes.len() && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/')) {
                    if bytes[i] == b'\n' {
                        line += 1;
                    }
                    i += 1;
                }
                i = (i + 2).min(bytes.len());
            }
            b'\'' | b'"' | b'`' | b'[' => {
                first_token.get_or_insert((i, line));
                let close = if b == b'[' { b']' } else { b };
                i += 1;
                while i < bytes.len() {
                    // Backquoted identifiers have no escapes but the doubled quote.
                    if backslash_escapes && b != b'`' && bytes[i] == b'\\' {
                        if bytes.get(i + 1) == Some(&b'\n') {
                            line += 1;
                        }
                        i += 2;
                        continue;
                    }
                    if bytes[i] == close {
                        // A doubled quote is an escaped quote, not the end.
                        if close != b']' && bytes.get(i + 1) == Some(&close) {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    if bytes[i] == b'\n' {
                        line += 1;
                    }
                    i += 1;
                }
                i = (i + 1).min(bytes.len());
            }
            b'$' if dollar_tag(sql, i).is_some() => {
                first_token.get_or_insert((i, line));
                let tag_len = dollar_tag(sql, i).unwrap_or(1);
                let tag = &sql[i..i + tag_len];
                let body_start = i + tag_len;
                let end = sql[body_start..]
                    .find(tag)
                    .map(|p| body_start + p + tag_len)
                    .unwrap_or(bytes.len());
                line += sql[i..end].matches('\n').count();
                i = end;
            }
            b';' => {
                if trigger && depth > 0 {
                    i += 1;
                    continue;
                }
                i += 1;
                finish(&mut out, first_token.take(), i);
                words.clear();
                trigger = false;
                depth = 0;
            }
            _ if b.is_ascii_alphabetic() || b == b'_' => {
                first_token.get_or_insert((i, line));
                let start = i;
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'$')
                {
                    i += 1;
                }
                let word = sql[start..i].to_ascii_uppercase();
                if words.len() < 4 {
                    words.push(word.clone());
                    trigger = trigger || is_create_trigger(&words);
                }
                if trigger {
                    match word.as_str() {
                        "BEGIN" | "CASE" => depth += 1,
                        "END" => depth = depth.saturating_sub(1),
                        _ => {}
                    }
                }
            }
            _ => {
                if !b.is_ascii_whitespace() {
                    first_token.get_or_insert((i, line));
                }
                i += 1;
            }
        }
    }
    finish(&mut out, first_token.take(), bytes.len());
    out
}

/// A run of statements executed the same way: in one transaction, or one by
/// one in autocommit (after `-- retort:transaction off`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// `true`: the statements run in one transaction; `false`: each one
    /// runs on its own, outside any transaction.
    pub transactional: bool,
    /// The statements, with line numbers relative to the section text.
    pub statements: Vec<Statement>,
}

/// The directive line switching a section between segments.
const TRANSACTION_DIRECTIVE: &str = "-- retort:transaction";

/// Splits a section into segments at `-- retort:transaction off|on` lines.
///
/// A section without directives is one transactional segment. Empty
/// segments are dropped, and the result always ends with a transactional
/// segment (empty if the section ends "off"): that is where the runner
/// updates the version table.
pub fn split_segments(sql: &str, dialect: Dialect) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    let mut push = |transactional: bool, text: &str, first_line: usize| {
        let statements: Vec<Statement> = split_statements(text, dialect)
            .into_iter()
            .map(|s| Statement {
                line: s.line + first_line - 1,
                sql: s.sql,
            })
            .collect();
        if statements.is_empty() {
            return;
        }
        match out.last_mut() {
            Some(last) if last.transactional == transactional => last.statements.extend(statements),
            _ => out.push(Segment {
                transactional,
                statements,
            }),
        }
    };
    let mut transactional = true;
    let mut chunk = String::new();
    let mut chunk_line = 1;
    for (i, line) in sql.lines().enumerate() {
        let directive = line
            .trim_end()
            .strip_prefix(TRANSACTION_DIRECTIVE)
            .map(str::trim);
        match directive {
            Some(state @ ("on" | "off")) => {
                push(transactional, &chunk, chunk_line);
                chunk.clear();
                chunk_line = i + 2;
                transactional = state == "on";
            }
            _ => {
                chunk.push_str(line);
                chunk.push('\n');
            }
        }
    }
    push(transactional, &chunk, chunk_line);
    if !out.last().is_some_and(|s| s.transactional) {
        out.push(Segment {
            transactional: true,
            statements: Vec::new(),
        });
    }
    out
}

/// `CREATE [TEMP|TEMPORARY] TRIGGER`.
fn is_create_trigger(words: &[String]) -> bool {
    match words {
        [c, t, ..] if c == "CREATE" && t == "TRIGGER" => true,
        [c, temp, t, ..]
            if c == "CREATE" && (temp == "TEMP" || temp == "TEMPORARY") && t == "TRIGGER" =>
        {
            true
        }
        _ => false,
    }
}

/// The length of a dollar-quote opening tag (`$$` or `$tag$`) at `i`, if any.
/// `$1` parameters and identifiers containing `$` are not tags.
fn dollar_tag(sql: &str, i: usize) -> Option<usize> {
    let bytes = sql.as_bytes();
    if i > 0
        && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_' || bytes[i - 1] == b'$')
    {
        return None;
    }
    let mut j = i + 1;
    if j < bytes.len() && (bytes[j].is_ascii_alphabetic() || bytes[j] == b'_') {
        while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_') {
            j += 1;
        }
    }
    (bytes.get(j) == Some(&b'$')).then_some(j + 1 - i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(sql: &str, expect: &[(&str, usize)]) {
        let got: Vec<(String, usize)> = split_statements(sql, Dialect::Sqlite)
            .into_iter()
            .map(|s| (s.sql, s.line))
            .collect();
        let expect: Vec<(String, usize)> =
            expect.iter().map(|(s, l)| (s.to_string(), *l)).collect();
        assert_eq!(got, expect);
    }

    #[test]
    fn plain_statements_with_lines() {
        check(
            "CREATE TABLE a (x);\n\nINSERT INTO a VALUES (1);\nSELECT 1",
            &[
                ("CREATE TABLE a (x);", 1),
                ("INSERT INTO a VALUES (1);", 3),
                ("SELECT 1", 4),
            ],
        );
    }

    #[test]
    fn semicolons_in_strings_and_identifiers_do_not_split() {
        check(
            "INSERT INTO \"we;ird\" VALUES ('a;b', 'it''s;', `c;d`, [e;f]);\nSELECT 2;",
            &[
                (
                    "INSERT INTO \"we;ird\" VALUES ('a;b', 'it''s;', `c;d`, [e;f]);",
                    1,
                ),
                ("SELECT 2;", 2),
            ],
        );
    }

    #[test]
    fn semicolons_in_comments_do_not_split_and_comment_only_chunks_are_dropped() {
        check(
            "-- first; still a comment\nSELECT 1; /* a; b\n c; */ SELECT 2;\n-- trailing; comment\n;",
            &[("SELECT 1;", 2), ("SELECT 2;", 3)],
        );
    }

    #[test]
    fn statement_line_skips_leading_comments() {
        check("-- note\n\n  SELECT 1;", &[("SELECT 1;", 3)]);
    }

    #[test]
    fn sqlite_trigger_body_is_one_statement() {
        let trigger = "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  INSERT INTO log VALUES (new.x);\n  UPDATE a SET y = CASE WHEN new.x > 0 THEN 1 ELSE 0 END WHERE x = new.x;\nEND;";
        check(
            &format!("{trigger}\nSELECT 1;"),
            &[(trigger, 1), ("SELECT 1;", 5)],
        );
        let temp = "create temp trigger u before delete on a begin select 1; end;";
        check(temp, &[(temp, 1)]);
    }

    #[test]
    fn postgres_dollar_quotes() {
        let func = "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $$ not end $$; $body$ LANGUAGE sql;";
        let anon = "DO $$ BEGIN PERFORM 1; END $$;";
        check(
            &format!("{func}\n{anon}\nSELECT $1, a$b$c FROM t;"),
            &[(func, 1), (anon, 2), ("SELECT $1, a$b$c FROM t;", 3)],
        );
    }

    #[test]
    fn mysql_backslash_escapes_a_quote_inside_a_literal() {
        let sql =
            "ALTER TABLE t COMMENT '\\'; DROP TABLE u; --';\nSELECT 'a\\\\';\nSELECT '\\\nb';";
        let got: Vec<(String, usize)> = split_statements(sql, Dialect::Mysql)
            .into_iter()
            .map(|s| (s.sql, s.line))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "ALTER TABLE t COMMENT '\\'; DROP TABLE u; --';".to_string(),
                    1
                ),
                ("SELECT 'a\\\\';".to_string(), 2),
                ("SELECT '\\\nb';".to_string(), 3),
            ]
        );
        // Elsewhere a backslash is an ordinary character: `'\'` is closed.
        assert_eq!(
            split_statements("SELECT '\\'; SELECT 1;", Dialect::Postgres).len(),
            2
        );
        assert_eq!(
            split_statements("SELECT `a\\`; SELECT 1;", Dialect::Mysql).len(),
            2
        );
    }

    fn shape(sql: &str) -> Vec<(bool, Vec<(String, usize)>)> {
        split_segments(sql, Dialect::Sqlite)
            .into_iter()
            .map(|seg| {
                (
                    seg.transactional,
                    seg.statements
                        .into_iter()
                        .map(|s| (s.sql, s.line))
                        .collect(),
                )
            })
            .collect()
    }

    fn st(sql: &str, line: usize) -> (String, usize) {
        (sql.to_string(), line)
    }

    #[test]
    fn a_section_without_directives_is_one_transactional_segment() {
        assert_eq!(
            shape("SELECT 1;\nSELECT 2;"),
            [(true, vec![st("SELECT 1;", 1), st("SELECT 2;", 2)])]
        );
        assert_eq!(shape(""), [(true, vec![])]);
    }

    #[test]
    fn directives_split_segments_and_keep_file_lines() {
        let sql = "-- retort:transaction off\nALTER TYPE mood ADD VALUE IF NOT EXISTS 'meh';\n\
                   -- retort:transaction on\nINSERT INTO t VALUES ('meh');\nSELECT 1;";
        assert_eq!(
            shape(sql),
            [
                (
                    false,
                    vec![st("ALTER TYPE mood ADD VALUE IF NOT EXISTS 'meh';", 2)]
                ),
                (
                    true,
                    vec![st("INSERT INTO t VALUES ('meh');", 4), st("SELECT 1;", 5)]
                ),
            ]
        );
    }

    #[test]
    fn a_section_ending_off_gets_an_empty_transactional_segment() {
        let sql = "SELECT 1;\n-- retort:transaction off\nCREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (x);";
        assert_eq!(
            shape(sql),
            [
                (true, vec![st("SELECT 1;", 1)]),
                (
                    false,
                    vec![st("CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (x);", 3)]
                ),
                (true, vec![]),
            ]
        );
        // Repeated and empty switches merge instead of making empty segments.
        let sql = "-- retort:transaction off\n-- retort:transaction on\nSELECT 1;\n-- retort:transaction on\nSELECT 2;";
        assert_eq!(
            shape(sql),
            [(true, vec![st("SELECT 1;", 3), st("SELECT 2;", 5)])]
        );
    }

    #[test]
    fn begin_end_outside_triggers_are_ordinary_words() {
        check(
            "BEGIN;\nSELECT 1;\nEND;",
            &[("BEGIN;", 1), ("SELECT 1;", 2), ("END;", 3)],
        );
    }
}
