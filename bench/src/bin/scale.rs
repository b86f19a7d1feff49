//! Storage scale (issue 3): seed N users with N live sessions, then measure
//! session validation and the sign-in lookup through the store, through the
//! full `tessera.sessions().validate` path, and through raw sqlx running the
//! same SELECT, with 1, 8 and 64 concurrent callers.
//!
//! Run with:
//! `cargo run --release -p tessera-bench --bin scale -- --backend sqlite --users 1000000`
//! `pg_virtualenv bash -c 'cargo run --release -p tessera-bench --bin scale -- --backend postgres --users 1000000'`
//!
//! Seeding uses ONE argon2id hash (OWASP parameters), computed once and
//! reused for every user. `--seed sql` (default) writes multi-row INSERTs into
//! the tables the storage crate's migrations created (`users`, `credentials`,
//! `sessions`; no refresh-token rows, which validation never reads);
//! `--seed store` goes through `create_user` and `create_session` instead.
//! Seeding resumes where an earlier run stopped, so measurements can be rerun
//! on the same database without seeding again.

use std::future::Future;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, Version};
use chrono::{DateTime, Utc};
use clap::Parser;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, QueryBuilder, Row};
use tessera_bench::{Rng, Samples, Summary, machine_note, seeded_email, seeded_session_token};
use tessera_core::Tessera;
use tessera_core::crypto::{KeyRing, PasswordParams, TokenHash};
use tessera_core::model::{
    App, Credential, CredentialKind, FirstSignIn, RefreshToken, Session, User,
};
use tessera_core::store::Store;
use tessera_storage::OpenOptions;
use uuid::Uuid;

#[derive(Parser, Debug)]
#[command(about = "Seed N users and sessions, then measure validation and sign-in lookups")]
struct Args {
    /// `sqlite`, `postgres` or `memory`.
    #[arg(long, default_value = "sqlite")]
    backend: String,
    /// Store URL (default: a file under target/bench/ for SQLite; the PG*
    /// variables of pg_virtualenv and schema `bench_<users>` for Postgres).
    #[arg(long)]
    url: Option<String>,
    /// Users to seed, each with one live session.
    #[arg(long, default_value_t = 1_000_000)]
    users: u64,
    /// `sql` (bulk INSERTs into the migrated tables) or `store` (the store traits).
    #[arg(long, default_value = "sql")]
    seed: String,
    /// Rows per INSERT statement (sql seeding).
    #[arg(long, default_value_t = 1000)]
    batch: usize,
    /// Concurrent seeding tasks (Postgres and store seeding; SQLite has one writer).
    #[arg(long, default_value_t = 4)]
    seed_tasks: u64,
    /// Stop seeding after this many seconds and measure what was reached.
    #[arg(long, default_value_t = 900)]
    seed_budget_secs: u64,
    /// Concurrent callers to measure with.
    #[arg(long, default_value = "1,8,64", value_delimiter = ',')]
    concurrency: Vec<usize>,
    /// Seconds per measured run.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Only seed; measure nothing.
    #[arg(long)]
    seed_only: bool,
}

const KEK: [u8; 32] = [7; 32];

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    println!("# scale: backend={} users={}", args.backend, args.users);
    println!("machine: {}", machine_note());

    let (url, raw) = connect(&args).await?;
    println!("store url: {}", redact(&url));
    let store = tessera_storage::open(&url, OpenOptions::default()).await?;
    let tessera = Tessera::builder()
        .store(store.clone())
        .key_encryption_key(KeyRing::new(KEK, []))
        .build()
        .await?;
    let app = tessera.apps().default_app().await?;

    // ---- seed ----
    let have = match &raw {
        Some(r) => r.count_seeded().await?,
        None => 0,
    };
    println!("already seeded: {have}");
    let mut reached = have;
    if have < args.users {
        let phc = one_hash();
        let t0 = Instant::now();
        reached = match (&raw, args.seed.as_str()) {
            (Some(r), "sql") => seed_sql(r, &app, &phc, have, &args).await?,
            (_, "store") | (None, _) => seed_store(&store, &app, &phc, have, &args).await?,
            (_, other) => return Err(format!("unknown --seed {other}").into()),
        };
        let secs = t0.elapsed().as_secs_f64();
        let rows = reached - have;
        println!(
            "seeded {rows} users (+ {rows} password credentials + {rows} sessions) with --seed {} in {secs:.1} s: {:.0} users/s",
            if raw.is_none() { "store" } else { &args.seed },
            rows as f64 / secs
        );
        if reached < args.users {
            println!(
                "NOTE: seeding stopped at {reached} of {} users (budget {} s)",
                args.users, args.seed_budget_secs
            );
        }
        if let Some(r) = &raw {
            r.analyze().await?;
        }
    }
    if let Some(r) = &raw {
        println!("rows now: users={}", r.count_seeded().await?);
        if let Some(size) = r.size().await? {
            println!("database size: {} MiB", size / (1024 * 1024));
        }
    }
    if args.seed_only {
        return Ok(());
    }
    let n = reached.max(1);
    let secs = Duration::from_secs(args.seconds);

    // ---- warm up (touches pages of both indexes) ----
    let s = store.clone();
    measure(8, Duration::from_secs(3), n, move |i| {
        let s = s.clone();
        async move {
            s.sessions()
                .find_session_by_token(&TokenHash::of(&seeded_session_token(i)))
                .await
                .map(|f| f.is_some())
                .unwrap_or(false)
        }
    })
    .await;

    // ---- session lookup: store vs raw sqlx (read-only) ----
    println!(
        "\n## session lookup by token ({n} sessions) — {}",
        machine_note()
    );
    println!("{}", Summary::header("caller · concurrency"));
    let mut ratio_rows = Vec::new();
    for &c in &args.concurrency {
        let s = store.clone();
        let st = measure(c, secs, n, move |i| {
            let s = s.clone();
            async move {
                matches!(
                    s.sessions()
                        .find_session_by_token(&TokenHash::of(&seeded_session_token(i)))
                        .await,
                    Ok(Some(_))
                )
            }
        })
        .await;
        println!("{}", st.row(&format!("store find_session_by_token · {c}")));
        if let Some(r) = &raw {
            let r = r.clone();
            let rw = measure(c, secs, n, move |i| {
                let r = r.clone();
                async move {
                    r.find_session(TokenHash::of(&seeded_session_token(i)).as_bytes())
                        .await
                        .unwrap_or(false)
                }
            })
            .await;
            println!("{}", rw.row(&format!("raw sqlx same SELECT · {c}")));
            ratio_rows.push((format!("session lookup · {c}"), st, rw));
        }
    }

    // ---- sign-in lookup: store vs raw sqlx ----
    println!(
        "\n## sign-in lookup find_user_with_password ({n} users) — {}",
        machine_note()
    );
    println!("{}", Summary::header("caller · concurrency"));
    let pool_id = app.pool_id;
    for &c in args.concurrency.iter().filter(|&&c| c <= 8) {
        let s = store.clone();
        let st = measure(c, secs, n, move |i| {
            let s = s.clone();
            async move {
                matches!(
                    s.users()
                        .find_user_with_password(pool_id, &seeded_email(i))
                        .await,
                    Ok(Some((_, Some(_))))
                )
            }
        })
        .await;
        println!(
            "{}",
            st.row(&format!("store find_user_with_password · {c}"))
        );
        if let Some(r) = &raw {
            let r = r.clone();
            let rw = measure(c, secs, n, move |i| {
                let r = r.clone();
                async move {
                    r.find_user(pool_id, &seeded_email(i))
                        .await
                        .unwrap_or(false)
                }
            })
            .await;
            println!("{}", rw.row(&format!("raw sqlx same SELECT · {c}")));
            ratio_rows.push((format!("sign-in lookup · {c}"), st, rw));
        }
    }

    if !ratio_rows.is_empty() {
        println!("\n## overhead of the store layer over raw sqlx (same SELECT)");
        println!(
            "| query · concurrency | store p50 / raw p50 | store p99 / raw p99 | raw ops/s / store ops/s |"
        );
        println!("|---|---:|---:|---:|");
        for (label, st, rw) in &ratio_rows {
            println!(
                "| {label} | {:.2} | {:.2} | {:.2} |",
                st.p50.as_secs_f64() / rw.p50.as_secs_f64(),
                st.p99.as_secs_f64() / rw.p99.as_secs_f64(),
                rw.throughput() / st.throughput()
            );
        }
    }

    // ---- the full validate path (may write last_seen_at) ----
    println!(
        "\n## tessera.sessions().validate ({n} sessions; writes last_seen_at when a session was last seen > 60 s ago) — {}",
        machine_note()
    );
    println!("{}", Summary::header("caller · concurrency"));
    for &c in &args.concurrency {
        let t = tessera.clone();
        let touched = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let tc = touched.clone();
        let st = measure(c, secs, n, move |i| {
            let t = t.clone();
            let tc = tc.clone();
            async move {
                // A call wrote last_seen_at iff it answers a value from during the call.
                let called = Utc::now();
                match t.sessions().validate(&seeded_session_token(i)).await {
                    Ok((s, _)) => {
                        if s.last_seen_at >= called {
                            tc.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                        true
                    }
                    Err(_) => false,
                }
            }
        })
        .await;
        let touched = touched.load(std::sync::atomic::Ordering::Relaxed);
        println!(
            "{}",
            st.row(&format!(
                "validate · {c} ({:.0} % wrote last_seen_at)",
                100.0 * touched as f64 / st.count.max(1) as f64
            ))
        );
    }
    println!("\nend: {}", machine_note());
    Ok(())
}

fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(a), Some(b)) if b > a => format!("{}://…{}", &url[..a], &url[b..]),
        _ => url.to_owned(),
    }
}

/// The one argon2id hash every seeded user shares.
fn one_hash() -> String {
    let p = PasswordParams::default();
    let argon2 = Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(p.m_cost, p.t_cost, p.p_cost, None).expect("params"),
    );
    argon2
        .hash_password(tessera_bench::PASSWORD.as_bytes())
        .expect("hash")
        .to_string()
}

/// Run `c` callers for `dur`, each calling `f(random seeded index)` in a loop.
async fn measure<F, Fut>(c: usize, dur: Duration, n: u64, f: F) -> Summary
where
    F: Fn(u64) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send,
{
    let start = Instant::now();
    let deadline = start + dur;
    let mut tasks = tokio::task::JoinSet::new();
    for k in 0..c {
        let f = f.clone();
        tasks.spawn(async move {
            let mut rng = Rng::new(k as u64 + 1 + start.elapsed().as_nanos() as u64);
            let mut samples = Samples::with_capacity(100_000);
            while Instant::now() < deadline {
                let i = rng.below(n);
                let t0 = Instant::now();
                if f(i).await {
                    samples.record(t0.elapsed());
                } else {
                    samples.error();
                }
            }
            samples
        });
    }
    let mut all = Samples::default();
    while let Some(s) = tasks.join_next().await {
        all.merge(s.expect("caller task"));
    }
    all.summary(start.elapsed())
}

// ---------------------------------------------------------------------------
// Raw sqlx: the comparison and the bulk seeding.

#[derive(Clone)]
enum Raw {
    Sqlite(SqlitePool),
    Pg(PgPool),
}

async fn connect(args: &Args) -> Result<(String, Option<Raw>), Box<dyn std::error::Error>> {
    match args.backend.as_str() {
        "memory" => Ok(("memory://".into(), None)),
        "sqlite" => {
            let url = match &args.url {
                Some(u) => u.clone(),
                None => {
                    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
                    std::fs::create_dir_all(&dir)?;
                    let dir = dir.canonicalize()?;
                    format!(
                        "sqlite://{}",
                        dir.join(format!("scale-{}.db", args.users)).display()
                    )
                }
            };
            let path = url
                .strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:"))
                .ok_or("a sqlite URL starts with sqlite://")?
                .split('?')
                .next()
                .unwrap_or_default()
                .to_owned();
            // The same settings the SQLite store uses: WAL, busy timeout,
            // foreign keys, synchronous=NORMAL, 8 connections.
            let opts = SqliteConnectOptions::new()
                .filename(&path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true)
                .synchronous(SqliteSynchronous::Normal);
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(opts)
                .await?;
            Ok((url, Some(Raw::Sqlite(pool))))
        }
        "postgres" => {
            let schema = format!("bench_{}", args.users);
            let base = match &args.url {
                Some(u) => u.clone(),
                None => pg_url_from_env().ok_or("set --url or run under pg_virtualenv")?,
            };
            let (plain, query) = base.split_once('?').unwrap_or((&base, ""));
            let schema = query
                .split('&')
                .find_map(|kv| kv.strip_prefix("schema="))
                .map_or(schema, str::to_owned);
            let url = format!("{plain}?schema={schema}");
            let opts =
                PgConnectOptions::from_str(plain)?.options([("search_path", schema.as_str())]);
            let pool = PgPoolOptions::new()
                .max_connections(10)
                .connect_with(opts)
                .await?;
            Ok((url, Some(Raw::Pg(pool))))
        }
        other => Err(format!("unknown --backend {other}").into()),
    }
}

fn pg_url_from_env() -> Option<String> {
    let host = std::env::var("PGHOST").ok()?;
    let port = std::env::var("PGPORT").unwrap_or_else(|_| "5432".into());
    let user = std::env::var("PGUSER").unwrap_or_else(|_| "postgres".into());
    let password = std::env::var("PGPASSWORD").unwrap_or_default();
    let db = std::env::var("PGDATABASE").unwrap_or_else(|_| "postgres".into());
    let host = if host.starts_with('/') {
        "localhost".to_owned()
    } else {
        host
    };
    Some(format!("postgres://{user}:{password}@{host}:{port}/{db}"))
}

const SESSION_COLS: &[&str] = &[
    "id",
    "pool_id",
    "app_id",
    "user_id",
    "token_hash",
    "amr",
    "user_agent",
    "ip",
    "created_at",
    "last_seen_at",
    "idle_timeout_secs",
    "expires_at",
    "revoked_at",
    "revoke_reason",
];
const USER_COLS: &[&str] = &[
    "id",
    "pool_id",
    "email",
    "email_verified",
    "name",
    "metadata",
    "disabled",
    "created_at",
    "updated_at",
];
const CREDENTIAL_COLS: &[&str] = &[
    "id",
    "user_id",
    "kind",
    "name",
    "secret",
    "data",
    "created_at",
    "last_used_at",
];

fn cols(alias: &str, prefix: &str, names: &[&str]) -> String {
    names
        .iter()
        .map(|c| format!("{alias}.{c} AS {prefix}{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The SELECTs of tessera-storage-sql, verbatim.
fn session_sql() -> String {
    format!(
        "SELECT {}, {} FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1",
        cols("s", "s_", SESSION_COLS),
        cols("u", "u_", USER_COLS)
    )
}

fn user_sql() -> String {
    format!(
        "SELECT {}, {} FROM users u \
         LEFT JOIN credentials c ON c.user_id = u.id AND c.kind = 'password' \
         WHERE u.pool_id = $1 AND u.email = $2",
        cols("u", "u_", USER_COLS),
        cols("c", "c_", CREDENTIAL_COLS)
    )
}

/// Built once: the SQL text is the same for every call.
static SESSION_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(session_sql);
static USER_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(user_sql);

/// Decode every column of a row the way the store does (typed, JSON parsed).
macro_rules! decode_user {
    ($row:expr, $ts:ty, $json:ty) => {{
        let r = $row;
        let _: Uuid = r.try_get("u_id")?;
        let _: Uuid = r.try_get("u_pool_id")?;
        let _: String = r.try_get("u_email")?;
        let _: bool = r.try_get("u_email_verified")?;
        let _: Option<String> = r.try_get("u_name")?;
        let _: $json = r.try_get("u_metadata")?;
        let _: bool = r.try_get("u_disabled")?;
        let _: $ts = r.try_get("u_created_at")?;
        let _: $ts = r.try_get("u_updated_at")?;
    }};
}

macro_rules! decode_session {
    ($row:expr, $ts:ty, $json:ty) => {{
        let r = $row;
        let _: Uuid = r.try_get("s_id")?;
        let _: Uuid = r.try_get("s_pool_id")?;
        let _: Uuid = r.try_get("s_app_id")?;
        let _: Uuid = r.try_get("s_user_id")?;
        let _: Vec<u8> = r.try_get("s_token_hash")?;
        let _: $json = r.try_get("s_amr")?;
        let _: Option<String> = r.try_get("s_user_agent")?;
        let _: Option<String> = r.try_get("s_ip")?;
        let _: $ts = r.try_get("s_created_at")?;
        let _: $ts = r.try_get("s_last_seen_at")?;
        let _: i64 = r.try_get("s_idle_timeout_secs")?;
        let _: $ts = r.try_get("s_expires_at")?;
        let _: Option<$ts> = r.try_get("s_revoked_at")?;
        let _: Option<String> = r.try_get("s_revoke_reason")?;
    }};
}

macro_rules! decode_credential {
    ($row:expr, $ts:ty, $json:ty) => {{
        let r = $row;
        let _: Option<Uuid> = r.try_get("c_id")?;
        let _: Option<Uuid> = r.try_get("c_user_id")?;
        let _: Option<String> = r.try_get("c_kind")?;
        let _: Option<String> = r.try_get("c_name")?;
        let _: Option<String> = r.try_get("c_secret")?;
        let _: Option<$json> = r.try_get("c_data")?;
        let _: Option<$ts> = r.try_get("c_created_at")?;
        let _: Option<$ts> = r.try_get("c_last_used_at")?;
    }};
}

/// SQLite keeps JSON as TEXT; parse it as the store does.
fn parse_json(s: &str) -> Result<serde_json::Value, sqlx::Error> {
    serde_json::from_str(s).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

impl Raw {
    async fn find_session(&self, hash: &[u8]) -> Result<bool, sqlx::Error> {
        let sql = SESSION_SQL.as_str();
        match self {
            Raw::Sqlite(p) => {
                let Some(r) = sqlx::query(AssertSqlSafe(sql))
                    .bind(hash)
                    .fetch_optional(p)
                    .await?
                else {
                    return Ok(false);
                };
                decode_session!(&r, i64, String);
                decode_user!(&r, i64, String);
                parse_json(&r.try_get::<String, _>("s_amr")?)?;
                parse_json(&r.try_get::<String, _>("u_metadata")?)?;
                Ok(true)
            }
            Raw::Pg(p) => {
                let Some(r) = sqlx::query(AssertSqlSafe(sql))
                    .bind(hash)
                    .fetch_optional(p)
                    .await?
                else {
                    return Ok(false);
                };
                decode_session!(&r, DateTime<Utc>, serde_json::Value);
                decode_user!(&r, DateTime<Utc>, serde_json::Value);
                Ok(true)
            }
        }
    }

    async fn find_user(&self, pool: Uuid, email: &str) -> Result<bool, sqlx::Error> {
        let sql = USER_SQL.as_str();
        match self {
            Raw::Sqlite(p) => {
                let Some(r) = sqlx::query(AssertSqlSafe(sql))
                    .bind(pool)
                    .bind(email)
                    .fetch_optional(p)
                    .await?
                else {
                    return Ok(false);
                };
                decode_user!(&r, i64, String);
                decode_credential!(&r, i64, String);
                parse_json(&r.try_get::<String, _>("u_metadata")?)?;
                Ok(true)
            }
            Raw::Pg(p) => {
                let Some(r) = sqlx::query(AssertSqlSafe(sql))
                    .bind(pool)
                    .bind(email)
                    .fetch_optional(p)
                    .await?
                else {
                    return Ok(false);
                };
                decode_user!(&r, DateTime<Utc>, serde_json::Value);
                decode_credential!(&r, DateTime<Utc>, serde_json::Value);
                Ok(true)
            }
        }
    }

    async fn count_seeded(&self) -> Result<u64, sqlx::Error> {
        let sql = "SELECT COUNT(*) FROM users WHERE email LIKE 'user%@bench.example'";
        let n: i64 = match self {
            Raw::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await?,
            Raw::Pg(p) => sqlx::query_scalar(sql).fetch_one(p).await?,
        };
        Ok(n as u64)
    }

    async fn analyze(&self) -> Result<(), sqlx::Error> {
        match self {
            Raw::Sqlite(p) => {
                sqlx::query("ANALYZE").execute(p).await?;
                sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                    .execute(p)
                    .await?;
            }
            Raw::Pg(p) => {
                sqlx::query("ANALYZE").execute(p).await?;
            }
        }
        Ok(())
    }

    async fn size(&self) -> Result<Option<i64>, sqlx::Error> {
        Ok(Some(match self {
            Raw::Sqlite(p) => {
                sqlx::query_scalar(
                    "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
                )
                .fetch_one(p)
                .await?
            }
            Raw::Pg(p) => {
                sqlx::query_scalar("SELECT pg_database_size(current_database())")
                    .fetch_one(p)
                    .await?
            }
        }))
    }
}

/// One seeded row: user `i`, its credential and its session.
struct SeedRow {
    i: u64,
    user_id: Uuid,
    credential_id: Uuid,
    session_id: Uuid,
    token_hash: [u8; 32],
}

fn seed_rows(from: u64, to: u64, now: DateTime<Utc>) -> Vec<SeedRow> {
    (from..to)
        .map(|i| SeedRow {
            i,
            user_id: tessera_core::new_id(now),
            credential_id: tessera_core::new_id(now),
            session_id: tessera_core::new_id(now),
            token_hash: *TokenHash::of(&seeded_session_token(i)).as_bytes(),
        })
        .collect()
}

/// Multi-row INSERTs of users, credentials and sessions for `rows`, in one
/// transaction. `$ts` converts a timestamp to the column's encoding.
macro_rules! insert_chunk {
    ($pool:expr, $rows:expr, $app:expr, $phc:expr, $now:expr, $ts:expr) => {{
        let rows: &[SeedRow] = $rows;
        let app: &App = $app;
        let now = $ts($now);
        let expires = $ts($now + chrono::Duration::seconds(app.settings.session_lifetime_secs));
        let mut tx = $pool.begin().await?;
        let mut q = QueryBuilder::new(
            "INSERT INTO users (id, pool_id, email, email_verified, name, metadata, disabled, created_at, updated_at) ",
        );
        q.push_values(rows, |mut b, r| {
            b.push_bind(r.user_id)
                .push_bind(app.pool_id)
                .push_bind(seeded_email(r.i))
                .push("FALSE")
                .push("NULL")
                .push("'{}'")
                .push("FALSE")
                .push_bind(now.clone())
                .push_bind(now.clone());
        });
        q.build().execute(&mut *tx).await?;
        let mut q = QueryBuilder::new(
            "INSERT INTO credentials (id, user_id, kind, name, secret, data, created_at, last_used_at) ",
        );
        q.push_values(rows, |mut b, r| {
            b.push_bind(r.credential_id)
                .push_bind(r.user_id)
                .push("'password'")
                .push("NULL")
                .push_bind($phc)
                .push("'{}'")
                .push_bind(now.clone())
                .push("NULL");
        });
        q.build().execute(&mut *tx).await?;
        let mut q = QueryBuilder::new(
            "INSERT INTO sessions (id, pool_id, app_id, user_id, token_hash, amr, user_agent, ip, created_at, \
             last_seen_at, idle_timeout_secs, expires_at, revoked_at, revoke_reason) ",
        );
        q.push_values(rows, |mut b, r| {
            b.push_bind(r.session_id)
                .push_bind(app.pool_id)
                .push_bind(app.id)
                .push_bind(r.user_id)
                .push_bind(r.token_hash.to_vec())
                .push("'[\"pwd\"]'")
                .push_bind("tessera-bench/1")
                .push_bind("127.0.0.1")
                .push_bind(now.clone())
                .push_bind(now.clone())
                .push_bind(app.settings.session_idle_timeout_secs)
                .push_bind(expires.clone())
                .push("NULL")
                .push("NULL");
        });
        q.build().execute(&mut *tx).await?;
        tx.commit().await?;
    }};
}

async fn seed_sql(
    raw: &Raw,
    app: &App,
    phc: &str,
    from: u64,
    args: &Args,
) -> Result<u64, Box<dyn std::error::Error>> {
    let t0 = Instant::now();
    let budget = Duration::from_secs(args.seed_budget_secs);
    let batch = args.batch as u64;
    match raw {
        Raw::Sqlite(pool) => {
            // One writer: one task, several statements per transaction.
            let mut at = from;
            let mut last_report = Instant::now();
            while at < args.users && t0.elapsed() < budget {
                let to = (at + batch).min(args.users);
                let rows = seed_rows(at, to, Utc::now());
                insert_chunk!(pool, &rows, app, phc, Utc::now(), |t: DateTime<Utc>| t
                    .timestamp_micros());
                at = to;
                if last_report.elapsed() > Duration::from_secs(15) {
                    eprintln!(
                        "  seeded {at} ({:.0} users/s)",
                        (at - from) as f64 / t0.elapsed().as_secs_f64()
                    );
                    last_report = Instant::now();
                }
            }
            Ok(at)
        }
        Raw::Pg(pool) => {
            let next = Arc::new(std::sync::atomic::AtomicU64::new(from));
            let mut tasks = tokio::task::JoinSet::new();
            for _ in 0..args.seed_tasks.max(1) {
                let pool = pool.clone();
                let next = next.clone();
                let app = app.clone();
                let phc = phc.to_owned();
                let users = args.users;
                tasks.spawn(async move {
                    let mut done = 0u64;
                    loop {
                        if t0.elapsed() >= budget {
                            break;
                        }
                        let at = next.fetch_add(batch, std::sync::atomic::Ordering::Relaxed);
                        if at >= users {
                            break;
                        }
                        let to = (at + batch).min(users);
                        let rows = seed_rows(at, to, Utc::now());
                        let r: Result<(), sqlx::Error> = async {
                            insert_chunk!(
                                pool,
                                &rows,
                                &app,
                                phc.as_str(),
                                Utc::now(),
                                |t: DateTime<Utc>| t
                            );
                            Ok(())
                        }
                        .await;
                        r?;
                        done += to - at;
                    }
                    Ok::<u64, sqlx::Error>(done)
                });
            }
            let mut total = from;
            while let Some(r) = tasks.join_next().await {
                total += r??;
            }
            Ok(total)
        }
    }
}

async fn seed_store(
    store: &Arc<dyn Store>,
    app: &App,
    phc: &str,
    from: u64,
    args: &Args,
) -> Result<u64, Box<dyn std::error::Error>> {
    let t0 = Instant::now();
    let budget = Duration::from_secs(args.seed_budget_secs);
    let next = Arc::new(std::sync::atomic::AtomicU64::new(from));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..args.seed_tasks.max(1) {
        let store = store.clone();
        let next = next.clone();
        let app = app.clone();
        let phc = phc.to_owned();
        let users = args.users;
        tasks.spawn(async move {
            let mut done = 0u64;
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= users || t0.elapsed() >= budget {
                    break;
                }
                let now = Utc::now();
                let user = User {
                    id: tessera_core::new_id(now),
                    pool_id: app.pool_id,
                    email: seeded_email(i),
                    email_verified: false,
                    name: None,
                    metadata: serde_json::json!({}),
                    disabled: false,
                    created_at: now,
                    updated_at: now,
                };
                let credential = Credential {
                    id: tessera_core::new_id(now),
                    user_id: user.id,
                    kind: CredentialKind::Password,
                    name: None,
                    secret: phc.clone(),
                    data: serde_json::json!({}),
                    created_at: now,
                    last_used_at: None,
                };
                store
                    .users()
                    .create_user(&user, Some(FirstSignIn::Password(&credential)), &[])
                    .await?;
                let session = Session {
                    id: tessera_core::new_id(now),
                    pool_id: app.pool_id,
                    app_id: app.id,
                    user_id: user.id,
                    token_hash: TokenHash::of(&seeded_session_token(i)),
                    amr: vec!["pwd".into()],
                    user_agent: Some("tessera-bench/1".into()),
                    ip: Some("127.0.0.1".into()),
                    created_at: now,
                    last_seen_at: now,
                    idle_timeout_secs: app.settings.session_idle_timeout_secs,
                    expires_at: now + chrono::Duration::seconds(app.settings.session_lifetime_secs),
                    revoked_at: None,
                    revoke_reason: None,
                };
                let refresh = RefreshToken {
                    hash: TokenHash::of(&format!("bench-refresh-{i}")),
                    session_id: session.id,
                    created_at: now,
                    spent_at: None,
                    replaced_by: None,
                };
                store
                    .sessions()
                    .create_session(&session, &refresh, &[])
                    .await?;
                done += 1;
            }
            Ok::<u64, tessera_core::Error>(done)
        });
    }
    let mut total = from;
    while let Some(r) = tasks.join_next().await {
        total += r??;
    }
    // Store seeding hands out indexes in order but tasks may stop mid-range;
    // the count is exact, the highest index may have a gap of < seed_tasks.
    Ok(total)
}
