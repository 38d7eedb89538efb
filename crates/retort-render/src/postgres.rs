//! PostgreSQL statements that need more than one builder call: enum value
//! changes and column alterations.
//!
//! - An [`Op::AlterEnum`] that only inserts values becomes
//!   `ALTER TYPE … ADD VALUE IF NOT EXISTS` in a step outside the
//!   transaction: PostgreSQL before 12 refuses it inside a transaction
//!   block, and from 12 on a value added in a transaction cannot be used
//!   until that transaction commits
//!   (https://www.postgresql.org/docs/current/sql-altertype.html, "Notes").
//!   Any other change rebuilds the type: create `<name>__retort_new`,
//!   convert every column using the type through `text`, drop the old type,
//!   rename the new one. Defaults of those columns are dropped around the
//!   conversion (a default typed with the old enum cannot be cast
//!   automatically) and restored afterwards.
//! - `ALTER COLUMN … TYPE` adds `USING col::newtype` where PostgreSQL has
//!   no assignment cast from the old type to the new one (it would refuse
//!   the plain form), and keeps the plain form where it has one.
//!
//! Known limits: a check constraint, index predicate or view that compares
//! the enum column with a literal of the old type makes the conversion
//! fail; such objects must be dropped and re-created around the revision.

use crate::ddl;
use crate::script::Step;
use crate::spelling::{self, quote};
use retort_diff::{Op, PlannedOp};
use retort_schema::{Column, ColumnType, DefaultValue, Dialect, Schema};

const PG: Dialect = Dialect::Postgres;

fn alter_table(table: &str, action: &str) -> String {
    format!("ALTER TABLE {} {action}", quote(table, PG))
}

fn literal(value: &str) -> String {
    spelling::literal(value, PG)
}

/// The step for `planned` if it is an [`Op::AlterEnum`], rendered against
/// `state`; `original` is the schema the whole script starts from.
pub(crate) fn alter_enum_step(
    planned: &PlannedOp,
    original: &Schema,
    state: &Schema,
    dialect: Dialect,
) -> Option<Step> {
    let Op::AlterEnum {
        name,
        from_values,
        to_values,
        ..
    } = &planned.op
    else {
        return None;
    };
    // ADD VALUE runs before everything else in the revision, so the type
    // must exist when the revision starts; one created by this same script
    // is rebuilt instead (transactional, always correct).
    let existed = original
        .enum_type(name)
        .is_some_and(|e| e.values == *from_values);
    if planned.op.enum_values_only_added() && existed {
        return Some(Step {
            hazards: planned.hazards.clone(),
            statements: add_value_statements(name, from_values, to_values, dialect),
            comment: Some(format!(
                "outside the transaction: {} cannot use a value added in the same transaction",
                dialect
            )),
            transaction: false,
        });
    }
    Some(Step {
        hazards: planned.hazards.clone(),
        statements: rebuild_enum_statements(name, to_values, state),
        comment: Some(format!(
            "rebuild enum {name}: every column of that type is converted through text"
        )),
        transaction: true,
    })
}

/// `ALTER TYPE … ADD VALUE IF NOT EXISTS 'v' [BEFORE|AFTER 'w']`, one per
/// new value, left to right, so each position names a value present by
/// then.
fn add_value_statements(
    name: &str,
    from_values: &[String],
    to_values: &[String],
    dialect: Dialect,
) -> Vec<String> {
    let mut out = Vec::new();
    for (at, value) in to_values.iter().enumerate() {
        if from_values.contains(value) {
            continue;
        }
        let later_old = to_values[at + 1..]
            .iter()
            .find(|v| from_values.contains(*v));
        let position = match (later_old, at.checked_sub(1)) {
            // Nothing old follows: appending puts it in place.
            (None, _) => String::new(),
            (Some(_), Some(previous)) => format!(" AFTER {}", literal(&to_values[previous])),
            (Some(next), None) => format!(" BEFORE {}", literal(next)),
        };
        out.push(format!(
            "ALTER TYPE {} ADD VALUE IF NOT EXISTS {}{position}",
            quote(name, dialect),
            literal(value)
        ));
    }
    out
}

/// The columns of `state` whose type is the enum `name` (or an array of
/// it), as (table, column), in table then column order.
fn enum_columns<'a>(state: &'a Schema, name: &str) -> Vec<(&'a str, &'a Column)> {
    let mut found = Vec::new();
    for table in &state.tables {
        for column in &table.columns {
            if element_enum(&column.ty) == Some(name) {
                found.push((table.name.as_str(), column));
            }
        }
    }
    found.sort_by(|a, b| (a.0, &a.1.name).cmp(&(b.0, &b.1.name)));
    found
}

/// The enum a column type is, or is an array of.
fn element_enum(ty: &ColumnType) -> Option<&str> {
    match ty {
        ColumnType::Enum { name } => Some(name),
        ColumnType::Array(inner) => element_enum(inner),
        _ => None,
    }
}

/// `ty` with every `Enum` replaced by the type spelled `with`, and the
/// same shape with `text` (for the `USING` cast through text).
fn array_suffix(ty: &ColumnType) -> String {
    match ty {
        ColumnType::Array(inner) => format!("{}[]", array_suffix(inner)),
        _ => String::new(),
    }
}

fn rebuild_enum_statements(name: &str, to_values: &[String], state: &Schema) -> Vec<String> {
    let new_name = format!("{name}__retort_new");
    let old_type = quote(name, PG);
    let new_type = quote(&new_name, PG);
    let values: Vec<String> = to_values.iter().map(|v| literal(v)).collect();
    let mut out = vec![format!(
        "CREATE TYPE {new_type} AS ENUM ({})",
        values.join(", ")
    )];
    let columns = enum_columns(state, name);
    let mut restore = Vec::new();
    for (table, column) in &columns {
        let col = quote(&column.name, PG);
        if let Some(default) = &column.default {
            out.push(alter_table(
                table,
                &format!("ALTER COLUMN {col} DROP DEFAULT"),
            ));
            if default_fits(default, &column.ty, to_values) {
                restore.push(alter_table(
                    table,
                    &format!(
                        "ALTER COLUMN {col} SET DEFAULT {}",
                        spelling::default_value(default, PG)
                    ),
                ));
            }
        }
        let suffix = array_suffix(&column.ty);
        out.push(alter_table(
            table,
            &format!(
                "ALTER COLUMN {col} TYPE {new_type}{suffix} USING {col}::text{suffix}::{new_type}{suffix}"
            ),
        ));
    }
    out.push(format!("DROP TYPE {old_type}"));
    out.push(format!("ALTER TYPE {new_type} RENAME TO {old_type}"));
    out.extend(restore);
    out
}

/// Whether `default` can be the default of a column of type `ty` whose
/// enum has `values`: a string default must be one of them (a default on
/// a value that is gone, or not there yet, is left to the op that changes
/// it; see the ordering rules in retort-diff).
fn default_fits(default: &DefaultValue, ty: &ColumnType, values: &[String]) -> bool {
    match (default, ty) {
        (DefaultValue::String(value), ColumnType::Enum { .. }) => values.contains(value),
        _ => true,
    }
}

/// Whether PostgreSQL converts `from` to `to` by an assignment (or
/// implicit) cast, which `ALTER COLUMN … TYPE` applies without `USING`.
/// From `pg_cast` (castcontext `a`/`i`) plus the automatic I/O conversion
/// to string types, which counts as an assignment cast:
/// https://www.postgresql.org/docs/current/sql-createcast.html
fn assignment_cast(from: &ColumnType, to: &ColumnType) -> bool {
    use ColumnType as T;
    let numeric = |ty: &T| {
        matches!(
            ty,
            T::SmallInt | T::Integer | T::BigInt | T::Real | T::Double | T::Decimal { .. }
        )
    };
    let string = |ty: &T| matches!(ty, T::Char { .. } | T::Varchar { .. } | T::Text);
    let datetime = |ty: &T| matches!(ty, T::Date | T::Timestamp { .. });
    match (from, to) {
        _ if from == to => true,
        (T::Array(a), T::Array(b)) => assignment_cast(a, b),
        (T::Array(_), _) | (_, T::Array(_)) => string(to),
        _ if string(to) => true,
        _ if numeric(from) && numeric(to) => true,
        _ if datetime(from) && datetime(to) => true,
        (T::Timestamp { .. }, T::Time { .. }) | (T::Time { .. }, T::Time { .. }) => true,
        (T::Json | T::Jsonb, T::Json | T::Jsonb) => true,
        _ => false,
    }
}

/// The `USING` expression converting column `column` from `from` to `to`
/// (spelled `to_sql`): a direct cast, or through `text` where there is no
/// direct one (from an enum, to an enum or uuid from a non-string type),
/// or through `integer` between boolean and the other number types.
fn using_expression(column: &str, from: &ColumnType, to: &ColumnType, to_sql: &str) -> String {
    let string = |ty: &ColumnType| {
        matches!(
            ty,
            ColumnType::Char { .. } | ColumnType::Varchar { .. } | ColumnType::Text
        )
    };
    let base = |ty: &ColumnType| -> ColumnType {
        let mut ty = ty.clone();
        while let ColumnType::Array(inner) = ty {
            ty = *inner;
        }
        ty
    };
    let (from_base, to_base) = (base(from), base(to));
    let through_text = matches!(from_base, ColumnType::Enum { .. })
        || (matches!(
            to_base,
            ColumnType::Enum { .. } | ColumnType::Uuid | ColumnType::Custom(_)
        ) && !string(&from_base));
    // pg_cast converts boolean only to and from `integer`: other numbers
    // compare with zero, or go through `integer`.
    let other_number = |ty: &ColumnType| {
        matches!(
            ty,
            ColumnType::SmallInt
                | ColumnType::BigInt
                | ColumnType::Real
                | ColumnType::Double
                | ColumnType::Decimal { .. }
        )
    };
    if through_text {
        format!("{column}::text{}::{to_sql}", array_suffix(from))
    } else if other_number(from) && to == &ColumnType::Boolean {
        format!("{column} <> 0")
    } else if from == &ColumnType::Boolean && other_number(to) {
        format!("{column}::integer::{to_sql}")
    } else {
        format!("{column}::{to_sql}")
    }
}

/// The statement giving the sequence behind generated column `table.column`
/// the column's new type `ty`: an identity column's sequence follows its
/// column, a `serial` column's (`serial` → `bigserial`) does not, and would
/// stop at 2^31 - 1. The sequence's name is only known to the database,
/// hence the `DO` block; for an identity column it changes nothing.
fn sequence_type_statement(table: &str, column: &str, ty: &str) -> String {
    let body = format!(
        "BEGIN EXECUTE format({}, pg_get_serial_sequence({}, {})); END",
        literal(&format!("ALTER SEQUENCE %s AS {ty}")),
        literal(&quote(table, PG)),
        literal(column),
    );
    // A dollar-quote tag that the body (which holds the names) cannot close.
    let mut tag = "$retort$".to_string();
    let mut n = 0;
    while body.contains(&tag) {
        n += 1;
        tag = format!("$retort{n}$");
    }
    format!("DO {tag} {body} {tag}")
}

/// `ALTER TABLE … ALTER COLUMN` statements taking `from` to `to`, in an
/// order that works: identity dropped first; the default dropped before a
/// `USING` conversion (the old default may not convert automatically) or a
/// conversion from an enum (the converted default would still use it);
/// type; nullability; default; identity added (after `SET NOT NULL`,
/// which it needs) with its sequence moved past the existing values;
/// comment.
pub(crate) fn alter_column(table: &str, from: &Column, to: &Column, state: &Schema) -> Vec<String> {
    let column = quote(&to.name, PG);
    let alter = |action: String| alter_table(table, &format!("ALTER COLUMN {column} {action}"));
    let mut out = Vec::new();
    if from.autoincrement && !to.autoincrement {
        out.push(alter("DROP IDENTITY IF EXISTS".to_string()));
    }
    let type_changes = from.ty != to.ty;
    let using = type_changes && !assignment_cast(&from.ty, &to.ty);
    // A default kept through `TYPE` is converted with it: one on an enum
    // column becomes `('a'::st)::text`, which still depends on the enum and
    // keeps a later `DROP TYPE` from running. It goes, and is set again
    // below.
    let default_dropped =
        (using || (type_changes && element_enum(&from.ty).is_some())) && from.default.is_some();
    if default_dropped {
        out.push(alter("DROP DEFAULT".to_string()));
    }
    // A collation is set by restating the type; without `COLLATE` the
    // column gets its type's default collation.
    let collation_changes = from.collation != to.collation;
    if type_changes || collation_changes {
        let ty = spelling::column_type_lenient(&to.ty, PG);
        let collate = match &to.collation {
            Some(collation) => format!(" COLLATE {}", quote(collation, PG)),
            None => String::new(),
        };
        if using {
            let expression = using_expression(&column, &from.ty, &to.ty, &ty);
            out.push(alter(format!("TYPE {ty}{collate} USING {expression}")));
        } else {
            out.push(alter(format!("TYPE {ty}{collate}")));
        }
        if type_changes && from.autoincrement && to.autoincrement {
            out.push(sequence_type_statement(table, &to.name, &ty));
        }
    }
    if from.nullable != to.nullable {
        out.push(alter(
            if to.nullable {
                "DROP NOT NULL"
            } else {
                "SET NOT NULL"
            }
            .to_string(),
        ));
    }
    if from.default != to.default || default_dropped {
        match &to.default {
            // A default on an enum value the type lacks at this point is
            // set by the type's rebuild later in the revision.
            Some(default) if !enum_default_available(default, &to.ty, state) => {}
            Some(default) => out.push(alter(format!(
                "SET DEFAULT {}",
                spelling::default_value(default, PG)
            ))),
            None if !default_dropped => out.push(alter("DROP DEFAULT".to_string())),
            None => {}
        }
    }
    if !from.autoincrement && to.autoincrement {
        out.push(alter("ADD GENERATED BY DEFAULT AS IDENTITY".to_string()));
        // The new sequence starts at 1: move it past the existing values.
        out.push(format!(
            "SELECT setval(pg_get_serial_sequence({}, {}), coalesce(max({column}), 0) + 1, false) FROM {}",
            literal(&quote(table, PG)),
            literal(&to.name),
            quote(table, PG)
        ));
    }
    if from.comment != to.comment {
        out.push(ddl::column_comment_statement(
            table,
            &to.name,
            to.comment.as_deref(),
            PG,
        ));
    }
    out
}

fn enum_default_available(default: &DefaultValue, ty: &ColumnType, state: &Schema) -> bool {
    match ty {
        ColumnType::Enum { name } => state
            .enum_type(name)
            .is_none_or(|e| default_fits(default, ty, &e.values)),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(list: &[&str]) -> Vec<String> {
        list.iter().map(|v| v.to_string()).collect()
    }

    #[test]
    fn added_values_name_a_neighbour_that_exists_by_then() {
        let sql = add_value_statements(
            "mood",
            &values(&["b", "d"]),
            &values(&["a0", "a", "b", "c", "d", "e", "f"]),
            PG,
        );
        assert_eq!(
            sql,
            [
                "ALTER TYPE \"mood\" ADD VALUE IF NOT EXISTS 'a0' BEFORE 'b'",
                "ALTER TYPE \"mood\" ADD VALUE IF NOT EXISTS 'a' AFTER 'a0'",
                "ALTER TYPE \"mood\" ADD VALUE IF NOT EXISTS 'c' AFTER 'b'",
                "ALTER TYPE \"mood\" ADD VALUE IF NOT EXISTS 'e'",
                "ALTER TYPE \"mood\" ADD VALUE IF NOT EXISTS 'f'",
            ]
        );
    }

    #[test]
    fn casts_without_an_assignment_path_need_using() {
        use ColumnType as T;
        let v = |n| T::Varchar { length: Some(n) };
        let mood = T::Enum {
            name: "mood".into(),
        };
        for (from, to) in [
            (v(10), v(20)),
            (v(20), v(10)),
            (T::Integer, T::BigInt),
            (T::BigInt, T::Integer),
            (T::Integer, T::Text),
            (mood.clone(), T::Text),
            (T::Uuid, v(36)),
            (T::Json, T::Jsonb),
            (
                T::Date,
                T::Timestamp {
                    with_time_zone: true,
                    precision: None,
                },
            ),
        ] {
            assert!(assignment_cast(&from, &to), "{from} -> {to}");
        }
        for (from, to) in [
            (T::Text, T::Integer),
            (v(5), T::Boolean),
            (T::Integer, T::Boolean),
            (T::Text, T::Uuid),
            (T::Text, mood.clone()),
            (T::Text, T::Jsonb),
            (T::Enum { name: "a".into() }, mood.clone()),
        ] {
            assert!(!assignment_cast(&from, &to), "{from} -> {to}");
        }
        assert_eq!(
            using_expression("\"c\"", &T::Enum { name: "a".into() }, &mood, "\"mood\""),
            "\"c\"::text::\"mood\""
        );
        assert_eq!(
            using_expression("\"c\"", &T::Text, &mood, "\"mood\""),
            "\"c\"::\"mood\""
        );
        assert_eq!(
            using_expression("\"c\"", &T::Integer, &T::Boolean, "boolean"),
            "\"c\"::boolean"
        );
    }

    #[test]
    fn boolean_converts_to_and_from_numbers_other_than_integer() {
        use ColumnType as T;
        // Found by the round-trip property test: `"c"::boolean` on a
        // bigint column fails with "cannot cast type bigint to boolean".
        assert_eq!(
            using_expression("\"c\"", &T::BigInt, &T::Boolean, "boolean"),
            "\"c\" <> 0"
        );
        let decimal = T::Decimal {
            precision: Some(10),
            scale: Some(2),
        };
        assert_eq!(
            using_expression("\"c\"", &decimal, &T::Boolean, "boolean"),
            "\"c\" <> 0"
        );
        assert_eq!(
            using_expression("\"c\"", &T::Boolean, &T::BigInt, "bigint"),
            "\"c\"::integer::bigint"
        );
        assert_eq!(
            using_expression("\"c\"", &T::Boolean, &T::SmallInt, "smallint"),
            "\"c\"::integer::smallint"
        );
    }
}
