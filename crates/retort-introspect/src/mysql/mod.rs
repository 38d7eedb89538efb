//! MySQL and MariaDB: reads `information_schema` in a constant number of
//! bulk queries.
//!
//! Eight queries at most, whatever the number of tables: the server facts
//! (current database, version, which catalog tables exist), the default
//! collation of each character set, then the tables, columns, index key parts (`STATISTICS`), foreign-key columns
//! (`KEY_COLUMN_USAGE`), their rules (`REFERENTIAL_CONSTRAINTS`, joined in
//! Rust: MariaDB's join of the two is quadratic) and, where the server
//! has them, check constraints of the connection's current database
//! (`DATABASE()`). Every cell is cast to `CHAR` or `SIGNED` in SQL so that
//! MySQL's binary-collated catalog columns decode as text. The catalog SQL
//! lives in the `.sql` files beside this module; [`build`] turns the rows
//! into IR without touching the database, the columns one row at a time
//! as they arrive.

mod build;

use crate::reader::CatalogReader;
use crate::{IntrospectError, IntrospectOptions};
use build::SchemaBuilder;
use retort_schema::Schema;
use sqlx::mysql::{MySqlArguments, MySqlRow};
use sqlx::query::Query;
use sqlx::{AssertSqlSafe, MySql, MySqlConnection, Row};
use std::collections::{BTreeMap, BTreeSet};

const SERVER_SQL: &str = include_str!("server.sql");
const TABLES_SQL: &str = include_str!("tables.sql");
const COLUMNS_SQL: &str = include_str!("columns.sql");
const INDEXES_SQL: &str = include_str!("indexes.sql");
const INDEXES_WITH_EXPRESSIONS_SQL: &str = include_str!("indexes_expressions.sql");
const FOREIGN_KEYS_SQL: &str = include_str!("foreign_keys.sql");
const FOREIGN_KEY_RULES_SQL: &str = include_str!("foreign_key_rules.sql");
const CHECKS_MARIADB_SQL: &str = include_str!("checks_mariadb.sql");
const CHECKS_MYSQL_SQL: &str = include_str!("checks_mysql.sql");
const DEFAULT_COLLATIONS_SQL: &str = include_str!("default_collations.sql");

/// Reads the schema of the connection's current database (`DATABASE()`):
/// its base tables with columns, primary keys, unique constraints, indexes,
/// foreign keys, checks and comments, leaving out
/// [`IntrospectOptions::version_table`]. Tables have `schema: None`; a
/// foreign key to another database names it in `referred_schema`. The
/// result is normalised, with MySQL's keys in the form
/// [`retort_models::canonical_mysql_table`] gives the models.
///
/// Constraint names are the real ones (`todos_ibfk_1`, `CONSTRAINT_1`):
/// MySQL's generated names cannot be predicted from the definition, and the
/// differ matches an unnamed model constraint to a named one by definition.
///
/// Not read: views, triggers, generated columns (skipped: the IR has no
/// generation expression), `ON UPDATE CURRENT_TIMESTAMP` (the IR has no
/// place for it), table character sets and collations (only used to tell a
/// column's own collation from the table's). On MariaDB a `LONGTEXT`
/// column with its column-level `json_valid(col)` check reads as `JSON`, as
/// it was declared.
///
/// Refused with [`IntrospectError::Unsupported`], as the model loader
/// refuses them: a table on another engine than InnoDB or with table
/// options (`CREATE_OPTIONS`: row format, partitioning …), an index with a
/// `COMMENT`, an `INVISIBLE` (MySQL) or `IGNORED` (MariaDB) index; not where
/// [`IntrospectOptions::excluded`] leaves the object out.
pub async fn introspect_mysql(
    conn: &mut MySqlConnection,
    options: &IntrospectOptions,
) -> Result<Schema, IntrospectError> {
    let mut schema = read_catalog(&mut CatalogReader::new(conn), options).await?;
    // The runner's record of partly applied revisions (MySQL commits each
    // DDL statement, so it keeps one) is retort's, not the project's.
    schema.tables.retain(|t| {
        !options
            .bookkeeping_tables
            .iter()
            .any(|name| t.name.eq_ignore_ascii_case(name))
    });
    Ok(schema)
}

/// How the server writes `COLUMN_DEFAULT`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum ServerKind {
    /// MariaDB 10.2.7 and later: the default's expression text, string
    /// literals quoted (`'x'`), `NULL` for a nullable column's implicit
    /// default, functions as calls (`current_timestamp()`).
    #[default]
    MariaDb,
    /// MySQL (and older MariaDB): literals bare and unquoted (`x`);
    /// `EXTRA` says `DEFAULT_GENERATED` where the default is an expression.
    MySql,
}

impl ServerKind {
    /// The kind of server `VERSION()` describes (`10.11.6-MariaDB-…`,
    /// `8.0.36`).
    pub(crate) fn from_version(version: &str) -> ServerKind {
        if !version.to_ascii_lowercase().contains("mariadb") {
            return ServerKind::MySql;
        }
        let numbers: Vec<u32> = version
            .split(['.', '-'])
            .take(3)
            .map(|part| part.parse().unwrap_or(0))
            .collect();
        if numbers.as_slice() >= [10, 2, 7].as_slice() {
            ServerKind::MariaDb
        } else {
            ServerKind::MySql
        }
    }
}

/// A base table (`information_schema.TABLES`).
#[derive(Debug, Clone)]
pub(crate) struct TableRow {
    pub name: String,
    /// `TABLE_COMMENT`; empty for none.
    pub comment: String,
    /// `TABLE_COLLATION`, the table's default collation.
    pub collation: Option<String>,
    /// `ENGINE` (`InnoDB`) and `CREATE_OPTIONS` (empty for none).
    pub engine: Option<String>,
    pub create_options: String,
}

/// A column (`information_schema.COLUMNS`).
#[derive(Debug, Clone)]
pub(crate) struct ColumnRow {
    pub table: String,
    pub name: String,
    /// `COLUMN_TYPE`: the full type text, `int(11) unsigned`, `enum('a')`.
    pub column_type: String,
    pub nullable: bool,
    /// `COLUMN_DEFAULT`, SQL NULL for none (see [`ServerKind`]).
    pub default: Option<String>,
    /// `EXTRA`: `auto_increment`, `on update current_timestamp()`,
    /// `VIRTUAL GENERATED`, `DEFAULT_GENERATED` …
    pub extra: String,
    /// `COLUMN_COMMENT`; empty for none.
    pub comment: String,
    /// `GENERATION_EXPRESSION` of a generated column.
    pub generation_expression: Option<String>,
    /// `CHARACTER_SET_NAME` and `COLLATION_NAME`; `None` for a type
    /// without them.
    pub charset: Option<String>,
    pub collation: Option<String>,
}

/// One key part of an index (`information_schema.STATISTICS`).
#[derive(Debug, Clone)]
pub(crate) struct IndexRow {
    pub table: String,
    /// `PRIMARY` for the primary key.
    pub index: String,
    pub unique: bool,
    /// `SEQ_IN_INDEX`, from 1.
    pub position: i64,
    /// The column, or `None` for a functional key part (MySQL 8.0.13+).
    pub column: Option<String>,
    /// `EXPRESSION` of a functional key part.
    pub expression: Option<String>,
    /// `SUB_PART`: the indexed prefix length of a string column.
    pub prefix: Option<i64>,
    /// `COLLATION`: `A`, `D`, or `None` (FULLTEXT).
    pub collation: Option<String>,
    /// `INDEX_TYPE`: `BTREE`, `HASH`, `FULLTEXT`, `SPATIAL`.
    pub index_type: String,
    /// `INDEX_COMMENT`; empty for none.
    pub comment: String,
    /// False for a MySQL `INVISIBLE` or MariaDB `IGNORED` index.
    pub visible: bool,
}

/// One column of a foreign key (`KEY_COLUMN_USAGE` + `REFERENTIAL_CONSTRAINTS`).
#[derive(Debug, Clone)]
pub(crate) struct ForeignKeyRow {
    pub table: String,
    pub name: String,
    pub position: i64,
    pub column: String,
    pub referred_schema: String,
    pub referred_table: String,
    pub referred_column: String,
    /// `UPDATE_RULE` / `DELETE_RULE`: `CASCADE`, `SET NULL`, `RESTRICT` …
    pub on_update: String,
    pub on_delete: String,
}

/// A check constraint (`CHECK_CONSTRAINTS`).
#[derive(Debug, Clone)]
pub(crate) struct CheckRow {
    pub table: String,
    pub name: String,
    /// `CHECK_CLAUSE`, e.g. `` `price` > 0 ``.
    pub clause: String,
    /// MariaDB's `LEVEL`: `Column` for a check written on a column (named
    /// after it), `Table` otherwise (and always on MySQL).
    pub level: String,
}

/// `sql` (an index query) reading each index's visibility from the column
/// this server has, if any.
fn with_visibility(sql: &str, has_is_visible: bool, has_ignored: bool) -> String {
    const PLACEHOLDER: &str = "CAST('YES' AS CHAR) AS is_visible";
    if has_is_visible {
        sql.replace(PLACEHOLDER, "CAST(IS_VISIBLE AS CHAR) AS is_visible")
    } else if has_ignored {
        sql.replace(
            PLACEHOLDER,
            "CAST(IF(IGNORED = 'YES', 'NO', 'YES') AS CHAR) AS is_visible",
        )
    } else {
        sql.to_string()
    }
}

fn filtered_sql(
    sql: AssertSqlSafe<String>,
    version_table: &str,
) -> Query<'static, MySql, MySqlArguments> {
    sqlx::query(sql).bind(version_table.to_string())
}

/// A catalog query binding the version table to its one `?`.
fn filtered(sql: &'static str, version_table: &str) -> Query<'static, MySql, MySqlArguments> {
    sqlx::query(sql).bind(version_table.to_string())
}

/// Reads the catalog into a [`SchemaBuilder`]: checks before columns (a
/// MariaDB JSON column is `LONGTEXT` plus a check), columns streamed, then
/// the index and foreign-key rows.
async fn read_catalog(
    reader: &mut CatalogReader<'_, MySql>,
    options: &IntrospectOptions,
) -> Result<Schema, IntrospectError> {
    const SERVER: &str = "current database and server version";
    const TABLES: &str = "tables (information_schema.TABLES)";
    const COLUMNS: &str = "table columns (information_schema.COLUMNS)";
    const INDEXES: &str = "indexes (information_schema.STATISTICS)";
    const FOREIGN_KEYS: &str = "foreign keys (information_schema.KEY_COLUMN_USAGE)";
    const FOREIGN_KEY_RULES: &str =
        "foreign key rules (information_schema.REFERENTIAL_CONSTRAINTS)";
    const CHECKS: &str = "check constraints (information_schema.CHECK_CONSTRAINTS)";

    let version_table = options.version_table.as_str();

    let mut server_row = None;
    reader
        .for_each(
            SERVER,
            sqlx::query(SERVER_SQL),
            |row| {
                Ok((
                    row.try_get::<Option<String>, _>("database_name")?,
                    row.try_get::<String, _>("version")?,
                    row.try_get::<i64, _>("has_checks")? > 0,
                    row.try_get::<i64, _>("has_index_expressions")? > 0,
                    (
                        row.try_get::<i64, _>("has_is_visible")? > 0,
                        row.try_get::<i64, _>("has_ignored")? > 0,
                    ),
                    row.try_get::<i64, _>("lower_case_table_names")? != 0,
                ))
            },
            |facts| {
                server_row.get_or_insert(facts);
                Ok(())
            },
        )
        .await?;
    let Some((
        database,
        version,
        has_checks,
        has_index_expressions,
        (has_is_visible, has_ignored),
        table_names_ignore_case,
    )) = server_row
    else {
        return Err(IntrospectError::Catalog {
            table: String::new(),
            message: "the server returned no row for DATABASE() and VERSION()".to_string(),
        });
    };
    let Some(database) = database else {
        return Err(IntrospectError::Catalog {
            table: String::new(),
            message: "the connection has no current database (DATABASE() is NULL); \
                      name the database in the connection URL"
                .to_string(),
        });
    };
    let server = ServerKind::from_version(&version);
    let is_mariadb = version.to_ascii_lowercase().contains("mariadb");

    let mut tables = Vec::new();
    // Refused tables the filters leave out: not read at all.
    let mut skipped = BTreeSet::new();
    reader
        .for_each(
            TABLES,
            filtered(TABLES_SQL, version_table),
            table_row,
            |row| {
                if let Some(feature) = unsupported_table_feature(&row) {
                    if options.excluded.excludes(None, &row.name, None) {
                        skipped.insert(row.name);
                        return Ok(());
                    }
                    return Err(IntrospectError::Unsupported {
                        message: format!(
                            "table `{}` has {feature}, which retort cannot carry yet (the models \
                             declare InnoDB tables without options): exclude the table with \
                             [autogen] exclude_tables, or change it with ALTER TABLE",
                            row.name
                        ),
                        table: row.name,
                    });
                }
                tables.push(row);
                Ok(())
            },
        )
        .await?;

    let mut checks = Vec::new();
    if has_checks {
        let sql = if is_mariadb {
            CHECKS_MARIADB_SQL
        } else {
            CHECKS_MYSQL_SQL
        };
        reader
            .for_each(CHECKS, filtered(sql, version_table), check_row, |row| {
                checks.push(row);
                Ok(())
            })
            .await?;
    }

    const DEFAULT_COLLATIONS: &str = "default collations (information_schema.COLLATIONS)";
    let mut default_collations = BTreeMap::new();
    reader
        .for_each(
            DEFAULT_COLLATIONS,
            sqlx::query(DEFAULT_COLLATIONS_SQL),
            |row| {
                Ok((
                    row.try_get::<String, _>("character_set_name")?,
                    row.try_get::<String, _>("collation_name")?,
                ))
            },
            |(charset, collation)| {
                default_collations.insert(charset, collation);
                Ok(())
            },
        )
        .await?;

    let mut builder = SchemaBuilder::new(server, tables, checks, default_collations);
    reader
        .for_each(
            COLUMNS,
            filtered(COLUMNS_SQL, version_table),
            column_row,
            |row| {
                builder.column(&row);
                Ok(())
            },
        )
        .await?;

    let indexes_sql = if has_index_expressions {
        INDEXES_WITH_EXPRESSIONS_SQL
    } else {
        INDEXES_SQL
    };
    let mut indexes = Vec::new();
    reader
        .for_each(
            INDEXES,
            filtered_sql(
                AssertSqlSafe(with_visibility(indexes_sql, has_is_visible, has_ignored)),
                version_table,
            ),
            index_row,
            |row| {
                if skipped.contains(&row.table) {
                    return Ok(());
                }
                let feature = if !row.comment.is_empty() {
                    Some(("has a COMMENT", "drop the comment"))
                } else if !row.visible {
                    Some(("is invisible (ignored)", "make it visible"))
                } else {
                    None
                };
                if let Some((feature, change)) = feature
                    && !options
                        .excluded
                        .excludes(None, &row.table, Some(&row.index))
                {
                    return Err(IntrospectError::Unsupported {
                        message: format!(
                            "index `{}` on table `{}` {feature}, which retort cannot carry \
                             yet: exclude it with [autogen] exclude_objects (\"{}.{}\") or the \
                             table with exclude_tables, or {change}",
                            row.index, row.table, row.table, row.index
                        ),
                        table: row.table,
                    });
                }
                indexes.push(row);
                Ok(())
            },
        )
        .await?;

    // (table, constraint) → (UPDATE_RULE, DELETE_RULE).
    let mut rules: BTreeMap<(String, String), (String, String)> = BTreeMap::new();
    reader
        .for_each(
            FOREIGN_KEY_RULES,
            filtered(FOREIGN_KEY_RULES_SQL, version_table),
            |row| {
                Ok((
                    (row.try_get("table_name")?, row.try_get("constraint_name")?),
                    (row.try_get("update_rule")?, row.try_get("delete_rule")?),
                ))
            },
            |(key, rule)| {
                rules.insert(key, rule);
                Ok(())
            },
        )
        .await?;
    let mut foreign_keys = Vec::new();
    reader
        .for_each(
            FOREIGN_KEYS,
            filtered(FOREIGN_KEYS_SQL, version_table),
            foreign_key_column,
            |(table, name, position, column, referred)| {
                // A key without rules is one dropped between the two reads
                // (the join this replaces would not have returned it either).
                let Some((on_update, on_delete)) = rules.get(&(table.clone(), name.clone())) else {
                    return Ok(());
                };
                let (referred_schema, referred_table, referred_column) = referred;
                foreign_keys.push(ForeignKeyRow {
                    on_update: on_update.clone(),
                    on_delete: on_delete.clone(),
                    table,
                    name,
                    position,
                    column,
                    referred_schema,
                    referred_table,
                    referred_column,
                });
                Ok(())
            },
        )
        .await?;

    let mut schema = builder.finish(&database, &indexes, &foreign_keys)?;
    schema.table_names_ignore_case = table_names_ignore_case;
    Ok(schema)
}

/// What a table has that the models cannot declare, named as DDL spells it.
fn unsupported_table_feature(row: &TableRow) -> Option<String> {
    match &row.engine {
        Some(engine) if !engine.eq_ignore_ascii_case("innodb") => Some(format!("ENGINE={engine}")),
        _ if !row.create_options.trim().is_empty() => {
            Some(format!("table options `{}`", row.create_options.trim()))
        }
        _ => None,
    }
}

fn table_row(row: &MySqlRow) -> Result<TableRow, sqlx::Error> {
    Ok(TableRow {
        name: row.try_get("table_name")?,
        comment: row
            .try_get::<Option<String>, _>("table_comment")?
            .unwrap_or_default(),
        collation: row.try_get("table_collation")?,
        engine: row.try_get("engine")?,
        create_options: row
            .try_get::<Option<String>, _>("create_options")?
            .unwrap_or_default(),
    })
}

fn check_row(row: &MySqlRow) -> Result<CheckRow, sqlx::Error> {
    Ok(CheckRow {
        table: row.try_get("table_name")?,
        name: row.try_get("constraint_name")?,
        clause: row.try_get("check_clause")?,
        level: row.try_get("level")?,
    })
}

fn column_row(row: &MySqlRow) -> Result<ColumnRow, sqlx::Error> {
    Ok(ColumnRow {
        table: row.try_get("table_name")?,
        name: row.try_get("column_name")?,
        column_type: row.try_get("column_type")?,
        nullable: row.try_get::<String, _>("is_nullable")? == "YES",
        default: row.try_get("column_default")?,
        extra: row
            .try_get::<Option<String>, _>("extra")?
            .unwrap_or_default(),
        comment: row
            .try_get::<Option<String>, _>("column_comment")?
            .unwrap_or_default(),
        generation_expression: row.try_get("generation_expression")?,
        charset: row.try_get("character_set_name")?,
        collation: row.try_get("collation_name")?,
    })
}

fn index_row(row: &MySqlRow) -> Result<IndexRow, sqlx::Error> {
    Ok(IndexRow {
        table: row.try_get("table_name")?,
        index: row.try_get("index_name")?,
        unique: row.try_get::<i64, _>("non_unique")? == 0,
        position: row.try_get("seq_in_index")?,
        column: row.try_get("column_name")?,
        expression: row.try_get("expression")?,
        prefix: row.try_get("sub_part")?,
        collation: row.try_get("collation")?,
        index_type: row.try_get("index_type")?,
        comment: row
            .try_get::<Option<String>, _>("index_comment")?
            .unwrap_or_default(),
        visible: row.try_get::<String, _>("is_visible")? != "NO",
    })
}

/// One column of a foreign key: table, constraint, position, column and
/// the referred (schema, table, column); its rules come from another query.
type ForeignKeyColumn = (String, String, i64, String, (String, String, String));

fn foreign_key_column(row: &MySqlRow) -> Result<ForeignKeyColumn, sqlx::Error> {
    Ok((
        row.try_get("table_name")?,
        row.try_get("constraint_name")?,
        row.try_get("position")?,
        row.try_get("column_name")?,
        (
            row.try_get("referred_schema")?,
            row.try_get("referred_table")?,
            row.try_get("referred_column")?,
        ),
    ))
}

#[cfg(test)]
mod tests;
