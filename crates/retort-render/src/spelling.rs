//! How each dialect spells types, defaults and identifiers.
//!
//! The SQLite spellings are the ones its introspector reads back into the
//! same canonical [`ColumnType`] (`VARCHAR(255)` → `varchar(255)`), so a
//! rendered schema round-trips.

use retort_schema::{ColumnType, DefaultValue, Dialect};

/// `name` as a quoted identifier ([`Dialect::quote_identifier`]).
pub(crate) fn quote(name: &str, dialect: Dialect) -> String {
    dialect.quote_identifier(name)
}

/// `text` as a string literal ([`Dialect::quote_string`]).
pub(crate) fn literal(text: &str, dialect: Dialect) -> String {
    dialect.quote_string(text)
}

/// `name` escaped for a builder that adds the quote characters itself but
/// does not double them inside (sea-query's index, key and foreign-key
/// names): [`quote`] without its outer quotes, so the one quoting rule
/// still decides the text.
pub(crate) fn builder_name(name: &str, dialect: Dialect) -> String {
    let quoted = quote(name, dialect);
    quoted[1..quoted.len() - 1].to_owned()
}

/// Quoted identifiers joined by `, `.
pub(crate) fn quote_list(names: &[String], dialect: Dialect) -> String {
    names
        .iter()
        .map(|n| quote(n, dialect))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The dialect's spelling of `ty`, or `None` where the dialect has no such
/// type (a PostgreSQL array on SQLite, an inline enum on PostgreSQL).
pub(crate) fn column_type(ty: &ColumnType, dialect: Dialect) -> Option<String> {
    match dialect {
        Dialect::Sqlite => sqlite_type(ty),
        Dialect::Postgres => postgres_type(ty),
        Dialect::Mysql => mysql_type(ty),
    }
}

/// The spelling to use where the dialect has none: the canonical text, so
/// that `inspect --format sql` still shows something readable.
pub(crate) fn column_type_lenient(ty: &ColumnType, dialect: Dialect) -> String {
    column_type(ty, dialect).unwrap_or_else(|| ty.to_string())
}

fn with_length(name: &str, length: Option<u32>) -> String {
    match length {
        Some(n) => format!("{name}({n})"),
        None => name.to_string(),
    }
}

fn decimal(name: &str, precision: Option<u32>, scale: Option<u32>) -> String {
    match (precision, scale) {
        (Some(p), Some(s)) => format!("{name}({p},{s})"),
        (Some(p), None) => format!("{name}({p})"),
        _ => name.to_string(),
    }
}

fn sqlite_type(ty: &ColumnType) -> Option<String> {
    let text = match ty {
        ColumnType::SmallInt => "SMALLINT".to_string(),
        ColumnType::Integer => "INTEGER".to_string(),
        ColumnType::BigInt => "BIGINT".to_string(),
        ColumnType::Real => "REAL".to_string(),
        ColumnType::Double => "DOUBLE".to_string(),
        ColumnType::Decimal { precision, scale } => decimal("DECIMAL", *precision, *scale),
        ColumnType::Boolean => "BOOLEAN".to_string(),
        ColumnType::Char { length } => with_length("CHAR", *length),
        ColumnType::Varchar { length } => with_length("VARCHAR", *length),
        ColumnType::Text => "TEXT".to_string(),
        ColumnType::Blob => "BLOB".to_string(),
        ColumnType::Date => "DATE".to_string(),
        ColumnType::Time {
            with_time_zone,
            precision,
        } => with_length(if *with_time_zone { "TIMETZ" } else { "TIME" }, *precision),
        ColumnType::Timestamp {
            with_time_zone,
            precision,
        } => with_length(
            if *with_time_zone {
                "TIMESTAMPTZ"
            } else {
                "TIMESTAMP"
            },
            *precision,
        ),
        ColumnType::Json => "JSON".to_string(),
        ColumnType::Jsonb => "JSONB".to_string(),
        ColumnType::Uuid => "UUID".to_string(),
        ColumnType::Custom(name) => name.clone(),
        ColumnType::Enum { .. } | ColumnType::InlineEnum { .. } | ColumnType::Array(_) => {
            return None;
        }
    };
    Some(text)
}

fn postgres_type(ty: &ColumnType) -> Option<String> {
    let text = match ty {
        ColumnType::SmallInt => "smallint".to_string(),
        ColumnType::Integer => "integer".to_string(),
        ColumnType::BigInt => "bigint".to_string(),
        ColumnType::Real => "real".to_string(),
        ColumnType::Double => "double precision".to_string(),
        ColumnType::Decimal { precision, scale } => decimal("numeric", *precision, *scale),
        ColumnType::Boolean => "boolean".to_string(),
        ColumnType::Char { length } => with_length("char", *length),
        ColumnType::Varchar { length } => with_length("varchar", *length),
        ColumnType::Text => "text".to_string(),
        ColumnType::Blob => "bytea".to_string(),
        ColumnType::Date => "date".to_string(),
        ColumnType::Time {
            with_time_zone,
            precision,
        } => with_zone(with_length("time", *precision), *with_time_zone),
        ColumnType::Timestamp {
            with_time_zone,
            precision,
        } => with_zone(with_length("timestamp", *precision), *with_time_zone),
        ColumnType::Json => "json".to_string(),
        ColumnType::Jsonb => "jsonb".to_string(),
        ColumnType::Uuid => "uuid".to_string(),
        ColumnType::Enum { name } => quote(name, Dialect::Postgres),
        ColumnType::Array(inner) => format!("{}[]", postgres_type(inner)?),
        ColumnType::Custom(name) => name.clone(),
        ColumnType::InlineEnum { .. } => return None,
    };
    Some(text)
}

/// `name` followed by PostgreSQL's ` with time zone` where `zoned`.
fn with_zone(name: String, zoned: bool) -> String {
    if zoned {
        format!("{name} with time zone")
    } else {
        name
    }
}

fn mysql_type(ty: &ColumnType) -> Option<String> {
    let text = match ty {
        ColumnType::SmallInt => "SMALLINT".to_string(),
        ColumnType::Integer => "INT".to_string(),
        ColumnType::BigInt => "BIGINT".to_string(),
        ColumnType::Real => "FLOAT".to_string(),
        ColumnType::Double => "DOUBLE".to_string(),
        ColumnType::Decimal { precision, scale } => decimal("DECIMAL", *precision, *scale),
        ColumnType::Boolean => "BOOL".to_string(),
        ColumnType::Char { length } => with_length("CHAR", *length),
        // MySQL requires a length for VARCHAR.
        ColumnType::Varchar { length: Some(n) } => format!("VARCHAR({n})"),
        ColumnType::Text => "TEXT".to_string(),
        // BLOB, as the model says it: the catalog reads `longblob` back as a
        // type of its own, so writing LONGBLOB would never match the model.
        ColumnType::Blob => "BLOB".to_string(),
        ColumnType::Date => "DATE".to_string(),
        ColumnType::Time {
            with_time_zone: false,
            precision,
        } => with_length("TIME", *precision),
        ColumnType::Timestamp {
            with_time_zone: false,
            precision,
        } => with_length("DATETIME", *precision),
        // MySQL's TIMESTAMP stores UTC and converts to the session time zone.
        ColumnType::Timestamp {
            with_time_zone: true,
            precision,
        } => with_length("TIMESTAMP", *precision),
        ColumnType::Json => "JSON".to_string(),
        // Only the keyword changes case, never the quoted values.
        ColumnType::InlineEnum { values } => {
            let values: Vec<String> = values.iter().map(|v| literal(v, Dialect::Mysql)).collect();
            format!("ENUM({})", values.join(","))
        }
        ColumnType::Custom(name) => name.clone(),
        ColumnType::Varchar { length: None }
        | ColumnType::Time {
            with_time_zone: true,
            ..
        }
        | ColumnType::Jsonb
        | ColumnType::Uuid
        | ColumnType::Enum { .. }
        | ColumnType::Array(_) => return None,
    };
    Some(text)
}

/// The text after `DEFAULT`. An expression default is written in
/// parentheses on every dialect: SQLite and MySQL accept one only that way
/// (`DEFAULT (datetime('now'))`), and PostgreSQL's `DEFAULT` takes a
/// restricted expression (`b_expr`) that refuses `now() AT TIME ZONE 'utc'`,
/// `x COLLATE "C"`, `x IS NULL` and the like bare. Canonical expression
/// text has its outer parentheses stripped, so they are put back here.
pub(crate) fn default_value(value: &DefaultValue, dialect: Dialect) -> String {
    match value {
        DefaultValue::Expression(expression) => parenthesize(expression),
        DefaultValue::String(text) => literal(text, dialect),
        other => other.to_sql(),
    }
}

/// `text` wrapped in parentheses unless one pair already encloses all of it
/// (`(a) + (b)` is not enclosed; `(a + b)` is).
pub(crate) fn parenthesize(text: &str) -> String {
    let trimmed = text.trim();
    if encloses_all(trimmed) {
        trimmed.to_string()
    } else {
        format!("({trimmed})")
    }
}

fn encloses_all(text: &str) -> bool {
    if !text.starts_with('(') || !text.ends_with(')') {
        return false;
    }
    let mut depth = 0usize;
    // The quote that opened the string or quoted identifier we are in: a
    // parenthesis inside `'('` or `"a)"` is no parenthesis. A doubled quote
    // closes and reopens, which leaves the state right.
    let mut quoted: Option<char> = None;
    let last = text.len() - 1;
    for (at, c) in text.char_indices() {
        match c {
            '\'' | '"' | '`' if quoted.is_none() => quoted = Some(c),
            c if quoted == Some(c) => quoted = None,
            _ if quoted.is_some() => {}
            '(' => depth += 1,
            ')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return at == last;
                }
            }
            _ => {}
        }
    }
    false
}

/// Whether `sql` names `name` as a whole word, ignoring case: `users` is in
/// `SELECT * FROM "Users" u` but not in `SELECT * FROM users_archive`.
pub(crate) fn mentions(sql: &str, name: &str) -> bool {
    let haystack = sql.to_ascii_lowercase();
    let needle = name.to_ascii_lowercase();
    if needle.is_empty() {
        return false;
    }
    // Quoted, the name is spelled with its quote doubled (`"a""b"`), which
    // the bare search below would miss; SQLite also reads `` `a` `` and
    // `[a]` as identifiers.
    let quoted = [
        Dialect::Sqlite.quote_identifier(&needle),
        Dialect::Mysql.quote_identifier(&needle),
        format!("[{needle}]"),
    ];
    if quoted.iter().any(|q| haystack.contains(q.as_str())) {
        return true;
    }
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$';
    let mut from = 0;
    while let Some(found) = haystack[from..].find(&needle) {
        let start = from + found;
        let end = start + needle.len();
        let before_ok = haystack[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !is_word(c));
        let after_ok = haystack[end..].chars().next().is_none_or(|c| !is_word(c));
        if before_ok && after_ok {
            return true;
        }
        from = start + needle.len().max(1);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_spellings_are_the_ones_its_introspector_reads_back() {
        let cases = [
            ("varchar(255)", "VARCHAR(255)"),
            ("timestamp", "TIMESTAMP"),
            ("boolean", "BOOLEAN"),
            ("double", "DOUBLE"),
            ("real", "REAL"),
            ("bigint", "BIGINT"),
            ("smallint", "SMALLINT"),
            ("decimal(10,2)", "DECIMAL(10,2)"),
            ("char(3)", "CHAR(3)"),
            ("json", "JSON"),
            ("uuid", "UUID"),
            ("inet", "inet"),
        ];
        for (canonical, spelled) in cases {
            let ty: ColumnType = canonical.parse().unwrap();
            assert_eq!(column_type(&ty, Dialect::Sqlite).as_deref(), Some(spelled));
            assert_eq!(spelled.to_ascii_lowercase().parse::<ColumnType>(), Ok(ty));
        }
        assert_eq!(
            column_type(&"integer[]".parse().unwrap(), Dialect::Sqlite),
            None
        );
    }

    #[test]
    fn postgres_and_mysql_spellings() {
        let tz = ColumnType::Timestamp {
            with_time_zone: true,
            precision: None,
        };
        assert_eq!(
            column_type(&tz, Dialect::Postgres).as_deref(),
            Some("timestamp with time zone")
        );
        assert_eq!(
            column_type(&"integer[]".parse().unwrap(), Dialect::Postgres).as_deref(),
            Some("integer[]")
        );
        assert_eq!(
            column_type(&"timestamptz(3)".parse().unwrap(), Dialect::Postgres).as_deref(),
            Some("timestamp(3) with time zone")
        );
        assert_eq!(
            column_type(&"time(6)".parse().unwrap(), Dialect::Mysql).as_deref(),
            Some("TIME(6)")
        );
        assert_eq!(
            column_type(&"enum('a','it''s')".parse().unwrap(), Dialect::Mysql).as_deref(),
            Some("ENUM('a','it''s')")
        );
        assert_eq!(
            column_type(&ColumnType::Boolean, Dialect::Mysql).as_deref(),
            Some("BOOL")
        );
    }

    #[test]
    fn expression_defaults_are_parenthesized_once() {
        let expr = DefaultValue::Expression("datetime('now')".into());
        assert_eq!(default_value(&expr, Dialect::Sqlite), "(datetime('now'))");
        let wrapped = DefaultValue::Expression("(datetime('now'))".into());
        assert_eq!(
            default_value(&wrapped, Dialect::Sqlite),
            "(datetime('now'))"
        );
        assert_eq!(parenthesize("(a) + (b)"), "((a) + (b))");
        assert_eq!(parenthesize("(')')"), "(')')");
        assert_eq!(
            default_value(&DefaultValue::CurrentTimestamp, Dialect::Mysql),
            "CURRENT_TIMESTAMP"
        );
        let at_zone = DefaultValue::Expression("now() AT TIME ZONE 'utc'".into());
        assert_eq!(
            default_value(&at_zone, Dialect::Postgres),
            "(now() AT TIME ZONE 'utc')"
        );
        assert_eq!(parenthesize("(\"a)\") + (b)"), "((\"a)\") + (b))");
    }

    #[test]
    fn mentions_matches_whole_words_ignoring_case() {
        assert!(mentions(
            "CREATE VIEW v AS SELECT * FROM \"Users\"",
            "users"
        ));
        assert!(!mentions(
            "CREATE VIEW v AS SELECT * FROM users_archive",
            "users"
        ));
        assert!(mentions(
            "select a from x join users_archive, users",
            "users"
        ));
        assert!(mentions(
            "CREATE VIEW v AS SELECT * FROM \"Or\"\"ders; --\"",
            "or\"ders; --"
        ));
        assert!(mentions("SELECT * FROM [a b]", "a b"));
        assert!(!mentions("SELECT * FROM \"a\"\"bc\"", "a\"b"));
    }

    #[test]
    fn literals_escape_what_their_dialect_reads_as_special() {
        assert_eq!(literal("it's", Dialect::Postgres), "'it''s'");
        assert_eq!(literal(r"a\b", Dialect::Mysql), r"'a\\b'");
        assert_eq!(literal(r"a\b", Dialect::Postgres), r"'a\b'");
    }

    #[test]
    fn identifiers_double_their_quote() {
        assert_eq!(quote("a\"b", Dialect::Sqlite), "\"a\"\"b\"");
        assert_eq!(quote("a`b", Dialect::Mysql), "`a``b`");
    }
}
