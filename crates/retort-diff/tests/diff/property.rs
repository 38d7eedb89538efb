//! Property: for random small schema pairs, the plan turns one into the
//! other, its inverse turns it back, every op is valid where it runs, and a
//! schema diffed against itself gives nothing.

use super::support::*;
use proptest::prelude::*;
use retort_diff::diff;
use retort_schema::{
    CheckConstraint, Column, ColumnType, DefaultValue, Dialect, EnumType, ForeignKey,
    ForeignKeyAction, Index, IndexPart, PrimaryKey, Schema, Table, UniqueConstraint,
};

const TABLES: [&str; 3] = ["a", "b", "c"];
const COLUMNS: [&str; 4] = ["id", "x", "y", "z"];

#[derive(Debug, Clone)]
struct ColumnSpec {
    ty: u8,
    nullable: bool,
    default: u8,
    comment: bool,
}

#[derive(Debug, Clone)]
struct TableSpec {
    present: bool,
    columns: [Option<ColumnSpec>; 3],
    primary_key: u8,
    indexes: Vec<(u8, Vec<u8>, bool)>,
    uniques: Vec<(u8, Vec<u8>)>,
    foreign_keys: Vec<(u8, u8, u8, bool)>,
    checks: Vec<(u8, u8)>,
}

#[derive(Debug, Clone)]
struct SchemaSpec {
    tables: [TableSpec; 3],
    long_enum: bool,
}

fn column_spec() -> impl Strategy<Value = ColumnSpec> {
    (0u8..8, any::<bool>(), 0u8..3, any::<bool>()).prop_map(|(ty, nullable, default, comment)| {
        ColumnSpec {
            ty,
            nullable,
            default,
            comment,
        }
    })
}

fn table_spec() -> impl Strategy<Value = TableSpec> {
    let columns = prop::collection::vec(prop::option::of(column_spec()), 3);
    let parts = || prop::collection::vec(0u8..4, 1..3);
    (
        any::<bool>(),
        columns,
        0u8..3,
        prop::collection::vec((0u8..2, parts(), any::<bool>()), 0..3),
        prop::collection::vec((0u8..2, parts()), 0..3),
        prop::collection::vec((0u8..2, 1u8..4, 0u8..3, any::<bool>()), 0..3),
        prop::collection::vec((0u8..2, 0u8..4), 0..2),
    )
        .prop_map(
            |(present, columns, primary_key, indexes, uniques, foreign_keys, checks)| TableSpec {
                present,
                columns: [columns[0].clone(), columns[1].clone(), columns[2].clone()],
                primary_key,
                indexes,
                uniques,
                foreign_keys,
                checks,
            },
        )
}

fn schema_spec() -> impl Strategy<Value = SchemaSpec> {
    (table_spec(), table_spec(), table_spec(), any::<bool>()).prop_map(|(a, b, c, long_enum)| {
        SchemaSpec {
            tables: [a, b, c],
            long_enum,
        }
    })
}

fn column_type(code: u8, dialect: Dialect) -> ColumnType {
    match code {
        0 => ColumnType::Integer,
        1 => ColumnType::BigInt,
        2 => ColumnType::Varchar { length: Some(20) },
        3 => ColumnType::Varchar { length: Some(50) },
        4 => ColumnType::Text,
        5 => ColumnType::Boolean,
        6 => ColumnType::Decimal {
            precision: Some(10),
            scale: Some(2),
        },
        _ if dialect.named_enums() => ColumnType::Enum {
            name: "mood".into(),
        },
        _ => ColumnType::Integer,
    }
}

fn default_for(ty: &ColumnType, code: u8) -> Option<DefaultValue> {
    let second = code == 2;
    match (code, ty) {
        (0, _) => None,
        (_, ColumnType::Boolean) => Some(DefaultValue::Boolean(second)),
        (_, ColumnType::Varchar { .. } | ColumnType::Text) => {
            Some(DefaultValue::String(if second { "y" } else { "x" }.into()))
        }
        // "happy" is a value only the long enum has (see `build`).
        (_, ColumnType::Enum { .. }) => Some(DefaultValue::String(
            if second { "happy" } else { "sad" }.into(),
        )),
        _ => Some(DefaultValue::Number(if second { "1" } else { "0" }.into())),
    }
}

fn build(spec: &SchemaSpec, dialect: Dialect, named: bool) -> Schema {
    let present: Vec<&str> = TABLES
        .iter()
        .zip(&spec.tables)
        .filter(|(_, t)| t.present)
        .map(|(name, _)| *name)
        .collect();
    let name_if = |prefix: String| named.then_some(prefix);
    let mut schema = Schema::default();
    for (name, t) in TABLES.iter().zip(&spec.tables) {
        if !t.present {
            continue;
        }
        let mut table = Table::new(*name);
        table
            .columns
            .push(Column::new("id", ColumnType::Integer).not_null());
        for (column_name, column) in COLUMNS[1..].iter().zip(&t.columns) {
            let Some(c) = column else { continue };
            let ty = column_type(c.ty, dialect);
            let mut built = Column::new(*column_name, ty.clone());
            built.nullable = c.nullable;
            built.default = default_for(&ty, c.default);
            if c.comment && dialect.comments() {
                built.comment = Some(format!("the {column_name}"));
            }
            table.columns.push(built);
        }
        let has = |table: &Table, i: u8| table.column(COLUMNS[usize::from(i)]).is_some();
        let pick = |table: &Table, parts: &[u8]| -> Vec<String> {
            let mut picked: Vec<String> = Vec::new();
            for &i in parts {
                let column = COLUMNS[usize::from(i)].to_string();
                if has(table, i) && !picked.contains(&column) {
                    picked.push(column);
                }
            }
            if picked.is_empty() {
                picked.push("id".into());
            }
            picked
        };
        table.primary_key = match t.primary_key {
            0 => None,
            2 if has(&table, 1) => Some(vec!["id".to_string(), "x".to_string()]),
            _ => Some(vec!["id".to_string()]),
        }
        .map(|columns| PrimaryKey {
            name: None,
            columns,
        });
        for (n, parts, unique) in &t.indexes {
            let index_name = format!("ix_{name}_{n}");
            if table.indexes.iter().any(|i| i.name == index_name) {
                continue;
            }
            let columns = pick(&table, parts);
            table.indexes.push(Index {
                name: index_name,
                parts: columns.into_iter().map(IndexPart::column).collect(),
                unique: *unique,
                predicate: None,
                method: None,
                nulls_not_distinct: false,
            });
        }
        let mut constraint_names = Vec::new();
        let mut fresh = |wanted: String| -> Option<Option<String>> {
            let wanted = name_if(wanted);
            if let Some(n) = &wanted {
                if constraint_names.contains(n) {
                    return None;
                }
                constraint_names.push(n.clone());
            }
            Some(wanted)
        };
        for (n, parts) in &t.uniques {
            let columns = pick(&table, parts);
            if let Some(name) = fresh(format!("uq_{name}_{n}")) {
                table.unique_constraints.push(UniqueConstraint {
                    name,
                    columns,
                    nulls_not_distinct: false,
                });
            }
        }
        for (n, column, parent, cascade) in &t.foreign_keys {
            let parent = TABLES[usize::from(*parent)];
            if !has(&table, *column) || !present.contains(&parent) {
                continue;
            }
            if let Some(fk_name) = fresh(format!("fk_{name}_{n}")) {
                table.foreign_keys.push(ForeignKey {
                    implicit_index: None,
                    name: fk_name,
                    columns: vec![COLUMNS[usize::from(*column)].into()],
                    referred_schema: None,
                    referred_table: parent.into(),
                    referred_columns: vec!["id".into()],
                    on_delete: if *cascade {
                        ForeignKeyAction::Cascade
                    } else {
                        ForeignKeyAction::NoAction
                    },
                    on_update: ForeignKeyAction::NoAction,
                    deferrable: retort_schema::Deferral::NotDeferrable,
                });
            }
        }
        for (n, column) in &t.checks {
            let column = COLUMNS[usize::from(*column)];
            if table.column(column).is_none() {
                continue;
            }
            if let Some(name) = fresh(format!("ck_{name}_{n}")) {
                table.checks.push(CheckConstraint {
                    name,
                    expression: format!("{column} > 0"),
                });
            }
        }
        schema.tables.push(table);
    }
    let uses_enum = schema.tables.iter().any(|t| {
        t.columns
            .iter()
            .any(|c| matches!(c.ty, ColumnType::Enum { .. }))
    });
    if uses_enum {
        let mut values = vec!["sad".to_string(), "ok".to_string()];
        let happy_default = schema.tables.iter().any(|t| {
            t.columns
                .iter()
                .any(|c| c.default == Some(DefaultValue::String("happy".into())))
        });
        if spec.long_enum || happy_default {
            values.push("happy".into());
        }
        // Reordered when long: a change between the two lists both adds
        // and reorders.
        if spec.long_enum && !happy_default {
            values.swap(0, 1);
        }
        schema.enums.push(EnumType {
            schema: None,
            name: "mood".into(),
            values,
        });
    }
    schema.normalized()
}

fn dialect() -> impl Strategy<Value = Dialect> {
    prop::sample::select(Dialect::ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn a_schema_diffed_against_itself_gives_nothing(
        spec in schema_spec(), dialect in dialect(), named in any::<bool>()
    ) {
        let schema = build(&spec, dialect, named);
        prop_assert!(diff(&schema, &schema, &options(dialect)).is_empty());
    }

    #[test]
    fn the_plan_and_its_inverse_round_trip(
        from in schema_spec(),
        to in schema_spec(),
        dialect in dialect(),
        named in any::<bool>(),
    ) {
        let from = build(&from, dialect, named);
        let to = build(&to, dialect, named);
        // Panics (with the failing op) where a check fails.
        round_trip(&from, &to, dialect);
    }
}
