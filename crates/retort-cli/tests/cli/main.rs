//! The retort binary, end to end on real SQLite files in temp folders.
//! One test binary for the crate (link time on 2 cores).

mod architecture;
mod backfill;
mod conventions;
mod fixtures;
mod flows;
mod hazards;
mod help;
mod mysql;
mod online;
mod postgres;
mod property;
mod renames;

use std::path::PathBuf;

pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_retort"))
}

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}
