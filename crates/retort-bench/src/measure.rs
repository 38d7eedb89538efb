//! Measuring: wall-clock best-of-N, a child's peak RSS, and the number of
//! statements sqlx sends.

use anyhow::{Context, Result, bail};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Counts the statements sqlx executes, from the `sqlx::query` log records
/// it emits after every statement. Counting from outside the introspector
/// means the figure is what actually reached the database, not what the
/// introspector believes it sent.
struct StatementCounter {
    counting: AtomicBool,
    statements: AtomicUsize,
}

static COUNTER: StatementCounter = StatementCounter {
    counting: AtomicBool::new(false),
    statements: AtomicUsize::new(0),
};

impl log::Log for StatementCounter {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.target() == "sqlx::query" && self.counting.load(Ordering::Relaxed)
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            self.statements.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn flush(&self) {}
}

/// Installs the statement counter as the process's logger. Outside
/// [`count_statements`] it declines every record, so timed runs pay only
/// for one atomic load per statement.
pub fn install_statement_counter() -> Result<()> {
    if log::set_logger(&COUNTER).is_err() {
        bail!(
            "another logger is already installed: the statement counter needs to be the only one"
        );
    }
    // sqlx logs statements at DEBUG and slow ones at WARN: both must pass.
    log::set_max_level(log::LevelFilter::Trace);
    Ok(())
}

/// Runs `work`, returning its result and the number of statements sqlx
/// executed meanwhile.
pub async fn count_statements<T>(work: impl Future<Output = T>) -> (T, usize) {
    COUNTER.statements.store(0, Ordering::Relaxed);
    COUNTER.counting.store(true, Ordering::Relaxed);
    let result = work.await;
    COUNTER.counting.store(false, Ordering::Relaxed);
    (result, COUNTER.statements.load(Ordering::Relaxed))
}

/// The fastest of `runs` runs of `work`, with the last run's result. The
/// minimum is the figure least disturbed by other load on a shared machine.
pub fn best_of<T>(runs: usize, mut work: impl FnMut() -> Result<T>) -> Result<(Duration, T)> {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        let value = work()?;
        best = best.min(start.elapsed());
        last = Some(value);
    }
    match last {
        Some(value) => Ok((best, value)),
        None => bail!("no run was made"),
    }
}

/// The fastest of `runs` runs of a command (stdout discarded unless
/// `keep_output`), with the last run's output. The command must succeed
/// unless `allow_failure`.
pub fn best_of_command(
    runs: usize,
    make: impl Fn() -> Command,
    allow_failure: bool,
) -> Result<(Duration, Output)> {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..runs.max(1) {
        let mut command = make();
        let start = Instant::now();
        let output = command
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("cannot run {command:?}"))?;
        best = best.min(start.elapsed());
        if !output.status.success() && !allow_failure {
            bail!(
                "{command:?} failed ({}): {}",
                output.status,
                first_line(&output.stderr)
            );
        }
        last = Some(output);
    }
    match last {
        Some(output) => Ok((best, output)),
        None => bail!("no run was made"),
    }
}

/// GNU time, which reports a child's peak RSS from `wait4`'s rusage. The
/// workspace forbids `unsafe`, and neither std nor rustix wraps `wait4`, so
/// the bench borrows the one tool that does it right.
const GNU_TIME: &str = "/usr/bin/time";

/// The peak resident set size of one run of `command`, in KiB, or `None`
/// where GNU time is not installed. A separate run from the timed ones, so
/// the extra process never shows in a time.
pub fn peak_rss_kib(command: &Command, scratch: &Path) -> Result<Option<u64>> {
    if !Path::new(GNU_TIME).exists() {
        return Ok(None);
    }
    let report = scratch.join("rss.txt");
    let mut timed = Command::new(GNU_TIME);
    timed
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&report)
        .arg(command.get_program())
        .args(command.get_args())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(dir) = command.get_current_dir() {
        timed.current_dir(dir);
    }
    timed
        .status()
        .with_context(|| format!("cannot run {timed:?}"))?;
    let text = std::fs::read_to_string(&report)
        .with_context(|| format!("cannot read {}", report.display()))?;
    // GNU time writes "Command exited with non-zero status N" first when
    // the child fails; the figure is the last line either way.
    let figure = text.lines().last().unwrap_or_default().trim();
    figure
        .parse()
        .map(Some)
        .with_context(|| format!("unexpected GNU time output `{text}`"))
}

/// The first line of a process's output, for messages.
pub fn first_line(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .find(|line| !line.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string()
}

/// Times `retort check` on `database_url` with the models in `models`
/// (best of `settings.runs`), then measures its peak RSS in one more run.
/// Exit code 0 is the expected "in sync"; drift (1) or an error (2) leaves
/// the figure out and says why in `row.notes`.
pub fn retort_check(
    settings: &crate::Settings,
    scratch: &Path,
    database_url: &str,
    models: &Path,
    row: &mut crate::report::Row,
) -> Result<()> {
    // An empty revision history, as in a project that has none yet:
    // `check` refuses to guess where revisions live.
    let versions = scratch.join("migrations").join("versions");
    std::fs::create_dir_all(&versions)
        .with_context(|| format!("cannot create {}", versions.display()))?;
    let make = || {
        let mut command = Command::new(&settings.retort);
        command
            .arg("-d")
            .arg(database_url)
            .arg("--models")
            .arg(models)
            .arg("check")
            .current_dir(scratch);
        command
    };
    let (wall, output) = best_of_command(settings.runs, make, true)?;
    match output.status.code() {
        Some(0) => {
            row.check = Some(wall);
            row.peak_rss_kib = peak_rss_kib(&make(), scratch)?;
            if row.peak_rss_kib.is_none() {
                row.notes
                    .push(format!("peak RSS needs GNU time at {GNU_TIME}"));
            }
        }
        Some(1) => row.notes.push(format!(
            "retort check reported drift on an unchanged schema (a bug to fix; time left out): {}",
            first_line(&output.stdout)
        )),
        _ => row.notes.push(format!(
            "retort check cannot run here yet: {}",
            first_line(&output.stderr)
        )),
    }
    Ok(())
}
