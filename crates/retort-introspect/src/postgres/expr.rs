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

use retort_models::{canonical_expression, canonical_expression_of};
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

fn parse(text: &str) -> Option<Expr> {
    let dialect = PostgreSqlDialect {};
    let mut parser = Parser::new(&dialect).try_with_sql(text).ok()?;
    let expr = parser.parse_expr().ok()?;
    (parser.peek_token_ref().token == Token::EOF).then_some(expr)
}

/// Where a child sits in its parent: parentheses around the right operand of
/// a left-associative operator of the same precedence matter (`a - (b - c)`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Left,
    Right,
    Only,
}

/// PostgreSQL's operator precedence as sqlparser parses it (higher binds
/// tighter); the values of `sqlparser::dialect::postgresql`.
fn precedence(expr: &Expr) -> u8 {
    match expr {
        Expr::BinaryOp { op, .. } => match op {
            BinaryOperator::Or => 10,
            BinaryOperator::And => 20,
            BinaryOperator::Eq
            | BinaryOperator::NotEq
            | BinaryOperator::Lt
            | BinaryOperator::LtEq
            | BinaryOperator::Gt
            | BinaryOperator::GtEq => 50,
            BinaryOperator::Plus | BinaryOperator::Minus => 80,
            BinaryOperator::Multiply | BinaryOperator::Divide | BinaryOperator::Modulo => 90,
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
        Expr::Cast {
            kind: CastKind::DoubleColon,
            ..
        } => 140,
        _ => u8::MAX,
    }
}

/// Whether `op` may drop parentheses around a left operand of its own
/// precedence: the left-associative arithmetic, concatenation and boolean
/// operators, not comparisons (`(a = b) = c`).
fn left_associative(parent: u8) -> bool {
    parent != 50 && parent != 40 && parent != 60
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
        // A backslash before a quote is an ordinary character here, and a
        // doubled quote in a value stays doubled.
        check(r"((c)::text <> 'v\'''::text)", r"c <> 'v\'''");
        check("((c)::text <> 'a''''b'::text)", "c <> 'a''''b'");
    }
}
