//! A bound on how deeply an expression nests, checked on its tokens before
//! anything recursive runs.
//!
//! sqlparser reads a chain of binary operators (`1 + 1 + …`) in a loop, but
//! the tree it builds is as deep as the chain is long, and printing,
//! canonicalising, cloning and dropping that tree all recurse: 7,000 terms
//! overflowed the stack (an abort, not an error). Nested parentheses and
//! function calls recurse in the parser itself, at a much higher cost per
//! level. So the tokens are measured first, and a statement or catalog
//! expression over the bound is refused before it is parsed.

use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Location, Token, TokenWithSpan};

/// The most an expression may weigh: each operator counts 1 and each level
/// of parentheses, brackets, function calls or `CASE` counts
/// [`NESTING_WEIGHT`]. That is 400 operators in a chain, or 40 nested
/// calls: several times what a real CHECK or DEFAULT holds, and within what
/// an 8 MB thread (a main thread) reads in a debug build.
pub(crate) const MAX_EXPRESSION_WEIGHT: usize = 400;

/// What one level of nesting weighs: the parser recurses through about ten
/// functions per level, a binary operator costs one frame afterwards.
pub(crate) const NESTING_WEIGHT: usize = 10;

/// sqlparser's own recursion limit, above what [`MAX_EXPRESSION_WEIGHT`]
/// lets through so that the token check (which knows where the expression
/// is) reports first; it still stops shapes the check does not measure.
pub(crate) const PARSER_RECURSION_LIMIT: usize = 64;

/// An expression that nests too deeply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooDeep {
    /// Where the expression starts (as near as the tokens tell).
    pub(crate) at: Location,
}

#[derive(Debug)]
struct Frame {
    opened_at: Location,
    closes_with_end: bool,
    /// Operators since the frame opened or since its last comma.
    operators: usize,
    /// Where the operand before the first of those operators starts.
    chain_start: Option<Location>,
    /// Where the last expression introduced by `DEFAULT`, `CHECK`,
    /// `WHERE` or `AS` at this level starts.
    expression_start: Option<Location>,
}

impl Frame {
    fn new(opened_at: Location, closes_with_end: bool) -> Self {
        Frame {
            opened_at,
            closes_with_end,
            operators: 0,
            chain_start: None,
            expression_start: None,
        }
    }
}

/// The first expression among `tokens` (one statement, or one expression)
/// that weighs more than [`MAX_EXPRESSION_WEIGHT`], if any.
pub(crate) fn too_deep(tokens: &[TokenWithSpan]) -> Option<TooDeep> {
    let first = tokens
        .iter()
        .find(|t| !matches!(t.token, Token::Whitespace(_)))?;
    let mut frames = vec![Frame::new(first.span.start, false)];
    let mut weight = 0usize;
    // Where the last operand started: a token, or a closed group's opening.
    let mut operand_start: Option<Location> = None;
    let mut expecting_expression = false;
    // A `(` right after a name opens a call, which starts at the name.
    let mut after_name = false;
    for token in tokens {
        let at = token.span.start;
        if matches!(token.token, Token::Whitespace(_)) {
            continue;
        }
        if expecting_expression {
            expecting_expression = false;
            if let Some(frame) = frames.last_mut() {
                frame.expression_start = Some(at);
            }
        }
        match &token.token {
            Token::LParen | Token::LBracket | Token::LBrace => {
                let opened_at = match operand_start {
                    Some(name) if after_name => name,
                    _ => at,
                };
                frames.push(Frame::new(opened_at, false));
                weight += NESTING_WEIGHT;
                operand_start = None;
            }
            Token::Word(word) if word.quote_style.is_none() && word.keyword == Keyword::CASE => {
                frames.push(Frame::new(at, true));
                weight += NESTING_WEIGHT;
                operand_start = None;
            }
            Token::RParen | Token::RBracket | Token::RBrace => {
                if frames.len() > 1 && !frames.last().is_some_and(|f| f.closes_with_end) {
                    close(&mut frames, &mut weight, &mut operand_start);
                }
            }
            Token::Word(word)
                if word.quote_style.is_none()
                    && word.keyword == Keyword::END
                    && frames.last().is_some_and(|f| f.closes_with_end) =>
            {
                close(&mut frames, &mut weight, &mut operand_start);
            }
            // A CASE's branches are separate operands, like a list's items.
            Token::Word(word)
                if word.quote_style.is_none()
                    && matches!(word.keyword, Keyword::WHEN | Keyword::THEN | Keyword::ELSE)
                    && frames.last().is_some_and(|f| f.closes_with_end) =>
            {
                if let Some(frame) = frames.last_mut() {
                    weight -= frame.operators;
                    frame.operators = 0;
                    frame.chain_start = None;
                }
                operand_start = None;
            }
            Token::Comma => {
                if let Some(frame) = frames.last_mut() {
                    weight -= frame.operators;
                    frame.operators = 0;
                    frame.chain_start = None;
                    frame.expression_start = None;
                }
                operand_start = None;
            }
            Token::Word(word)
                if word.quote_style.is_none()
                    && matches!(
                        word.keyword,
                        Keyword::DEFAULT | Keyword::CHECK | Keyword::WHERE | Keyword::AS
                    ) =>
            {
                expecting_expression = true;
                operand_start = None;
            }
            token if is_operator(token) => {
                if let Some(frame) = frames.last_mut() {
                    if frame.operators == 0 {
                        frame.chain_start = Some(operand_start.unwrap_or(at));
                    }
                    frame.operators += 1;
                }
                weight += 1;
                operand_start = None;
            }
            _ => operand_start = Some(at),
        }
        after_name = matches!(token.token, Token::Word(_));
        if weight > MAX_EXPRESSION_WEIGHT {
            return Some(TooDeep {
                at: expression_start(&frames),
            });
        }
    }
    None
}

fn close(frames: &mut Vec<Frame>, weight: &mut usize, operand_start: &mut Option<Location>) {
    if let Some(frame) = frames.pop() {
        *weight -= NESTING_WEIGHT + frame.operators;
        *operand_start = Some(frame.opened_at);
    }
}

/// Where the expression that is too deep starts: the outermost expression
/// after `DEFAULT`/`CHECK`/`WHERE`/`AS`, else the outermost operator
/// chain, else the outermost parenthesis.
fn expression_start(frames: &[Frame]) -> Location {
    frames
        .iter()
        .find_map(|f| f.expression_start)
        .or_else(|| frames.iter().find_map(|f| f.chain_start))
        .or_else(|| frames.get(1).map(|f| f.opened_at))
        .unwrap_or_else(|| frames.first().map_or(Location::new(1, 1), |f| f.opened_at))
}

/// Whether a token joins two operands (or prefixes one): a symbol other
/// than punctuation, or an operator keyword.
fn is_operator(token: &Token) -> bool {
    match token {
        Token::Word(word) => {
            word.quote_style.is_none()
                && matches!(
                    word.keyword,
                    Keyword::AND
                        | Keyword::OR
                        | Keyword::XOR
                        | Keyword::NOT
                        | Keyword::IS
                        | Keyword::LIKE
                        | Keyword::ILIKE
                        | Keyword::IN
                        | Keyword::BETWEEN
                        | Keyword::COLLATE
                        | Keyword::SIMILAR
                        | Keyword::REGEXP
                        | Keyword::RLIKE
                        | Keyword::GLOB
                        | Keyword::MATCH
                        | Keyword::DIV
                        | Keyword::MOD
                        | Keyword::AT
                        | Keyword::ESCAPE
                        | Keyword::OPERATOR
                )
        }
        Token::EOF
        | Token::Whitespace(_)
        | Token::Number(..)
        | Token::Char(_)
        | Token::SingleQuotedString(_)
        | Token::DoubleQuotedString(_)
        | Token::TripleSingleQuotedString(_)
        | Token::TripleDoubleQuotedString(_)
        | Token::DollarQuotedString(_)
        | Token::SingleQuotedByteStringLiteral(_)
        | Token::DoubleQuotedByteStringLiteral(_)
        | Token::TripleSingleQuotedByteStringLiteral(_)
        | Token::TripleDoubleQuotedByteStringLiteral(_)
        | Token::SingleQuotedRawStringLiteral(_)
        | Token::DoubleQuotedRawStringLiteral(_)
        | Token::TripleSingleQuotedRawStringLiteral(_)
        | Token::TripleDoubleQuotedRawStringLiteral(_)
        | Token::NationalStringLiteral(_)
        | Token::QuoteDelimitedStringLiteral(_)
        | Token::NationalQuoteDelimitedStringLiteral(_)
        | Token::EscapedStringLiteral(_)
        | Token::UnicodeStringLiteral(_)
        | Token::HexStringLiteral(_)
        | Token::Comma
        | Token::LParen
        | Token::RParen
        | Token::LBracket
        | Token::RBracket
        | Token::LBrace
        | Token::RBrace
        | Token::Period
        | Token::Colon
        | Token::SemiColon
        | Token::Placeholder(_)
        | Token::CopyData { .. } => false,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::dialect::PostgreSqlDialect;
    use sqlparser::tokenizer::Tokenizer;

    fn check(sql: &str) -> Option<(u64, u64)> {
        let tokens = Tokenizer::new(&PostgreSqlDialect {}, sql)
            .tokenize_with_location()
            .unwrap();
        too_deep(&tokens).map(|t| (t.at.line, t.at.column))
    }

    #[test]
    fn ordinary_statements_pass() {
        assert_eq!(
            check("CREATE TABLE t (a int DEFAULT 1 + 2, CHECK (a > 0 AND a < 10))"),
            None
        );
        let long_list = format!("CHECK (a IN ({}))", vec!["1"; 5000].join(", "));
        assert_eq!(check(&long_list), None);
        let many_columns: Vec<String> = (0..2000)
            .map(|i| format!("c{i} int DEFAULT 1 + 1"))
            .collect();
        assert_eq!(
            check(&format!("CREATE TABLE t ({})", many_columns.join(", "))),
            None
        );
    }

    #[test]
    fn deep_expressions_are_found_where_they_start() {
        let chain = vec!["1"; 7000].join(" + ");
        assert_eq!(
            check(&format!("CREATE TABLE t (\n  a int DEFAULT {chain})")),
            Some((2, 17))
        );
        assert_eq!(
            check(&format!("CREATE TABLE t (a int,\n CHECK ({chain}))")),
            Some((2, 8))
        );
        let parens = format!("{}1{}", "(".repeat(50), ")".repeat(50));
        assert_eq!(
            check(&format!("CREATE TABLE t (a int DEFAULT {parens})")),
            Some((1, 31))
        );
        let calls = format!("{}1{}", "abs(".repeat(50), ")".repeat(50));
        assert_eq!(
            check(&format!("CREATE INDEX i ON t ({calls})")),
            Some((1, 19))
        );
        let branches = "WHEN a = 1 THEN b + 1 ".repeat(1000);
        assert_eq!(
            check(&format!("CHECK (CASE {branches} ELSE 0 END > 0)")),
            None
        );
        let cases = "CASE WHEN a THEN ".repeat(50);
        assert!(check(&format!("SELECT {cases}")).is_some());
        assert_eq!(check(&vec!["1"; 500].join(" + ")), Some((1, 1)));
        assert_eq!(check(&vec!["1"; 400].join(" + ")), None);
    }
}

#[cfg(test)]
mod catalog_text {
    use retort_schema::{DefaultValue, Dialect};

    use crate::{canonical_expression, default_value};

    /// Catalog text over the bound is kept as text, not parsed: on a 2 MB
    /// test thread, parsing and printing it overflowed the stack.
    #[test]
    fn deep_catalog_expressions_keep_their_text() {
        let chain = vec!["1"; 7000].join(" + ");
        for dialect in [Dialect::Sqlite, Dialect::Postgres, Dialect::Mysql] {
            assert_eq!(canonical_expression(&format!("({chain})"), dialect), chain);
            assert_eq!(
                default_value(&chain, dialect),
                DefaultValue::Expression(chain.clone())
            );
            assert!(crate::nests_too_deeply(&chain, dialect));
            assert!(!crate::nests_too_deeply("1 + 1", dialect));
        }
    }

    /// A CASE's many branches make a wide tree, not a deep one: it loads.
    #[test]
    fn a_case_with_many_branches_loads() {
        let branches = "WHEN a = 1 THEN b + 1 ".repeat(1000);
        let ddl = format!("CREATE TABLE t (a int, b int, CHECK (CASE {branches} ELSE 0 END > 0));");
        for dialect in [Dialect::Sqlite, Dialect::Postgres, Dialect::Mysql] {
            let schema = crate::load_str(&ddl, "schema.sql", dialect).unwrap();
            assert_eq!(schema.tables[0].checks.len(), 1);
        }
    }
}
