//! Canonical forms of the SQL text that appears in DDL: column types,
//! defaults and expressions.
//!
//! The loader (reading model files) and the introspector (reading catalog
//! text) both go through these functions, so that two spellings of the same
//! thing (`INT` / `integer`, `(1)` / `1`, `"email"` / `email`) become one
//! value and never show up as a difference.

use retort_schema::{
    ColumnType, DefaultValue, Dialect, ForeignKeyAction, IndexTarget, Table, UniqueConstraint,
};
use sqlparser::ast::{
    CastKind, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Ident, InTarget,
    UnaryOperator, Value, ValueWithSpan,
};
use sqlparser::dialect::{
    Dialect as SqlDialect, GenericDialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect,
};
use sqlparser::keywords::ALL_KEYWORDS;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, Tokenizer};

use crate::depth::{PARSER_RECURSION_LIMIT, too_deep};

/// The sqlparser dialect that reads `dialect`'s SQL.
pub(crate) fn sql_dialect(dialect: Dialect) -> Box<dyn SqlDialect> {
    match dialect {
        Dialect::Sqlite => Box::new(SQLiteDialect {}),
        Dialect::Postgres => Box::new(PostgreSqlDialect {}),
        Dialect::Mysql => Box::new(MySqlDialect {}),
    }
}

/// PostgreSQL's `serial` family: an integer type plus a generated value.
fn has_serial_types(dialect: Dialect) -> bool {
    matches!(dialect, Dialect::Postgres)
}

/// MySQL has no real BOOLEAN: it is `TINYINT(1)`, and its catalog says so.
fn tinyint1_is_boolean(dialect: Dialect) -> bool {
    matches!(dialect, Dialect::Mysql)
}

/// `now()` is PostgreSQL's and MySQL's spelling of `CURRENT_TIMESTAMP`;
/// SQLite has no such function.
fn now_is_current_timestamp(dialect: Dialect) -> bool {
    !matches!(dialect, Dialect::Sqlite)
}

/// SQLite and MySQL read a double-quoted word in a `DEFAULT` as a string
/// literal; PostgreSQL reads it as an identifier.
fn double_quotes_may_be_strings(dialect: Dialect) -> bool {
    !matches!(dialect, Dialect::Postgres)
}

// ---------------------------------------------------------------------------
// Column types

/// The canonical [`ColumnType`] of a declared type, as a model file or a
/// catalog spells it (`VARCHAR(255)`, `int`, `DATETIME`, `character
/// varying(20)`, `int[]`, `tinyint(1)` …). Case and spacing do not matter.
///
/// A column declared without a type (SQLite allows `CREATE TABLE t (x)`, and
/// its catalog reports the type as `""`) is [`ColumnType::Blob`]: such a
/// column has BLOB affinity in SQLite, and `blob` renders and reads back as
/// the same value, whereas an empty custom type could not be written out.
/// Anything not recognised is [`ColumnType::Custom`] with the lowercased,
/// whitespace-collapsed text.
pub fn column_type(sql_type: &str, dialect: Dialect) -> ColumnType {
    column_type_and_serial(sql_type, dialect).0
}

/// The canonical type and whether the spelling implies a generated value
/// (PostgreSQL `serial`, `bigserial`, `smallserial`).
pub(crate) fn column_type_and_serial(sql_type: &str, dialect: Dialect) -> (ColumnType, bool) {
    // A quoted user type keeps its exact spelling: lower-casing the text
    // would change the name, and a dot inside the quotes is not a schema.
    if let Some(name) = quoted_type_name(sql_type, dialect) {
        return (ColumnType::Custom(name), false);
    }
    let text = collapse_type_text(sql_type);
    if text.is_empty() {
        return (ColumnType::Blob, false);
    }
    if let Some(inner) = text.strip_suffix("[]") {
        let (inner, _) = column_type_and_serial(inner, dialect);
        return (ColumnType::Array(Box::new(inner)), false);
    }
    if let Some(inner) = text.strip_suffix(" array") {
        let (inner, _) = column_type_and_serial(inner, dialect);
        return (ColumnType::Array(Box::new(inner)), false);
    }
    if let Some(values) = inline_enum_values(sql_type, dialect) {
        return (ColumnType::InlineEnum { values }, false);
    }
    if dialect == Dialect::Mysql
        && let Some(values) = list_type_values(sql_type, "set", dialect)
    {
        // The values keep their case (the rest of the text is lowercased).
        let values: Vec<String> = values
            .iter()
            .map(|v| Dialect::Mysql.quote_string(v))
            .collect();
        return (
            ColumnType::Custom(format!("set({})", values.join(","))),
            false,
        );
    }
    if has_serial_types(dialect) {
        match text.as_str() {
            "serial" | "serial4" => return (ColumnType::Integer, true),
            "bigserial" | "serial8" => return (ColumnType::BigInt, true),
            "smallserial" | "serial2" => return (ColumnType::SmallInt, true),
            _ => {}
        }
    }
    if let Some(integer) = mysql_integer_with_attributes(&text, dialect) {
        return (integer, false);
    }
    (base_type(&text, dialect), false)
}

/// MySQL's `UNSIGNED` / `ZEROFILL` integers, which the IR has no variant
/// for: [`ColumnType::Custom`] with the display width dropped and the base
/// name spelled as MySQL's catalog spells it, so that `INT UNSIGNED`,
/// `integer unsigned` and the catalog's `int(10) unsigned` are one type
/// (`int unsigned`). `ZEROFILL` implies `UNSIGNED`, as MySQL reports it.
/// The display width of a `ZEROFILL` column (its padding) is lost.
fn mysql_integer_with_attributes(text: &str, dialect: Dialect) -> Option<ColumnType> {
    if dialect != Dialect::Mysql {
        return None;
    }
    let mut words = text.split(' ');
    let head = words.next()?;
    let name = head.split('(').next()?;
    let name = match name {
        "tinyint" | "smallint" | "mediumint" | "bigint" => name,
        "int" | "integer" => "int",
        _ => return None,
    };
    let (mut unsigned, mut zerofill) = (false, false);
    for word in words {
        match word {
            "unsigned" => unsigned = true,
            "zerofill" => zerofill = true,
            // `signed` is the default and says nothing.
            "signed" => {}
            _ => return None,
        }
    }
    match (unsigned || zerofill, zerofill) {
        // `int signed` is `int`.
        (false, _) => Some(base_type(head, dialect)),
        (true, false) => Some(ColumnType::Custom(format!("{name} unsigned"))),
        (true, true) => Some(ColumnType::Custom(format!("{name} unsigned zerofill"))),
    }
}

/// Lowercases, collapses runs of whitespace and removes spaces around
/// parentheses and commas: `VARCHAR ( 255 )` → `varchar(255)`.
/// The parts of a dotted name (`"a""b".c`): each part's value and whether it
/// was quoted, or `None` where `text` is not exactly such a name.
pub fn name_parts(text: &str, dialect: Dialect) -> Option<Vec<(String, bool)>> {
    let quote = match dialect {
        Dialect::Mysql => '`',
        Dialect::Sqlite | Dialect::Postgres => '"',
    };
    let mut parts = Vec::new();
    let mut chars = text.trim().chars().peekable();
    loop {
        let mut value = String::new();
        if chars.peek() == Some(&quote) {
            chars.next();
            loop {
                match chars.next()? {
                    c if c == quote => {
                        if chars.peek() == Some(&quote) {
                            chars.next();
                            value.push(quote);
                        } else {
                            break;
                        }
                    }
                    c => value.push(c),
                }
            }
            parts.push((value, true));
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_alphanumeric() || c == '_' || c == '$' {
                    value.push(c);
                    chars.next();
                } else {
                    break;
                }
            }
            if value.is_empty() {
                return None;
            }
            parts.push((value, false));
        }
        match chars.next() {
            None => return Some(parts),
            Some('.') => {}
            Some(_) => return None,
        }
    }
}

/// A user type name with at least one quoted part, in the one spelling the
/// loader and the introspectors share: unquoted parts folded to lower case,
/// a part quoted only where it needs it (`"Mood"`, `"a""b"`, `mood`).
fn quoted_type_name(text: &str, dialect: Dialect) -> Option<String> {
    let parts = name_parts(text, dialect)?;
    if !parts.iter().any(|(_, quoted)| *quoted) {
        return None;
    }
    let parts: Vec<String> = parts
        .into_iter()
        .map(|(value, quoted)| {
            let value = if quoted { value } else { value.to_lowercase() };
            type_name_part(&value, dialect)
        })
        .collect();
    Some(parts.join("."))
}

/// One part of a user type name as [`quoted_type_name`] spells it.
pub fn type_name_part(value: &str, dialect: Dialect) -> String {
    let plain = value
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$');
    if plain {
        value.to_string()
    } else {
        dialect.quote_identifier(value)
    }
}

fn collapse_type_text(text: &str) -> String {
    let lower = text.trim().to_lowercase();
    let collapsed = lower.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = String::with_capacity(collapsed.len());
    let chars: Vec<char> = collapsed.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' {
            let prev = if i > 0 { chars[i - 1] } else { ' ' };
            let next = chars.get(i + 1).copied().unwrap_or(' ');
            if matches!(next, '(' | ')' | ',' | '[' | ']') || matches!(prev, '(' | ',' | '[') {
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// The values of `ENUM('a', 'b')` (any case and spacing), read from the
/// original text so that the values keep their case.
fn inline_enum_values(text: &str, dialect: Dialect) -> Option<Vec<String>> {
    list_type_values(text, "enum", dialect)
}

/// The values of `keyword('a','b')` (MySQL's `ENUM` and `SET`), as written.
/// On MySQL a backslash in a value is an escape, as the catalog's
/// `COLUMN_TYPE` and the loader's spelling (`'a\\b'`) both write it.
fn list_type_values(text: &str, keyword: &str, dialect: Dialect) -> Option<Vec<String>> {
    let trimmed = text.trim();
    let head = trimmed.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let list = trimmed[keyword.len()..]
        .trim_start()
        .strip_prefix('(')?
        .strip_suffix(')')?;
    if dialect == Dialect::Mysql {
        return mysql_string_list(list);
    }
    let canonical: ColumnType = format!("enum({list})").parse().ok()?;
    match canonical {
        ColumnType::InlineEnum { values } => Some(values),
        _ => None,
    }
}

/// `'a\\b', 'it''s'` read as MySQL string literals: `''` and the backslash
/// escapes (<https://dev.mysql.com/doc/refman/8.0/en/string-literals.html>;
/// `\%` and `\_` keep their backslash).
fn mysql_string_list(list: &str) -> Option<Vec<String>> {
    let mut values = Vec::new();
    let mut chars = list.trim().chars().peekable();
    loop {
        if chars.next()? != '\'' {
            return None;
        }
        let mut value = String::new();
        loop {
            match chars.next()? {
                '\'' if chars.peek() == Some(&'\'') => {
                    chars.next();
                    value.push('\'');
                }
                '\'' => break,
                '\\' => match chars.next()? {
                    '0' => value.push('\0'),
                    'b' => value.push('\u{8}'),
                    'n' => value.push('\n'),
                    'r' => value.push('\r'),
                    't' => value.push('\t'),
                    'Z' => value.push('\u{1a}'),
                    c @ ('%' | '_') => {
                        value.push('\\');
                        value.push(c);
                    }
                    c => value.push(c),
                },
                c => value.push(c),
            }
        }
        values.push(value);
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        match chars.next() {
            None => return Some(values),
            Some(',') => {
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
            }
            Some(_) => return None,
        }
    }
}

/// PostgreSQL's SQL-standard defaults for omitted type modifiers, which its
/// catalog reports spelled out: `char` is `char(1)`, `numeric(p)` is
/// `numeric(p,0)`, `float` is `double precision` and `float(p)` is `real`
/// up to 24 bits of precision
/// (<https://www.postgresql.org/docs/current/datatype-numeric.html>,
/// <https://www.postgresql.org/docs/current/datatype-character.html>).
fn standard_type_modifiers(dialect: Dialect) -> bool {
    matches!(dialect, Dialect::Postgres)
}

/// PostgreSQL implies `NOT NULL` for `serial` and identity columns.
pub(crate) fn generated_values_imply_not_null(dialect: Dialect) -> bool {
    matches!(dialect, Dialect::Postgres)
}

/// A default as the catalog prints it for the column's type: PostgreSQL
/// stores `BOOLEAN DEFAULT 't'` as `true` and `INTEGER DEFAULT '5'` as `5`,
/// MySQL `BOOLEAN DEFAULT TRUE` as `1`, so the model's literal is read as
/// the typed value. The loader applies it to every default; an
/// introspector applies it to the catalog's.
pub fn typed_default(default: DefaultValue, ty: &ColumnType, dialect: Dialect) -> DefaultValue {
    if dialect == Dialect::Mysql {
        return mysql_typed_default(default, ty);
    }
    if !matches!(dialect, Dialect::Postgres) {
        return default;
    }
    let default = match &default {
        DefaultValue::Expression(text) => match literal_cast_parts(text) {
            Some((literal, cast_type)) if cast_type == *ty => DefaultValue::String(literal),
            _ => default,
        },
        _ => default,
    };
    let DefaultValue::String(text) = &default else {
        return default;
    };
    match ty {
        // https://www.postgresql.org/docs/current/datatype-boolean.html
        ColumnType::Boolean => match text.trim().to_ascii_lowercase().as_str() {
            "t" | "true" | "y" | "yes" | "on" | "1" => DefaultValue::Boolean(true),
            "f" | "false" | "n" | "no" | "off" | "0" => DefaultValue::Boolean(false),
            _ => default,
        },
        ColumnType::SmallInt
        | ColumnType::Integer
        | ColumnType::BigInt
        | ColumnType::Real
        | ColumnType::Double
        | ColumnType::Decimal { .. } => DefaultValue::number(text).unwrap_or(default),
        ColumnType::Custom(name) if name == "interval" => {
            match crate::interval::postgres_interval_text(text) {
                Some(printed) => DefaultValue::String(printed),
                None => default,
            }
        }
        _ => default,
    }
}

/// A default as MySQL stores it for the column's type: MySQL converts the
/// literal to the column type, so `BOOLEAN DEFAULT TRUE` reads back as `1`
/// and `INT DEFAULT '5'` as `5`. A boolean (`tinyint(1)`) column's `0`/`1`
/// is the boolean, a number column's string or boolean the number.
fn mysql_typed_default(default: DefaultValue, ty: &ColumnType) -> DefaultValue {
    let numeric = matches!(
        ty,
        ColumnType::SmallInt
            | ColumnType::Integer
            | ColumnType::BigInt
            | ColumnType::Real
            | ColumnType::Double
            | ColumnType::Decimal { .. }
    );
    match (&default, ty) {
        (DefaultValue::Number(n) | DefaultValue::String(n), ColumnType::Boolean) => {
            match DefaultValue::number(n) {
                Some(DefaultValue::Number(n)) if n == "1" => DefaultValue::Boolean(true),
                Some(DefaultValue::Number(n)) if n == "0" => DefaultValue::Boolean(false),
                _ => default,
            }
        }
        (DefaultValue::String(text), _) if numeric => DefaultValue::number(text).unwrap_or(default),
        (DefaultValue::Boolean(b), _) if numeric => DefaultValue::Number(u8::from(*b).to_string()),
        (DefaultValue::String(text), ColumnType::Timestamp { .. }) => {
            DefaultValue::String(mysql_datetime_literal(text).unwrap_or_else(|| text.clone()))
        }
        (DefaultValue::String(text), ColumnType::Custom(name))
            if name.starts_with("datetime(") || name.starts_with("timestamp(") =>
        {
            DefaultValue::String(mysql_datetime_literal(text).unwrap_or_else(|| text.clone()))
        }
        _ => default,
    }
}

/// A `DATETIME`/`TIMESTAMP` literal as MySQL stores it, without the
/// fractional digits the column's precision adds: `2020-01-01` is
/// `2020-01-01 00:00:00`, and `…:00.000` (a `DATETIME(3)`) is `…:00`.
/// `None` for text of another shape, which is left alone.
fn mysql_datetime_literal(text: &str) -> Option<String> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let (date, time) = text.split_once(' ').unwrap_or((text, "00:00:00"));
    let date_parts: Vec<&str> = date.split('-').collect();
    if date_parts.len() != 3 || !date_parts.iter().all(|p| digits(p)) {
        return None;
    }
    let (clock, fraction) = time.split_once('.').unwrap_or((time, ""));
    let clock_parts: Vec<&str> = clock.split(':').collect();
    if clock_parts.len() != 3 || !clock_parts.iter().all(|p| digits(p)) {
        return None;
    }
    if !fraction.is_empty() && !digits(fraction) {
        return None;
    }
    let fraction = fraction.trim_end_matches('0');
    Some(if fraction.is_empty() {
        format!("{date} {clock}")
    } else {
        format!("{date} {clock}.{fraction}")
    })
}

fn base_type(text: &str, dialect: Dialect) -> ColumnType {
    // `timestamp(3) with time zone`: the precision moves out of the way of
    // the zone, so that it reads as `timestamptz(3)` does.
    let without_precision;
    let mut fraction_digits = None;
    let text = match precision_before_zone(text) {
        Some((stripped, digits)) => {
            without_precision = stripped;
            fraction_digits = Some(digits);
            without_precision.as_str()
        }
        None => text,
    };
    let (name, args) = split_type_args(text);
    let numbers: Option<Vec<u32>> = args.iter().map(|a| a.parse().ok()).collect();
    let numbers = numbers.unwrap_or_default();
    let first = numbers.first().copied();
    let second = numbers.get(1).copied();
    // Fractional-second digits of a time type; MySQL's default is 0 and its
    // catalog leaves `(0)` out.
    let precision = fraction_digits
        .or(first)
        .filter(|&p| !(dialect == Dialect::Mysql && p == 0));
    let custom = || ColumnType::Custom(text.to_string());
    if dialect == Dialect::Mysql
        && let Some(ty) = mysql_type_modifiers(name, first, second)
    {
        return ty;
    }
    match name {
        // MySQL spells BOOLEAN as TINYINT(1), and its catalog reports it so.
        "tinyint" if tinyint1_is_boolean(dialect) && first == Some(1) => ColumnType::Boolean,
        // Integer display widths (`int(11)`) mean nothing to the storage.
        "int" | "integer" | "mediumint" | "int4" => ColumnType::Integer,
        "bigint" | "int8" => ColumnType::BigInt,
        "smallint" | "tinyint" | "int2" => ColumnType::SmallInt,
        "varchar"
        | "character varying"
        | "nvarchar"
        | "varying character"
        | "national varchar"
        | "national character varying"
        | "varchar2" => ColumnType::Varchar { length: first },
        "char" | "character" if standard_type_modifiers(dialect) => ColumnType::Char {
            length: first.or(Some(1)),
        },
        "char" | "character" | "nchar" | "national character" | "native character" | "bpchar" => {
            ColumnType::Char { length: first }
        }
        "text" | "clob" => ColumnType::Text,
        "blob" | "bytea" => ColumnType::Blob,
        "float" if standard_type_modifiers(dialect) && first.is_none_or(|p| p > 24) => {
            ColumnType::Double
        }
        "real" | "float" | "float4" => ColumnType::Real,
        "double" | "double precision" | "float8" => ColumnType::Double,
        "numeric" | "decimal" | "dec" => ColumnType::Decimal {
            precision: first,
            scale: second.or(first
                .filter(|_| standard_type_modifiers(dialect))
                .map(|_| 0)),
        },
        "boolean" | "bool" => ColumnType::Boolean,
        "date" => ColumnType::Date,
        "datetime" | "timestamp" | "timestamp without time zone" => ColumnType::Timestamp {
            with_time_zone: false,
            precision,
        },
        "timestamptz" | "timestamp with time zone" => ColumnType::Timestamp {
            with_time_zone: true,
            precision,
        },
        "time" | "time without time zone" => ColumnType::Time {
            with_time_zone: false,
            precision,
        },
        "timetz" | "time with time zone" => ColumnType::Time {
            with_time_zone: true,
            precision,
        },
        "json" => ColumnType::Json,
        "jsonb" => ColumnType::Jsonb,
        "uuid" => ColumnType::Uuid,
        _ => custom(),
    }
}

/// MySQL's defaults for omitted type modifiers and its synonyms, as its
/// catalog reports them (<https://dev.mysql.com/doc/refman/8.0/en/numeric-type-syntax.html>,
/// <https://dev.mysql.com/doc/refman/8.0/en/string-type-syntax.html>):
/// `REAL` is `DOUBLE` (unless the `REAL_AS_FLOAT` SQL mode is on),
/// `FLOAT(p)` is `DOUBLE` above 24 bits, `DECIMAL` is `decimal(10,0)` and
/// `DECIMAL(p)` `decimal(p,0)`, `CHAR` is `char(1)`, `BIT` is `bit(1)`,
/// `YEAR` is `year(4)` and `TIMESTAMP` is a timestamp with time zone. `None` leaves the type to [`base_type`].
fn mysql_type_modifiers(name: &str, first: Option<u32>, second: Option<u32>) -> Option<ColumnType> {
    match name {
        "real" => Some(ColumnType::Double),
        "float" if first.is_some_and(|p| p > 24) && second.is_none() => Some(ColumnType::Double),
        "numeric" | "decimal" | "dec" | "fixed" => Some(ColumnType::Decimal {
            precision: Some(first.unwrap_or(10)),
            scale: Some(second.unwrap_or(0)),
        }),
        "char" | "character" if first.is_none() => Some(ColumnType::Char { length: Some(1) }),
        "bit" => Some(ColumnType::Custom(format!("bit({})", first.unwrap_or(1)))),
        "year" => Some(ColumnType::Custom("year".to_string())),
        // TIMESTAMP stores UTC and converts from and to the session's time
        // zone (and its range ends in 2038); DATETIME stores what it is
        // given. They are PostgreSQL's `timestamptz` and `timestamp`.
        // Fractional seconds (`datetime(3)`) are the type's precision;
        // `(0)` is the plain type, as the catalog leaves it out.
        "timestamp" => Some(ColumnType::Timestamp {
            with_time_zone: true,
            precision: first.filter(|&p| p > 0),
        }),
        _ => None,
    }
}

/// Splits `name(a,b)` into `name` and its arguments. A trailing modifier
/// after the parentheses (`timestamp(3) with time zone`) is kept in the name
/// so that such types fall through to `Custom` rather than losing it.
fn split_type_args(text: &str) -> (&str, Vec<&str>) {
    match (text.find('('), text.rfind(')')) {
        (Some(open), Some(close)) if close > open => {
            let rest = &text[close + 1..];
            if !rest.is_empty() {
                return (text, Vec::new());
            }
            let args = text[open + 1..close].split(',').map(str::trim).collect();
            (&text[..open], args)
        }
        _ => (text, Vec::new()),
    }
}

/// `time[stamp](n) with[out] time zone` without its `(n)`, and `n`; or
/// `None`.
fn precision_before_zone(text: &str) -> Option<(String, u32)> {
    let open = text.find('(')?;
    let close = open + text[open..].find(')')?;
    let name = &text[..open];
    let rest = text[close + 1..].trim_start();
    let is_time = matches!(name, "time" | "timestamp");
    let is_zone = matches!(rest, "with time zone" | "without time zone");
    let digits = text[open + 1..close].trim().parse().ok()?;
    (is_time && is_zone).then(|| (format!("{name} {rest}"), digits))
}

// ---------------------------------------------------------------------------
// Defaults

/// The canonical [`DefaultValue`] of default-expression text, as a catalog
/// prints it (`'x'`, `0.00`, `(1)`, `CURRENT_TIMESTAMP`, `'x'::text`,
/// `(datetime('now'))` …). `NULL` gives [`DefaultValue::Null`]; a column
/// whose default is `NULL` has no default, see [`column_default`].
pub fn default_value(sql: &str, dialect: Dialect) -> DefaultValue {
    match parse_expression(sql, dialect) {
        Some(expr) => default_from_expr(&expr, dialect),
        None => DefaultValue::Expression(collapse_whitespace(strip_outer_parens_text(sql))),
    }
}

/// The default a column has, given its default-expression text: like
/// [`default_value`], except that `NULL` (the same as no default) is `None`.
pub fn column_default(sql: &str, dialect: Dialect) -> Option<DefaultValue> {
    match default_value(sql, dialect) {
        DefaultValue::Null => None,
        other => Some(other),
    }
}

/// The canonical default of a parsed `DEFAULT` expression.
pub(crate) fn default_from_expr(expr: &Expr, dialect: Dialect) -> DefaultValue {
    let expr = strip_nested(expr);
    if let Some(literal) = literal_default(expr, dialect) {
        return literal;
    }
    // `INTERVAL '1 day'`, `INTERVAL '1' DAY` are the interval literal
    // `'1 day'`; [`typed_default`] puts it in the catalog's form.
    if let Expr::Interval(interval) = expr
        && dialect == Dialect::Postgres
        && interval.leading_precision.is_none()
        && interval.fractional_seconds_precision.is_none()
        && let Expr::Value(ValueWithSpan {
            value: Value::SingleQuotedString(text),
            ..
        }) = strip_nested(&interval.value)
    {
        let plain = match (&interval.leading_field, &interval.last_field) {
            (None, None) => Some(text.clone()),
            (Some(unit), None) => crate::interval::qualified_interval_text(text, &unit.to_string()),
            _ => None,
        };
        if let Some(plain) = plain {
            return DefaultValue::String(plain);
        }
    }
    // `DATE '2024-01-01'` is `'2024-01-01'::date`.
    if let Expr::TypedString(typed) = expr
        && let Value::SingleQuotedString(text) = &typed.value.value
    {
        if dialect == Dialect::Postgres
            && let Some(cast) = meaningful_literal_cast(&typed.data_type.to_string(), text)
        {
            return cast;
        }
        return DefaultValue::String(text.clone());
    }
    match expr {
        Expr::Cast {
            kind: CastKind::DoubleColon,
            expr: inner,
            data_type,
            ..
        } => {
            // PostgreSQL prints literal defaults with a cast: 'x'::text,
            // '-1'::integer. The cast adds nothing the column type does not
            // already say, so the literal alone is the default.
            let inner = strip_nested(inner);
            if let (Some(DefaultValue::String(text)), true) = (
                literal_default(inner, dialect),
                dialect == Dialect::Postgres,
            ) && let Some(cast) = meaningful_literal_cast(&data_type.to_string(), &text)
            {
                return cast;
            }
            if let Some(value) = literal_default(inner, dialect) {
                let numeric = matches!(
                    column_type(&data_type.to_string(), dialect),
                    ColumnType::SmallInt
                        | ColumnType::Integer
                        | ColumnType::BigInt
                        | ColumnType::Real
                        | ColumnType::Double
                        | ColumnType::Decimal { .. }
                );
                if let (true, DefaultValue::String(text)) = (numeric, &value)
                    && let Some(number) = DefaultValue::number(text)
                {
                    return number;
                }
                return value;
            }
            if let Expr::Cast { .. } = inner {
                return default_from_expr(inner, dialect);
            }
            if let Expr::Array(array) = inner {
                // A non-empty `ARRAY[…]` takes the column's type by
                // assignment, and PostgreSQL prints `ARRAY[1, 2]::bigint[]`
                // back as `ARRAY[(1)::bigint, (2)::bigint]`: the cast says
                // nothing. An empty one has no type but its cast's, which
                // must stay (`SET DEFAULT ARRAY[]` is refused), in one
                // spelling for the model's `int[][]` and the catalog's
                // `integer[]`.
                if !array.elem.is_empty() {
                    return default_from_expr(inner, dialect);
                }
                if dialect == Dialect::Postgres
                    && let Some(ty) = postgres_cast_type(&data_type.to_string())
                {
                    return DefaultValue::Expression(format!("ARRAY[]::{ty}"));
                }
            }
        }
        Expr::Function(function) => {
            let name = function.name.to_string().to_ascii_uppercase();
            let no_args = match &function.args {
                FunctionArguments::None => true,
                FunctionArguments::List(list) => list.args.is_empty(),
                FunctionArguments::Subquery(_) => false,
            };
            if no_args {
                match name.as_str() {
                    "CURRENT_TIMESTAMP" => return DefaultValue::CurrentTimestamp,
                    "CURRENT_DATE" => return DefaultValue::CurrentDate,
                    "CURRENT_TIME" => return DefaultValue::CurrentTime,
                    "NOW" if now_is_current_timestamp(dialect) => {
                        return DefaultValue::CurrentTimestamp;
                    }
                    // MariaDB stores `DEFAULT CURRENT_DATE` as `curdate()`.
                    "CURDATE" if dialect == Dialect::Mysql => return DefaultValue::CurrentDate,
                    "CURTIME" if dialect == Dialect::Mysql => return DefaultValue::CurrentTime,
                    _ => {}
                }
            }
        }
        _ => {}
    }
    DefaultValue::Expression(canonical_expr(expr, dialect))
}

/// A PostgreSQL string literal cast to a date, time, timestamp or interval
/// type, kept as the expression `'…'::type`: the literal means something
/// else read as another of these types (`'2020-01-01 00:00:00'::timestamp`
/// on a `timestamptz` column is midnight in the session's zone when the row
/// is written, not when the table was created). [`typed_default`] drops the
/// cast where it is to the column's own type.
fn meaningful_literal_cast(type_text: &str, text: &str) -> Option<DefaultValue> {
    let ty = column_type(type_text, Dialect::Postgres);
    let temporal = matches!(
        ty,
        ColumnType::Date | ColumnType::Time { .. } | ColumnType::Timestamp { .. }
    ) || ty == ColumnType::Custom("interval".to_string());
    if !temporal {
        return None;
    }
    let spelled = postgres_cast_type(type_text)?;
    Some(DefaultValue::Expression(format!(
        "{}::{spelled}",
        DefaultValue::String(text.to_string())
    )))
}

/// The literal and type of `'…'::type` text, as [`meaningful_literal_cast`]
/// writes it.
fn literal_cast_parts(text: &str) -> Option<(String, ColumnType)> {
    let Expr::Cast {
        kind: CastKind::DoubleColon,
        expr,
        data_type,
        ..
    } = parse_expression(text, Dialect::Postgres)?
    else {
        return None;
    };
    match *expr {
        Expr::Value(ValueWithSpan {
            value: Value::SingleQuotedString(literal),
            ..
        }) => Some((
            literal,
            column_type(&data_type.to_string(), Dialect::Postgres),
        )),
        _ => None,
    }
}

/// The one spelling of a cast's target type that both a model's text and
/// `pg_get_expr` reduce to: `INT[][]` and `integer[]` are both `integer[]`
/// (PostgreSQL arrays carry no dimensions in their type). `None` for types
/// it does not know, which keep their text.
fn postgres_cast_type(text: &str) -> Option<String> {
    if text.contains('"') {
        return None;
    }
    let ty = column_type(text, Dialect::Postgres);
    let mut base = &ty;
    let mut array = false;
    while let ColumnType::Array(inner) = base {
        base = inner;
        array = true;
    }
    let name = match base {
        ColumnType::SmallInt => "smallint".to_string(),
        ColumnType::Integer => "integer".to_string(),
        ColumnType::BigInt => "bigint".to_string(),
        ColumnType::Real => "real".to_string(),
        ColumnType::Double => "double precision".to_string(),
        ColumnType::Decimal { .. }
        | ColumnType::Char { .. }
        | ColumnType::Varchar { .. }
        | ColumnType::Custom(_) => base.to_string().replace("decimal", "numeric"),
        ColumnType::Boolean => "boolean".to_string(),
        ColumnType::Text => "text".to_string(),
        ColumnType::Blob => "bytea".to_string(),
        ColumnType::Date => "date".to_string(),
        ColumnType::Time { .. }
        | ColumnType::Timestamp { .. }
        | ColumnType::Json
        | ColumnType::Jsonb
        | ColumnType::Uuid => base.to_string(),
        ColumnType::Enum { name } => name.clone(),
        ColumnType::InlineEnum { .. } | ColumnType::Array(_) => return None,
    };
    Some(if array { format!("{name}[]") } else { name })
}

/// A literal default: string, number (with sign), boolean or NULL.
fn literal_default(expr: &Expr, dialect: Dialect) -> Option<DefaultValue> {
    match expr {
        Expr::Value(ValueWithSpan { value, .. }) => match value {
            Value::SingleQuotedString(s)
            | Value::NationalStringLiteral(s)
            | Value::EscapedStringLiteral(s) => Some(DefaultValue::String(s.clone())),
            Value::DoubleQuotedString(s) if double_quotes_may_be_strings(dialect) => {
                Some(DefaultValue::String(s.clone()))
            }
            Value::Number(n, _) => DefaultValue::number(n),
            Value::Boolean(b) => Some(DefaultValue::Boolean(*b)),
            Value::Null => Some(DefaultValue::Null),
            _ => None,
        },
        // SQLite and MySQL read `DEFAULT "x"` as the string 'x'.
        Expr::Identifier(Ident {
            value,
            quote_style: Some('"'),
            ..
        }) if double_quotes_may_be_strings(dialect) => Some(DefaultValue::String(value.clone())),
        Expr::UnaryOp {
            op: op @ (UnaryOperator::Minus | UnaryOperator::Plus),
            expr: inner,
        } => match strip_nested(inner) {
            Expr::Value(ValueWithSpan {
                value: Value::Number(n, _),
                ..
            }) => {
                let sign = if *op == UnaryOperator::Minus { "-" } else { "" };
                DefaultValue::number(&format!("{sign}{n}"))
            }
            _ => None,
        },
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// MySQL keys

/// Puts a MySQL table's keys in the one form both the loader and the
/// introspector produce, since MySQL's catalog cannot tell the model's
/// spellings apart:
///
/// - the primary key has no name (MySQL always calls it `PRIMARY`);
/// - a unique index on plain ascending columns is a [`UniqueConstraint`]
///   named after the index: `UNIQUE (c)`, `UNIQUE KEY k (c)` and
///   `CREATE UNIQUE INDEX k ON t (c)` all create the same unique index,
///   which `information_schema.TABLE_CONSTRAINTS` lists as `UNIQUE`;
/// - the index MySQL creates by itself for a foreign key that no index
///   serves is not listed (it is part of the foreign key, not something the
///   models declare, and must not be dropped): a non-unique index on exactly
///   the key's columns named after the key or its first column (`user_id`,
///   `user_id_2` on a collision). The same index declared in the models is
///   left out too, so both sides agree;
/// - `RESTRICT` is `NO ACTION`: InnoDB treats them alike, and reports
///   `RESTRICT` for a key declared without a rule;
/// - an empty comment is no comment (MySQL stores no comment as `''`).
pub fn canonical_mysql_table(table: &mut Table) {
    if let Some(pk) = &mut table.primary_key {
        pk.name = None;
    }
    let comments =
        std::iter::once(&mut table.comment).chain(table.columns.iter_mut().map(|c| &mut c.comment));
    for comment in comments {
        if comment.as_deref() == Some("") {
            *comment = None;
        }
    }
    for key in &mut table.foreign_keys {
        for action in [&mut key.on_delete, &mut key.on_update] {
            if *action == ForeignKeyAction::Restrict {
                *action = ForeignKeyAction::NoAction;
            }
        }
    }
    let plain_columns = |index: &retort_schema::Index| -> Option<Vec<String>> {
        if index.predicate.is_some() || index.method.is_some() {
            return None;
        }
        index
            .parts
            .iter()
            .map(|part| match &part.target {
                IndexTarget::Column(name) if !part.descending && part.prefix.is_none() => {
                    Some(name.clone())
                }
                _ => None,
            })
            .collect()
    };
    let implied_key =
        |foreign_keys: &[retort_schema::ForeignKey], name: &str, columns: &[String]| {
            foreign_keys.iter().position(|key| {
                key.columns == columns
                    && (key.name.as_deref() == Some(name)
                        || columns.first().is_some_and(|first| {
                            name == first
                                || name.strip_prefix(first.as_str()).is_some_and(|rest| {
                                    rest.strip_prefix('_').is_some_and(|n| {
                                        !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
                                    })
                                })
                        }))
            })
        };
    let mut kept = Vec::with_capacity(table.indexes.len());
    let mut uniques = Vec::new();
    for index in std::mem::take(&mut table.indexes) {
        match plain_columns(&index) {
            Some(columns) if index.unique => uniques.push(UniqueConstraint {
                name: Some(index.name),
                columns,
                nulls_not_distinct: false,
            }),
            Some(columns) => match implied_key(&table.foreign_keys, &index.name, &columns) {
                Some(at) => table.foreign_keys[at].implicit_index = Some(index.name),
                None => kept.push(index),
            },
            None => kept.push(index),
        }
    }
    table.indexes = kept;
    table.unique_constraints.extend(uniques);
    table.normalize();
}

// ---------------------------------------------------------------------------
// Expressions

/// The canonical text of an expression (a `CHECK`, a partial-index
/// predicate, an index expression): parsed and printed back by sqlparser, so
/// that spacing and keyword case vanish, redundant outer parentheses
/// stripped, simple quoted identifiers unquoted and function names
/// lowercased. Text that does not parse falls back to its
/// whitespace-collapsed form without outer parentheses.
pub fn canonical_expression(sql: &str, dialect: Dialect) -> String {
    match parse_expression(sql, dialect) {
        Some(expr) => canonical_expr(&expr, dialect),
        None => collapse_whitespace(strip_outer_parens_text(sql)),
    }
}

/// [`canonical_expr`] for a caller holding a parsed expression (the
/// PostgreSQL introspector, after simplifying the catalog's text): printing
/// it and parsing the text again would go through sqlparser's printer,
/// which does not escape every string literal faithfully.
pub fn canonical_expression_of(expr: &Expr, dialect: Dialect) -> String {
    canonical_expr(expr, dialect)
}

/// The canonical text of a parsed expression, see [`canonical_expression`].
pub(crate) fn canonical_expr(expr: &Expr, dialect: Dialect) -> String {
    let mut encoded = expr.clone();
    encode_literals(&mut encoded);
    let expr = &encoded;
    let expanded;
    let expr = if dialect == Dialect::Postgres {
        expanded = drop_redundant_parens(expand_between(strip_nested(expr)), 0, Side::Only);
        &expanded
    } else {
        expr
    };
    let printed = strip_nested(expr).to_string();
    let polished = polish_tokens(&printed, dialect).unwrap_or(printed);
    decode_literals(&polished, dialect)
}

/// Stand-ins for `'` and `\` inside string literals while sqlparser prints
/// an expression: its printer leaves a `''` or `\'` already in a value as it
/// is (taking it for an escape), so the value `a''b` would print as
/// `'a''b'` (the value `a'b`) and `v\'` as the unterminated `'v\''`.
/// Private-use characters, which model text does not hold, print verbatim.
const QUOTE_MARK: char = '\u{F8F0}';
const BACKSLASH_MARK: char = '\u{F8F1}';
const DOUBLE_QUOTE_MARK: char = '\u{F8F2}';
const BACKTICK_MARK: char = '\u{F8F3}';

/// `expr` with the quotes and backslashes of its string literals replaced
/// by [`QUOTE_MARK`] and [`BACKSLASH_MARK`], wherever an expression in a
/// default, check or index can hold a literal.
fn encode_literals(expr: &mut Expr) {
    use sqlparser::ast::{FunctionArg, FunctionArgExpr, FunctionArguments, InTarget, Value};
    match expr {
        Expr::Value(v) => {
            if let Value::SingleQuotedString(text) | Value::NationalStringLiteral(text) =
                &mut v.value
            {
                *text = text
                    .replace('\'', &QUOTE_MARK.to_string())
                    .replace('\\', &BACKSLASH_MARK.to_string());
            }
        }
        Expr::Identifier(ident) => encode_ident(ident),
        Expr::CompoundIdentifier(parts) => parts.iter_mut().for_each(encode_ident),
        Expr::BinaryOp { left, right, .. }
        | Expr::AnyOp { left, right, .. }
        | Expr::AllOp { left, right, .. }
        | Expr::IsDistinctFrom(left, right)
        | Expr::IsNotDistinctFrom(left, right) => {
            encode_literals(left);
            encode_literals(right);
        }
        Expr::UnaryOp { expr, .. }
        | Expr::Nested(expr)
        | Expr::Cast { expr, .. }
        | Expr::Collate { expr, .. }
        | Expr::IsNull(expr)
        | Expr::IsNotNull(expr)
        | Expr::IsTrue(expr)
        | Expr::IsNotTrue(expr)
        | Expr::IsFalse(expr)
        | Expr::IsNotFalse(expr) => encode_literals(expr),
        Expr::AtTimeZone {
            timestamp,
            time_zone,
        } => {
            encode_literals(timestamp);
            encode_literals(time_zone);
        }
        Expr::Between {
            expr, low, high, ..
        } => {
            encode_literals(expr);
            encode_literals(low);
            encode_literals(high);
        }
        Expr::Like {
            expr,
            pattern,
            escape_char,
            ..
        }
        | Expr::ILike {
            expr,
            pattern,
            escape_char,
            ..
        } => {
            encode_literals(expr);
            encode_literals(pattern);
            if let Some(escape) = escape_char {
                encode_literals(escape);
            }
        }
        Expr::In { expr, target, .. } => {
            encode_literals(expr);
            if let InTarget::List(list) = target {
                list.iter_mut().for_each(encode_literals);
            }
        }
        Expr::Tuple(list) => list.iter_mut().for_each(encode_literals),
        Expr::Case {
            operand,
            conditions,
            else_result,
            ..
        } => {
            if let Some(operand) = operand {
                encode_literals(operand);
            }
            for when in conditions {
                encode_literals(&mut when.condition);
                encode_literals(&mut when.result);
            }
            if let Some(result) = else_result {
                encode_literals(result);
            }
        }
        Expr::Function(function) => {
            if let FunctionArguments::List(list) = &mut function.args {
                for arg in &mut list.args {
                    let (FunctionArg::Named { arg, .. }
                    | FunctionArg::ExprNamed { arg, .. }
                    | FunctionArg::Unnamed(arg)) = arg;
                    if let FunctionArgExpr::Expr(e) = arg {
                        encode_literals(e);
                    }
                }
            }
        }
        _ => {}
    }
}

/// A quoted identifier's quote characters as [`DOUBLE_QUOTE_MARK`] or
/// [`BACKTICK_MARK`]: the printer leaves a doubled quote in a name as it is,
/// so the column ``a`` `` `` (`a```) would print as one that ends early.
fn encode_ident(ident: &mut sqlparser::ast::Ident) {
    match ident.quote_style {
        Some('"') => ident.value = ident.value.replace('"', &DOUBLE_QUOTE_MARK.to_string()),
        Some('`') => ident.value = ident.value.replace('`', &BACKTICK_MARK.to_string()),
        _ => {}
    }
}

/// Printed text with the stand-ins of [`encode_literals`] written back in
/// the dialect's literal syntax ([`Dialect::quote_string`]).
fn decode_literals(text: &str, dialect: Dialect) -> String {
    if !text.contains([QUOTE_MARK, BACKSLASH_MARK, DOUBLE_QUOTE_MARK, BACKTICK_MARK]) {
        return text.to_string();
    }
    let backslash = match dialect {
        Dialect::Mysql => "\\\\",
        Dialect::Sqlite | Dialect::Postgres => "\\",
    };
    text.replace(QUOTE_MARK, "''")
        .replace(BACKSLASH_MARK, backslash)
        .replace(DOUBLE_QUOTE_MARK, "\"\"")
        .replace(BACKTICK_MARK, "``")
}

/// `expr` with every `x BETWEEN a AND b` written as PostgreSQL stores it,
/// `x >= a AND x <= b` (and `NOT BETWEEN` as `x < a OR x > b`), looking
/// through AND/OR/NOT and parentheses, where CHECK constraints put them.
fn expand_between(expr: &Expr) -> Expr {
    use sqlparser::ast::BinaryOperator as Op;
    let binary = |left: Expr, op: Op, right: Expr| Expr::BinaryOp {
        left: Box::new(left),
        op,
        right: Box::new(right),
    };
    match expr {
        Expr::Between {
            expr: x,
            negated,
            low,
            high,
        } => {
            let x = expand_between(x);
            let (low, high) = (expand_between(low), expand_between(high));
            if *negated {
                binary(
                    binary(x.clone(), Op::Lt, low),
                    Op::Or,
                    binary(x, Op::Gt, high),
                )
            } else {
                binary(
                    binary(x.clone(), Op::GtEq, low),
                    Op::And,
                    binary(x, Op::LtEq, high),
                )
            }
        }
        Expr::BinaryOp { left, op, right } if matches!(op, Op::And | Op::Or) => {
            let side = |e: &Expr| match expand_between(e) {
                // An expanded OR inside an AND keeps its parentheses.
                or @ Expr::BinaryOp { op: Op::Or, .. } if *op == Op::And => {
                    Expr::Nested(Box::new(or))
                }
                other => other,
            };
            binary(side(left), op.clone(), side(right))
        }
        Expr::UnaryOp { op, expr: inner } => Expr::UnaryOp {
            op: *op,
            expr: Box::new(expand_between(inner)),
        },
        Expr::Nested(inner) => Expr::Nested(Box::new(expand_between(inner))),
        // PostgreSQL stores `x IN (a, b)` as `x = ANY (ARRAY[a, b])` and
        // prints it back so; the introspector reads that as `x IN (a, b)`.
        // A model's own `x = ANY (ARRAY[…])` / `x = SOME (…)` is the same
        // check, and `x <> ALL (ARRAY[…])` is `x NOT IN (…)`.
        Expr::AnyOp {
            left,
            compare_op: Op::Eq,
            right,
            ..
        } if array_literal(right).is_some() => Expr::In {
            expr: left.clone(),
            target: InTarget::List(array_literal(right).unwrap_or_default()),
            negated: false,
            global: false,
        },
        Expr::AllOp {
            left,
            compare_op: Op::NotEq,
            right,
        } if array_literal(right).is_some() => Expr::In {
            expr: left.clone(),
            target: InTarget::List(array_literal(right).unwrap_or_default()),
            negated: true,
            global: false,
        },
        // SOME is ANY, which PostgreSQL prints.
        Expr::AnyOp {
            left,
            compare_op,
            right,
            ..
        } => Expr::AnyOp {
            left: left.clone(),
            compare_op: compare_op.clone(),
            right: right.clone(),
            is_some: false,
        },
        other => other.clone(),
    }
}

/// The elements of an `ARRAY[…]` literal, however parenthesised.
fn array_literal(expr: &Expr) -> Option<Vec<Expr>> {
    match strip_nested(expr) {
        Expr::Array(array) => Some(array.elem.clone()),
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// Parentheses

/// Where a child sits in its parent: parentheses around the right operand of
/// a left-associative operator of the same precedence matter (`a - (b - c)`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Left,
    Right,
    Only,
}

/// PostgreSQL's operator precedence as sqlparser parses it (higher binds
/// tighter); the values of `sqlparser::dialect::postgresql`.
pub fn postgres_precedence(expr: &Expr) -> u8 {
    use sqlparser::ast::BinaryOperator as Op;
    match expr {
        Expr::BinaryOp { op, .. } => match op {
            Op::Or => 10,
            Op::And => 20,
            Op::Eq | Op::NotEq | Op::Lt | Op::LtEq | Op::Gt | Op::GtEq => 50,
            Op::Plus | Op::Minus => 80,
            Op::Multiply | Op::Divide | Op::Modulo => 90,
            _ => 70,
        },
        Expr::UnaryOp {
            op: UnaryOperator::Not,
            ..
        } => 30,
        Expr::IsNull(_)
        | Expr::IsNotNull(_)
        | Expr::IsTrue(_)
        | Expr::IsFalse(_)
        | Expr::IsNotTrue(_)
        | Expr::IsNotFalse(_)
        | Expr::IsDistinctFrom(..)
        | Expr::IsNotDistinctFrom(..) => 40,
        Expr::AnyOp { .. } | Expr::AllOp { .. } => 50,
        Expr::In { .. } | Expr::Between { .. } | Expr::Like { .. } | Expr::ILike { .. } => 60,
        Expr::UnaryOp { .. } => 100,
        Expr::AtTimeZone { .. } => 110,
        Expr::Collate { .. } => 120,
        Expr::Cast {
            kind: CastKind::DoubleColon,
            ..
        } => 140,
        _ => u8::MAX,
    }
}

/// Whether an operator of precedence `parent` may drop parentheses around a
/// left operand of its own precedence: the left-associative arithmetic,
/// concatenation and boolean operators, not comparisons (`(a = b) = c`).
pub fn left_associative(parent: u8) -> bool {
    parent != 50 && parent != 40 && parent != 60
}

/// Whether parentheses around `child`, an operand of an operator of
/// precedence `parent` on `side`, change nothing.
pub fn parens_redundant(child: &Expr, parent: u8, side: Side) -> bool {
    let child = postgres_precedence(child);
    child > parent || (child == parent && side == Side::Left && left_associative(parent))
}

/// `expr` without the parentheses PostgreSQL's precedence makes redundant,
/// as its deparser leaves them out of nothing and the introspector strips
/// them: `CHECK ((a + b) > 0)` reads back as `((a + b) > 0)` and both
/// become `a + b > 0`. Only ever removes parentheses whose operand binds
/// tighter than the operator around it, so the meaning stays.
fn drop_redundant_parens(expr: Expr, parent: u8, side: Side) -> Expr {
    let recurse =
        |e: Box<Expr>, parent: u8, side: Side| Box::new(drop_redundant_parens(*e, parent, side));
    match expr {
        Expr::Nested(inner) => {
            let inner = drop_redundant_parens(*inner, parent, side);
            if parens_redundant(&inner, parent, side) {
                inner
            } else {
                Expr::Nested(Box::new(inner))
            }
        }
        Expr::BinaryOp { left, op, right } => {
            let own = postgres_precedence(&Expr::BinaryOp {
                left: Box::new(Expr::value(Value::Null)),
                op: op.clone(),
                right: Box::new(Expr::value(Value::Null)),
            });
            Expr::BinaryOp {
                left: recurse(left, own, Side::Left),
                op,
                right: recurse(right, own, Side::Right),
            }
        }
        Expr::UnaryOp { op, expr: inner } => {
            let own = if op == UnaryOperator::Not { 30 } else { 100 };
            Expr::UnaryOp {
                op,
                expr: recurse(inner, own, Side::Only),
            }
        }
        Expr::IsNull(inner) => Expr::IsNull(recurse(inner, 40, Side::Only)),
        Expr::IsNotNull(inner) => Expr::IsNotNull(recurse(inner, 40, Side::Only)),
        Expr::IsTrue(inner) => Expr::IsTrue(recurse(inner, 40, Side::Only)),
        Expr::IsFalse(inner) => Expr::IsFalse(recurse(inner, 40, Side::Only)),
        Expr::IsNotTrue(inner) => Expr::IsNotTrue(recurse(inner, 40, Side::Only)),
        Expr::IsNotFalse(inner) => Expr::IsNotFalse(recurse(inner, 40, Side::Only)),
        Expr::IsDistinctFrom(left, right) => Expr::IsDistinctFrom(
            recurse(left, 40, Side::Left),
            recurse(right, 40, Side::Right),
        ),
        Expr::IsNotDistinctFrom(left, right) => Expr::IsNotDistinctFrom(
            recurse(left, 40, Side::Left),
            recurse(right, 40, Side::Right),
        ),
        Expr::In {
            expr: inner,
            target: InTarget::List(list),
            negated,
            global,
        } => Expr::In {
            expr: recurse(inner, 60, Side::Left),
            target: InTarget::List(
                list.into_iter()
                    .map(|e| drop_redundant_parens(e, 0, Side::Only))
                    .collect(),
            ),
            negated,
            global,
        },
        Expr::Like {
            negated,
            any,
            expr: inner,
            pattern,
            escape_char,
        } => Expr::Like {
            negated,
            any,
            expr: recurse(inner, 60, Side::Left),
            pattern: recurse(pattern, 60, Side::Right),
            escape_char,
        },
        Expr::ILike {
            negated,
            any,
            expr: inner,
            pattern,
            escape_char,
        } => Expr::ILike {
            negated,
            any,
            expr: recurse(inner, 60, Side::Left),
            pattern: recurse(pattern, 60, Side::Right),
            escape_char,
        },
        Expr::AnyOp {
            left,
            compare_op,
            right,
            is_some,
        } => Expr::AnyOp {
            left: recurse(left, 60, Side::Left),
            compare_op,
            right,
            is_some,
        },
        Expr::AllOp {
            left,
            compare_op,
            right,
        } => Expr::AllOp {
            left: recurse(left, 60, Side::Left),
            compare_op,
            right,
        },
        Expr::AtTimeZone {
            timestamp,
            time_zone,
        } => Expr::AtTimeZone {
            timestamp: recurse(timestamp, 110, Side::Left),
            time_zone: recurse(time_zone, 110, Side::Right),
        },
        Expr::Collate {
            expr: inner,
            collation,
        } => Expr::Collate {
            expr: recurse(inner, 120, Side::Left),
            collation,
        },
        // A number cast to a number type is the number, as the introspector
        // reads PostgreSQL's `'-5'::integer` for a model's `(-5)::int`.
        Expr::Cast {
            kind: CastKind::DoubleColon,
            expr: inner,
            data_type,
            ..
        } if is_number_literal(&inner)
            && matches!(
                column_type(&data_type.to_string(), Dialect::Postgres),
                ColumnType::SmallInt
                    | ColumnType::Integer
                    | ColumnType::BigInt
                    | ColumnType::Decimal { .. }
            ) =>
        {
            let number = strip_nested(&inner).clone();
            if parens_redundant(&number, parent, side) {
                number
            } else {
                Expr::Nested(Box::new(number))
            }
        }
        Expr::Cast {
            kind: CastKind::DoubleColon,
            expr: inner,
            data_type,
            format,
        } => Expr::Cast {
            kind: CastKind::DoubleColon,
            expr: recurse(inner, 140, Side::Only),
            data_type,
            format,
        },
        Expr::Function(mut function) => {
            if let FunctionArguments::List(list) = &mut function.args {
                for arg in &mut list.args {
                    if let FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) = arg {
                        let taken = std::mem::replace(e, Expr::value(Value::Null));
                        *e = drop_redundant_parens(taken, 0, Side::Only);
                    }
                }
            }
            Expr::Function(function)
        }
        other => other,
    }
}

/// Whether `expr` is a number, possibly signed and parenthesised.
fn is_number_literal(expr: &Expr) -> bool {
    match strip_nested(expr) {
        Expr::Value(ValueWithSpan {
            value: Value::Number(..),
            ..
        }) => true,
        Expr::UnaryOp {
            op: UnaryOperator::Minus | UnaryOperator::Plus,
            expr,
        } => matches!(
            strip_nested(expr),
            Expr::Value(ValueWithSpan {
                value: Value::Number(..),
                ..
            })
        ),
        _ => false,
    }
}

/// Parses `sql` as one whole expression; `None` also for one that nests
/// too deeply to be read safely (see [`crate::depth`]), which then keeps
/// its text.
fn parse_expression(sql: &str, dialect: Dialect) -> Option<Expr> {
    let sql_dialect = sql_dialect(dialect);
    let tokens = Tokenizer::new(&*sql_dialect, sql)
        .tokenize_with_location()
        .ok()?;
    if too_deep(&tokens).is_some() {
        return None;
    }
    let mut parser = Parser::new(&*sql_dialect)
        .with_recursion_limit(PARSER_RECURSION_LIMIT)
        .with_tokens_with_locations(tokens);
    let expr = parser.parse_expr().ok()?;
    if parser.peek_token_ref().token != Token::EOF {
        return None;
    }
    Some(expr)
}

/// `expr` without any number of enclosing parentheses.
pub(crate) fn strip_nested(mut expr: &Expr) -> &Expr {
    while let Expr::Nested(inner) = expr {
        expr = inner;
    }
    expr
}

/// Rewrites printed SQL token by token: quoted identifiers that need no
/// quotes lose them, and function names (an unquoted word directly followed
/// by `(`, as sqlparser prints calls) are lowercased, since SQL function
/// names are case-insensitive.
///
/// A quoted identifier that is a keyword but reserved in none of SQLite,
/// PostgreSQL and MySQL (`` `name` ``, `` `status` ``: MySQL's and MariaDB's
/// catalogs quote every identifier) loses its quotes too where the unquoted
/// text still parses to the same expression, so that it reads like the
/// model's unquoted `name`; `"order"` keeps them.
fn polish_tokens(sql: &str, dialect: Dialect) -> Option<String> {
    let strict = polish_tokens_with(sql, dialect, false)?;
    let loose = polish_tokens_with(sql, dialect, true)?;
    if loose != strict && parse_expression(&loose, dialect).is_some_and(|e| e.to_string() == loose)
    {
        return Some(loose);
    }
    Some(strict)
}

fn polish_tokens_with(sql: &str, dialect: Dialect, unquote_keywords: bool) -> Option<String> {
    // sqlparser prints a string literal in standard SQL (only `'` doubled),
    // but MySQL reads a backslash in a literal as an escape: there the
    // printed text is tokenized as standard SQL and each literal written
    // again by the dialect's quoting, so `'a\\b'` keeps its backslash.
    let backslash_escapes = dialect == Dialect::Mysql;
    let sql_dialect: Box<dyn SqlDialect> = if backslash_escapes {
        Box::new(GenericDialect {})
    } else {
        sql_dialect(dialect)
    };
    let tokens = Tokenizer::new(&*sql_dialect, sql)
        .with_unescape(backslash_escapes)
        .tokenize()
        .ok()?;
    let mut out = String::with_capacity(sql.len());
    for (i, token) in tokens.iter().enumerate() {
        match token {
            Token::SingleQuotedString(value) if backslash_escapes => {
                out.push_str(&dialect.quote_string(value));
            }
            Token::Word(word) if word.quote_style.is_some() => {
                let unreserved = unquote_keywords
                    && is_simple_identifier(&word.value, dialect)
                    && UNRESERVED_KEYWORD_COLUMNS
                        .contains(&word.value.to_ascii_uppercase().as_str());
                let plain = unreserved || is_plain_identifier(&word.value, dialect);
                if plain {
                    out.push_str(&column_identity(&word.value, dialect));
                } else {
                    out.push_str(&token.to_string());
                }
            }
            Token::Word(word) if matches!(tokens.get(i + 1), Some(Token::LParen)) => {
                let name = word.value.to_lowercase();
                out.push_str(function_synonym(&name, dialect).unwrap_or(&name));
            }
            // sqlparser prints keywords in upper case; any other word is a
            // name the expression was written with.
            Token::Word(word) if !is_printed_keyword(&word.value) => {
                out.push_str(&column_identity(&word.value, dialect));
            }
            other => out.push_str(&other.to_string()),
        }
    }
    Some(out)
}

/// A column name in an expression as its identity: where the dialect
/// compares column names ignoring case (SQLite, MySQL), `CHECK (Age > 0)`
/// and a catalog's `CHECK (age > 0)` are one constraint, so both read
/// `age > 0`. PostgreSQL's names were folded while the model was read.
fn column_identity(name: &str, dialect: Dialect) -> String {
    dialect
        .identifier_key(retort_schema::NameKind::Column, name)
        .into_owned()
}

/// Whether `word` is a keyword as sqlparser prints one (upper case), as
/// opposed to a name that happens to be a keyword (`status`).
fn is_printed_keyword(word: &str) -> bool {
    !word.bytes().any(|b| b.is_ascii_lowercase()) && ALL_KEYWORDS.binary_search(&word).is_ok()
}

/// The spelling a catalog gives back for a function a model may spell
/// differently: MariaDB stores `length(x)` in a CHECK as `octet_length(x)`
/// (they are synonyms in MySQL), so both read as `length`.
fn function_synonym(name: &str, dialect: Dialect) -> Option<&'static str> {
    match (dialect, name) {
        (Dialect::Mysql, "octet_length") => Some("length"),
        (Dialect::Mysql, "ucase") => Some("upper"),
        (Dialect::Mysql, "lcase") => Some("lower"),
        _ => None,
    }
}

/// Keywords often used as column names that SQLite, PostgreSQL and MySQL
/// all accept unquoted as identifiers (none of them reserves these), so
/// canonical text may write them bare.
const UNRESERVED_KEYWORD_COLUMNS: &[&str] = &[
    "CODE", "COMMENT", "DATA", "LEVEL", "NAME", "POSITION", "ROLE", "STATE", "STATUS", "TEXT",
    "TYPE", "VALUE",
];

/// Whether `name` is made of identifier characters only (and, where the
/// database folds case, is lower case): unquoting it cannot split it.
fn is_simple_identifier(name: &str, dialect: Dialect) -> bool {
    let mut chars = name.chars();
    let starts_well = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    let case_ok =
        !dialect.folds_unquoted_identifiers() || !name.chars().any(|c| c.is_ascii_uppercase());
    starts_well && rest_ok && case_ok
}

/// Whether `name` can be written without quotes and mean the same.
pub(crate) fn is_plain_identifier(name: &str, dialect: Dialect) -> bool {
    let upper = name.to_ascii_uppercase();
    // Keywords keep their quotes: `"order"` unquoted would no longer parse.
    let keyword = ALL_KEYWORDS.binary_search(&upper.as_str()).is_ok();
    is_simple_identifier(name, dialect) && !keyword
}

fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `text` without parentheses that enclose all of it: `((a))` → `a`, but
/// `(a) + (b)` stays.
fn strip_outer_parens_text(text: &str) -> &str {
    let mut text = text.trim();
    while let Some(inner) = text.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
        let mut depth = 0i32;
        let balanced = inner.chars().all(|c| {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            depth >= 0
        });
        if !balanced || depth != 0 {
            break;
        }
        text = inner.trim();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use ColumnType as T;

    fn sqlite(text: &str) -> ColumnType {
        column_type(text, Dialect::Sqlite)
    }

    #[test]
    fn sqlite_type_spellings() {
        let cases: &[(&str, ColumnType)] = &[
            ("INT", T::Integer),
            ("integer", T::Integer),
            ("MEDIUMINT", T::Integer),
            ("int(11)", T::Integer),
            ("BIGINT", T::BigInt),
            ("int8", T::BigInt),
            ("SMALLINT", T::SmallInt),
            ("TINYINT", T::SmallInt),
            ("INT2", T::SmallInt),
            ("VARCHAR(255)", T::Varchar { length: Some(255) }),
            ("varchar ( 255 )", T::Varchar { length: Some(255) }),
            ("CHARACTER VARYING(20)", T::Varchar { length: Some(20) }),
            ("NVARCHAR(10)", T::Varchar { length: Some(10) }),
            ("VARYING CHARACTER(5)", T::Varchar { length: Some(5) }),
            ("VARCHAR", T::Varchar { length: None }),
            ("CHAR(3)", T::Char { length: Some(3) }),
            ("CHARACTER(3)", T::Char { length: Some(3) }),
            ("NCHAR(2)", T::Char { length: Some(2) }),
            ("TEXT", T::Text),
            ("CLOB", T::Text),
            ("BLOB", T::Blob),
            ("", T::Blob),
            ("REAL", T::Real),
            ("FLOAT", T::Real),
            ("FLOAT4", T::Real),
            ("DOUBLE", T::Double),
            ("DOUBLE  PRECISION", T::Double),
            ("FLOAT8", T::Double),
            (
                "NUMERIC",
                T::Decimal {
                    precision: None,
                    scale: None,
                },
            ),
            (
                "DECIMAL(10, 2)",
                T::Decimal {
                    precision: Some(10),
                    scale: Some(2),
                },
            ),
            ("BOOLEAN", T::Boolean),
            ("bool", T::Boolean),
            ("DATE", T::Date),
            (
                "DATETIME",
                T::Timestamp {
                    with_time_zone: false,
                    precision: None,
                },
            ),
            (
                "TIMESTAMP",
                T::Timestamp {
                    with_time_zone: false,
                    precision: None,
                },
            ),
            (
                "TIMESTAMPTZ",
                T::Timestamp {
                    with_time_zone: true,
                    precision: None,
                },
            ),
            (
                "TIMESTAMP WITH TIME ZONE",
                T::Timestamp {
                    with_time_zone: true,
                    precision: None,
                },
            ),
            (
                "TIME",
                T::Time {
                    with_time_zone: false,
                    precision: None,
                },
            ),
            ("JSON", T::Json),
            ("JSONB", T::Jsonb),
            ("UUID", T::Uuid),
            ("tinyint(1)", T::SmallInt),
            ("UNSIGNED  BIG INT", T::Custom("unsigned big int".into())),
            ("Money", T::Custom("money".into())),
            ("serial", T::Custom("serial".into())),
        ];
        for (text, expected) in cases {
            assert_eq!(&sqlite(text), expected, "{text:?}");
        }
    }

    #[test]
    fn postgres_type_spellings() {
        let pg = |t: &str| column_type_and_serial(t, Dialect::Postgres);
        assert_eq!(pg("int4"), (T::Integer, false));
        assert_eq!(pg("serial"), (T::Integer, true));
        assert_eq!(pg("BIGSERIAL"), (T::BigInt, true));
        assert_eq!(
            pg("character varying(40)"),
            (T::Varchar { length: Some(40) }, false)
        );
        assert_eq!(
            pg("timestamp without time zone"),
            (
                T::Timestamp {
                    with_time_zone: false,
                    precision: None,
                },
                false
            )
        );
        assert_eq!(
            pg("numeric(12,4)"),
            (
                T::Decimal {
                    precision: Some(12),
                    scale: Some(4)
                },
                false
            )
        );
        assert_eq!(pg("bytea"), (T::Blob, false));
        // Fractional-second digits are part of the type, however spelled.
        let ts3 = T::Timestamp {
            with_time_zone: true,
            precision: Some(3),
        };
        assert_eq!(pg("timestamptz(3)").0, ts3);
        assert_eq!(pg("timestamp(3) with time zone").0, ts3);
        assert_eq!(ts3.to_string().parse::<T>(), Ok(ts3));
        assert_eq!(
            pg("time(6)").0,
            T::Time {
                with_time_zone: false,
                precision: Some(6)
            }
        );
        assert_eq!(
            column_type("datetime(0)", Dialect::Mysql),
            column_type("datetime", Dialect::Mysql)
        );
        assert_eq!(pg("int[]"), (T::Array(Box::new(T::Integer)), false));
        assert_eq!(pg("INTEGER []"), (T::Array(Box::new(T::Integer)), false));
        assert_eq!(
            pg("character varying(10)[]"),
            (T::Array(Box::new(T::Varchar { length: Some(10) })), false)
        );
        assert_eq!(pg("inet"), (T::Custom("inet".into()), false));
        assert_eq!(pg("timestamp(3) with time zone"), pg("timestamptz(3)"),);
        assert_eq!(pg("char"), (T::Char { length: Some(1) }, false));
        assert_eq!(
            pg("numeric(10)"),
            (
                T::Decimal {
                    precision: Some(10),
                    scale: Some(0)
                },
                false
            )
        );
        assert_eq!(pg("float"), (T::Double, false));
        assert_eq!(pg("float(53)"), (T::Double, false));
        assert_eq!(pg("float(24)"), (T::Real, false));
        assert_eq!(
            column_type("CHAR", Dialect::Sqlite),
            T::Char { length: None }
        );
        assert_eq!(column_type("FLOAT", Dialect::Sqlite), T::Real);
    }

    #[test]
    fn mysql_type_spellings() {
        let my = |t: &str| column_type(t, Dialect::Mysql);
        assert_eq!(my("tinyint(1)"), T::Boolean);
        assert_eq!(my("TINYINT(4)"), T::SmallInt);
        assert_eq!(my("int(11)"), T::Integer);
        assert_eq!(my("bigint(20)"), T::BigInt);
        assert_eq!(
            my("ENUM('a', 'B')"),
            T::InlineEnum {
                values: vec!["a".into(), "B".into()]
            }
        );
        assert_eq!(my("int unsigned"), T::Custom("int unsigned".into()));
        assert_eq!(my("INT(10) UNSIGNED"), T::Custom("int unsigned".into()));
        assert_eq!(my("integer unsigned"), T::Custom("int unsigned".into()));
        assert_eq!(
            my("bigint(20) unsigned"),
            T::Custom("bigint unsigned".into())
        );
        assert_eq!(
            my("decimal(10,2) unsigned"),
            T::Custom("decimal(10,2) unsigned".into())
        );
    }

    #[test]
    fn mysql_catalog_spellings_match_the_declared_ones() {
        let my = |t: &str| column_type(t, Dialect::Mysql);
        // Catalog text on the left, what a model writes on the right.
        let pairs = [
            ("int(10) unsigned", "INT UNSIGNED"),
            ("int(10) unsigned", "integer unsigned"),
            ("bigint(20) unsigned", "BIGINT UNSIGNED"),
            ("tinyint(3) unsigned", "TINYINT UNSIGNED"),
            ("int(10) unsigned zerofill", "INT ZEROFILL"),
            ("int(11)", "INT SIGNED"),
            ("double", "REAL"),
            ("double", "FLOAT(30)"),
            ("float", "FLOAT(10)"),
            ("decimal(10,0)", "DECIMAL"),
            ("decimal(5,0)", "NUMERIC(5)"),
            ("decimal(10,2)", "DEC(10, 2)"),
            ("char(1)", "CHAR"),
            ("bit(1)", "BIT"),
            ("year(4)", "YEAR"),
            ("longtext", "LONGTEXT"),
            ("timestamp", "TIMESTAMP"),
        ];
        for (catalog, model) in pairs {
            assert_eq!(my(catalog), my(model), "{catalog} vs {model}");
        }
        assert_eq!(my("int(10) unsigned"), T::Custom("int unsigned".into()));
        assert_eq!(my("longtext"), T::Custom("longtext".into()));
        assert_eq!(my("double"), T::Double);
        assert_ne!(my("int unsigned"), my("int"));
        // Other dialects keep their own meaning of REAL and DECIMAL.
        assert_eq!(column_type("REAL", Dialect::Postgres), T::Real);
        assert_eq!(
            column_type("DECIMAL", Dialect::Sqlite),
            T::Decimal {
                precision: None,
                scale: None
            }
        );
    }

    #[test]
    fn mysql_defaults_take_the_column_type() {
        let typed = |d: &str, ty: ColumnType| {
            typed_default(default_value(d, Dialect::Mysql), &ty, Dialect::Mysql)
        };
        assert_eq!(typed("1", T::Boolean), DefaultValue::Boolean(true));
        assert_eq!(typed("'0'", T::Boolean), DefaultValue::Boolean(false));
        assert_eq!(typed("TRUE", T::Boolean), DefaultValue::Boolean(true));
        assert_eq!(typed("2", T::Boolean), DefaultValue::Number("2".into()));
        assert_eq!(typed("'5'", T::Integer), DefaultValue::Number("5".into()));
        assert_eq!(typed("TRUE", T::SmallInt), DefaultValue::Number("1".into()));
        assert_eq!(
            typed(
                "0.00",
                T::Decimal {
                    precision: Some(10),
                    scale: Some(2)
                }
            ),
            typed(
                "0",
                T::Decimal {
                    precision: Some(10),
                    scale: Some(2)
                }
            )
        );
        assert_eq!(typed("'5'", T::Text), DefaultValue::String("5".into()));
        assert_eq!(
            typed("'it''s'", T::Text),
            DefaultValue::String("it's".into())
        );
        let ts = T::Timestamp {
            with_time_zone: false,
            precision: None,
        };
        let at = |s: &str| DefaultValue::String(s.into());
        assert_eq!(typed("'2020-01-01'", ts.clone()), at("2020-01-01 00:00:00"));
        assert_eq!(
            typed("'2020-01-01 12:30:00.000'", ts.clone()),
            at("2020-01-01 12:30:00")
        );
        assert_eq!(
            typed("'2020-01-01 12:30:00.250'", ts.clone()),
            at("2020-01-01 12:30:00.25")
        );
        assert_eq!(typed("'tomorrow'", ts), at("tomorrow"));
        assert_eq!(typed("'2020-01-01'", T::Date), at("2020-01-01"));
        assert_eq!(
            typed("'it\\'s'", T::Text),
            DefaultValue::String("it's".into())
        );
    }

    #[test]
    fn mysql_tables_have_one_form_of_keys() {
        use retort_schema::{Column, ForeignKey, Index, IndexPart, PrimaryKey};
        let index = |name: &str, columns: &[&str], unique: bool| Index {
            name: name.into(),
            parts: columns.iter().map(|c| IndexPart::column(*c)).collect(),
            unique,
            predicate: None,
            method: None,
            nulls_not_distinct: false,
        };
        let mut t = Table::new("todos");
        for c in ["id", "user_id", "owner_id", "title"] {
            t.columns.push(Column::new(c, T::Integer));
        }
        t.primary_key = Some(PrimaryKey {
            name: Some("pk".into()),
            columns: vec!["id".into()],
        });
        let fk = |name: Option<&str>, column: &str| ForeignKey {
            implicit_index: None,
            name: name.map(Into::into),
            columns: vec![column.into()],
            referred_schema: None,
            referred_table: "users".into(),
            referred_columns: vec!["id".into()],
            on_delete: ForeignKeyAction::Restrict,
            on_update: ForeignKeyAction::Cascade,
            deferrable: retort_schema::Deferral::NotDeferrable,
        };
        t.foreign_keys = vec![fk(None, "user_id"), fk(Some("fk_owner"), "owner_id")];
        let mut descending = index("ux_desc", &["title"], true);
        descending.parts[0].descending = true;
        t.indexes = vec![
            index("ux_title", &["title", "id"], true),
            descending,
            index("user_id_2", &["user_id"], false),
            index("fk_owner", &["owner_id"], false),
            // Named otherwise, or on other columns: declared, kept.
            index("ix_user", &["user_id"], false),
            index("owner_id", &["owner_id", "title"], false),
        ];
        canonical_mysql_table(&mut t);
        assert_eq!(t.primary_key.as_ref().unwrap().name, None);
        assert_eq!(
            t.unique_constraints,
            vec![UniqueConstraint {
                name: Some("ux_title".into()),
                columns: vec!["title".into(), "id".into()],
                nulls_not_distinct: false,
            }]
        );
        let names: Vec<&str> = t.indexes.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["ix_user", "owner_id", "ux_desc"]);
        assert_eq!(t.foreign_keys[0].on_delete, ForeignKeyAction::NoAction);
        assert_eq!(t.foreign_keys[0].on_update, ForeignKeyAction::Cascade);
    }

    #[test]
    fn defaults_canonicalise() {
        let d = |t: &str| default_value(t, Dialect::Sqlite);
        assert_eq!(d("'x'"), DefaultValue::String("x".into()));
        assert_eq!(d("'it''s'"), DefaultValue::String("it's".into()));
        assert_eq!(d("\"x\""), DefaultValue::String("x".into()));
        assert_eq!(d("42"), DefaultValue::Number("42".into()));
        assert_eq!(d("0.00"), DefaultValue::Number("0".into()));
        assert_eq!(d("-1"), DefaultValue::Number("-1".into()));
        assert_eq!(d("- 2.50"), DefaultValue::Number("-2.5".into()));
        assert_eq!(d("+3"), DefaultValue::Number("3".into()));
        assert_eq!(d("(1)"), DefaultValue::Number("1".into()));
        assert_eq!(d("((-1))"), DefaultValue::Number("-1".into()));
        assert_eq!(d("('a')"), DefaultValue::String("a".into()));
        assert_eq!(d("TRUE"), DefaultValue::Boolean(true));
        assert_eq!(d("false"), DefaultValue::Boolean(false));
        assert_eq!(d("NULL"), DefaultValue::Null);
        assert_eq!(column_default("null", Dialect::Sqlite), None);
        assert_eq!(d("CURRENT_TIMESTAMP"), DefaultValue::CurrentTimestamp);
        assert_eq!(d("current_timestamp"), DefaultValue::CurrentTimestamp);
        assert_eq!(d("CURRENT_DATE"), DefaultValue::CurrentDate);
        assert_eq!(d("CURRENT_TIME"), DefaultValue::CurrentTime);
        assert_eq!(
            d("(datetime('now'))"),
            DefaultValue::Expression("datetime('now')".into())
        );
        assert_eq!(
            d("( DATETIME( 'now' ) )"),
            DefaultValue::Expression("datetime('now')".into())
        );
        assert_eq!(
            d("'a' || 'b'"),
            DefaultValue::Expression("'a' || 'b'".into())
        );
        // now() is no SQLite function: it stays an expression there.
        assert_eq!(d("now()"), DefaultValue::Expression("now()".into()));
    }

    #[test]
    fn postgres_and_mysql_defaults_canonicalise() {
        let pg = |t: &str| default_value(t, Dialect::Postgres);
        assert_eq!(pg("now()"), DefaultValue::CurrentTimestamp);
        assert_eq!(pg("CURRENT_TIMESTAMP()"), DefaultValue::CurrentTimestamp);
        assert_eq!(
            pg("'x'::character varying"),
            DefaultValue::String("x".into())
        );
        assert_eq!(pg("'x'::text"), DefaultValue::String("x".into()));
        assert_eq!(pg("'-1'::integer"), DefaultValue::Number("-1".into()));
        assert_eq!(pg("'0.00'::numeric"), DefaultValue::Number("0".into()));
        assert_eq!(
            pg("nextval('users_id_seq'::regclass)"),
            DefaultValue::Expression("nextval('users_id_seq'::REGCLASS)".into())
        );
        // An empty array keeps its cast, in one spelling; a non-empty one
        // needs none.
        let empty = DefaultValue::Expression("ARRAY[]::integer[]".into());
        assert_eq!(pg("ARRAY[]::int[][]"), empty);
        assert_eq!(pg("ARRAY[]::integer[]"), empty);
        assert_eq!(
            pg("ARRAY[]::varchar(3)[]"),
            DefaultValue::Expression("ARRAY[]::varchar(3)[]".into())
        );
        assert_eq!(pg("ARRAY[1, 2]::bigint[]"), pg("ARRAY[1, 2]"));
        let typed = |d: &str, ty: ColumnType| typed_default(pg(d), &ty, Dialect::Postgres);
        assert_eq!(typed("'t'", T::Boolean), DefaultValue::Boolean(true));
        // A typed literal is the cast literal; a cast to the column's own
        // type says nothing, to another temporal type it changes the value.
        let day = DefaultValue::String("2024-01-01".into());
        assert_eq!(typed("DATE '2024-01-01'", T::Date), day);
        assert_eq!(typed("'2024-01-01'::date", T::Date), day);
        let tz = T::Timestamp {
            with_time_zone: true,
            precision: None,
        };
        let local = DefaultValue::Expression("'2020-01-01 00:00:00'::timestamp".into());
        assert_eq!(typed("'2020-01-01 00:00:00'::timestamp", tz.clone()), local);
        assert_eq!(
            typed("'2020-01-01 00:00:00'::timestamp without time zone", tz),
            local
        );
        // Interval literals read in the catalog's form.
        let interval = || T::Custom("interval".into());
        let one_day = DefaultValue::String("1 day".into());
        assert_eq!(typed("INTERVAL '1' DAY", interval()), one_day);
        assert_eq!(typed("INTERVAL '1 day'", interval()), one_day);
        assert_eq!(typed("'1 day'::interval", interval()), one_day);
        assert_eq!(
            typed("'25 hours'", interval()),
            DefaultValue::String("25:00:00".into())
        );
        assert_eq!(typed("'off'", T::Boolean), DefaultValue::Boolean(false));
        assert_eq!(typed("'5'", T::Integer), DefaultValue::Number("5".into()));
        assert_eq!(typed("'5'", T::Text), DefaultValue::String("5".into()));
        assert_eq!(
            typed_default(
                DefaultValue::String("t".into()),
                &T::Boolean,
                Dialect::Sqlite
            ),
            DefaultValue::String("t".into())
        );
        let my = |t: &str| default_value(t, Dialect::Mysql);
        assert_eq!(my("now()"), DefaultValue::CurrentTimestamp);
        assert_eq!(my("current_timestamp()"), DefaultValue::CurrentTimestamp);
    }

    #[test]
    fn expressions_canonicalise() {
        let e = |t: &str| canonical_expression(t, Dialect::Sqlite);
        assert_eq!(e("price>0"), "price > 0");
        assert_eq!(e("(price > 0)"), "price > 0");
        assert_eq!(e("((price   >   0))"), "price > 0");
        assert_eq!(e("\"price\" > 0"), "price > 0");
        assert_eq!(e("`price` > 0"), "price > 0");
        assert_eq!(e("\"order\" > 0"), "\"order\" > 0");
        // Keywords that still parse as the column unquoted lose the quotes.
        assert_eq!(e("\"name\" <> ''"), "name <> ''");
        assert_eq!(e("lower(\"name\")"), "lower(name)");
        assert_eq!(e("\"current_date\" > 0"), "\"current_date\" > 0");
        let my = |t: &str| canonical_expression(t, Dialect::Mysql);
        assert_eq!(my("(lower(`name`))"), my("lower(name)"));
        assert_eq!(my("`status` in ('a','b')"), my("status IN ('a', 'b')"));
        assert_eq!(my("`order` > 0"), "`order` > 0");
        assert_eq!(e("\"two words\" > 0"), "\"two words\" > 0");
        assert_eq!(e("a > 0 and b is not null"), "a > 0 AND b IS NOT NULL");
        assert_eq!(e("LOWER(email)"), "lower(email)");
        assert_eq!(e("status in ('a','b')"), "status IN ('a', 'b')");
        assert_eq!(e("name <> 'it''s'"), "name <> 'it''s'");
        assert_eq!(e("length(x) between 1 and 5"), "length(x) BETWEEN 1 AND 5");
        // Unparseable text falls back to collapsed whitespace.
        assert_eq!(e("(a  >>>  ( b )"), "(a >>> ( b )");
        assert_eq!(e("(a $$$ b)"), "a $$$ b");
    }

    #[test]
    fn postgres_keeps_quotes_that_change_meaning() {
        let e = |t: &str| canonical_expression(t, Dialect::Postgres);
        assert_eq!(e("\"email\" <> ''"), "email <> ''");
        assert_eq!(e("\"Email\" <> ''"), "\"Email\" <> ''");
        // SQLite compares column names ignoring case: the quotes go, and
        // the name reads as its identity.
        assert_eq!(
            canonical_expression("\"Email\" <> ''", Dialect::Sqlite),
            "email <> ''"
        );
    }

    #[test]
    fn column_names_in_expressions_read_as_their_identity_where_case_is_ignored() {
        for dialect in [Dialect::Sqlite, Dialect::Mysql] {
            let e = |t: &str| canonical_expression(t, dialect);
            assert_eq!(e("Age > 0 AND Name <> 'Bob'"), "age > 0 AND name <> 'Bob'");
            assert_eq!(e("`Age` > 0"), e("age > 0"), "{dialect}");
            assert_eq!(e("LOWER(Email)"), "lower(email)", "{dialect}");
            assert_eq!(e("Status IN ('A')"), "status IN ('A')", "{dialect}");
        }
        // PostgreSQL: an unquoted name was folded as the model was read; a
        // quoted one is case-sensitive and keeps its case.
        assert_eq!(
            canonical_expression("\"Age\" > 0", Dialect::Postgres),
            "\"Age\" > 0"
        );
    }
}

#[cfg(test)]
mod mysql_catalog_spellings {
    use super::*;

    #[test]
    fn mariadb_catalog_spellings_read_like_the_model() {
        let my = Dialect::Mysql;
        assert_eq!(default_value("curdate()", my), DefaultValue::CurrentDate);
        assert_eq!(default_value("curtime()", my), DefaultValue::CurrentTime);
        assert_eq!(
            canonical_expression("octet_length(`sku`) = 8", my),
            canonical_expression("length(sku) = 8", my)
        );
        // Elsewhere the two functions differ.
        assert_ne!(
            canonical_expression("octet_length(sku) = 8", Dialect::Postgres),
            canonical_expression("length(sku) = 8", Dialect::Postgres)
        );
    }
}

#[cfg(test)]
mod postgres_between {
    use super::*;

    #[test]
    fn numbers_cast_to_numbers_read_as_the_number() {
        let pg = |t: &str| canonical_expression(t, Dialect::Postgres);
        assert_eq!(pg("x > (-5)::int"), pg("x > -5"));
        assert_eq!(pg("x > 5::bigint"), pg("x > 5"));
        assert_eq!(pg("x > (-1.5)::numeric(4,1)"), pg("x > -1.5"));
        assert_eq!(pg("x = 5::text"), "x = 5::TEXT");
    }

    #[test]
    fn any_of_an_array_reads_as_in() {
        let pg = |t: &str| canonical_expression(t, Dialect::Postgres);
        assert_eq!(pg("s = SOME (ARRAY['a', 'b'])"), pg("s IN ('a', 'b')"));
        assert_eq!(pg("n = ANY (ARRAY[1, 2])"), pg("n IN (1, 2)"));
        assert_eq!(pg("n <> ALL (ARRAY[1, 2])"), pg("n NOT IN (1, 2)"));
        assert_eq!(pg("n > SOME (ARRAY[1, 2])"), pg("n > ANY (ARRAY[1, 2])"));
        assert_eq!(pg("a > 0 AND n = ANY (ARRAY[1])"), pg("a > 0 AND n IN (1)"));
    }

    #[test]
    fn between_reads_as_postgres_stores_it() {
        let pg = Dialect::Postgres;
        assert_eq!(
            canonical_expression("priority BETWEEN 1 AND 5", pg),
            canonical_expression("priority >= 1 AND priority <= 5", pg)
        );
        assert_eq!(
            canonical_expression("n NOT BETWEEN 1 AND 5", pg),
            canonical_expression("n < 1 OR n > 5", pg)
        );
        assert_eq!(
            canonical_expression("a > 0 AND b BETWEEN 1 AND 2", pg),
            canonical_expression("a > 0 AND b >= 1 AND b <= 2", pg)
        );
        // SQLite keeps the text as written, BETWEEN included.
        assert!(canonical_expression("p BETWEEN 1 AND 5", Dialect::Sqlite).contains("BETWEEN"));
    }
}
#[cfg(test)]
mod literal_tests {
    use super::*;

    /// MySQL's catalog writes an inline enum's values escaped
    /// (`enum('a\\b','it''s')`); they read back as the values themselves.
    #[test]
    fn mysql_inline_enum_values_unescape() {
        assert_eq!(
            column_type(r"enum('a\\b','it''s','q\'x', '\%')", Dialect::Mysql),
            ColumnType::InlineEnum {
                values: vec![r"a\b".into(), "it's".into(), "q'x".into(), r"\%".into()]
            }
        );
    }

    /// sqlparser's printer keeps a `''` or `\'` inside a value as it is;
    /// the canonical text must still be the literal of the same value.
    #[test]
    fn string_literals_keep_their_quotes_and_backslashes() {
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            assert_eq!(
                canonical_expression(r"c <> 'v\'''", dialect),
                r"c <> 'v\'''"
            );
            assert_eq!(
                canonical_expression(r"x IN ('a''''b', concat('\', 'it''s'))", dialect),
                r"x IN ('a''''b', concat('\', 'it''s'))"
            );
        }
        // MySQL reads a backslash as an escape: `'a\\b'` is `a\b`, and the
        // canonical text must say so again (not `'a\b'`: `a` + backspace).
        assert_eq!(
            canonical_expression(r"c <> 'x\'); \\ DROP'", Dialect::Mysql),
            r"c <> 'x''); \\ DROP'"
        );
        // A quote doubled inside a quoted name stays doubled.
        assert_eq!(
            canonical_expression("`c00````` >= 0", Dialect::Mysql),
            "`c00````` >= 0"
        );
        assert_eq!(
            canonical_expression("\"a\"\"\"\"b\" >= 0", Dialect::Postgres),
            "\"a\"\"\"\"b\" >= 0"
        );
        assert_eq!(
            canonical_expression(r"concat('a\\b', '\'')", Dialect::Mysql),
            r"concat('a\\b', '''')"
        );
    }
}
