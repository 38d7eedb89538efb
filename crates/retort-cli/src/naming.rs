//! Naming conventions (`[naming]` in retort.toml): names for the
//! constraints the models leave unnamed, so that a constraint retort
//! creates has the same, predictable name on every dialect and a later
//! drop can name it.
//!
//! The rule that keeps this from causing false diffs: **the differ never
//! sees a conventional name.** Models keep their unnamed constraints while
//! they are compared with the database, so an unnamed model constraint
//! still matches a database constraint of the same definition whatever the
//! database called it (`users_email_key`, `email`, `uq_users_email`: no
//! rename is ever guessed). Only afterwards, [`name_new_constraints`]
//! gives the template's name to the constraints the plan *creates*; the
//! downgrade is the inverse of those ops, so it drops them by that name.
//!
//! Templates are checked when retort.toml is read: an unknown placeholder
//! is an error naming it, every template needs `{table}` (PostgreSQL index
//! and MySQL foreign-key names are unique per schema, not per table), and
//! a check template needs `{constraint_hash}` (two checks on one table have
//! nothing else that tells them apart). Names longer than the dialect's
//! identifier limit are cut and end in a hash of the whole name, so they
//! stay distinct and deterministic.

use anyhow::{Result, bail};
use retort_diff::{Op, PlannedOp};
use retort_schema::{
    CheckConstraint, Dialect, ForeignKey, PrimaryKey, Schema, Table, UniqueConstraint,
};
use std::collections::BTreeMap;

/// What a template names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NamedKind {
    Index,
    Unique,
    ForeignKey,
    Check,
    PrimaryKey,
}

impl NamedKind {
    /// The key in `[naming]`.
    pub fn key(self) -> &'static str {
        match self {
            NamedKind::Index => "index",
            NamedKind::Unique => "unique",
            NamedKind::ForeignKey => "foreign_key",
            NamedKind::Check => "check",
            NamedKind::PrimaryKey => "primary_key",
        }
    }

    fn placeholders(self) -> &'static [Placeholder] {
        use Placeholder::*;
        match self {
            NamedKind::Index | NamedKind::Unique => &[Table, Columns, ConstraintHash],
            NamedKind::ForeignKey => &[Table, Columns, ReferredTable, ConstraintHash],
            NamedKind::Check => &[Table, ConstraintHash],
            NamedKind::PrimaryKey => &[Table, Columns],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Placeholder {
    Table,
    Columns,
    ReferredTable,
    ConstraintHash,
}

impl Placeholder {
    const ALL: [Placeholder; 4] = [
        Placeholder::Table,
        Placeholder::Columns,
        Placeholder::ReferredTable,
        Placeholder::ConstraintHash,
    ];

    fn token(self) -> &'static str {
        match self {
            Placeholder::Table => "table",
            Placeholder::Columns => "columns",
            Placeholder::ReferredTable => "referred_table",
            Placeholder::ConstraintHash => "constraint_hash",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Value(Placeholder),
}

/// A parsed, validated name template such as `uq_{table}_{columns}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    kind: NamedKind,
    pieces: Vec<Piece>,
}

impl Template {
    /// Parses `text` as the template for `kind`; the error message starts
    /// with the `[naming]` key.
    pub fn parse(kind: NamedKind, text: &str) -> Result<Template> {
        let key = kind.key();
        let allowed = || {
            kind.placeholders()
                .iter()
                .map(|p| format!("{{{}}}", p.token()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut pieces = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find(['{', '}']) {
            if rest[open..].starts_with('}') {
                bail!("[naming] {key} = \"{text}\": `}}` without an opening `{{`");
            }
            if open > 0 {
                pieces.push(Piece::Text(rest[..open].to_string()));
            }
            let after = &rest[open + 1..];
            let Some(close) = after.find('}') else {
                bail!("[naming] {key} = \"{text}\": `{{` without a closing `}}`");
            };
            let token = &after[..close];
            let placeholder = Placeholder::ALL
                .into_iter()
                .find(|p| p.token() == token && kind.placeholders().contains(p));
            let Some(placeholder) = placeholder else {
                bail!(
                    "[naming] {key}: unknown placeholder `{{{token}}}`; a {key} name may use {}",
                    allowed()
                );
            };
            pieces.push(Piece::Value(placeholder));
            rest = &after[close + 1..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.to_string()));
        }
        let has = |p: Placeholder| pieces.contains(&Piece::Value(p));
        if !has(Placeholder::Table) {
            bail!(
                "[naming] {key} = \"{text}\" must contain {{table}}: names of the same kind on different tables would collide"
            );
        }
        if kind == NamedKind::Check && !has(Placeholder::ConstraintHash) {
            bail!(
                "[naming] check = \"{text}\" must contain {{constraint_hash}}: nothing else tells two checks on one table apart"
            );
        }
        Ok(Template { kind, pieces })
    }

    /// The name for `subject`, shortened to `dialect`'s identifier limit.
    fn render(&self, subject: &Subject<'_>, dialect: Dialect) -> String {
        let mut name = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => name.push_str(text),
                Piece::Value(Placeholder::Table) => name.push_str(subject.table),
                Piece::Value(Placeholder::Columns) => name.push_str(&subject.columns.join("_")),
                Piece::Value(Placeholder::ReferredTable) => {
                    name.push_str(subject.referred_table.unwrap_or_default())
                }
                Piece::Value(Placeholder::ConstraintHash) => {
                    name.push_str(&hex_hash(&subject.definition))
                }
            }
        }
        shorten(&name, dialect)
    }
}

/// What a template is filled in from.
struct Subject<'a> {
    table: &'a str,
    columns: Vec<String>,
    referred_table: Option<&'a str>,
    /// Canonical text of the definition, hashed for `{constraint_hash}`.
    definition: String,
}

/// The `[naming]` templates; a kind without one is left unnamed (the
/// database, or retort's renderer on MySQL, names it as before).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NamingConvention {
    pub index: Option<Template>,
    pub unique: Option<Template>,
    pub foreign_key: Option<Template>,
    pub check: Option<Template>,
    pub primary_key: Option<Template>,
}

impl NamingConvention {
    /// Whether no template is set.
    pub fn is_empty(&self) -> bool {
        self.index.is_none()
            && self.unique.is_none()
            && self.foreign_key.is_none()
            && self.check.is_none()
            && self.primary_key.is_none()
    }

    /// The name for an unnamed `CREATE INDEX` on `table` over `columns`
    /// (plain columns, `expr` for an expression part), or `None` without
    /// an index template. `{constraint_hash}` hashes the column list.
    pub fn unnamed_index_name(
        &self,
        table: &str,
        columns: &[String],
        dialect: Dialect,
    ) -> Option<String> {
        let template = self.index.as_ref()?;
        Some(template.render(
            &Subject {
                table,
                columns: columns.to_vec(),
                referred_table: None,
                definition: format!("index:{}", columns.join(",")),
            },
            dialect,
        ))
    }

    fn unique_name(&self, table: &str, c: &UniqueConstraint, dialect: Dialect) -> Option<String> {
        self.unique.as_ref().map(|t| {
            t.render(
                &Subject {
                    table,
                    columns: c.columns.clone(),
                    referred_table: None,
                    definition: format!("unique:{}", c.columns.join(",")),
                },
                dialect,
            )
        })
    }

    fn foreign_key_name(&self, table: &str, c: &ForeignKey, dialect: Dialect) -> Option<String> {
        self.foreign_key.as_ref().map(|t| {
            t.render(
                &Subject {
                    table,
                    columns: c.columns.clone(),
                    referred_table: Some(&c.referred_table),
                    definition: format!(
                        "foreign_key:{}:{}:{}",
                        c.columns.join(","),
                        c.referred_table,
                        c.referred_columns.join(",")
                    ),
                },
                dialect,
            )
        })
    }

    fn check_name(&self, table: &str, c: &CheckConstraint, dialect: Dialect) -> Option<String> {
        self.check.as_ref().map(|t| {
            t.render(
                &Subject {
                    table,
                    columns: Vec::new(),
                    referred_table: None,
                    definition: format!("check:{}", c.expression),
                },
                dialect,
            )
        })
    }

    fn primary_key_name(&self, table: &str, c: &PrimaryKey, dialect: Dialect) -> Option<String> {
        // MySQL calls every primary key PRIMARY and ignores a given name.
        if !matches!(dialect, Dialect::Postgres | Dialect::Sqlite) {
            return None;
        }
        self.primary_key.as_ref().map(|t| {
            t.render(
                &Subject {
                    table,
                    columns: c.columns.clone(),
                    referred_table: None,
                    definition: String::new(),
                },
                dialect,
            )
        })
    }

    /// Names the unnamed constraints of a table being created.
    fn name_table(&self, table: &mut Table, dialect: Dialect) {
        let name = table.name.clone();
        if let Some(pk) = &mut table.primary_key
            && pk.name.is_none()
        {
            pk.name = self.primary_key_name(&name, pk, dialect);
        }
        for c in &mut table.unique_constraints {
            if c.name.is_none() {
                c.name = self.unique_name(&name, c, dialect);
            }
        }
        for c in &mut table.foreign_keys {
            if c.name.is_none() {
                c.name = self.foreign_key_name(&name, c, dialect);
            }
        }
        for c in &mut table.checks {
            if c.name.is_none() {
                c.name = self.check_name(&name, c, dialect);
            }
        }
    }
}

/// Gives the convention's names to the unnamed constraints that `ops`
/// create (in `create_table` and the `create_*_constraint` ops). Run it on
/// the upgrade plan after diffing, before rendering and inverting, so the
/// downgrade drops what the upgrade created by the same name.
pub fn name_new_constraints(
    ops: &mut [PlannedOp],
    convention: &NamingConvention,
    dialect: Dialect,
) {
    if convention.is_empty() {
        return;
    }
    for planned in ops {
        match &mut planned.op {
            Op::CreateTable { table } => convention.name_table(table, dialect),
            Op::CreatePrimaryKey { table, constraint } if constraint.name.is_none() => {
                constraint.name = convention.primary_key_name(table, constraint, dialect);
            }
            Op::CreateUniqueConstraint { table, constraint } if constraint.name.is_none() => {
                constraint.name = convention.unique_name(table, constraint, dialect);
            }
            Op::CreateForeignKey { table, constraint } if constraint.name.is_none() => {
                constraint.name = convention.foreign_key_name(table, constraint, dialect);
            }
            Op::CreateCheckConstraint { table, constraint } if constraint.name.is_none() => {
                constraint.name = convention.check_name(table, constraint, dialect);
            }
            _ => {}
        }
    }
}

/// MySQL: the loader gives an unnamed unique key the name MySQL would
/// (its first column, then `_2`, `_3` …). With a `unique` template that
/// name is not the one retort will create, so such keys are made unnamed
/// again: they match the database by definition, and a new one gets the
/// template's name. A key written with exactly MySQL's name for it
/// (`UNIQUE KEY email (email)`) is treated the same way.
pub fn unname_mysql_unique_keys(models: &mut Schema, convention: &NamingConvention) {
    if convention.unique.is_none() {
        return;
    }
    for table in &mut models.tables {
        for c in &mut table.unique_constraints {
            let Some(first) = c.columns.first() else {
                continue;
            };
            // MySQL names the key after the column, and compares both
            // kinds of name ignoring case.
            let (name, first) = (
                c.name.as_deref().map(str::to_lowercase),
                first.to_lowercase(),
            );
            let invented = name.as_deref().is_some_and(|name| {
                name == first
                    || name.strip_prefix(first.as_str()).is_some_and(|rest| {
                        rest.strip_prefix('_')
                            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                    })
            });
            if invented {
                c.name = None;
            }
        }
    }
}

/// Errors when the convention would give two constraints of one table the
/// same name, or a name another constraint of the table already has
/// explicitly (e.g. two foreign keys on the same columns under a template
/// without `{referred_table}`).
pub fn check_collisions(
    models: &Schema,
    convention: &NamingConvention,
    dialect: Dialect,
) -> Result<()> {
    if convention.is_empty() {
        return Ok(());
    }
    for table in &models.tables {
        let mut named = table.clone();
        convention.name_table(&mut named, dialect);
        let mut seen: BTreeMap<String, (String, usize)> = BTreeMap::new();
        let names = named
            .primary_key
            .iter()
            .filter_map(|c| c.name.clone())
            .chain(
                named
                    .unique_constraints
                    .iter()
                    .filter_map(|c| c.name.clone()),
            )
            .chain(named.foreign_keys.iter().filter_map(|c| c.name.clone()))
            .chain(named.checks.iter().filter_map(|c| c.name.clone()));
        // By identity: `fk_Users_id` and `fk_users_id` are one name on
        // SQLite and MySQL.
        for name in names {
            let key = dialect
                .identifier_key(retort_schema::NameKind::Constraint, &name)
                .into_owned();
            seen.entry(key).or_insert((name, 0)).1 += 1;
        }
        if let Some((_, (name, _))) = seen.into_iter().find(|(_, (_, n))| *n > 1) {
            bail!(
                "[naming]: two constraints of table {} would both be named `{name}`: add a placeholder that tells them apart ({{columns}}, {{referred_table}}, {{constraint_hash}}) or name one of them in the model",
                table.name
            );
        }
    }
    Ok(())
}

/// The longest identifier of `dialect` (PostgreSQL counts bytes, MySQL
/// characters); `None` where there is no practical limit (SQLite).
fn identifier_limit(dialect: Dialect) -> Option<(usize, bool)> {
    match dialect {
        Dialect::Postgres => Some((63, true)),
        Dialect::Mysql => Some((64, false)),
        _ => None,
    }
}

/// `name` cut to the identifier limit, ending in `_` and 8 hex digits of a
/// hash of the whole name, so that two long names sharing a prefix stay
/// distinct and the result is the same on every run.
fn shorten(name: &str, dialect: Dialect) -> String {
    let Some((limit, bytes)) = identifier_limit(dialect) else {
        return name.to_string();
    };
    let len = if bytes {
        name.len()
    } else {
        name.chars().count()
    };
    if len <= limit {
        return name.to_string();
    }
    let keep = limit - 9;
    let prefix: String = if bytes {
        let mut end = keep;
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        name[..end].to_string()
    } else {
        name.chars().take(keep).collect()
    };
    format!("{prefix}_{}", hex_hash(name))
}

/// 8 hex digits of the 32-bit FNV-1a hash of `text`: stable across runs,
/// platforms and Rust versions (unlike `std`'s hasher).
fn hex_hash(text: &str) -> String {
    format!("{:08x}", retort_schema::fnv1a_32(text.bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use retort_diff::{DiffOptions, diff};
    use retort_schema::{Column, ColumnType};

    fn convention() -> NamingConvention {
        NamingConvention {
            index: Some(Template::parse(NamedKind::Index, "ix_{table}_{columns}").unwrap()),
            unique: Some(Template::parse(NamedKind::Unique, "uq_{table}_{columns}").unwrap()),
            foreign_key: Some(
                Template::parse(
                    NamedKind::ForeignKey,
                    "fk_{table}_{columns}_{referred_table}",
                )
                .unwrap(),
            ),
            check: Some(Template::parse(NamedKind::Check, "ck_{table}_{constraint_hash}").unwrap()),
            primary_key: Some(Template::parse(NamedKind::PrimaryKey, "pk_{table}").unwrap()),
        }
    }

    fn users(unique_name: Option<&str>) -> Table {
        let mut t = Table::new("users");
        t.columns
            .push(Column::new("id", ColumnType::Integer).not_null());
        t.columns.push(Column::new("email", ColumnType::Text));
        t.primary_key = Some(PrimaryKey {
            name: None,
            columns: vec!["id".into()],
        });
        t.unique_constraints.push(UniqueConstraint {
            name: unique_name.map(str::to_string),
            columns: vec!["email".into()],
            nulls_not_distinct: false,
        });
        t.checks.push(CheckConstraint {
            name: None,
            expression: "length(email) > 3".into(),
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

    #[test]
    fn templates_reject_unknown_placeholders_naming_them() {
        let err = Template::parse(NamedKind::Unique, "uq_{table}_{name}").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("[naming] unique"), "{text}");
        assert!(text.contains("`{name}`"), "{text}");
        assert!(text.contains("{columns}"), "{text}");
        // A placeholder of another kind is unknown here too.
        let err = Template::parse(NamedKind::Unique, "uq_{table}_{referred_table}").unwrap_err();
        assert!(err.to_string().contains("`{referred_table}`"), "{err}");
        assert!(Template::parse(NamedKind::Index, "ix_{table").is_err());
        assert!(Template::parse(NamedKind::Index, "ix_}{table}").is_err());
    }

    #[test]
    fn templates_need_table_and_checks_need_a_hash() {
        let err = Template::parse(NamedKind::Unique, "uq_{columns}").unwrap_err();
        assert!(err.to_string().contains("must contain {table}"), "{err}");
        let err = Template::parse(NamedKind::Check, "ck_{table}").unwrap_err();
        assert!(err.to_string().contains("{constraint_hash}"), "{err}");
    }

    #[test]
    fn new_constraints_get_template_names_on_every_dialect() {
        for dialect in [Dialect::Sqlite, Dialect::Postgres, Dialect::Mysql] {
            let before = schema(vec![]);
            let after = schema(vec![users(None)]);
            let mut plan = diff(&before, &after, &DiffOptions { dialect });
            name_new_constraints(&mut plan.ops, &convention(), dialect);
            let Op::CreateTable { table } = &plan.ops[0].op else {
                panic!("{:?}", plan.ops)
            };
            assert_eq!(
                table.unique_constraints[0].name.as_deref(),
                Some("uq_users_email")
            );
            let check = table.checks[0].name.as_deref().unwrap();
            assert!(
                check.starts_with("ck_users_") && check.len() == 17,
                "{check}"
            );
            let pk = table.primary_key.as_ref().unwrap().name.as_deref();
            if dialect == Dialect::Mysql {
                assert_eq!(pk, None);
            } else {
                assert_eq!(pk, Some("pk_users"));
            }
        }
    }

    #[test]
    fn an_unnamed_model_constraint_still_matches_a_differently_named_database_one() {
        let live = schema(vec![users(Some("users_email_key"))]);
        let models = schema(vec![users(None)]);
        let mut plan = diff(
            &live,
            &models,
            &DiffOptions {
                dialect: Dialect::Postgres,
            },
        );
        name_new_constraints(&mut plan.ops, &convention(), Dialect::Postgres);
        assert!(plan.is_empty(), "{:?}", plan.ops);
    }

    #[test]
    fn the_downgrade_drops_the_conventional_name() {
        let mut without = users(None);
        without.unique_constraints.clear();
        let live = schema(vec![without]);
        let models = schema(vec![users(None)]);
        let options = DiffOptions {
            dialect: Dialect::Postgres,
        };
        let mut plan = diff(&live, &models, &options);
        name_new_constraints(&mut plan.ops, &convention(), Dialect::Postgres);
        let down = retort_diff::invert(&plan.ops());
        let names: Vec<_> = down
            .iter()
            .filter_map(|op| match op {
                Op::DropConstraint {
                    constraint: retort_diff::Constraint::Unique(c),
                    ..
                } => c.name.clone(),
                _ => None,
            })
            .collect();
        assert_eq!(names, vec!["uq_users_email".to_string()]);
    }

    #[test]
    fn long_names_are_cut_with_a_hash_within_the_limit() {
        let t = Template::parse(NamedKind::Unique, "uq_{table}_{columns}").unwrap();
        let subject = |columns: &str| Subject {
            table: "a_rather_long_table_name_for_testing",
            columns: vec![columns.to_string()],
            referred_table: None,
            definition: String::new(),
        };
        let a = t.render(
            &subject("first_very_long_column_name_xx"),
            Dialect::Postgres,
        );
        let b = t.render(
            &subject("first_very_long_column_name_yy"),
            Dialect::Postgres,
        );
        assert_eq!(a.len(), 63);
        assert_eq!(b.len(), 63);
        assert_ne!(a, b);
        assert_eq!(
            a,
            t.render(
                &subject("first_very_long_column_name_xx"),
                Dialect::Postgres
            )
        );
        let my = t.render(&subject(&"é".repeat(40)), Dialect::Mysql);
        assert_eq!(my.chars().count(), 64);
        let lite = t.render(&subject(&"c".repeat(80)), Dialect::Sqlite);
        assert!(lite.len() > 100);
    }

    #[test]
    fn collisions_are_errors_naming_the_table() {
        let conv = NamingConvention {
            foreign_key: Some(
                Template::parse(NamedKind::ForeignKey, "fk_{table}_{columns}").unwrap(),
            ),
            ..NamingConvention::default()
        };
        let mut t = users(None);
        for referred in ["a", "b"] {
            t.foreign_keys.push(ForeignKey {
                implicit_index: None,
                name: None,
                columns: vec!["id".into()],
                referred_schema: None,
                referred_table: referred.into(),
                referred_columns: vec!["id".into()],
                on_delete: Default::default(),
                on_update: Default::default(),
                deferrable: retort_schema::Deferral::NotDeferrable,
            });
        }
        let err = check_collisions(&schema(vec![t]), &conv, Dialect::Postgres).unwrap_err();
        assert!(err.to_string().contains("fk_users_id"), "{err}");
        assert!(err.to_string().contains("table users"), "{err}");
        check_collisions(&schema(vec![users(None)]), &convention(), Dialect::Postgres).unwrap();
    }

    #[test]
    fn names_differing_only_in_case_collide_where_the_dialect_ignores_case() {
        let conv = NamingConvention {
            foreign_key: Some(
                Template::parse(NamedKind::ForeignKey, "fk_{table}_{columns}").unwrap(),
            ),
            ..NamingConvention::default()
        };
        let mut t = users(None);
        for (name, referred) in [(Some("FK_Users_Id"), "a"), (None, "b")] {
            t.foreign_keys.push(ForeignKey {
                name: name.map(str::to_string),
                columns: vec!["id".into()],
                referred_schema: None,
                referred_table: referred.into(),
                referred_columns: vec!["id".into()],
                on_delete: Default::default(),
                on_update: Default::default(),
                deferrable: retort_schema::Deferral::NotDeferrable,
                implicit_index: None,
            });
        }
        let models = schema(vec![t]);
        check_collisions(&models, &conv, Dialect::Postgres).unwrap();
        for dialect in [Dialect::Sqlite, Dialect::Mysql] {
            let err = check_collisions(&models, &conv, dialect).unwrap_err();
            assert!(err.to_string().contains("table users"), "{dialect}: {err}");
        }
    }

    #[test]
    fn mysql_invented_unique_key_names_are_forgotten_only_with_a_unique_template() {
        let mut models = schema(vec![users(Some("email"))]);
        unname_mysql_unique_keys(&mut models, &NamingConvention::default());
        assert_eq!(
            models.tables[0].unique_constraints[0].name.as_deref(),
            Some("email")
        );
        unname_mysql_unique_keys(&mut models, &convention());
        assert_eq!(models.tables[0].unique_constraints[0].name, None);
        let mut explicit = schema(vec![users(Some("uq_mail")), {
            let mut t = users(Some("email_2"));
            t.name = "b".into();
            t
        }]);
        unname_mysql_unique_keys(&mut explicit, &convention());
        assert_eq!(
            explicit.table("users").unwrap().unique_constraints[0]
                .name
                .as_deref(),
            Some("uq_mail")
        );
        assert_eq!(
            explicit.table("b").unwrap().unique_constraints[0].name,
            None
        );
    }
}
