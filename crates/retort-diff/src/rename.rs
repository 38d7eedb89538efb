//! Renames: the candidates the differ reports and the confirmed renames it
//! turns into `rename_table` / `rename_column` ops.
//!
//! A differ cannot tell a rename from a drop + add by itself (both schemas
//! are equally consistent with either), so it never guesses: it lists the
//! pairs that look like renames ([`RenameCandidate`]), and only a rename the
//! user confirmed ([`Rename`]) becomes a rename op. Confirmed renames run
//! before every other op, and the rest of the plan is computed against the
//! renamed schema, so the other ops use the new names.

use crate::DiffOptions;
use crate::ops::Op;
use retort_schema::{Column, Schema, Table};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A rename the user confirmed (flag, config, model hint or prompt).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Rename {
    /// Table `from` (in the database) is table `to` (in the models).
    Table { from: String, to: String },
    /// Column `from` of `table` is column `to`. `table` is the table's
    /// name in the models (its old name is accepted too when the table is
    /// renamed as well).
    Column {
        table: String,
        from: String,
        to: String,
    },
}

impl Rename {
    /// The command-line flag that confirms this rename:
    /// `--rename users.name=full_name` or `--rename old=new`.
    pub fn flag(&self) -> String {
        match self {
            Rename::Table { from, to } => format!("--rename {from}={to}"),
            Rename::Column { table, from, to } => format!("--rename {table}.{from}={to}"),
        }
    }

    /// `users.name -> users.full_name` or `old -> new`, for messages.
    pub fn describe(&self) -> String {
        match self {
            Rename::Table { from, to } => format!("{from} -> {to}"),
            Rename::Column { table, from, to } => format!("{table}.{from} -> {table}.{to}"),
        }
    }
}

/// A dropped and an added object that look like a rename: columns of one
/// table with the same type, nullability and default, or tables with the
/// same columns. Serialised as
/// `{"kind":"column","table":"users","from":"name","to":"full_name","flag":"--rename users.name=full_name"}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RenameCandidate {
    #[serde(flatten)]
    pub rename: Rename,
    /// The flag that confirms it ([`Rename::flag`]).
    pub flag: String,
}

impl RenameCandidate {
    fn new(rename: Rename) -> Self {
        RenameCandidate {
            flag: rename.flag(),
            rename,
        }
    }
}

/// A confirmed rename that does not fit the two schemas.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RenameError {
    /// The renamed object is not in the database.
    #[error("rename {rename}: {subject} does not exist in the database")]
    NotInDatabase { rename: String, subject: String },
    /// The new name is not in the models.
    #[error("rename {rename}: {subject} does not exist in the models")]
    NotInModels { rename: String, subject: String },
    /// The old name is still in the models, so nothing was renamed.
    #[error("rename {rename}: {subject} is still in the models; remove it or drop the rename")]
    StillInModels { rename: String, subject: String },
    /// The new name is already taken in the database.
    #[error("rename {rename}: {subject} already exists in the database")]
    AlreadyInDatabase { rename: String, subject: String },
    /// The renames do not apply to the database schema.
    #[error("the confirmed renames do not apply to the database schema")]
    Apply(#[source] crate::ApplyError),
    /// Two renames move the same object.
    #[error("rename {rename}: {subject} is renamed twice")]
    Twice { rename: String, subject: String },
}

/// The rename ops for `renames`, checked against `from` (the database) and
/// `to` (the models), table renames first, each group sorted.
pub(crate) fn rename_ops(
    from: &Schema,
    to: &Schema,
    renames: &[Rename],
) -> Result<Vec<Op>, RenameError> {
    let mut sorted: Vec<&Rename> = renames
        .iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    // Tables before columns (the enum's order), so a column rename can name
    // the table by its new name.
    sorted.sort_by_key(|r| matches!(r, Rename::Column { .. }));
    let mut ops = Vec::new();
    let mut table_renames: Vec<(&str, &str)> = Vec::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for rename in sorted {
        let label = rename.describe();
        let twice = |subject: String| RenameError::Twice {
            rename: label.clone(),
            subject,
        };
        match rename {
            Rename::Table { from: old, to: new } => {
                check_table_rename(from, to, old, new, &label)?;
                if !seen.insert(format!("table {old}")) {
                    return Err(twice(format!("table {old}")));
                }
                table_renames.push((old, new));
                ops.push(Op::RenameTable {
                    from: old.clone(),
                    to: new.clone(),
                });
            }
            Rename::Column {
                table,
                from: old,
                to: new,
            } => {
                // Accept the table's old name too.
                let (old_table, new_table) = match table_renames
                    .iter()
                    .find(|(o, n)| *o == table || *n == table)
                {
                    Some((o, n)) => (*o, *n),
                    None => (table.as_str(), table.as_str()),
                };
                let db_table = from
                    .table(old_table)
                    .ok_or_else(|| RenameError::NotInDatabase {
                        rename: label.clone(),
                        subject: format!("table {old_table}"),
                    })?;
                let model_table = to
                    .table(new_table)
                    .ok_or_else(|| RenameError::NotInModels {
                        rename: label.clone(),
                        subject: format!("table {new_table}"),
                    })?;
                check_column_rename(db_table, model_table, old, new, &label)?;
                if !seen.insert(format!("column {new_table}.{old}")) {
                    return Err(twice(format!("column {new_table}.{old}")));
                }
                ops.push(Op::RenameColumn {
                    table: new_table.to_string(),
                    from: old.clone(),
                    to: new.clone(),
                });
            }
        }
    }
    Ok(ops)
}

fn check_table_rename(
    from: &Schema,
    to: &Schema,
    old: &str,
    new: &str,
    label: &str,
) -> Result<(), RenameError> {
    let table = |name: &str| format!("table {name}");
    check_rename(
        label,
        (old, new),
        |name| from.table(name).is_some(),
        |name| to.table(name).is_some(),
        (table, table),
    )
}

fn check_column_rename(
    db_table: &Table,
    model_table: &Table,
    old: &str,
    new: &str,
    label: &str,
) -> Result<(), RenameError> {
    check_rename(
        label,
        (old, new),
        |name| db_table.column(name).is_some(),
        |name| model_table.column(name).is_some(),
        (
            |name: &str| format!("column {}.{name}", db_table.name),
            |name: &str| format!("column {}.{name}", model_table.name),
        ),
    )
}

/// What every rename `old` → `new` must satisfy: `old` is in the database
/// and gone from the models, `new` is in the models and free in the
/// database. `subjects` name an object of the database and of the models
/// in the error.
fn check_rename(
    label: &str,
    (old, new): (&str, &str),
    in_database: impl Fn(&str) -> bool,
    in_models: impl Fn(&str) -> bool,
    (database_subject, models_subject): (impl Fn(&str) -> String, impl Fn(&str) -> String),
) -> Result<(), RenameError> {
    let rename = label.to_string();
    if !in_database(old) {
        return Err(RenameError::NotInDatabase {
            rename,
            subject: database_subject(old),
        });
    }
    if !in_models(new) {
        return Err(RenameError::NotInModels {
            rename,
            subject: models_subject(new),
        });
    }
    if in_models(old) {
        return Err(RenameError::StillInModels {
            rename,
            subject: models_subject(old),
        });
    }
    if in_database(new) {
        return Err(RenameError::AlreadyInDatabase {
            rename,
            subject: database_subject(new),
        });
    }
    Ok(())
}

/// The pairs of `from` (the database, after confirmed renames) and `to`
/// (the models) that look like renames, sorted: tables first.
pub(crate) fn candidates(
    from: &Schema,
    to: &Schema,
    options: &DiffOptions,
) -> Vec<RenameCandidate> {
    let key = |t: &Table| (t.schema.clone(), t.name.clone());
    let from_keys: BTreeSet<_> = from.tables.iter().map(key).collect();
    let to_keys: BTreeSet<_> = to.tables.iter().map(key).collect();
    let dropped: Vec<&Table> = from
        .tables
        .iter()
        .filter(|t| !to_keys.contains(&key(t)))
        .collect();
    let added: Vec<&Table> = to
        .tables
        .iter()
        .filter(|t| !from_keys.contains(&key(t)))
        .collect();
    let mut found = Vec::new();
    for old in &dropped {
        for new in &added {
            if old.schema == new.schema && same_columns(old, new, options) {
                found.push(RenameCandidate::new(Rename::Table {
                    from: old.name.clone(),
                    to: new.name.clone(),
                }));
            }
        }
    }
    // Looked up by key once: a scan of `to` per table made this quadratic.
    let to_by_key: std::collections::BTreeMap<_, &Table> =
        to.tables.iter().map(|t| (key(t), t)).collect();
    for old_table in &from.tables {
        let Some(new_table) = to_by_key.get(&key(old_table)).copied() else {
            continue;
        };
        for old in &old_table.columns {
            if new_table.column(&old.name).is_some() {
                continue;
            }
            for new in &new_table.columns {
                if old_table.column(&new.name).is_none() && alike(old, new, options) {
                    found.push(RenameCandidate::new(Rename::Column {
                        table: new_table.name.clone(),
                        from: old.name.clone(),
                        to: new.name.clone(),
                    }));
                }
            }
        }
    }
    found.sort();
    found
}

/// Same type, nullability and default: what a column keeps when renamed.
/// (A comment, autoincrement or collation change is an `alter_column` after the
/// rename, so it does not stop a pair from being a candidate.)
fn alike(a: &Column, b: &Column, options: &DiffOptions) -> bool {
    let mut renamed = a.clone();
    renamed.name.clone_from(&b.name);
    renamed.comment.clone_from(&b.comment);
    renamed.autoincrement = b.autoincrement;
    renamed.charset.clone_from(&b.charset);
    renamed.collation.clone_from(&b.collation);
    crate::compare::same_column(&renamed, b, options)
}

/// The same column names, each alike ([`alike`]), in any order.
fn same_columns(a: &Table, b: &Table, options: &DiffOptions) -> bool {
    a.columns.len() == b.columns.len()
        && a.columns
            .iter()
            .all(|c| b.column(&c.name).is_some_and(|d| alike(c, d, options)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{apply_all, diff, diff_with_renames, invert};
    use retort_schema::{ColumnType, DefaultValue, Dialect, ForeignKey, Index, IndexPart};

    fn options() -> DiffOptions {
        DiffOptions {
            dialect: Dialect::Postgres,
        }
    }

    fn users(name_column: &str) -> Table {
        let mut users = Table::new("users");
        users
            .columns
            .push(Column::new("id", ColumnType::Integer).not_null());
        users
            .columns
            .push(Column::new(name_column, ColumnType::Text));
        users.indexes.push(Index {
            name: "ix_users_name".into(),
            parts: vec![IndexPart::column(name_column)],
            unique: false,
            predicate: None,
            method: None,
            nulls_not_distinct: false,
        });
        users
    }

    fn schema(tables: Vec<Table>) -> Schema {
        Schema {
            tables,
            ..Schema::default()
        }
        .normalized()
    }

    fn column_rename() -> Rename {
        Rename::Column {
            table: "users".into(),
            from: "name".into(),
            to: "full_name".into(),
        }
    }

    #[test]
    fn a_dropped_and_an_added_alike_column_is_a_candidate_and_stays_drop_add() {
        let before = schema(vec![users("name")]);
        let after = schema(vec![users("full_name")]);
        let plan = diff(&before, &after, &options());
        assert_eq!(
            plan.rename_candidates,
            vec![RenameCandidate::new(column_rename())]
        );
        let names: Vec<_> = plan.ops.iter().map(|p| p.op.name()).collect();
        assert!(names.contains(&"drop_column") && names.contains(&"add_column"));
    }

    #[test]
    fn columns_of_different_type_nullability_or_default_are_no_candidates() {
        let before = schema(vec![users("name")]);
        for change in [
            |c: &mut Column| c.ty = ColumnType::Integer,
            |c: &mut Column| c.nullable = false,
            |c: &mut Column| c.default = Some(DefaultValue::String("x".into())),
        ] {
            let mut table = users("full_name");
            change(&mut table.columns[1]);
            let plan = diff(&before, &schema(vec![table]), &options());
            assert!(plan.rename_candidates.is_empty(), "{plan:?}");
        }
    }

    #[test]
    fn a_dropped_and_an_added_table_with_the_same_columns_is_a_candidate() {
        let mut people = users("name");
        people.name = "people".into();
        let plan = diff(
            &schema(vec![users("name")]),
            &schema(vec![people]),
            &options(),
        );
        assert_eq!(
            plan.rename_candidates,
            vec![RenameCandidate::new(Rename::Table {
                from: "users".into(),
                to: "people".into()
            })]
        );
        assert_eq!(plan.rename_candidates[0].flag, "--rename users=people");
    }

    #[test]
    fn a_confirmed_column_rename_is_one_op_whose_inverse_restores_the_schema() {
        let before = schema(vec![users("name")]);
        let after = schema(vec![users("full_name")]);
        let plan = diff_with_renames(&before, &after, &options(), &[column_rename()]).unwrap();
        assert_eq!(
            plan.ops(),
            vec![Op::RenameColumn {
                table: "users".into(),
                from: "name".into(),
                to: "full_name".into()
            }]
        );
        assert!(plan.ops[0].hazards.is_empty());
        assert!(plan.rename_candidates.is_empty());
        // The index follows the column, as in the database.
        assert_eq!(apply_all(&before, &plan.ops()).unwrap(), after);
        let down = crate::plan(invert(&plan.ops()), &options());
        assert!(down.ops[0].hazards.is_empty());
        assert_eq!(apply_all(&after, &down.ops()).unwrap(), before);
    }

    #[test]
    fn a_confirmed_table_rename_carries_referring_foreign_keys() {
        let mut orders = Table::new("orders");
        orders
            .columns
            .push(Column::new("user_id", ColumnType::Integer));
        orders.foreign_keys.push(ForeignKey {
            implicit_index: None,
            name: None,
            columns: vec!["user_id".into()],
            referred_schema: None,
            referred_table: "users".into(),
            referred_columns: vec!["id".into()],
            on_delete: Default::default(),
            on_update: Default::default(),
            deferrable: retort_schema::Deferral::NotDeferrable,
        });
        let mut people = users("name");
        people.name = "people".into();
        let mut people_orders = orders.clone();
        people_orders.foreign_keys[0].referred_table = "people".into();
        let before = schema(vec![users("name"), orders]);
        let after = schema(vec![people, people_orders]);
        let rename = Rename::Table {
            from: "users".into(),
            to: "people".into(),
        };
        let plan = diff_with_renames(&before, &after, &options(), &[rename]).unwrap();
        assert_eq!(
            plan.ops(),
            vec![Op::RenameTable {
                from: "users".into(),
                to: "people".into()
            }]
        );
        assert_eq!(apply_all(&after, &invert(&plan.ops())).unwrap(), before);
    }

    #[test]
    fn a_rename_with_a_type_change_is_a_rename_then_an_alter() {
        let before = schema(vec![users("name")]);
        let mut table = users("full_name");
        table.columns[1].ty = ColumnType::Varchar { length: Some(200) };
        let after = schema(vec![table]);
        let plan = diff_with_renames(&before, &after, &options(), &[column_rename()]).unwrap();
        let names: Vec<_> = plan.ops.iter().map(|p| p.op.name()).collect();
        assert_eq!(names, ["rename_column", "alter_column"]);
        assert_eq!(apply_all(&before, &plan.ops()).unwrap(), after);
    }

    #[test]
    fn a_table_and_its_column_renamed_together_accept_either_table_name() {
        let before = schema(vec![users("name")]);
        let mut people = users("full_name");
        people.name = "people".into();
        let after = schema(vec![people]);
        for table in ["users", "people"] {
            let renames = [
                Rename::Column {
                    table: table.into(),
                    from: "name".into(),
                    to: "full_name".into(),
                },
                Rename::Table {
                    from: "users".into(),
                    to: "people".into(),
                },
            ];
            let plan = diff_with_renames(&before, &after, &options(), &renames).unwrap();
            let names: Vec<_> = plan.ops.iter().map(|p| p.op.name()).collect();
            assert_eq!(names, ["rename_table", "rename_column"], "{table}");
            assert_eq!(apply_all(&before, &plan.ops()).unwrap(), after);
            assert_eq!(apply_all(&after, &invert(&plan.ops())).unwrap(), before);
        }
    }

    #[test]
    fn renames_that_do_not_fit_name_the_object() {
        let before = schema(vec![users("name")]);
        let after = schema(vec![users("full_name")]);
        let check = |rename: Rename, expect: &str| {
            let err = diff_with_renames(&before, &after, &options(), &[rename]).unwrap_err();
            assert_eq!(err.to_string(), expect);
        };
        check(
            Rename::Column {
                table: "users".into(),
                from: "nom".into(),
                to: "full_name".into(),
            },
            "rename users.nom -> users.full_name: column users.nom does not exist in the database",
        );
        check(
            Rename::Column {
                table: "users".into(),
                from: "name".into(),
                to: "fullname".into(),
            },
            "rename users.name -> users.fullname: column users.fullname does not exist in the models",
        );
        check(
            Rename::Table {
                from: "ghosts".into(),
                to: "users".into(),
            },
            "rename ghosts -> users: table ghosts does not exist in the database",
        );
    }

    #[test]
    fn candidates_serialise_with_kind_table_and_flag() {
        let json = serde_json::to_value(RenameCandidate::new(column_rename())).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kind":"column","table":"users","from":"name","to":"full_name","flag":"--rename users.name=full_name"})
        );
        let op = Op::RenameTable {
            from: "a".into(),
            to: "b".into(),
        };
        assert_eq!(
            serde_json::to_value(&op).unwrap(),
            serde_json::json!({"op":"rename_table","from":"a","to":"b"})
        );
        let plan = diff(
            &schema(vec![users("name")]),
            &schema(vec![users("full_name")]),
            &options(),
        );
        let json = serde_json::to_value(&plan).unwrap();
        assert_eq!(json["rename_candidates"][0]["to"], "full_name");
        // No candidates: the key is absent, so the JSON contract is unchanged.
        let json =
            serde_json::to_value(diff(&schema(vec![]), &schema(vec![]), &options())).unwrap();
        assert_eq!(json, serde_json::json!({"ops":[]}));
    }
}
