//! Hazards per op, their JSON, and a snapshot of a representative plan.

use super::support::*;
use retort_diff::{HazardCode, Op, diff, hazards, invert, plan};
use retort_schema::{
    CheckConstraint, Column, ColumnType, DefaultValue, Dialect, Index, PrimaryKey, UniqueConstraint,
};

fn codes(op: &Op, dialect: Dialect) -> Vec<&'static str> {
    hazards(op, &options(dialect))
        .iter()
        .map(|h| h.code.as_str())
        .collect()
}

fn alter(from: ColumnType, to: ColumnType) -> Op {
    Op::AlterColumn {
        table: "users".into(),
        from: Column::new("age", from),
        to: Column::new("age", to),
    }
}

#[test]
fn dropping_a_table_loses_its_rows_for_good() {
    let op = Op::DropTable {
        table: table("legacy", vec![]),
    };
    let found = hazards(&op, &options(Dialect::Postgres));
    assert_eq!(found[0].code, HazardCode::DataLoss);
    assert_eq!(found[0].message, "drops table legacy and all its rows");
    assert_eq!(found[1].code, HazardCode::Irreversible);
    assert_eq!(
        serde_json::to_string(&found[0]).unwrap(),
        r#"{"code":"data_loss","message":"drops table legacy and all its rows"}"#
    );
}

#[test]
fn dropping_a_column_loses_data_and_rebuilds_on_sqlite() {
    let op = Op::DropColumn {
        table: "users".into(),
        column: int("age"),
    };
    assert_eq!(codes(&op, Dialect::Postgres), ["data_loss", "irreversible"]);
    assert_eq!(
        codes(&op, Dialect::Sqlite),
        ["data_loss", "irreversible", "table_rewrite"]
    );
    assert!(
        hazards(&op, &options(Dialect::Sqlite))[0]
            .message
            .contains("users.age")
    );
}

#[test]
fn narrowing_types_lose_data_and_widening_ones_do_not() {
    use ColumnType::*;
    let narrowing = [
        (Varchar { length: Some(50) }, Varchar { length: Some(20) }),
        (BigInt, Integer),
        (Integer, SmallInt),
        (Text, Varchar { length: Some(10) }),
        (Double, Real),
        (
            Decimal {
                precision: Some(10),
                scale: Some(2),
            },
            Decimal {
                precision: Some(8),
                scale: Some(2),
            },
        ),
        (
            Decimal {
                precision: Some(10),
                scale: Some(2),
            },
            Decimal {
                precision: Some(10),
                scale: Some(1),
            },
        ),
        (Integer, Text),
        (Text, Integer),
        (Boolean, Integer),
        (
            InlineEnum {
                values: vec!["a".into(), "b".into()],
            },
            InlineEnum {
                values: vec!["a".into()],
            },
        ),
        (Array(Box::new(BigInt)), Array(Box::new(Integer))),
    ];
    for (from, to) in narrowing {
        assert_eq!(
            codes(&alter(from.clone(), to.clone()), Dialect::Postgres).first(),
            Some(&"data_loss"),
            "{from} -> {to}"
        );
    }
    let widening = [
        (Varchar { length: Some(20) }, Varchar { length: Some(50) }),
        (Varchar { length: Some(20) }, Text),
        (Char { length: Some(2) }, Varchar { length: Some(2) }),
        (Integer, BigInt),
        (SmallInt, Integer),
        (Real, Double),
        (
            Decimal {
                precision: Some(8),
                scale: Some(2),
            },
            Decimal {
                precision: Some(10),
                scale: Some(2),
            },
        ),
        (
            Timestamp {
                with_time_zone: false,
                precision: None,
            },
            Timestamp {
                with_time_zone: true,
                precision: None,
            },
        ),
        (Json, Jsonb),
        (
            InlineEnum {
                values: vec!["a".into()],
            },
            InlineEnum {
                values: vec!["a".into(), "b".into()],
            },
        ),
    ];
    for (from, to) in widening {
        assert!(
            !codes(&alter(from.clone(), to.clone()), Dialect::Postgres).contains(&"data_loss"),
            "{from} -> {to}"
        );
    }
}

#[test]
fn fewer_fractional_second_digits_round_values() {
    let ts = |precision| ColumnType::Timestamp {
        with_time_zone: false,
        precision,
    };
    let loses = |from, to, dialect| codes(&alter(from, to), dialect).contains(&"data_loss");
    // No `(n)` is 6 digits on PostgreSQL, 0 on MySQL.
    assert!(loses(ts(None), ts(Some(3)), Dialect::Postgres));
    assert!(loses(ts(Some(6)), ts(Some(3)), Dialect::Postgres));
    assert!(!loses(ts(Some(3)), ts(None), Dialect::Postgres));
    assert!(!loses(ts(None), ts(Some(3)), Dialect::Mysql));
    assert!(loses(ts(Some(3)), ts(None), Dialect::Mysql));
}

#[test]
fn postgres_type_changes_that_rewrite_the_table_hold_a_long_lock() {
    use ColumnType::*;
    let numeric = |p: Option<u32>, s: Option<u32>| Decimal {
        precision: p,
        scale: s,
    };
    let rewrites = [
        (Integer, BigInt),
        (Varchar { length: Some(50) }, Varchar { length: Some(20) }),
        (Text, Varchar { length: Some(10) }),
        (Text, Integer),
        (Integer, Boolean),
        (Json, Jsonb),
        (
            Timestamp {
                with_time_zone: false,
                precision: None,
            },
            Timestamp {
                with_time_zone: true,
                precision: None,
            },
        ),
        (numeric(Some(10), Some(2)), numeric(Some(12), Some(3))),
        (numeric(None, None), numeric(Some(10), Some(2))),
        (
            Enum {
                name: "mood".into(),
            },
            Text,
        ),
    ];
    for (from, to) in rewrites {
        let found = codes(&alter(from.clone(), to.clone()), Dialect::Postgres);
        assert!(
            found.ends_with(&["table_rewrite", "long_lock"]),
            "{from} -> {to}: {found:?}"
        );
    }
    let in_place = [
        (Varchar { length: Some(20) }, Varchar { length: Some(50) }),
        (Varchar { length: Some(20) }, Varchar { length: None }),
        (Varchar { length: Some(20) }, Text),
        (Text, Varchar { length: None }),
        (numeric(Some(8), Some(2)), numeric(Some(10), Some(2))),
        (
            Array(Box::new(Varchar { length: Some(2) })),
            Array(Box::new(Text)),
        ),
    ];
    for (from, to) in in_place {
        assert!(
            codes(&alter(from.clone(), to.clone()), Dialect::Postgres).is_empty(),
            "{from} -> {to}"
        );
    }
    // Unbounded numeric keeps every value in place (data_loss stays: on
    // MySQL a bare DECIMAL is DECIMAL(10,0)).
    assert_eq!(
        codes(
            &alter(numeric(Some(8), Some(2)), numeric(None, None)),
            Dialect::Postgres
        ),
        ["data_loss"]
    );
    // Other dialects keep their own rules (SQLite: the rebuild hazard).
    assert_eq!(
        codes(&alter(Integer, BigInt), Dialect::Sqlite),
        ["table_rewrite"]
    );
}

fn alter_enum(from: &[&str], to: &[&str]) -> Op {
    Op::AlterEnum {
        name: "mood".into(),
        schema: None,
        from_values: from.iter().map(|v| v.to_string()).collect(),
        to_values: to.iter().map(|v| v.to_string()).collect(),
    }
}

#[test]
fn enum_additions_are_safe_and_rebuilds_rewrite_and_may_lose_values() {
    assert!(codes(&alter_enum(&["a"], &["a", "b"]), Dialect::Postgres).is_empty());
    assert!(codes(&alter_enum(&["b"], &["a", "b"]), Dialect::Postgres).is_empty());
    assert_eq!(
        codes(&alter_enum(&["a", "b"], &["b", "a"]), Dialect::Postgres),
        ["table_rewrite", "long_lock"]
    );
    let removal = alter_enum(&["a", "b", "it's"], &["a"]);
    assert_eq!(
        codes(&removal, Dialect::Postgres),
        ["data_loss", "table_rewrite", "long_lock"]
    );
    let hazards = hazards(&removal, &options(Dialect::Postgres));
    assert_eq!(
        hazards[0].message,
        "removes 'b', 'it''s' from enum mood; the conversion fails while any row holds a \
         removed value (update those rows first)"
    );
}

#[test]
fn not_null_fails_on_existing_nulls_and_sqlite_rebuilds() {
    let op = Op::AlterColumn {
        table: "users".into(),
        from: int("age"),
        to: int("age").not_null(),
    };
    let found = hazards(&op, &options(Dialect::Sqlite));
    assert_eq!(found[0].code, HazardCode::FailsOnExistingRows);
    assert!(found[0].message.contains("users.age"));
    assert_eq!(found[1].code, HazardCode::TableRewrite);
    assert_eq!(codes(&op, Dialect::Mysql), ["fails_on_existing_rows"]);
}

#[test]
fn adding_a_not_null_column_without_default_fails_on_existing_rows() {
    let add = |column: Column| Op::AddColumn {
        table: "users".into(),
        column,
    };
    assert_eq!(
        codes(&add(int("age").not_null()), Dialect::Postgres),
        ["fails_on_existing_rows"]
    );
    assert!(codes(&add(int("age")), Dialect::Postgres).is_empty());
    let defaulted = int("age")
        .not_null()
        .with_default(DefaultValue::Number("0".into()));
    assert!(codes(&add(defaulted), Dialect::Sqlite).is_empty());
    // SQLite's ADD COLUMN takes constant defaults only.
    let stamped = Column::new(
        "at",
        ColumnType::Timestamp {
            with_time_zone: false,
            precision: None,
        },
    )
    .with_default(DefaultValue::CurrentTimestamp);
    assert_eq!(
        codes(&add(stamped.clone()), Dialect::Sqlite),
        ["table_rewrite"]
    );
    assert!(codes(&add(stamped), Dialect::Postgres).is_empty());
}

#[test]
fn new_constraints_fail_on_existing_rows_and_rebuild_on_sqlite() {
    let table = || "users".to_string();
    let ops = [
        Op::CreateUniqueConstraint {
            table: table(),
            constraint: UniqueConstraint {
                name: None,
                columns: vec!["email".into()],
                nulls_not_distinct: false,
            },
        },
        Op::CreateCheckConstraint {
            table: table(),
            constraint: CheckConstraint {
                name: Some("ck_age".into()),
                expression: "age > 0".into(),
            },
        },
        Op::CreateForeignKey {
            table: table(),
            constraint: fk("team_id", "teams"),
        },
        Op::CreatePrimaryKey {
            table: table(),
            constraint: PrimaryKey {
                name: None,
                columns: vec!["id".into()],
            },
        },
    ];
    for op in &ops {
        assert_eq!(codes(op, Dialect::Postgres), ["fails_on_existing_rows"]);
        assert_eq!(
            codes(op, Dialect::Sqlite),
            ["fails_on_existing_rows", "table_rewrite"]
        );
        assert_eq!(codes(&op.inverse(), Dialect::Sqlite), ["table_rewrite"]);
        assert!(codes(&op.inverse(), Dialect::Postgres).is_empty());
    }
}

#[test]
fn indexes_lock_on_postgres_and_unique_ones_may_fail() {
    let create = |index: Index| Op::CreateIndex {
        table: "users".into(),
        index,
    };
    assert_eq!(
        codes(&create(index("ix_age", &["age"], false)), Dialect::Postgres),
        ["long_lock"]
    );
    assert!(codes(&create(index("ix_age", &["age"], false)), Dialect::Sqlite).is_empty());
    assert!(codes(&create(index("ix_age", &["age"], false)), Dialect::Mysql).is_empty());
    assert_eq!(
        codes(
            &create(index("uq_email", &["email"], true)),
            Dialect::Sqlite
        ),
        ["fails_on_existing_rows"]
    );
}

#[test]
fn representative_plan_json() {
    let mut users = table(
        "users",
        vec![varchar("name", 50), int("age"), int("legacy_id")],
    );
    users.foreign_keys.push(fk("legacy_id", "legacy"));
    let from = schema(vec![table("legacy", vec![]), users]);

    let mut users = table(
        "users",
        vec![varchar("name", 20), int("age").not_null(), int("team_id")],
    );
    users
        .indexes
        .push(index("ix_users_team_id", &["team_id"], false));
    users.foreign_keys.push(fk("team_id", "teams"));
    let to = schema(vec![table("teams", vec![varchar("title", 100)]), users]);

    let upgrade = round_trip(&from, &to, Dialect::Sqlite);
    let downgrade = plan(invert(&upgrade.ops()), &options(Dialect::Sqlite));
    assert_eq!(
        diff(&to, &from, &options(Dialect::Sqlite)).ops().len(),
        downgrade.ops.len()
    );
    insta::with_settings!({
        snapshot_path => concat!(env!("CARGO_MANIFEST_DIR"), "/../../snapshots/diff"),
        prepend_module_to_snapshot => false,
    }, {
        insta::assert_json_snapshot!("representative_plan_sqlite", upgrade);
        insta::assert_json_snapshot!("representative_downgrade_sqlite", downgrade);
    });
}

mod data_aware {
    use super::*;
    use retort_diff::{
        LONG_LOCK_MIN_ROWS, StatsRequest, TableRows, TableStats, hazards_with_stats, thousands,
    };

    fn stats(table: &str, rows: u64, estimated: bool, non_null: &[(&str, u64)]) -> TableStats {
        let mut stats = TableStats::default();
        stats.tables.insert(
            table.into(),
            TableRows {
                rows,
                estimated,
                non_null: non_null.iter().map(|(c, n)| (c.to_string(), *n)).collect(),
            },
        );
        stats
    }

    fn with(op: &Op, dialect: Dialect, stats: &TableStats) -> Vec<(&'static str, String)> {
        hazards_with_stats(op, &options(dialect), stats)
            .into_iter()
            .map(|h| (h.code.as_str(), h.message))
            .collect()
    }

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(4123), "4,123");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn a_dropped_column_states_its_non_null_values_in_message_and_json() {
        let op = Op::DropColumn {
            table: "users".into(),
            column: varchar("name", 100),
        };
        let stats = stats("users", 5000, false, &[("name", 4123)]);
        let found = hazards_with_stats(&op, &options(Dialect::Postgres), &stats);
        assert_eq!(
            found[0].message,
            "drops column users.name, holding 4,123 non-null values"
        );
        assert_eq!(
            serde_json::to_string(&found[0]).unwrap(),
            r#"{"code":"data_loss","message":"drops column users.name, holding 4,123 non-null values","rows":5000,"non_null":4123}"#
        );
    }

    #[test]
    fn a_dropped_table_states_its_rows_and_an_estimate_says_about() {
        let op = Op::DropTable {
            table: table("legacy", vec![]),
        };
        let found = with(
            &op,
            Dialect::Postgres,
            &stats("legacy", 2_000_000, true, &[]),
        );
        assert_eq!(
            found[0].1,
            "drops table legacy and its about 2,000,000 rows"
        );
        let found = with(&op, Dialect::Postgres, &stats("legacy", 0, false, &[]));
        assert_eq!(found[0].1, "drops table legacy (empty in this database)");
        let json = serde_json::to_value(
            &hazards_with_stats(
                &op,
                &options(Dialect::Postgres),
                &stats("legacy", 7, true, &[]),
            )[0],
        )
        .unwrap();
        assert_eq!(json["rows"], 7);
        assert_eq!(json["estimated"], true);
    }

    #[test]
    fn fails_on_existing_rows_is_kept_on_an_empty_table_with_its_figure() {
        let op = Op::AddColumn {
            table: "users".into(),
            column: int("age").not_null(),
        };
        // The revision runs later where the table has rows: an empty table
        // here is stated, not a reason to drop the hazard.
        let empty = with(&op, Dialect::Postgres, &stats("users", 0, false, &[]));
        assert_eq!(
            empty,
            [(
                "fails_on_existing_rows",
                "adds NOT NULL column users.age without a default; fails if users has rows \
                 (add a default or make it nullable first) (users has 0 rows here)"
                    .to_string()
            )]
        );
        let full = with(&op, Dialect::Postgres, &stats("users", 3, false, &[]));
        assert_eq!(full[0].0, "fails_on_existing_rows");
        assert!(
            full[0].1.contains("fails because users has 3 rows"),
            "{full:?}"
        );
        // An estimate of 0 may be an unanalysed table: still reported.
        let unknown = with(&op, Dialect::Postgres, &stats("users", 0, true, &[]));
        assert_eq!(unknown[0].0, "fails_on_existing_rows");
        let unique = Op::CreateIndex {
            table: "users".into(),
            index: index("ux_users_age", &["age"], true),
        };
        assert_eq!(
            with(&unique, Dialect::Sqlite, &stats("users", 0, false, &[])),
            [(
                "fails_on_existing_rows",
                "creates unique index ux_users_age on users; fails if existing rows have \
                 duplicates (users has 0 rows here)"
                    .to_string()
            )]
        );
        let not_null = Op::AlterColumn {
            table: "users".into(),
            from: int("age"),
            to: int("age").not_null(),
        };
        let found = with(&not_null, Dialect::Mysql, &stats("users", 0, false, &[]));
        assert_eq!(found[0].0, "fails_on_existing_rows", "{found:?}");
        assert!(found[0].1.ends_with("(users has 0 rows here)"), "{found:?}");
        let narrowing = Op::AlterColumn {
            table: "users".into(),
            from: varchar("name", 100),
            to: varchar("name", 20),
        };
        let found = with(
            &narrowing,
            Dialect::Postgres,
            &stats("users", 0, false, &[]),
        );
        assert_eq!(found[0].0, "data_loss", "{found:?}");
        assert!(found[0].1.ends_with("(users has 0 rows here)"), "{found:?}");
    }

    #[test]
    fn long_lock_is_reported_on_large_tables_only() {
        let op = Op::CreateIndex {
            table: "users".into(),
            index: index("ix_users_age", &["age"], false),
        };
        assert!(with(&op, Dialect::Postgres, &stats("users", 0, false, &[])).is_empty());
        assert!(
            with(
                &op,
                Dialect::Postgres,
                &stats("users", LONG_LOCK_MIN_ROWS - 1, false, &[])
            )
            .is_empty()
        );
        let large = with(
            &op,
            Dialect::Postgres,
            &stats("users", 2_400_000, true, &[]),
        );
        assert_eq!(large[0].0, "long_lock");
        assert!(
            large[0].1.ends_with("(users has about 2,400,000 rows)"),
            "{large:?}"
        );
        // Without figures the hazard stays a "may".
        assert_eq!(codes(&op, Dialect::Postgres), ["long_lock"]);
    }

    #[test]
    fn a_rewrite_of_an_empty_table_is_worded_as_instant() {
        let op = Op::DropColumn {
            table: "users".into(),
            column: int("age"),
        };
        let empty = with(
            &op,
            Dialect::Sqlite,
            &stats("users", 0, false, &[("age", 0)]),
        );
        assert_eq!(
            empty[2].1,
            "sqlite cannot drop column in place: rebuilds table users (empty in this database, so it is instant)"
        );
        let full = with(
            &op,
            Dialect::Sqlite,
            &stats("users", 12, false, &[("age", 1)]),
        );
        assert_eq!(
            full[0].1,
            "drops column users.age, holding 1 non-null value"
        );
        assert!(full[2].1.ends_with("copying its 12 rows"), "{full:?}");
    }

    #[test]
    fn stats_request_names_touched_tables_and_dropped_columns_but_not_new_tables() {
        let ops = [
            Op::DropColumn {
                table: "users".into(),
                column: int("age"),
            },
            Op::CreateTable {
                table: table("fresh", vec![int("id")]),
            },
            Op::CreateIndex {
                table: "fresh".into(),
                index: index("ix_fresh_id", &["id"], false),
            },
            Op::CreateIndex {
                table: "posts".into(),
                index: index("ix_posts_id", &["id"], false),
            },
        ];
        let request = StatsRequest::for_ops(&ops);
        let tables: Vec<(&str, Vec<&str>)> = request
            .tables
            .iter()
            .map(|(t, cols)| (t.as_str(), cols.iter().map(String::as_str).collect()))
            .collect();
        assert_eq!(tables, [("posts", vec![]), ("users", vec!["age"])]);
    }
}

#[test]
fn postgres_collation_changes_hold_a_long_lock_without_a_rewrite() {
    let with = |collation: Option<&str>| {
        let mut column = Column::new("name", ColumnType::Text);
        column.collation = collation.map(str::to_string);
        column
    };
    let change = |from: Option<&str>, to: Option<&str>| Op::AlterColumn {
        table: "users".into(),
        from: with(from),
        to: with(to),
    };
    assert_eq!(
        codes(&change(None, Some("C")), Dialect::Postgres),
        ["long_lock"]
    );
    assert_eq!(
        codes(&change(Some("C"), None), Dialect::Postgres),
        ["long_lock"]
    );
    // SQLite rebuilds the table for it, as for any column change.
    assert_eq!(
        codes(&change(None, Some("NOCASE")), Dialect::Sqlite),
        ["table_rewrite"]
    );
    // With the type's rewrite, the lock is stated once.
    let mut retyped = change(None, Some("C"));
    if let Op::AlterColumn { from, .. } = &mut retyped {
        from.ty = ColumnType::Integer;
    }
    let found = codes(&retyped, Dialect::Postgres);
    assert!(
        found.ends_with(&["table_rewrite", "long_lock"]),
        "{found:?}"
    );
    assert_eq!(found.iter().filter(|c| **c == "long_lock").count(), 1);
}
