//! The `retort` command-line tool.
//!
//! `main.rs` only calls [`main_exit_code`]; everything else lives here so
//! tests can drive it. The flow of a command: parse arguments (args.rs) →
//! resolve settings from flags, environment and retort.toml (config.rs)
//! before any IO → open the database (db.rs) → call the library crates →
//! print. Only this crate prints or exits; exit codes are 0 success, 1 drift
//! found (`check`), 2 error, 130 interrupted (Ctrl-C or SIGTERM during
//! `upgrade`/`downgrade`).

pub mod args;
mod commands;
pub mod config;
mod db;
mod downgrade_guard;
pub mod filter;
mod lint;
pub mod naming;
mod renames;
mod signals;
mod stats;
mod verify;

pub use commands::{run, run_in};

use args::Cli;
use clap::Parser;
use std::io::Write;
use std::process::ExitCode;

/// How a command ended, when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// `check` found differences (exit code 1).
    Drift,
}

/// Parses the process arguments, runs the command and maps the result to
/// an exit code, printing any error chain to stderr.
pub fn main_exit_code() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::from(2);
        }
    };
    let mut out = std::io::stdout();
    let result = runtime.block_on(commands::run(cli, &mut out));
    let _ = out.flush();
    match result {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Drift) => ExitCode::from(1),
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            if signals::is_interrupt(&err) {
                // The message says what state the database is in.
                eprintln!("{err}");
                return ExitCode::from(signals::EXIT_CODE);
            }
            eprint!("{}", format_error(&err));
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The error chain as printed: the top message, then each cause once.
/// Model diagnostics print in full, with their source excerpts.
pub fn format_error(err: &anyhow::Error) -> String {
    if let Some(model_error) = err.downcast_ref::<retort_models::ModelError>() {
        let header = match model_error.diagnostics() {
            Some(diagnostics) if diagnostics.len() == 1 => {
                "error: 1 problem in the models\n".to_string()
            }
            Some(diagnostics) => format!("error: {} problems in the models\n", diagnostics.len()),
            None => String::new(),
        };
        return format!("{header}{}\n", model_error.render_fancy().trim_end());
    }
    let mut text = String::new();
    let mut previous = String::new();
    // The statement a database error refers to, once the chain named it.
    let mut sql: Option<&str> = None;
    let mut chain = err.chain();
    while let Some(cause) = chain.next() {
        let described = cause
            .downcast_ref::<sqlx::Error>()
            .and_then(|db| retort_migrate::database_error_text(db, sql));
        let message = match described {
            Some(described) => {
                // Its source is the driver's own text of the same error.
                chain.next();
                described
            }
            None => cause.to_string(),
        };
        if let Some(statement) = failed_statement(cause) {
            sql = Some(statement);
        }
        if text.is_empty() {
            text = format!("error: {message}\n");
        } else if !previous.contains(&message) {
            // Some errors repeat their source's text; print each once.
            text.push_str(&format!("  caused by: {message}\n"));
        }
        previous = message;
    }
    text
}

/// The statement `err` says failed, for the database error under it.
fn failed_statement<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a str> {
    if let Some(statement) = err.downcast_ref::<retort_migrate::StatementError>() {
        return Some(&statement.sql);
    }
    if let Some(rejected) = err.downcast_ref::<crate::verify::RejectedStatement>() {
        return Some(&rejected.sql);
    }
    match err.downcast_ref::<retort_migrate::MigrateError>() {
        Some(retort_migrate::MigrateError::Statement(statement)) => Some(&statement.sql),
        _ => None,
    }
}
