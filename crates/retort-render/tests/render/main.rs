//! retort-render's integration tests: one binary, to save link time.

mod fixtures;
mod mysql;
mod online;
mod pg_exec;
mod snapshots;
mod sqlite_exec;
