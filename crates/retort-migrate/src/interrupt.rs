//! Stopping a run from outside (Ctrl-C, SIGTERM) without leaving the
//! database in an unknown state.
//!
//! The caller hands an [`Interrupt`] to the runner in
//! [`RunOptions::interrupt`](crate::RunOptions::interrupt) and calls
//! [`Interrupt::trigger`] when the user asks to stop. The runner checks it
//! before every statement and races it against the running one: on a
//! trigger it cancels the statement on the server — PostgreSQL
//! `pg_cancel_backend(pid)` and MySQL/MariaDB `KILL QUERY <id>` from a
//! second connection (opened with [`Interrupt::with_second_connection`]'s
//! options), SQLite through a progress handler on the connection itself —
//! waits for the statement to end, rolls the open transaction back,
//! releases the runner lock, and returns [`MigrateError::Interrupted`]
//! saying what state the database is in.
//!
//! Without a second connection on PostgreSQL or MySQL the runner still
//! stops before the next statement, but waits for the running one to end.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sqlx::mysql::MySqlConnectOptions;
use sqlx::postgres::PgConnectOptions;
use tokio::sync::Notify;

use crate::MigrateError;
use crate::error::{Direction, earlier_note, stamp_hint, statement_range};

/// A shared stop request; clones share it.
#[derive(Clone, Default)]
pub struct Interrupt {
    inner: Arc<Inner>,
    second: Option<SecondConnection>,
}

#[derive(Default)]
struct Inner {
    triggered: AtomicBool,
    notify: Notify,
}

/// How to open the second connection that cancels the runner's statement.
#[derive(Clone)]
pub enum SecondConnection {
    /// The same server and credentials as the runner's PostgreSQL connection.
    Postgres(PgConnectOptions),
    /// The same server and credentials as the runner's MySQL connection.
    Mysql(MySqlConnectOptions),
}

impl std::fmt::Debug for Interrupt {
    // The connect options hold the password: never print them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interrupt")
            .field("triggered", &self.is_triggered())
            .field("second_connection", &self.second.is_some())
            .finish()
    }
}

impl Interrupt {
    /// A stop request nobody has made yet.
    pub fn new() -> Interrupt {
        Interrupt::default()
    }

    /// Lets the runner cancel a running statement on the server from a
    /// second connection opened with `second`.
    pub fn with_second_connection(mut self, second: SecondConnection) -> Interrupt {
        self.second = Some(second);
        self
    }

    /// Asks every run holding this interrupt (or a clone) to stop.
    pub fn trigger(&self) {
        self.inner.triggered.store(true, Ordering::SeqCst);
        self.inner.notify.notify_waiters();
    }

    /// Whether [`Interrupt::trigger`] was called.
    pub fn is_triggered(&self) -> bool {
        self.inner.triggered.load(Ordering::SeqCst)
    }

    /// Resolves once [`Interrupt::trigger`] was called.
    pub async fn triggered(&self) {
        loop {
            let notified = self.inner.notify.notified();
            tokio::pin!(notified);
            // Registered before the flag is read, so a trigger in between
            // is not missed.
            notified.as_mut().enable();
            if self.is_triggered() {
                return;
            }
            notified.await;
        }
    }

    /// The flag alone, for callbacks that cannot await (SQLite's progress handler).
    pub(crate) fn flag(&self) -> Arc<dyn Fn() -> bool + Send + Sync> {
        let inner = Arc::clone(&self.inner);
        Arc::new(move || inner.triggered.load(Ordering::SeqCst))
    }

    pub(crate) fn second_connection(&self) -> Option<&SecondConnection> {
        self.second.as_ref()
    }
}

/// What the runner does to stop a statement it is waiting for, prepared by
/// [`Backend::prepare_interrupt`](crate::Backend::prepare_interrupt) before the run.
pub enum Canceller {
    /// The statement stops by itself (SQLite's progress handler), or there
    /// is no second connection: wait for it.
    Wait,
    /// `pg_cancel_backend(pid)` from a second connection.
    Postgres {
        /// Where to connect.
        options: Box<PgConnectOptions>,
        /// `pg_backend_pid()` of the runner's session.
        pid: i32,
    },
    /// `KILL QUERY <id>` from a second connection.
    Mysql {
        /// Where to connect.
        options: Box<MySqlConnectOptions>,
        /// `CONNECTION_ID()` of the runner's session.
        id: u64,
    },
}

impl Canceller {
    /// Cancels the runner's running statement on the server; best effort
    /// (the runner waits for the statement either way).
    pub(crate) async fn cancel(&self) -> Result<(), MigrateError> {
        match self {
            Canceller::Wait => Ok(()),
            Canceller::Postgres { options, pid } => {
                crate::postgres::cancel_backend(options, *pid).await
            }
            Canceller::Mysql { options, id } => crate::mysql::kill_query(options, *id).await,
        }
    }
}

/// What became of the statement running when the interrupt came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementFate {
    /// The server stopped it; it left nothing behind.
    Cancelled,
    /// It finished before the cancellation reached the server.
    Completed,
}

/// Details of [`MigrateError::Interrupted`]: where the run stopped and what
/// the database holds now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interrupted {
    /// The command that was running: `upgrade` or `downgrade`.
    pub direction: Direction,
    /// The revision that was running, if the run stopped inside one.
    pub revision: Option<String>,
    /// 1-based statement that was running or about to run, with the
    /// section's statement count and its line in the file.
    pub statement: Option<(usize, usize, usize)>,
    /// What became of the running statement (`None`: it stopped between statements).
    pub fate: Option<StatementFate>,
    /// Statements of the revision that stay applied (committed before the
    /// interrupt: MySQL statements, `-- retort:transaction off` statements,
    /// earlier segments); the rest were rolled back or never ran.
    pub committed: usize,
    /// Whether the committed statements are recorded in the progress table
    /// (MySQL), so the next run resumes after them.
    pub progress_recorded: bool,
    /// Whether the revision's open transaction was rolled back.
    pub rolled_back: bool,
    /// Whether the run was still waiting for the runner lock (another
    /// runner held it), so nothing ran.
    pub waiting_for_lock: bool,
    /// Revisions this run completed before the interrupt (they stay).
    pub earlier: Vec<String>,
    /// The version-table rows the run leaves.
    pub current: Vec<String>,
}

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let command = self.direction.command();
        let current = if self.current.is_empty() {
            "base".to_string()
        } else {
            self.current.join(", ")
        };
        if self.waiting_for_lock {
            return write!(
                f,
                "interrupted while waiting for the runner lock (another retort is running on this database): \
                 nothing was run; the database is at {current}; run `retort {command}` again once the other run has finished"
            );
        }
        let Some(id) = &self.revision else {
            return write!(
                f,
                "interrupted between revisions: {}; the database is at {current} and the lock is released; \
                 run `retort {command}` to continue",
                earlier_note(&self.earlier)
            );
        };
        write!(f, "interrupted during revision {id}")?;
        if let Some((index, count, line)) = self.statement {
            let what = match self.fate {
                Some(StatementFate::Cancelled) => "was cancelled on the server",
                Some(StatementFate::Completed) => "had already completed",
                None => "had not started",
            };
            write!(f, ": statement {index} of {count} (line {line}) {what}")?;
        }
        if self.committed == 0 {
            if self.rolled_back {
                write!(
                    f,
                    "; its transaction was rolled back, so it left nothing behind"
                )?;
            } else {
                write!(f, "; it left nothing behind")?;
            }
        } else if self.progress_recorded {
            write!(
                f,
                "; {} {} applied and {} recorded (MySQL commits every statement on its own)",
                statement_range(1, self.committed),
                if self.committed == 1 { "stays" } else { "stay" },
                if self.committed == 1 { "is" } else { "are" },
            )?;
            if self.rolled_back {
                write!(f, ", the rest was rolled back")?;
            }
        } else {
            write!(
                f,
                "; {} ran outside a transaction and stay applied, but the revision is NOT recorded \
                 (they run again next time, so they must be idempotent)",
                statement_range(1, self.committed)
            )?;
        }
        write!(
            f,
            "; {}; the database is at {current} and the lock is released; ",
            earlier_note(&self.earlier)
        )?;
        if self.progress_recorded && self.committed > 0 {
            write!(
                f,
                "run `retort {command}` to resume at statement {}, or undo {} by hand and run {}",
                self.committed + 1,
                statement_range(1, self.committed),
                stamp_hint(&self.current)
            )
        } else {
            write!(f, "run `retort {command}` to continue")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_trigger_before_or_while_waiting_wakes_the_waiter() {
        let interrupt = Interrupt::new();
        let waiter = interrupt.clone();
        let handle = tokio::spawn(async move { waiter.triggered().await });
        tokio::task::yield_now().await;
        interrupt.trigger();
        handle.await.expect("waiter");
        // Already triggered: returns at once.
        interrupt.triggered().await;
        assert!(interrupt.is_triggered());
    }

    #[test]
    fn the_message_says_what_stays_and_what_to_run() {
        let text = Interrupted {
            direction: Direction::Upgrade,
            revision: Some("aaaaaaaaaaaa".into()),
            statement: Some((3, 5, 12)),
            fate: Some(StatementFate::Cancelled),
            committed: 2,
            progress_recorded: true,
            rolled_back: true,
            waiting_for_lock: false,
            earlier: vec![],
            current: vec!["bbbbbbbbbbbb".into()],
        }
        .to_string();
        assert!(
            text.contains("statement 3 of 5 (line 12) was cancelled"),
            "{text}"
        );
        assert!(
            text.contains("statements 1-2 stay applied and are recorded"),
            "{text}"
        );
        assert!(text.contains("resume at statement 3"), "{text}");
        assert!(text.contains("the database is at bbbbbbbbbbbb"), "{text}");
    }
}
