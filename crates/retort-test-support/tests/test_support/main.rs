//! The throwaway databases themselves: created, usable, dropped.

use retort_test_support::{Server, TestDatabase, db_exec, db_rows};

fn round_trip(server: Server, count_databases: &str) {
    let Some(db) = TestDatabase::new(server) else {
        return;
    };
    let name = db.name().to_string();
    let url = db.url().to_string();
    db_exec(&url, "CREATE TABLE t (id INTEGER PRIMARY KEY, note TEXT)");
    db_exec(&url, "INSERT INTO t VALUES (1, 'it''s'), (2, NULL)");
    let rows = db_rows(&url, "SELECT CAST(id AS CHAR(10)), note FROM t ORDER BY id");
    assert_eq!(rows[0][1], "it's");
    assert_eq!(rows[1][1], "NULL");
    let admin = server.admin_url().expect("admin url");
    drop(db);
    let left = db_rows(&admin, &count_databases.replace("{name}", &name));
    assert_eq!(left, vec![vec!["0".to_string()]], "{name} was not dropped");
}

#[test]
fn postgres_test_databases_are_created_and_dropped() {
    round_trip(
        Server::Postgres,
        "SELECT count(*)::text FROM pg_database WHERE datname = '{name}'",
    );
}

#[test]
fn mysql_test_databases_are_created_and_dropped() {
    round_trip(
        Server::Mysql,
        "SELECT CAST(count(*) AS CHAR) FROM information_schema.schemata WHERE schema_name = '{name}'",
    );
}
