//! Catalog rows → IR, without a database.
//!
//! Types are decoded from `typname` + `atttypmod` into the spelling the
//! model loader reads (`varchar(255)`, `numeric(10,2)`) and then through the
//! loader's own [`column_type`], so both paths agree by construction. Default
//! and expression text from `pg_get_expr` goes through the loader's
//! canonicalisers after [`super::expr`] has taken out what PostgreSQL's
//! deparser adds (implicit casts, parentheses, `= ANY (ARRAY[…])`).

use super::expr::{postgres_default, postgres_expression};
use super::{ColumnRow, ConstraintRow, EnumRow, IndexRow, SequenceRow, TableRow, TypeRef};
use crate::{Exclusions, IntrospectError};
use retort_models::{column_default, column_type, name_parts, type_name_part, typed_default};
use retort_schema::push_exact;
use retort_schema::{
    CheckConstraint, Column, ColumnType, ConstraintKind, Deferral, Dialect, EnumType, ForeignKey,
    ForeignKeyAction, Index, IndexPart, IndexTarget, PrimaryKey, Schema, Table, UniqueConstraint,
    implied_constraint_name,
};
use std::collections::{HashMap, HashSet};

const DIALECT: Dialect = Dialect::Postgres;

/// How to get past a table retort refuses.
pub(crate) const WAY_OUT: &str = "exclude the table with [autogen] exclude_tables, or manage it \
                                  outside the schemas retort reads";

/// The refusal of `object` (an index, constraint or column, described with
/// its table) for `feature`, with the ways out.
fn unsupported(table: &str, object: &str, feature: &str, way_out: &str) -> IntrospectError {
    IntrospectError::Unsupported {
        table: table.to_string(),
        message: format!(
            "{object} on table `{table}` {feature}, which retort cannot carry yet: {way_out}"
        ),
    }
}

/// The way out for an index or constraint: exclude it or its table, or
/// change it in the database.
fn object_way_out(table: &str, name: &str, change: &str) -> String {
    format!(
        "exclude it with [autogen] exclude_objects (\"{table}.{name}\") or the table with \
         exclude_tables, or {change}"
    )
}

/// Builds a normalised [`Schema`] from catalog rows fed one at a time, so
/// that no query's rows are ever held together. Feed order: tables, owned
/// sequences, columns, constraints, indexes; enum labels at any point.
/// Rows of tables not fed first (other schemas, retort's version table) are
/// ignored.
pub(crate) struct SchemaBuilder {
    /// Tables in this schema have no schema in the IR.
    default_schema: String,
    /// In the order read (by schema and name), found by oid through
    /// `table_positions`: a map of whole drafts cost twice the memory.
    tables: Vec<TableDraft>,
    table_positions: HashMap<i64, usize>,
    /// `(table oid, attnum)` → the sequence that column owns.
    owned_sequences: HashMap<(i64, i16), String>,
    /// Indexes that back a primary key, unique or exclusion constraint,
    /// which the IR lists as constraints only.
    constraint_indexes: HashSet<i64>,
    /// Operator classes that are not their type's default, by oid.
    operator_classes: HashMap<i64, String>,
    enums: Vec<EnumType>,
    /// The columns of the table whose column rows are arriving (they come
    /// ordered by table), moved into the table at an exact capacity once
    /// its last column is in: growing each table's list in place left a
    /// third of it spare.
    pending: PendingColumns,
    /// What the caller leaves out: refused features there are ignored.
    exclusions: Exclusions,
}

#[derive(Default)]
struct PendingColumns {
    table_oid: i64,
    columns: Vec<Column>,
    attnums: Vec<i16>,
}

/// A table being built, with the attribute number of each of its columns
/// (constraints and indexes name columns by number).
struct TableDraft {
    table: Table,
    attnums: Vec<i16>,
}

impl TableDraft {
    fn column_name(&self, attnum: i16) -> Option<&str> {
        let position = self.attnums.iter().position(|a| *a == attnum)?;
        Some(self.table.columns[position].name.as_str())
    }
}

impl SchemaBuilder {
    /// `operator_classes`: the name of every operator class that is not
    /// its type's default, by oid.
    pub(crate) fn new(default_schema: &str, operator_classes: HashMap<i64, String>) -> Self {
        SchemaBuilder {
            default_schema: default_schema.to_string(),
            operator_classes,
            tables: Vec::new(),
            table_positions: HashMap::new(),
            owned_sequences: HashMap::new(),
            constraint_indexes: HashSet::new(),
            enums: Vec::new(),
            pending: PendingColumns::default(),
            exclusions: Exclusions::default(),
        }
    }

    pub(crate) fn with_exclusions(mut self, exclusions: Exclusions) -> Self {
        self.exclusions = exclusions;
        self
    }

    /// Whether the caller leaves out table `table` of `schema` (a catalog
    /// schema name), or its index or constraint `object`.
    pub(crate) fn excluded(&self, schema: &str, table: &str, object: Option<&str>) -> bool {
        self.exclusions
            .excludes(self.ir_schema(schema).as_deref(), table, object)
    }

    /// The same for a table already read, by oid.
    fn excluded_in(&self, table_oid: i64, object: Option<&str>) -> bool {
        self.table_positions
            .get(&table_oid)
            .and_then(|&p| self.tables.get(p))
            .is_some_and(|draft| {
                self.exclusions
                    .excludes(draft.table.schema.as_deref(), &draft.table.name, object)
            })
    }

    fn table_name(&self, table_oid: i64) -> &str {
        self.table_positions
            .get(&table_oid)
            .and_then(|&p| self.tables.get(p))
            .map_or("", |draft| draft.table.name.as_str())
    }

    fn ir_schema(&self, schema: &str) -> Option<String> {
        (schema != self.default_schema).then(|| schema.to_string())
    }

    pub(crate) fn table(&mut self, row: TableRow) {
        let mut table = Table::new(row.name);
        table.schema = self.ir_schema(&row.schema);
        table.comment = row.comment;
        let draft = TableDraft {
            table,
            attnums: Vec::new(),
        };
        self.table_positions.insert(row.oid, self.tables.len());
        self.tables.push(draft);
    }

    fn table_mut(&mut self, oid: i64) -> Option<&mut TableDraft> {
        let position = *self.table_positions.get(&oid)?;
        self.tables.get_mut(position)
    }

    pub(crate) fn owned_sequence(&mut self, row: SequenceRow) {
        self.owned_sequences
            .insert((row.table_oid, row.attnum), row.sequence);
    }

    pub(crate) fn column(&mut self, row: &ColumnRow) -> Result<(), IntrospectError> {
        // The IR has no generation expression, and the loader refuses
        // GENERATED ALWAYS AS (…) STORED: such columns are not managed yet.
        if !self.table_positions.contains_key(&row.table_oid) || !row.generated.is_empty() {
            return Ok(());
        }
        // An excluded table's column is read as before (its constraints
        // name it; the filter drops the whole table).
        if let Some(err) = self.unsupported_column(row)
            && !self.excluded_in(row.table_oid, None)
        {
            return Err(err);
        }
        if row.table_oid != self.pending.table_oid {
            self.flush_columns();
            self.pending.table_oid = row.table_oid;
        }
        let sequence = self
            .owned_sequences
            .get(&(row.table_oid, row.attnum))
            .map(String::as_str);
        self.pending.attnums.push(row.attnum);
        self.pending
            .columns
            .push(column_from_row(row, sequence, &self.default_schema));
        Ok(())
    }

    /// The refusal of an identity column the IR would read as another: it
    /// only knows `autoincrement`, which retort creates as `GENERATED BY
    /// DEFAULT AS IDENTITY` with the default sequence options.
    fn unsupported_column(&self, row: &ColumnRow) -> Option<IntrospectError> {
        let table = self.table_name(row.table_oid);
        let column = format!("column `{}`", row.name);
        if row.identity == "a" {
            return Some(unsupported(
                table,
                &column,
                "is GENERATED ALWAYS AS IDENTITY (retort creates and compares identity \
                 columns as GENERATED BY DEFAULT)",
                &format!(
                    "switch it with `ALTER TABLE {table} ALTER COLUMN {} SET GENERATED BY \
                     DEFAULT`, or exclude the table with [autogen] exclude_tables",
                    row.name
                ),
            ));
        }
        if !row.identity_options.is_empty() {
            return Some(unsupported(
                table,
                &column,
                &format!(
                    "is an identity column with sequence options {} (retort creates identity \
                     columns with the default ones)",
                    row.identity_options.join(", ")
                ),
                "exclude the table with [autogen] exclude_tables, or reset the options with \
                 ALTER TABLE … ALTER COLUMN … SET …",
            ));
        }
        None
    }

    /// Moves the pending columns into their table (nothing once they are
    /// in: every constraint and index row asks).
    fn flush_columns(&mut self) {
        if self.pending.columns.is_empty() {
            return;
        }
        let pending = &mut self.pending;
        let position = self.table_positions.get(&pending.table_oid);
        if let Some(draft) = position.and_then(|&p| self.tables.get_mut(p)) {
            draft.table.columns.append(&mut pending.columns);
            draft.attnums.append(&mut pending.attnums);
        }
    }

    pub(crate) fn constraint(&mut self, row: &ConstraintRow) -> Result<(), IntrospectError> {
        self.flush_columns();
        if matches!(row.kind.as_str(), "p" | "u" | "x") {
            self.constraint_indexes.insert(row.index_oid);
        }
        let referred_schema = row
            .referred_schema
            .as_deref()
            .and_then(|schema| self.ir_schema(schema));
        if let Some(err) = self.unsupported_constraint(row) {
            return if self.excluded_in(row.table_oid, Some(&row.name)) {
                Ok(())
            } else {
                Err(err)
            };
        }
        let Some(draft) = self.table_mut(row.table_oid) else {
            return Ok(());
        };
        add_constraint(draft, row, referred_schema)
    }

    /// The refusal of a constraint the IR would read as another (a kept
    /// table's only: rows of other tables are ignored).
    fn unsupported_constraint(&self, row: &ConstraintRow) -> Option<IntrospectError> {
        if !self.table_positions.contains_key(&row.table_oid) {
            return None;
        }
        let table = self.table_name(row.table_oid);
        let (object, feature, change) = match row.kind.as_str() {
            "p" if row.deferrable => ("primary key", "is DEFERRABLE", "make it NOT DEFERRABLE"),
            "u" if row.deferrable => (
                "unique constraint",
                "is DEFERRABLE",
                "make it NOT DEFERRABLE",
            ),
            "c" if row.no_inherit => ("check constraint", "is NO INHERIT", "drop the clause"),
            "x" => (
                "exclusion constraint",
                "is an exclusion constraint",
                "drop it",
            ),
            _ => return None,
        };
        Some(unsupported(
            table,
            &format!("{object} `{}`", row.name),
            feature,
            &object_way_out(table, &row.name, change),
        ))
    }

    pub(crate) fn index(&mut self, row: &IndexRow) -> Result<(), IntrospectError> {
        self.flush_columns();
        let Some(&position) = self.table_positions.get(&row.table_oid) else {
            return Ok(());
        };
        // Before the constraint indexes are passed over: `PRIMARY KEY (…)
        // INCLUDE (…)` or `UNIQUE … WITH (fillfactor = …)` live on the index.
        if let Some(feature) = unsupported_index_feature(row) {
            if self.excluded_in(row.table_oid, Some(&row.name)) {
                return Ok(());
            }
            let table = &self.tables[position].table.name;
            return Err(unsupported(
                table,
                &format!("index `{}`", row.name),
                feature,
                &object_way_out(table, &row.name, "drop the clause"),
            ));
        }
        if row.primary || self.constraint_indexes.contains(&row.oid) {
            return Ok(());
        }
        let index = index_from_row(row, &self.tables[position], &self.operator_classes)?;
        push_exact(&mut self.tables[position].table.indexes, index);
        Ok(())
    }

    /// One label; labels arrive grouped by type, in their sort order.
    pub(crate) fn enum_label(&mut self, row: EnumRow) {
        let schema = self.ir_schema(&row.schema);
        match self.enums.last_mut() {
            Some(last) if last.name == row.name && last.schema == schema => {
                last.values.push(row.label);
            }
            _ => self.enums.push(EnumType {
                schema,
                name: row.name,
                values: vec![row.label],
            }),
        }
    }

    pub(crate) fn finish(mut self) -> Schema {
        self.flush_columns();
        let schema = Schema {
            tables: self.tables.into_iter().map(|d| d.table).collect(),
            enums: self.enums,
            ..Schema::default()
        };
        schema.normalized()
    }
}

/// A column from its row. A `serial` column (a default of `nextval()` on the
/// sequence the column owns) and an identity column are `autoincrement` with
/// no default, exactly what the loader makes of `serial` and
/// `GENERATED … AS IDENTITY`.
fn column_from_row(row: &ColumnRow, owned_sequence: Option<&str>, default_schema: &str) -> Column {
    let mut column = Column::new(&row.name, decode_column_type(row, default_schema));
    column.nullable = !row.not_null;
    column.comment = row.comment.clone();
    column.collation = row.collation.clone();
    if matches!(row.identity.as_str(), "a" | "d") {
        column.autoincrement = true;
        return column;
    }
    if let Some(text) = &row.default {
        if owned_sequence.is_some_and(|sequence| is_nextval_of(text, sequence)) {
            column.autoincrement = true;
        } else {
            column.default = column_default(&postgres_default(text), DIALECT)
                .map(|default| typed_default(default, &column.ty, DIALECT));
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
    // The argument is a string literal holding a (possibly qualified)
    // name: `'"a.b""c_id_seq"'` is one quoted part, not a schema `"a`.
    let name = argument.replace("''", "'");
    let Some(mut parts) = name_parts(&name, DIALECT) else {
        return false;
    };
    match parts.pop() {
        Some((last, true)) => last == sequence,
        Some((last, false)) => last.to_lowercase() == sequence,
        None => false,
    }
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
        // Spelled as the loader spells a user type: quoted where the name
        // needs it, so `"My.Domain"` reads back as one name.
        let name = type_name_part(&ty.name, DIALECT);
        let name = if ty.schema == default_schema || ty.schema == "public" {
            name
        } else {
            format!("{}.{name}", type_name_part(&ty.schema, DIALECT))
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

/// Adds the constraint `row` describes to its table; `referred_schema` is
/// a foreign key's referred schema as the IR writes it.
fn add_constraint(
    draft: &mut TableDraft,
    row: &ConstraintRow,
    referred_schema: Option<String>,
) -> Result<(), IntrospectError> {
    let columns = row
        .columns
        .iter()
        .map(|attnum| {
            draft
                .column_name(*attnum)
                .map(str::to_string)
                .ok_or_else(|| IntrospectError::Catalog {
                    table: draft.table.name.clone(),
                    message: format!(
                        "constraint `{}` uses column number {attnum}, which is not a plain column",
                        row.name
                    ),
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
    let table = &mut draft.table;
    let catalog_error = |message: String| IntrospectError::Catalog {
        table: table.name.clone(),
        message,
    };
    let implied = kind
        .and_then(|kind| implied_constraint_name(Dialect::Postgres, &table.name, kind, &columns));
    let name = (implied.as_deref() != Some(row.name.as_str())).then(|| row.name.clone());
    match row.kind.as_str() {
        "p" => table.primary_key = Some(PrimaryKey { name, columns }),
        "u" => push_exact(
            &mut table.unique_constraints,
            UniqueConstraint {
                name,
                columns,
                nulls_not_distinct: row.nulls_not_distinct,
            },
        ),
        "f" => {
            let referred_table = row.referred_table.clone().ok_or_else(|| {
                catalog_error(format!("foreign key `{}` has no referred table", row.name))
            })?;
            push_exact(
                &mut table.foreign_keys,
                ForeignKey {
                    implicit_index: None,
                    name,
                    columns,
                    referred_schema,
                    referred_table,
                    referred_columns: row.referred_columns.clone(),
                    on_delete: foreign_key_action(&row.on_delete)
                        .ok_or_else(|| catalog_error(unknown_action(row, &row.on_delete)))?,
                    on_update: foreign_key_action(&row.on_update)
                        .ok_or_else(|| catalog_error(unknown_action(row, &row.on_update)))?,
                    deferrable: match (row.deferrable, row.initially_deferred) {
                        (true, true) => Deferral::InitiallyDeferred,
                        (true, false) => Deferral::InitiallyImmediate,
                        (false, _) => Deferral::NotDeferrable,
                    },
                },
            );
        }
        "c" => {
            let text = row.check.as_deref().ok_or_else(|| {
                catalog_error(format!("check constraint `{}` has no expression", row.name))
            })?;
            push_exact(
                &mut table.checks,
                CheckConstraint {
                    name,
                    expression: postgres_expression(text),
                },
            );
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

/// What an index has that the IR cannot carry, if anything.
fn unsupported_index_feature(row: &IndexRow) -> Option<&'static str> {
    let key_count = usize::try_from(row.key_count).unwrap_or(0);
    // indoption bit 0 is DESC, bit 1 NULLS FIRST: NULLS FIRST is the
    // default of DESC only.
    let unusual_nulls = row
        .options
        .iter()
        .take(key_count)
        .any(|option| (option & 1 != 0) != (option & 2 != 0));
    if row.keys.len() > key_count {
        Some("has INCLUDE columns")
    } else if unusual_nulls {
        Some("has NULLS FIRST/LAST other than its direction's default")
    } else if row.has_storage_parameters {
        Some("has storage parameters (WITH (…))")
    } else if row.has_opclass_parameters {
        Some("has operator class parameters")
    } else {
        None
    }
}

fn index_from_row(
    row: &IndexRow,
    draft: &TableDraft,
    operator_classes: &HashMap<i64, String>,
) -> Result<Index, IntrospectError> {
    let table = draft.table.name.as_str();
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
            let name = draft
                .column_name(*attnum)
                .ok_or_else(|| IntrospectError::Catalog {
                    table: table.to_string(),
                    message: format!(
                        "index `{}` uses column number {attnum}, which is not a plain column",
                        row.name
                    ),
                })?;
            IndexTarget::Column(name.to_string())
        };
        let option = row.options.get(position).copied().unwrap_or(0);
        let opclass = row
            .opclasses
            .get(position)
            .and_then(|oid| operator_classes.get(oid));
        parts.push(IndexPart {
            prefix: None,
            target,
            descending: option & 1 != 0,
            opclass: opclass.cloned(),
        });
    }
    Ok(Index {
        name: row.name.clone(),
        parts,
        unique: row.unique,
        predicate: row.predicate.as_deref().map(postgres_expression),
        method: (row.method != "btree").then(|| row.method.clone()),
        nulls_not_distinct: row.nulls_not_distinct,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
            collation: None,
            identity_options: Vec::new(),
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
        // A dot and a quote inside the quoted name are part of it.
        assert!(is_nextval_of(
            "nextval('\"a.b''c_id_seq\"'::regclass)",
            "a.b'c_id_seq"
        ));
        assert!(!is_nextval_of(
            "nextval('\"a.b_id_seq\"'::regclass)",
            "b_id_seq"
        ));
        let mut identity = column("id", "int8", -1);
        identity.identity = "a".into();
        assert!(column_from_row(&identity, None, "public").autoincrement);
    }

    #[test]
    fn constraint_backed_indexes_are_not_listed_and_names_map() {
        let mut builder = SchemaBuilder::new("public", HashMap::new());
        builder.table(TableRow {
            oid: 1,
            schema: "public".into(),
            name: "t".into(),
            comment: Some("a table".into()),
        });
        builder.column(&column("code", "text", -1)).unwrap();
        builder
            .constraint(&ConstraintRow {
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
                deferrable: false,
                initially_deferred: false,
                nulls_not_distinct: false,
                no_inherit: false,
            })
            .unwrap();
        for index in [
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
                nulls_not_distinct: false,
                opclasses: Vec::new(),
                has_storage_parameters: false,
                has_opclass_parameters: false,
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
                nulls_not_distinct: false,
                opclasses: Vec::new(),
                has_storage_parameters: false,
                has_opclass_parameters: false,
            },
        ] {
            builder.index(&index).unwrap();
        }
        // Columns arrive grouped by table; a table whose rows come in two
        // runs still gets them all, in order.
        builder.table(TableRow {
            oid: 3,
            schema: "public".into(),
            name: "u".into(),
            comment: None,
        });
        for (oid, attnum, name) in [(3, 1, "a"), (3, 2, "b")] {
            builder
                .column(&ColumnRow {
                    table_oid: oid,
                    attnum,
                    ..column(name, "int4", -1)
                })
                .unwrap();
        }
        // A row of a table that was not read (another schema) is ignored.
        builder
            .column(&ColumnRow {
                table_oid: 2,
                ..column("stray", "text", -1)
            })
            .unwrap();
        builder
            .column(&ColumnRow {
                attnum: 2,
                ..column("extra", "int4", -1)
            })
            .unwrap();
        builder
            .column(&ColumnRow {
                table_oid: 3,
                attnum: 3,
                ..column("c", "int4", -1)
            })
            .unwrap();
        let schema = builder.finish();
        assert_eq!(schema.tables.len(), 2);
        let u = schema.table("u").unwrap();
        let names: Vec<&str> = u.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        let t = &schema.tables[0];
        assert_eq!(t.comment.as_deref(), Some("a table"));
        assert_eq!(
            t.unique_constraints,
            vec![UniqueConstraint {
                name: None,
                columns: vec!["code".into()],
                nulls_not_distinct: false,
            }]
        );
        assert_eq!(t.indexes.len(), 1);
        let ix = &t.indexes[0];
        assert_eq!(
            ix.parts,
            vec![
                IndexPart {
                    prefix: None,
                    target: IndexTarget::Expression("lower(code)".into()),
                    descending: false,
                    opclass: None,
                },
                IndexPart {
                    prefix: None,
                    target: IndexTarget::Column("code".into()),
                    descending: true,
                    opclass: None,
                },
            ]
        );
        assert_eq!(ix.predicate.as_deref(), Some("code IS NOT NULL"));
        assert_eq!(ix.method.as_deref(), Some("gin"));
    }
}
