//! Tessera on SQLite: one file (created on first use) or `:memory:`.
//!
//! Why a crate of its own when the SQL lives in `tessera-storage-sql`: how a
//! SQLite database is opened decides whether it behaves under concurrency and
//! faults. Here every connection gets WAL (readers never block the writer),
//! `busy_timeout` (a writer that meets a busy database waits instead of
//! failing), `foreign_keys=ON` (the cascades that delete a user's rows) and
//! `synchronous=FULL` (a commit is on disk before it is acknowledged, even if
//! the machine loses power; `NORMAL` would survive a killed process but could
//! lose the last commits — a sign-out, a revoked session — on power loss). On
//! top of that, the SQL store queues this process's writers for their turn and
//! retries a write that still meets `SQLITE_BUSY`, with backoff.
//!
//! A failed COMMIT (disk full, read-only disk) must not poison the pool: the
//! pool closes a connection still inside a transaction instead of reusing it
//! (`tessera_storage_sql::pool::guarded`), and one connection outside the pool
//! keeps the WAL index open so replacements can be opened while the disk
//! refuses writes. Writes then fail fast with a storage error and work again
//! by themselves once the disk accepts them.
//!
//! An in-memory database lives as long as its one connection, so `:memory:`
//! uses a pool of exactly one connection that is never closed while the store
//! lives.

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use sea_orm::SqlxSqliteConnector;
use sea_orm::sqlx::Connection;
use sea_orm::sqlx::pool::PoolConnectionMetadata;
use sea_orm::sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use tessera_core::store::*;
use tessera_core::{Error, Result};
use tessera_storage_sql::SqlStore;
use tessera_storage_sql::health::Probe;

/// How to open a SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    /// How long a statement waits for a busy database before giving up
    /// (default 5 s).
    pub busy_timeout: Duration,
    /// Largest number of connections to a file database (default 8; an
    /// in-memory database always has one).
    pub max_connections: u32,
    /// Run migrations on open (default true). When false, a database that is
    /// not migrated up to this version is refused.
    pub migrate: bool,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            busy_timeout: Duration::from_secs(5),
            max_connections: 8,
            migrate: true,
        }
    }
}

/// The name that opens an in-memory database.
pub const MEMORY: &str = ":memory:";

/// A Tessera store in a SQLite database.
#[derive(Debug)]
pub struct SqliteStore {
    sql: SqlStore,
    /// Keeps the WAL index mapped while the store lives (file databases).
    anchor: Option<std::sync::Mutex<SqliteConnection>>,
}

impl SqliteStore {
    /// Open the database file at `path` (created on first use), or an
    /// in-memory database for `":memory:"`; migrate it unless told not to.
    ///
    /// A database migrated by a newer Tessera is refused (`Config`).
    pub async fn open(path: &str, options: SqliteOptions) -> Result<Self> {
        let memory = path == MEMORY || path.is_empty();
        let connect = if memory {
            SqliteConnectOptions::from_str("sqlite::memory:").map_err(Error::storage)?
        } else {
            SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
        }
        .busy_timeout(options.busy_timeout)
        .foreign_keys(true)
        .synchronous(SqliteSynchronous::Full);
        let read_only_opens = Arc::new(ReadOnlyOpens::new(path));
        let pool_options = || {
            if memory {
                // The one connection *is* the database: never close it, not
                // even after a failed transaction (see `pool::guarded`).
                SqlitePoolOptions::new()
                    .max_connections(1)
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None)
            } else {
                let opened = read_only_opens.clone();
                let keep = read_only_opens.clone();
                tessera_storage_sql::pool::guarded_with(
                    SqlitePoolOptions::new()
                        .max_connections(options.max_connections.max(1))
                        .after_connect(move |_, _| {
                            opened.note_open();
                            Box::pin(async { Ok(()) })
                        }),
                    move |meta| keep.keep(meta),
                )
            }
        };
        // Switching a fresh file to WAL takes an exclusive lock that
        // `busy_timeout` does not wait for: several processes opening the
        // same new file at once can see "database is locked". Wait and retry.
        let mut attempt = 0u32;
        let pool = loop {
            match pool_options().connect_with(connect.clone()).await {
                Ok(pool) => break pool,
                Err(e) if attempt < 10 && e.to_string().contains("database is locked") => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(20 * u64::from(attempt))).await;
                }
                Err(e) => {
                    return Err(
                        Error::config(format!("cannot open the SQLite database {path:?}"))
                            .with_source(e),
                    );
                }
            }
        };
        // One connection outside the pool, open as long as the store: it keeps
        // the WAL index (`-shm`) mapped, so the pool can close a connection
        // (after a failed transaction, or when idle) and open another even
        // while the disk refuses writes — the first connection of a process
        // rebuilds the index, which needs to write.
        let anchor = if memory {
            None
        } else {
            let conn = SqliteConnection::connect_with(&connect)
                .await
                .map_err(|e| {
                    Error::config(format!("cannot open the SQLite database {path:?}"))
                        .with_source(e)
                })?;
            Some(std::sync::Mutex::new(conn))
        };
        let mut sql = SqlStore::new(SqlxSqliteConnector::from_sqlx_sqlite_pool(pool))?;
        if !memory {
            sql = sql.with_probe(probe(connect));
        }
        if options.migrate {
            sql.migrate().await?;
        } else {
            sql.check_schema().await?;
        }
        Ok(SqliteStore { sql, anchor })
    }

    /// The SQL store inside.
    pub fn sql(&self) -> &SqlStore {
        &self.sql
    }

    /// Close every connection (pending writes are already durable).
    pub async fn close(self) -> Result<()> {
        self.sql
            .connection()
            .close_by_ref()
            .await
            .map_err(Error::storage)?;
        if let Some(anchor) = self.anchor {
            let conn = anchor.into_inner().unwrap_or_else(|e| e.into_inner());
            conn.close().await.map_err(Error::storage)?;
        }
        Ok(())
    }
}

/// Connections SQLite opened read-only. When the database or its WAL cannot
/// be opened for writing (made immutable, a file system remounted
/// read-only), SQLite opens them read-only without a word, and such a
/// connection refuses writes ("attempt to write a readonly database") for as
/// long as it lives — also once the files are writable again. So: note when
/// a connection is opened while the file is not writable, and when the file
/// is writable again, close every connection opened before that moment
/// instead of reusing it.
#[derive(Debug)]
struct ReadOnlyOpens {
    path: std::path::PathBuf,
    state: std::sync::Mutex<ReadOnlyState>,
}

#[derive(Debug, Default)]
struct ReadOnlyState {
    /// A connection was opened while the file was not writable, and the file
    /// has not been seen writable since.
    pending: bool,
    /// When the file was last seen writable again after that: connections
    /// opened before are closed.
    healed_at: Option<Instant>,
}

impl ReadOnlyOpens {
    fn new(path: &str) -> Self {
        ReadOnlyOpens {
            path: path.into(),
            state: std::sync::Mutex::default(),
        }
    }

    /// Whether the file could be opened for writing now. Asked with
    /// `access(2)`, never by opening it: closing a descriptor of the database
    /// file would drop every POSIX lock SQLite holds on it in this process.
    #[cfg(unix)]
    fn writable(&self) -> bool {
        rustix::fs::access(&self.path, rustix::fs::Access::WRITE_OK).is_ok()
    }

    #[cfg(not(unix))]
    fn writable(&self) -> bool {
        true
    }

    fn state(&self) -> std::sync::MutexGuard<'_, ReadOnlyState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A connection was just opened.
    fn note_open(&self) {
        if !self.writable() {
            self.state().pending = true;
        }
    }

    /// Whether a pooled connection may be used: not if it was opened before
    /// the file became writable again after a read-only open.
    fn keep(&self, meta: &PoolConnectionMetadata) -> bool {
        let mut state = self.state();
        if state.pending {
            if !self.writable() {
                // Still read-only: every connection serves reads.
                return true;
            }
            state.pending = false;
            state.healed_at = Some(Instant::now());
            tracing::info!(
                "the SQLite file is writable again: replacing connections opened before"
            );
        }
        match state.healed_at {
            Some(healed) => Instant::now()
                .checked_sub(meta.age)
                .is_some_and(|opened| opened >= healed),
            None => true,
        }
    }
}

/// The health probe: open the file on a connection of its own and read.
fn probe(connect: SqliteConnectOptions) -> Probe {
    Arc::new(move || {
        let connect = connect.clone();
        Box::pin(async move {
            match SqliteConnection::connect_with(&connect).await {
                Ok(mut conn) => {
                    let ok = conn.ping().await.is_ok();
                    let _ = conn.close().await;
                    ok
                }
                Err(e) => {
                    tracing::debug!(error = %e, "SQLite probe failed");
                    false
                }
            }
        })
    })
}

#[async_trait]
impl Store for SqliteStore {
    fn apps(&self) -> &dyn AppStore {
        self.sql.apps()
    }
    fn users(&self) -> &dyn UserStore {
        self.sql.users()
    }
    fn credentials(&self) -> &dyn CredentialStore {
        self.sql.credentials()
    }
    fn identities(&self) -> &dyn IdentityStore {
        self.sql.identities()
    }
    fn sessions(&self) -> &dyn SessionStore {
        self.sql.sessions()
    }
    fn tokens(&self) -> &dyn OneTimeTokenStore {
        self.sql.tokens()
    }
    fn keys(&self) -> &dyn KeyStore {
        self.sql.keys()
    }
    fn audit(&self) -> &dyn AuditStore {
        self.sql.audit()
    }
    fn throttles(&self) -> &dyn ThrottleStore {
        self.sql.throttles()
    }
    fn api_keys(&self) -> &dyn ApiKeyStore {
        self.sql.api_keys()
    }
    fn mail(&self) -> &dyn MailOutboxStore {
        self.sql.mail()
    }
    fn oauth_providers(&self) -> &dyn OAuthProviderStore {
        self.sql.oauth_providers()
    }
    fn webhook_endpoints(&self) -> &dyn WebhookEndpointStore {
        self.sql.webhook_endpoints()
    }
    fn webhook_deliveries(&self) -> &dyn WebhookDeliveryStore {
        self.sql.webhook_deliveries()
    }
    fn backend(&self) -> &'static str {
        "sqlite"
    }
    async fn ping(&self) -> Result<()> {
        self.sql.ping().await
    }
}
