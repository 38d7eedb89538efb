//! The command line, as clap derive types. Doc comments are the help text.

use clap::{Args, Parser, Subcommand, ValueEnum};
use retort_diff::{HazardCode, Rename};
use std::path::PathBuf;

/// retort: autogenerate, review and apply schema migrations from SQL models.
#[derive(Debug, Parser)]
#[command(name = "retort", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Configuration file [default: retort.toml in the current directory]
    #[arg(short = 'c', long = "config", global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Database URL; overrides DATABASE_URL and retort.toml
    #[arg(short = 'd', long = "database-url", global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// Model file or directory of .sql files (repeatable); overrides retort.toml
    #[arg(long = "models", global = true, value_name = "PATH")]
    pub models: Vec<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create retort.toml, an example schema.sql and migrations/versions/
    Init(InitArgs),
    /// Autogenerate a draft revision from the difference between models and database
    Autogen(AutogenArgs),
    /// Create a new revision (empty, for hand-written SQL, unless --autogenerate)
    Revision(RevisionArgs),
    /// Show the difference between the database and the models; writes nothing
    Diff(DiffArgs),
    /// Exit 0 when database and models are in sync, 1 on drift, 2 on error
    Check(CheckArgs),
    /// Exit 1 when pending revisions (or REV) carry denied hazards
    Lint(LintArgs),
    /// Apply revisions up to a target
    Upgrade(UpgradeArgs),
    /// Revert revisions down to a target
    Downgrade(DowngradeArgs),
    /// Show the revision(s) the database is at
    Current,
    /// List revisions, newest first
    History(HistoryArgs),
    /// List the head revisions
    Heads,
    /// Show one revision
    Show(ShowArgs),
    /// Record a revision in the version table without running it
    Stamp(StampArgs),
    /// Create a revision that merges several heads
    Merge(MergeArgs),
    /// Print the live database schema
    Inspect(InspectArgs),
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Database the project targets
    #[arg(long, value_enum, default_value_t = DialectArg::Sqlite)]
    pub dialect: DialectArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DialectArg {
    Sqlite,
    Postgres,
    Mysql,
}

#[derive(Debug, Args)]
pub struct AutogenArgs {
    /// Revision message, e.g. "add age column"
    #[arg(short = 'm', long = "message")]
    pub message: String,
    /// Write a revision even when no changes are detected
    #[arg(long)]
    pub allow_empty: bool,
    /// Prove the draft first: run its up and down on a scratch copy of the
    /// live schema and require the models, then the live schema, back
    /// (also `[autogen] verify = true`)
    #[arg(long)]
    pub verify: bool,
    /// PostgreSQL: online-safe statements (CREATE INDEX CONCURRENTLY, constraints NOT VALID then validated, lock_timeout); see [autogen] online
    #[arg(long)]
    pub online: bool,
    #[command(flatten)]
    pub renames: RenameArgs,
}

/// Confirmed renames, for the commands that diff.
#[derive(Debug, Args)]
pub struct RenameArgs {
    /// Confirm a rename, so the data is kept: TABLE.OLD=NEW for a column,
    /// OLD=NEW for a table (repeatable)
    #[arg(long = "rename", value_name = "OLD=NEW", value_parser = crate::renames::parse_rename)]
    pub renames: Vec<Rename>,
}

#[derive(Debug, Args)]
pub struct RevisionArgs {
    /// Revision message
    #[arg(short = 'm', long = "message")]
    pub message: String,
    /// Fill the revision from the difference between models and database
    #[arg(long)]
    pub autogenerate: bool,
    /// With --autogenerate: write a revision even when no changes are detected
    #[arg(long)]
    pub allow_empty: bool,
    /// With --autogenerate, PostgreSQL: online-safe statements (CREATE INDEX CONCURRENTLY, constraints NOT VALID then validated, lock_timeout); see [autogen] online
    #[arg(long)]
    pub online: bool,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,
    /// PostgreSQL: online-safe statements (CREATE INDEX CONCURRENTLY, constraints NOT VALID then validated, lock_timeout); see [autogen] online
    #[arg(long)]
    pub online: bool,
    #[command(flatten)]
    pub renames: RenameArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// One line per op, with hazards
    Text,
    /// {"ops":[…]}, stable and deterministic
    Json,
    /// The SQL the upgrade would run
    Sql,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Hazards that fail the check when the drift or a pending revision carries them,
    /// comma-separated (data_loss, table_rewrite, long_lock, fails_on_existing_rows, irreversible)
    #[arg(long, value_name = "HAZARDS", value_delimiter = ',', value_parser = crate::lint::parse_codes)]
    pub deny: Vec<HazardCode>,
    #[command(flatten)]
    pub renames: RenameArgs,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Revision id (unique prefix) to lint [default: every revision not yet applied]
    pub revision: Option<String>,
    /// Hazards that fail the lint, comma-separated
    #[arg(
        long,
        value_name = "HAZARDS",
        value_delimiter = ',',
        value_parser = crate::lint::parse_codes,
        default_value = "data_loss,irreversible"
    )]
    pub deny: Vec<HazardCode>,
}

#[derive(Debug, Args)]
pub struct UpgradeArgs {
    /// head, heads, +N, or a revision id (unique prefix)
    #[arg(default_value = "head", allow_hyphen_values = true)]
    pub target: String,
    /// Print the SQL instead of running it (starts from base unless --from is given)
    #[arg(long)]
    pub sql: bool,
    /// With --sql: the revision the database is at (default: base)
    #[arg(long, requires = "sql", value_name = "REV")]
    pub from: Option<String>,
}

#[derive(Debug, Args)]
pub struct DowngradeArgs {
    /// -N, base, or a revision id (unique prefix)
    #[arg(allow_hyphen_values = true)]
    pub target: String,
    /// Print the SQL instead of running it (starts from the heads unless --from is given)
    #[arg(long)]
    pub sql: bool,
    /// With --sql: the revision the database is at (default: the heads)
    #[arg(long, requires = "sql", value_name = "REV")]
    pub from: Option<String>,
    /// Revert revisions whose down sections drop data the database holds (it is not restored)
    #[arg(long)]
    pub accept_data_loss: bool,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Show parents, dates and files
    #[arg(short, long)]
    pub verbose: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Revision id (unique prefix), or head
    pub revision: String,
}

#[derive(Debug, Args)]
pub struct StampArgs {
    /// Revision id (unique prefix), head, heads or base
    pub revision: String,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Revision message
    #[arg(short = 'm', long = "message")]
    pub message: String,
    /// The revisions to merge (at least two); default: all heads
    pub revisions: Vec<String>,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = InspectFormat::Sql)]
    pub format: InspectFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InspectFormat {
    /// CREATE statements
    Sql,
    /// The schema IR as JSON
    Json,
}
