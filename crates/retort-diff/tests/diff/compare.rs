//! What is compared, and what is not a difference.

use super::support::*;
use retort_diff::{DiffOptions, Op, diff};
use retort_schema::{
    CheckConstraint, Column, ColumnType, DefaultValue, Dialect, EnumType, ForeignKeyAction,
    PrimaryKey, Schema, UniqueConstraint,
};

fn ops_of(from: &Schema, to: &Schema, dialect: Dialect) -> Vec<String> {
    summary(&round_trip(from, to, dialect))
}

#[test]
fn equal_schemas_give_the_empty_plan_whatever_the_column_order() {
    let a = schema(vec![table("users", vec![int("age"), varchar("name", 30)])]);
    let mut reordered = a.clone();
    reordered.tables[0].columns.reverse();
    for dialect in Dialect::ALL {
        assert!(diff(&a, &a, &DiffOptions { dialect }).is_empty());
        assert!(diff(&a, &reordered, &DiffOptions { dialect }).is_empty());
    }
}

#[test]
fn tables_are_created_and_dropped_whole() {
    let mut legacy = table("legacy", vec![int("x")]);
    legacy.indexes.push(index("ix_legacy_x", &["x"], false));
    let from = schema(vec![legacy.clone()]);
    let mut users = table("users", vec![int("age")]);
    users.indexes.push(index("ix_users_age", &["age"], false));
    let to = schema(vec![users]);
    assert_eq!(
        ops_of(&from, &to, Dialect::Sqlite),
        ["drop_table legacy", "create_table users"],
        "no separate index ops for created or dropped tables"
    );
}

#[test]
fn columns_are_added_dropped_and_altered() {
    let from = schema(vec![table(
        "users",
        vec![int("age"), varchar("name", 30), int("gone")],
    )]);
    let to = schema(vec![table(
        "users",
        vec![int("age").not_null(), varchar("name", 50), int("new")],
    )]);
    assert_eq!(
        ops_of(&from, &to, Dialect::Sqlite),
        [
            "drop_column users.gone",
            "add_column users.new",
            "alter_column users.age",
            "alter_column users.name"
        ]
    );
}

#[test]
fn defaults_and_autoincrement_are_compared() {
    let from = schema(vec![table("t", vec![int("a"), int("b")])]);
    let mut to = from.clone();
    to.tables[0].columns[1].default = Some(DefaultValue::Number("1".into()));
    to.tables[0].columns[0].autoincrement = true;
    assert_eq!(
        ops_of(&from, &to, Dialect::Sqlite),
        ["alter_column t.a", "alter_column t.id"]
    );
}

#[test]
fn boolean_defaults_equal_their_catalog_spelling_on_boolean_columns_only() {
    let with = |ty: ColumnType, value: DefaultValue| {
        schema(vec![table(
            "t",
            vec![Column::new("flag", ty).with_default(value)],
        )])
    };
    for (boolean, number) in [(true, "1"), (false, "0")] {
        let model = with(ColumnType::Boolean, DefaultValue::Boolean(boolean));
        let catalog = with(ColumnType::Boolean, DefaultValue::Number(number.into()));
        assert!(diff(&catalog, &model, &options(Dialect::Sqlite)).is_empty());
        assert!(diff(&model, &catalog, &options(Dialect::Mysql)).is_empty());
    }
    let model = with(ColumnType::Integer, DefaultValue::Boolean(true));
    let catalog = with(ColumnType::Integer, DefaultValue::Number("1".into()));
    assert_eq!(
        ops_of(&catalog, &model, Dialect::Sqlite),
        ["alter_column t.flag"]
    );
    let model = with(ColumnType::Boolean, DefaultValue::Boolean(true));
    let catalog = with(ColumnType::Boolean, DefaultValue::Number("0".into()));
    assert_eq!(
        ops_of(&catalog, &model, Dialect::Sqlite),
        ["alter_column t.flag"]
    );
}

#[test]
fn comments_count_only_where_the_dialect_has_them() {
    let from = schema(vec![table("t", vec![int("a")])]);
    let mut to = from.clone();
    to.tables[0].columns[1].comment = Some("the a".into());
    assert!(diff(&from, &to, &options(Dialect::Sqlite)).is_empty());
    assert_eq!(ops_of(&from, &to, Dialect::Postgres), ["alter_column t.a"]);
}

#[test]
fn a_changed_primary_key_is_dropped_and_created() {
    let from = schema(vec![table("t", vec![int("code").not_null()])]);
    let mut to = from.clone();
    to.tables[0].primary_key = Some(PrimaryKey {
        name: None,
        columns: vec!["code".into()],
    });
    assert_eq!(
        ops_of(&from, &to, Dialect::Postgres),
        ["drop_constraint t", "create_primary_key t"]
    );
    // A name on one side only is no difference (SQLite never reports one).
    let mut named = from.clone();
    named.tables[0].primary_key.as_mut().unwrap().name = Some("pk_t".into());
    assert!(diff(&from, &named, &options(Dialect::Sqlite)).is_empty());
}

#[test]
fn a_redefined_index_is_dropped_and_created() {
    let mut t = table("t", vec![int("a"), int("b")]);
    t.indexes.push(index("ix_t", &["a"], false));
    t.indexes.push(index("ix_same", &["b"], false));
    let from = schema(vec![t.clone()]);
    t.indexes[0] = index("ix_t", &["a", "b"], false);
    let to = schema(vec![t]);
    assert_eq!(
        ops_of(&from, &to, Dialect::Sqlite),
        ["drop_index t.ix_t", "create_index t.ix_t"]
    );
}

fn unique(name: Option<&str>, columns: &[&str]) -> UniqueConstraint {
    UniqueConstraint {
        name: name.map(String::from),
        columns: columns.iter().map(|c| c.to_string()).collect(),
        nulls_not_distinct: false,
    }
}

#[test]
fn unique_constraints_match_by_name_or_else_by_definition() {
    let with = |uniques: Vec<UniqueConstraint>| {
        let mut t = table("t", vec![int("a"), int("b")]);
        t.unique_constraints = uniques;
        schema(vec![t])
    };
    // Unnamed on one side: the definition decides, never a guessed name.
    let named = with(vec![unique(Some("uq_whatever"), &["a"])]);
    let unnamed = with(vec![unique(None, &["a"])]);
    assert!(diff(&named, &unnamed, &options(Dialect::Sqlite)).is_empty());
    assert!(diff(&unnamed, &named, &options(Dialect::Sqlite)).is_empty());
    // Both named: the name decides.
    let renamed = with(vec![unique(Some("uq_other"), &["a"])]);
    assert_eq!(
        ops_of(&named, &renamed, Dialect::Postgres),
        ["drop_constraint t", "create_unique_constraint t"]
    );
    let redefined = with(vec![unique(Some("uq_whatever"), &["a", "b"])]);
    assert_eq!(
        ops_of(&named, &redefined, Dialect::Postgres),
        ["drop_constraint t", "create_unique_constraint t"]
    );
    // Unnamed on both sides, different definitions.
    let other = with(vec![unique(None, &["b"])]);
    assert_eq!(
        ops_of(&unnamed, &other, Dialect::Postgres),
        ["drop_constraint t", "create_unique_constraint t"]
    );
}

#[test]
fn foreign_keys_match_by_definition_including_actions() {
    let parent = table("parent", vec![]);
    let child = |on_delete: ForeignKeyAction, name: Option<&str>| {
        let mut t = table("child", vec![int("parent_id")]);
        let mut key = fk("parent_id", "parent");
        key.on_delete = on_delete;
        key.name = name.map(String::from);
        t.foreign_keys.push(key);
        schema(vec![parent.clone(), t])
    };
    let catalog = child(
        ForeignKeyAction::NoAction,
        Some("fk_child_parent_id_parent"),
    );
    let model = child(ForeignKeyAction::NoAction, None);
    assert!(diff(&catalog, &model, &options(Dialect::Sqlite)).is_empty());
    let cascading = child(ForeignKeyAction::Cascade, None);
    assert_eq!(
        ops_of(&catalog, &cascading, Dialect::Postgres),
        [
            "drop_constraint child->parent",
            "create_foreign_key child->parent"
        ]
    );
}

#[test]
fn checks_match_by_expression() {
    let with = |expression: &str, name: Option<&str>| {
        let mut t = table("t", vec![int("a")]);
        t.checks.push(CheckConstraint {
            name: name.map(String::from),
            expression: expression.into(),
        });
        schema(vec![t])
    };
    assert!(
        diff(
            &with("a > 0", Some("ck_a")),
            &with("a > 0", None),
            &options(Dialect::Sqlite)
        )
        .is_empty()
    );
    assert_eq!(
        ops_of(&with("a > 0", None), &with("a >= 0", None), Dialect::Sqlite),
        ["drop_constraint t", "create_check_constraint t"]
    );
}

fn mood(values: &[&str]) -> EnumType {
    EnumType {
        schema: None,
        name: "mood".into(),
        values: values.iter().map(|v| v.to_string()).collect(),
    }
}

#[test]
fn enums_are_created_dropped_and_replaced_when_their_values_change() {
    let none = schema(vec![]);
    let mut sad = none.clone();
    sad.enums.push(mood(&["sad"]));
    let mut both = none.clone();
    both.enums.push(mood(&["sad", "ok"]));
    assert_eq!(ops_of(&none, &sad, Dialect::Postgres), ["create_enum mood"]);
    assert_eq!(ops_of(&sad, &none, Dialect::Postgres), ["drop_enum mood"]);
    // A changed value list is one alter_enum, whatever the change.
    assert_eq!(ops_of(&sad, &both, Dialect::Postgres), ["alter_enum mood"]);
    assert_eq!(ops_of(&both, &sad, Dialect::Postgres), ["alter_enum mood"]);
}

#[test]
fn alter_enum_tells_additions_from_removals_and_reorderings() {
    let alter = |from: &[&str], to: &[&str]| Op::AlterEnum {
        name: "mood".into(),
        schema: None,
        from_values: from.iter().map(|v| v.to_string()).collect(),
        to_values: to.iter().map(|v| v.to_string()).collect(),
    };
    assert!(alter(&["a", "c"], &["a", "b", "c", "d"]).enum_values_only_added());
    assert!(alter(&[], &["a"]).enum_values_only_added());
    assert!(!alter(&["a", "b"], &["a"]).enum_values_only_added());
    assert!(!alter(&["a", "b"], &["b", "a"]).enum_values_only_added());
    assert!(!alter(&["a", "b"], &["b", "a", "c"]).enum_values_only_added());
    assert!(!alter(&["a"], &["a"]).enum_values_only_added());

    let op = alter(&["sad"], &["sad", "ok"]);
    assert_eq!(op.inverse(), alter(&["sad", "ok"], &["sad"]));
    assert_eq!(op.inverse().inverse(), op);
    let json = serde_json::to_value(&op).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"op": "alter_enum", "enum": "mood", "from_values": ["sad"], "to_values": ["sad", "ok"]})
    );
    let mut state = schema(vec![]);
    state.enums.push(mood(&["sad"]));
    op.apply(&mut state).unwrap();
    assert_eq!(state.enums[0].values, ["sad", "ok"]);
    assert_eq!(
        alter(&[], &[])
            .apply(&mut schema(vec![]))
            .unwrap_err()
            .to_string(),
        "op `alter_enum` names enum type `mood`, which does not exist"
    );
}

#[test]
fn sqlite_collations_compare_in_any_case_with_binary_as_none() {
    let with = |collation: Option<&str>| {
        let mut column = Column::new("name", ColumnType::Text);
        column.collation = collation.map(str::to_string);
        schema(vec![table("t", vec![column])])
    };
    let sqlite = DiffOptions {
        dialect: Dialect::Sqlite,
    };
    assert!(diff(&with(Some("nocase")), &with(Some("NOCASE")), &sqlite).is_empty());
    assert!(diff(&with(Some("Binary")), &with(None), &sqlite).is_empty());
    assert_eq!(
        ops_of(&with(Some("NOCASE")), &with(None), Dialect::Sqlite),
        ["alter_column t.name"]
    );
    assert_eq!(
        ops_of(&with(Some("NOCASE")), &with(Some("RTRIM")), Dialect::Sqlite),
        ["alter_column t.name"]
    );
}
