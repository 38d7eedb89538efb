//! Catalog rows → IR, without a database.
//!
//! Types are decoded from `typname` + `atttypmod` into the spelling the
//! model loader reads (`varchar(255)`, `numeric(10,2)`) and then through the
//! loader's own [`column_type`], so both paths agree by construction. Default
//! and expression text from `pg_get_expr` goes through the loader's
//! canonicalisers after [`super::expr`] has taken out what PostgreSQL's
//! deparser adds (implicit casts, parentheses, `= ANY (ARRAY[…])`).

use super::expr::postgres_expression;
use super::{CatalogRows, ColumnRow, ConstraintRow, IndexRow, TypeRef};
use crate::IntrospectError;
use retort_models::{column_default, column_type};
use retort_schema::{
    CheckConstraint, Column, ColumnType, ConstraintKind, Dialect, EnumType, ForeignKey,
    ForeignKeyAction, Index, IndexPart, IndexTarget, PrimaryKey, Schema, Table, UniqueConstraint,
    implied_constraint_name,
};
use std::collections::{BTreeMap, BTreeSet};

const DIALECT: Dialect = Dialect::Postgres;

/// Turns catalog rows into a normalised [`Schema`].
pub(crate) fn build_schema(rows: CatalogRows) -> Result<Schema, IntrospectError> {
    let default_schema = rows.default_schema.as_str();
    let ir_schema = |schema: &str| (schema != default_schema).then(|| schema.to_string());

    let mut tables: BTreeMap<i64, Table> = BTreeMap::new();
    for row in &rows.tables {
        let mut table = Table::new(&row.name);
        table.schema = ir_schema(&row.schema);
        table.comment = row.comment.clone();
        tables.insert(row.oid, table);
    }

    let owned_sequences: BTreeMap<(i64, i16), &str> = rows
        .sequences
        .iter()
        .map(|s| ((s.table_oid, s.attnum), s.sequence.as_str()))
        .collect();
    let mut column_names: BTreeMap<(i64, i16), String> = BTreeMap::new();
    for row in &rows.columns {
        let Some(table) = tables.get_mut(&row.table_oid) else {
            continue;
        };
        // The IR has no generation expression, and the loader refuses
        // GENERATED ALWAYS AS (…) STORED: such columns are not managed yet.
        if !row.generated.is_empty() {
            continue;
        }
        column_names.insert((row.table_oid, row.attnum), row.name.clone());
        let sequence = owned_sequences.get(&(row.table_oid, row.attnum)).copied();
        table
            .columns
            .push(column_from_row(row, sequence, default_schema));
    }

    let mut constraint_indexes: BTreeSet<i64> = BTreeSet::new();
    for row in &rows.constraints {
        let Some(table) = tables.get_mut(&row.table_oid) else {
            continue;
        };
        if matches!(row.kind.as_str(), "p" | "u" | "x") {
            constraint_indexes.insert(row.index_oid);
        }
        add_constraint(table, row, &column_names, &ir_schema)?;
    }

    for row in &rows.indexes {
        let Some(table) = tables.get_mut(&row.table_oid) else {
            continue;
        };
        if row.primary || constraint_indexes.contains(&row.oid) {
            continue;
        }
        let index = index_from_row(row, &column_names, &table.name)?;
        table.indexes.push(index);
    }

    let mut enums: Vec<EnumType> = Vec::new();
    for row in &rows.enums {
        let schema = ir_schema(&row.schema);
        match enums.last_mut() {
            Some(last) if last.name == row.name && last.schema == schema => {
                last.values.push(row.label.clone());
            }
            _ => enums.push(EnumType {
                schema,
                name: row.name.clone(),
                values: vec![row.label.clone()],
            }),
        }
    }

    let schema = Schema {
        tables: tables.into_values().collect(),
        enums,
        ..Schema::default()
    };
    Ok(schema.normalized())
}

/// A column from its row. A `serial` column (a default of `nextval()` on the
/// sequence the column owns) and an identity column are `autoincrement` with
/// no default, exactly what the loader makes of `serial` and
/// `GENERATED … AS IDENTITY`.
fn column_from_row(row: &ColumnRow, owned_sequence: Option<&str>, default_schema: &str) -> Column {
    let mut column = Column::new(&row.name, decode_column_type(row, default_schema));
    column.nullable = !row.not_null;
    column.comment = row.comment.clone();
    if matches!(row.identity.as_str(), "a" | "d") {
        column.autoincrement = true;
        return column;
    }
    if let Some(text) = &row.default {
        if owned_sequence.is_some_and(|sequence| is_nextval_of(text, sequence)) {
            column.autoincrement = true;
        } else {
            column.default = column_default(&postgres_expression(text), DIALECT);
        }
    }
    column
}

/// Whether `default` is `nextval('<sequence>'::regclass)`, the sequence
/// possibly schema-qualified or quoted.
fn is_nextval_of(default: &str, sequence: &str) -> bool {
    let Some(argument) = default
        .trim()
        .strip_prefix("nextval('")
        .and_then(|rest| rest.strip_suffix("'::regclass)"))
    else {
        return false;
    };
    let last = argument.rsplit('.').next().unwrap_or(argument);
    let unquoted = last
        .strip_prefix('"')
        .and_then(|l| l.strip_suffix('"'))
        .map_or_else(|| last.to_string(), |l| l.replace("\"\"", "\""));
    unquoted == sequence
}

/// The canonical type of a column from its raw catalog type.
fn decode_column_type(row: &ColumnRow, default_schema: &str) -> ColumnType {
    match &row.element {
        Some(element) => {
            let mut ty = scalar_type(element, row.typmod, default_schema);
            // `int[][]` declares two dimensions; PostgreSQL does not enforce
            // them, but the loader reads the declaration, and so do we.
            for _ in 0..row.dimensions.max(1) {
                ty = ColumnType::Array(Box::new(ty));
            }
            ty
        }
        None => scalar_type(&row.ty, row.typmod, default_schema),
    }
}

/// A non-array type. Built-in types are spelled as the loader would read
/// them (`varchar(255)`, `numeric(10,2)`) and canonicalised by the loader's
/// own [`column_type`]; enums become [`ColumnType::Enum`], domains and other
/// user types [`ColumnType::Custom`] with their name (schema-qualified
/// outside the default schema).
pub(crate) fn scalar_type(ty: &TypeRef, typmod: i32, default_schema: &str) -> ColumnType {
    if ty.kind == "e" {
        return ColumnType::Enum {
            name: ty.name.clone(),
        };
    }
    if ty.schema != "pg_catalog" {
        let name = if ty.schema == default_schema || ty.schema == "public" {
            ty.name.clone()
        } else {
            format!("{}.{}", ty.schema, ty.name)
        };
        return column_type(&name, DIALECT);
    }
    column_type(&builtin_spelling(&ty.name, typmod), DIALECT)
}

/// The spelling of a `pg_catalog` type with its modifier, as DDL writes it.
/// <https://www.postgresql.org/docs/current/catalog-pg-attribute.html>: for
/// varchar and bpchar the typmod is the length + 4 (VARHDRSZ); for numeric
/// ((precision << 16) | scale) + 4; for time types and bit types the
/// precision or length itself.
fn builtin_spelling(name: &str, typmod: i32) -> String {
    const VARHDRSZ: i32 = 4;
    match name {
        "varchar" | "bpchar" if typmod >= VARHDRSZ => format!("{name}({})", typmod - VARHDRSZ),
        "numeric" if typmod >= VARHDRSZ => {
            let packed = typmod - VARHDRSZ;
            let precision = (packed >> 16) & 0xffff;
            // PostgreSQL 15 allows a negative scale, stored in 11 bits.
            let scale = ((packed & 0x7ff) ^ 1024) - 1024;
            format!("numeric({precision},{scale})")
        }
        "time" | "timetz" | "timestamp" | "timestamptz" | "bit" | "varbit" if typmod >= 0 => {
            format!("{name}({typmod})")
        }
        // The one-byte internal type, not character(1).
        "char" => "\"char\"".to_string(),
        _ => name.to_string(),
    }
}

fn add_constraint(
    table: &mut Table,
    row: &ConstraintRow,
    column_names: &BTreeMap<(i64, i16), String>,
    ir_schema: &impl Fn(&str) -> Option<String>,
) -> Result<(), IntrospectError> {
    let catalog_error = |message: String| IntrospectError::Catalog {
        table: table.name.clone(),
        message,
    };
    let columns = row
        .columns
        .iter()
        .map(|attnum| {
            column_names
                .get(&(row.table_oid, *attnum))
                .cloned()
                .ok_or_else(|| {
                    catalog_error(format!(
                        "constraint `{}` uses column number {attnum}, which is not a plain column",
                        row.name
                    ))
                })
        })
        .collect::<Result<Vec<String>, _>>()?;
    let kind = match row.kind.as_str() {
        "p" => Some(ConstraintKind::PrimaryKey),
        "u" => Some(ConstraintKind::Unique),
        "f" => Some(ConstraintKind::ForeignKey),
        "c" => Some(ConstraintKind::Check),
        _ => None,
    };
    // A name PostgreSQL chose itself reads back as "unnamed", as the model
    // that left it unnamed is read.
    let implied = kind
        .and_then(|kind| implied_constraint_name(Dialect::Postgres, &table.name, kind, &columns));
    let name = (implied.as_deref() != Some(row.name.as_str())).then(|| row.name.clone());
    match row.kind.as_str() {
        "p" => table.primary_key = Some(PrimaryKey { name, columns }),
        "u" => table
            .unique_constraints
            .push(UniqueConstraint { name, columns }),
        "f" => {
            let referred_table = row.referred_table.clone().ok_or_else(|| {
                catalog_error(format!("foreign key `{}` has no referred table", row.name))
            })?;
            table.foreign_keys.push(ForeignKey {
                name,
                columns,
                referred_schema: row.referred_schema.as_deref().and_then(ir_schema),
                referred_table,
                referred_columns: row.referred_columns.clone(),
                on_delete: foreign_key_action(&row.on_delete)
                    .ok_or_else(|| catalog_error(unknown_action(row, &row.on_delete)))?,
                on_update: foreign_key_action(&row.on_update)
                    .ok_or_else(|| catalog_error(unknown_action(row, &row.on_update)))?,
            });
        }
        "c" => {
            let text = row.check.as_deref().ok_or_else(|| {
                catalog_error(format!("check constraint `{}` has no expression", row.name))
            })?;
            table.checks.push(CheckConstraint {
                name,
                expression: postgres_expression(text),
            });
        }
        "x" => {
            return Err(catalog_error(format!(
                "exclusion constraint `{}` cannot be represented by retort yet; \
                 drop it or manage the table outside retort's schemas",
                row.name
            )));
        }
        _ => {}
    }
    Ok(())
}

fn unknown_action(row: &ConstraintRow, code: &str) -> String {
    format!(
        "unknown referential action code `{code}` on foreign key `{}`",
        row.name
    )
}

/// `pg_constraint.confdeltype` / `confupdtype` codes.
fn foreign_key_action(code: &str) -> Option<ForeignKeyAction> {
    match code {
        "a" | "" | " " => Some(ForeignKeyAction::NoAction),
        "r" => Some(ForeignKeyAction::Restrict),
        "c" => Some(ForeignKeyAction::Cascade),
        "n" => Some(ForeignKeyAction::SetNull),
        "d" => Some(ForeignKeyAction::SetDefault),
        _ => None,
    }
}

fn index_from_row(
    row: &IndexRow,
    column_names: &BTreeMap<(i64, i16), String>,
    table: &str,
) -> Result<Index, IntrospectError> {
    let mut expressions = row.expressions.iter();
    let mut parts = Vec::new();
    let key_count = usize::try_from(row.key_count).unwrap_or(0);
    for (position, attnum) in row.keys.iter().take(key_count).enumerate() {
        let target = if *attnum == 0 {
            let text = expressions.next().ok_or_else(|| IntrospectError::Catalog {
                table: table.to_string(),
                message: format!("index `{}` lacks the text of an expression", row.name),
            })?;
            IndexTarget::Expression(postgres_expression(text))
        } else {
            let name = column_names.get(&(row.table_oid, *attnum)).ok_or_else(|| {
                IntrospectError::Catalog {
                    table: table.to_string(),
                    message: format!(
                        "index `{}` uses column number {attnum}, which is not a plain column",
                        row.name
                    ),
                }
            })?;
            IndexTarget::Column(name.clone())
        };
        let option = row.options.get(position).copied().unwrap_or(0);
        parts.push(IndexPart {
            target,
            descending: option & 1 != 0,
        });
    }
    Ok(Index {
        name: row.name.clone(),
        parts,
        unique: row.unique,
        predicate: row.predicate.as_deref().map(postgres_expression),
        method: (row.method != "btree").then(|| row.method.clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::postgres::{SequenceRow, TableRow};

    fn base(name: &str) -> TypeRef {
        TypeRef {
            name: name.into(),
            schema: "pg_catalog".into(),
            kind: "b".into(),
        }
    }

    fn column(name: &str, ty: &str, typmod: i32) -> ColumnRow {
        ColumnRow {
            table_oid: 1,
            attnum: 1,
            name: name.into(),
            ty: base(ty),
            element: None,
            typmod,
            dimensions: 0,
            not_null: false,
            default: None,
            identity: String::new(),
            generated: String::new(),
            comment: None,
        }
    }

    fn decoded(ty: &str, typmod: i32) -> ColumnType {
        decode_column_type(&column("c", ty, typmod), "public")
    }

    #[test]
    fn type_modifiers_decode_to_the_loader_spelling() {
        let pg = |t: &str| column_type(t, DIALECT);
        assert_eq!(decoded("int2", -1), ColumnType::SmallInt);
        assert_eq!(decoded("int4", -1), ColumnType::Integer);
        assert_eq!(decoded("int8", -1), ColumnType::BigInt);
        assert_eq!(decoded("varchar", 259), pg("VARCHAR(255)"));
        assert_eq!(decoded("varchar", -1), pg("character varying"));
        assert_eq!(decoded("bpchar", 7), ColumnType::Char { length: Some(3) });
        assert_eq!(
            decoded("numeric", (12 << 16 | 4) + 4),
            ColumnType::Decimal {
                precision: Some(12),
                scale: Some(4)
            }
        );
        assert_eq!(
            decoded("numeric", -1),
            ColumnType::Decimal {
                precision: None,
                scale: None
            }
        );
        assert_eq!(decoded("float4", -1), ColumnType::Real);
        assert_eq!(decoded("float8", -1), ColumnType::Double);
        assert_eq!(decoded("bool", -1), ColumnType::Boolean);
        assert_eq!(decoded("bytea", -1), ColumnType::Blob);
        assert_eq!(decoded("timestamptz", -1), pg("TIMESTAMP WITH TIME ZONE"));
        assert_eq!(decoded("timetz", -1), pg("time with time zone"));
        assert_eq!(decoded("jsonb", -1), ColumnType::Jsonb);
        assert_eq!(decoded("uuid", -1), ColumnType::Uuid);
        assert_eq!(decoded("inet", -1), ColumnType::Custom("inet".into()));
    }

    #[test]
    fn arrays_enums_and_domains_decode() {
        let mut tags = column("tags", "_varchar", 36);
        tags.element = Some(base("varchar"));
        tags.dimensions = 1;
        assert_eq!(
            decode_column_type(&tags, "public"),
            ColumnType::Array(Box::new(ColumnType::Varchar { length: Some(32) }))
        );
        tags.dimensions = 2;
        assert_eq!(
            decode_column_type(&tags, "public"),
            column_type("varchar(32)[][]", DIALECT)
        );
        let mood = TypeRef {
            name: "mood".into(),
            schema: "public".into(),
            kind: "e".into(),
        };
        assert_eq!(
            scalar_type(&mood, -1, "public"),
            ColumnType::Enum {
                name: "mood".into()
            }
        );
        let email = TypeRef {
            name: "email".into(),
            schema: "app".into(),
            kind: "d".into(),
        };
        assert_eq!(
            scalar_type(&email, -1, "public"),
            ColumnType::Custom("app.email".into())
        );
        assert_eq!(
            scalar_type(&email, -1, "app"),
            ColumnType::Custom("email".into())
        );
    }

    #[test]
    fn serial_and_identity_columns_are_autoincrement_without_default() {
        let mut id = column("id", "int4", -1);
        id.default = Some("nextval('users_id_seq'::regclass)".into());
        let serial = column_from_row(&id, Some("users_id_seq"), "public");
        assert!(serial.autoincrement);
        assert_eq!(serial.default, None);
        // nextval() of a sequence the column does not own is a plain default.
        let shared = column_from_row(&id, None, "public");
        assert!(!shared.autoincrement);
        assert!(shared.default.is_some());
        assert!(is_nextval_of(
            "nextval('app.\"Odd\"\"seq\"'::regclass)",
            "Odd\"seq"
        ));
        let mut identity = column("id", "int8", -1);
        identity.identity = "a".into();
        assert!(column_from_row(&identity, None, "public").autoincrement);
    }

    #[test]
    fn constraint_backed_indexes_are_not_listed_and_names_map() {
        let rows = CatalogRows {
            default_schema: "public".into(),
            tables: vec![TableRow {
                oid: 1,
                schema: "public".into(),
                name: "t".into(),
                comment: Some("a table".into()),
            }],
            columns: vec![column("code", "text", -1)],
            sequences: Vec::<SequenceRow>::new(),
            constraints: vec![ConstraintRow {
                table_oid: 1,
                name: "t_code_key".into(),
                kind: "u".into(),
                columns: vec![1],
                referred_schema: None,
                referred_table: None,
                referred_columns: vec![],
                on_update: " ".into(),
                on_delete: " ".into(),
                index_oid: 10,
                check: None,
            }],
            indexes: vec![
                IndexRow {
                    table_oid: 1,
                    oid: 10,
                    name: "t_code_key".into(),
                    unique: true,
                    primary: false,
                    key_count: 1,
                    keys: vec![1],
                    options: vec![0],
                    method: "btree".into(),
                    expressions: vec![],
                    predicate: None,
                },
                IndexRow {
                    table_oid: 1,
                    oid: 11,
                    name: "ix_t_lower".into(),
                    unique: false,
                    primary: false,
                    key_count: 2,
                    keys: vec![0, 1],
                    options: vec![0, 3],
                    method: "gin".into(),
                    expressions: vec!["lower(code)".into()],
                    predicate: Some("(code IS NOT NULL)".into()),
                },
            ],
            enums: vec![],
        };
        let schema = build_schema(rows).unwrap();
        let t = &schema.tables[0];
        assert_eq!(t.comment.as_deref(), Some("a table"));
        assert_eq!(
            t.unique_constraints,
            vec![UniqueConstraint {
                name: None,
                columns: vec!["code".into()]
            }]
        );
        assert_eq!(t.indexes.len(), 1);
        let ix = &t.indexes[0];
        assert_eq!(
            ix.parts,
            vec![
                IndexPart {
                    target: IndexTarget::Expression("lower(code)".into()),
                    descending: false
                },
                IndexPart {
                    target: IndexTarget::Column("code".into()),
                    descending: true
                },
            ]
        );
        assert_eq!(ix.predicate.as_deref(), Some("code IS NOT NULL"));
        assert_eq!(ix.method.as_deref(), Some("gin"));
    }
}
