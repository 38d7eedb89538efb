//! The one runner loop. Under the runner lock (see [`LockMode`]) it reads the
//! version table, plans, and for each planned revision opens a transaction,
//! re-reads the version table, runs the section's statements, checks
//! integrity, updates the version table and commits. A section split by
//! `-- retort:transaction off|on` runs segment by segment: "off" statements
//! in autocommit, each "on" segment in its own transaction, the version
//! table written in the last one. Backends supply the individual steps
//! through [`Backend`]; the loop is shared.
//!
//! Where DDL is not transactional
//! ([`Dialect::transactional_ddl`](retort_schema::Dialect::transactional_ddl),
//! MySQL) the loop takes another path for each revision: the session lock is
//! always held, every statement runs on its own and the backend records
//! progress after each one ([`PartialRevision`]), the version table is
//! updated (and the progress row deleted) after the last statement, and a
//! later run resumes a partly applied revision after its recorded
//! statements once it has checked they are unchanged.

use std::time::Instant;

use crate::MigrateError;
use crate::backend::{Backend, Effect, PartialRevision, statement_checksum};
use crate::error::{Direction, ForeignKeyError, StatementError};
use crate::graph::{
    DowngradeTarget, RevisionGraph, UpgradeTarget, plan_downgrade, plan_upgrade,
    rows_after_downgrade, rows_after_upgrade,
};
use crate::interrupt::{Canceller, Interrupt, Interrupted, StatementFate};
use crate::options::{Event, LockMode, RunOptions, VersionTable};
use crate::revision::{Revision, check_finished, section_segments};
use crate::split::{Segment, Statement};

/// The current version-table rows (sorted; empty = base). Never creates the
/// table and takes no lock.
pub async fn current<B: Backend>(
    conn: &mut B,
    version_table: &VersionTable,
) -> Result<Vec<String>, MigrateError> {
    conn.read_versions(version_table).await
}

/// Revisions left partly applied by failed runs (MySQL; always empty where
/// DDL is transactional). For `retort current`: such a revision is not in
/// the version table, but its first statements are in the schema. Never
/// creates anything and takes no lock.
pub async fn partial_progress<B: Backend>(
    conn: &mut B,
    version_table: &VersionTable,
) -> Result<Vec<PartialRevision>, MigrateError> {
    conn.read_progress(version_table).await
}

/// Runs `work` under the session lock when `opts` asks for one (always
/// without transactional DDL), and always releases it, also after an error
/// (the original error wins).
async fn with_session_lock<B: Backend, T>(
    conn: &mut B,
    opts: &RunOptions,
    stop: Option<(&Stop<'_>, Direction)>,
    work: impl AsyncFnOnce(&mut B) -> Result<T, MigrateError>,
) -> Result<T, MigrateError> {
    if opts.lock != LockMode::Session && B::DIALECT.transactional_ddl() {
        return work(conn).await;
    }
    match stop {
        Some((stop, direction)) => lock_interruptibly(conn, stop, direction).await?,
        None => conn.lock(&opts.version_table, LockMode::Session).await?,
    }
    let result = work(conn).await;
    let released = conn.unlock(&opts.version_table).await;
    let value = result?;
    released?;
    Ok(value)
}

/// Takes the session lock, racing the wait (another runner may hold the
/// lock for long) against the interrupt: on a trigger the wait is cancelled
/// on the server like a statement, and nothing has run.
async fn lock_interruptibly<B: Backend>(
    conn: &mut B,
    stop: &Stop<'_>,
    direction: Direction,
) -> Result<(), MigrateError> {
    let opts = stop.opts;
    let (locked, during) = {
        let locking = conn.lock(&opts.version_table, LockMode::Session);
        tokio::pin!(locking);
        let interrupted = async {
            stop.interrupt.triggered().await;
            let _ = stop.canceller.cancel().await;
        };
        tokio::pin!(interrupted);
        tokio::select! {
            biased;
            locked = &mut locking => (locked, false),
            () = &mut interrupted => (locking.await, true),
        }
    };
    // The wait may end with the cancellation's error before the cancelling
    // future itself has finished: the trigger decides.
    let during = during || stop.interrupt.is_triggered();
    // Taken after all: the run stops before its first revision and
    // releases it.
    if !during || locked.is_ok() {
        return locked;
    }
    conn.disarm_interrupt().await;
    Err(MigrateError::Interrupted(Box::new(Interrupted {
        direction,
        revision: None,
        statement: None,
        fate: None,
        committed: 0,
        progress_recorded: false,
        rolled_back: false,
        waiting_for_lock: true,
        earlier: Vec::new(),
        current: conn
            .read_versions(&opts.version_table)
            .await
            .unwrap_or_default(),
    })))
}

/// Applies revisions until the database is at `target`.
pub async fn upgrade<B: Backend>(
    conn: &mut B,
    graph: &RevisionGraph,
    target: &UpgradeTarget,
    opts: &RunOptions,
    on_event: &mut (dyn FnMut(Event) + Send),
) -> Result<(), MigrateError> {
    run_planned(conn, graph, Direction::Upgrade, opts, on_event, |rows| {
        plan_upgrade(graph, rows, target)
    })
    .await
}

/// Reverts revisions until the database is at `target`.
pub async fn downgrade<B: Backend>(
    conn: &mut B,
    graph: &RevisionGraph,
    target: &DowngradeTarget,
    opts: &RunOptions,
    on_event: &mut (dyn FnMut(Event) + Send),
) -> Result<(), MigrateError> {
    run_planned(conn, graph, Direction::Downgrade, opts, on_event, |rows| {
        plan_downgrade(graph, rows, target)
    })
    .await
}

/// One run in `direction`: under the lock, the versions are read, `plan`
/// turns them into the revisions to run, and those are checked and run;
/// an interrupt is settled before the lock is released.
async fn run_planned<'g, B: Backend>(
    conn: &mut B,
    graph: &'g RevisionGraph,
    direction: Direction,
    opts: &RunOptions,
    on_event: &mut (dyn FnMut(Event) + Send),
    plan: impl FnOnce(&[String]) -> Result<Vec<&'g Revision>, MigrateError>,
) -> Result<(), MigrateError> {
    let stop = Stop::prepare(conn, opts).await?;
    let result = with_session_lock(
        conn,
        opts,
        Some((&stop, direction)),
        async |conn: &mut B| {
            // Planned under the lock: a runner that waited sees what the
            // previous one applied.
            let rows = conn.read_versions(&opts.version_table).await?;
            let plan = plan(&rows)?;
            check_finished(&plan, direction)?;
            check_partial(conn, &plan, direction, opts, &rows).await?;
            let result = run(conn, graph, &plan, direction, &stop, on_event, rows).await;
            settle_interrupt(conn, opts, result).await
        },
    )
    .await;
    conn.disarm_interrupt().await;
    result
}

/// The interrupt of a run and how to cancel its running statement.
struct Stop<'a> {
    opts: &'a RunOptions,
    interrupt: Interrupt,
    canceller: Canceller,
}

impl Stop<'_> {
    async fn prepare<'a, B: Backend>(
        conn: &mut B,
        opts: &'a RunOptions,
    ) -> Result<Stop<'a>, MigrateError> {
        let canceller = conn.prepare_interrupt(&opts.interrupt, opts.lock).await?;
        Ok(Stop {
            opts,
            interrupt: opts.interrupt.clone(),
            canceller,
        })
    }

    /// Whether the run must stop before its next statement; disarms the
    /// backend's own interrupt so the cleanup statements run.
    async fn requested<B: Backend>(&self, conn: &mut B) -> bool {
        if self.interrupt.is_triggered() {
            conn.disarm_interrupt().await;
            return true;
        }
        false
    }
}

/// How one statement run under an interrupt ended.
enum Ran {
    Done,
    Failed(sqlx::Error),
    Interrupted(StatementFate),
}

/// Runs one statement, racing it against the interrupt: on a trigger the
/// statement is cancelled on the server and awaited, so the connection is
/// idle again when this returns.
async fn run_statement<B: Backend>(conn: &mut B, sql: &str, stop: &Stop<'_>) -> Ran {
    let ran = {
        let running = conn.execute(sql);
        tokio::pin!(running);
        let interrupted = async {
            stop.interrupt.triggered().await;
            // Best effort: if it fails the statement just runs to its end.
            let _ = stop.canceller.cancel().await;
        };
        tokio::pin!(interrupted);
        let (result, during) = tokio::select! {
            biased;
            result = &mut running => (result, false),
            () = &mut interrupted => (running.await, true),
        };
        match result {
            Ok(()) if during || stop.interrupt.is_triggered() => {
                Ran::Interrupted(StatementFate::Completed)
            }
            Ok(()) => Ran::Done,
            // Whatever the error, a statement that failed left nothing.
            Err(_) if during || stop.interrupt.is_triggered() => {
                Ran::Interrupted(StatementFate::Cancelled)
            }
            Err(source) => Ran::Failed(source),
        }
    };
    if matches!(ran, Ran::Interrupted(_)) {
        conn.disarm_interrupt().await;
    }
    ran
}

/// Fills an interrupt's version-table rows from the database after the
/// rollback, so the message says where the database really is.
async fn settle_interrupt<B: Backend, T>(
    conn: &mut B,
    opts: &RunOptions,
    result: Result<T, MigrateError>,
) -> Result<T, MigrateError> {
    match result {
        Err(MigrateError::Interrupted(mut interrupted)) => {
            conn.disarm_interrupt().await;
            if let Ok(rows) = conn.read_versions(&opts.version_table).await {
                interrupted.current = rows;
            }
            Err(MigrateError::Interrupted(interrupted))
        }
        other => other,
    }
}

/// Sets the version table to `spec` without running any revision SQL.
/// `spec` is `base` (empty table), `head`, `heads`, or a revision id/prefix.
pub async fn stamp<B: Backend>(
    conn: &mut B,
    graph: &RevisionGraph,
    spec: &str,
    opts: &RunOptions,
    on_event: &mut (dyn FnMut(Event) + Send),
) -> Result<(), MigrateError> {
    let new: Vec<String> = match spec {
        "base" => Vec::new(),
        "heads" => graph.heads().iter().map(|r| r.id.clone()).collect(),
        "head" => {
            let heads = graph.heads();
            if heads.len() > 1 {
                return Err(MigrateError::MultipleHeads {
                    heads: heads.iter().map(|r| r.id.clone()).collect(),
                });
            }
            heads.iter().map(|r| r.id.clone()).collect()
        }
        _ => vec![graph.resolve(spec)?.id.clone()],
    };
    let table = &opts.version_table;
    with_session_lock(conn, opts, None, async |conn: &mut B| {
        if !B::DIALECT.transactional_ddl() {
            // Before BEGIN: creating a table would commit the transaction.
            conn.create_version_table(table).await?;
        }
        let step = conn.begin_step(table, spec).await?;
        let result = async {
            open_step(conn, opts).await?;
            let old = conn.read_versions(table).await?;
            conn.write_versions(table, &old, &new).await?;
            // Stamping declares what the schema is: a partly applied
            // revision's record (undone by hand, see StatementError) is void.
            conn.clear_progress(table, None).await
        }
        .await;
        match result {
            Ok(()) => conn.commit_step(step).await,
            Err(e) => {
                let _ = conn.rollback_step(step).await;
                Err(e)
            }
        }
    })
    .await?;
    on_event(Event::Stamped { current: new });
    Ok(())
}

async fn check_partial<B: Backend>(
    conn: &mut B,
    plan: &[&Revision],
    direction: Direction,
    opts: &RunOptions,
    rows: &[String],
) -> Result<(), MigrateError> {
    if B::DIALECT.transactional_ddl() || plan.is_empty() {
        return Ok(());
    }
    let partial = conn.read_progress(&opts.version_table).await?;
    let stray = partial
        .into_iter()
        .find(|p| !(p.direction == direction && plan.iter().any(|r| r.id == p.id)));
    match stray {
        None => Ok(()),
        Some(p) => Err(MigrateError::PartiallyApplied {
            id: p.id,
            direction: p.direction,
            applied: p.applied,
            count: p.count,
            current: rows.to_vec(),
        }),
    }
}

/// What every transaction of the runner does first: the per-transaction
/// lock if configured, then make sure the version table exists.
async fn open_step<B: Backend>(conn: &mut B, opts: &RunOptions) -> Result<(), MigrateError> {
    if opts.lock == LockMode::Transaction {
        conn.lock(&opts.version_table, LockMode::Transaction)
            .await?;
    }
    conn.create_version_table(&opts.version_table).await
}

/// Shortens a statement for an error message: first line, at most 200 chars.
fn excerpt(sql: &str) -> String {
    const MAX: usize = 200;
    let mut lines = sql.lines();
    let first = lines.next().unwrap_or_default();
    let mut out: String = first.chars().take(MAX).collect();
    if out.len() < first.len() || lines.next().is_some() {
        out.push_str(" …");
    }
    out
}

enum Outcome {
    Done,
    Skipped,
}

/// The runner loop shared by upgrade and downgrade.
async fn run<B: Backend>(
    conn: &mut B,
    graph: &RevisionGraph,
    plan: &[&Revision],
    direction: Direction,
    stop: &Stop<'_>,
    on_event: &mut (dyn FnMut(Event) + Send),
    rows: Vec<String>,
) -> Result<(), MigrateError> {
    if plan.is_empty() {
        on_event(Event::AlreadyAtTarget { current: rows });
        return Ok(());
    }
    let mut done: Vec<String> = Vec::new();
    for rev in plan {
        if stop.requested(conn).await {
            return Err(MigrateError::Interrupted(Box::new(Interrupted {
                direction,
                revision: None,
                statement: None,
                fate: None,
                committed: 0,
                progress_recorded: false,
                rolled_back: false,
                waiting_for_lock: false,
                earlier: done,
                current: rows.clone(),
            })));
        }
        let started = Instant::now();
        let (id, message) = (rev.id.clone(), rev.message.clone());
        on_event(match direction {
            Direction::Upgrade => Event::Applying { id, message },
            Direction::Downgrade => Event::Reverting { id, message },
        });
        let id = rev.id.clone();
        let outcome = if B::DIALECT.transactional_ddl() {
            run_revision(conn, graph, rev, direction, stop, &done).await?
        } else {
            run_revision_autocommit(conn, graph, rev, direction, stop, &done, on_event).await?
        };
        match outcome {
            Outcome::Skipped => on_event(match direction {
                Direction::Upgrade => Event::AlreadyApplied { id },
                Direction::Downgrade => Event::AlreadyReverted { id },
            }),
            Outcome::Done => {
                let elapsed = started.elapsed();
                on_event(match direction {
                    Direction::Upgrade => Event::Applied { id, elapsed },
                    Direction::Downgrade => Event::Reverted { id, elapsed },
                });
                done.push(rev.id.clone());
            }
        }
    }
    Ok(())
}

/// The version-table rows after `rev` runs from `rows`, or `None` if another
/// runner already did it.
fn next_rows(
    graph: &RevisionGraph,
    rows: Vec<String>,
    rev: &Revision,
    direction: Direction,
) -> Result<Option<Vec<String>>, MigrateError> {
    match direction {
        Direction::Upgrade => {
            if graph.is_covered(&rows, &rev.id) {
                return Ok(None);
            }
            if !rev.parents.iter().all(|p| graph.is_covered(&rows, p)) {
                return Err(MigrateError::ConcurrentChange {
                    id: rev.id.clone(),
                    verb: "applied",
                    current: rows,
                });
            }
            Ok(Some(rows_after_upgrade(graph, &rows, rev)))
        }
        Direction::Downgrade => {
            if !rows.contains(&rev.id) {
                if graph.is_covered(&rows, &rev.id) {
                    return Err(MigrateError::ConcurrentChange {
                        id: rev.id.clone(),
                        verb: "reverted",
                        current: rows,
                    });
                }
                return Ok(None);
            }
            Ok(Some(rows_after_downgrade(graph, &rows, rev)))
        }
    }
}

/// Where a revision stands while its segments run.
struct Progress<'a> {
    rev: &'a Revision,
    direction: Direction,
    /// Revisions completed earlier in this run.
    earlier: &'a [String],
    /// Statements in the section.
    count: usize,
    /// Segments in the section.
    segments: usize,
    /// Statements already run (committed, or rolled back with a failure).
    ran: usize,
    /// Statements committed for good (earlier segments, autocommit).
    committed: usize,
    /// Segments completed for good.
    segments_committed: usize,
    /// Version-table rows before and after the revision, once read.
    rows: Option<(Vec<String>, Vec<String>)>,
    /// Statements 1..=committed are recorded in the progress table (MySQL).
    recorded: bool,
    /// The statement this run started at, when an earlier run applied the
    /// ones before it.
    resumed_at: Option<usize>,
}

impl Progress<'_> {
    /// The interrupt at statement `index`; `committed` statements stay.
    fn interrupted(
        &self,
        index: usize,
        stmt: &Statement,
        fate: Option<StatementFate>,
    ) -> MigrateError {
        MigrateError::Interrupted(Box::new(Interrupted {
            direction: self.direction,
            revision: Some(self.rev.id.clone()),
            statement: Some((index, self.count, stmt.line)),
            fate,
            committed: self.committed,
            progress_recorded: self.recorded,
            rolled_back: false,
            waiting_for_lock: false,
            earlier: self.earlier.to_vec(),
            current: self
                .rows
                .as_ref()
                .map(|(old, _)| old.clone())
                .unwrap_or_default(),
        }))
    }

    fn statement_error(
        &self,
        index: usize,
        segment: usize,
        stmt: &crate::split::Statement,
        source: sqlx::Error,
    ) -> MigrateError {
        MigrateError::Statement(Box::new(StatementError {
            id: self.rev.id.clone(),
            message: self.rev.message.clone(),
            path: self.rev.path.clone(),
            direction: self.direction,
            index,
            count: self.count,
            line: stmt.line,
            statement: excerpt(&stmt.sql),
            sql: stmt.sql.clone(),
            segment,
            segments: self.segments,
            committed: self.committed,
            segments_committed: self.segments_committed,
            earlier: self.earlier.to_vec(),
            progress_recorded: self.recorded,
            resumed_at: self.resumed_at,
            current: self
                .rows
                .as_ref()
                .map(|(old, _)| old.clone())
                .unwrap_or_default(),
            source,
        }))
    }

    /// Checks freshly read version-table rows: the first read decides
    /// whether the revision runs at all; later segments must find the table
    /// as the first one did.
    fn check_rows(
        &mut self,
        graph: &RevisionGraph,
        rows: Vec<String>,
    ) -> Result<bool, MigrateError> {
        match &self.rows {
            None => match next_rows(graph, rows.clone(), self.rev, self.direction)? {
                None => Ok(false),
                Some(new) => {
                    self.rows = Some((rows, new));
                    Ok(true)
                }
            },
            Some((old, _)) if *old == rows => Ok(true),
            Some(_) => Err(MigrateError::ConcurrentChange {
                id: self.rev.id.clone(),
                verb: match self.direction {
                    Direction::Upgrade => "applied",
                    Direction::Downgrade => "reverted",
                },
                current: rows,
            }),
        }
    }
}

/// One revision, segment by segment.
async fn run_revision<B: Backend>(
    conn: &mut B,
    graph: &RevisionGraph,
    rev: &Revision,
    direction: Direction,
    stop: &Stop<'_>,
    earlier: &[String],
) -> Result<Outcome, MigrateError> {
    let opts = stop.opts;
    let segs = section_segments(rev, direction, B::DIALECT);
    let mut progress = Progress {
        rev,
        direction,
        earlier,
        count: segs.iter().map(|s| s.statements.len()).sum(),
        segments: segs.len(),
        ran: 0,
        committed: 0,
        segments_committed: 0,
        rows: None,
        recorded: false,
        resumed_at: None,
    };
    for (k, seg) in segs.iter().enumerate() {
        let last = k + 1 == segs.len();
        if seg.transactional {
            let step = conn.begin_step(&opts.version_table, &rev.id).await?;
            let outcome =
                transactional_segment(conn, graph, stop, seg, k + 1, last, &mut progress).await;
            match outcome {
                Ok(Outcome::Skipped) => {
                    conn.rollback_step(step).await?;
                    return Ok(Outcome::Skipped);
                }
                Ok(Outcome::Done) => conn.commit_step(step).await?,
                Err(e) => {
                    // The original error matters more than a failed
                    // rollback; a failed rollback means the connection is
                    // gone, and the server rolls back on close.
                    let rolled_back = conn.rollback_step(step).await.is_ok();
                    return Err(match e {
                        MigrateError::Interrupted(mut interrupted) => {
                            interrupted.rolled_back = rolled_back;
                            MigrateError::Interrupted(interrupted)
                        }
                        other => other,
                    });
                }
            }
            progress.committed += seg.statements.len();
        } else {
            if progress.rows.is_none() {
                // A leading autocommit segment: decide before running it.
                let rows = conn.read_versions(&opts.version_table).await?;
                if !progress.check_rows(graph, rows)? {
                    return Ok(Outcome::Skipped);
                }
            }
            for stmt in &seg.statements {
                progress.ran += 1;
                if stop.requested(conn).await {
                    return Err(progress.interrupted(progress.ran, stmt, None));
                }
                match run_statement(conn, &stmt.sql, stop).await {
                    Ran::Done => {}
                    Ran::Failed(source) => {
                        return Err(progress.statement_error(progress.ran, k + 1, stmt, source));
                    }
                    Ran::Interrupted(fate) => {
                        if fate == StatementFate::Completed {
                            progress.committed += 1;
                        }
                        return Err(progress.interrupted(progress.ran, stmt, Some(fate)));
                    }
                }
                progress.committed += 1;
            }
        }
        progress.segments_committed += 1;
    }
    Ok(Outcome::Done)
}

/// One revision where DDL is not transactional (MySQL), statement by
/// statement under the session lock. Before each statement the progress
/// record marks it started ([`PartialRevision::started`]); then the
/// statement and its record in one `begin_step`/`commit_step` (DDL commits
/// by itself; DML commits with its record). After the last statement, the
/// version table and the deletion of the record in one transaction.
/// Segments are ignored: every statement is on its own.
///
/// A record whose started statement has no recorded end means the runner
/// died while it ran: a DDL statement may have committed on the server. The
/// catalog decides ([`Backend::statement_took_effect`]); where it cannot,
/// the run stops with [`MigrateError::UnverifiedStatement`] instead of
/// running the statement a second time.
async fn run_revision_autocommit<B: Backend>(
    conn: &mut B,
    graph: &RevisionGraph,
    rev: &Revision,
    direction: Direction,
    stop: &Stop<'_>,
    earlier: &[String],
    on_event: &mut (dyn FnMut(Event) + Send),
) -> Result<Outcome, MigrateError> {
    let opts = stop.opts;
    let table = &opts.version_table;
    let statements: Vec<Statement> = section_segments(rev, direction, B::DIALECT)
        .into_iter()
        .flat_map(|s| s.statements)
        .collect();
    let checksums: Vec<String> = statements
        .iter()
        .map(|s| statement_checksum(&s.sql))
        .collect();
    let count = statements.len();
    let mut progress = Progress {
        rev,
        direction,
        earlier,
        count,
        segments: 1,
        ran: 0,
        committed: 0,
        segments_committed: 0,
        rows: None,
        recorded: true,
        resumed_at: None,
    };
    let record = |applied: usize, started: bool| PartialRevision {
        id: rev.id.clone(),
        direction,
        applied,
        count,
        checksums: checksums[..applied].to_vec(),
        started: if started {
            checksums.get(applied).cloned()
        } else {
            None
        },
    };
    // Outside any transaction: creating a table commits implicitly.
    conn.create_version_table(table).await?;
    let rows = conn.read_versions(table).await?;
    if !progress.check_rows(graph, rows)? {
        return Ok(Outcome::Skipped);
    }
    let recorded = conn
        .read_progress(table)
        .await?
        .into_iter()
        .find(|p| p.id == rev.id && p.direction == direction);
    if let Some(p) = recorded {
        let current = || {
            progress
                .rows
                .as_ref()
                .map(|(old, _)| old.clone())
                .unwrap_or_default()
        };
        let started_changed = p
            .started
            .as_ref()
            .is_some_and(|sum| checksums.get(p.applied) != Some(sum));
        let changed = (0..p.applied)
            .find(|&i| p.checksums.get(i) != checksums.get(i))
            .or(started_changed.then_some(p.applied));
        if let Some(i) = changed {
            return Err(MigrateError::ProgressMismatch {
                id: rev.id.clone(),
                path: rev.path.clone(),
                direction,
                applied: p.applied,
                changed: i + 1,
                current: current(),
            });
        }
        let mut applied = p.applied;
        if p.started.is_some()
            && let Some(stmt) = statements.get(applied)
        {
            match conn.statement_took_effect(&stmt.sql).await? {
                Effect::Applied => {
                    conn.write_progress(table, &record(applied + 1, false))
                        .await?;
                    applied += 1;
                }
                Effect::NotApplied => {}
                Effect::Unknown(check) => {
                    return Err(MigrateError::UnverifiedStatement(Box::new(
                        crate::error::UnverifiedStatement {
                            id: rev.id.clone(),
                            path: rev.path.clone(),
                            direction,
                            index: applied + 1,
                            count,
                            line: stmt.line,
                            statement: excerpt(&stmt.sql),
                            check,
                            progress_table: table.progress_name(),
                        },
                    )));
                }
            }
        }
        if applied > 0 {
            on_event(Event::Resuming {
                id: rev.id.clone(),
                applied,
                count,
            });
            progress.resumed_at = Some(applied + 1);
        }
        progress.committed = applied;
    }
    for (i, stmt) in statements.iter().enumerate().skip(progress.committed) {
        progress.ran = i + 1;
        if stop.requested(conn).await {
            return Err(progress.interrupted(i + 1, stmt, None));
        }
        // The intent first: if this process dies while a DDL statement
        // runs, the server still commits it, and the next run must know
        // to check instead of running it again.
        conn.write_progress(table, &record(i, true)).await?;
        let step = conn.begin_step(table, &rev.id).await?;
        let fate = match run_statement(conn, &stmt.sql, stop).await {
            Ran::Done => None,
            Ran::Interrupted(StatementFate::Completed) => Some(StatementFate::Completed),
            ran @ (Ran::Failed(_) | Ran::Interrupted(StatementFate::Cancelled)) => {
                // The server rolled the statement back (statement
                // atomicity); this also undoes a DML statement's partial
                // effects. A failed rollback means the connection is gone.
                let rolled_back = conn.rollback_step(step).await.is_ok();
                // The statement left nothing: it is no longer started.
                // If this fails the mark stays, and the next run asks the
                // catalog, which finds the statement not applied.
                let _ = if i == 0 {
                    conn.clear_progress(table, Some((&rev.id, direction))).await
                } else {
                    conn.write_progress(table, &record(i, false)).await
                };
                return Err(match ran {
                    Ran::Failed(source) => progress.statement_error(i + 1, 1, stmt, source),
                    _ => match progress.interrupted(i + 1, stmt, Some(StatementFate::Cancelled)) {
                        MigrateError::Interrupted(mut interrupted) => {
                            interrupted.rolled_back = rolled_back;
                            MigrateError::Interrupted(interrupted)
                        }
                        other => other,
                    },
                });
            }
        };
        let written = match conn.write_progress(table, &record(i + 1, false)).await {
            Ok(()) => conn.commit_step(step).await,
            Err(e) => {
                let _ = conn.rollback_step(step).await;
                Err(e)
            }
        };
        if let Err(e) = written {
            return Err(MigrateError::ProgressNotRecorded {
                id: rev.id.clone(),
                index: i + 1,
                count,
                source: Box::new(e),
            });
        }
        progress.committed = i + 1;
        if fate.is_some() {
            return Err(progress.interrupted(i + 1, stmt, fate));
        }
    }
    let step = conn.begin_step(table, &rev.id).await?;
    let finished = async {
        // The session lock is held, so this only fails if someone wrote
        // the version table without it.
        let rows = conn.read_versions(table).await?;
        progress.check_rows(graph, rows)?;
        if let Some((old, new)) = &progress.rows {
            conn.write_versions(table, old, new).await?;
        }
        conn.clear_progress(table, Some((&rev.id, direction))).await
    }
    .await;
    match finished {
        Ok(()) => conn.commit_step(step).await?,
        Err(e) => {
            let _ = conn.rollback_step(step).await;
            return Err(e);
        }
    }
    Ok(Outcome::Done)
}

/// One transactional segment inside its open transaction; the last one
/// also checks integrity of the whole revision and updates the version table.
async fn transactional_segment<B: Backend>(
    conn: &mut B,
    graph: &RevisionGraph,
    stop: &Stop<'_>,
    seg: &Segment,
    number: usize,
    last: bool,
    progress: &mut Progress<'_>,
) -> Result<Outcome, MigrateError> {
    let opts = stop.opts;
    let table = &opts.version_table;
    open_step(conn, opts).await?;
    // Re-read under the lock: another runner may have moved the table since
    // we planned, and a revision must never run twice.
    let rows = conn.read_versions(table).await?;
    if !progress.check_rows(graph, rows)? {
        return Ok(Outcome::Skipped);
    }
    for stmt in &seg.statements {
        progress.ran += 1;
        if stop.requested(conn).await {
            return Err(progress.interrupted(progress.ran, stmt, None));
        }
        match run_statement(conn, &stmt.sql, stop).await {
            Ran::Done => {}
            Ran::Failed(source) => {
                return Err(progress.statement_error(progress.ran, number, stmt, source));
            }
            // Rolled back with the whole transaction by the caller.
            Ran::Interrupted(fate) => {
                return Err(progress.interrupted(progress.ran, stmt, Some(fate)));
            }
        }
    }
    let violations = conn.integrity_check().await?;
    if !violations.is_empty() {
        let rev = progress.rev;
        return Err(MigrateError::ForeignKeyViolation(Box::new(
            ForeignKeyError {
                id: rev.id.clone(),
                message: rev.message.clone(),
                path: rev.path.clone(),
                violations,
                earlier: progress.earlier.to_vec(),
            },
        )));
    }
    if last && let Some((old, new)) = &progress.rows {
        conn.write_versions(table, old, new).await?;
    }
    Ok(Outcome::Done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_keeps_the_first_line_and_marks_truncation() {
        assert_eq!(excerpt("SELECT 1;"), "SELECT 1;");
        assert_eq!(excerpt("SELECT\n1;"), "SELECT …");
        assert_eq!(excerpt(&"x".repeat(300)).chars().count(), 202);
    }
}
