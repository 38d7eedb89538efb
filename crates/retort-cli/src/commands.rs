//! One function per subcommand. Each resolves what it needs, calls the
//! library crates and prints; none re-implements library logic (the runner
//! loop lives in retort-migrate, the differ in retort-diff).

use anyhow::{Context, Result, anyhow, bail};
use retort_diff::{DiffOptions, HazardCode, Plan};
use retort_migrate::{
    DowngradeTarget, Event, Interrupt, Revision, RevisionGraph, RunOptions, UpgradeTarget,
};
use retort_schema::{Dialect, Schema};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::Outcome;
use crate::args::{
    CheckArgs, Cli, Command, DialectArg, DiffArgs, DiffFormat, DowngradeArgs, HistoryArgs,
    InitArgs, InspectArgs, InspectFormat, LintArgs, MergeArgs, RevisionArgs, ShowArgs, StampArgs,
    UpgradeArgs,
};
use crate::config::{self, CONFIG_FILE, Settings};
use crate::db::{Access, Database};

/// Runs a parsed command line in `cwd`, reading the environment through
/// `env`, printing to `out`.
pub async fn run_in(
    cli: Cli,
    cwd: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    out: &mut (dyn Write + Send),
) -> Result<Outcome> {
    if let Command::Init(args) = &cli.command {
        return init(args, cwd, cli.global.config.as_deref(), out);
    }
    let settings = config::resolve(&cli.global, cwd, env)?;
    match cli.command {
        Command::Init(_) => unreachable_init(),
        Command::Autogen(args) => {
            let options = render_options(&settings, args.online);
            autogen(
                &settings,
                &args.message,
                args.allow_empty,
                args.verify,
                &options,
                &args.renames.renames,
                out,
            )
            .await
        }
        Command::Revision(args) => revision(&settings, &args, out).await,
        Command::Diff(args) => diff(&settings, &args, out).await,
        Command::Check(args) => check(&settings, &args, out).await,
        Command::Lint(args) => lint(&settings, &args, out).await,
        Command::Upgrade(args) => upgrade(&settings, &args, out).await,
        Command::Downgrade(args) => downgrade(&settings, &args, out).await,
        Command::Current => current(&settings, out).await,
        Command::History(args) => history(&settings, &args, out).await,
        Command::Heads => heads(&settings, out),
        Command::Show(args) => show(&settings, &args, out),
        Command::Stamp(args) => stamp(&settings, &args, out).await,
        Command::Merge(args) => merge(&settings, &args, out),
        Command::Inspect(args) => inspect(&settings, &args, out).await,
    }
}

/// Runs a parsed command line in the process's working directory and
/// environment.
pub async fn run(cli: Cli, out: &mut (dyn Write + Send)) -> Result<Outcome> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    run_in(cli, &cwd, &|name| std::env::var(name).ok(), out).await
}

fn unreachable_init() -> Result<Outcome> {
    bail!("init is handled before settings are resolved")
}

fn init(
    args: &InitArgs,
    cwd: &Path,
    config: Option<&Path>,
    out: &mut (dyn Write + Send),
) -> Result<Outcome> {
    let dialect = match args.dialect {
        DialectArg::Sqlite => Dialect::Sqlite,
        DialectArg::Postgres => Dialect::Postgres,
        DialectArg::Mysql => Dialect::Mysql,
    };
    let config_path = cwd.join(config.unwrap_or(Path::new(CONFIG_FILE)));
    let project = config_path.parent().unwrap_or(cwd).to_path_buf();
    let schema_path = project.join("schema.sql");
    let versions = project.join("migrations").join("versions");
    if config_path.exists() {
        bail!(
            "{} already exists: retort init never overwrites; edit it or remove it first",
            config_path.display()
        );
    }
    std::fs::create_dir_all(&versions)
        .with_context(|| format!("cannot create {}", versions.display()))?;
    write_new_file(&config_path, &config::init_config(dialect))?;
    writeln!(out, "Created {}", config_path.display())?;
    if schema_path.exists() {
        writeln!(out, "Kept existing {}", schema_path.display())?;
    } else {
        write_new_file(&schema_path, example_models(dialect))?;
        writeln!(out, "Created {}", schema_path.display())?;
    }
    writeln!(out, "Created {}", versions.display())?;
    writeln!(
        out,
        "Next: edit schema.sql, then run `retort autogen -m \"create tables\"` and `retort upgrade`"
    )?;
    Ok(Outcome::Success)
}

/// Writes a file that must not exist yet (never overwrites).
fn write_new_file(path: &Path, text: &str) -> Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// The example TodoApp models that `init` writes.
fn example_models(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => include_str!("../templates/schema.sqlite.sql"),
        Dialect::Postgres => include_str!("../templates/schema.postgres.sql"),
        Dialect::Mysql => include_str!("../templates/schema.mysql.sql"),
    }
}

fn load_graph(settings: &Settings) -> Result<RevisionGraph> {
    let dir = settings.versions_dir();
    if !dir.is_dir() {
        bail!(
            "migrations folder {} does not exist: run `retort init`, or set [migrations] dir in {}",
            dir.display(),
            CONFIG_FILE
        );
    }
    Ok(RevisionGraph::load(&dir)?)
}

/// The models as the differ sees them: an unnamed `CREATE INDEX` gets the
/// `[naming] index` name (indexes are matched by name); unnamed constraints
/// stay unnamed
/// (see crate::naming; on MySQL the names the loader gave unnamed unique
/// keys are forgotten when a `unique` template replaces them), after
/// checking that the naming convention gives no two constraints one name.
fn load_models(settings: &Settings, dialect: Dialect) -> Result<Schema> {
    let paths = settings.require_models()?;
    let mut models = match &settings.naming.index {
        Some(_) => {
            let naming = settings.naming.clone();
            retort_models::load_files_with(
                paths,
                dialect,
                Box::new(move |table, columns| {
                    naming
                        .unnamed_index_name(table, columns, dialect)
                        .unwrap_or_default()
                }),
            )?
        }
        None => retort_models::load_files(paths, dialect)?,
    };
    if dialect == Dialect::Mysql {
        crate::naming::unname_mysql_unique_keys(&mut models, &settings.naming);
    }
    crate::naming::check_collisions(&models, &settings.naming, dialect)?;
    Ok(models)
}

/// Models being loaded on a thread of their own while the database is read:
/// loading is CPU work, introspection mostly waits on the server, so the
/// two overlap (at 5,000 tables each takes about half a second).
enum PendingModels {
    Loading(std::thread::JoinHandle<Result<Schema>>),
    /// No thread could be started: loaded on this one, before the database.
    Loaded(Result<Schema>),
}

/// The model thread's stack. The loader bounds expression depth (so no
/// model overflows a main thread's 8 MB either), but parsing and
/// canonicalising recurse, and a debug build's frames are large: the
/// default 2 MB of a spawned thread overflowed at ~25 nested calls.
const MODEL_THREAD_STACK: usize = 64 * 1024 * 1024;

impl PendingModels {
    fn start(settings: &Settings, dialect: Dialect) -> Self {
        let thread_settings = settings.clone();
        let spawned = std::thread::Builder::new()
            .name("models".to_string())
            .stack_size(MODEL_THREAD_STACK)
            .spawn(move || load_models(&thread_settings, dialect));
        match spawned {
            Ok(handle) => PendingModels::Loading(handle),
            Err(_) => PendingModels::Loaded(load_models(settings, dialect)),
        }
    }

    fn wait(self) -> Result<Schema> {
        match self {
            PendingModels::Loading(handle) => handle
                .join()
                .unwrap_or_else(|_| Err(anyhow!("the model loader panicked"))),
            PendingModels::Loaded(result) => result,
        }
    }

    /// `err`, unless the models failed to load: a problem in a model file
    /// is the one to report first, whatever else went wrong meanwhile.
    fn or_model_error(self, err: anyhow::Error) -> anyhow::Error {
        match self.wait() {
            Err(model_error) => model_error,
            Ok(_) => err,
        }
    }
}

async fn current_revisions(db: &mut Database, settings: &Settings) -> Result<Vec<String>> {
    Ok(db.current(&settings.version_table).await?)
}

/// Revisions a non-transactional database (MySQL) has only partly applied.
async fn partial_revisions(
    db: &mut Database,
    settings: &Settings,
) -> Result<Vec<retort_migrate::PartialRevision>> {
    Ok(db.partial_progress(&settings.version_table).await?)
}

/// Errors unless the database is at the graph's heads: a draft generated
/// from a database that is behind would repeat the pending revisions.
fn ensure_at_heads(graph: &RevisionGraph, current: &[String], what: &str) -> Result<()> {
    let heads: BTreeSet<&str> = graph.heads().iter().map(|r| r.id.as_str()).collect();
    let at: BTreeSet<&str> = current.iter().map(String::as_str).collect();
    if heads != at {
        bail!(
            "the database is not at head (it is at {}, head is {}): run `retort upgrade head` before {what}",
            describe_revisions(&at),
            describe_revisions(&heads)
        );
    }
    Ok(())
}

fn describe_revisions(ids: &BTreeSet<&str>) -> String {
    if ids.is_empty() {
        "base".to_string()
    } else {
        ids.iter().copied().collect::<Vec<_>>().join(", ")
    }
}

/// The live schema, the models and the plan between them.
struct Drift {
    dialect: Dialect,
    live: Schema,
    /// The models the live schema was compared with.
    models: Schema,
    plan: Plan,
    /// What rendering needs to know about the data (which tables have rows).
    render_options: retort_render::RenderOptions,
}

/// Diffs the live database against `models`, which load meanwhile; a
/// problem in a model file is reported before any database error.
///
/// Renames confirmed by `flags`, `[autogen.renames]` or model hints become
/// rename ops; on a terminal the other candidates are asked about (the
/// question goes to `out`).
async fn compute_drift(
    settings: &Settings,
    db: &mut Database,
    models: PendingModels,
    flags: &[retort_diff::Rename],
    out: &mut (dyn Write + Send),
) -> Result<Drift> {
    let dialect = settings.require_database()?.dialect();
    let live = match db.introspect(&settings.introspect_options()).await {
        Ok(live) => live,
        Err(err) => return Err(models.or_model_error(err)),
    };
    let models = models.wait()?;
    let options = DiffOptions { dialect };
    // Filtered copies for the comparison only: the renderer starts from the
    // whole live schema, so a SQLite rebuild keeps excluded objects.
    let filter = &settings.filter;
    // Spelled alike first (SQLite's `Users` is the database's `users`), so
    // the filter excludes an object on both sides or on neither, and the
    // renderer's starting point spells references as the ops do.
    let (live, models) = reconciled(live, models, dialect);
    let (live_compared, models_compared) = (filter.apply(&live), filter.apply(&models));
    let hints = retort_models::rename_hints(settings.require_models()?, dialect)?;
    let mut renames = crate::renames::confirmed(
        flags,
        &settings.renames,
        &hints,
        &live_compared,
        &models_compared,
    )?;
    let mut plan =
        retort_diff::diff_with_renames(&live_compared, &models_compared, &options, &renames)?;
    if !plan.rename_candidates.is_empty() && crate::renames::interactive() {
        let mut declined = Vec::new();
        let stdin = std::io::stdin();
        while let Some(candidate) = plan
            .rename_candidates
            .iter()
            .find(|c| !declined.contains(*c))
            .cloned()
        {
            if crate::renames::ask(&candidate, &mut stdin.lock(), out)? {
                renames.push(candidate.rename);
                plan = retort_diff::diff_with_renames(
                    &live_compared,
                    &models_compared,
                    &options,
                    &renames,
                )?;
            } else {
                declined.push(candidate);
            }
        }
    }
    let rename_candidates = std::mem::take(&mut plan.rename_candidates);
    if !settings.naming.is_empty() {
        crate::naming::name_new_constraints(&mut plan.ops, &settings.naming, dialect);
    }
    // Data-aware hazards: count the rows of the tables the plan touches.
    // Planning again also derives the hazard messages from the final
    // (conventionally named) constraints.
    let request = retort_diff::StatsRequest::for_ops(plan.ops.iter().map(|p| &p.op));
    let stats = if request.is_empty() {
        retort_diff::TableStats::default()
    } else {
        crate::stats::read_stats(db, &request).await?
    };
    let mut plan = retort_diff::plan_with_stats(plan.ops(), &options, &stats);
    plan.rename_candidates = rename_candidates;
    // Only the tables the plan adds a value-less NOT NULL column to matter
    // here: their rows decide between ADD COLUMN … NOT NULL and the backfill
    // recipe. An exact count read for the hazards answers; else a probe.
    let mut render_options = retort_render::RenderOptions::default();
    for table in retort_render::backfill_tables(&plan.ops) {
        let has_rows = match stats.tables.get(&table) {
            Some(counted) if !counted.estimated => counted.rows > 0,
            _ => db.has_rows(&table).await?,
        };
        if has_rows {
            render_options.tables_with_rows.insert(table);
        }
    }
    Ok(Drift {
        dialect,
        live,
        models,
        plan,
        render_options,
    })
}

/// `live` and `models` spelled alike ([`retort_diff::reconcile`]), each
/// moved through unchanged where nothing needed respelling.
fn reconciled(live: Schema, models: Schema, dialect: Dialect) -> (Schema, Schema) {
    let (live_spelled, models_spelled) = retort_diff::reconcile(&live, &models, dialect);
    let owned = |schema: std::borrow::Cow<'_, Schema>| match schema {
        std::borrow::Cow::Owned(schema) => Some(schema),
        std::borrow::Cow::Borrowed(_) => None,
    };
    let (live_spelled, models_spelled) = (owned(live_spelled), owned(models_spelled));
    (
        live_spelled.unwrap_or(live),
        models_spelled.unwrap_or(models),
    )
}

/// How to render, from `--online` and `[autogen]`: online implies a
/// `lock_timeout` of 5s unless one is configured.
fn render_options(settings: &Settings, online_flag: bool) -> retort_render::RenderOptions {
    let online = online_flag || settings.online;
    let lock_timeout = settings
        .lock_timeout
        .clone()
        .or_else(|| online.then(|| "5s".to_string()));
    retort_render::RenderOptions::default()
        .with_online(online)
        .with_lock_timeout(lock_timeout)
}

/// The note printed once where `options` ask for what only PostgreSQL
/// does.
fn options_note(options: &retort_render::RenderOptions, dialect: Dialect) -> Option<String> {
    let asked = options.online || options.lock_timeout.is_some();
    (asked && !options.affects(dialect)).then(|| {
        format!(
            "note: online plans and lock_timeout are PostgreSQL-only; the {dialect} plan is unchanged"
        )
    })
}

/// The plan's hazards as rendered with `options` (an online index build
/// has no `long_lock`), so the summary, the JSON and the revision agree.
fn adjust_hazards(drift: &mut Drift, options: &retort_render::RenderOptions) {
    drift.plan.ops =
        retort_render::adjust_hazards(&drift.plan.ops, &drift.live, drift.dialect, options);
}

/// The upgrade and downgrade SQL of a plan.
fn render_both(
    drift: &Drift,
    render_options: &retort_render::RenderOptions,
) -> Result<(String, String)> {
    let options = DiffOptions {
        dialect: drift.dialect,
    };
    refuse_other_schemas(drift)?;
    // The up knows which tables hold rows (the backfill recipe); the down
    // runs against the schema the up leaves, whose data retort cannot see.
    let mut up_options = render_options.clone();
    up_options.tables_with_rows = drift.render_options.tables_with_rows.clone();
    let up = retort_render::render_with(&drift.plan.ops, &drift.live, drift.dialect, &up_options)?;
    let after = retort_diff::apply_all(&drift.live, &drift.plan.ops())?;
    let mut down_plan = retort_diff::plan(retort_diff::invert(&drift.plan.ops()), &options);
    // In the down section, "the downgrade" of a hazard message is the
    // revision's upgrade run again.
    for hazard in down_plan.ops.iter_mut().flat_map(|p| p.hazards.iter_mut()) {
        if let Some(rest) = hazard.message.strip_prefix("the downgrade ") {
            hazard.message = format!("upgrading again {rest}");
        }
    }
    let down = retort_render::render_with(&down_plan.ops, &after, drift.dialect, render_options)?;
    Ok((up.to_sql(), down.to_sql()))
}

/// Ops name tables without their schema, so SQL for a table outside the
/// connection's default schema would land in the wrong one: refuse rather
/// than write it. Reading and diffing such tables works.
fn refuse_other_schemas(drift: &Drift) -> Result<()> {
    let created = drift
        .plan
        .ops
        .iter()
        .filter_map(|planned| match &planned.op {
            retort_diff::Op::CreateTable { table } | retort_diff::Op::DropTable { table } => table
                .schema
                .as_ref()
                .map(|schema| (schema.clone(), table.name.clone())),
            _ => None,
        });
    let touched = drift.plan.ops.iter().filter_map(|planned| {
        let name = planned.op.table()?;
        let table = drift.live.tables.iter().find(|t| t.name == name)?;
        table
            .schema
            .as_ref()
            .map(|schema| (schema.clone(), name.to_string()))
    });
    if let Some((schema, table)) = created.chain(touched).next() {
        bail!(
            "table {schema}.{table} is outside the connection's default schema: this version of retort reads such tables but cannot write migrations for them yet; manage that schema with its own retort project (its URL's search_path or options=-csearch_path={schema})"
        );
    }
    Ok(())
}

async fn autogen(
    settings: &Settings,
    message: &str,
    allow_empty: bool,
    verify: bool,
    options: &retort_render::RenderOptions,
    renames: &[retort_diff::Rename],
    out: &mut (dyn Write + Send),
) -> Result<Outcome> {
    let url = settings.require_database()?;
    let models = PendingModels::start(settings, url.dialect());
    let ready = async {
        let graph = load_graph(settings)?;
        let mut db = Database::open(url, Access::ReadOnly).await?;
        let current = current_revisions(&mut db, settings).await?;
        ensure_at_heads(&graph, &current, "autogenerating a revision")?;
        Ok::<_, anyhow::Error>((graph, db))
    };
    let (graph, mut db) = match ready.await {
        Ok(ready) => ready,
        Err(err) => return Err(models.or_model_error(err)),
    };
    let mut drift = compute_drift(settings, &mut db, models, renames, out).await?;
    db.close().await;
    if drift.plan.is_empty() && !allow_empty {
        writeln!(out, "No changes detected")?;
        return Ok(Outcome::Success);
    }
    adjust_hazards(&mut drift, options);
    let (up, down) = render_both(&drift, options)?;
    let verified = if (verify || settings.autogen_verify) && !drift.plan.is_empty() {
        Some(crate::verify::prove(settings, url, &drift.live, &drift.models, &up, &down).await?)
    } else {
        None
    };
    let path = write_revision(settings, &graph, message, graph_head_ids(&graph), up, down)?;
    writeln!(out, "Generated {}", settings.display_path(&path))?;
    if let Some(note) = options_note(options, drift.dialect) {
        writeln!(out, "  {note}")?;
    }
    for line in retort_render::summary(&drift.plan.ops) {
        writeln!(out, "  {line}")?;
    }
    if let Some(place) = verified {
        writeln!(
            out,
            "  verified on {place}: from a copy of the live schema the up reaches the models and the down restores it"
        )?;
    }
    for table in &drift.render_options.tables_with_rows {
        writeln!(
            out,
            "  {table} has rows: the new NOT NULL column(s) are added nullable, backfilled, then set NOT NULL; \
             write the backfill value at each `{}` line and delete the line before `retort upgrade`",
            retort_render::TODO_DIRECTIVE
        )?;
    }
    if drift.plan.is_empty() {
        writeln!(out, "  (empty: no changes detected)")?;
    }
    for line in crate::renames::candidate_lines(&drift.plan.rename_candidates) {
        writeln!(out, "  {line}")?;
    }
    Ok(Outcome::Success)
}

fn graph_head_ids(graph: &RevisionGraph) -> Vec<String> {
    graph.heads().iter().map(|r| r.id.clone()).collect()
}

fn write_revision(
    settings: &Settings,
    graph: &RevisionGraph,
    message: &str,
    parents: Vec<String>,
    up: String,
    down: String,
) -> Result<PathBuf> {
    let message = message.trim();
    if message.is_empty() {
        bail!("the revision message is empty: pass -m \"what this revision does\"");
    }
    let mut revision = Revision::new(parents.clone(), message, &up, &down);
    while graph.get(&revision.id).is_some() {
        revision = Revision::new(parents.clone(), message, &up, &down);
    }
    Ok(retort_migrate::write_revision(
        &settings.versions_dir(),
        &revision,
    )?)
}

async fn revision(
    settings: &Settings,
    args: &RevisionArgs,
    out: &mut (dyn Write + Send),
) -> Result<Outcome> {
    if args.autogenerate {
        let options = render_options(settings, args.online);
        return autogen(
            settings,
            &args.message,
            args.allow_empty,
            false,
            &options,
            &[],
            out,
        )
        .await;
    }
    let graph = load_graph(settings)?;
    let path = write_revision(
        settings,
        &graph,
        &args.message,
        graph_head_ids(&graph),
        String::new(),
        String::new(),
    )?;
    writeln!(out, "Generated {}", settings.display_path(&path))?;
    Ok(Outcome::Success)
}

async fn diff(
    settings: &Settings,
    args: &DiffArgs,
    out: &mut (dyn Write + Send),
) -> Result<Outcome> {
    let url = settings.require_database()?;
    let models = PendingModels::start(settings, url.dialect());
    let mut db = match Database::open(url, Access::ReadOnly).await {
        Ok(db) => db,
        Err(err) => return Err(models.or_model_error(err)),
    };
    let mut drift = compute_drift(settings, &mut db, models, &args.renames.renames, out).await?;
    db.close().await;
    let options = render_options(settings, args.online);
    adjust_hazards(&mut drift, &options);
    let note = options_note(&options, drift.dialect);
    match args.format {
        DiffFormat::Json => {
            let json = serde_json::to_string_pretty(&drift.plan)?;
            writeln!(out, "{json}")?;
        }
        DiffFormat::Sql => {
            if let Some(note) = &note {
                writeln!(out, "-- {note}")?;
            }
            let (up, _) = render_both(&drift, &options)?;
            write!(out, "{up}")?;
        }
        DiffFormat::Text => {
            if let Some(note) = &note {
                writeln!(out, "{note}")?;
            }
            if drift.plan.is_empty() {
                writeln!(out, "No changes detected")?;
            }
            for line in retort_render::summary(&drift.plan.ops) {
                writeln!(out, "{line}")?;
            }
            for line in crate::renames::candidate_lines(&drift.plan.rename_candidates) {
                writeln!(out, "{line}")?;
            }
        }
    }
    Ok(Outcome::Success)
}

async fn check(
    settings: &Settings,
    args: &CheckArgs,
    out: &mut (dyn Write + Send),
) -> Result<Outcome> {
    let url = settings.require_database()?;
    let models = PendingModels::start(settings, url.dialect());
    let ready = async {
        let graph = load_graph(settings)?;
        let mut db = Database::open(url, Access::ReadOnly).await?;
        let current = current_revisions(&mut db, settings).await?;
        Ok::<_, anyhow::Error>((graph, db, current))
    };
    let (graph, mut db, current) = match ready.await {
        Ok(ready) => ready,
        Err(err) => return Err(models.or_model_error(err)),
    };
    let mut outcome = Outcome::Success;
    if let Err(err) = ensure_at_heads(&graph, &current, "checking") {
        writeln!(out, "{err}")?;
        outcome = Outcome::Drift;
    }
    let mut drift = compute_drift(settings, &mut db, models, &args.renames.renames, out).await?;
    db.close().await;
    // The pending ops' hazards as `[autogen] online` would write them.
    adjust_hazards(&mut drift, &render_options(settings, false));
    if !args.deny.is_empty() {
        let pending =
            retort_migrate::plan_upgrade(&graph, &current, &retort_migrate::UpgradeTarget::Heads)?;
        let mut denied =
            report_revisions(settings, &pending, &args.deny, Some(drift.dialect), out)?;
        for planned in &drift.plan.ops {
            for hazard in &planned.hazards {
                if args.deny.contains(&hazard.code) {
                    denied += 1;
                    writeln!(
                        out,
                        "denied: {}: {} (pending op {})",
                        hazard.code.as_str(),
                        hazard.message,
                        planned.op.name()
                    )?;
                }
            }
        }
        if denied > 0 {
            writeln!(
                out,
                "{denied} denied hazard(s) (--deny {})",
                codes_list(&args.deny)
            )?;
            outcome = Outcome::Drift;
        }
    }
    if drift.plan.is_empty() {
        if outcome == Outcome::Success {
            writeln!(out, "No changes detected: the database matches the models")?;
        }
        return Ok(outcome);
    }
    writeln!(
        out,
        "Drift detected: {} op(s) would bring the database in line with the models",
        drift.plan.ops.len()
    )?;
    for line in retort_render::summary(&drift.plan.ops) {
        writeln!(out, "  {line}")?;
    }
    for line in crate::renames::candidate_lines(&drift.plan.rename_candidates) {
        writeln!(out, "  {line}")?;
    }
    writeln!(
        out,
        "Run `retort autogen -m \"…\"` to write a revision for it"
    )?;
    Ok(Outcome::Drift)
}

fn codes_list(codes: &[HazardCode]) -> String {
    codes
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// Prints the hazards of the up sections of `revisions` (`path:line:
/// code: message`, marked denied or allowed) and returns how many are
/// denied and not allowed.
fn report_revisions(
    settings: &Settings,
    revisions: &[&Revision],
    deny: &[HazardCode],
    dialect: Option<Dialect>,
    out: &mut (dyn Write + Send),
) -> Result<usize> {
    let mut denied = 0;
    for rev in revisions {
        for finding in crate::lint::lint_section(&rev.up, dialect) {
            let mark = if !deny.contains(&finding.code) {
                "note"
            } else if finding.allowed {
                "allowed"
            } else {
                denied += 1;
                "denied"
            };
            writeln!(
                out,
                "{}:{}: {mark}: {}: {} (revision {})",
                settings.display_path(&rev.path),
                rev.up_line + finding.line - 1,
                finding.code.as_str(),
                finding.message,
                rev.id
            )?;
        }
    }
    Ok(denied)
}

/// `retort lint [REV]`: the hazards of REV, or of every revision not yet
/// applied to the database.
async fn lint(
    settings: &Settings,
    args: &LintArgs,
    out: &mut (dyn Write + Send),
) -> Result<Outcome> {
    let graph = load_graph(settings)?;
    let dialect = settings.database_url.as_ref().map(|url| url.dialect());
    let revisions: Vec<&Revision> = match &args.revision {
        Some(spec) => vec![graph.resolve(spec)?],
        None => {
            let url = settings.require_database()?;
            let mut db = Database::open(url, Access::ReadOnly).await?;
            let current = current_revisions(&mut db, settings).await;
            db.close().await;
            retort_migrate::plan_upgrade(&graph, &current?, &retort_migrate::UpgradeTarget::Heads)?
        }
    };
    let denied = report_revisions(settings, &revisions, &args.deny, dialect, out)?;
    if denied > 0 {
        writeln!(
            out,
            "{denied} denied hazard(s) in {} revision(s) (--deny {}): review them, or accept one deliberately with `-- retort:allow <hazard>` on the line above its statement",
            revisions.len(),
            codes_list(&args.deny)
        )?;
        return Ok(Outcome::Drift);
    }
    writeln!(
        out,
        "No denied hazards in {} revision(s) (--deny {})",
        revisions.len(),
        codes_list(&args.deny)
    )?;
    Ok(Outcome::Success)
}

fn parse_upgrade_target(text: &str) -> Result<UpgradeTarget> {
    Ok(match text {
        "head" => UpgradeTarget::Head,
        "heads" => UpgradeTarget::Heads,
        _ => match text.strip_prefix('+') {
            Some(n) => UpgradeTarget::Relative(parse_steps(n, text)?),
            None => UpgradeTarget::Revision(text.to_string()),
        },
    })
}

fn parse_downgrade_target(text: &str) -> Result<DowngradeTarget> {
    Ok(match text {
        "base" => DowngradeTarget::Base,
        _ => match text.strip_prefix('-') {
            Some(n) => DowngradeTarget::Relative(parse_steps(n, text)?),
            None => DowngradeTarget::Revision(text.to_string()),
        },
    })
}

fn parse_steps(number: &str, whole: &str) -> Result<u32> {
    match number.parse::<u32>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(anyhow!(
            "`{whole}` is not a step count: write +N / -N with N a positive whole number"
        )),
    }
}

/// The revisions named by `--from` (for `--sql`), resolved in the graph.
fn offline_start(
    graph: &RevisionGraph,
    from: Option<&str>,
    default_heads: bool,
) -> Result<Vec<String>> {
    match from {
        Some("base") => Ok(Vec::new()),
        Some(spec) => Ok(vec![graph.resolve(spec)?.id.clone()]),
        None if default_heads => Ok(graph_head_ids(graph)),
        None => Ok(Vec::new()),
    }
}

/// Which way a run moves the database, and to where.
enum Move {
    Up(UpgradeTarget),
    Down(DowngradeTarget),
}

async fn upgrade(
    settings: &Settings,
    args: &UpgradeArgs,
    out: &mut (dyn Write + Send),
) -> Result<Outcome> {
    let target = Move::Up(parse_upgrade_target(&args.target)?);
    migrate(settings, target, args.sql, args.from.as_deref(), out).await
}

async fn downgrade(
    settings: &Settings,
    args: &DowngradeArgs,
    out: &mut (dyn Write + Send),
) -> Result<Outcome> {
    let parsed = parse_downgrade_target(&args.target)?;
    if !args.sql && !args.accept_data_loss {
        let graph = load_graph(settings)?;
        if let DowngradeTarget::Revision(spec) = &parsed {
            graph.resolve(spec)?;
        }
        crate::downgrade_guard::refuse_data_loss(settings, &graph, &parsed, out).await?;
    }
    let target = Move::Down(parsed);
    migrate(settings, target, args.sql, args.from.as_deref(), out).await
}

/// `upgrade` and `downgrade`: print the offline script (`--sql`) or hand
/// the run to retort-migrate's runner, printing its events.
async fn migrate(
    settings: &Settings,
    target: Move,
    sql: bool,
    from: Option<&str>,
    out: &mut (dyn Write + Send),
) -> Result<Outcome> {
    let graph = load_graph(settings)?;
    // An unknown or ambiguous revision is reported before the database
    // file is opened (and so perhaps created).
    match &target {
        Move::Up(UpgradeTarget::Revision(spec)) | Move::Down(DowngradeTarget::Revision(spec)) => {
            graph.resolve(spec)?;
        }
        _ => {}
    }
    let options = run_options(settings)?;
    if sql {
        let script = match &target {
            Move::Up(target) => {
                let from = offline_start(&graph, from, false)?;
                retort_migrate::offline_upgrade_sql(&graph, &from, target, &options)?
            }
            Move::Down(target) => {
                let from = offline_start(&graph, from, true)?;
                retort_migrate::offline_downgrade_sql(&graph, &from, target, &options)?
            }
        };
        write!(out, "{script}")?;
        return Ok(Outcome::Success);
    }
    let url = settings.require_database()?;
    // Installed before connecting: from here on Ctrl-C (SIGINT) and SIGTERM
    // stop the run cleanly instead of killing the process mid-statement.
    let mut signals = crate::signals::StopSignals::install()?;
    let mut options = options;
    options.interrupt = match Database::second_connection(url)? {
        Some(second) => Interrupt::new().with_second_connection(second),
        None => Interrupt::new(),
    };
    let interrupt = options.interrupt.clone();
    let mut db = Database::open(url, Access::ReadWrite).await?;
    let mut printer = EventPrinter { out, error: None };
    let result = {
        let running = async { run_move(&mut db, &graph, &target, &options, &mut printer).await };
        tokio::pin!(running);
        tokio::select! {
            result = &mut running => result.map_err(anyhow::Error::from),
            () = signals.next() => {
                eprintln!(
                    "interrupted: cancelling the running statement, rolling back and releasing the lock (press Ctrl-C again to stop without waiting)"
                );
                interrupt.trigger();
                tokio::select! {
                    result = &mut running => result.map_err(anyhow::Error::from),
                    () = signals.next() => Err(anyhow::Error::new(crate::signals::StoppedWithoutWaiting)),
                }
            }
        }
    };
    db.close().await;
    printer.finish()?;
    result?;
    Ok(Outcome::Success)
}

async fn run_move(
    db: &mut Database,
    graph: &RevisionGraph,
    target: &Move,
    options: &RunOptions,
    printer: &mut EventPrinter<'_>,
) -> Result<(), retort_migrate::MigrateError> {
    let mut on_event = |event| printer.print(event);
    match target {
        Move::Up(target) => db.upgrade(graph, target, options, &mut on_event).await,
        Move::Down(target) => db.downgrade(graph, target, options, &mut on_event).await,
    }
}

fn run_options(settings: &Settings) -> Result<RunOptions> {
    Ok(RunOptions {
        version_table: settings.version_table.clone(),
        dialect: settings
            .database_url
            .as_ref()
            .map_or(Dialect::Sqlite, |url| url.dialect()),
        lock: settings.lock,
        ..RunOptions::default()
    })
}

/// Prints runner events as they happen; the first write error is kept and
/// reported after the run (the runner's callback cannot fail).
struct EventPrinter<'a> {
    out: &'a mut (dyn Write + Send),
    error: Option<std::io::Error>,
}

impl EventPrinter<'_> {
    fn print(&mut self, event: Event) {
        if self.error.is_some() {
            return;
        }
        let line = match event {
            Event::Applying { id, message } => format!("Applying {id}: {message}"),
            Event::Applied { id, elapsed } => {
                format!("  applied {id} in {} ms", elapsed.as_millis())
            }
            Event::Reverting { id, message } => format!("Reverting {id}: {message}"),
            Event::Reverted { id, elapsed } => {
                format!("  reverted {id} in {} ms", elapsed.as_millis())
            }
            Event::AlreadyApplied { id } => {
                format!("  {id} was applied by another process meanwhile: skipped")
            }
            Event::AlreadyReverted { id } => {
                format!("  {id} was reverted by another process meanwhile: skipped")
            }
            Event::AlreadyAtTarget { current } => {
                format!(
                    "Already at target ({}): nothing to do",
                    describe_rows(&current)
                )
            }
            Event::Stamped { current } => format!("Stamped {}", describe_rows(&current)),
            Event::Resuming { id, applied, count } => format!(
                "  resuming {id} at statement {} of {count}: statements 1-{applied} were applied by an earlier run",
                applied + 1
            ),
            other => format!("{other:?}"),
        };
        if let Err(err) = writeln!(self.out, "{line}") {
            self.error = Some(err);
        }
    }

    fn finish(self) -> Result<()> {
        match self.error {
            Some(err) => Err(err.into()),
            None => Ok(()),
        }
    }
}

fn describe_rows(rows: &[String]) -> String {
    if rows.is_empty() {
        "base".to_string()
    } else {
        rows.join(", ")
    }
}

async fn current(settings: &Settings, out: &mut (dyn Write + Send)) -> Result<Outcome> {
    let url = settings.require_database()?;
    let graph = load_graph(settings)?;
    let mut db = Database::open(url, Access::ReadOnly).await?;
    let current = current_revisions(&mut db, settings).await?;
    let partial = partial_revisions(&mut db, settings).await?;
    db.close().await;
    if current.is_empty() {
        writeln!(out, "(base): no revision applied")?;
    }
    for rev in &partial {
        if rev.started.is_some() {
            writeln!(
                out,
                "{} is partly applied: statement {} of {} of its {} section was running when retort stopped, and {}; run `retort {}`: it checks the catalog whether that statement took effect and resumes",
                rev.id,
                rev.applied + 1,
                rev.count,
                rev.direction.section(),
                if rev.applied == 0 {
                    "no statement before it is recorded".to_string()
                } else {
                    format!("statements 1-{} ran and were committed", rev.applied)
                },
                rev.direction.command(),
            )?;
            continue;
        }
        writeln!(
            out,
            "{} is partly applied: statements 1-{} of {} of its {} section ran and were committed; run `retort {}` to resume at statement {}",
            rev.id,
            rev.applied,
            rev.count,
            rev.direction.section(),
            rev.direction.command(),
            rev.applied + 1
        )?;
    }
    let heads: BTreeSet<String> = graph_head_ids(&graph).into_iter().collect();
    for id in &current {
        match graph.get(id) {
            Some(rev) => {
                let mark = if heads.contains(id) { " (head)" } else { "" };
                writeln!(out, "{id}{mark} {}", rev.message)?;
            }
            None => writeln!(
                out,
                "{id} (not found in {}: the database is at a revision this project does not have)",
                settings.display_path(&settings.versions_dir())
            )?,
        }
    }
    Ok(Outcome::Success)
}

async fn history(
    settings: &Settings,
    args: &HistoryArgs,
    out: &mut (dyn Write + Send),
) -> Result<Outcome> {
    let graph = load_graph(settings)?;
    let heads: BTreeSet<String> = graph_head_ids(&graph).into_iter().collect();
    for rev in graph.history() {
        let mark = if heads.contains(&rev.id) {
            " (head)"
        } else {
            ""
        };
        if args.verbose {
            write_revision_details(settings, out, rev, mark)?;
        } else {
            let parents = if rev.parents.is_empty() {
                "<base>".to_string()
            } else {
                rev.parents.join(", ")
            };
            writeln!(out, "{parents} -> {}{mark}, {}", rev.id, rev.message)?;
        }
    }
    Ok(Outcome::Success)
}

fn write_revision_details(
    settings: &Settings,
    out: &mut (dyn Write + Send),
    rev: &Revision,
    mark: &str,
) -> Result<()> {
    let parents = if rev.parents.is_empty() {
        "<base>".to_string()
    } else {
        rev.parents.join(" ")
    };
    writeln!(out, "Revision: {}{mark}", rev.id)?;
    writeln!(out, "Parents: {parents}")?;
    writeln!(out, "Created: {}", rev.created)?;
    writeln!(out, "Path: {}", settings.display_path(&rev.path))?;
    writeln!(out)?;
    writeln!(out, "    {}", rev.message)?;
    writeln!(out)?;
    Ok(())
}

fn heads(settings: &Settings, out: &mut (dyn Write + Send)) -> Result<Outcome> {
    let graph = load_graph(settings)?;
    for rev in graph.heads() {
        writeln!(out, "{} (head) {}", rev.id, rev.message)?;
    }
    Ok(Outcome::Success)
}

fn show(settings: &Settings, args: &ShowArgs, out: &mut (dyn Write + Send)) -> Result<Outcome> {
    let graph = load_graph(settings)?;
    let rev = match args.revision.as_str() {
        "head" => {
            let heads = graph.heads();
            match heads.as_slice() {
                [one] => *one,
                [] => bail!("there are no revisions yet"),
                _ => bail!("there are several heads: name one of them"),
            }
        }
        spec => graph.resolve(spec)?,
    };
    let heads: BTreeSet<String> = graph_head_ids(&graph).into_iter().collect();
    let mark = if heads.contains(&rev.id) {
        " (head)"
    } else {
        ""
    };
    write_revision_details(settings, out, rev, mark)?;
    writeln!(out, "-- up")?;
    write!(out, "{}", ensure_newline(&rev.up))?;
    writeln!(out, "-- down")?;
    write!(out, "{}", ensure_newline(&rev.down))?;
    Ok(Outcome::Success)
}

fn ensure_newline(text: &str) -> String {
    if text.is_empty() || text.ends_with('\n') {
        text.to_string()
    } else {
        format!("{text}\n")
    }
}

async fn stamp(
    settings: &Settings,
    args: &StampArgs,
    out: &mut (dyn Write + Send),
) -> Result<Outcome> {
    let graph = load_graph(settings)?;
    let url = settings.require_database()?;
    let options = run_options(settings)?;
    if !matches!(args.revision.as_str(), "base" | "head" | "heads") {
        graph.resolve(&args.revision)?;
    }
    let mut db = Database::open(url, Access::ReadWrite).await?;
    let mut printer = EventPrinter { out, error: None };
    let result = db
        .stamp(&graph, &args.revision, &options, &mut |e| printer.print(e))
        .await;
    db.close().await;
    printer.finish()?;
    result?;
    Ok(Outcome::Success)
}

fn merge(settings: &Settings, args: &MergeArgs, out: &mut (dyn Write + Send)) -> Result<Outcome> {
    let graph = load_graph(settings)?;
    let parents: Vec<String> = if args.revisions.is_empty() {
        graph_head_ids(&graph)
    } else {
        let mut ids = Vec::new();
        for spec in &args.revisions {
            let id = graph.resolve(spec)?.id.clone();
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        ids
    };
    if parents.len() < 2 {
        bail!(
            "nothing to merge: a merge needs at least two revisions (there {} {} head(s))",
            if graph.heads().len() == 1 {
                "is"
            } else {
                "are"
            },
            graph.heads().len()
        );
    }
    let path = write_revision(
        settings,
        &graph,
        &args.message,
        parents,
        String::new(),
        String::new(),
    )?;
    writeln!(out, "Generated {}", settings.display_path(&path))?;
    Ok(Outcome::Success)
}

async fn inspect(
    settings: &Settings,
    args: &InspectArgs,
    out: &mut (dyn Write + Send),
) -> Result<Outcome> {
    let url = settings.require_database()?;
    let mut db = Database::open(url, Access::ReadOnly).await?;
    let schema = db.introspect(&settings.introspect_options()).await?;
    db.close().await;
    match args.format {
        InspectFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&schema)?)?,
        InspectFormat::Sql => {
            for statement in retort_render::schema_sql(&schema, url.dialect()) {
                writeln!(out, "{statement};")?;
            }
        }
    }
    Ok(Outcome::Success)
}
