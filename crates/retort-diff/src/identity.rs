//! Names that the dialect compares equal are one object: before the
//! comparison, both schemas are spelled alike.
//!
//! SQLite compares identifiers ignoring case, MySQL column, index and
//! constraint names (and table names under `lower_case_table_names` 1 or 2)
//! too, so `users` in the database and `Users` in the models are one table,
//! and a foreign key's `REFERENCES Users` names the table declared `users`
//! ([`NameRules`]). [`reconcile`] spells every reference as the object it
//! names is declared, and every model object that the database has as the
//! database spells it; the comparison, ordering and rename checks then
//! match names exactly. Objects only in the models keep their declared
//! spelling, which is what gets rendered. PostgreSQL names compare exactly
//! (the model loader folds unquoted names as the server does), so its
//! schemas are passed through untouched.

use crate::Rename;
use retort_schema::{ColumnType, Dialect, IndexTarget, NameKind, NameRules, Schema, Table};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// `from` (the database) and `to` (the models) with references spelled as
/// their targets are, and `to`'s objects that `from` has spelled as `from`
/// spells them; both normalised again where anything was respelled.
/// [`crate::diff`] does this itself; a caller that looks at names before
/// diffing (a filter) calls it first so that both sides agree.
pub fn reconcile<'a>(
    from: &'a Schema,
    to: &'a Schema,
    dialect: Dialect,
) -> (Cow<'a, Schema>, Cow<'a, Schema>) {
    let rules = NameRules::of(dialect, from);
    if !rules.ignores_any_case() || (is_folded(from, &rules) && is_folded(to, &rules)) {
        return (Cow::Borrowed(from), Cow::Borrowed(to));
    }
    let from = respelled(from, |schema| resolve_references(schema, &rules));
    let to = respelled(to, |schema| {
        spell_as(schema, &from, &rules);
        resolve_references(schema, &rules);
    });
    (from, to)
}

/// Whether every name in `schema` is its own key (`users`, `user_id`: the
/// usual spelling). Then each name is the only spelling of its identity,
/// so there is nothing to respell, and the copies [`reconcile`] would make
/// of a 20,000-table schema are saved.
fn is_folded(schema: &Schema, rules: &NameRules) -> bool {
    let folded = |kind: NameKind, name: &str| matches!(rules.key(kind, name), Cow::Borrowed(_));
    let columns = |names: &[String]| names.iter().all(|c| folded(NameKind::Column, c));
    let constraint = |name: &Option<String>| {
        name.as_deref()
            .is_none_or(|n| folded(NameKind::Constraint, n))
    };
    schema
        .enums
        .iter()
        .all(|e| folded(NameKind::EnumType, &e.name))
        && schema.tables.iter().all(|table| {
            folded(NameKind::Table, &table.name)
                && table.columns.iter().all(|c| {
                    folded(NameKind::Column, &c.name)
                        && match &c.ty {
                            ColumnType::Enum { name } => folded(NameKind::EnumType, name),
                            _ => true,
                        }
                })
                && table
                    .primary_key
                    .as_ref()
                    .is_none_or(|pk| constraint(&pk.name) && columns(&pk.columns))
                && table.indexes.iter().all(|i| {
                    folded(NameKind::Index, &i.name)
                        && i.column_names().all(|c| folded(NameKind::Column, c))
                })
                && table
                    .unique_constraints
                    .iter()
                    .all(|u| constraint(&u.name) && columns(&u.columns))
                && table.foreign_keys.iter().all(|fk| {
                    constraint(&fk.name)
                        && columns(&fk.columns)
                        && folded(NameKind::Table, &fk.referred_table)
                        && columns(&fk.referred_columns)
                })
                && table.checks.iter().all(|c| constraint(&c.name))
        })
}

/// `schema` after `edit`, borrowed when `edit` changed nothing (the usual
/// case: a schema spelled consistently).
fn respelled<'a>(schema: &'a Schema, edit: impl FnOnce(&mut Schema)) -> Cow<'a, Schema> {
    let mut copy = schema.clone();
    edit(&mut copy);
    if copy == *schema {
        Cow::Borrowed(schema)
    } else {
        copy.normalize();
        Cow::Owned(copy)
    }
}

/// A table's schema and name identity ([`table_key`]).
type TableKey = (Option<String>, String);

/// The key of a table: its schema as written (PostgreSQL only, whose names
/// compare exactly) and its name's identity.
fn table_key(rules: &NameRules, schema: Option<&str>, name: &str) -> TableKey {
    (
        schema.map(str::to_string),
        rules.key(NameKind::Table, name).into_owned(),
    )
}

/// How `index` (identity → declared name) spells the `kind` name `name`.
fn spelling<'i>(
    index: &'i BTreeMap<String, String>,
    rules: &NameRules,
    kind: NameKind,
    name: &str,
) -> Option<&'i String> {
    index.get(rules.key(kind, name).as_ref())
}

fn names_by_key<'n>(
    rules: &NameRules,
    kind: NameKind,
    names: impl Iterator<Item = &'n str>,
) -> BTreeMap<String, String> {
    let mut index = BTreeMap::new();
    for name in names {
        index
            .entry(rules.key(kind, name).into_owned())
            .or_insert_with(|| name.to_string());
    }
    index
}

fn respell(name: &mut String, index: &BTreeMap<String, String>, rules: &NameRules, kind: NameKind) {
    if let Some(spelled) = spelling(index, rules, kind, name)
        && spelled != name
    {
        name.clone_from(spelled);
    }
}

fn columns_by_key(rules: &NameRules, table: &Table) -> BTreeMap<String, String> {
    names_by_key(
        rules,
        NameKind::Column,
        table.columns.iter().map(|c| c.name.as_str()),
    )
}

/// Every name in `schema` that refers to another object (a key's or an
/// index's columns, a foreign key's table and columns, an enum column's
/// type) spelled as that object is declared.
fn resolve_references(schema: &mut Schema, rules: &NameRules) {
    let enums = names_by_key(
        rules,
        NameKind::EnumType,
        schema.enums.iter().map(|e| e.name.as_str()),
    );
    let mut tables: BTreeMap<TableKey, (String, BTreeMap<String, String>)> = BTreeMap::new();
    for table in &schema.tables {
        tables
            .entry(table_key(rules, table.schema.as_deref(), &table.name))
            .or_insert_with(|| (table.name.clone(), columns_by_key(rules, table)));
    }
    for table in &mut schema.tables {
        let Some((_, columns)) =
            tables.get(&table_key(rules, table.schema.as_deref(), &table.name))
        else {
            continue;
        };
        let column = |name: &mut String| respell(name, columns, rules, NameKind::Column);
        if let Some(pk) = &mut table.primary_key {
            pk.columns.iter_mut().for_each(column);
        }
        for unique in &mut table.unique_constraints {
            unique.columns.iter_mut().for_each(column);
        }
        for index in &mut table.indexes {
            for part in &mut index.parts {
                if let IndexTarget::Column(name) = &mut part.target {
                    column(name);
                }
            }
        }
        for fk in &mut table.foreign_keys {
            fk.columns.iter_mut().for_each(column);
            let target = table_key(rules, fk.referred_schema.as_deref(), &fk.referred_table);
            if let Some((name, referred_columns)) = tables.get(&target) {
                if *name != fk.referred_table {
                    fk.referred_table.clone_from(name);
                }
                for name in &mut fk.referred_columns {
                    respell(name, referred_columns, rules, NameKind::Column);
                }
            }
        }
        if !enums.is_empty() {
            for column in &mut table.columns {
                resolve_enum(&mut column.ty, &enums, rules);
            }
        }
    }
}

fn resolve_enum(ty: &mut ColumnType, enums: &BTreeMap<String, String>, rules: &NameRules) {
    match ty {
        ColumnType::Enum { name } => respell(name, enums, rules, NameKind::EnumType),
        ColumnType::Array(inner) => resolve_enum(inner, enums, rules),
        _ => {}
    }
}

/// `to`'s enum types, tables and their columns, indexes and named
/// constraints that `from` has under a name of the same identity, spelled
/// as `from` spells them.
fn spell_as(to: &mut Schema, from: &Schema, rules: &NameRules) {
    let enums = names_by_key(
        rules,
        NameKind::EnumType,
        from.enums.iter().map(|e| e.name.as_str()),
    );
    for enum_type in &mut to.enums {
        respell(&mut enum_type.name, &enums, rules, NameKind::EnumType);
    }
    let from_tables: BTreeMap<_, &Table> = from
        .tables
        .iter()
        .map(|t| (table_key(rules, t.schema.as_deref(), &t.name), t))
        .collect();
    for table in &mut to.tables {
        let Some(live) = from_tables.get(&table_key(rules, table.schema.as_deref(), &table.name))
        else {
            continue;
        };
        if table.name != live.name {
            table.name.clone_from(&live.name);
        }
        let columns = columns_by_key(rules, live);
        for column in &mut table.columns {
            respell(&mut column.name, &columns, rules, NameKind::Column);
        }
        let indexes = names_by_key(
            rules,
            NameKind::Index,
            live.indexes.iter().map(|i| i.name.as_str()),
        );
        for index in &mut table.indexes {
            respell(&mut index.name, &indexes, rules, NameKind::Index);
        }
        let constraints = names_by_key(rules, NameKind::Constraint, constraint_names(live));
        let constraint = |name: &mut Option<String>| {
            if let Some(name) = name {
                respell(name, &constraints, rules, NameKind::Constraint);
            }
        };
        if let Some(pk) = &mut table.primary_key {
            constraint(&mut pk.name);
        }
        table
            .unique_constraints
            .iter_mut()
            .for_each(|c| constraint(&mut c.name));
        table
            .foreign_keys
            .iter_mut()
            .for_each(|c| constraint(&mut c.name));
        table
            .checks
            .iter_mut()
            .for_each(|c| constraint(&mut c.name));
    }
}

fn constraint_names(table: &Table) -> impl Iterator<Item = &str> {
    let pk = table.primary_key.iter().filter_map(|pk| pk.name.as_deref());
    let uniques = table
        .unique_constraints
        .iter()
        .filter_map(|c| c.name.as_deref());
    let fks = table.foreign_keys.iter().filter_map(|c| c.name.as_deref());
    let checks = table.checks.iter().filter_map(|c| c.name.as_deref());
    pk.chain(uniques).chain(fks).chain(checks)
}

/// `renames` with each name spelled as the object it names: the old names
/// as the database (`from`) spells them, the new ones as the models (`to`)
/// do, so `--rename Users.Name=full_name` finds `users.name` on SQLite.
pub(crate) fn respell_renames(
    renames: &[Rename],
    from: &Schema,
    to: &Schema,
    dialect: Dialect,
) -> Vec<Rename> {
    let rules = NameRules::of(dialect, from);
    if !rules.ignores_any_case() {
        return renames.to_vec();
    }
    let table_names = |schema: &Schema| {
        names_by_key(
            &rules,
            NameKind::Table,
            schema.tables.iter().map(|t| t.name.as_str()),
        )
    };
    let (from_tables, to_tables) = (table_names(from), table_names(to));
    let spell_table = |name: &mut String, index: &BTreeMap<String, String>| {
        respell(name, index, &rules, NameKind::Table);
    };
    renames
        .iter()
        .cloned()
        .map(|mut rename| {
            match &mut rename {
                Rename::Table { from: old, to: new } => {
                    spell_table(old, &from_tables);
                    spell_table(new, &to_tables);
                }
                Rename::Column {
                    table,
                    from: old,
                    to: new,
                } => {
                    spell_table(table, &from_tables);
                    spell_table(table, &to_tables);
                    // The table may be named by its old or its new name.
                    let columns = |schema: &Schema| {
                        schema
                            .tables
                            .iter()
                            .find(|t| rules.same(NameKind::Table, &t.name, table))
                            .map(|t| columns_by_key(&rules, t))
                    };
                    if let Some(columns) = columns(from) {
                        respell(old, &columns, &rules, NameKind::Column);
                    }
                    if let Some(columns) = columns(to) {
                        respell(new, &columns, &rules, NameKind::Column);
                    }
                }
            }
            rename
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::{DiffOptions, Rename, diff, diff_with_renames};
    use retort_schema::{
        Column, ColumnType, Dialect, ForeignKey, ForeignKeyAction, Index, IndexPart, PrimaryKey,
        Schema, Table, UniqueConstraint,
    };

    fn users(name: &str, id: &str, email: &str) -> Table {
        let mut table = Table::new(name);
        table
            .columns
            .push(Column::new(id, ColumnType::Integer).not_null());
        table.columns.push(Column::new(email, ColumnType::Text));
        table.primary_key = Some(PrimaryKey {
            name: None,
            columns: vec![id.into()],
        });
        table.indexes.push(Index {
            name: "IX_Email".to_ascii_lowercase(),
            parts: vec![IndexPart::column(email)],
            unique: false,
            predicate: None,
            method: None,
            nulls_not_distinct: false,
        });
        table.unique_constraints.push(UniqueConstraint {
            name: Some("uq_email".into()),
            columns: vec![email.into()],
            nulls_not_distinct: false,
        });
        table
    }

    fn orders(referred_table: &str, referred_column: &str) -> Table {
        let mut table = Table::new("orders");
        table
            .columns
            .push(Column::new("user_id", ColumnType::Integer));
        table.foreign_keys.push(ForeignKey {
            name: None,
            columns: vec!["user_id".into()],
            referred_schema: None,
            referred_table: referred_table.into(),
            referred_columns: vec![referred_column.into()],
            on_delete: ForeignKeyAction::NoAction,
            on_update: ForeignKeyAction::NoAction,
            deferrable: Default::default(),
        });
        table
    }

    fn schema(tables: Vec<Table>) -> Schema {
        Schema {
            tables,
            ..Schema::default()
        }
        .normalized()
    }

    #[test]
    fn names_spelled_in_another_case_are_the_same_objects_where_the_dialect_says_so() {
        let live = schema(vec![users("users", "id", "email"), orders("Users", "ID")]);
        let models = schema(vec![users("Users", "ID", "Email"), orders("USERS", "Id")]);
        let sqlite = DiffOptions {
            dialect: Dialect::Sqlite,
        };
        assert!(
            diff(&live, &models, &sqlite).is_empty(),
            "{:#?}",
            diff(&live, &models, &sqlite)
        );

        // MySQL: columns ignore case, table names only where the server's
        // lower_case_table_names says so.
        let mysql = DiffOptions {
            dialect: Dialect::Mysql,
        };
        let live = schema(vec![users("users", "id", "email"), orders("users", "id")]);
        let models = schema(vec![users("users", "ID", "Email"), orders("users", "Id")]);
        assert!(diff(&live, &models, &mysql).is_empty());
        let models = schema(vec![users("Users", "id", "email"), orders("Users", "id")]);
        let names: Vec<&str> = diff(&live, &models, &mysql)
            .ops
            .iter()
            .map(|p| p.op.name())
            .collect();
        assert!(
            names.contains(&"drop_table") && names.contains(&"create_table"),
            "{names:?}"
        );
        let folding = Schema {
            table_names_ignore_case: true,
            ..live.clone()
        };
        assert!(diff(&folding, &models, &mysql).is_empty());

        // PostgreSQL compares exactly: folding happened while the models
        // were read.
        let postgres = DiffOptions {
            dialect: Dialect::Postgres,
        };
        let models = schema(vec![users("users", "id", "Email"), orders("users", "id")]);
        assert!(!diff(&live, &models, &postgres).is_empty());
    }

    #[test]
    fn schemas_spelled_in_lower_case_are_lent_not_copied() {
        let live = schema(vec![users("users", "id", "email"), orders("users", "id")]);
        for dialect in Dialect::ALL {
            let (from, to) = super::reconcile(&live, &live, dialect);
            assert!(matches!(from, std::borrow::Cow::Borrowed(_)), "{dialect}");
            assert!(matches!(to, std::borrow::Cow::Borrowed(_)), "{dialect}");
        }
        let mixed = schema(vec![users("users", "id", "email"), orders("Users", "id")]);
        let (from, _) = super::reconcile(&mixed, &live, Dialect::Sqlite);
        assert_eq!(
            from.table("orders").unwrap().foreign_keys[0].referred_table,
            "users"
        );
    }

    #[test]
    fn a_new_column_keeps_its_declared_spelling_and_a_matched_table_the_database_s() {
        let live = schema(vec![Table::new("users")]);
        let mut table = Table::new("Users");
        table.columns.push(Column::new("Name", ColumnType::Text));
        let models = schema(vec![table]);
        let plan = diff(
            &live,
            &models,
            &DiffOptions {
                dialect: Dialect::Sqlite,
            },
        );
        let json = serde_json::to_value(&plan).expect("plan serialises");
        assert_eq!(json["ops"][0]["op"], "add_column", "{json:#}");
        assert_eq!(json["ops"][0]["table"], "users", "{json:#}");
        assert_eq!(json["ops"][0]["column"]["name"], "Name", "{json:#}");
    }

    #[test]
    fn renames_find_their_objects_by_identity() {
        let live = schema(vec![users("users", "id", "email")]);
        let models = schema(vec![users("users", "id", "mail")]);
        let rename = Rename::Column {
            table: "USERS".into(),
            from: "Email".into(),
            to: "MAIL".into(),
        };
        let plan = diff_with_renames(
            &live,
            &models,
            &DiffOptions {
                dialect: Dialect::Sqlite,
            },
            &[rename],
        )
        .expect("the rename fits");
        let json = serde_json::to_value(&plan).expect("plan serialises");
        assert_eq!(json["ops"][0]["op"], "rename_column", "{json:#}");
        assert_eq!(json["ops"][0]["from"], "email", "{json:#}");
        assert_eq!(json["ops"][0]["to"], "mail", "{json:#}");
    }
}
