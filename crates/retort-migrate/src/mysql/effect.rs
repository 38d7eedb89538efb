//! What a MySQL statement leaves in the catalog, to tell after a kill
//! whether the server committed it (see
//! [`Backend::statement_took_effect`](crate::Backend::statement_took_effect)).
//!
//! Only the statement shapes whose effect is a named object that exists or
//! not are recognised: `CREATE TABLE`, `DROP TABLE`, `RENAME TABLE`,
//! `CREATE INDEX`, `DROP INDEX`, and `ALTER TABLE` made of `ADD`/`DROP`
//! of columns, indexes, keys and constraints and `RENAME COLUMN`/`INDEX`
//! (with `ALGORITHM`/`LOCK` options). Anything else, such as `MODIFY
//! COLUMN`, changes an object in place and cannot be judged by existence:
//! the runner stops and says what to check by hand.

/// One fact the statement establishes: after it, the object exists
/// (`exists: true`) or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fact {
    Table {
        table: String,
        exists: bool,
    },
    Column {
        table: String,
        column: String,
        exists: bool,
    },
    Index {
        table: String,
        index: String,
        exists: bool,
    },
    Constraint {
        table: String,
        constraint: String,
        exists: bool,
    },
}

/// How a statement's effect can be judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Judgement {
    /// DML, which commits together with its progress record (so an
    /// unrecorded end means it was rolled back), or `SET`, which only
    /// changes the session: run it (again).
    Transactional,
    /// It took effect when every fact holds, and did not when none does.
    Facts(Vec<Fact>),
    /// What to check by hand.
    Unknown(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// A bare word (keyword or identifier), as written.
    Word(String),
    /// A backquoted identifier, unescaped.
    Quoted(String),
    /// Punctuation, a string or a number: only its text matters here.
    Other(String),
}

impl Token {
    fn is(&self, keyword: &str) -> bool {
        matches!(self, Token::Word(w) if w.eq_ignore_ascii_case(keyword))
    }
}

fn tokens(sql: &str) -> Vec<Token> {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '#' || (c == '-' && chars.get(i + 1) == Some(&'-')) {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            i += 2;
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                i += 1;
            }
            i += 2;
        } else if c == '`' || c == '\'' || c == '"' {
            let mut text = String::new();
            i += 1;
            while i < chars.len() {
                if chars[i] == c {
                    if chars.get(i + 1) == Some(&c) {
                        text.push(c);
                        i += 2;
                        continue;
                    }
                    break;
                }
                if chars[i] == '\\' && c != '`' {
                    i += 1;
                }
                if let Some(&ch) = chars.get(i) {
                    text.push(ch);
                }
                i += 1;
            }
            i += 1;
            out.push(if c == '`' {
                Token::Quoted(text)
            } else {
                Token::Other(format!("{c}{text}{c}"))
            });
        } else if c.is_alphanumeric() || c == '_' || c == '$' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')
            {
                i += 1;
            }
            out.push(Token::Word(chars[start..i].iter().collect()));
        } else {
            out.push(Token::Other(c.to_string()));
            i += 1;
        }
    }
    out
}

/// A cursor over the tokens of one statement or clause.
struct Cursor<'a> {
    tokens: &'a [Token],
    at: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn eat(&mut self, keyword: &str) -> bool {
        if self.peek().is_some_and(|t| t.is(keyword)) {
            self.at += 1;
            return true;
        }
        false
    }

    fn eat_all(&mut self, keywords: &[&str]) -> bool {
        let start = self.at;
        if keywords.iter().all(|k| self.eat(k)) {
            return true;
        }
        self.at = start;
        false
    }

    /// An unqualified identifier; `None` for anything else, including a
    /// `db.table` name (its database may not be the connection's).
    fn name(&mut self) -> Option<String> {
        let name = match self.peek()? {
            Token::Word(w) => w.clone(),
            Token::Quoted(q) => q.clone(),
            Token::Other(_) => return None,
        };
        self.at += 1;
        if matches!(self.peek(), Some(Token::Other(dot)) if dot == ".") {
            return None;
        }
        Some(name)
    }

    fn done(&self) -> bool {
        self.at >= self.tokens.len()
    }
}

/// Splits at commas outside parentheses.
fn clauses(tokens: &[Token]) -> Vec<&[Token]> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    for (i, t) in tokens.iter().enumerate() {
        match t {
            Token::Other(p) if p == "(" => depth += 1,
            Token::Other(p) if p == ")" => depth = depth.saturating_sub(1),
            Token::Other(p) if p == "," && depth == 0 => {
                out.push(&tokens[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&tokens[start..]);
    out
}

/// Keywords after `ADD` that start something other than a column.
const NOT_A_COLUMN: &[&str] = &[
    "CONSTRAINT",
    "INDEX",
    "KEY",
    "UNIQUE",
    "PRIMARY",
    "FOREIGN",
    "FULLTEXT",
    "SPATIAL",
    "CHECK",
    "PERIOD",
    "SYSTEM",
    "PARTITION",
];

/// How `sql` can be judged after a kill.
pub(crate) fn judge(sql: &str) -> Judgement {
    let tokens = tokens(sql);
    let mut c = Cursor {
        tokens: &tokens,
        at: 0,
    };
    let unknown = |what: &str| {
        Judgement::Unknown(format!(
            "{what}; compare the objects it names (`SHOW CREATE TABLE …`) with what the statement does"
        ))
    };
    let first = match c.peek() {
        Some(Token::Word(w)) => w.to_ascii_uppercase(),
        _ => return unknown("the statement is not recognised"),
    };
    match first.as_str() {
        // `SET` changes session state only: running it again is harmless.
        "INSERT" | "UPDATE" | "DELETE" | "REPLACE" | "SELECT" | "DO" | "WITH" | "SET" => {
            Judgement::Transactional
        }
        "CREATE" => {
            c.at += 1;
            if c.eat("TABLE") {
                c.eat_all(&["IF", "NOT", "EXISTS"]);
                return match c.name() {
                    Some(table) => Judgement::Facts(vec![Fact::Table {
                        table,
                        exists: true,
                    }]),
                    None => unknown("the table name is qualified or missing"),
                };
            }
            let _ = c.eat("UNIQUE") || c.eat("FULLTEXT") || c.eat("SPATIAL");
            if c.eat("INDEX") {
                c.eat_all(&["IF", "NOT", "EXISTS"]);
                let index = c.name();
                while !c.done() && !c.eat("ON") {
                    c.at += 1;
                }
                return match (index, c.name()) {
                    (Some(index), Some(table)) => Judgement::Facts(vec![Fact::Index {
                        table,
                        index,
                        exists: true,
                    }]),
                    _ => unknown("the index or table name is qualified or missing"),
                };
            }
            unknown("this kind of CREATE is not recognised")
        }
        "DROP" => {
            c.at += 1;
            if c.eat("TABLE") {
                c.eat_all(&["IF", "EXISTS"]);
                let mut facts = Vec::new();
                for clause in clauses(&tokens[c.at..]) {
                    let mut t = Cursor {
                        tokens: clause,
                        at: 0,
                    };
                    match t.name() {
                        Some(table) if t.done() || t.eat("RESTRICT") || t.eat("CASCADE") => facts
                            .push(Fact::Table {
                                table,
                                exists: false,
                            }),
                        _ => return unknown("a table name is qualified or not recognised"),
                    }
                }
                return Judgement::Facts(facts);
            }
            if c.eat("INDEX") {
                c.eat_all(&["IF", "EXISTS"]);
                let index = c.name();
                if !c.eat("ON") {
                    return unknown("the DROP INDEX is not recognised");
                }
                return match (index, c.name()) {
                    (Some(index), Some(table)) => Judgement::Facts(vec![Fact::Index {
                        table,
                        index,
                        exists: false,
                    }]),
                    _ => unknown("the index or table name is qualified or missing"),
                };
            }
            unknown("this kind of DROP is not recognised")
        }
        "RENAME" => {
            c.at += 1;
            if !c.eat("TABLE") {
                return unknown("this kind of RENAME is not recognised");
            }
            let mut facts = Vec::new();
            for clause in clauses(&tokens[c.at..]) {
                let mut t = Cursor {
                    tokens: clause,
                    at: 0,
                };
                match (t.name(), t.eat("TO"), t.name()) {
                    (Some(from), true, Some(to)) if t.done() => {
                        facts.push(Fact::Table {
                            table: from,
                            exists: false,
                        });
                        facts.push(Fact::Table {
                            table: to,
                            exists: true,
                        });
                    }
                    _ => return unknown("a renamed table is qualified or not recognised"),
                }
            }
            Judgement::Facts(facts)
        }
        "ALTER" => {
            c.at += 1;
            let _ = c.eat("ONLINE") || c.eat("IGNORE");
            if !c.eat("TABLE") {
                return unknown("this kind of ALTER is not recognised");
            }
            let Some(table) = c.name() else {
                return unknown("the table name is qualified or missing");
            };
            let mut facts = Vec::new();
            for clause in clauses(&tokens[c.at..]) {
                match alter_clause(&table, clause) {
                    Ok(Some(fact)) => facts.extend(fact),
                    Ok(None) => {}
                    Err(what) => return unknown(&what),
                }
            }
            if facts.is_empty() {
                return unknown("it changes nothing retort can look up");
            }
            Judgement::Facts(facts)
        }
        _ => unknown("this kind of statement is not recognised"),
    }
}

/// The facts of one `ALTER TABLE` clause; `None` for options such as
/// `ALGORITHM=COPY`; `Err` says why the clause cannot be judged.
fn alter_clause(table: &str, clause: &[Token]) -> Result<Option<Vec<Fact>>, String> {
    let mut c = Cursor {
        tokens: clause,
        at: 0,
    };
    let column = |column: String, exists| Fact::Column {
        table: table.to_string(),
        column,
        exists,
    };
    let index = |index: String, exists| Fact::Index {
        table: table.to_string(),
        index,
        exists,
    };
    let constraint = |constraint: String, exists| Fact::Constraint {
        table: table.to_string(),
        constraint,
        exists,
    };
    let shown: String = clause
        .iter()
        .take(3)
        .map(|t| match t {
            Token::Word(w) | Token::Other(w) => w.clone(),
            Token::Quoted(q) => format!("`{q}`"),
        })
        .collect::<Vec<_>>()
        .join(" ");
    let cannot = || format!("its clause `{shown} …` changes an object in place");
    if c.eat("ALGORITHM") || c.eat("LOCK") {
        return Ok(None);
    }
    if c.eat("ADD") {
        if c.eat("CONSTRAINT") {
            let name = c.name().ok_or_else(cannot)?;
            if c.eat_all(&["PRIMARY", "KEY"]) {
                return Ok(Some(vec![constraint("PRIMARY".to_string(), true)]));
            }
            return Ok(Some(vec![constraint(name, true)]));
        }
        if c.eat_all(&["PRIMARY", "KEY"]) {
            return Ok(Some(vec![constraint("PRIMARY".to_string(), true)]));
        }
        let _ = c.eat("UNIQUE") || c.eat("FULLTEXT") || c.eat("SPATIAL");
        if c.eat("INDEX") || c.eat("KEY") {
            c.eat_all(&["IF", "NOT", "EXISTS"]);
            return match c.name() {
                Some(name) => Ok(Some(vec![index(name, true)])),
                None => Err("it adds an index without a name".to_string()),
            };
        }
        if c.peek()
            .is_some_and(|t| NOT_A_COLUMN.iter().any(|k| t.is(k)))
        {
            return Err(cannot());
        }
        c.eat("COLUMN");
        c.eat_all(&["IF", "NOT", "EXISTS"]);
        if matches!(c.peek(), Some(Token::Other(p)) if p == "(") {
            return Err("it adds several columns in parentheses".to_string());
        }
        return match c.name() {
            Some(name) => Ok(Some(vec![column(name, true)])),
            None => Err(cannot()),
        };
    }
    if c.eat("DROP") {
        if c.eat_all(&["PRIMARY", "KEY"]) {
            return Ok(Some(vec![constraint("PRIMARY".to_string(), false)]));
        }
        if c.eat_all(&["FOREIGN", "KEY"]) || c.eat("CONSTRAINT") || c.eat("CHECK") {
            c.eat_all(&["IF", "EXISTS"]);
            return Ok(Some(vec![constraint(c.name().ok_or_else(cannot)?, false)]));
        }
        if c.eat("INDEX") || c.eat("KEY") {
            c.eat_all(&["IF", "EXISTS"]);
            return Ok(Some(vec![index(c.name().ok_or_else(cannot)?, false)]));
        }
        if c.peek()
            .is_some_and(|t| NOT_A_COLUMN.iter().any(|k| t.is(k)))
        {
            return Err(cannot());
        }
        c.eat("COLUMN");
        c.eat_all(&["IF", "EXISTS"]);
        let name = c.name().ok_or_else(cannot)?;
        let _ = c.eat("RESTRICT") || c.eat("CASCADE");
        if !c.done() {
            return Err(cannot());
        }
        return Ok(Some(vec![column(name, false)]));
    }
    if c.eat("RENAME") {
        if c.eat("COLUMN") {
            let (from, to) = (c.name(), c.eat("TO").then(|| c.name()).flatten());
            return match (from, to) {
                (Some(from), Some(to)) if c.done() => {
                    Ok(Some(vec![column(from, false), column(to, true)]))
                }
                _ => Err(cannot()),
            };
        }
        if c.eat("INDEX") || c.eat("KEY") {
            let (from, to) = (c.name(), c.eat("TO").then(|| c.name()).flatten());
            return match (from, to) {
                (Some(from), Some(to)) if c.done() => {
                    Ok(Some(vec![index(from, false), index(to, true)]))
                }
                _ => Err(cannot()),
            };
        }
        return Err("it renames the table".to_string());
    }
    Err(cannot())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(sql: &str) -> Vec<Fact> {
        match judge(sql) {
            Judgement::Facts(facts) => facts,
            other => panic!("{sql}: {other:?}"),
        }
    }

    #[test]
    fn created_and_dropped_objects_are_facts() {
        assert_eq!(
            facts("CREATE TABLE IF NOT EXISTS `a``b` (id INT)"),
            vec![Fact::Table {
                table: "a`b".into(),
                exists: true
            }]
        );
        assert_eq!(
            facts("-- note\nDROP TABLE `x`, y"),
            vec![
                Fact::Table {
                    table: "x".into(),
                    exists: false
                },
                Fact::Table {
                    table: "y".into(),
                    exists: false
                }
            ]
        );
        assert_eq!(
            facts("CREATE UNIQUE INDEX `ix` ON `t` (`a`(10), b)"),
            vec![Fact::Index {
                table: "t".into(),
                index: "ix".into(),
                exists: true
            }]
        );
        assert_eq!(
            facts("DROP INDEX ix ON t"),
            vec![Fact::Index {
                table: "t".into(),
                index: "ix".into(),
                exists: false
            }]
        );
    }

    #[test]
    fn alter_table_clauses_are_facts_and_options_are_ignored() {
        assert_eq!(
            facts(
                "ALTER TABLE `big` ADD COLUMN `note` VARCHAR(20) DEFAULT 'a,b' NOT NULL, ALGORITHM=COPY"
            ),
            vec![Fact::Column {
                table: "big".into(),
                column: "note".into(),
                exists: true
            }]
        );
        assert_eq!(
            facts(
                "ALTER TABLE t DROP FOREIGN KEY fk, ADD CONSTRAINT `u` UNIQUE (a), DROP COLUMN c, RENAME COLUMN d TO e"
            ),
            vec![
                Fact::Constraint {
                    table: "t".into(),
                    constraint: "fk".into(),
                    exists: false
                },
                Fact::Constraint {
                    table: "t".into(),
                    constraint: "u".into(),
                    exists: true
                },
                Fact::Column {
                    table: "t".into(),
                    column: "c".into(),
                    exists: false
                },
                Fact::Column {
                    table: "t".into(),
                    column: "d".into(),
                    exists: false
                },
                Fact::Column {
                    table: "t".into(),
                    column: "e".into(),
                    exists: true
                },
            ]
        );
    }

    #[test]
    fn in_place_changes_and_qualified_names_cannot_be_judged() {
        for sql in [
            "ALTER TABLE t MODIFY COLUMN c VARCHAR(20)",
            "ALTER TABLE t ADD COLUMN a INT, MODIFY b INT",
            "ALTER TABLE other.t ADD COLUMN a INT",
            "CREATE VIEW v AS SELECT 1",
            "ALTER TABLE t ADD INDEX (a)",
        ] {
            assert!(matches!(judge(sql), Judgement::Unknown(_)), "{sql}");
        }
        assert_eq!(judge("INSERT INTO t VALUES (1)"), Judgement::Transactional);
    }
}
