//! Database health: fail fast while the database is known to be unreachable.
//!
//! Why: when Postgres is down, every call waits for the pool to give up
//! connecting (its acquire timeout) before it fails, so each request — the
//! readiness check included — hangs for seconds before its 503, and requests
//! pile up (issue 14, item 6). Instead, a failure that looks like the
//! database being unreachable (a connection error, a pool timeout), or a call
//! still waiting after [`SUSPECT_AFTER`], starts one background probe: a
//! fresh connection of its own, outside the pool, so a busy pool is never
//! mistaken for a dead server. If the probe fails too, the database is
//! *down*: calls still waiting fail at once, every new call fails at once with
//! a storage error without touching the pool, and the probe repeats every
//! [`PROBE_EVERY`] until the database answers; then calls go through again.
//! Only one probe runs at a time. The probe runs in a task of its own, so a
//! caller that gives up (a readiness check with a 1 s timeout) does not stop
//! it.
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
/// A call still waiting for the database after this long has the database
/// probed (it goes on waiting, unless the probe finds the database down).
pub const SUSPECT_AFTER: Duration = Duration::from_millis(500);

/// Open one connection outside the pool and check it answers: `true` if it
/// does. Supplied by the backend crate (see [`crate::SqlStore::with_probe`]).
pub type Probe = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = bool> + Send>> + Send + Sync>;

/// The health of one store's database.
pub(crate) struct Health {
    probe: Option<Probe>,
    /// Known unreachable: calls fail at once (and waiting calls are told).
    down: tokio::sync::watch::Sender<bool>,
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

fn unavailable() -> Error {
    Error::new(ErrorKind::Storage).with_source(Unreachable)
}

impl Health {
    pub(crate) fn new(probe: Option<Probe>) -> Arc<Health> {
        Arc::new(Health {
            probe,
            down: tokio::sync::watch::Sender::new(false),
            probing: AtomicBool::new(false),
        })
    }

    /// Whether the database is known to be unreachable.
    pub(crate) fn is_down(&self) -> bool {
        *self.down.borrow()
    }

    fn set_down(&self, down: bool) {
        self.down.send_replace(down);
    }

    /// Before a call: a storage error at once while the database is down.
    pub(crate) fn admit(&self) -> tessera_core::Result<()> {
        if self.is_down() {
            return Err(unavailable());
        }
        Ok(())
    }

    /// Run a call through the gate: refused at once while the database is
    /// down; if it is still waiting after [`SUSPECT_AFTER`], the database is
    /// probed, and the call fails as soon as the probe finds it down.
    pub(crate) async fn guard<T>(
        self: &Arc<Self>,
        call: impl Future<Output = tessera_core::Result<T>>,
    ) -> tessera_core::Result<T> {
        self.admit()?;
        let mut call = std::pin::pin!(call);
        tokio::select! {
            biased;
            r = &mut call => return r,
            () = tokio::time::sleep(SUSPECT_AFTER) => self.suspect(),
        }
        let mut down = self.down.subscribe();
        tokio::select! {
            biased;
            r = &mut call => r,
            _ = down.wait_for(|d| *d) => Err(unavailable()),
        }
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
        Some(h) => h.set_down(true),
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
                h.set_down(false);
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

    #[tokio::test(start_paused = true)]
    async fn a_waiting_call_is_released_when_the_probe_finds_the_database_down() {
        let up = Arc::new(AtomicBool::new(false));
        let calls = Arc::new(AtomicUsize::new(0));
        let h = Health::new(Some(probe(up.clone(), calls.clone())));
        // A call that would wait for a minute (a pool that cannot connect).
        let started = tokio::time::Instant::now();
        let err = h
            .guard(async {
                tokio::time::sleep(Duration::from_secs(60)).await;
                Ok(())
            })
            .await
            .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Storage);
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(h.is_down());
        // A slow call on a healthy database just finishes.
        up.store(true, Ordering::SeqCst);
        tokio::time::sleep(PROBE_EVERY * 2).await;
        settle().await;
        let r = h
            .guard(async {
                tokio::time::sleep(Duration::from_secs(3)).await;
                Ok(7)
            })
            .await;
        assert_eq!(r.unwrap(), 7);
        assert!(!h.is_down());
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
