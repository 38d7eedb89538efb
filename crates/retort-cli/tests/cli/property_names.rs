//! Property: hostile names and literals reach the database exactly as
//! declared, on a real database of each dialect.
//!
//! Each case is a schema whose tables, columns, indexes, constraints,
//! enum types and labels (PostgreSQL), comments (PostgreSQL, MySQL),
//! defaults and check literals carry quotes, backticks, `'`, `;`, `--`,
//! `/*`, newlines, backslashes, unicode, spaces and reserved words. It is
//! written as a model file by this test's own quoting (not the renderer's),
//! then: `autogen` → `upgrade` → the catalog holds exactly the declared
//! tables and columns and every declared index, constraint and enum name →
//! `check` clean; the same names with other default, comment and check
//! texts → `autogen` → `upgrade` → the catalog again → `check` clean →
//! `downgrade -1` → clean against the first models; `downgrade base` → the
//! catalog holds no table, index or enum type of the schema.
//!
//! Names stay valid per dialect: never a NUL, at most ~30 bytes (within
//! PostgreSQL's 63 and MySQL's 64 with a derived `_fkey` suffix), and no
//! trailing space on MySQL, which refuses one. Each name carries a distinct
//! ASCII tag, so names differ however a dialect folds case or accents.
//!
//! `PROPTEST_CASES` overrides the case count (default 16 per dialect);
//! cases come from a fixed seed unless `PROPTEST_RNG_SEED` is set.

use crate::property::{FIXED_SEED, Target, cases, expect_clean, fail, step};
use crate::{ident, sql_string};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestError, TestRunner};
use retort_schema::Dialect;
use retort_test_support::{Server, TempProject, TestDatabase, db_rows};
use std::collections::BTreeSet;

#[test]
fn hostile_names_round_trip_on_sqlite() {
    run(Dialect::Sqlite);
}

#[test]
fn hostile_names_round_trip_on_postgres() {
    run(Dialect::Postgres);
}

#[test]
fn hostile_names_round_trip_on_mysql() {
    run(Dialect::Mysql);
}

// ---------------------------------------------------------------- names

/// The pieces hostile names and literals are made of.
const FRAGMENTS: &[&str] = &[
    "\"",
    "\"\"",
    "`",
    "``",
    "'",
    "''",
    ";",
    "--",
    "/*",
    "*/",
    "\n",
    "\\",
    "\\'",
    " ",
    "é",
    "名",
    "ß",
    "$1",
    "%s",
    "?",
    ")",
    "(",
    ".",
    ",",
    "select",
    "Order",
    "DROP TABLE x",
];

/// Words reserved in every dialect, used bare as whole names.
const RESERVED: &[&str] = &["order", "select", "table", "group", "where", "from"];

/// How a name is made: fragments around a tag, or a reserved word.
#[derive(Debug, Clone)]
struct NameSpec {
    prefix: Vec<u8>,
    suffix: Vec<u8>,
    reserved: Option<u8>,
}

fn name_spec() -> impl Strategy<Value = NameSpec> {
    (
        prop::collection::vec(any::<u8>(), 0..=1),
        prop::collection::vec(any::<u8>(), 0..=2),
        prop::option::weighted(0.15, any::<u8>()),
    )
        .prop_map(|(prefix, suffix, reserved)| NameSpec {
            prefix,
            suffix,
            reserved,
        })
}

fn fragments(codes: &[u8]) -> String {
    codes
        .iter()
        .map(|&c| FRAGMENTS[usize::from(c) % FRAGMENTS.len()])
        .collect()
}

/// The name `spec` makes with `tag` (unique in the schema), valid on
/// `dialect`. `reserved`: the bare reserved word that may stand for it,
/// where no other name of its namespace can draw the same word.
fn make_name(spec: &NameSpec, tag: &str, dialect: Dialect, reserved: Option<&str>) -> String {
    if let (Some(_), Some(word)) = (spec.reserved, reserved) {
        return word.to_string();
    }
    let mut name = format!(
        "{}{tag}{}",
        fragments(&spec.prefix),
        fragments(&spec.suffix)
    );
    if dialect == Dialect::Mysql {
        name = name.trim_end().to_string();
    }
    name
}

/// A hostile string literal's text (comments, defaults, check values).
fn make_text(codes: &[u8], tag: &str) -> String {
    format!("{tag}{}", fragments(codes))
}

// ---------------------------------------------------------------- schemas

#[derive(Debug, Clone)]
struct ColumnSpec {
    name: NameSpec,
    text: bool,
    default: Option<Vec<u8>>,
    comment: Option<Vec<u8>>,
}

#[derive(Debug, Clone)]
struct TableSpec {
    name: NameSpec,
    comment: Option<Vec<u8>>,
    columns: Vec<ColumnSpec>,
    /// (name, column slot)
    index: Option<(NameSpec, u8)>,
    /// (name, column slot)
    unique: Option<(NameSpec, u8)>,
    /// (name, column slot, literal)
    check: Option<(NameSpec, u8, Vec<u8>)>,
    /// (name or unnamed, integer column slot): refers to the previous
    /// table's `id`.
    foreign_key: Option<(Option<NameSpec>, u8)>,
}

#[derive(Debug, Clone)]
struct CaseSpec {
    tables: Vec<TableSpec>,
    /// PostgreSQL: an enum type and its labels, used by the first table.
    enum_type: Option<(NameSpec, Vec<Vec<u8>>)>,
}

fn codes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 1..=4)
}

fn column_spec() -> impl Strategy<Value = ColumnSpec> {
    (
        name_spec(),
        any::<bool>(),
        prop::option::of(codes()),
        prop::option::of(codes()),
    )
        .prop_map(|(name, text, default, comment)| ColumnSpec {
            name,
            text,
            default,
            comment,
        })
}

fn table_spec() -> impl Strategy<Value = TableSpec> {
    (
        name_spec(),
        prop::option::of(codes()),
        prop::collection::vec(column_spec(), 1..=3),
        prop::option::of((name_spec(), any::<u8>())),
        prop::option::of((name_spec(), any::<u8>())),
        prop::option::of((name_spec(), any::<u8>(), codes())),
        prop::option::of((prop::option::of(name_spec()), any::<u8>())),
    )
        .prop_map(
            |(name, comment, columns, index, unique, check, foreign_key)| TableSpec {
                name,
                comment,
                columns,
                index,
                unique,
                check,
                foreign_key,
            },
        )
}

fn case_spec() -> impl Strategy<Value = CaseSpec> {
    (
        prop::collection::vec(table_spec(), 1..=3),
        prop::option::of((name_spec(), prop::collection::vec(codes(), 1..=3))),
    )
        .prop_map(|(tables, enum_type)| CaseSpec { tables, enum_type })
}

// ---------------------------------------------------------------- models

/// A schema made from a [`CaseSpec`]: the model file and the names it
/// declares.
#[derive(Debug, Default)]
struct Declared {
    sql: String,
    tables: BTreeSet<String>,
    /// (table, column)
    columns: BTreeSet<(String, String)>,
    /// Index names, those of unique constraints included.
    indexes: BTreeSet<String>,
    /// Named unique, check and foreign-key constraints.
    constraints: BTreeSet<String>,
    /// PostgreSQL: (type, labels in order).
    enum_type: Option<(String, Vec<String>)>,
}

/// The schema of `spec` as a model file. `altered`: the same names with
/// other default, column-comment and check texts, which the second step
/// of a case migrates to (ALTER, MODIFY, COMMENT ON and SQLite rebuilds).
fn declare(spec: &CaseSpec, dialect: Dialect, altered: bool) -> Declared {
    let tag = |plain: &'static str, other: &'static str| if altered { other } else { plain };
    let q = |name: &str| ident(name, dialect);
    let lit = |text: &str| sql_string(text, dialect);
    let mut out = Declared::default();
    let enum_type = match (&spec.enum_type, dialect) {
        (Some((name, labels)), Dialect::Postgres) => {
            // Types share their namespace with tables: no bare word.
            let name = make_name(name, "ty", dialect, None);
            let labels: Vec<String> = labels
                .iter()
                .enumerate()
                .map(|(i, codes)| make_text(codes, &format!("l{i}")))
                .collect();
            let list: Vec<String> = labels.iter().map(|l| lit(l)).collect();
            out.sql.push_str(&format!(
                "CREATE TYPE {} AS ENUM ({});\n\n",
                q(&name),
                list.join(", ")
            ));
            Some((name, labels))
        }
        _ => None,
    };
    let mut previous: Option<String> = None;
    let mut after_tables = String::new();
    for (t, table) in spec.tables.iter().enumerate() {
        let table_name = make_name(
            &table.name,
            &format!("t{t}"),
            dialect,
            Some(RESERVED[t % RESERVED.len()]),
        );
        out.tables.insert(table_name.clone());
        let mut items = vec![format!("{} INTEGER NOT NULL PRIMARY KEY", q("id"))];
        out.columns.insert((table_name.clone(), "id".into()));
        let mut columns: Vec<(String, bool)> = Vec::new();
        for (c, column) in table.columns.iter().enumerate() {
            // One column per table may be a bare reserved word.
            let reserved = (c == 0).then(|| RESERVED[(t + 1) % RESERVED.len()]);
            let name = make_name(&column.name, &format!("c{t}{c}"), dialect, reserved);
            let mut item = format!(
                "{} {}",
                q(&name),
                if column.text {
                    "VARCHAR(60)"
                } else {
                    "INTEGER"
                }
            );
            if column.text
                && let Some(codes) = &column.default
            {
                item.push_str(&format!(
                    " DEFAULT {}",
                    lit(&make_text(codes, tag("d", "D")))
                ));
            }
            if let (Some(codes), Dialect::Mysql) = (&column.comment, dialect) {
                item.push_str(&format!(
                    " COMMENT {}",
                    lit(&make_text(codes, tag("m", "M")))
                ));
            }
            if let (Some(codes), Dialect::Postgres) = (&column.comment, dialect) {
                after_tables.push_str(&format!(
                    "COMMENT ON COLUMN {}.{} IS {};\n",
                    q(&table_name),
                    q(&name),
                    lit(&make_text(codes, tag("m", "M")))
                ));
            }
            out.columns.insert((table_name.clone(), name.clone()));
            items.push(item);
            columns.push((name, column.text));
        }
        if t == 0
            && let Some((type_name, labels)) = &enum_type
        {
            let name = format!("e{t}");
            items.push(format!(
                "{} {} NOT NULL DEFAULT {}",
                q(&name),
                q(type_name),
                lit(&labels[0])
            ));
            out.columns.insert((table_name.clone(), name));
        }
        let column_at = |slot: u8| &columns[usize::from(slot) % columns.len()];
        if let Some((name, slot)) = &table.unique {
            let name = make_name(name, &format!("u{t}"), dialect, None);
            items.push(format!(
                "CONSTRAINT {} UNIQUE ({})",
                q(&name),
                q(&column_at(*slot).0)
            ));
            // SQLite keeps the name in the table's DDL only: its index is
            // an `sqlite_autoindex_…`.
            if dialect != Dialect::Sqlite {
                out.indexes.insert(name.clone());
                out.constraints.insert(name);
            }
        }
        if let Some((name, slot, codes)) = &table.check {
            let name = make_name(name, &format!("k{t}"), dialect, None);
            let (column, text) = column_at(*slot);
            let expression = if *text {
                format!("{} <> {}", q(column), lit(&make_text(codes, tag("v", "V"))))
            } else {
                format!("{} >= 0", q(column))
            };
            items.push(format!("CONSTRAINT {} CHECK ({expression})", q(&name)));
            if dialect != Dialect::Sqlite {
                out.constraints.insert(name);
            }
        }
        if let (Some((name, slot)), Some(parent)) = (&table.foreign_key, &previous) {
            let integers: Vec<&String> = columns
                .iter()
                .filter(|(_, text)| !text)
                .map(|(n, _)| n)
                .collect();
            if !integers.is_empty() {
                let column = integers[usize::from(*slot) % integers.len()];
                let constraint = match name {
                    Some(name) => {
                        let name = make_name(name, &format!("f{t}"), dialect, None);
                        if dialect != Dialect::Sqlite {
                            out.constraints.insert(name.clone());
                        }
                        format!("CONSTRAINT {} ", q(&name))
                    }
                    None => String::new(),
                };
                items.push(format!(
                    "{constraint}FOREIGN KEY ({}) REFERENCES {} ({})",
                    q(column),
                    q(parent),
                    q("id")
                ));
            }
        }
        out.sql.push_str(&format!(
            "CREATE TABLE {} (\n    {}\n)",
            q(&table_name),
            items.join(",\n    ")
        ));
        match (&table.comment, dialect) {
            (Some(codes), Dialect::Mysql) => out
                .sql
                .push_str(&format!(" COMMENT = {}", lit(&make_text(codes, "n")))),
            (Some(codes), Dialect::Postgres) => after_tables.push_str(&format!(
                "COMMENT ON TABLE {} IS {};\n",
                q(&table_name),
                lit(&make_text(codes, "n"))
            )),
            _ => {}
        }
        out.sql.push_str(";\n\n");
        if let Some((name, slot)) = &table.index {
            let name = make_name(name, &format!("i{t}"), dialect, None);
            out.sql.push_str(&format!(
                "CREATE INDEX {} ON {} ({});\n\n",
                q(&name),
                q(&table_name),
                q(&column_at(*slot).0)
            ));
            out.indexes.insert(name);
        }
        previous = Some(table_name);
    }
    out.sql.push_str(&after_tables);
    out.enum_type = enum_type;
    out
}

// ---------------------------------------------------------------- catalog

/// What the catalog holds of a schema, read with plain catalog queries
/// (not retort's introspector).
#[derive(Debug, Default)]
struct Found {
    tables: BTreeSet<String>,
    columns: BTreeSet<(String, String)>,
    indexes: BTreeSet<String>,
    constraints: BTreeSet<String>,
    enum_types: Vec<(String, Vec<String>)>,
}

fn single(url: &str, query: &str) -> BTreeSet<String> {
    db_rows(url, query)
        .into_iter()
        .map(|r| r[0].clone())
        .collect()
}

fn catalog(url: &str, dialect: Dialect) -> Found {
    let mut found = Found::default();
    match dialect {
        Dialect::Sqlite => {
            found.tables = single(
                url,
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'retort_version'",
            );
            // The implicit indexes of unique constraints are listed with
            // their origin `u`, under names SQLite makes up.
            found.indexes = single(
                url,
                "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL",
            );
        }
        Dialect::Postgres => {
            found.tables = single(
                url,
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() AND table_name <> 'retort_version'",
            );
            found.indexes = single(
                url,
                "SELECT c.relname::text FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND NOT i.indisprimary AND c.relname <> 'retort_version_pkey'",
            );
            found.constraints = single(
                url,
                "SELECT c.conname::text FROM pg_constraint AS c JOIN pg_namespace AS n ON n.oid = c.connamespace WHERE n.nspname = current_schema() AND c.contype IN ('u', 'c', 'f')",
            );
            let types = db_rows(
                url,
                "SELECT t.typname::text, e.enumlabel::text FROM pg_enum AS e JOIN pg_type AS t ON t.oid = e.enumtypid JOIN pg_namespace AS n ON n.oid = t.typnamespace WHERE n.nspname = current_schema() ORDER BY t.typname, e.enumsortorder",
            );
            for row in types {
                match found.enum_types.last_mut() {
                    Some((name, labels)) if *name == row[0] => labels.push(row[1].clone()),
                    _ => found
                        .enum_types
                        .push((row[0].clone(), vec![row[1].clone()])),
                }
            }
        }
        Dialect::Mysql => {
            found.tables = single(
                url,
                "SELECT CAST(table_name AS CHAR) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name NOT IN ('retort_version', 'retort_version_progress')",
            );
            found.indexes = single(
                url,
                "SELECT DISTINCT CAST(index_name AS CHAR) FROM information_schema.statistics WHERE table_schema = DATABASE() AND index_name <> 'PRIMARY' AND table_name NOT IN ('retort_version', 'retort_version_progress')",
            );
            found.constraints = single(
                url,
                "SELECT CAST(constraint_name AS CHAR) FROM information_schema.table_constraints WHERE table_schema = DATABASE() AND constraint_type <> 'PRIMARY KEY' AND table_name NOT IN ('retort_version', 'retort_version_progress')",
            );
        }
    }
    for table in found.tables.clone() {
        let query = match dialect {
            Dialect::Sqlite => format!(
                "SELECT name FROM pragma_table_info({})",
                sql_string(&table, dialect)
            ),
            Dialect::Postgres => format!(
                "SELECT column_name::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = {}",
                sql_string(&table, dialect)
            ),
            Dialect::Mysql => format!(
                "SELECT CAST(column_name AS CHAR) FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = {}",
                sql_string(&table, dialect)
            ),
        };
        for column in single(url, &query) {
            found.columns.insert((table.clone(), column));
        }
    }
    found
}

fn url_of(target: &Target, project: &TempProject) -> String {
    match target {
        Target::Sqlite => format!("sqlite://{}", project.db_path().display()),
        Target::Server(db) => db.url().to_string(),
    }
}

fn compare(declared: &Declared, found: &Found, project: &TempProject) -> Result<(), TestCaseError> {
    let mut problems = Vec::new();
    if found.tables != declared.tables {
        problems.push(format!(
            "tables: declared {:?}, found {:?}",
            declared.tables, found.tables
        ));
    }
    if found.columns != declared.columns {
        problems.push(format!(
            "columns: declared {:?}, found {:?}",
            declared.columns, found.columns
        ));
    }
    let missing_indexes: Vec<&String> = declared
        .indexes
        .iter()
        .filter(|i| !found.indexes.contains(*i))
        .collect();
    if !missing_indexes.is_empty() {
        problems.push(format!(
            "indexes missing: {missing_indexes:?} (found {:?})",
            found.indexes
        ));
    }
    let missing_constraints: Vec<&String> = declared
        .constraints
        .iter()
        .filter(|c| !found.constraints.contains(*c))
        .collect();
    if !missing_constraints.is_empty() {
        problems.push(format!(
            "constraints missing: {missing_constraints:?} (found {:?})",
            found.constraints
        ));
    }
    let declared_enums: Vec<(String, Vec<String>)> = declared.enum_type.iter().cloned().collect();
    if found.enum_types != declared_enums {
        problems.push(format!(
            "enum types: declared {declared_enums:?}, found {:?}",
            found.enum_types
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(fail(
            project,
            format!(
                "the catalog differs from the models:\n{}",
                problems.join("\n")
            ),
        ))
    }
}

// ---------------------------------------------------------------- running

fn run(dialect: Dialect) {
    let target = match dialect {
        Dialect::Sqlite => Target::Sqlite,
        Dialect::Postgres => match TestDatabase::new(Server::Postgres) {
            Some(db) => Target::Server(db),
            None => return,
        },
        Dialect::Mysql => match TestDatabase::new(Server::Mysql) {
            Some(db) => Target::Server(db),
            None => return,
        },
    };
    let defaults = Config::default();
    let rng_seed = match defaults.rng_seed {
        RngSeed::Random => RngSeed::Fixed(FIXED_SEED),
        chosen => chosen,
    };
    let config = Config {
        cases: cases(16),
        max_shrink_iters: 100,
        failure_persistence: None,
        rng_seed,
        ..defaults
    };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&case_spec(), |spec| round_trip(&target, dialect, &spec));
    match result {
        Ok(()) => {}
        Err(TestError::Fail(reason, spec)) => {
            let models = declare(&spec, dialect, false).sql;
            panic!(
                "{dialect} hostile names failed (minimal case after shrinking)\n\
                 --- schema.sql\n{models}--- failure\n{reason}"
            );
        }
        Err(other) => panic!("{dialect} hostile names: {other}"),
    }
}

fn round_trip(target: &Target, dialect: Dialect, spec: &CaseSpec) -> Result<(), TestCaseError> {
    let declared = declare(spec, dialect, false);
    let project = target.project(&declared.sql);
    let url = url_of(target, &project);

    step(&project, &["autogen", "-m", "hostile"])?;
    step(&project, &["upgrade", "head"])?;
    compare(&declared, &catalog(&url, dialect), &project)?;
    step(&project, &["check"])?;

    // The same objects with other texts: altered in place, or rebuilt.
    let altered = declare(spec, dialect, true);
    project.write("schema.sql", &altered.sql);
    let generated = step(&project, &["autogen", "-m", "altered"])?;
    if !generated.contains("No changes detected") {
        step(&project, &["upgrade", "head"])?;
        compare(&altered, &catalog(&url, dialect), &project)?;
        step(&project, &["check"])?;
        project.write("schema.sql", &declared.sql);
        step(&project, &["downgrade", "-1", "--accept-data-loss"])?;
        expect_clean(&project, "after the downgrade of the altered texts")?;
    }

    step(&project, &["downgrade", "base", "--accept-data-loss"])?;
    let empty = Declared::default();
    let found = catalog(&url, dialect);
    let leftover_indexes: Vec<&String> = found
        .indexes
        .iter()
        .filter(|i| declared.indexes.contains(*i))
        .collect();
    if !leftover_indexes.is_empty() {
        return Err(fail(
            &project,
            format!("indexes left after downgrade base: {leftover_indexes:?}"),
        ));
    }
    compare(&empty, &found, &project)?;
    project.write("schema.sql", "");
    expect_clean(&project, "after the downgrade to base")?;
    Ok(())
}
