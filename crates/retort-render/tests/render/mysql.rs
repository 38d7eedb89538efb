//! MySQL: snapshots of each op's SQL, and the scripts run on a real
//! MariaDB/MySQL server (`RETORT_TEST_MYSQL_URL`), each test in its own
//! database, checked through information_schema.

use crate::fixtures::{index, pk, planned};
use retort_diff::{Constraint, DiffOptions, Op, PlannedOp, diff, invert, plan};
use retort_render::{RenderError, Script, render, schema_sql};
use retort_schema::{
    CheckConstraint, Column, ColumnType, DefaultValue, Dialect, ForeignKey, ForeignKeyAction,
    Schema, Table, UniqueConstraint,
};
use retort_test_support::{Server, TestDatabase, db_exec, db_rows};

const MY: Dialect = Dialect::Mysql;

macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({
            snapshot_path => concat!(env!("CARGO_MANIFEST_DIR"), "/../../snapshots/render"),
            prepend_module_to_snapshot => false,
        }, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

fn id() -> Column {
    let mut column = Column::new("id", ColumnType::Integer).not_null();
    column.autoincrement = true;
    column
}

fn status(values: &[&str]) -> Column {
    Column::new(
        "status",
        ColumnType::InlineEnum {
            values: values.iter().map(|v| v.to_string()).collect(),
        },
    )
    .not_null()
    .with_default(DefaultValue::String("new".into()))
}

fn price(precision: u32) -> Column {
    let mut column = Column::new(
        "price",
        ColumnType::Decimal {
            precision: Some(precision),
            scale: Some(2),
        },
    )
    .not_null()
    .with_default(DefaultValue::Number("0".into()));
    column.comment = Some("in cents; it's net".into());
    column
}

fn email(nullable: bool) -> Column {
    let column = Column::new("email", ColumnType::Varchar { length: Some(255) });
    if nullable { column } else { column.not_null() }
}

fn fk_org(name: Option<&str>) -> ForeignKey {
    ForeignKey {
        implicit_index: None,
        name: name.map(str::to_string),
        columns: vec!["org_id".into()],
        referred_schema: None,
        referred_table: "orgs".into(),
        referred_columns: vec!["id".into()],
        on_delete: ForeignKeyAction::Cascade,
        on_update: ForeignKeyAction::NoAction,
        deferrable: retort_schema::Deferral::NotDeferrable,
    }
}

/// orgs(id, name) ← users(id, org_id, email, price, status, bio, active),
/// users with an unnamed foreign key and no index on org_id (MySQL makes
/// the implicit one).
fn shop() -> Schema {
    let mut orgs = Table::new("orgs");
    orgs.columns.push(id());
    orgs.columns
        .push(Column::new("name", ColumnType::Varchar { length: Some(100) }).not_null());
    orgs.primary_key = pk(&["id"]);

    let mut users = Table::new("users");
    users.comment = Some("people who buy".into());
    users.columns.push(id());
    users
        .columns
        .push(Column::new("org_id", ColumnType::Integer).not_null());
    users.columns.push(email(false));
    users.columns.push(price(10));
    users.columns.push(status(&["new", "active"]));
    users.columns.push(Column::new("bio", ColumnType::Text));
    users.columns.push(
        Column::new("active", ColumnType::Boolean)
            .not_null()
            .with_default(DefaultValue::Boolean(true)),
    );
    users.primary_key = pk(&["id"]);
    users.foreign_keys.push(fk_org(None));
    Schema {
        tables: vec![orgs, users],
        ..Schema::default()
    }
    .normalized()
}

fn with_users(change: impl FnOnce(&mut Table)) -> Schema {
    let mut schema = shop();
    change(schema.table_mut("users").unwrap());
    schema.normalized()
}

fn options() -> DiffOptions {
    DiffOptions { dialect: MY }
}

/// The upgrade and downgrade scripts from `from` to `to`.
fn scripts(from: &Schema, to: &Schema) -> (Script, Script) {
    let upgrade = diff(from, to, &options());
    let up = render(&upgrade.ops, from, MY).unwrap_or_else(|e| panic!("{e}"));
    let down_plan = plan(invert(&upgrade.ops()), &options());
    let down = render(&down_plan.ops, to, MY).unwrap_or_else(|e| panic!("{e}"));
    (up, down)
}

fn both(from: &Schema, to: &Schema) -> String {
    let (up, down) = scripts(from, to);
    format!(
        "-- upgrade\n{}\n-- downgrade\n{}",
        up.to_sql(),
        down.to_sql()
    )
}

fn render_ops(ops: Vec<PlannedOp>, from: &Schema) -> String {
    match render(&ops, from, MY) {
        Ok(script) => script.to_sql(),
        Err(err) => format!("error: {err}\n"),
    }
}

// ---------------------------------------------------------------------------
// Snapshots

#[test]
fn mysql_schema_sql_names_constraints_and_writes_comments() {
    let mut schema = shop();
    let users = schema.table_mut("users").unwrap();
    users.unique_constraints.push(UniqueConstraint {
        name: None,
        columns: vec!["email".into()],
        nulls_not_distinct: false,
    });
    users.checks.push(CheckConstraint {
        name: None,
        expression: "price >= 0".into(),
    });
    snapshot!("mysql_schema_sql", schema_sql(&schema, MY).join(";\n"));
}

#[test]
fn mysql_alter_column_restates_the_whole_column() {
    let to = with_users(|t| {
        *t.column_mut("price").unwrap() = price(12);
        *t.column_mut("email").unwrap() = email(true);
    });
    snapshot!("mysql_alter_column", both(&shop(), &to));
}

#[test]
fn mysql_enum_value_append() {
    let to = with_users(|t| *t.column_mut("status").unwrap() = status(&["new", "active", "gone"]));
    snapshot!("mysql_enum_append", both(&shop(), &to));
}

#[test]
fn mysql_foreign_keys_and_their_indexes() {
    // An explicit index for the key: its downgrade must take the key
    // off while the index goes (MySQL error 1553 otherwise).
    let to = with_users(|t| t.indexes.push(index("ix_users_org", &["org_id"])));
    let mut out = both(&shop(), &to);
    // Dropping only the index the key uses: key dropped and re-added.
    let ops = vec![planned(Op::DropIndex {
        table: "users".into(),
        index: index("ix_users_org", &["org_id"]),
    })];
    out.push_str("\n-- drop the index a foreign key needs\n");
    out.push_str(&render_ops(ops, &to));
    // Dropping the unnamed key: its implicit index goes too.
    let ops = vec![planned(Op::DropConstraint {
        table: "users".into(),
        constraint: Constraint::ForeignKey(fk_org(None)),
    })];
    out.push_str("\n-- drop the unnamed key\n");
    out.push_str(&render_ops(ops, &shop()));
    snapshot!("mysql_foreign_keys", out);
}

#[test]
fn mysql_unique_keys() {
    let mut unique = index("ux_users_email", &["email"]);
    unique.unique = true;
    let to = with_users(|t| t.indexes.push(unique));
    let mut out = both(&shop(), &to);
    let ops = vec![
        planned(Op::CreateUniqueConstraint {
            table: "users".into(),
            constraint: UniqueConstraint {
                name: None,
                columns: vec!["org_id".into(), "email".into()],
                nulls_not_distinct: false,
            },
        }),
        planned(Op::CreateCheckConstraint {
            table: "users".into(),
            constraint: CheckConstraint {
                name: None,
                expression: "price >= 0".into(),
            },
        }),
    ];
    out.push_str("\n-- unnamed unique and check constraints get names\n");
    out.push_str(&render_ops(ops, &shop()));
    snapshot!("mysql_unique_keys", out);
}

#[test]
fn mysql_refuses_a_key_on_text_without_prefix() {
    let mut unique = index("ux_users_bio", &["bio"]);
    unique.unique = true;
    let ops = vec![planned(Op::CreateIndex {
        table: "users".into(),
        index: unique,
    })];
    let err = render(&ops, &shop(), MY).unwrap_err();
    assert!(matches!(err, RenderError::IndexNeedsPrefix { .. }));
    assert_eq!(
        err.to_string(),
        "mysql cannot index the text column `users.bio` of index `ux_users_bio` without a prefix length; make the column VARCHAR(n), or create the index by hand in the revision (`bio(255)`)"
    );
}

// ---------------------------------------------------------------------------
// On a real server

fn apply(url: &str, script: &Script) {
    for step in &script.steps {
        for statement in &step.statements {
            db_exec(url, statement);
        }
    }
}

fn create(url: &str, schema: &Schema) {
    for statement in schema_sql(schema, MY) {
        db_exec(url, &statement);
    }
    db_exec(url, "INSERT INTO orgs (name) VALUES ('acme'), ('globex')");
    db_exec(
        url,
        "INSERT INTO users (org_id, email, price, status, bio) \
         VALUES (1, 'a@x', 1.50, 'active', 'hi'), (2, 'b@x', 2.25, 'new', NULL)",
    );
}

fn rows(url: &str, query: &str) -> Vec<String> {
    db_rows(url, query)
        .into_iter()
        .map(|row| row.join(" | "))
        .collect()
}

/// COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, COLUMN_COMMENT of users.column.
fn column(url: &str, name: &str) -> String {
    rows(
        url,
        &format!(
            "SELECT CAST(COLUMN_TYPE AS CHAR), CAST(IS_NULLABLE AS CHAR), \
             CAST(COALESCE(COLUMN_DEFAULT, 'NULL') AS CHAR), CAST(COLUMN_COMMENT AS CHAR) \
             FROM information_schema.columns WHERE table_schema = DATABASE() \
             AND table_name = 'users' AND column_name = '{name}'"
        ),
    )
    .join("")
}

/// `name: columns [unique]` per index of users, by name (byte order).
fn indexes(url: &str) -> Vec<String> {
    let mut out = rows(
        url,
        "SELECT CAST(CONCAT(index_name, ': ', GROUP_CONCAT(column_name ORDER BY seq_in_index), \
         IF(MAX(non_unique) = 0, ' unique', '')) AS CHAR) \
         FROM information_schema.statistics WHERE table_schema = DATABASE() \
         AND table_name = 'users' GROUP BY index_name",
    );
    // Byte order, not the server's collation.
    out.sort();
    out
}

fn foreign_keys(url: &str) -> Vec<String> {
    rows(
        url,
        "SELECT CAST(CONCAT(constraint_name, ' ', delete_rule) AS CHAR) \
         FROM information_schema.referential_constraints \
         WHERE constraint_schema = DATABASE() ORDER BY constraint_name",
    )
}

fn user_count(url: &str) -> String {
    rows(url, "SELECT CAST(COUNT(*) AS CHAR) FROM users").join("")
}

#[test]
fn mysql_modify_column_keeps_default_and_comment_and_changes_nullability() {
    let Some(db) = TestDatabase::new(Server::Mysql) else {
        return;
    };
    let url = db.url();
    create(url, &shop());
    let before_price = column(url, "price");
    assert_eq!(
        before_price,
        "decimal(10,2) | NO | 0.00 | in cents; it's net"
    );
    let to = with_users(|t| {
        *t.column_mut("price").unwrap() = price(12);
        *t.column_mut("email").unwrap() = email(true);
    });
    let (up, down) = scripts(&shop(), &to);
    apply(url, &up);
    assert_eq!(
        column(url, "price"),
        "decimal(12,2) | NO | 0.00 | in cents; it's net"
    );
    assert_eq!(column(url, "email"), "varchar(255) | YES | NULL | ");
    apply(url, &down);
    assert_eq!(column(url, "price"), before_price);
    assert_eq!(column(url, "email"), "varchar(255) | NO | NULL | ");
    assert_eq!(user_count(url), "2");
    assert_eq!(
        rows(url, "SELECT CAST(price AS CHAR) FROM users ORDER BY id"),
        ["1.50", "2.25"]
    );
}

#[test]
fn mysql_enum_value_is_appended_and_removed() {
    let Some(db) = TestDatabase::new(Server::Mysql) else {
        return;
    };
    let url = db.url();
    create(url, &shop());
    let to = with_users(|t| *t.column_mut("status").unwrap() = status(&["new", "active", "gone"]));
    let (up, down) = scripts(&shop(), &to);
    apply(url, &up);
    assert_eq!(
        column(url, "status"),
        "enum('new','active','gone') | NO | 'new' | "
    );
    db_exec(
        url,
        "INSERT INTO users (org_id, email, status) VALUES (1, 'c@x', 'gone')",
    );
    db_exec(url, "DELETE FROM users WHERE status = 'gone'");
    apply(url, &down);
    assert_eq!(
        column(url, "status"),
        "enum('new','active') | NO | 'new' | "
    );
    assert_eq!(user_count(url), "2");
}

#[test]
fn mysql_foreign_key_and_index_changes_apply_in_order_and_revert() {
    let Some(db) = TestDatabase::new(Server::Mysql) else {
        return;
    };
    let url = db.url();
    create(url, &shop());
    assert_eq!(foreign_keys(url), ["users_org_id_fkey CASCADE"]);
    let implicit = ["PRIMARY: id unique", "users_org_id_fkey: org_id"];
    assert_eq!(indexes(url), implicit);

    let to = with_users(|t| t.indexes.push(index("ix_users_org", &["org_id"])));
    let (up, down) = scripts(&shop(), &to);
    apply(url, &up);
    assert_eq!(foreign_keys(url), ["users_org_id_fkey CASCADE"]);
    // MySQL drops the implicit index once an explicit one serves the key.
    assert_eq!(indexes(url), ["PRIMARY: id unique", "ix_users_org: org_id"]);

    // The index the key needs, dropped alone: the key is re-added around it.
    let drop_index = vec![planned(Op::DropIndex {
        table: "users".into(),
        index: index("ix_users_org", &["org_id"]),
    })];
    let script = render(&drop_index, &to, MY).unwrap();
    apply(url, &script);
    assert_eq!(foreign_keys(url), ["users_org_id_fkey CASCADE"]);
    assert_eq!(indexes(url), implicit);
    let recreate = vec![planned(Op::CreateIndex {
        table: "users".into(),
        index: index("ix_users_org", &["org_id"]),
    })];
    let mut without_index = to.clone();
    without_index.table_mut("users").unwrap().indexes.clear();
    apply(url, &render(&recreate, &without_index, MY).unwrap());
    assert_eq!(indexes(url), ["PRIMARY: id unique", "ix_users_org: org_id"]);

    apply(url, &down);
    assert_eq!(foreign_keys(url), ["users_org_id_fkey CASCADE"]);
    assert_eq!(indexes(url), implicit);

    // Dropping the unnamed key by its retort name takes its implicit index.
    let no_fk = with_users(|t| t.foreign_keys.clear());
    let (up, down) = scripts(&shop(), &no_fk);
    apply(url, &up);
    assert!(foreign_keys(url).is_empty());
    assert_eq!(indexes(url), ["PRIMARY: id unique"]);
    apply(url, &down);
    assert_eq!(foreign_keys(url), ["users_org_id_fkey CASCADE"]);
    assert_eq!(indexes(url), implicit);
    assert_eq!(user_count(url), "2");
}

#[test]
fn mysql_unique_index_is_added_and_dropped() {
    let Some(db) = TestDatabase::new(Server::Mysql) else {
        return;
    };
    let url = db.url();
    create(url, &shop());
    let mut unique = index("ux_users_email", &["email"]);
    unique.unique = true;
    let to = with_users(|t| t.indexes.push(unique));
    let (up, down) = scripts(&shop(), &to);
    apply(url, &up);
    assert!(indexes(url).contains(&"ux_users_email: email unique".to_string()));
    apply(url, &down);
    assert!(!indexes(url).iter().any(|i| i.starts_with("ux_users_email")));

    // An unnamed unique constraint is created under its retort name and
    // dropped by it.
    let ops = |create: bool| {
        let constraint = UniqueConstraint {
            name: None,
            columns: vec!["email".into(), "org_id".into()],
            nulls_not_distinct: false,
        };
        vec![planned(if create {
            Op::CreateUniqueConstraint {
                table: "users".into(),
                constraint,
            }
        } else {
            Op::DropConstraint {
                table: "users".into(),
                constraint: Constraint::Unique(constraint),
            }
        })]
    };
    apply(url, &render(&ops(true), &shop(), MY).unwrap());
    assert!(indexes(url).contains(&"users_email_org_id_key: email,org_id unique".to_string()));
    let with_unique = with_users(|t| {
        t.unique_constraints.push(UniqueConstraint {
            name: None,
            columns: vec!["email".into(), "org_id".into()],
            nulls_not_distinct: false,
        })
    });
    apply(url, &render(&ops(false), &with_unique, MY).unwrap());
    assert!(
        !indexes(url)
            .iter()
            .any(|i| i.starts_with("users_email_org_id_key"))
    );
    assert_eq!(user_count(url), "2");
}
