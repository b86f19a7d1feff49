//! Tessera on SQLite: one file (created on first use) or `:memory:`.
//!
//! Why a crate of its own when the SQL lives in `tessera-storage-sql`: how a
//! SQLite database is opened decides whether it behaves under concurrency.
//! Here every connection gets WAL (readers never block the writer),
//! `busy_timeout` (a writer that meets a busy database waits instead of
//! failing), `foreign_keys=ON` (the cascades that delete a user's rows) and
//! `synchronous=NORMAL` (durable at every checkpoint, fast in WAL). On top of
//! that, the SQL store queues this process's writers for their turn and
//! retries a write that still meets `SQLITE_BUSY`, with backoff.
//!
//! An in-memory database lives as long as its one connection, so `:memory:`
//! uses a pool of exactly one connection that is never closed while the store
//! lives.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sea_orm::SqlxSqliteConnector;
use sea_orm::sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use tessera_core::store::*;
use tessera_core::{Error, Result};
use tessera_storage_sql::SqlStore;

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
        .synchronous(SqliteSynchronous::Normal);
        let pool_options = || {
            if memory {
                SqlitePoolOptions::new()
                    .max_connections(1)
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None)
            } else {
                SqlitePoolOptions::new().max_connections(options.max_connections.max(1))
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
        let sql = SqlStore::new(SqlxSqliteConnector::from_sqlx_sqlite_pool(pool))?;
        if options.migrate {
            sql.migrate().await?;
        } else {
            sql.check_schema().await?;
        }
        Ok(SqliteStore { sql })
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
            .map_err(Error::storage)
    }
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
    fn backend(&self) -> &'static str {
        "sqlite"
    }
    async fn ping(&self) -> Result<()> {
        self.sql.ping().await
    }
}
