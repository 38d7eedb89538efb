//! Canonical column types and default values.
//!
//! Both serialise as canonical SQL text (`varchar(30)`, `'it''s'`,
//! `CURRENT_TIMESTAMP`). Reading a dialect's own spellings
//! (`character varying`, `int4`, `'x'::text`) into these forms is the model
//! loader's and the introspector's job; [`FromStr`] here only reads the
//! canonical text back.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// A column type in canonical form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ColumnType {
    SmallInt,
    Integer,
    BigInt,
    /// Single-precision floating point (`REAL`, `FLOAT4`).
    Real,
    /// Double-precision floating point (`DOUBLE PRECISION`, `FLOAT8`).
    Double,
    Decimal {
        precision: Option<u32>,
        scale: Option<u32>,
    },
    Boolean,
    Char {
        length: Option<u32>,
    },
    Varchar {
        length: Option<u32>,
    },
    Text,
    /// Binary data (`BLOB`, `bytea`, `LONGBLOB`).
    Blob,
    Date,
    /// `precision`: the digits kept after the second's point where the
    /// type says (`time(3)`); `None` is the dialect's default.
    Time {
        with_time_zone: bool,
        precision: Option<u32>,
    },
    Timestamp {
        with_time_zone: bool,
        precision: Option<u32>,
    },
    Json,
    Jsonb,
    Uuid,
    /// A named enum type (PostgreSQL), whose values are in `Schema::enums`.
    Enum {
        name: String,
    },
    /// An inline enum (MySQL `ENUM('a','b')`).
    InlineEnum {
        values: Vec<String>,
    },
    Array(Box<ColumnType>),
    /// Any other type, lowercased, as the database spells it
    /// (`inet`, `money`, `geometry(point,4326)`).
    Custom(String),
}

/// The error for text that is not a canonical column type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a column type")]
pub struct ParseTypeError(pub String);

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ColumnType::SmallInt => f.write_str("smallint"),
            ColumnType::Integer => f.write_str("integer"),
            ColumnType::BigInt => f.write_str("bigint"),
            ColumnType::Real => f.write_str("real"),
            ColumnType::Double => f.write_str("double"),
            ColumnType::Decimal { precision, scale } => match (precision, scale) {
                (Some(p), Some(s)) => write!(f, "decimal({p},{s})"),
                (Some(p), None) => write!(f, "decimal({p})"),
                _ => f.write_str("decimal"),
            },
            ColumnType::Boolean => f.write_str("boolean"),
            ColumnType::Char { length } => write_with_length(f, "char", *length),
            ColumnType::Varchar { length } => write_with_length(f, "varchar", *length),
            ColumnType::Text => f.write_str("text"),
            ColumnType::Blob => f.write_str("blob"),
            ColumnType::Date => f.write_str("date"),
            ColumnType::Time {
                with_time_zone,
                precision,
            } => write_with_length(
                f,
                if *with_time_zone { "timetz" } else { "time" },
                *precision,
            ),
            ColumnType::Timestamp {
                with_time_zone,
                precision,
            } => write_with_length(
                f,
                if *with_time_zone {
                    "timestamptz"
                } else {
                    "timestamp"
                },
                *precision,
            ),
            ColumnType::Json => f.write_str("json"),
            ColumnType::Jsonb => f.write_str("jsonb"),
            ColumnType::Uuid => f.write_str("uuid"),
            ColumnType::Enum { name } => write!(f, "enum:{name}"),
            ColumnType::InlineEnum { values } => {
                f.write_str("enum(")?;
                for (i, value) in values.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    f.write_str(&quote_string(value))?;
                }
                f.write_str(")")
            }
            ColumnType::Array(inner) => write!(f, "{inner}[]"),
            ColumnType::Custom(name) => f.write_str(name),
        }
    }
}

fn write_with_length(f: &mut fmt::Formatter<'_>, name: &str, length: Option<u32>) -> fmt::Result {
    match length {
        Some(n) => write!(f, "{name}({n})"),
        None => f.write_str(name),
    }
}

impl FromStr for ColumnType {
    type Err = ParseTypeError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(ParseTypeError(text.to_string()));
        }
        if let Some(inner) = trimmed.strip_suffix("[]") {
            return Ok(ColumnType::Array(Box::new(inner.parse()?)));
        }
        if let Some(name) = trimmed.strip_prefix("enum:") {
            return Ok(ColumnType::Enum {
                name: name.to_string(),
            });
        }
        let lower = trimmed.to_ascii_lowercase();
        if let Some(list) = lower
            .strip_prefix("enum(")
            .and_then(|_| trimmed[5..].strip_suffix(')'))
        {
            let values = parse_string_list(list).ok_or_else(|| ParseTypeError(text.to_string()))?;
            return Ok(ColumnType::InlineEnum { values });
        }
        let (name, args) = match lower.find('(') {
            Some(open) if lower.ends_with(')') => {
                let args: Vec<&str> = lower[open + 1..lower.len() - 1]
                    .split(',')
                    .map(str::trim)
                    .collect();
                (lower[..open].trim(), args)
            }
            _ => (lower.as_str(), Vec::new()),
        };
        let numbers: Option<Vec<u32>> = args.iter().map(|a| a.parse().ok()).collect();
        let ty = match (name, numbers.as_deref()) {
            ("smallint", Some([])) => ColumnType::SmallInt,
            ("integer", Some([])) => ColumnType::Integer,
            ("bigint", Some([])) => ColumnType::BigInt,
            ("real", Some([])) => ColumnType::Real,
            ("double", Some([])) => ColumnType::Double,
            ("decimal", Some([])) => ColumnType::Decimal {
                precision: None,
                scale: None,
            },
            ("decimal", Some([p])) => ColumnType::Decimal {
                precision: Some(*p),
                scale: None,
            },
            ("decimal", Some([p, s])) => ColumnType::Decimal {
                precision: Some(*p),
                scale: Some(*s),
            },
            ("boolean", Some([])) => ColumnType::Boolean,
            ("char", Some([])) => ColumnType::Char { length: None },
            ("char", Some([n])) => ColumnType::Char { length: Some(*n) },
            ("varchar", Some([])) => ColumnType::Varchar { length: None },
            ("varchar", Some([n])) => ColumnType::Varchar { length: Some(*n) },
            ("text", Some([])) => ColumnType::Text,
            ("blob", Some([])) => ColumnType::Blob,
            ("date", Some([])) => ColumnType::Date,
            ("time" | "timetz", Some(args @ ([] | [_]))) => ColumnType::Time {
                with_time_zone: name == "timetz",
                precision: args.first().copied(),
            },
            ("timestamp" | "timestamptz", Some(args @ ([] | [_]))) => ColumnType::Timestamp {
                with_time_zone: name == "timestamptz",
                precision: args.first().copied(),
            },
            ("json", Some([])) => ColumnType::Json,
            ("jsonb", Some([])) => ColumnType::Jsonb,
            ("uuid", Some([])) => ColumnType::Uuid,
            _ => ColumnType::Custom(lower.clone()),
        };
        Ok(ty)
    }
}

impl Serialize for ColumnType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ColumnType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A column's server default in canonical form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DefaultValue {
    Null,
    Boolean(bool),
    /// A numeric literal in canonical text: no sign for positives, no
    /// leading zeros, no trailing fractional zeros (`0.00` → `0`), so that a
    /// `DECIMAL(10,2) DEFAULT 0` that reads back as `0.00` compares equal.
    Number(String),
    /// A string literal's value (unquoted, unescaped).
    String(String),
    CurrentTimestamp,
    CurrentDate,
    CurrentTime,
    /// Any other expression, as canonical SQL text.
    Expression(String),
}

impl DefaultValue {
    /// A numeric default from literal text, canonicalised; `None` where the
    /// text is not a plain decimal number.
    pub fn number(text: &str) -> Option<DefaultValue> {
        canonical_number(text).map(DefaultValue::Number)
    }

    /// The SQL text of the default, as it goes after `DEFAULT`.
    pub fn to_sql(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for DefaultValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DefaultValue::Null => f.write_str("NULL"),
            DefaultValue::Boolean(true) => f.write_str("TRUE"),
            DefaultValue::Boolean(false) => f.write_str("FALSE"),
            DefaultValue::Number(n) => f.write_str(n),
            DefaultValue::String(s) => f.write_str(&quote_string(s)),
            DefaultValue::CurrentTimestamp => f.write_str("CURRENT_TIMESTAMP"),
            DefaultValue::CurrentDate => f.write_str("CURRENT_DATE"),
            DefaultValue::CurrentTime => f.write_str("CURRENT_TIME"),
            DefaultValue::Expression(e) => f.write_str(e),
        }
    }
}

impl FromStr for DefaultValue {
    type Err = std::convert::Infallible;

    /// Reads canonical default text; anything unrecognised is an
    /// [`DefaultValue::Expression`].
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let trimmed = text.trim();
        let upper = trimmed.to_ascii_uppercase();
        let value = match upper.as_str() {
            "NULL" => DefaultValue::Null,
            "TRUE" => DefaultValue::Boolean(true),
            "FALSE" => DefaultValue::Boolean(false),
            "CURRENT_TIMESTAMP" => DefaultValue::CurrentTimestamp,
            "CURRENT_DATE" => DefaultValue::CurrentDate,
            "CURRENT_TIME" => DefaultValue::CurrentTime,
            _ => {
                if let Some(s) = unquote_string(trimmed) {
                    DefaultValue::String(s)
                } else if let Some(n) = canonical_number(trimmed) {
                    DefaultValue::Number(n)
                } else {
                    DefaultValue::Expression(trimmed.to_string())
                }
            }
        };
        Ok(value)
    }
}

impl Serialize for DefaultValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DefaultValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// `value` as an SQL string literal: single quotes, inner quotes doubled.
pub fn quote_string(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// The value of a whole SQL string literal (`'it''s'` → `it's`), or `None`
/// where `text` is not exactly one literal.
fn unquote_string(text: &str) -> Option<String> {
    let inner = text.strip_prefix('\'')?.strip_suffix('\'')?;
    let mut value = String::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            // Inside the literal a quote must be doubled; a lone one means
            // the text was two literals or an expression such as 'a' || 'b'.
            if chars.next() != Some('\'') {
                return None;
            }
        }
        value.push(c);
    }
    Some(value)
}

/// Parses `'a','b'` into its values.
fn parse_string_list(list: &str) -> Option<Vec<String>> {
    let mut values = Vec::new();
    let mut rest = list.trim();
    while !rest.is_empty() {
        let body = rest.strip_prefix('\'')?;
        let mut end = None;
        let bytes = body.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'\'' {
                if bytes.get(i + 1) == Some(&b'\'') {
                    i += 2;
                    continue;
                }
                end = Some(i);
                break;
            }
            i += 1;
        }
        let end = end?;
        values.push(body[..end].replace("''", "'"));
        rest = body[end + 1..].trim_start();
        if let Some(next) = rest.strip_prefix(',') {
            rest = next.trim_start();
        } else if !rest.is_empty() {
            return None;
        }
    }
    Some(values)
}

/// Canonical text of a plain decimal literal (`+007.50` → `7.5`,
/// `-0.0` → `0`, `1e3` stays `1e3`), or `None` where `text` is not one.
pub fn canonical_number(text: &str) -> Option<String> {
    let text = text.trim();
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (mantissa, exponent) = match digits.find(['e', 'E']) {
        Some(at) => (&digits[..at], Some(&digits[at + 1..])),
        None => (digits, None),
    };
    let (int_part, frac_part) = match mantissa.split_once('.') {
        Some((i, f)) => (i, f),
        None => (mantissa, ""),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (int_part.is_empty() && frac_part.is_empty())
        || !all_digits(int_part)
        || !all_digits(frac_part)
    {
        return None;
    }
    if let Some(exp) = exponent {
        let exp_digits = exp.strip_prefix(['+', '-']).unwrap_or(exp);
        if exp_digits.is_empty() || !all_digits(exp_digits) {
            return None;
        }
    }
    let int_part = int_part.trim_start_matches('0');
    let frac_part = frac_part.trim_end_matches('0');
    let mut out = String::new();
    let is_zero = int_part.is_empty() && frac_part.is_empty();
    if negative && !is_zero {
        out.push('-');
    }
    out.push_str(if int_part.is_empty() { "0" } else { int_part });
    if !frac_part.is_empty() {
        out.push('.');
        out.push_str(frac_part);
    }
    if let Some(exp) = exponent {
        out.push('e');
        out.push_str(exp);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_type_text_round_trips() {
        for text in [
            "smallint",
            "integer",
            "bigint",
            "real",
            "double",
            "decimal",
            "decimal(10)",
            "decimal(10,2)",
            "boolean",
            "char(3)",
            "varchar",
            "varchar(255)",
            "text",
            "blob",
            "date",
            "time",
            "timetz",
            "timestamp",
            "timestamptz",
            "json",
            "jsonb",
            "uuid",
            "enum:mood",
            "enum('a','it''s')",
            "integer[]",
            "inet",
        ] {
            let ty: ColumnType = text.parse().unwrap();
            assert_eq!(ty.to_string(), text, "{ty:?}");
        }
    }

    #[test]
    fn numbers_are_canonical() {
        assert_eq!(canonical_number("0.00").as_deref(), Some("0"));
        assert_eq!(canonical_number("+007.50").as_deref(), Some("7.5"));
        assert_eq!(canonical_number("-0.0").as_deref(), Some("0"));
        assert_eq!(canonical_number("-3").as_deref(), Some("-3"));
        assert_eq!(canonical_number(".5").as_deref(), Some("0.5"));
        assert_eq!(canonical_number("1e3").as_deref(), Some("1e3"));
        assert_eq!(canonical_number("abc"), None);
        assert_eq!(canonical_number("1.2.3"), None);
        assert_eq!(canonical_number("-"), None);
    }

    #[test]
    fn default_text_round_trips() {
        for text in [
            "NULL",
            "TRUE",
            "FALSE",
            "CURRENT_TIMESTAMP",
            "42",
            "-1.5",
            "'it''s'",
            "''",
            "(datetime('now'))",
        ] {
            let value: DefaultValue = text.parse().unwrap();
            assert_eq!(value.to_string(), text);
        }
        assert_eq!(
            "'a' || 'b'".parse::<DefaultValue>().unwrap(),
            DefaultValue::Expression("'a' || 'b'".into())
        );
    }
}
