//! Database health: fail fast while the database is known to be unreachable.
//!
//! Why: when Postgres is down, every call waits for the pool to give up
//! connecting (its acquire timeout) before it fails, so each request — the
//! readiness check included — hangs for seconds before its 503, and requests
//! pile up (issue 14, item 6). Instead, a failure that looks like the
//! database being unreachable (a connection error, a pool timeout) starts one
//! background probe: a fresh connection of its own, outside the pool, so a
//! busy pool is never mistaken for a dead server. If the probe fails too, the
//! database is *down*: every call fails at once with a storage error, without
//! touching the pool, and the probe repeats every [`PROBE_EVERY`] until the
//! database answers; then calls go through again. Only one probe runs at a
//! time, and none while the database answers.
//!
//! The backend crate supplies the probe (how to open one connection); a store
//! without one never enters the fail-fast state.

use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use sea_orm::{DbErr, RuntimeErr};
use tessera_core::{Error, ErrorKind};

/// How often a down database is probed.
pub const PROBE_EVERY: Duration = Duration::from_millis(500);
/// Longest a probe may take before it counts as failed.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Open one connection outside the pool and check it answers: `true` if it
/// does. Supplied by the backend crate (see [`crate::SqlStore::with_probe`]).
pub type Probe = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = bool> + Send>> + Send + Sync>;

/// The health of one store's database.
pub(crate) struct Health {
    probe: Option<Probe>,
    /// Known unreachable: calls fail at once.
    down: AtomicBool,
    /// A probe task is running (confirming a failure, or waiting for recovery).
    probing: AtomicBool,
}

/// The cause recorded (for logs) on calls refused while the database is down.
#[derive(Debug)]
struct Unreachable;

impl std::fmt::Display for Unreachable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the database is unreachable; failing fast until a probe reaches it")
    }
}

impl std::error::Error for Unreachable {}

impl Health {
    pub(crate) fn new(probe: Option<Probe>) -> Arc<Health> {
        Arc::new(Health {
            probe,
            down: AtomicBool::new(false),
            probing: AtomicBool::new(false),
        })
    }

    /// Whether the database is known to be unreachable.
    pub(crate) fn is_down(&self) -> bool {
        self.down.load(Ordering::Acquire)
    }

    /// Before a call: a storage error at once while the database is down.
    pub(crate) fn admit(&self) -> tessera_core::Result<()> {
        if self.is_down() {
            return Err(Error::new(ErrorKind::Storage).with_source(Unreachable));
        }
        Ok(())
    }

    /// After a call failed with `e`: if it looks like the database is
    /// unreachable, start the probe (unless one runs already).
    pub(crate) fn observe(self: &Arc<Self>, e: &DbErr) {
        if unreachable(e) {
            self.suspect();
        }
    }

    /// Something suggests the database is unreachable: probe it in the
    /// background, and keep probing while it stays so.
    pub(crate) fn suspect(self: &Arc<Self>) {
        let Some(probe) = self.probe.clone() else {
            return;
        };
        if self.is_down() || self.probing.swap(true, Ordering::AcqRel) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            self.probing.store(false, Ordering::Release);
            return;
        };
        runtime.spawn(watch(Arc::downgrade(self), probe));
    }
}

async fn probe_once(probe: &Probe) -> bool {
    tokio::time::timeout(PROBE_TIMEOUT, probe())
        .await
        .unwrap_or(false)
}

/// The probe task: confirm the suspicion, then wait for recovery. Ends when
/// the database answers, or when the store is dropped.
async fn watch(health: Weak<Health>, probe: Probe) {
    if probe_once(&probe).await {
        if let Some(h) = health.upgrade() {
            h.probing.store(false, Ordering::Release);
        }
        return;
    }
    match health.upgrade() {
        Some(h) => h.down.store(true, Ordering::Release),
        None => return,
    }
    tracing::error!("the database is unreachable: failing fast and probing until it answers");
    loop {
        tokio::time::sleep(PROBE_EVERY).await;
        if health.strong_count() == 0 {
            return;
        }
        if probe_once(&probe).await {
            if let Some(h) = health.upgrade() {
                h.down.store(false, Ordering::Release);
                h.probing.store(false, Ordering::Release);
                tracing::warn!("the database answers again");
            }
            return;
        }
    }
}

/// Whether `e` suggests the database cannot be reached at all (as opposed to
/// a statement it refused): connection and I/O errors, a pool that could not
/// hand out a connection in time, Postgres' connection-exception and
/// shutdown codes, SQLite's cannot-open.
fn unreachable(e: &DbErr) -> bool {
    use sea_orm::sqlx::Error as X;
    match e {
        DbErr::ConnectionAcquire(sea_orm::error::ConnAcquireErr::Timeout) => true,
        DbErr::Conn(RuntimeErr::SqlxError(x))
        | DbErr::Exec(RuntimeErr::SqlxError(x))
        | DbErr::Query(RuntimeErr::SqlxError(x)) => match x.deref() {
            X::Io(_) | X::Tls(_) | X::Protocol(_) | X::PoolTimedOut | X::WorkerCrashed => true,
            X::Database(d) => {
                let code = d.code().unwrap_or_default();
                code.starts_with("08")
                    || matches!(code.deref(), "57P01" | "57P02" | "57P03")
                    // SQLITE_CANTOPEN and its extended codes.
                    || code.parse::<i32>().is_ok_and(|c| c & 0xff == 14)
            }
            _ => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn io_error() -> DbErr {
        DbErr::Conn(RuntimeErr::SqlxError(Arc::new(sea_orm::sqlx::Error::Io(
            std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
        ))))
    }

    /// A probe that answers `up` and counts its calls.
    fn probe(up: Arc<AtomicBool>, calls: Arc<AtomicUsize>) -> Probe {
        Arc::new(move || {
            let up = up.clone();
            let calls = calls.clone();
            Box::pin(async move {
                calls.fetch_add(1, Ordering::SeqCst);
                up.load(Ordering::SeqCst)
            })
        })
    }

    async fn settle() {
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn down_after_a_failed_probe_and_up_after_a_good_one() {
        let up = Arc::new(AtomicBool::new(false));
        let calls = Arc::new(AtomicUsize::new(0));
        let h = Health::new(Some(probe(up.clone(), calls.clone())));
        h.admit().unwrap();
        // A refused statement is not a reason to probe.
        h.observe(&DbErr::Custom("constraint".into()));
        settle().await;
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        // Many failures at once: one probe.
        for _ in 0..50 {
            h.observe(&io_error());
        }
        settle().await;
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        let err = h.admit().unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Storage);
        // Still down at the next probes; no extra probes from more failures.
        for _ in 0..50 {
            h.observe(&io_error());
        }
        tokio::time::sleep(PROBE_EVERY * 3).await;
        settle().await;
        assert!(h.is_down());
        let probes = calls.load(Ordering::SeqCst);
        assert!((3..=5).contains(&probes), "{probes} probes");
        // The database is back: the next probe lets calls through.
        up.store(true, Ordering::SeqCst);
        tokio::time::sleep(PROBE_EVERY * 2).await;
        settle().await;
        h.admit().unwrap();
        let after = calls.load(Ordering::SeqCst);
        tokio::time::sleep(PROBE_EVERY * 10).await;
        assert_eq!(calls.load(Ordering::SeqCst), after, "no probes while up");
    }

    #[tokio::test(start_paused = true)]
    async fn a_good_probe_clears_the_suspicion() {
        let up = Arc::new(AtomicBool::new(true));
        let calls = Arc::new(AtomicUsize::new(0));
        let h = Health::new(Some(probe(up, calls.clone())));
        h.observe(&DbErr::ConnectionAcquire(
            sea_orm::error::ConnAcquireErr::Timeout,
        ));
        settle().await;
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        h.admit().unwrap();
        // A later failure is looked into again.
        h.observe(&io_error());
        settle().await;
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        h.admit().unwrap();
    }

    #[test]
    fn what_counts_as_unreachable() {
        assert!(unreachable(&io_error()));
        assert!(unreachable(&DbErr::ConnectionAcquire(
            sea_orm::error::ConnAcquireErr::Timeout
        )));
        assert!(!unreachable(&DbErr::ConnectionAcquire(
            sea_orm::error::ConnAcquireErr::ConnectionClosed
        )));
        assert!(!unreachable(&DbErr::RecordNotFound("x".into())));
    }
}
