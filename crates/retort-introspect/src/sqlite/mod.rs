//! SQLite: reads `sqlite_schema` and the table-valued pragma functions.
//!
//! Four queries, whatever the number of tables: the object list, then the
//! columns, indexes and foreign keys of every table at once, each a join of
//! `sqlite_schema` with a pragma function
//! (<https://www.sqlite.org/pragma.html#pragfunc>). The catalog SQL lives in
//! the `.sql` files beside this module; [`build`] turns the rows into IR
//! without touching the database, the columns one row at a time as they
//! arrive.

mod build;

use crate::reader::CatalogReader;
use crate::{IntrospectError, IntrospectOptions};
use build::SchemaBuilder;
use retort_schema::Schema;
use sqlx::query::Query;
use sqlx::sqlite::SqliteArguments;
use sqlx::{Row, Sqlite, SqliteConnection};

const OBJECTS_SQL: &str = include_str!("objects.sql");
const COLUMNS_SQL: &str = include_str!("columns.sql");
const INDEXES_SQL: &str = include_str!("indexes.sql");
const FOREIGN_KEYS_SQL: &str = include_str!("foreign_keys.sql");

/// Reads the schema of the database `conn` is connected to (its `main`
/// schema), leaving out SQLite's internal tables and
/// [`IntrospectOptions::version_table`]. The result is normalised.
///
/// Not read yet: hidden and generated columns (skipped), virtual tables
/// (skipped), index collations.
pub async fn introspect_sqlite(
    conn: &mut SqliteConnection,
    options: &IntrospectOptions,
) -> Result<Schema, IntrospectError> {
    read_catalog(&mut CatalogReader::new(conn), &options.version_table).await
}

/// The raw catalog rows, as the queries return them (the tests feed them
/// to the builder whole).
#[cfg(test)]
#[derive(Debug, Default)]
pub(crate) struct CatalogRows {
    pub objects: Vec<ObjectRow>,
    pub columns: Vec<ColumnRow>,
    pub indexes: Vec<IndexRow>,
    pub foreign_keys: Vec<ForeignKeyRow>,
}

/// A row of `sqlite_schema`.
#[derive(Debug, Clone)]
pub(crate) struct ObjectRow {
    /// `table`, `index`, `view` or `trigger`.
    pub kind: String,
    pub name: String,
    /// The table an index or trigger belongs to (a table's or view's own name).
    pub table: String,
    /// The statement as the user wrote it; NULL for automatic indexes.
    pub sql: Option<String>,
}

/// A row of `pragma_table_xinfo`.
#[derive(Debug, Clone)]
pub(crate) struct ColumnRow {
    pub table: String,
    pub name: String,
    /// The declared type text, exactly as written (empty when none).
    pub declared_type: String,
    pub not_null: bool,
    /// The default's text as SQLite extracted it from the statement.
    pub default: Option<String>,
    /// 1-based position in the primary key, 0 when not part of it.
    pub pk: i64,
    /// 0 normal, 1 hidden (virtual tables), 2 generated virtual, 3 generated stored.
    pub hidden: i64,
}

/// A key row of `pragma_index_list` × `pragma_index_xinfo`.
#[derive(Debug, Clone)]
pub(crate) struct IndexRow {
    pub table: String,
    pub index: String,
    pub unique: bool,
    /// `c` (CREATE INDEX), `u` (UNIQUE constraint) or `pk` (PRIMARY KEY).
    pub origin: String,
    pub partial: bool,
    /// -1 the rowid, -2 an expression.
    pub cid: i64,
    /// NULL for expressions and the rowid.
    pub column: Option<String>,
    pub descending: bool,
}

/// A row of `pragma_foreign_key_list`: one column pair of foreign key `id`.
#[derive(Debug, Clone)]
pub(crate) struct ForeignKeyRow {
    pub table: String,
    pub id: i64,
    pub referred_table: String,
    pub from: String,
    /// NULL where `REFERENCES parent` names no columns: the parent's primary key.
    pub to: Option<String>,
    pub on_update: String,
    pub on_delete: String,
}

/// Every catalog query binds the version table as `?1`.
fn filtered(sql: &'static str, version_table: &str) -> Query<'static, Sqlite, SqliteArguments> {
    sqlx::query(sql).bind(version_table.to_string())
}

async fn read_catalog(
    reader: &mut CatalogReader<'_, Sqlite>,
    version_table: &str,
) -> Result<Schema, IntrospectError> {
    const OBJECTS: &str = "schema objects (sqlite_schema)";
    const COLUMNS: &str = "table columns (pragma_table_xinfo)";
    const INDEXES: &str = "indexes (pragma_index_list, pragma_index_xinfo)";
    const FOREIGN_KEYS: &str = "foreign keys (pragma_foreign_key_list)";

    let mut builder = SchemaBuilder::default();
    reader
        .for_each(
            OBJECTS,
            filtered(OBJECTS_SQL, version_table),
            |row| {
                Ok(ObjectRow {
                    kind: row.try_get("type")?,
                    name: row.try_get("name")?,
                    table: row.try_get("tbl_name")?,
                    sql: row.try_get("sql")?,
                })
            },
            |row| builder.object(row),
        )
        .await?;

    reader
        .for_each(
            COLUMNS,
            filtered(COLUMNS_SQL, version_table),
            |row| {
                Ok(ColumnRow {
                    table: row.try_get("table_name")?,
                    name: row.try_get("name")?,
                    declared_type: row
                        .try_get::<Option<String>, _>("type")?
                        .unwrap_or_default(),
                    not_null: row.try_get::<i64, _>("notnull")? != 0,
                    default: row.try_get("dflt_value")?,
                    pk: row.try_get("pk")?,
                    hidden: row.try_get("hidden")?,
                })
            },
            |row| {
                builder.column(row);
                Ok(())
            },
        )
        .await?;

    let mut indexes = Vec::new();
    reader
        .for_each(
            INDEXES,
            filtered(INDEXES_SQL, version_table),
            |row| {
                Ok(IndexRow {
                    table: row.try_get("table_name")?,
                    index: row.try_get("index_name")?,
                    unique: row.try_get::<i64, _>("unique")? != 0,
                    origin: row.try_get("origin")?,
                    partial: row.try_get::<i64, _>("partial")? != 0,
                    cid: row.try_get("cid")?,
                    column: row.try_get("column_name")?,
                    descending: row.try_get::<i64, _>("desc")? != 0,
                })
            },
            |row| {
                indexes.push(row);
                Ok(())
            },
        )
        .await?;

    let mut foreign_keys = Vec::new();
    reader
        .for_each(
            FOREIGN_KEYS,
            filtered(FOREIGN_KEYS_SQL, version_table),
            |row| {
                Ok(ForeignKeyRow {
                    table: row.try_get("table_name")?,
                    id: row.try_get("id")?,
                    referred_table: row.try_get("referred_table")?,
                    from: row.try_get("from_column")?,
                    to: row.try_get("to_column")?,
                    on_update: row.try_get("on_update")?,
                    on_delete: row.try_get("on_delete")?,
                })
            },
            |row| {
                foreign_keys.push(row);
                Ok(())
            },
        )
        .await?;

    builder.finish(&indexes, &foreign_keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Connection;
    use sqlx::sqlite::SqliteConnectOptions;

    async fn database_with_tables(count: usize) -> (tempfile::TempDir, SqliteConnection) {
        let dir = tempfile::tempdir().unwrap();
        let options = SqliteConnectOptions::new()
            .filename(dir.path().join("count.db"))
            .create_if_missing(true);
        let mut conn = SqliteConnection::connect_with(&options).await.unwrap();
        for i in 0..count {
            let ddl = format!(
                "CREATE TABLE t{i} (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES t{i}(id), \
                 code TEXT UNIQUE, CHECK (id > 0));
                 CREATE INDEX ix_t{i}_code ON t{i}(lower(code)) WHERE code IS NOT NULL;"
            );
            sqlx::raw_sql(sqlx::AssertSqlSafe(ddl))
                .execute(&mut conn)
                .await
                .unwrap();
        }
        (dir, conn)
    }

    async fn statements_for(count: usize) -> (usize, usize) {
        let (_dir, mut conn) = database_with_tables(count).await;
        let mut reader = CatalogReader::new(&mut conn);
        let schema = read_catalog(&mut reader, "retort_version").await.unwrap();
        (reader.statements(), schema.tables.len())
    }

    #[tokio::test(flavor = "current_thread")]
    async fn query_count_does_not_grow_with_table_count() {
        let (few, few_tables) = statements_for(3).await;
        let (many, many_tables) = statements_for(50).await;
        assert_eq!((few_tables, many_tables), (3, 50));
        assert_eq!(few, 4);
        assert_eq!(many, few);
    }
}
