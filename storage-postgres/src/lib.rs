//! Tessera on Postgres: every table in one schema of a shared database.
//!
//! Why a schema of its own: Tessera is often added to an application that
//! already has a database. Keeping every Tessera table (and the migrations
//! table) in one schema — `tessera` unless configured otherwise — means it can
//! share that database without touching the application's tables, and an
//! operator can see, dump or drop it as a unit. Each pooled connection starts
//! with `search_path` set to that schema, so the SQL shared with SQLite
//! (`tessera-storage-sql`) needs no schema prefixes.
//!
//! Connections also carry an `application_name` (visible in
//! `pg_stat_activity`) and a `statement_timeout`, so a stuck query fails
//! instead of holding a pool slot forever. When Postgres goes away, calls
//! fail fast: a failure that looks like an outage starts a probe (one
//! connection outside the pool), and while it fails every call answers a
//! storage error at once; the store recovers by itself when Postgres is back.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sea_orm::sqlx::Connection;
use sea_orm::sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions};
use sea_orm::{ConnectionTrait, DbBackend, SqlxPostgresConnector, Statement};
use tessera_core::store::*;
use tessera_core::{Error, ErrorKind, Result};
use tessera_storage_sql::SqlStore;
use tessera_storage_sql::health::Probe;

/// How to connect to Postgres.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// The schema that holds every Tessera table (default `tessera`); created
    /// if missing. Lower-case letters, digits and `_`, not starting with a digit.
    pub schema: String,
    /// Largest number of pooled connections (default 10).
    pub max_connections: u32,
    /// How long a call waits for a pooled connection (default 5 s). While
    /// Postgres is known to be down, calls fail at once instead (see
    /// `tessera_storage_sql::health`).
    pub connect_timeout: Duration,
    /// Longest a statement may run before Postgres cancels it (default 30 s;
    /// `None` for the server's setting).
    pub statement_timeout: Option<Duration>,
    /// The `application_name` of the connections (default `tessera`).
    pub application_name: String,
    /// Run migrations on connect (default true). When false, a schema that is
    /// not migrated up to this version is refused.
    pub migrate: bool,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            schema: DEFAULT_SCHEMA.to_owned(),
            max_connections: 10,
            connect_timeout: Duration::from_secs(5),
            statement_timeout: Some(Duration::from_secs(30)),
            application_name: "tessera".to_owned(),
            migrate: true,
        }
    }
}

/// The schema Tessera uses unless told otherwise.
pub const DEFAULT_SCHEMA: &str = "tessera";

/// A Tessera store in a Postgres schema.
#[derive(Debug)]
pub struct PgStore {
    sql: SqlStore,
    schema: String,
}

fn valid_schema(s: &str) -> bool {
    s.len() <= 63
        && s.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl PgStore {
    /// Connect to the database at `url` (`postgres://user:pass@host:port/db`),
    /// create the schema if missing and migrate it unless told not to.
    ///
    /// A schema migrated by a newer Tessera is refused (`Config`).
    pub async fn connect(url: &str, options: PgOptions) -> Result<Self> {
        if !valid_schema(&options.schema) {
            return Err(Error::config(format!(
                "invalid Postgres schema name {:?}: use lower-case letters, digits and _",
                options.schema
            )));
        }
        // The URL may hold a password: never echo it.
        let mut connect = PgConnectOptions::from_str(url)
            .map_err(|_| Error::config("the Postgres URL is malformed"))?
            .application_name(&options.application_name)
            .options([("search_path", options.schema.as_str())]);
        if let Some(t) = options.statement_timeout {
            connect = connect.options([("statement_timeout", format!("{}ms", t.as_millis()))]);
        }
        let pool = tessera_storage_sql::pool::guarded(PgPoolOptions::new())
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(options.connect_timeout)
            .connect_with(connect.clone())
            .await
            .map_err(|e| {
                Error::with_message(ErrorKind::Storage, "cannot connect to Postgres").with_source(e)
            })?;
        let db = SqlxPostgresConnector::from_sqlx_postgres_pool(pool);
        create_schema(&db, &options.schema).await?;
        let sql = SqlStore::new(db)?.with_probe(probe(connect));
        if options.migrate {
            sql.migrate().await?;
        } else {
            sql.check_schema().await?;
        }
        Ok(PgStore {
            sql,
            schema: options.schema,
        })
    }

    /// The schema holding Tessera's tables.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// The SQL store inside.
    pub fn sql(&self) -> &SqlStore {
        &self.sql
    }

    /// Close every connection.
    pub async fn close(self) -> Result<()> {
        self.sql
            .connection()
            .close_by_ref()
            .await
            .map_err(Error::storage)
    }
}

/// The health probe: one connection outside the pool, pinged and closed.
/// A server that answers with an error (too many connections, a password
/// refused) is reachable; one that is starting up or shutting down is not.
fn probe(connect: PgConnectOptions) -> Probe {
    Arc::new(move || {
        let connect = connect.clone();
        Box::pin(async move {
            match PgConnection::connect_with(&connect).await {
                Ok(mut conn) => {
                    let ok = conn.ping().await.is_ok();
                    let _ = conn.close().await;
                    ok
                }
                Err(sea_orm::sqlx::Error::Database(e))
                    if !matches!(e.code().as_deref(), Some("57P01" | "57P02" | "57P03")) =>
                {
                    true
                }
                Err(e) => {
                    tracing::debug!(error = %e, "Postgres probe failed");
                    false
                }
            }
        })
    })
}

async fn create_schema(db: &impl ConnectionTrait, schema: &str) -> Result<()> {
    // `schema` is validated: a plain lower-case identifier, safe to splice.
    let created = db
        .execute_unprepared(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
        .await;
    if let Err(e) = created {
        // Two instances creating it at once: one of them loses the race on
        // the catalog, which is fine if the schema now exists.
        let exists = db
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT 1 AS one FROM pg_namespace WHERE nspname = $1",
                [schema.into()],
            ))
            .await
            .map_err(Error::storage)?;
        if exists.is_none() {
            return Err(Error::with_message(
                ErrorKind::Storage,
                "cannot create the Tessera schema in Postgres",
            )
            .with_source(e));
        }
    }
    Ok(())
}

#[async_trait]
impl Store for PgStore {
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
        "postgres"
    }
    async fn ping(&self) -> Result<()> {
        self.sql.ping().await
    }
}
