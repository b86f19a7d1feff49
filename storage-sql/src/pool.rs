//! Pool hygiene: a pooled connection is handed out only outside any
//! transaction.
//!
//! Why: when a COMMIT fails (SQLite on a full or read-only disk; a Postgres
//! connection cut mid-commit), sea-orm drops the transaction and queues a
//! ROLLBACK. If that ROLLBACK fails too — SQLite often has already rolled
//! back by itself, so it answers "no transaction is active" — the driver
//! still counts the connection as inside a transaction. Back in the pool, such
//! a connection turns every later transaction into a SAVEPOINT: on SQLite it
//! may keep the write lock ("database is locked" for every other connection,
//! forever), and the writes it acknowledges are savepoints of a transaction
//! that never commits — lost at the next restart (issue 14, item 1). So a
//! connection that is still inside a transaction once its queued rollback has
//! run is closed instead of reused (closing rolls back whatever is left and
//! releases its locks), and the pool checks again before handing one out.

use sea_orm::sqlx::pool::{PoolConnectionMetadata, PoolOptions};
use sea_orm::sqlx::{Connection, Database};

/// `options` with the checks above: on release, flush the queued rollback
/// (a ping runs after it) and close the connection if it is still inside a
/// transaction; on acquire, refuse one that is.
pub fn guarded<DB: Database>(options: PoolOptions<DB>) -> PoolOptions<DB> {
    guarded_with(options, |_| true)
}

/// Like [`guarded`], and a connection for which `keep` answers `false` is
/// closed too (on release and on acquire); the backend's own reasons, such
/// as SQLite connections opened read-only.
pub fn guarded_with<DB: Database>(
    options: PoolOptions<DB>,
    keep: impl Fn(&PoolConnectionMetadata) -> bool + Send + Sync + 'static,
) -> PoolOptions<DB> {
    let keep = std::sync::Arc::new(keep);
    let keep_on_release = keep.clone();
    options
        .after_release(move |conn, meta| {
            let keep = keep_on_release.clone();
            Box::pin(async move {
                conn.ping().await?;
                if conn.is_in_transaction() {
                    tracing::warn!(
                        "closing a database connection left inside a failed transaction"
                    );
                    return Ok(false);
                }
                Ok(keep(&meta))
            })
        })
        .before_acquire(move |conn, meta| {
            let ok = !conn.is_in_transaction() && keep(&meta);
            Box::pin(async move { Ok(ok) })
        })
}
