//! The ordering rules of `retort_diff::order`, one test each.

use super::support::*;
use retort_schema::{
    Column, ColumnType, DefaultValue, Dialect, EnumType, ForeignKey, Schema, Table,
};

fn with_fk(mut table: Table, key: ForeignKey) -> Table {
    table.foreign_keys.push(key);
    table
}

/// a ← b ← c: b references a, c references b.
fn chain() -> Schema {
    schema(vec![
        table("c_a", vec![]),
        with_fk(table("b_b", vec![int("a_id")]), fk("a_id", "c_a")),
        with_fk(table("a_c", vec![int("b_id")]), fk("b_id", "b_b")),
    ])
}

#[test]
fn parents_are_created_first_and_dropped_last() {
    // Names sort against the dependency order, so only the graph explains
    // the result.
    for dialect in Dialect::ALL {
        let created = round_trip(&schema(vec![]), &chain(), dialect);
        assert_eq!(
            summary(&created),
            ["create_table c_a", "create_table b_b", "create_table a_c"]
        );
        let dropped = round_trip(&chain(), &schema(vec![]), dialect);
        assert_eq!(
            summary(&dropped),
            ["drop_table a_c", "drop_table b_b", "drop_table c_a"]
        );
    }
}

/// x → y → z → x, plus a self-reference on x.
fn three_cycle() -> Schema {
    let x = with_fk(table("x", vec![int("y_id"), int("x_id")]), fk("y_id", "y"));
    schema(vec![
        with_fk(x, fk("x_id", "x")),
        with_fk(table("y", vec![int("z_id")]), fk("z_id", "z")),
        with_fk(table("z", vec![int("x_id")]), fk("x_id", "x")),
    ])
}

#[test]
fn a_foreign_key_cycle_is_broken_where_forward_references_are_impossible() {
    let plan = round_trip(&schema(vec![]), &three_cycle(), Dialect::Postgres);
    assert_eq!(
        summary(&plan),
        [
            "create_table x",
            "create_table y",
            "create_table z",
            "create_foreign_key x->y",
            "create_foreign_key y->z",
            "create_foreign_key z->x",
        ]
    );
    // The self-reference is no cycle: it stays inline.
    let ops = plan.ops();
    let retort_diff::Op::CreateTable { table: x } = &ops[0] else {
        panic!("expected create_table x first");
    };
    assert_eq!(x.foreign_keys.len(), 1);
    assert_eq!(x.foreign_keys[0].referred_table, "x");

    let dropped = round_trip(&three_cycle(), &schema(vec![]), Dialect::Postgres);
    assert_eq!(
        summary(&dropped),
        [
            "drop_constraint x->y",
            "drop_constraint y->z",
            "drop_constraint z->x",
            "drop_table x",
            "drop_table y",
            "drop_table z",
        ]
    );
}

#[test]
fn a_foreign_key_cycle_stays_inline_on_sqlite_ordered_by_name() {
    let plan = round_trip(&schema(vec![]), &three_cycle(), Dialect::Sqlite);
    assert_eq!(
        summary(&plan),
        ["create_table x", "create_table y", "create_table z"]
    );
    assert!(plan.ops().iter().all(|op| match op {
        retort_diff::Op::CreateTable { table } =>
            table.foreign_keys.len() == 1 + usize::from(table.name == "x"),
        _ => false,
    }));
}

#[test]
fn a_two_table_cycle_next_to_a_plain_parent() {
    let to = schema(vec![
        with_fk(table("a", vec![int("b_id")]), fk("b_id", "b")),
        with_fk(
            with_fk(table("b", vec![int("a_id"), int("p_id")]), fk("a_id", "a")),
            fk("p_id", "p"),
        ),
        table("p", vec![]),
    ]);
    let plan = round_trip(&schema(vec![]), &to, Dialect::Mysql);
    assert_eq!(
        summary(&plan),
        [
            "create_table a",
            "create_table p",
            "create_table b",
            "create_foreign_key a->b",
            "create_foreign_key b->a",
        ]
    );
}

#[test]
fn a_kept_tables_foreign_key_is_dropped_before_the_table_it_references() {
    let from = schema(vec![
        table("legacy", vec![]),
        with_fk(
            table("users", vec![int("legacy_id")]),
            fk("legacy_id", "legacy"),
        ),
    ]);
    let to = schema(vec![table("users", vec![int("legacy_id")])]);
    assert_eq!(
        summary(&round_trip(&from, &to, Dialect::Postgres)),
        ["drop_constraint users->legacy", "drop_table legacy"]
    );
}

#[test]
fn columns_come_before_the_indexes_and_keys_on_them() {
    let from = schema(vec![table("parent", vec![]), table("t", vec![int("old")])]);
    let mut new_t = table("t", vec![int("new"), int("parent_id")]);
    new_t.indexes.push(index("ix_t_new", &["new"], false));
    new_t.foreign_keys.push(fk("parent_id", "parent"));
    let to = schema(vec![table("parent", vec![]), new_t]);
    let plan = round_trip(&from, &to, Dialect::Postgres);
    let ops = summary(&plan);
    let at = |name: &str| ops.iter().position(|o| o == name).unwrap();
    assert!(at("add_column t.new") < at("create_index t.ix_t_new"));
    assert!(at("add_column t.parent_id") < at("create_foreign_key t->parent"));

    // The mirror: the index goes before its column.
    let mut indexed = table("t", vec![int("a")]);
    indexed.indexes.push(index("ix_t_a", &["a"], false));
    let plan = round_trip(
        &schema(vec![indexed]),
        &schema(vec![table("t", vec![])]),
        Dialect::Sqlite,
    );
    assert_eq!(summary(&plan), ["drop_index t.ix_t_a", "drop_column t.a"]);
}

#[test]
fn a_foreign_key_comes_after_the_referred_column() {
    let from = schema(vec![table("p", vec![]), table("c", vec![int("p_code")])]);
    let mut p = table("p", vec![int("code")]);
    p.indexes.push(index("uq_p_code", &["code"], true));
    let mut key = fk("p_code", "p");
    key.referred_columns = vec!["code".into()];
    let to = schema(vec![p, with_fk(table("c", vec![int("p_code")]), key)]);
    let ops = summary(&round_trip(&from, &to, Dialect::Postgres));
    let at = |name: &str| ops.iter().position(|o| o == name).unwrap();
    assert!(at("add_column p.code") < at("create_index p.uq_p_code"));
    assert!(at("create_index p.uq_p_code") < at("create_foreign_key c->p"));
}

#[test]
fn a_primary_key_moves_around_the_nullability_change() {
    let mut from_t = table("t", vec![int("code")]);
    from_t.primary_key.as_mut().unwrap().columns = vec!["id".into()];
    let from = schema(vec![from_t]);
    let mut to_t = Table::new("t");
    to_t.columns.push(int("id"));
    to_t.columns.push(int("code").not_null());
    to_t.primary_key = Some(retort_schema::PrimaryKey {
        name: None,
        columns: vec!["code".into()],
    });
    let to = schema(vec![to_t]);
    assert_eq!(
        summary(&round_trip(&from, &to, Dialect::Postgres)),
        [
            "drop_constraint t",
            "alter_column t.code",
            "alter_column t.id",
            "create_primary_key t"
        ]
    );
}

fn mood() -> EnumType {
    EnumType {
        schema: None,
        name: "mood".into(),
        values: vec!["sad".into(), "ok".into()],
    }
}

fn mood_column() -> Column {
    Column::new(
        "mood",
        ColumnType::Enum {
            name: "mood".into(),
        },
    )
}

#[test]
fn enums_are_created_before_and_dropped_after_their_users() {
    let plain = schema(vec![table("a_users", vec![])]);
    let mut with_enum = schema(vec![table("a_users", vec![mood_column()])]);
    with_enum.enums.push(mood());
    assert_eq!(
        summary(&round_trip(&plain, &with_enum, Dialect::Postgres)),
        ["create_enum mood", "add_column a_users.mood"]
    );
    assert_eq!(
        summary(&round_trip(&with_enum, &plain, Dialect::Postgres)),
        ["drop_column a_users.mood", "drop_enum mood"]
    );
    let mut created = schema(vec![table("a_users", vec![mood_column()])]);
    created.enums.push(mood());
    assert_eq!(
        summary(&round_trip(&schema(vec![]), &created, Dialect::Postgres)),
        ["create_enum mood", "create_table a_users"]
    );
    // Altering a column onto the enum: the enum first.
    let altered = schema(vec![table("a_users", vec![int("mood")])]);
    let ops = summary(&round_trip(&altered, &created, Dialect::Postgres));
    assert_eq!(ops, ["create_enum mood", "alter_column a_users.mood"]);
}

#[test]
fn an_added_enum_value_precedes_its_users_and_a_removed_one_follows_them() {
    let with = |values: &[&str], default: &str| {
        let column = mood_column().with_default(DefaultValue::String(default.into()));
        let mut s = schema(vec![table("a_users", vec![column])]);
        let mut mood = mood();
        mood.values = values.iter().map(|v| v.to_string()).collect();
        s.enums.push(mood);
        s
    };
    let short = with(&["sad", "ok"], "ok");
    let long = with(&["sad", "ok", "meh"], "meh");
    // The new default needs the new value; the phases alone agree.
    assert_eq!(
        summary(&round_trip(&short, &long, Dialect::Postgres)),
        ["alter_enum mood", "alter_column a_users.mood"]
    );
    // The default moves off the value before it goes, against the phases.
    assert_eq!(
        summary(&round_trip(&long, &short, Dialect::Postgres)),
        ["alter_column a_users.mood", "alter_enum mood"]
    );
}

#[test]
fn a_reused_index_name_is_freed_first() {
    let mut a = table("a", vec![int("x")]);
    a.indexes.push(index("ix_shared", &["x"], false));
    let b = table("b", vec![int("x")]);
    let from = schema(vec![a.clone(), b.clone()]);
    let mut b2 = b;
    b2.indexes.push(index("ix_shared", &["x"], false));
    a.indexes.clear();
    let to = schema(vec![a, b2]);
    assert_eq!(
        summary(&round_trip(&from, &to, Dialect::Sqlite)),
        ["drop_index a.ix_shared", "create_index b.ix_shared"]
    );
}
