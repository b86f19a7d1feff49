//! Tessera's SQL store: the one implementation of every store trait, over a
//! sea-orm connection to SQLite or Postgres.
//!
//! Why one implementation for two databases: the invariants of the store
//! traits (one user per email, a refresh token spent once, a code guessed at
//! most N times) are subtle, and writing them twice invites the two copies to
//! drift. Here each invariant is a single atomic SQL operation — a conditional
//! `UPDATE … RETURNING`, a `DELETE … RETURNING`, an upsert, a unique
//! constraint, or one short transaction — written once; the [`Dialect`] enum
//! holds the few places where SQLite and Postgres must differ (column types,
//! timestamp encoding, row locks). SQLite write transactions begin
//! `IMMEDIATE` and take a per-process write turn, so a read-then-write never
//! fails on a lock upgrade; Postgres uses `SELECT … FOR UPDATE`.
//!
//! The backend crates (`tessera-storage-sqlite`, `tessera-storage-postgres`)
//! open and tune the connection, then wrap a [`SqlStore`]. The migrations
//! ([`migration::Migrator`]) are one sea-orm-migration set for both.

mod api_keys;
mod apps;
mod audit;
#[cfg(feature = "checks")]
pub mod checks;
mod credentials;
mod dialect;
mod exec;
pub mod health;
mod identities;
mod keys;
mod mail;
pub mod migration;
mod oauth_providers;
mod one_time;
pub mod pool;
mod rows;
mod sessions;
mod throttles;
mod users;
mod webhook_deliveries;
mod webhook_endpoints;

use async_trait::async_trait;
use sea_orm::DatabaseConnection;
use sea_orm_migration::MigratorTrait;
use tessera_core::store::*;
use tessera_core::{Error, Result};

pub use dialect::Dialect;
pub use sea_orm;

/// Longest [`Store::ping`] waits for the database (readiness checks).
pub const PING_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Every store trait over one sea-orm connection (SQLite or Postgres).
pub struct SqlStore {
    db: DatabaseConnection,
    dialect: Dialect,
    /// SQLite allows one writer at a time: writers of this process queue here
    /// instead of spinning on `SQLITE_BUSY`. `None` on Postgres.
    write_turn: Option<tokio::sync::Mutex<()>>,
    /// Whether the database is known unreachable (calls then fail at once).
    health: std::sync::Arc<health::Health>,
}

impl std::fmt::Debug for SqlStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStore")
            .field("dialect", &self.dialect)
            .finish_non_exhaustive()
    }
}

impl SqlStore {
    /// Wrap a connection. `Config` error for a backend other than SQLite or
    /// Postgres. Does not migrate; see [`migrate`](Self::migrate).
    pub fn new(db: DatabaseConnection) -> Result<Self> {
        let dialect = Dialect::of(db.get_database_backend())
            .ok_or_else(|| Error::config("Tessera supports SQLite and Postgres only"))?;
        Ok(SqlStore {
            db,
            dialect,
            write_turn: (dialect == Dialect::Sqlite).then(|| tokio::sync::Mutex::new(())),
            health: health::Health::new(None),
        })
    }

    /// Fail fast while the database is unreachable: when calls fail as if it
    /// were, `probe` (one connection outside the pool) decides; while it
    /// fails, calls fail at once with a storage error (see [`health`]).
    pub fn with_probe(mut self, probe: health::Probe) -> Self {
        self.health = health::Health::new(Some(probe));
        self
    }

    /// Whether the database is known to be unreachable right now (calls fail
    /// at once until a probe reaches it again).
    pub fn is_down(&self) -> bool {
        self.health.is_down()
    }

    /// The underlying connection.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The dialect spoken.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Refuse a database migrated by a newer Tessera (`Config`), then apply
    /// pending migrations, all in one write transaction (DDL is transactional
    /// in both databases). On Postgres an advisory lock, and on SQLite the
    /// write lock, make instances that start together migrate once.
    pub async fn migrate(&self) -> Result<()> {
        let tx = self.begin().await?;
        let r = async {
            if self.dialect == Dialect::Postgres {
                tx.exec("SELECT pg_advisory_xact_lock(7390451262810493001)", vec![])
                    .await?;
            }
            migration::check_not_newer(tx.conn()).await?;
            migration::Migrator::up(tx.conn(), None)
                .await
                .map_err(exec::db)
        }
        .await;
        tx.finish(r).await
    }

    /// Refuse a database that is newer than this code (`Config`) or not
    /// migrated up to it (`Config`, for stores opened without migrating).
    pub async fn check_schema(&self) -> Result<()> {
        migration::check_not_newer(&self.db).await?;
        if !migration::is_up_to_date(&self.db).await? {
            return Err(Error::config(
                "the database schema is older than this version of Tessera: run `tessera migrate` \
                 or open the store with migrations enabled",
            ));
        }
        Ok(())
    }
}

#[async_trait]
impl Store for SqlStore {
    fn apps(&self) -> &dyn AppStore {
        self
    }
    fn users(&self) -> &dyn UserStore {
        self
    }
    fn credentials(&self) -> &dyn CredentialStore {
        self
    }
    fn identities(&self) -> &dyn IdentityStore {
        self
    }
    fn sessions(&self) -> &dyn SessionStore {
        self
    }
    fn tokens(&self) -> &dyn OneTimeTokenStore {
        self
    }
    fn keys(&self) -> &dyn KeyStore {
        self
    }
    fn audit(&self) -> &dyn AuditStore {
        self
    }
    fn throttles(&self) -> &dyn ThrottleStore {
        self
    }
    fn api_keys(&self) -> &dyn ApiKeyStore {
        self
    }
    fn mail(&self) -> &dyn MailOutboxStore {
        self
    }
    fn oauth_providers(&self) -> &dyn OAuthProviderStore {
        self
    }
    fn webhook_endpoints(&self) -> &dyn WebhookEndpointStore {
        self
    }
    fn webhook_deliveries(&self) -> &dyn WebhookDeliveryStore {
        self
    }
    fn backend(&self) -> &'static str {
        self.dialect.name()
    }
    /// At once while the database is known down; otherwise one query, given
    /// [`PING_TIMEOUT`] (after [`health::SUSPECT_AFTER`] the health probe
    /// looks at the database, and the ping fails as soon as it finds it down).
    async fn ping(&self) -> Result<()> {
        match tokio::time::timeout(PING_TIMEOUT, self.one("SELECT 1 AS one", vec![])).await {
            Ok(r) => r.map(|_| ()),
            Err(_) => Err(Error::with_message(
                tessera_core::ErrorKind::Storage,
                "the database did not answer a ping in time",
            )),
        }
    }
}
