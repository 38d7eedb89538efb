//! Schema builders and the round-trip check every test goes through.

use retort_diff::{DiffOptions, Op, Plan, apply_all, diff, invert};
use retort_schema::{
    Column, ColumnType, DefaultValue, Dialect, ForeignKey, ForeignKeyAction, Index, IndexPart,
    PrimaryKey, Schema, Table,
};

pub fn options(dialect: Dialect) -> DiffOptions {
    DiffOptions { dialect }
}

/// A table with an `id integer` primary key and `columns`.
pub fn table(name: &str, columns: Vec<Column>) -> Table {
    let mut table = Table::new(name);
    table
        .columns
        .push(Column::new("id", ColumnType::Integer).not_null());
    table.columns.extend(columns);
    table.primary_key = Some(PrimaryKey {
        name: None,
        columns: vec!["id".into()],
    });
    table
}

pub fn schema(tables: Vec<Table>) -> Schema {
    Schema {
        tables,
        ..Schema::default()
    }
    .normalized()
}

pub fn int(name: &str) -> Column {
    Column::new(name, ColumnType::Integer)
}

pub fn varchar(name: &str, length: u32) -> Column {
    Column::new(
        name,
        ColumnType::Varchar {
            length: Some(length),
        },
    )
}

/// `column` references `parent(id)`, unnamed.
pub fn fk(column: &str, parent: &str) -> ForeignKey {
    ForeignKey {
        implicit_index: None,
        name: None,
        columns: vec![column.into()],
        referred_schema: None,
        referred_table: parent.into(),
        referred_columns: vec!["id".into()],
        on_delete: ForeignKeyAction::NoAction,
        on_update: ForeignKeyAction::NoAction,
        deferrable: retort_schema::Deferral::NotDeferrable,
    }
}

pub fn index(name: &str, columns: &[&str], unique: bool) -> Index {
    Index {
        name: name.into(),
        parts: columns.iter().map(|c| IndexPart::column(*c)).collect(),
        unique,
        predicate: None,
        method: None,
        nulls_not_distinct: false,
    }
}

/// Normal form modulo column order, which the differ ignores.
pub fn canonical(schema: &Schema) -> Schema {
    let mut schema = schema.clone();
    for table in &mut schema.tables {
        table.columns.sort_by(|a, b| a.name.cmp(&b.name));
        // normalize() orders keys by (name, columns, referred table) only.
        table.foreign_keys.sort_by_key(|fk| format!("{fk:?}"));
    }
    schema.normalized()
}

/// `op` names, as `name table[.object]`, for order assertions.
pub fn summary(plan: &Plan) -> Vec<String> {
    plan.ops().iter().map(describe).collect()
}

pub fn describe(op: &Op) -> String {
    let object = match op {
        Op::CreateEnum { enum_type } | Op::DropEnum { enum_type } => enum_type.name.clone(),
        Op::AlterEnum { name, .. } => name.clone(),
        Op::CreateTable { table } | Op::DropTable { table } => table.name.clone(),
        Op::AddColumn { table, column } | Op::DropColumn { table, column } => {
            format!("{table}.{}", column.name)
        }
        Op::AlterColumn { table, to, .. } => format!("{table}.{}", to.name),
        Op::CreateIndex { table, index } | Op::DropIndex { table, index } => {
            format!("{table}.{}", index.name)
        }
        Op::CreateForeignKey { table, constraint } => {
            format!("{table}->{}", constraint.referred_table)
        }
        Op::DropConstraint {
            table,
            constraint: retort_diff::Constraint::ForeignKey(fk),
        } => format!("{table}->{}", fk.referred_table),
        other => other.table().unwrap_or_default().to_string(),
    };
    format!("{} {object}", op.name())
}

/// Diffs `from` → `to` and checks the plan: it applies to `from` (each op
/// valid in the state it meets, see [`check_op`]) giving `to`, its inverse
/// applies back to `from`, and diffing the result against `to` is empty.
pub fn round_trip(from: &Schema, to: &Schema, dialect: Dialect) -> Plan {
    let options = options(dialect);
    let plan = diff(from, to, &options);
    let ops = plan.ops();
    let applied = strict_apply(from, &ops, dialect)
        .unwrap_or_else(|e| panic!("upgrade does not apply: {e}\nops: {:#?}", summary(&plan)));
    assert_eq!(canonical(&applied), canonical(to), "upgrade result differs");
    assert!(
        diff(&applied, to, &options).is_empty(),
        "diff after upgrade not empty"
    );
    let back = strict_apply(&applied, &invert(&ops), dialect)
        .unwrap_or_else(|e| panic!("downgrade does not apply: {e}\nops: {:#?}", summary(&plan)));
    assert_eq!(
        canonical(&back),
        canonical(from),
        "downgrade result differs"
    );
    assert_eq!(
        apply_all(from, &ops).map(|s| canonical(&s)),
        Ok(canonical(to))
    );
    plan
}

/// Applies `ops` one by one, refusing an op that a database would refuse in
/// the state it meets (which is what the ordering rules are for).
pub fn strict_apply(schema: &Schema, ops: &[Op], dialect: Dialect) -> Result<Schema, String> {
    // A changed enum (drop + create) is the known weakness: its columns
    // keep using the name throughout, so the use check skips it.
    let recreated: Vec<&str> = ops
        .iter()
        .filter_map(|op| match op {
            Op::CreateEnum { enum_type } => Some(enum_type.name.as_str()),
            _ => None,
        })
        .collect();
    let mut state = schema.clone();
    for op in ops {
        check_op(&state, op, dialect, &recreated).map_err(|e| format!("{}: {e}", describe(op)))?;
        op.apply(&mut state).map_err(|e| e.to_string())?;
    }
    state.normalize();
    Ok(state)
}

fn enums_used(ty: &ColumnType) -> Vec<&str> {
    match ty {
        ColumnType::Enum { name } => vec![name.as_str()],
        ColumnType::Array(inner) => enums_used(inner),
        _ => Vec::new(),
    }
}

fn check_column_enums(state: &Schema, column: &Column) -> Result<(), String> {
    for name in enums_used(&column.ty) {
        let Some(enum_type) = state.enum_type(name) else {
            return Err(format!("enum {name} does not exist yet"));
        };
        // A default naming a value the type lacks (yet) is refused.
        if let (ColumnType::Enum { .. }, Some(DefaultValue::String(value))) =
            (&column.ty, &column.default)
            && !enum_type.values.contains(value)
        {
            return Err(format!("enum {name} has no value '{value}' yet"));
        }
    }
    Ok(())
}

fn check_columns(table: &Table, columns: &[String]) -> Result<(), String> {
    for column in columns {
        if table.column(column).is_none() {
            return Err(format!("column {}.{column} does not exist", table.name));
        }
    }
    Ok(())
}

fn check_reference(state: &Schema, owner: &Table, fk: &ForeignKey) -> Result<(), String> {
    check_columns(owner, &fk.columns)?;
    let parent = if fk.referred_table == owner.name {
        Some(owner)
    } else {
        state.table(&fk.referred_table)
    };
    match parent {
        Some(parent) => check_columns(parent, &fk.referred_columns),
        None => Err(format!(
            "referred table {} does not exist",
            fk.referred_table
        )),
    }
}

fn table_of<'a>(state: &'a Schema, name: &str) -> Result<&'a Table, String> {
    state
        .table(name)
        .ok_or_else(|| format!("table {name} does not exist"))
}

fn check_op(state: &Schema, op: &Op, dialect: Dialect, recreated: &[&str]) -> Result<(), String> {
    match op {
        Op::CreateTable { table } => {
            for column in &table.columns {
                check_column_enums(state, column)?;
            }
            if !dialect.forward_references() {
                for fk in &table.foreign_keys {
                    check_reference(state, table, fk)?;
                }
            }
        }
        Op::AddColumn { column, .. } | Op::AlterColumn { to: column, .. } => {
            check_column_enums(state, column)?
        }
        Op::DropTable { table } if !dialect.forward_references() => {
            for other in &state.tables {
                if other.name != table.name
                    && other
                        .foreign_keys
                        .iter()
                        .any(|fk| fk.referred_table == table.name)
                {
                    return Err(format!("{} still references it", other.name));
                }
            }
        }
        Op::DropColumn { table, column } => {
            let t = table_of(state, table)?;
            let c = &column.name;
            let used = t.indexes.iter().any(|i| i.column_names().any(|n| n == c))
                || t.unique_constraints.iter().any(|u| u.columns.contains(c))
                || t.foreign_keys.iter().any(|f| f.columns.contains(c))
                || t.primary_key
                    .as_ref()
                    .is_some_and(|p| p.columns.contains(c));
            let referenced = state.tables.iter().any(|other| {
                other
                    .foreign_keys
                    .iter()
                    .any(|f| f.referred_table == *table && f.referred_columns.contains(c))
            });
            if used || referenced {
                return Err(format!("{table}.{c} is still in use"));
            }
        }
        Op::DropEnum { enum_type } => {
            let used = state.tables.iter().any(|t| {
                t.columns
                    .iter()
                    .any(|c| enums_used(&c.ty).contains(&enum_type.name.as_str()))
            });
            if used && !recreated.contains(&enum_type.name.as_str()) {
                return Err(format!("enum {} is still in use", enum_type.name));
            }
        }
        Op::AlterEnum { name, .. } if state.enum_type(name).is_none() => {
            return Err(format!("enum {name} does not exist"));
        }
        Op::CreateIndex { table, index } => {
            let t = table_of(state, table)?;
            let columns: Vec<String> = index.column_names().map(String::from).collect();
            check_columns(t, &columns)?;
            if state
                .tables
                .iter()
                .any(|t| t.indexes.iter().any(|i| i.name == index.name))
            {
                return Err(format!("index {} already exists", index.name));
            }
        }
        Op::CreatePrimaryKey { table, constraint } => {
            let t = table_of(state, table)?;
            if t.primary_key.is_some() {
                return Err(format!("{table} already has a primary key"));
            }
            check_columns(t, &constraint.columns)?
        }
        Op::CreateUniqueConstraint { table, constraint } => {
            check_columns(table_of(state, table)?, &constraint.columns)?
        }
        Op::CreateForeignKey { table, constraint } => {
            check_reference(state, table_of(state, table)?, constraint)?
        }
        _ => {}
    }
    Ok(())
}
