//! Hand-built schemas (the model loader is not a dependency of this crate).

use retort_diff::{Hazard, HazardCode, Op, PlannedOp};
use retort_schema::{
    CheckConstraint, Column, ColumnType, DefaultValue, ForeignKey, ForeignKeyAction, Index,
    IndexPart, IndexTarget, PrimaryKey, Schema, Table, Trigger, UniqueConstraint, View,
};

pub fn pk(columns: &[&str]) -> Option<PrimaryKey> {
    Some(PrimaryKey {
        name: None,
        columns: columns.iter().map(|c| c.to_string()).collect(),
    })
}

pub fn id() -> Column {
    let mut column = Column::new("id", ColumnType::Integer).not_null();
    column.autoincrement = true;
    column
}

pub fn index(name: &str, columns: &[&str]) -> Index {
    Index {
        name: name.into(),
        parts: columns.iter().map(|c| IndexPart::column(*c)).collect(),
        unique: false,
        predicate: None,
        method: None,
        nulls_not_distinct: false,
    }
}

/// orgs(id, name) ← users(id, org_id ON DELETE CASCADE, name, email, age)
/// with an index, a unique constraint, a check, a view and a trigger.
pub fn app() -> Schema {
    let mut orgs = Table::new("orgs");
    orgs.columns.push(id());
    orgs.columns
        .push(Column::new("name", ColumnType::Text).not_null());
    orgs.primary_key = pk(&["id"]);

    let mut users = Table::new("users");
    users.columns.push(id());
    users
        .columns
        .push(Column::new("org_id", ColumnType::Integer).not_null());
    users.columns.push(Column::new(
        "name",
        ColumnType::Varchar { length: Some(100) },
    ));
    users.columns.push(Column::new("email", ColumnType::Text));
    users.columns.push(Column::new("age", ColumnType::Text));
    users.primary_key = pk(&["id"]);
    users.indexes.push(index("ix_users_name", &["name"]));
    users.unique_constraints.push(UniqueConstraint {
        name: Some("uq_users_email".into()),
        columns: vec!["email".into()],
        nulls_not_distinct: false,
    });
    users.foreign_keys.push(ForeignKey {
        implicit_index: None,
        name: None,
        columns: vec!["org_id".into()],
        referred_schema: None,
        referred_table: "orgs".into(),
        referred_columns: vec!["id".into()],
        on_delete: ForeignKeyAction::Cascade,
        on_update: ForeignKeyAction::NoAction,
        deferrable: retort_schema::Deferral::NotDeferrable,
    });
    users.checks.push(CheckConstraint {
        name: Some("ck_users_name".into()),
        expression: "length(name) > 0".into(),
    });

    let mut audit = Table::new("audit");
    audit.columns.push(id());
    audit.columns.push(Column::new("what", ColumnType::Text));
    audit.primary_key = pk(&["id"]);

    Schema {
        tables: vec![audit, orgs, users],
        views: vec![
            View {
                name: "v_users".into(),
                sql: "CREATE VIEW v_users AS SELECT u.name, o.name AS org FROM users u JOIN orgs o ON o.id = u.org_id".into(),
            },
            View {
                name: "v_user_names".into(),
                sql: "CREATE VIEW v_user_names AS SELECT name FROM v_users".into(),
            },
        ],
        triggers: vec![Trigger {
            name: "trg_users_audit".into(),
            table: "users".into(),
            sql: "CREATE TRIGGER trg_users_audit AFTER INSERT ON users BEGIN INSERT INTO audit (what) VALUES ('user ' || NEW.name); END".into(),
        }],
        ..Schema::default()
    }
    .normalized()
}

pub fn planned(op: Op) -> PlannedOp {
    PlannedOp {
        op,
        hazards: Vec::new(),
    }
}

pub fn with_hazard(op: Op, code: HazardCode, message: &str) -> PlannedOp {
    PlannedOp {
        op,
        hazards: vec![Hazard::new(code, message)],
    }
}

pub fn users_column(schema: &Schema, name: &str) -> Column {
    schema.table("users").unwrap().column(name).unwrap().clone()
}

pub fn expression_index() -> Index {
    Index {
        name: "ix_users_lower_email".into(),
        parts: vec![
            IndexPart {
                prefix: None,
                target: IndexTarget::Expression("lower(email)".into()),
                descending: false,
                opclass: None,
            },
            IndexPart {
                prefix: None,
                target: IndexTarget::Column("age".into()),
                descending: true,
                opclass: None,
            },
        ],
        unique: true,
        predicate: Some("email IS NOT NULL".into()),
        method: None,
        nulls_not_distinct: false,
    }
}

pub fn created_at() -> Column {
    Column::new(
        "created_at",
        ColumnType::Timestamp {
            with_time_zone: false,
            precision: None,
        },
    )
    .not_null()
    .with_default(DefaultValue::Expression("datetime('now')".into()))
}
