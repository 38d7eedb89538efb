//! retort's schema IR: the one vocabulary every other retort crate speaks.
//!
//! A [`Schema`] is what the model loader reads from SQL DDL files and what the
//! introspector reads from a live database catalog; the differ compares two of
//! them. The types are plain data (`Debug, Clone, PartialEq, Eq` + serde) with
//! public fields, because any value is a valid schema; the one invariant that
//! comparisons rely on, a canonical order and form, is established by
//! [`Schema::normalize`], which both producers call before handing a schema on.
//!
//! ```
//! use retort_schema::{Column, ColumnType, Schema, Table};
//!
//! let mut users = Table::new("users");
//! users.columns.push(Column::new("id", ColumnType::Integer).not_null());
//! let schema = Schema { tables: vec![users], ..Schema::default() };
//! assert!(schema.table("users").is_some());
//! ```
//!
//! Design decision: column types and defaults are canonical enums
//! ([`ColumnType`], [`DefaultValue`]) rather than the SQL text a database
//! prints, so that spellings (`int` / `INTEGER`, `'x'` / `'x'::text`) never
//! show up as differences. They serialise as canonical SQL text, which keeps
//! the JSON contract readable. This crate knows nothing of sqlx, sqlparser or
//! sea-query.

mod dialect;
mod hash;
mod identity;
mod naming;
mod types;

pub use dialect::{Dialect, UnknownDialect};
pub use hash::{fnv1a_32, fnv1a_64};
pub use identity::{NameKind, NameRules};
pub use naming::{ConstraintKind, implied_constraint_name};
pub use types::{ColumnType, DefaultValue, ParseTypeError, quote_string};

use serde::{Deserialize, Serialize};

/// Appends `item`, growing `list` by exactly one, for the producers of a
/// schema (loader, introspectors): a table's constraints and indexes number
/// one or two, where `Vec::push` would reserve four, and the lists of
/// 5,000 tables are all held while they are built and compared; that spare
/// room came to megabytes.
pub fn push_exact<T>(list: &mut Vec<T>, item: T) {
    list.reserve_exact(1);
    list.push(item);
}

/// A whole database schema: tables and the named objects they use.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Schema {
    /// Tables, sorted by (schema, name) after [`Schema::normalize`].
    pub tables: Vec<Table>,
    /// Named enum types (PostgreSQL `CREATE TYPE … AS ENUM`), sorted by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub enums: Vec<EnumType>,
    /// Views, kept as their defining statement. The differ leaves them alone;
    /// the SQLite renderer needs them to drop and recreate the views that
    /// reference a table it rebuilds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub views: Vec<View>,
    /// Triggers, kept as their defining statement, for the same reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub triggers: Vec<Trigger>,
    /// MySQL only: the server compares table names ignoring case
    /// (`lower_case_table_names` is 1 or 2), as the introspector reads it.
    /// False for models, which do not know the server, and for the other
    /// dialects, whose rules do not depend on a setting ([`NameRules`]).
    #[serde(default, skip_serializing_if = "is_false")]
    pub table_names_ignore_case: bool,
}

impl Schema {
    /// The table called `name` (case-sensitive), if any.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }

    /// Mutable access to the table called `name`, if any.
    pub fn table_mut(&mut self, name: &str) -> Option<&mut Table> {
        self.tables.iter_mut().find(|t| t.name == name)
    }

    /// The enum type called `name`, if any.
    pub fn enum_type(&self, name: &str) -> Option<&EnumType> {
        self.enums.iter().find(|e| e.name == name)
    }

    /// Puts the schema in canonical form: every list sorted by its stated
    /// key and every table normalised (see [`Table::normalize`]). Two schemas
    /// that describe the same database compare equal once normalised.
    pub fn normalize(&mut self) {
        for table in &mut self.tables {
            table.normalize();
        }
        self.tables
            .sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
        self.tables.shrink_to_fit();
        self.enums.sort_by(|a, b| a.name.cmp(&b.name));
        self.views.sort_by(|a, b| a.name.cmp(&b.name));
        self.triggers.sort_by(|a, b| a.name.cmp(&b.name));
    }

    /// A normalised copy.
    pub fn normalized(mut self) -> Self {
        self.normalize();
        self
    }
}

/// A table: columns in declared order, keys, indexes and constraints.
/// Equality leaves out [`Table::default_collation`] and
/// [`Table::default_charset`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Table {
    /// The database schema (PostgreSQL namespace) holding the table; `None`
    /// is the connection's default schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    pub name: String,
    /// Columns in declared order: the order matters for `CREATE TABLE` and
    /// for the SQLite rebuild's column mapping, so it is never sorted.
    pub columns: Vec<Column>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_key: Option<PrimaryKey>,
    /// Indexes created with `CREATE INDEX`, sorted by name. Indexes a
    /// database creates to back a constraint are not listed here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<Index>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unique_constraints: Vec<UniqueConstraint>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub foreign_keys: Vec<ForeignKey>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckConstraint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// MySQL/MariaDB: the table's default collation where it is known (the
    /// catalog's `TABLE_COLLATION`, a model's `COLLATE=` table option). A
    /// column with no collation of its own has this one, so a model column
    /// that names it matches a catalog column that does not. Not compared
    /// itself: table options are not part of the comparison.
    #[serde(skip)]
    pub default_collation: Option<String>,
    /// MySQL/MariaDB: the character set whose default collation is the
    /// table's default, where that is known (the catalog; a model's
    /// `CHARSET=` option without `COLLATE=`): a model column that names only
    /// this set has the table's collation. Not compared itself.
    #[serde(skip)]
    pub default_charset: Option<String>,
}

impl PartialEq for Table {
    fn eq(&self, other: &Self) -> bool {
        self.schema == other.schema
            && self.name == other.name
            && self.columns == other.columns
            && self.primary_key == other.primary_key
            && self.indexes == other.indexes
            && self.unique_constraints == other.unique_constraints
            && self.foreign_keys == other.foreign_keys
            && self.checks == other.checks
            && self.comment == other.comment
    }
}

impl Eq for Table {}

impl Table {
    /// An empty table called `name` in the default schema.
    pub fn new(name: impl Into<String>) -> Self {
        Table {
            default_charset: None,
            default_collation: None,
            schema: None,
            name: name.into(),
            columns: Vec::new(),
            primary_key: None,
            indexes: Vec::new(),
            unique_constraints: Vec::new(),
            foreign_keys: Vec::new(),
            checks: Vec::new(),
            comment: None,
        }
    }

    /// The column called `name`, if any.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Mutable access to the column called `name`, if any.
    pub fn column_mut(&mut self, name: &str) -> Option<&mut Column> {
        self.columns.iter_mut().find(|c| c.name == name)
    }

    /// Whether `column` is part of the primary key.
    pub fn is_primary_key_column(&self, column: &str) -> bool {
        self.primary_key
            .as_ref()
            .is_some_and(|pk| pk.columns.iter().any(|c| c == column))
    }

    /// Canonical form: primary-key columns are `NOT NULL` (every database
    /// enforces it, though SQLite's catalog reports them nullable), indexes
    /// sorted by name, constraints sorted by name then definition. Every
    /// list is also trimmed to its length: schemas are built push by push
    /// and then held whole while compared, where the spare capacity of
    /// 5,000 tables' lists came to a quarter of the schema's memory.
    pub fn normalize(&mut self) {
        if let Some(pk) = &self.primary_key {
            for column in &mut self.columns {
                if pk.columns.contains(&column.name) {
                    column.nullable = false;
                }
            }
        }
        self.indexes.sort_by(|a, b| a.name.cmp(&b.name));
        self.unique_constraints
            .sort_by(|a, b| (&a.name, &a.columns).cmp(&(&b.name, &b.columns)));
        self.foreign_keys.sort_by(|a, b| {
            (&a.name, &a.columns, &a.referred_table).cmp(&(&b.name, &b.columns, &b.referred_table))
        });
        self.checks
            .sort_by(|a, b| (&a.name, &a.expression).cmp(&(&b.name, &b.expression)));
        self.columns.shrink_to_fit();
        self.indexes.shrink_to_fit();
        for index in &mut self.indexes {
            index.parts.shrink_to_fit();
        }
        self.unique_constraints.shrink_to_fit();
        self.foreign_keys.shrink_to_fit();
        self.checks.shrink_to_fit();
    }
}

/// A column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: ColumnType,
    pub nullable: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<DefaultValue>,
    /// The database generates values: SQLite `AUTOINCREMENT`, PostgreSQL
    /// `serial`/identity, MySQL `AUTO_INCREMENT`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub autoincrement: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// MySQL/MariaDB: the character set a column declares without a
    /// collation (it then has the set's default collation). `None` where
    /// a collation is given (it implies the set) or the column keeps the
    /// table's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charset: Option<String>,
    /// The column's collation, `None` where it is the default, so that a
    /// catalog column and a model column that states nothing compare equal.
    /// MySQL/MariaDB: lower case, `None` where it is the table's default (or
    /// the default of [`Column::charset`]). SQLite: upper case (the names
    /// are case-insensitive), `None` for `BINARY`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
    /// MySQL/MariaDB: the value the server writes into the column whenever
    /// another column of the row changes (`ON UPDATE CURRENT_TIMESTAMP`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_update: Option<DefaultValue>,
}

fn is_false(value: &bool) -> bool {
    !*value
}

impl Column {
    /// A nullable column without default.
    pub fn new(name: impl Into<String>, ty: ColumnType) -> Self {
        Column {
            on_update: None,
            name: name.into(),
            ty,
            nullable: true,
            default: None,
            autoincrement: false,
            comment: None,
            charset: None,
            collation: None,
        }
    }

    /// The same column, `NOT NULL`.
    pub fn not_null(mut self) -> Self {
        self.nullable = false;
        self
    }

    /// The same column with a server default.
    pub fn with_default(mut self, default: DefaultValue) -> Self {
        self.default = Some(default);
        self
    }
}

/// A primary key. `name` is `None` where the database does not name it
/// (SQLite) or the model leaves it unnamed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrimaryKey {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub columns: Vec<String>,
}

/// An index made with `CREATE INDEX`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    pub name: String,
    pub parts: Vec<IndexPart>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub unique: bool,
    /// The `WHERE` predicate of a partial index, as canonical SQL text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicate: Option<String>,
    /// The access method where it is not the default (`gin`, `gist`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// A unique index's `NULLS NOT DISTINCT` (PostgreSQL 15+).
    #[serde(default, skip_serializing_if = "is_false")]
    pub nulls_not_distinct: bool,
}

impl Index {
    /// The names of the plain-column parts, in order.
    pub fn column_names(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match &p.target {
            IndexTarget::Column(name) => Some(name.as_str()),
            IndexTarget::Expression(_) => None,
        })
    }
}

/// One key part of an index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexPart {
    #[serde(flatten)]
    pub target: IndexTarget,
    #[serde(default, skip_serializing_if = "is_false")]
    pub descending: bool,
    /// A PostgreSQL operator class other than the type's default for the
    /// index method (`text_pattern_ops`, `jsonb_path_ops`, `gin_trgm_ops`);
    /// `None` for the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opclass: Option<String>,
    /// MySQL/MariaDB: a column part that indexes only the column's first
    /// `n` characters (bytes for a binary type), `name(255)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<u32>,
}

impl IndexPart {
    /// An ascending part on a plain column.
    pub fn column(name: impl Into<String>) -> Self {
        IndexPart {
            target: IndexTarget::Column(name.into()),
            descending: false,
            opclass: None,
            prefix: None,
        }
    }
}

/// What an index part indexes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndexTarget {
    /// A plain column.
    Column(String),
    /// An expression, as canonical SQL text.
    Expression(String),
}

/// A `UNIQUE` table constraint (or a column's `UNIQUE` clause).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UniqueConstraint {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub columns: Vec<String>,
    /// PostgreSQL 15's `NULLS NOT DISTINCT`: rows whose key columns are
    /// NULL count as equal, so only one such row is allowed.
    #[serde(default, skip_serializing_if = "is_false")]
    pub nulls_not_distinct: bool,
}

/// A foreign key. Equality leaves out [`ForeignKey::implicit_index`],
/// which only the catalog knows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ForeignKey {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub columns: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referred_schema: Option<String>,
    pub referred_table: String,
    pub referred_columns: Vec<String>,
    #[serde(default, skip_serializing_if = "ForeignKeyAction::is_no_action")]
    pub on_delete: ForeignKeyAction,
    #[serde(default, skip_serializing_if = "ForeignKeyAction::is_no_action")]
    pub on_update: ForeignKeyAction,
    /// When the key is checked: PostgreSQL's `DEFERRABLE [INITIALLY …]`.
    /// Always [`Deferral::NotDeferrable`] on SQLite and MySQL, whose models
    /// and catalogs retort reads without it.
    #[serde(default, skip_serializing_if = "Deferral::is_not_deferrable")]
    pub deferrable: Deferral,
    /// MySQL/MariaDB: the index the server created for the key because no
    /// other index served it, as the catalog names it (after the constraint
    /// when it was named, else after its first column). A drop of the key
    /// drops this index too. Never compared: a model does not state it.
    #[serde(skip)]
    pub implicit_index: Option<String>,
}

impl PartialEq for ForeignKey {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.columns == other.columns
            && self.referred_schema == other.referred_schema
            && self.referred_table == other.referred_table
            && self.referred_columns == other.referred_columns
            && self.on_delete == other.on_delete
            && self.on_update == other.on_update
            && self.deferrable == other.deferrable
    }
}

impl Eq for ForeignKey {}

/// When a constraint is checked: at each statement (not deferrable), or at
/// commit when the transaction asks for it (`SET CONSTRAINTS … DEFERRED`) or
/// by default (`INITIALLY DEFERRED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Deferral {
    #[default]
    NotDeferrable,
    /// `DEFERRABLE` (`INITIALLY IMMEDIATE` is the default).
    InitiallyImmediate,
    /// `DEFERRABLE INITIALLY DEFERRED`.
    InitiallyDeferred,
}

impl Deferral {
    /// The clause that declares it, empty for [`Deferral::NotDeferrable`].
    pub fn as_sql(self) -> &'static str {
        match self {
            Deferral::NotDeferrable => "",
            Deferral::InitiallyImmediate => "DEFERRABLE",
            Deferral::InitiallyDeferred => "DEFERRABLE INITIALLY DEFERRED",
        }
    }

    fn is_not_deferrable(&self) -> bool {
        *self == Deferral::NotDeferrable
    }
}

/// The referential action of `ON DELETE` / `ON UPDATE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForeignKeyAction {
    #[default]
    NoAction,
    Restrict,
    Cascade,
    SetNull,
    SetDefault,
}

impl ForeignKeyAction {
    /// The SQL spelling, e.g. `SET NULL`.
    pub fn as_sql(self) -> &'static str {
        match self {
            ForeignKeyAction::NoAction => "NO ACTION",
            ForeignKeyAction::Restrict => "RESTRICT",
            ForeignKeyAction::Cascade => "CASCADE",
            ForeignKeyAction::SetNull => "SET NULL",
            ForeignKeyAction::SetDefault => "SET DEFAULT",
        }
    }

    /// Parses an SQL spelling (case-insensitive, any spacing).
    pub fn from_sql(text: &str) -> Option<Self> {
        let words: Vec<String> = text
            .split_whitespace()
            .map(|w| w.to_ascii_uppercase())
            .collect();
        match words.join(" ").as_str() {
            "NO ACTION" => Some(ForeignKeyAction::NoAction),
            "RESTRICT" => Some(ForeignKeyAction::Restrict),
            "CASCADE" => Some(ForeignKeyAction::Cascade),
            "SET NULL" => Some(ForeignKeyAction::SetNull),
            "SET DEFAULT" => Some(ForeignKeyAction::SetDefault),
            _ => None,
        }
    }

    fn is_no_action(&self) -> bool {
        *self == ForeignKeyAction::NoAction
    }
}

/// A `CHECK` constraint; the expression is canonical SQL text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckConstraint {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub expression: String,
}

/// A named enum type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnumType {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    pub name: String,
    pub values: Vec<String>,
}

/// A view, kept as its full `CREATE VIEW` statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct View {
    pub name: String,
    pub sql: String,
}

/// A trigger, kept as its full `CREATE TRIGGER` statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trigger {
    pub name: String,
    pub table: String,
    pub sql: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_makes_primary_key_columns_not_null_and_sorts() {
        let mut table = Table::new("t");
        table.columns.push(Column::new("id", ColumnType::Integer));
        table.primary_key = Some(PrimaryKey {
            name: None,
            columns: vec!["id".into()],
        });
        table.indexes.push(Index {
            name: "b".into(),
            parts: vec![IndexPart::column("id")],
            unique: false,
            predicate: None,
            method: None,
            nulls_not_distinct: false,
        });
        table.indexes.push(Index {
            name: "a".into(),
            parts: vec![IndexPart::column("id")],
            unique: false,
            predicate: None,
            method: None,
            nulls_not_distinct: false,
        });
        let mut schema = Schema {
            tables: vec![Table::new("z"), table],
            ..Schema::default()
        };
        schema.normalize();
        assert_eq!(schema.tables[0].name, "t");
        assert!(!schema.tables[0].columns[0].nullable);
        assert_eq!(schema.tables[0].indexes[0].name, "a");
    }

    #[test]
    fn json_uses_canonical_sql_text_for_types_and_defaults() {
        let column = Column::new("name", ColumnType::Varchar { length: Some(30) })
            .not_null()
            .with_default(DefaultValue::String("it's".into()));
        let json = serde_json::to_value(&column).unwrap();
        assert_eq!(json["type"], "varchar(30)");
        assert_eq!(json["default"], "'it''s'");
        let back: Column = serde_json::from_value(json).unwrap();
        assert_eq!(back, column);
    }

    #[test]
    fn foreign_key_action_parses_any_spacing() {
        assert_eq!(
            ForeignKeyAction::from_sql("set   null"),
            Some(ForeignKeyAction::SetNull)
        );
        assert_eq!(ForeignKeyAction::from_sql("explode"), None);
    }
}
