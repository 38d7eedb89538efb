//! The retort binary, end to end on real SQLite files in temp folders.
//! One test binary for the crate (link time on 2 cores).

mod architecture;
mod backfill;
mod conventions;
mod fixtures;
mod flows;
mod hazards;
mod help;
mod interrupts;
mod model_refusals;
mod mysql;
mod online;
mod postgres;
mod property;
mod property_names;
mod renames;
mod secrets;

use std::path::PathBuf;

pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_retort"))
}

/// `name` as a quoted identifier of `dialect`, its quote character doubled.
pub fn ident(name: &str, dialect: retort_schema::Dialect) -> String {
    let q = match dialect {
        retort_schema::Dialect::Mysql => "`",
        _ => "\"",
    };
    format!("{q}{}{q}", name.replace(q, &format!("{q}{q}")))
}

/// `text` as a string literal of `dialect`: `'` doubled, and on MySQL
/// (backslash escapes on) `\` doubled too.
pub fn sql_string(text: &str, dialect: retort_schema::Dialect) -> String {
    let mut escaped = text.replace('\'', "''");
    if dialect == retort_schema::Dialect::Mysql {
        escaped = escaped.replace('\\', "\\\\");
    }
    format!("'{escaped}'")
}

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The revision id in a `Generated …/<id>_<slug>.sql` line of `stdout`.
pub fn generated_id(stdout: &str) -> String {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("Generated "))
        .unwrap_or_else(|| panic!("no Generated line in: {stdout}"));
    let file = line.rsplit('/').next().unwrap_or(line);
    file.split('_').next().unwrap_or(file).to_string()
}

/// `retort init --dialect <dialect>` on a server database, then autogen,
/// upgrade and a clean `check`: the example models read back unchanged.
pub fn assert_init_project_is_clean(server: retort_test_support::Server, dialect: &str) {
    let Some(db) = retort_test_support::TestDatabase::new(server) else {
        return;
    };
    let project = retort_test_support::TempProject::empty(binary());
    project
        .retort(&["init", "--dialect", dialect])
        .success("init");
    let env = [("DATABASE_URL", db.url())];
    project
        .retort_with_env(&["autogen", "-m", "init"], &env)
        .success("autogen");
    project
        .retort_with_env(&["upgrade"], &env)
        .success("upgrade");
    project
        .retort_with_env(&["check"], &env)
        .success("the example models read back without drift");
}
