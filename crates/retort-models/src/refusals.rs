//! What the database would refuse, or accept and then fail on, found when
//! the models are read: a type it does not know, a SQLite default it cannot
//! evaluate, a MySQL key on a TEXT or BLOB column without a prefix length.
//! Refusing these at load time makes `diff` and `check` stop where
//! `autogen` stops, instead of a revision that fails on `upgrade`.

use retort_schema::{ColumnType, Dialect};
use sqlparser::ast::Expr;
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, Tokenizer};

use crate::canonical::{column_type, sql_dialect};

/// Whether `ty`, once declared enum types are resolved, is a type the
/// database knows. SQLite takes any type name (its affinity rules give
/// every name a meaning), so only PostgreSQL and MySQL are checked.
pub(crate) fn is_known_type(ty: &ColumnType, dialect: Dialect) -> bool {
    match ty {
        ColumnType::Array(inner) => is_known_type(inner, dialect),
        ColumnType::Custom(text) => match dialect {
            Dialect::Sqlite => true,
            // A known type with words the IR does not read after it
            // (`varchar(20) binary`) is still that type.
            _ if !matches!(column_type(base_name(text), dialect), ColumnType::Custom(_)) => true,
            Dialect::Postgres => is_postgres_type(text),
            Dialect::Mysql => is_mysql_type(text),
        },
        _ => true,
    }
}

/// The type name without modifiers, schema or quotes: `bit varying(5)` is
/// `bit varying`, `pg_catalog."char"` is `char`.
fn base_name(text: &str) -> &str {
    let without_modifiers = text.split('(').next().unwrap_or(text).trim();
    without_modifiers
        .rsplit('.')
        .next()
        .unwrap_or(without_modifiers)
        .trim_matches('"')
}

/// PostgreSQL's built-in types that the IR keeps as custom text
/// (<https://www.postgresql.org/docs/current/datatype.html>), and the types
/// of the extensions shipped with it or commonly installed (`citext`,
/// `hstore`, PostGIS, pgvector): model files cannot declare an extension,
/// so its types are taken on trust.
fn is_postgres_type(text: &str) -> bool {
    let name = base_name(text);
    name.starts_with("interval")
        || name.starts_with("bit varying")
        || POSTGRES_TYPES.contains(&name)
        || POSTGRES_EXTENSION_TYPES.contains(&name)
}

const POSTGRES_TYPES: &[&str] = &[
    "bit",
    "varbit",
    "box",
    "char",
    "cid",
    "cidr",
    "circle",
    "datemultirange",
    "daterange",
    "inet",
    "int2vector",
    "int4multirange",
    "int4range",
    "int8multirange",
    "int8range",
    "jsonpath",
    "line",
    "lseg",
    "macaddr",
    "macaddr8",
    "money",
    "name",
    "nummultirange",
    "numrange",
    "oid",
    "oidvector",
    "path",
    "pg_lsn",
    "pg_snapshot",
    "point",
    "polygon",
    "regclass",
    "regcollation",
    "regconfig",
    "regdictionary",
    "regnamespace",
    "regoper",
    "regoperator",
    "regproc",
    "regprocedure",
    "regrole",
    "regtype",
    "tid",
    "tsmultirange",
    "tsquery",
    "tsrange",
    "tstzmultirange",
    "tstzrange",
    "tsvector",
    "txid_snapshot",
    "xid",
    "xid8",
    "xml",
];

const POSTGRES_EXTENSION_TYPES: &[&str] = &[
    "box2d",
    "box3d",
    "citext",
    "cube",
    "ean13",
    "earth",
    "geography",
    "geometry",
    "halfvec",
    "hstore",
    "isbn",
    "isbn13",
    "ismn",
    "ismn13",
    "issn",
    "issn13",
    "lquery",
    "ltree",
    "ltxtquery",
    "raster",
    "seg",
    "sparsevec",
    "upc",
    "vector",
];

/// MySQL's and MariaDB's types that the IR keeps as custom text
/// (<https://dev.mysql.com/doc/refman/8.0/en/data-types.html>,
/// <https://mariadb.com/kb/en/data-types/>).
fn is_mysql_type(text: &str) -> bool {
    let name = base_name(text);
    // `int unsigned`, `decimal(10,2) unsigned`, `float zerofill` …
    let numeric_attributes = text.ends_with(" unsigned")
        || text.ends_with(" zerofill")
        || text.ends_with(" unsigned zerofill");
    numeric_attributes || MYSQL_TYPES.contains(&name)
}

const MYSQL_TYPES: &[&str] = &[
    "binary",
    "bit",
    "fixed",
    "geomcollection",
    "geometry",
    "geometrycollection",
    "inet4",
    "inet6",
    "int1",
    "int2",
    "int3",
    "int4",
    "int8",
    "linestring",
    "long",
    "long varbinary",
    "long varchar",
    "longblob",
    "longtext",
    "mediumblob",
    "mediumtext",
    "middleint",
    "multilinestring",
    "multipoint",
    "multipolygon",
    "point",
    "polygon",
    "serial",
    "set",
    "tinyblob",
    "tinytext",
    "varbinary",
    "vector",
    "year",
];

/// Whether MySQL stores `ty` off-row (TEXT, BLOB and their sizes, JSON):
/// such a column can be keyed only on a prefix (`KEY (c(255))`), and
/// MySQL refuses a key on the whole column (error 1170).
pub(crate) fn mysql_needs_key_prefix(ty: &ColumnType) -> bool {
    match ty {
        ColumnType::Text | ColumnType::Blob | ColumnType::Json => true,
        ColumnType::Custom(text) => matches!(
            base_name(text),
            "tinytext" | "mediumtext" | "longtext" | "tinyblob" | "mediumblob" | "longblob"
        ),
        _ => false,
    }
}

/// Why SQLite cannot take `expr` as a column default, or `None` where it
/// can (<https://www.sqlite.org/lang_createtable.html#dfltval>): without
/// parentheses only a literal, a signed number, `CURRENT_TIME`/`_DATE`/
/// `_TIMESTAMP` or a bare word is allowed (anything else is a syntax
/// error); in parentheses, a constant expression, which has no column
/// references, subqueries, bound parameters or double-quoted words, and
/// calls only functions SQLite has (another fails every INSERT).
/// `columns` are the table's column names: a word naming one is a column
/// reference even where it is also a keyword (`id`, `name`).
pub(crate) fn sqlite_default_problem(expr: &Expr, columns: &[&str]) -> Option<String> {
    let Expr::Nested(_) = expr else {
        return match expr {
            Expr::Value(_) | Expr::Identifier(_) => None,
            Expr::UnaryOp { expr: inner, .. } if matches!(**inner, Expr::Value(_)) => None,
            Expr::Function(f) if is_current_keyword(&f.name.to_string()) => None,
            _ => Some(
                "SQLite takes an expression as a default only in parentheses: \
                 DEFAULT (…)"
                    .to_string(),
            ),
        };
    };
    let text = expr.to_string();
    let dialect = sql_dialect(Dialect::Sqlite);
    let tokens = Tokenizer::new(&*dialect, &text).tokenize().ok()?;
    let visible: Vec<&Token> = tokens
        .iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .collect();
    for (i, token) in visible.iter().enumerate() {
        let previous = i.checked_sub(1).and_then(|p| visible.get(p));
        let after_type_keyword = matches!(previous, Some(Token::Word(w))
            if w.quote_style.is_none() && matches!(w.keyword, Keyword::AS | Keyword::COLLATE));
        match token {
            Token::Placeholder(_) => return Some("a bound parameter is not constant".into()),
            Token::Word(word) if word.quote_style.is_some() => {
                return Some(format!(
                    "`{token}` is a column reference (or a string in double quotes), \
                     which SQLite does not take in a default; write strings in single quotes"
                ));
            }
            Token::Word(word) if word.keyword == Keyword::SELECT => {
                return Some("a subquery is not constant".to_string());
            }
            Token::Word(word) if matches!(visible.get(i + 1), Some(Token::LParen)) => {
                let name = word.value.to_ascii_lowercase();
                if !SQLITE_FUNCTIONS.contains(&name.as_str()) && !after_type_keyword {
                    let hint = if name == "now" {
                        "; use CURRENT_TIMESTAMP or (datetime('now'))"
                    } else {
                        ""
                    };
                    return Some(format!("SQLite has no function `{name}`{hint}"));
                }
            }
            Token::Word(word)
                if (word.keyword == Keyword::NoKeyword
                    || columns.iter().any(|c| c.eq_ignore_ascii_case(&word.value)))
                    && !after_type_keyword =>
            {
                return Some(format!(
                    "`{}` is a column reference, which SQLite does not take in a default",
                    word.value
                ));
            }
            _ => {}
        }
    }
    None
}

fn is_current_keyword(name: &str) -> bool {
    matches!(
        name.to_ascii_uppercase().as_str(),
        "CURRENT_TIMESTAMP" | "CURRENT_DATE" | "CURRENT_TIME"
    )
}

/// SQLite's built-in scalar functions: core, date and time, math and JSON
/// (<https://www.sqlite.org/lang_corefunc.html>,
/// <https://www.sqlite.org/lang_datefunc.html>,
/// <https://www.sqlite.org/lang_mathfunc.html>,
/// <https://www.sqlite.org/json1.html>), and `cast`, which reads like one.
const SQLITE_FUNCTIONS: &[&str] = &[
    "abs",
    "acos",
    "acosh",
    "asin",
    "asinh",
    "atan",
    "atan2",
    "atanh",
    "cast",
    "ceil",
    "ceiling",
    "char",
    "coalesce",
    "concat",
    "concat_ws",
    "cos",
    "cosh",
    "date",
    "datetime",
    "degrees",
    "exp",
    "floor",
    "format",
    "glob",
    "hex",
    "ifnull",
    "iif",
    "instr",
    "json",
    "json_array",
    "json_extract",
    "json_insert",
    "json_object",
    "json_patch",
    "json_quote",
    "json_remove",
    "json_replace",
    "json_set",
    "json_type",
    "json_valid",
    "jsonb",
    "jsonb_array",
    "jsonb_object",
    "julianday",
    "length",
    "like",
    "likelihood",
    "likely",
    "ln",
    "log",
    "log10",
    "log2",
    "lower",
    "ltrim",
    "max",
    "min",
    "mod",
    "nullif",
    "octet_length",
    "pi",
    "pow",
    "power",
    "printf",
    "quote",
    "radians",
    "random",
    "randomblob",
    "replace",
    "round",
    "rtrim",
    "sign",
    "sin",
    "sinh",
    "soundex",
    "sqlite_version",
    "sqrt",
    "strftime",
    "substr",
    "substring",
    "tan",
    "tanh",
    "time",
    "timediff",
    "trim",
    "trunc",
    "typeof",
    "unhex",
    "unicode",
    "unixepoch",
    "unlikely",
    "upper",
    "zeroblob",
];
