//! Filters (`[autogen]` in retort.toml): what the differ never sees.
//!
//! [`SchemaFilter::apply`] removes the excluded tables, enum types and
//! single objects from a schema; it runs on *both* the introspected schema
//! and the models before diffing, so an excluded object is neither dropped
//! because the models lack it nor created because the database lacks it.
//! The unfiltered live schema is still what the renderer starts from, so a
//! SQLite table rebuild keeps an excluded index or constraint.
//!
//! - `include_schemas` (PostgreSQL): only tables and enum types of these
//!   schemas take part. A table without a schema lives in the default
//!   schema (the first of `[database] schemas`).
//! - `exclude_tables`: globs (`tmp_*`) matched against a table's name, and
//!   against `schema.name` for a table outside the default schema.
//! - `exclude_objects`: `table.object` globs, matched against the names of
//!   a table's indexes, its primary key and its named unique, foreign-key
//!   and check constraints (`users.ix_legacy`, `*.fk_audit_*`).
//!
//! Globs ignore case where the dialect compares every name ignoring case
//! (SQLite: `tmp_*` excludes `TMP_1`, which is the same name as `tmp_1`
//! there). The CLI spells the models as the database spells the objects
//! both have ([`retort_diff::reconcile`]) before filtering, so that an
//! object is excluded on both sides or on neither whatever the dialect.

use anyhow::{Context, Result, bail};
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use retort_schema::{Schema, Table};
use std::borrow::Cow;

/// A validated filter; the default lets everything through.
#[derive(Debug, Clone, Default)]
pub struct SchemaFilter {
    include_schemas: Vec<String>,
    /// The schema a table without one lives in, for `include_schemas`.
    default_schema: Option<String>,
    exclude_tables: Option<GlobSet>,
    exclude_objects: Option<GlobSet>,
}

impl SchemaFilter {
    /// Builds the filter; a bad glob or an object pattern without a table
    /// part is an error naming the retort.toml key. `config` prefixes the
    /// messages (the file's name). `ignore_case`: the globs match names
    /// whatever their case (for a dialect that compares every name so).
    pub fn new(
        config: &str,
        include_schemas: Vec<String>,
        default_schema: Option<String>,
        exclude_tables: &[String],
        exclude_objects: &[String],
        ignore_case: bool,
    ) -> Result<SchemaFilter> {
        for pattern in exclude_objects {
            let Some((table, object)) = pattern.split_once('.') else {
                bail!(
                    "{config}: [autogen] exclude_objects: `{pattern}` is not `table.object` (e.g. \"users.ix_legacy\")"
                );
            };
            if table.is_empty() || object.is_empty() {
                bail!(
                    "{config}: [autogen] exclude_objects: `{pattern}` needs both a table and an object name (e.g. \"users.ix_legacy\")"
                );
            }
        }
        Ok(SchemaFilter {
            include_schemas,
            default_schema,
            exclude_tables: glob_set(config, "exclude_tables", exclude_tables, ignore_case)?,
            exclude_objects: glob_set(config, "exclude_objects", exclude_objects, ignore_case)?,
        })
    }

    /// Whether the filter removes nothing.
    pub fn is_empty(&self) -> bool {
        self.include_schemas.is_empty()
            && self.exclude_tables.is_none()
            && self.exclude_objects.is_none()
    }

    /// `schema` without what the filter excludes: `schema` itself when the
    /// filter is empty (the common case, and a copy of a 5,000-table schema
    /// is megabytes).
    pub fn apply<'s>(&self, schema: &'s Schema) -> Cow<'s, Schema> {
        if self.is_empty() {
            return Cow::Borrowed(schema);
        }
        let mut out = schema.clone();
        out.tables.retain(|t| self.keeps_table(t));
        out.enums
            .retain(|e| self.includes_schema(e.schema.as_deref()));
        if let Some(objects) = &self.exclude_objects {
            for table in &mut out.tables {
                remove_objects(table, objects);
            }
        }
        Cow::Owned(out)
    }

    fn includes_schema(&self, schema: Option<&str>) -> bool {
        if self.include_schemas.is_empty() {
            return true;
        }
        let Some(name) = schema.or(self.default_schema.as_deref()) else {
            return true;
        };
        self.include_schemas.iter().any(|s| s == name)
    }

    fn keeps_table(&self, table: &Table) -> bool {
        self.keeps_table_named(table.schema.as_deref(), &table.name)
    }

    fn keeps_table_named(&self, schema: Option<&str>, name: &str) -> bool {
        if !self.includes_schema(schema) {
            return false;
        }
        let Some(globs) = &self.exclude_tables else {
            return true;
        };
        let qualified = schema.map(|s| format!("{s}.{name}"));
        !(globs.is_match(name) || qualified.is_some_and(|q| globs.is_match(q)))
    }

    /// Whether [`Self::apply`] would leave out table `table` of `schema`
    /// (as the IR writes it), or its index or constraint `object`: what
    /// the introspector need not refuse.
    pub fn excludes(&self, schema: Option<&str>, table: &str, object: Option<&str>) -> bool {
        if !self.keeps_table_named(schema, table) {
            return true;
        }
        match (object, &self.exclude_objects) {
            (Some(object), Some(objects)) => objects.is_match(format!("{table}.{object}")),
            _ => false,
        }
    }
}

fn glob_set(
    config: &str,
    key: &str,
    patterns: &[String],
    ignore_case: bool,
) -> Result<Option<GlobSet>> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        let glob = GlobBuilder::new(pattern)
            .case_insensitive(ignore_case)
            .build()
            .with_context(|| {
                format!("{config}: [autogen] {key}: `{pattern}` is not a valid glob")
            })?;
        builder.add(glob);
    }
    let set = builder
        .build()
        .with_context(|| format!("{config}: [autogen] {key}: cannot compile the globs"))?;
    Ok(Some(set))
}

fn remove_objects(table: &mut Table, objects: &GlobSet) {
    let excluded = |name: Option<&str>| {
        name.is_some_and(|name| objects.is_match(format!("{}.{name}", table.name)))
    };
    let indexes = table
        .indexes
        .iter()
        .filter(|i| !excluded(Some(&i.name)))
        .cloned()
        .collect();
    let primary_key = table
        .primary_key
        .clone()
        .filter(|pk| !excluded(pk.name.as_deref()));
    let uniques = table
        .unique_constraints
        .iter()
        .filter(|c| !excluded(c.name.as_deref()))
        .cloned()
        .collect();
    let foreign_keys = table
        .foreign_keys
        .iter()
        .filter(|c| !excluded(c.name.as_deref()))
        .cloned()
        .collect();
    let checks = table
        .checks
        .iter()
        .filter(|c| !excluded(c.name.as_deref()))
        .cloned()
        .collect();
    table.indexes = indexes;
    table.primary_key = primary_key;
    table.unique_constraints = uniques;
    table.foreign_keys = foreign_keys;
    table.checks = checks;
}

#[cfg(test)]
mod tests {
    use super::*;
    use retort_diff::{DiffOptions, diff};
    use retort_schema::{
        Column, ColumnType, Dialect, EnumType, ForeignKey, Index, IndexPart, UniqueConstraint,
    };

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn table(name: &str) -> Table {
        let mut t = Table::new(name);
        t.columns
            .push(Column::new("id", ColumnType::Integer).not_null());
        t
    }

    fn users_with_legacy_objects() -> Table {
        let mut t = table("users");
        t.indexes.push(Index {
            name: "ix_legacy".into(),
            parts: vec![IndexPart::column("id")],
            unique: false,
            predicate: None,
            method: None,
            nulls_not_distinct: false,
        });
        t.unique_constraints.push(UniqueConstraint {
            name: Some("uq_keep".into()),
            columns: vec!["id".into()],
            nulls_not_distinct: false,
        });
        t.foreign_keys.push(ForeignKey {
            implicit_index: None,
            name: Some("fk_x".into()),
            columns: vec!["id".into()],
            referred_schema: None,
            referred_table: "other".into(),
            referred_columns: vec!["id".into()],
            on_delete: Default::default(),
            on_update: Default::default(),
            deferrable: retort_schema::Deferral::NotDeferrable,
        });
        t
    }

    fn schema(tables: Vec<Table>) -> Schema {
        Schema {
            tables,
            ..Schema::default()
        }
        .normalized()
    }

    fn filter(tables: &[&str], objects: &[&str]) -> SchemaFilter {
        SchemaFilter::new(
            "retort.toml",
            Vec::new(),
            None,
            &strings(tables),
            &strings(objects),
            false,
        )
        .unwrap()
    }

    fn no_diff_either_way(filter: &SchemaFilter, a: &Schema, b: &Schema) {
        let options = DiffOptions {
            dialect: Dialect::Postgres,
        };
        for (from, to) in [(a, b), (b, a)] {
            let plan = diff(&filter.apply(from), &filter.apply(to), &options);
            assert!(plan.is_empty(), "{:?}", plan.ops);
        }
    }

    #[test]
    fn an_empty_filter_lends_the_schema_instead_of_copying_it() {
        let live = schema(vec![table("users")]);
        assert!(matches!(
            SchemaFilter::default().apply(&live),
            Cow::Borrowed(_)
        ));
        let f = filter(&["tmp_*"], &[]);
        assert!(matches!(f.apply(&live), Cow::Owned(_)));
    }

    #[test]
    fn excluded_tables_never_appear_in_either_direction() {
        let f = filter(&["spatial_ref_sys", "tmp_*"], &[]);
        let live = schema(vec![
            table("users"),
            table("spatial_ref_sys"),
            table("tmp_1"),
        ]);
        let models = schema(vec![table("users"), table("tmp_import")]);
        no_diff_either_way(&f, &live, &models);
        // Without the filter both directions have ops.
        let plain = SchemaFilter::default();
        let options = DiffOptions {
            dialect: Dialect::Postgres,
        };
        assert!(!diff(&plain.apply(&live), &plain.apply(&models), &options).is_empty());
        // A similar name is not excluded.
        assert_eq!(
            f.apply(&schema(vec![table("tmp"), table("temp_1")]))
                .tables
                .len(),
            2
        );
    }

    #[test]
    fn excluded_objects_never_appear_in_either_direction() {
        let f = filter(&[], &["users.ix_legacy", "*.fk_*"]);
        let mut bare = users_with_legacy_objects();
        bare.indexes.clear();
        bare.foreign_keys.clear();
        no_diff_either_way(
            &f,
            &schema(vec![users_with_legacy_objects()]),
            &schema(vec![bare]),
        );
        // Objects that are not excluded stay.
        let kept = f
            .apply(&schema(vec![users_with_legacy_objects()]))
            .into_owned();
        assert_eq!(kept.tables[0].unique_constraints.len(), 1);
        // The table part is matched too: todos.ix_legacy stays.
        let mut todos = users_with_legacy_objects();
        todos.name = "todos".into();
        assert_eq!(f.apply(&schema(vec![todos])).tables[0].indexes.len(), 1);
    }

    #[test]
    fn include_schemas_keeps_the_listed_schemas_and_the_default_one_by_name() {
        let f = SchemaFilter::new(
            "retort.toml",
            strings(&["public", "app"]),
            Some("public".into()),
            &[],
            &[],
            false,
        )
        .unwrap();
        let mut audit = table("log");
        audit.schema = Some("audit".into());
        let mut app = table("items");
        app.schema = Some("app".into());
        let mut s = schema(vec![table("users"), audit, app]);
        s.enums.push(EnumType {
            schema: Some("audit".into()),
            name: "level".into(),
            values: vec!["a".into()],
        });
        let kept = f.apply(&s);
        let names: Vec<_> = kept.tables.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, vec!["users", "items"]);
        assert!(kept.enums.is_empty());

        let only_app = SchemaFilter::new(
            "retort.toml",
            strings(&["app"]),
            Some("public".into()),
            &strings(&["app.tmp_*"]),
            &[],
            false,
        )
        .unwrap();
        let mut tmp = table("tmp_x");
        tmp.schema = Some("app".into());
        let mut app = table("items");
        app.schema = Some("app".into());
        let kept = only_app
            .apply(&schema(vec![table("users"), app, tmp]))
            .into_owned();
        let names: Vec<_> = kept.tables.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, vec!["items"]);
    }

    #[test]
    fn bad_patterns_are_errors_naming_the_key() {
        let err = SchemaFilter::new(
            "retort.toml",
            Vec::new(),
            None,
            &strings(&["tmp_[a"]),
            &[],
            false,
        )
        .unwrap_err();
        let text = format!("{err:#}");
        assert!(text.contains("[autogen] exclude_tables"), "{text}");
        assert!(text.contains("`tmp_[a`"), "{text}");
        let err = SchemaFilter::new(
            "retort.toml",
            Vec::new(),
            None,
            &[],
            &strings(&["ix_legacy"]),
            false,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("[autogen] exclude_objects"),
            "{err}"
        );
        let err = SchemaFilter::new(
            "retort.toml",
            Vec::new(),
            None,
            &[],
            &strings(&["users.{a"]),
            false,
        )
        .unwrap_err();
        assert!(
            format!("{err:#}").contains("[autogen] exclude_objects"),
            "{err:#}"
        );
    }

    #[test]
    fn names_that_are_one_object_are_excluded_on_both_sides_or_neither() {
        // SQLite: the globs ignore case, as SQLite's names do.
        let sqlite = SchemaFilter::new(
            "retort.toml",
            Vec::new(),
            None,
            &strings(&["tmp_*"]),
            &strings(&["users.ix_legacy"]),
            true,
        )
        .unwrap();
        let mut models = users_with_legacy_objects();
        models.name = "Users".into();
        models.indexes[0].name = "IX_Legacy".into();
        let models = schema(vec![table("TMP_1"), models]);
        let kept = sqlite.apply(&models);
        assert_eq!(kept.tables.len(), 1);
        assert!(kept.tables[0].indexes.is_empty());

        // MySQL's globs match as written (table names may be case-sensitive
        // there), so the models are first spelled as the database spells
        // the objects both have: the index is excluded on both sides.
        let mysql = filter(&[], &["users.ix_legacy"]);
        let live = schema(vec![users_with_legacy_objects()]);
        let mut models = users_with_legacy_objects();
        models.indexes[0].name = "IX_Legacy".into();
        models.indexes[0].parts = vec![IndexPart::column("ID")];
        let models = schema(vec![models]);
        let (live, models) = retort_diff::reconcile(&live, &models, Dialect::Mysql);
        let options = DiffOptions {
            dialect: Dialect::Mysql,
        };
        let (live, models) = (mysql.apply(&live), mysql.apply(&models));
        assert!(diff(&live, &models, &options).is_empty());
        assert!(models.tables[0].indexes.is_empty());
    }

    /// `excludes` answers what `apply` removes: the introspector asks it
    /// before refusing a feature it cannot carry.
    #[test]
    fn excludes_agrees_with_apply() {
        let f = filter(&["tmp_*", "audit.log"], &["users.ix_legacy"]);
        assert!(f.excludes(None, "tmp_1", None));
        assert!(f.excludes(Some("audit"), "log", None));
        assert!(!f.excludes(None, "log", None));
        assert!(f.excludes(None, "users", Some("ix_legacy")));
        assert!(!f.excludes(None, "users", Some("ix_other")));
        assert!(!f.excludes(None, "users", None));
        let both = schema(vec![users_with_legacy_objects(), table("tmp_1")]);
        let kept = f.apply(&both);
        assert_eq!(kept.tables.len(), 1);
        assert!(kept.tables[0].indexes.iter().all(|i| i.name != "ix_legacy"));
    }
}
