//! Ctrl-C (SIGINT) and SIGTERM during `upgrade` and `downgrade`: the first
//! one asks the runner to stop cleanly (cancel the running statement on the
//! server, roll back, release the lock), a second one stops without waiting.

use anyhow::{Context, Result};

/// The exit code of an interrupted run (128 + SIGINT, as shells report it).
pub const EXIT_CODE: u8 = 130;

/// The stop signals, listened to from [`StopSignals::install`] on.
pub struct StopSignals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl StopSignals {
    /// Replaces the default handlers (which kill the process) for SIGINT
    /// and SIGTERM until the process ends.
    pub fn install() -> Result<StopSignals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(StopSignals {
                interrupt: signal(SignalKind::interrupt())
                    .context("cannot listen for Ctrl-C (SIGINT)")?,
                terminate: signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(StopSignals {})
        }
    }

    /// Resolves at the next SIGINT or SIGTERM.
    pub async fn next(&mut self) {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.interrupt.recv() => {}
                _ = self.terminate.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }
}

/// A second signal came while the run was stopping: the process leaves
/// without waiting for the rollback.
#[derive(Debug)]
pub struct StoppedWithoutWaiting;

impl std::fmt::Display for StoppedWithoutWaiting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(
            "interrupted again: stopped without waiting for the running statement; the server rolls the open \
             transaction back when it notices the closed connection (MySQL keeps what it committed); \
             run `retort current` to see where the database is",
        )
    }
}

impl std::error::Error for StoppedWithoutWaiting {}

/// Whether `err` reports an interrupted run (exit code [`EXIT_CODE`]).
pub fn is_interrupt(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause.downcast_ref::<StoppedWithoutWaiting>().is_some()
            || matches!(
                cause.downcast_ref::<retort_migrate::MigrateError>(),
                Some(retort_migrate::MigrateError::Interrupted(_))
            )
    })
}
