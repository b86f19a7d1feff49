//! The one migration set, for SQLite and Postgres alike.
//!
//! Each migration is DDL written once with placeholders for the few column
//! types that differ (`{uuid}`, `{ts}`, `{bytes}`, `{json}`, `{bool}`; see
//! [`Dialect`]). Applied migrations are recorded in `tessera_migrations`
//! (inside the Tessera schema on Postgres). A database that records a
//! migration this code does not know is newer than the code, and
//! [`check_not_newer`] refuses it.

use sea_orm::{ConnectionTrait, DbErr};
use sea_orm_migration::prelude::*;
use tessera_core::{Error, Result};

use crate::dialect::Dialect;
use crate::exec::db;

/// The name of the table that records applied migrations.
pub const MIGRATIONS_TABLE: &str = "tessera_migrations";

/// Tessera's migrator.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(Initial),
            Box::new(MailOutbox),
            Box::new(OAuthProviders),
            Box::new(ThrottleWaits),
            Box::new(Webhooks),
        ]
    }

    fn migration_table_name() -> DynIden {
        MIGRATIONS_TABLE.into_iden()
    }
}

/// The names of the migrations this code knows, oldest first.
pub fn known_migrations() -> Vec<String> {
    Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect()
}

/// Refuse a database whose migrations table names a migration this code does
/// not know (it was migrated by a newer Tessera). `Config` error.
pub async fn check_not_newer(conn: &impl ConnectionTrait) -> Result<()> {
    let Some(dialect) = Dialect::of(conn.get_database_backend()) else {
        return Err(Error::config("unsupported database backend"));
    };
    let exists_sql = match dialect {
        Dialect::Sqlite => {
            "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = $1"
        }
        Dialect::Postgres => {
            "SELECT COUNT(*) AS n FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name = $1"
        }
    };
    let row = conn
        .query_one_raw(dialect.stmt(exists_sql, vec![MIGRATIONS_TABLE.into()]))
        .await
        .map_err(db)?;
    let n: i64 = match row {
        Some(r) => r.try_get_by("n").map_err(db)?,
        None => 0,
    };
    if n == 0 {
        return Ok(());
    }
    let rows = conn
        .query_all_raw(dialect.stmt(
            &format!("SELECT version FROM {MIGRATIONS_TABLE} ORDER BY version"),
            vec![],
        ))
        .await
        .map_err(db)?;
    let known = known_migrations();
    let mut unknown = Vec::new();
    for r in rows {
        let v: String = r.try_get_by("version").map_err(db)?;
        if !known.contains(&v) {
            unknown.push(v);
        }
    }
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(Error::config(format!(
            "the database schema is newer than this version of Tessera: it has migration(s) {} \
             that this build does not know (latest known: {}); upgrade Tessera",
            unknown.join(", "),
            known.last().map_or("none", String::as_str)
        )))
    }
}

/// Whether every known migration is applied.
pub async fn is_up_to_date(conn: &impl ConnectionTrait) -> Result<bool> {
    Ok(Migrator::get_pending_migrations(conn)
        .await
        .map_err(db)?
        .is_empty())
}

async fn run(manager: &SchemaManager<'_>, ddl: &str) -> Result<(), DbErr> {
    let Some(dialect) = Dialect::of(manager.get_database_backend()) else {
        return Err(DbErr::Migration("unsupported database backend".into()));
    };
    let mut sql = ddl.to_owned();
    for (placeholder, ty) in dialect.types() {
        sql = sql.replace(placeholder, ty);
    }
    for stmt in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        manager.get_connection().execute_unprepared(stmt).await?;
    }
    Ok(())
}

/// Webhook endpoints and the delivery outbox (issue 16). Deliveries are
/// written in the same transaction as the event they carry; the partial index
/// serves the claim (pending and due), the other two the delivery log and
/// lease renewal.
struct Webhooks;

impl MigrationName for Webhooks {
    fn name(&self) -> &str {
        "m20261220_000005_webhooks"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Webhooks {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(
            manager,
            "CREATE TABLE webhook_endpoints (
                id {uuid} PRIMARY KEY,
                app_id {uuid} REFERENCES apps (id) ON DELETE CASCADE,
                pool_id {uuid},
                url TEXT NOT NULL CHECK (length(url) <= 2048),
                description TEXT CHECK (length(description) <= 500),
                events {json} NOT NULL,
                enabled {bool} NOT NULL,
                disabled_reason TEXT,
                secrets_sealed {bytes} NOT NULL,
                old_secrets_sealed {bytes},
                old_secrets_until {ts},
                public_key TEXT,
                failing_since {ts},
                created_at {ts} NOT NULL,
                updated_at {ts} NOT NULL
            );
            CREATE INDEX webhook_endpoints_app_idx ON webhook_endpoints (app_id);
            CREATE TABLE webhook_deliveries (
                id {uuid} PRIMARY KEY,
                endpoint_id {uuid} NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
                event_id {uuid} NOT NULL,
                event_type TEXT NOT NULL,
                payload TEXT NOT NULL,
                status TEXT NOT NULL,
                attempt INTEGER NOT NULL,
                next_attempt_at {ts},
                leased_until {ts},
                lease_id {uuid},
                attempted_at {ts},
                response_code INTEGER,
                duration_ms BIGINT,
                response_excerpt TEXT,
                last_error TEXT,
                created_at {ts} NOT NULL
            );
            CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at, id)
                WHERE status = 'pending';
            CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, id);
            CREATE INDEX webhook_deliveries_lease_idx ON webhook_deliveries (lease_id);
            CREATE INDEX webhook_deliveries_created_idx ON webhook_deliveries (created_at)",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(
            manager,
            "DROP TABLE webhook_deliveries;
            DROP TABLE webhook_endpoints",
        )
        .await
    }
}

/// Atomic backoff and shared rate limits (issue 14, items 3 and 4): a
/// throttle keeps when its next attempt may proceed, so one statement can
/// decide and count an attempt; `rate_limits` holds the fixed windows that
/// every instance on the database counts in.
struct ThrottleWaits;

impl MigrationName for ThrottleWaits {
    fn name(&self) -> &str {
        "m20261210_000004_throttle_waits"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for ThrottleWaits {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(
            manager,
            "ALTER TABLE throttles ADD COLUMN next_attempt_at {ts};
            CREATE TABLE rate_limits (
                limit_key TEXT PRIMARY KEY,
                hits INTEGER NOT NULL,
                window_ends_at {ts} NOT NULL
            );
            CREATE INDEX rate_limits_window_ends_idx ON rate_limits (window_ends_at)",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(
            manager,
            "DROP TABLE rate_limits;
            ALTER TABLE throttles DROP COLUMN next_attempt_at",
        )
        .await
    }
}

/// External OAuth/OIDC providers per app (issue 8). The client secret is
/// sealed by the core; kind-specific settings are one JSON document.
struct OAuthProviders;

impl MigrationName for OAuthProviders {
    fn name(&self) -> &str {
        "m20261122_000003_oauth_providers"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for OAuthProviders {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(
            manager,
            "CREATE TABLE oauth_providers (
                app_id {uuid} NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
                name TEXT NOT NULL CHECK (length(name) <= 64),
                kind TEXT NOT NULL,
                client_id TEXT NOT NULL,
                client_secret_sealed {bytes},
                config {json} NOT NULL,
                enabled {bool} NOT NULL,
                created_at {ts} NOT NULL,
                updated_at {ts} NOT NULL,
                PRIMARY KEY (app_id, name)
            )",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, "DROP TABLE oauth_providers").await
    }
}

/// The mail outbox (email flows).
struct MailOutbox;

impl MigrationName for MailOutbox {
    fn name(&self) -> &str {
        "m20261122_000002_mail_outbox"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for MailOutbox {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(
            manager,
            "CREATE TABLE mail_outbox (
                id {uuid} PRIMARY KEY,
                sealed {bytes} NOT NULL,
                created_at {ts} NOT NULL,
                attempts INTEGER NOT NULL,
                next_attempt_at {ts} NOT NULL,
                leased_until {ts},
                last_error TEXT
            );
            CREATE INDEX mail_outbox_due_idx ON mail_outbox (next_attempt_at, created_at)",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, "DROP TABLE mail_outbox").await
    }
}

/// The first schema: every table of the store traits.
struct Initial;

impl MigrationName for Initial {
    fn name(&self) -> &str {
        "m20261122_000001_initial"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Initial {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, INITIAL_UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, INITIAL_DOWN).await
    }
}

const INITIAL_UP: &str = r#"
CREATE TABLE pools (
    id {uuid} PRIMARY KEY,
    slug TEXT NOT NULL CHECK (length(slug) <= 64),
    name TEXT NOT NULL,
    created_at {ts} NOT NULL,
    CONSTRAINT pools_slug_key UNIQUE (slug)
);
CREATE TABLE apps (
    id {uuid} PRIMARY KEY,
    pool_id {uuid} NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    slug TEXT NOT NULL CHECK (length(slug) <= 64),
    name TEXT NOT NULL,
    settings {json} NOT NULL,
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL,
    CONSTRAINT apps_slug_key UNIQUE (slug)
);
CREATE INDEX apps_pool_idx ON apps (pool_id);
CREATE TABLE users (
    id {uuid} PRIMARY KEY,
    pool_id {uuid} NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    email TEXT NOT NULL CHECK (length(email) <= 254),
    email_verified {bool} NOT NULL,
    name TEXT CHECK (length(name) <= 200),
    metadata {json} NOT NULL,
    disabled {bool} NOT NULL,
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL,
    CONSTRAINT users_pool_email_key UNIQUE (pool_id, email)
);
CREATE INDEX users_pool_id_idx ON users (pool_id, id);
CREATE TABLE credentials (
    id {uuid} PRIMARY KEY,
    user_id {uuid} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    name TEXT,
    secret TEXT NOT NULL,
    data {json} NOT NULL,
    created_at {ts} NOT NULL,
    last_used_at {ts}
);
CREATE INDEX credentials_user_idx ON credentials (user_id, kind);
CREATE UNIQUE INDEX credentials_one_password ON credentials (user_id) WHERE kind = 'password';
CREATE TABLE identities (
    id {uuid} PRIMARY KEY,
    pool_id {uuid} NOT NULL,
    user_id {uuid} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    subject TEXT NOT NULL,
    email TEXT,
    email_verified {bool} NOT NULL,
    profile {json} NOT NULL,
    created_at {ts} NOT NULL,
    last_used_at {ts},
    CONSTRAINT identities_subject_key UNIQUE (pool_id, provider, subject)
);
CREATE INDEX identities_user_idx ON identities (user_id);
CREATE TABLE sessions (
    id {uuid} PRIMARY KEY,
    pool_id {uuid} NOT NULL,
    app_id {uuid} NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    user_id {uuid} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash {bytes} NOT NULL,
    amr {json} NOT NULL,
    user_agent TEXT,
    ip TEXT,
    created_at {ts} NOT NULL,
    last_seen_at {ts} NOT NULL,
    idle_timeout_secs BIGINT NOT NULL,
    expires_at {ts} NOT NULL,
    revoked_at {ts},
    revoke_reason TEXT,
    CONSTRAINT sessions_token_hash_key UNIQUE (token_hash)
);
CREATE INDEX sessions_user_idx ON sessions (user_id, created_at);
CREATE INDEX sessions_app_idx ON sessions (app_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);
CREATE TABLE refresh_tokens (
    hash {bytes} PRIMARY KEY,
    session_id {uuid} NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at {ts} NOT NULL,
    spent_at {ts},
    replaced_by {bytes}
);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);
CREATE TABLE one_time_tokens (
    hash {bytes} PRIMARY KEY,
    purpose TEXT NOT NULL,
    pool_id {uuid} NOT NULL,
    app_id {uuid},
    user_id {uuid} REFERENCES users (id) ON DELETE CASCADE,
    subject TEXT,
    data {json} NOT NULL,
    attempts INTEGER NOT NULL,
    created_at {ts} NOT NULL,
    expires_at {ts} NOT NULL
);
CREATE INDEX one_time_tokens_subject_idx ON one_time_tokens (purpose, pool_id, subject);
CREATE INDEX one_time_tokens_user_idx ON one_time_tokens (user_id, purpose);
CREATE INDEX one_time_tokens_expires_idx ON one_time_tokens (expires_at);
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    alg TEXT NOT NULL,
    private_key_sealed {bytes} NOT NULL,
    public_jwk TEXT NOT NULL,
    created_at {ts} NOT NULL,
    retired_at {ts},
    publish_until {ts}
);
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys ((retired_at IS NULL)) WHERE retired_at IS NULL;
CREATE TABLE audit_events (
    id {uuid} PRIMARY KEY,
    kind TEXT NOT NULL,
    pool_id {uuid},
    app_id {uuid},
    user_id {uuid},
    session_id {uuid},
    ip TEXT,
    user_agent TEXT,
    data {json} NOT NULL,
    at {ts} NOT NULL
);
CREATE INDEX audit_events_user_idx ON audit_events (user_id, id);
CREATE INDEX audit_events_app_idx ON audit_events (app_id, id);
CREATE INDEX audit_events_pool_idx ON audit_events (pool_id, id);
CREATE TABLE throttles (
    throttle_key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_failure_at {ts} NOT NULL
);
CREATE INDEX throttles_last_failure_idx ON throttles (last_failure_at);
CREATE TABLE api_keys (
    id {uuid} PRIMARY KEY,
    name TEXT NOT NULL,
    hash {bytes} NOT NULL,
    hint TEXT NOT NULL,
    scopes {json} NOT NULL,
    created_at {ts} NOT NULL,
    last_used_at {ts},
    expires_at {ts},
    revoked_at {ts},
    CONSTRAINT api_keys_hash_key UNIQUE (hash)
)
"#;

const INITIAL_DOWN: &str = r#"
DROP TABLE api_keys;
DROP TABLE throttles;
DROP TABLE audit_events;
DROP TABLE signing_keys;
DROP TABLE one_time_tokens;
DROP TABLE refresh_tokens;
DROP TABLE sessions;
DROP TABLE identities;
DROP TABLE credentials;
DROP TABLE users;
DROP TABLE apps;
DROP TABLE pools
"#;
