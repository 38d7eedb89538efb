//! Undoing what PostgreSQL's deparser adds to stored expressions.
//!
//! `pg_get_expr` prints an expression from its parsed tree, not as written:
//! `CHECK (price > 0 AND status IN ('a', 'b'))` on a numeric price and a
//! varchar status reads back as
//! `((price > (0)::numeric) AND ((status)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[])))`.
//! Before the loader's [`canonical_expression`] sees such text, this module
//! rewrites the tree back towards the way a model writes it: parentheses that
//! precedence makes redundant go, casts on literals and implicit casts to
//! text types go, `= ANY (ARRAY[…])` becomes `IN (…)`, `~~` becomes `LIKE`.
//!
//! The rewrite loses casts a user wrote on purpose to a text type (`x::text`):
//! a change of such a cast alone is not seen. Known gap: PostgreSQL expands
//! `x BETWEEN a AND b` into `x >= a AND x <= b`, which is not folded back.

use retort_models::{
    Side, canonical_expression, canonical_expression_of, left_associative,
    postgres_precedence as precedence,
};
use retort_schema::Dialect;
use sqlparser::ast::{
    BinaryOperator, CastKind, DataType, Expr, FunctionArg, FunctionArgExpr, FunctionArguments,
    InTarget, UnaryOperator, Value, ValueWithSpan,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Token;

/// The canonical text of an expression as `pg_get_expr` prints it.
pub(crate) fn postgres_expression(text: &str) -> String {
    match parse(text) {
        Some(expr) => {
            let simplified = simplify(expr, 0, Side::Only);
            canonical_expression_of(&simplified, Dialect::Postgres)
        }
        None => canonical_expression(text, Dialect::Postgres),
    }
}

/// The canonical text of a column default as `pg_get_expr` prints it: like
/// [`postgres_expression`], except that a string literal's own cast stays
/// (`'2020-01-01 00:00:00'::timestamp without time zone` on a `timestamptz`
/// column is not the bare literal); the loader's `typed_default` drops it
/// where it is to the column's type.
pub(crate) fn postgres_default(text: &str) -> String {
    let literal_cast = parse(text).is_some_and(|expr| match strip_parens(&expr) {
        Expr::Cast {
            kind: CastKind::DoubleColon,
            expr: inner,
            ..
        } => matches!(
            strip_parens(inner),
            Expr::Value(ValueWithSpan {
                value: Value::SingleQuotedString(_),
                ..
            })
        ),
        _ => false,
    });
    if literal_cast {
        canonical_expression(text, Dialect::Postgres)
    } else {
        postgres_expression(text)
    }
}

fn parse(text: &str) -> Option<Expr> {
    // `simplify` recurses over the tree as deep as the text nests.
    if retort_models::nests_too_deeply(text, Dialect::Postgres) {
        return None;
    }
    let dialect = PostgreSqlDialect {};
    let mut parser = Parser::new(&dialect).try_with_sql(text).ok()?;
    let expr = parser.parse_expr().ok()?;
    (parser.peek_token_ref().token == Token::EOF).then_some(expr)
}

fn simplify(expr: Expr, parent: u8, side: Side) -> Expr {
    match expr {
        Expr::Nested(inner) => {
            let inner = simplify(*inner, parent, side);
            let child = precedence(&inner);
            let redundant = child > parent
                || (child == parent && side == Side::Left && left_associative(parent));
            if redundant {
                inner
            } else {
                Expr::Nested(Box::new(inner))
            }
        }
        Expr::Cast {
            kind: CastKind::DoubleColon,
            expr: inner,
            data_type,
            format,
        } => simplify_cast(*inner, data_type, format, parent, side),
        Expr::BinaryOp { left, op, right } => {
            let like = match op {
                BinaryOperator::PGLikeMatch => Some((false, false)),
                BinaryOperator::PGNotLikeMatch => Some((true, false)),
                BinaryOperator::PGILikeMatch => Some((false, true)),
                BinaryOperator::PGNotILikeMatch => Some((true, true)),
                _ => None,
            };
            if let Some((negated, case_insensitive)) = like {
                let expr = Box::new(simplify(*left, 60, Side::Left));
                let pattern = Box::new(simplify(*right, 60, Side::Right));
                return if case_insensitive {
                    Expr::ILike {
                        negated,
                        any: false,
                        expr,
                        pattern,
                        escape_char: None,
                    }
                } else {
                    Expr::Like {
                        negated,
                        any: false,
                        expr,
                        pattern,
                        escape_char: None,
                    }
                };
            }
            let own = precedence(&Expr::BinaryOp {
                left: Box::new(Expr::value(Value::Null)),
                op: op.clone(),
                right: Box::new(Expr::value(Value::Null)),
            });
            Expr::BinaryOp {
                left: Box::new(simplify(*left, own, Side::Left)),
                op,
                right: Box::new(simplify(*right, own, Side::Right)),
            }
        }
        Expr::UnaryOp { op, expr: inner } => {
            let own = if op == UnaryOperator::Not { 30 } else { 100 };
            Expr::UnaryOp {
                op,
                expr: Box::new(simplify(*inner, own, Side::Only)),
            }
        }
        Expr::IsNull(inner) => Expr::IsNull(Box::new(simplify(*inner, 40, Side::Only))),
        Expr::IsNotNull(inner) => Expr::IsNotNull(Box::new(simplify(*inner, 40, Side::Only))),
        Expr::IsTrue(inner) => Expr::IsTrue(Box::new(simplify(*inner, 40, Side::Only))),
        Expr::IsFalse(inner) => Expr::IsFalse(Box::new(simplify(*inner, 40, Side::Only))),
        Expr::IsNotTrue(inner) => Expr::IsNotTrue(Box::new(simplify(*inner, 40, Side::Only))),
        Expr::IsNotFalse(inner) => Expr::IsNotFalse(Box::new(simplify(*inner, 40, Side::Only))),
        Expr::IsDistinctFrom(left, right) => Expr::IsDistinctFrom(
            Box::new(simplify(*left, 40, Side::Left)),
            Box::new(simplify(*right, 40, Side::Right)),
        ),
        Expr::IsNotDistinctFrom(left, right) => Expr::IsNotDistinctFrom(
            Box::new(simplify(*left, 40, Side::Left)),
            Box::new(simplify(*right, 40, Side::Right)),
        ),
        // `now() AT TIME ZONE 'utc'` reads back as
        // `(now() AT TIME ZONE 'utc'::text)`.
        Expr::AtTimeZone {
            timestamp,
            time_zone,
        } => Expr::AtTimeZone {
            timestamp: Box::new(simplify(*timestamp, 110, Side::Left)),
            time_zone: Box::new(simplify(*time_zone, 110, Side::Right)),
        },
        // `name COLLATE "C"` reads back as `((name)::text COLLATE "C")`.
        Expr::Collate {
            expr: inner,
            collation,
        } => Expr::Collate {
            expr: Box::new(simplify(*inner, 120, Side::Left)),
            collation,
        },
        Expr::AnyOp {
            left,
            compare_op,
            right,
            is_some,
        } => {
            let left = simplify(*left, 60, Side::Left);
            let right = simplify(*right, 50, Side::Right);
            match (compare_op, array_elements(&right)) {
                (BinaryOperator::Eq, Some(list)) => Expr::In {
                    expr: Box::new(left),
                    target: InTarget::List(list),
                    negated: false,
                    global: false,
                },
                (compare_op, _) => Expr::AnyOp {
                    left: Box::new(left),
                    compare_op,
                    right: Box::new(right),
                    is_some,
                },
            }
        }
        Expr::AllOp {
            left,
            compare_op,
            right,
        } => {
            let left = simplify(*left, 60, Side::Left);
            let right = simplify(*right, 50, Side::Right);
            match (compare_op, array_elements(&right)) {
                (BinaryOperator::NotEq, Some(list)) => Expr::In {
                    expr: Box::new(left),
                    target: InTarget::List(list),
                    negated: true,
                    global: false,
                },
                (compare_op, _) => Expr::AllOp {
                    left: Box::new(left),
                    compare_op,
                    right: Box::new(right),
                },
            }
        }
        Expr::In {
            expr: inner,
            target: InTarget::List(list),
            negated,
            global,
        } => Expr::In {
            expr: Box::new(simplify(*inner, 60, Side::Left)),
            target: InTarget::List(
                list.into_iter()
                    .map(|e| simplify(e, 0, Side::Only))
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
            expr: Box::new(simplify(*inner, 60, Side::Left)),
            pattern: Box::new(simplify(*pattern, 60, Side::Right)),
            escape_char,
        },
        Expr::Array(mut array) => {
            array.elem = array
                .elem
                .into_iter()
                .map(|e| simplify(e, 0, Side::Only))
                .collect();
            Expr::Array(array)
        }
        Expr::Function(mut function) => {
            if let FunctionArguments::List(list) = &mut function.args {
                for arg in &mut list.args {
                    let slot = match arg {
                        FunctionArg::Unnamed(FunctionArgExpr::Expr(e))
                        | FunctionArg::Named {
                            arg: FunctionArgExpr::Expr(e),
                            ..
                        } => e,
                        _ => continue,
                    };
                    let taken = std::mem::replace(slot, Expr::value(Value::Null));
                    *slot = simplify(taken, 0, Side::Only);
                }
            }
            Expr::Function(function)
        }
        other => other,
    }
}

/// A `::` cast, dropped where PostgreSQL added it or it adds nothing a model
/// would write: on literals (`'a'::character varying`, `(0)::numeric`,
/// `'-1'::integer` → `-1`), on array literals, and to text types (the
/// implicit coercion of a varchar column in `lower((email)::text)`).
fn simplify_cast(
    inner: Expr,
    data_type: DataType,
    format: Option<sqlparser::ast::CastFormat>,
    parent: u8,
    side: Side,
) -> Expr {
    let inner = simplify(inner, 140, Side::Only);
    let bare = strip_parens(&inner);
    let type_text = data_type.to_string().to_ascii_lowercase();
    match bare {
        Expr::Value(ValueWithSpan {
            value: Value::SingleQuotedString(s),
            ..
        }) => {
            if is_numeric_type(&type_text) && retort_schema::DefaultValue::number(s).is_some() {
                return Expr::value(Value::Number(s.clone(), false));
            }
            return bare.clone();
        }
        // An empty `ARRAY[]` has no type but its cast's: that cast stays.
        Expr::Array(array) if array.elem.is_empty() => {}
        Expr::Value(ValueWithSpan {
            value: Value::Number(..),
            ..
        })
        | Expr::Array(_) => return bare.clone(),
        _ => {}
    }
    if is_text_type(&type_text) {
        // The cast goes; its operand now stands where the cast stood.
        return simplify(Expr::Nested(Box::new(bare.clone())), parent, side);
    }
    Expr::Cast {
        kind: CastKind::DoubleColon,
        expr: Box::new(inner),
        data_type,
        format,
    }
}

fn strip_parens(mut expr: &Expr) -> &Expr {
    while let Expr::Nested(inner) = expr {
        expr = inner;
    }
    expr
}

fn is_text_type(type_text: &str) -> bool {
    let base = type_text.trim_end_matches("[]");
    let name = base.split('(').next().unwrap_or(base).trim();
    matches!(
        name,
        "text" | "varchar" | "character varying" | "bpchar" | "character" | "char" | "name"
    )
}

fn is_numeric_type(type_text: &str) -> bool {
    let name = type_text.split('(').next().unwrap_or(type_text).trim();
    matches!(
        name,
        "smallint"
            | "integer"
            | "int"
            | "bigint"
            | "int2"
            | "int4"
            | "int8"
            | "numeric"
            | "decimal"
            | "real"
            | "double precision"
            | "float4"
            | "float8"
    )
}

/// The elements of an `ARRAY[…]` literal, however parenthesised.
fn array_elements(expr: &Expr) -> Option<Vec<Expr>> {
    match strip_parens(expr) {
        Expr::Array(array) => Some(array.elem.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Catalog text nested too deeply to parse safely is left to
    /// `canonical_expression`, which keeps it as text: simplifying and
    /// printing its tree overflowed the stack.
    #[test]
    fn deep_catalog_expressions_keep_their_text() {
        let chain = vec!["1"; 7000].join(" + ");
        assert_eq!(postgres_expression(&format!("({chain})")), chain);
    }

    fn check(catalog: &str, model: &str) {
        assert_eq!(
            postgres_expression(catalog),
            canonical_expression(model, Dialect::Postgres),
            "catalog text: {catalog}"
        );
    }

    #[test]
    fn deparsed_checks_read_like_the_model() {
        check("(price > (0)::numeric)", "price > 0");
        check(
            "((price > (0)::numeric) AND (qty >= 1))",
            "price > 0 AND qty >= 1",
        );
        check(
            "((status)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[]))",
            "status IN ('a', 'b')",
        );
        check(
            "((status)::text <> ALL ((ARRAY['x'::character varying])::text[]))",
            "status NOT IN ('x')",
        );
        check("(length((name)::text) > 0)", "length(name) > 0");
        check("(name <> 'it''s'::text)", "name <> 'it''s'");
        check("(balance >= '-1'::integer)", "balance >= -1");
        check("((name)::text ~~ 'a%'::text)", "name LIKE 'a%'");
        check("lower((email)::text)", "lower(email)");
        check("(code IS NOT NULL)", "code IS NOT NULL");
        check(
            "((a > 0) OR ((b > 0) AND (c > 0)))",
            "a > 0 OR b > 0 AND c > 0",
        );
        check(
            "(((a > 0) OR (b > 0)) AND (c > 0))",
            "(a > 0 OR b > 0) AND c > 0",
        );
        check("((a - (b - c)) > 0)", "a - (b - c) > 0");
        check("(NOT active)", "NOT active");
        check("(created_at)::date", "created_at::date");
        check("(d > '2020-01-01'::date)", "d > '2020-01-01'");
        check(
            "(now() AT TIME ZONE 'utc'::text)",
            "now() AT TIME ZONE 'utc'",
        );
        check("((name)::text COLLATE \"C\")", "name COLLATE \"C\"");
        check("(flag IS TRUE)", "flag IS TRUE");
        check("((a > 0) IS TRUE)", "(a > 0) IS TRUE");
        check("((a + b) > 0)", "(a + b) > 0");
        check("(((a * b) + c) > 0)", "((a * b) + c) > 0");
        check("(n = ANY (ARRAY[1, 2, 3]))", "n = ANY (ARRAY[1, 2, 3])");
        check(
            "(s = ANY (ARRAY['a'::text, 'b'::text]))",
            "s = SOME (ARRAY['a', 'b'])",
        );
        check("(n <> ALL (ARRAY[1, 2]))", "n <> ALL (ARRAY[1, 2])");
        check("(n > ANY (ARRAY[1, 2]))", "n > SOME (ARRAY[1, 2])");
        check("(a IS DISTINCT FROM 'x'::text)", "a IS DISTINCT FROM 'x'");
        // A backslash before a quote is an ordinary character here, and a
        // doubled quote in a value stays doubled.
        check(r"((c)::text <> 'v\'''::text)", r"c <> 'v\'''");
        check("((c)::text <> 'a''''b'::text)", "c <> 'a''''b'");
    }
}
