//! PostgreSQL: reads `pg_catalog` in a constant number of bulk queries.
//!
//! Seven queries, whatever the number of tables: the default schema, then
//! the tables, columns, owned sequences, constraints, indexes and enum types
//! of every listed schema at once. `information_schema` is not used (its
//! views are slow on large catalogs), and neither are the per-row
//! deparsing functions `format_type`, `pg_get_constraintdef` and
//! `pg_get_indexdef` for whole objects: the raw catalog columns (typname +
//! atttypmod, conkey, indkey, indoption …) are decoded in Rust, which
//! measured about five times faster at 2,000 tables. `pg_get_expr` is only
//! called where the stored form is a node tree (defaults, CHECK
//! expressions, index expressions and predicates). The catalog SQL lives in
//! the `.sql` files beside this module; [`build`] turns the rows into IR
//! without touching the database, one row at a time as they arrive.

mod build;
mod expr;

use crate::reader::CatalogReader;
use crate::{IntrospectError, IntrospectOptions};
use build::SchemaBuilder;
use retort_schema::Schema;
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::{AssertSqlSafe, PgConnection, Postgres, Row, SqlSafeStr};
use std::collections::HashMap;

const CURRENT_SCHEMA_SQL: &str = include_str!("current_schema.sql");
const TABLES_SQL: &str = include_str!("tables.sql");
const COLUMNS_SQL: &str = include_str!("columns.sql");
const SEQUENCES_SQL: &str = include_str!("sequences.sql");
const CONSTRAINTS_SQL: &str = include_str!("constraints.sql");
const INDEXES_SQL: &str = include_str!("indexes.sql");
const ENUMS_SQL: &str = include_str!("enums.sql");

/// Reads the schema of the database `conn` is connected to: the tables,
/// enum types, constraints and indexes of [`IntrospectOptions::schemas`]
/// (the connection's `current_schema()` when empty), leaving out system
/// schemas, objects owned by extensions and
/// [`IntrospectOptions::version_table`] in the default schema. Tables of the
/// default schema (the first listed, or `current_schema()`) have
/// `schema: None`. The result is normalised.
///
/// `DEFERRABLE [INITIALLY DEFERRED]` is read for foreign keys, `NULLS NOT
/// DISTINCT` (PostgreSQL 15+) for unique constraints and indexes, and each
/// index key's operator class where it is not its type's default.
///
/// Not read: views, triggers, generated columns (skipped: the IR has no
/// generation expression), partitions (their parent is refused).
///
/// What the IR has no place for is refused with
/// [`IntrospectError::Unsupported`] naming the object, its table and the
/// feature, as the model loader refuses the same clauses: a partitioned,
/// unlogged or inheriting table; an index with `INCLUDE` columns, `NULLS
/// FIRST/LAST` other than its direction's default, storage parameters or
/// operator class parameters; a `DEFERRABLE` primary key or unique
/// constraint, a `NO INHERIT` check, an exclusion constraint; a `GENERATED
/// ALWAYS` identity column or one with sequence options other than the
/// defaults. Objects [`IntrospectOptions::excluded`] leaves out are not
/// refused (an excluded table is not read at all).
pub async fn introspect_postgres(
    conn: &mut PgConnection,
    options: &IntrospectOptions,
) -> Result<Schema, IntrospectError> {
    read_catalog(&mut CatalogReader::new(conn), options).await
}

/// The parameters every bulk query takes: `$1` the schemas, `$2` the version
/// table, `$3` the default schema (queries use the ones they need).
struct Filter {
    schemas: Vec<String>,
    version_table: String,
    default_schema: String,
}

impl Filter {
    fn query(&self, sql: impl SqlSafeStr) -> Query<'static, Postgres, PgArguments> {
        sqlx::query(sql)
            .bind(self.schemas.clone())
            .bind(self.version_table.clone())
            .bind(self.default_schema.clone())
    }
}

/// A table (`pg_class` relkind `r` or `p`) and its comment.
#[derive(Debug, Clone)]
pub(crate) struct TableRow {
    pub oid: i64,
    pub schema: String,
    pub name: String,
    pub comment: Option<String>,
}

/// A column (`pg_attribute`) with its raw type and default expression.
#[derive(Debug, Clone)]
pub(crate) struct ColumnRow {
    pub table_oid: i64,
    pub attnum: i16,
    pub name: String,
    pub ty: TypeRef,
    /// The element type where `ty` is an array type.
    pub element: Option<TypeRef>,
    /// `atttypmod`: -1 for none, else type-specific (length + 4 for
    /// varchar/bpchar, ((precision << 16) | scale) + 4 for numeric).
    pub typmod: i32,
    /// Declared array dimensions (`int[][]` is 2); 0 for non-arrays.
    pub dimensions: i32,
    pub not_null: bool,
    /// `pg_get_expr` of the default, where there is one.
    pub default: Option<String>,
    /// `attidentity`: `a` ALWAYS, `d` BY DEFAULT, empty otherwise.
    pub identity: String,
    /// `attgenerated`: `s` stored generated column, empty otherwise.
    pub generated: String,
    pub comment: Option<String>,
    /// `pg_collation.collname` where the column's collation is not its
    /// type's default.
    pub collation: Option<String>,
    /// An identity column's sequence options other than the defaults, as
    /// DDL spells them (`START WITH 5`).
    pub identity_options: Vec<String>,
}

/// A `pg_type` entry as a column refers to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TypeRef {
    pub name: String,
    pub schema: String,
    /// `typtype`: b base, d domain, e enum, c composite, r range, m multirange.
    pub kind: String,
}

/// A sequence owned by a column (`serial`, or `OWNED BY`).
#[derive(Debug, Clone)]
pub(crate) struct SequenceRow {
    pub table_oid: i64,
    pub attnum: i16,
    pub sequence: String,
}

/// A `pg_constraint` row.
#[derive(Debug, Clone)]
pub(crate) struct ConstraintRow {
    pub table_oid: i64,
    pub name: String,
    /// `p`, `u`, `f`, `c` or `x`.
    pub kind: String,
    /// `conkey`: the constrained columns' attribute numbers (for a check,
    /// the columns its expression uses).
    pub columns: Vec<i16>,
    pub referred_schema: Option<String>,
    pub referred_table: Option<String>,
    pub referred_columns: Vec<String>,
    /// `confupdtype` / `confdeltype`: a, r, c, n or d (blank for non-FKs).
    pub on_update: String,
    pub on_delete: String,
    /// `conindid`: the index backing a p/u/x constraint (0 for none).
    pub index_oid: i64,
    /// `pg_get_expr(conbin)` of a check constraint.
    pub check: Option<String>,
    /// `condeferrable`, `condeferred`.
    pub deferrable: bool,
    pub initially_deferred: bool,
    /// A unique constraint's `NULLS NOT DISTINCT`.
    pub nulls_not_distinct: bool,
    /// `connoinherit`: a check declared `NO INHERIT`.
    pub no_inherit: bool,
}

/// A `pg_index` row.
#[derive(Debug, Clone)]
pub(crate) struct IndexRow {
    pub table_oid: i64,
    pub oid: i64,
    pub name: String,
    pub unique: bool,
    pub primary: bool,
    /// `indnkeyatts`: the first this many `keys` are key columns.
    pub key_count: i16,
    /// `indkey`: attribute numbers, 0 for an expression.
    pub keys: Vec<i16>,
    /// `indoption`, per key column: bit 0 DESC, bit 1 NULLS FIRST.
    pub options: Vec<i16>,
    /// `pg_am.amname`.
    pub method: String,
    /// The text of each expression key column, in key order.
    pub expressions: Vec<String>,
    pub predicate: Option<String>,
    /// `indnullsnotdistinct` (PostgreSQL 15+; false before).
    pub nulls_not_distinct: bool,
    /// `indclass`: each key column's operator class (`pg_opclass` oid).
    pub opclasses: Vec<i64>,
    /// Storage parameters (`WITH (fillfactor = …)`).
    pub has_storage_parameters: bool,
    /// Operator class parameters (`gist_trgm_ops(siglen = …)`).
    pub has_opclass_parameters: bool,
}

/// One label of an enum type.
#[derive(Debug, Clone)]
pub(crate) struct EnumRow {
    pub schema: String,
    pub name: String,
    pub label: String,
}

/// Reads the catalog into a [`SchemaBuilder`], one query at a time and one
/// row at a time. The order matters to the builder: owned sequences before
/// columns (serial detection), columns before constraints and indexes
/// (attribute numbers to names), constraints before indexes (the indexes
/// backing constraints are not listed again).
async fn read_catalog(
    reader: &mut CatalogReader<'_, Postgres>,
    options: &IntrospectOptions,
) -> Result<Schema, IntrospectError> {
    const CURRENT_SCHEMA: &str = "default schema (current_schema())";
    const TABLES: &str = "tables (pg_class)";
    const COLUMNS: &str = "table columns (pg_attribute, pg_type, pg_attrdef)";
    const SEQUENCES: &str = "owned sequences (pg_depend)";
    const CONSTRAINTS: &str = "constraints (pg_constraint)";
    const INDEXES: &str = "indexes (pg_index)";
    const ENUMS: &str = "enum types (pg_enum)";

    let mut current: Option<String> = None;
    let mut server_version = 0;
    let mut operator_classes = HashMap::new();
    reader
        .for_each(
            CURRENT_SCHEMA,
            sqlx::query(CURRENT_SCHEMA_SQL),
            |row| {
                Ok((
                    row.try_get::<Option<String>, _>("current_schema")?,
                    row.try_get::<i32, _>("server_version")?,
                    row.try_get::<Vec<i64>, _>("opclass_oids")?,
                    row.try_get::<Vec<String>, _>("opclass_names")?,
                ))
            },
            |(schema, version, oids, names)| {
                current = schema;
                server_version = version;
                operator_classes = oids.into_iter().zip(names).collect();
                Ok(())
            },
        )
        .await?;
    let schemas = if options.schemas.is_empty() {
        let Some(current) = current else {
            return Err(IntrospectError::Catalog {
                table: String::new(),
                message: "the connection has no current schema (no schema of its search_path \
                          exists); set search_path or list the schemas to read"
                    .to_string(),
            });
        };
        vec![current]
    } else {
        options.schemas.clone()
    };
    let filter = Filter {
        default_schema: schemas[0].clone(),
        schemas,
        version_table: options.version_table.clone(),
    };

    let mut builder = SchemaBuilder::new(&filter.default_schema, operator_classes)
        .with_exclusions(options.excluded.clone());
    reader
        .for_each(
            TABLES,
            filter.query(TABLES_SQL),
            table_row,
            |(row, unsupported)| {
                if let Some(clause) = unsupported {
                    if builder.excluded(&row.schema, &row.name, None) {
                        return Ok(());
                    }
                    return Err(IntrospectError::Unsupported {
                        message: format!(
                            "table `{}` is {clause}, which retort cannot carry yet (it would read \
                             as a plain table): {}",
                            row.name,
                            build::WAY_OUT
                        ),
                        table: row.name,
                    });
                }
                builder.table(row);
                Ok(())
            },
        )
        .await?;
    reader
        .for_each(
            SEQUENCES,
            filter.query(SEQUENCES_SQL),
            sequence_row,
            |row| {
                builder.owned_sequence(row);
                Ok(())
            },
        )
        .await?;
    reader
        .for_each(COLUMNS, filter.query(COLUMNS_SQL), column_row, |row| {
            builder.column(&row)
        })
        .await?;
    reader
        .for_each(
            CONSTRAINTS,
            filter.query(for_server(
                CONSTRAINTS_SQL,
                server_version,
                "ci.indnullsnotdistinct",
            )),
            constraint_row,
            |row| builder.constraint(&row),
        )
        .await?;
    reader
        .for_each(
            INDEXES,
            filter.query(for_server(
                INDEXES_SQL,
                server_version,
                "i.indnullsnotdistinct",
            )),
            index_row,
            |row| builder.index(&row),
        )
        .await?;
    reader
        .for_each(ENUMS, filter.query(ENUMS_SQL), enum_row, |row| {
            builder.enum_label(row);
            Ok(())
        })
        .await?;
    Ok(builder.finish())
}

/// `sql` for a server of `server_version` (`server_version_num`): before
/// PostgreSQL 15, `nulls_not_distinct_column` (a `pg_index` column added in
/// 15) reads as `false`.
fn for_server(
    sql: &'static str,
    server_version: i32,
    nulls_not_distinct_column: &str,
) -> AssertSqlSafe<String> {
    const NULLS_NOT_DISTINCT_SINCE: i32 = 150_000;
    if server_version >= NULLS_NOT_DISTINCT_SINCE {
        AssertSqlSafe(sql.to_string())
    } else {
        AssertSqlSafe(sql.replace(nulls_not_distinct_column, "false"))
    }
}

/// The table, and the clause it has that the IR cannot carry, if any.
fn table_row(row: &PgRow) -> Result<(TableRow, Option<&'static str>), sqlx::Error> {
    let kind: String = row.try_get("kind")?;
    let persistence: String = row.try_get("persistence")?;
    let inherits: bool = row.try_get("inherits")?;
    let unsupported = if kind == "p" {
        Some("partitioned (PARTITION BY)")
    } else if persistence == "u" {
        Some("UNLOGGED")
    } else if inherits {
        Some("a child of INHERITS")
    } else {
        None
    };
    let table = TableRow {
        oid: row.try_get("table_oid")?,
        schema: row.try_get("schema_name")?,
        name: row.try_get("table_name")?,
        comment: row.try_get("comment")?,
    };
    Ok((table, unsupported))
}

fn sequence_row(row: &PgRow) -> Result<SequenceRow, sqlx::Error> {
    Ok(SequenceRow {
        table_oid: row.try_get("table_oid")?,
        attnum: row.try_get("attnum")?,
        sequence: row.try_get("sequence_name")?,
    })
}

fn column_row(row: &PgRow) -> Result<ColumnRow, sqlx::Error> {
    let element_name: Option<String> = row.try_get("element_name")?;
    let element = match element_name {
        Some(name) => Some(TypeRef {
            name,
            schema: row.try_get("element_schema")?,
            kind: row.try_get("element_kind")?,
        }),
        None => None,
    };
    Ok(ColumnRow {
        table_oid: row.try_get("table_oid")?,
        attnum: row.try_get("attnum")?,
        name: row.try_get("column_name")?,
        ty: TypeRef {
            name: row.try_get("type_name")?,
            schema: row.try_get("type_schema")?,
            kind: row.try_get("type_kind")?,
        },
        element,
        typmod: row.try_get("typmod")?,
        dimensions: row.try_get("dimensions")?,
        not_null: row.try_get("not_null")?,
        default: row.try_get("default_expr")?,
        identity: row.try_get("identity")?,
        generated: row.try_get("generated")?,
        comment: row.try_get("comment")?,
        collation: row.try_get("collation")?,
        identity_options: row.try_get("identity_options")?,
    })
}

fn constraint_row(row: &PgRow) -> Result<ConstraintRow, sqlx::Error> {
    Ok(ConstraintRow {
        table_oid: row.try_get("table_oid")?,
        name: row.try_get("constraint_name")?,
        kind: row.try_get("kind")?,
        columns: row
            .try_get::<Option<Vec<i16>>, _>("columns")?
            .unwrap_or_default(),
        referred_schema: row.try_get("referred_schema")?,
        referred_table: row.try_get("referred_table")?,
        referred_columns: row.try_get("referred_columns")?,
        on_update: row.try_get("on_update")?,
        on_delete: row.try_get("on_delete")?,
        index_oid: row.try_get("index_oid")?,
        check: row.try_get("check_expr")?,
        deferrable: row.try_get("deferrable")?,
        initially_deferred: row.try_get("initially_deferred")?,
        nulls_not_distinct: row.try_get("nulls_not_distinct")?,
        no_inherit: row.try_get("no_inherit")?,
    })
}

fn index_row(row: &PgRow) -> Result<IndexRow, sqlx::Error> {
    Ok(IndexRow {
        table_oid: row.try_get("table_oid")?,
        oid: row.try_get("index_oid")?,
        name: row.try_get("index_name")?,
        unique: row.try_get("is_unique")?,
        primary: row.try_get("is_primary")?,
        key_count: row.try_get("key_count")?,
        keys: row.try_get("keys")?,
        options: row.try_get("options")?,
        method: row.try_get("method")?,
        expressions: row.try_get("expressions")?,
        predicate: row.try_get("predicate")?,
        nulls_not_distinct: row.try_get("nulls_not_distinct")?,
        opclasses: row.try_get("opclasses")?,
        has_storage_parameters: row.try_get("has_storage_parameters")?,
        has_opclass_parameters: row.try_get("has_opclass_parameters")?,
    })
}

fn enum_row(row: &PgRow) -> Result<EnumRow, sqlx::Error> {
    Ok(EnumRow {
        schema: row.try_get("schema_name")?,
        name: row.try_get("type_name")?,
        label: row.try_get("label")?,
    })
}

#[cfg(test)]
mod tests;
