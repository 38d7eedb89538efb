//! The dependency invariants of docs/architecture.md, checked with
//! `cargo tree` so that a stray dependency fails the build's tests.

use crate::workspace_root;
use std::process::Command;

/// `cargo tree -p <krate> -i <dependency>`: empty output (and a "did not
/// match" error) means `krate` does not depend on `dependency`.
fn depends_on(krate: &str, dependency: &str) -> bool {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let output = Command::new(cargo)
        .args([
            "tree",
            "--offline",
            "-e",
            "normal",
            "-p",
            krate,
            "-i",
            dependency,
        ])
        .current_dir(workspace_root())
        .output()
        .expect("run cargo tree");
    output.status.success() && !output.stdout.is_empty()
}

#[test]
fn layer_boundaries_hold() {
    for dependency in ["sqlx", "sqlparser", "sea-query", "petgraph", "clap"] {
        assert!(
            !depends_on("retort-schema", dependency),
            "retort-schema must know nothing of {dependency}"
        );
    }
    for dependency in ["sqlx", "tokio", "sea-query", "clap"] {
        assert!(
            !depends_on("retort-diff", dependency),
            "retort-diff does no IO and renders nothing: it must not depend on {dependency}"
        );
    }
    for dependency in ["sqlx", "clap"] {
        assert!(
            !depends_on("retort-render", dependency),
            "retort-render must not depend on {dependency}"
        );
        assert!(
            !depends_on("retort-models", dependency),
            "retort-models must not depend on {dependency}"
        );
    }
    assert!(
        depends_on("retort-cli", "sqlx"),
        "the probe itself works: retort-cli does use sqlx"
    );
}
