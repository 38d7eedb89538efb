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

/// Dependencies the reference scan cannot see, each with the reason it is
/// still needed: a crate used only to switch on features of another, or only
/// through a derive attribute that never names it. Empty today; an entry is
/// `("<crate>", "<dependency>")`.
const USED_WITHOUT_A_PATH: &[(&str, &str)] = &[];

/// Whether `source` names the crate `ident` as code does: `ident::…`,
/// `ident!`, `use ident` or `extern crate ident`, with the name not part of a
/// longer identifier.
fn references_crate(source: &str, ident: &str) -> bool {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    source.match_indices(ident).any(|(start, _)| {
        let before = &source[..start];
        let after = &source[start + ident.len()..];
        if before.chars().next_back().is_some_and(is_ident)
            || after.chars().next().is_some_and(is_ident)
        {
            return false;
        }
        after.starts_with("::")
            || after.starts_with('!')
            || before.ends_with("use ")
            || before.ends_with("extern crate ")
    })
}

/// Every `.rs` file under `dir`, recursively; nothing when `dir` is absent.
fn rust_sources(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return files;
    };
    for entry in entries {
        let path = entry.expect("read a directory entry").path();
        if path.is_dir() {
            files.extend(rust_sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// The dependency names of one `[dependencies]`-shaped table, sorted.
fn dependency_names(manifest: &toml::Table, section: &str) -> Vec<String> {
    let mut names: Vec<String> = manifest
        .get(section)
        .and_then(|t| t.as_table())
        .map(|t| t.keys().cloned().collect())
        .unwrap_or_default();
    names.sort();
    names
}

/// What `cargo-machete` would report, without the tool: a dependency no
/// source of its crate names is dead weight in build time and in the audit
/// surface. Normal dependencies must be named in `src/` (a dependency used
/// only by tests belongs in `[dev-dependencies]`); dev-dependencies in
/// `src/`, `tests/` or `benches/`, and must not repeat a normal dependency.
#[test]
fn every_dependency_is_used() {
    let crates_dir = workspace_root().join("crates");
    let mut unused = Vec::new();
    let mut krates: Vec<_> = std::fs::read_dir(&crates_dir)
        .expect("read crates/")
        .map(|e| e.expect("read crates/ entry").path())
        .filter(|p| p.join("Cargo.toml").is_file())
        .collect();
    krates.sort();
    assert!(krates.len() > 5, "found the workspace crates: {krates:?}");
    for krate in krates {
        let name = krate
            .file_name()
            .and_then(|n| n.to_str())
            .expect("crate directory name")
            .to_string();
        let text = std::fs::read_to_string(krate.join("Cargo.toml")).expect("read Cargo.toml");
        let manifest: toml::Table = toml::from_str(&text).expect("parse Cargo.toml");
        let read_all = |dirs: &[&str]| -> String {
            let mut all = String::new();
            for dir in dirs {
                for file in rust_sources(&krate.join(dir)) {
                    all.push_str(&std::fs::read_to_string(&file).expect("read source"));
                    all.push('\n');
                }
            }
            all
        };
        let library = read_all(&["src"]);
        let everything = read_all(&["src", "tests", "benches"]);
        let normal = dependency_names(&manifest, "dependencies");
        let dev = dependency_names(&manifest, "dev-dependencies");
        let unnamed = |dependency: &str, section: &str, sources: &str| {
            let allowed = USED_WITHOUT_A_PATH.contains(&(name.as_str(), dependency));
            (!allowed && !references_crate(sources, &dependency.replace('-', "_")))
                .then(|| format!("{name} [{section}] {dependency}"))
        };
        for dependency in &normal {
            unused.extend(unnamed(dependency, "dependencies", &library));
        }
        for dependency in &dev {
            if normal.contains(dependency) {
                unused.push(format!(
                    "{name} [dev-dependencies] {dependency} repeats a normal dependency"
                ));
            } else {
                unused.extend(unnamed(dependency, "dev-dependencies", &everything));
            }
        }
    }
    assert!(
        unused.is_empty(),
        "dependencies no source names (remove them, or list them in \
         USED_WITHOUT_A_PATH with the reason):\n{}",
        unused.join("\n")
    );
}

#[test]
fn the_unused_dependency_scan_sees_each_way_of_naming_a_crate() {
    assert!(references_crate("use serde::Deserialize;", "serde"));
    assert!(references_crate("#[tokio::main]", "tokio"));
    assert!(references_crate("insta::assert_snapshot!(x)", "insta"));
    assert!(references_crate("use anyhow;", "anyhow"));
    assert!(references_crate("log!(x)", "log"));
    assert!(!references_crate("use serde_json::Value;", "serde"));
    assert!(!references_crate("my_tokio::spawn()", "tokio"));
    assert!(!references_crate("// chrono is not needed", "chrono"));
}

/// Integration tests have one shape, `tests/<area>/main.rs` with its modules
/// beside it: one test binary per crate directory, found by cargo without
/// `[[test]]` entries, and no `#[path]` indirection between a top-level file
/// and a folder of the same name.
#[test]
fn integration_tests_are_folders_with_a_main() {
    let crates_dir = workspace_root().join("crates");
    let mut misshapen = Vec::new();
    for krate in std::fs::read_dir(&crates_dir).expect("read crates/") {
        let tests = krate.expect("read crates/ entry").path().join("tests");
        let Ok(entries) = std::fs::read_dir(&tests) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("read tests/ entry").path();
            if !path.is_dir() || !path.join("main.rs").is_file() {
                misshapen.push(path.display().to_string());
            }
        }
    }
    misshapen.sort();
    assert!(
        misshapen.is_empty(),
        "integration tests belong in tests/<area>/main.rs; found:\n{}",
        misshapen.join("\n")
    );
}
