//! retort-render's integration tests: one binary, to save link time.

#[path = "retort_render/fixtures.rs"]
mod fixtures;
#[path = "retort_render/mysql.rs"]
mod mysql;
#[path = "retort_render/online.rs"]
mod online;
#[path = "retort_render/pg_exec.rs"]
mod pg_exec;
#[path = "retort_render/snapshots.rs"]
mod snapshots;
#[path = "retort_render/sqlite_exec.rs"]
mod sqlite_exec;
