//! Integration tests of the model loader: DDL in, IR (or diagnostics) out.

mod clauses;
mod diagnostics;
mod loader;

/// Runs `body` with insta writing to the top-level `snapshots/models/`.
#[macro_export]
macro_rules! with_snapshots {
    ($body:block) => {
        insta::with_settings!({
            snapshot_path => concat!(env!("CARGO_MANIFEST_DIR"), "/../../snapshots/models"),
            prepend_module_to_snapshot => false,
        }, $body)
    };
}
