//! `retort-bench`: generates schemas of a given number of tables, loads each
//! into a fresh database, and prints, per backend, a markdown table of
//! retort's `check` against the floor of reading the same catalog with a
//! handful of bulk queries through the database's own shell (`psql`,
//! `sqlite3`, `mariadb`), plus in-process introspection and diff times, the number of
//! catalog statements and `check`'s peak RSS.
//!
//! Run it in release mode, after building the `retort` binary beside it:
//!
//! ```text
//! cargo build --release -p retort-cli
//! cargo run --release -p retort-bench -- --sizes 100,1000,5000 --backend all
//! ```
//!
//! Figures that cannot be measured yet (the PostgreSQL introspector before
//! it lands) print as `n/a` with the reason below the table: never a guess.
//! See docs/performance.md for the figures and how to read them.

mod generate;
mod measure;
mod mysql;
mod postgres;
mod report;
mod sqlite;

use anyhow::{Context, Result, bail};
use clap::{Parser, ValueEnum};
use std::path::PathBuf;

/// Benchmark retort's `check` against the bulk-catalog-query floor.
#[derive(Debug, Parser)]
#[command(name = "retort-bench", version)]
struct Args {
    /// Table counts to generate, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "100,1000,5000")]
    sizes: Vec<usize>,
    /// Which database(s) to measure.
    #[arg(long, value_enum, default_value_t = BackendChoice::All)]
    backend: BackendChoice,
    /// Runs per timed figure; the fastest is reported.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// The PostgreSQL server: each size gets its own database on it,
    /// created and dropped by the bench.
    #[arg(
        long,
        env = "RETORT_BENCH_PG_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/test"
    )]
    pg_url: String,
    /// The MySQL/MariaDB server: each size gets its own database on it,
    /// created and dropped by the bench.
    #[arg(
        long,
        env = "RETORT_BENCH_MYSQL_URL",
        default_value = "mysql://root@127.0.0.1:3306/test"
    )]
    mysql_url: String,
    /// The `retort` binary to time (default: the one beside this binary).
    #[arg(long)]
    retort: Option<PathBuf>,
    /// Seed of the schema generator.
    #[arg(long, default_value_t = generate::DEFAULT_SEED)]
    seed: u64,
    /// Print the generated model DDL for the first size and this backend,
    /// then exit (to reproduce or profile a figure by hand).
    #[arg(long, value_name = "BACKEND")]
    print_ddl: Option<DdlBackend>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DdlBackend {
    Sqlite,
    Postgres,
    Mysql,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum BackendChoice {
    Sqlite,
    Postgres,
    Mysql,
    All,
}

/// What every backend's measurement needs.
pub struct Settings {
    pub retort: PathBuf,
    pub runs: usize,
    pub seed: u64,
}

fn main() -> Result<()> {
    let args = Args::parse();
    if args.sizes.is_empty() || args.sizes.contains(&0) {
        bail!("--sizes needs one or more table counts above zero, e.g. --sizes 100,1000");
    }
    if let Some(backend) = args.print_ddl {
        let dialect = match backend {
            DdlBackend::Sqlite => retort_schema::Dialect::Sqlite,
            DdlBackend::Postgres => retort_schema::Dialect::Postgres,
            DdlBackend::Mysql => retort_schema::Dialect::Mysql,
        };
        print!(
            "{}",
            generate::schema_ddl(args.sizes[0], dialect, args.seed)
        );
        return Ok(());
    }
    let settings = Settings {
        retort: locate_retort(args.retort)?,
        runs: args.runs.max(1),
        seed: args.seed,
    };
    measure::install_statement_counter()?;
    if cfg!(debug_assertions) {
        eprintln!(
            "warning: retort-bench is a debug build; run it with `cargo run --release -p retort-bench` for representative figures"
        );
    }
    eprintln!("timing {}", settings.retort.display());

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        if matches!(args.backend, BackendChoice::Sqlite | BackendChoice::All) {
            let mut table = report::Table::new("SQLite", "sqlite3");
            for &size in &args.sizes {
                eprintln!("sqlite: {size} tables");
                table.push(or_failed(size, sqlite::measure(size, &settings).await));
            }
            println!("{table}");
        }
        if matches!(args.backend, BackendChoice::Postgres | BackendChoice::All) {
            let mut table = report::Table::new("PostgreSQL", "psql");
            for &size in &args.sizes {
                eprintln!("postgres: {size} tables");
                table.push(or_failed(
                    size,
                    postgres::measure(size, &settings, &args.pg_url).await,
                ));
            }
            println!("{table}");
        }
        if matches!(args.backend, BackendChoice::Mysql | BackendChoice::All) {
            let mut table = report::Table::new("MySQL/MariaDB", "mariadb");
            for &size in &args.sizes {
                eprintln!("mysql: {size} tables");
                table.push(or_failed(
                    size,
                    mysql::measure(size, &settings, &args.mysql_url).await,
                ));
            }
            println!("{table}");
        }
        Ok(())
    })
}

/// A size that failed keeps its row, with the error as its note, so the
/// other sizes' figures still print.
fn or_failed(tables: usize, measured: Result<report::Row>) -> report::Row {
    measured.unwrap_or_else(|err| report::Row {
        tables,
        notes: vec![format!("not measured: {err:#}")],
        ..report::Row::default()
    })
}

/// The retort binary to time: `--retort`, else `retort` next to this
/// binary (both land in `target/release/` with the commands in the crate
/// docs).
fn locate_retort(explicit: Option<PathBuf>) -> Result<PathBuf> {
    let path = match explicit {
        Some(path) => path,
        None => std::env::current_exe()
            .context("cannot find this binary's own path")?
            .with_file_name(format!("retort{}", std::env::consts::EXE_SUFFIX)),
    };
    if !path.is_file() {
        bail!(
            "no retort binary at {}: build it first with `cargo build --release -p retort-cli`, or pass --retort PATH",
            path.display()
        );
    }
    Ok(path)
}
