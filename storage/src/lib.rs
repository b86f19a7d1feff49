//! Open a Tessera store from a URL, and a running Tessera on it.
//!
//! One `open(url)` picks the backend by URL scheme among the backends compiled
//! in (cargo features), so the server, the bindings and embedding apps share
//! one way to configure storage, and an unknown scheme is a clear `Config`
//! error rather than a surprise (the way sqlx matches `URL_SCHEMES`). There is
//! no global install step: the URL alone decides.
//!
//! | feature (all default) | what it opens |
//! |---|---|
//! | `memory` | `memory://` (nothing persisted) |
//! | `sqlite` | `sqlite://PATH` (relative), `sqlite:///ABS/PATH`, `sqlite:PATH`, `sqlite::memory:` |
//! | `postgres` | `postgres://user:pass@host:port/db`, `postgresql://…`; `?schema=NAME` picks the schema (default `tessera`) |
//! | `smtp` | [`MailSettings`] with an SMTP URL deliver through `SmtpMailer` |
//!
//! [`TesseraOpener`] goes one step further for the server and the bindings:
//! URL, key ring, settings and mail in, a running [`tessera_core::Tessera`]
//! with its background workers out.

mod opener;

use std::sync::Arc;

pub use opener::{DEFAULT_MAIL_FROM, MAIL_POLL, MailSettings, TesseraOpener, WEBHOOK_POLL};
use tessera_core::store::Store;
use tessera_core::{Error, Result};

/// Options for [`open`] that apply across backends.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// Run migrations on open (default true). When false, a database that is
    /// not migrated up to this version is refused; a database newer than this
    /// version is refused either way.
    pub migrate: bool,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions { migrate: true }
    }
}

/// The URL schemes this build understands.
pub fn schemes() -> Vec<&'static str> {
    let mut s = Vec::new();
    if cfg!(feature = "memory") {
        s.push("memory://");
    }
    if cfg!(feature = "sqlite") {
        s.push("sqlite://");
    }
    if cfg!(feature = "postgres") {
        s.extend(["postgres://", "postgresql://"]);
    }
    s
}

/// What a URL names, before anything is opened.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Memory,
    /// A SQLite file path, or `:memory:`.
    Sqlite(String),
    /// A Postgres URL (without Tessera's own parameters) and the schema.
    Postgres {
        url: String,
        schema: Option<String>,
    },
}

fn parse(url: &str) -> Result<Target> {
    let (scheme, rest) = url.split_once(':').unwrap_or((url, ""));
    match scheme.to_ascii_lowercase().as_str() {
        "memory" if cfg!(feature = "memory") => Ok(Target::Memory),
        "sqlite" if cfg!(feature = "sqlite") => {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            let path = path.split_once('?').map_or(path, |(p, _)| p);
            if path.is_empty() {
                return Err(Error::config(
                    "a SQLite URL needs a path: sqlite://tessera.db or sqlite::memory:",
                ));
            }
            Ok(Target::Sqlite(path.to_owned()))
        }
        "postgres" | "postgresql" if cfg!(feature = "postgres") => {
            let (base, query) = url.split_once('?').unwrap_or((url, ""));
            let mut schema = None;
            let mut kept = Vec::new();
            for pair in query.split('&').filter(|p| !p.is_empty()) {
                match pair.split_once('=') {
                    Some(("schema", v)) => schema = Some(v.to_owned()),
                    _ => kept.push(pair),
                }
            }
            let url = if kept.is_empty() {
                base.to_owned()
            } else {
                format!("{base}?{}", kept.join("&"))
            };
            Ok(Target::Postgres { url, schema })
        }
        _ => Err(Error::config(format!(
            "unsupported database URL scheme {scheme:?}; this build supports {}",
            schemes().join(", ")
        ))),
    }
}

/// Open the store `url` names (see the crate docs for the URL forms).
pub async fn open(url: &str, options: OpenOptions) -> Result<Arc<dyn Store>> {
    match parse(url)? {
        #[cfg(feature = "memory")]
        Target::Memory => Ok(Arc::new(tessera_storage_memory::MemoryStore::new())),
        #[cfg(feature = "sqlite")]
        Target::Sqlite(path) => {
            use tessera_storage_sqlite::{SqliteOptions, SqliteStore};
            let store = SqliteStore::open(
                &path,
                SqliteOptions {
                    migrate: options.migrate,
                    ..Default::default()
                },
            )
            .await?;
            Ok(Arc::new(store))
        }
        #[cfg(feature = "postgres")]
        Target::Postgres { url, schema } => {
            use tessera_storage_postgres::{PgOptions, PgStore};
            let defaults = PgOptions::default();
            let store = PgStore::connect(
                &url,
                PgOptions {
                    schema: schema.unwrap_or(defaults.schema.clone()),
                    migrate: options.migrate,
                    ..defaults
                },
            )
            .await?;
            Ok(Arc::new(store))
        }
        #[allow(unreachable_patterns)]
        _ => {
            let _ = options;
            Err(Error::config("this database backend is not compiled in"))
        }
    }
}

#[cfg(all(test, feature = "memory", feature = "sqlite", feature = "postgres"))]
mod tests {
    use super::*;

    #[test]
    fn urls_pick_their_backend() {
        assert_eq!(parse("memory://").unwrap(), Target::Memory);
        assert_eq!(
            parse("sqlite://tessera.db").unwrap(),
            Target::Sqlite("tessera.db".into())
        );
        assert_eq!(
            parse("sqlite:///var/lib/tessera.db?mode=rwc").unwrap(),
            Target::Sqlite("/var/lib/tessera.db".into())
        );
        assert_eq!(
            parse("sqlite::memory:").unwrap(),
            Target::Sqlite(":memory:".into())
        );
        assert_eq!(
            parse("sqlite://:memory:").unwrap(),
            Target::Sqlite(":memory:".into())
        );
        assert_eq!(
            parse("postgres://u:p@db:5432/app?schema=auth&sslmode=disable").unwrap(),
            Target::Postgres {
                url: "postgres://u:p@db:5432/app?sslmode=disable".into(),
                schema: Some("auth".into())
            }
        );
        assert_eq!(
            parse("postgresql://db/app").unwrap(),
            Target::Postgres {
                url: "postgresql://db/app".into(),
                schema: None
            }
        );
    }

    #[test]
    fn unknown_schemes_are_config_errors() {
        for url in ["mysql://db/app", "redis://x", "", "tessera.db", "sqlite:"] {
            let err = parse(url).unwrap_err();
            assert_eq!(err.code(), "config_error", "{url}");
        }
        let err = parse("mysql://u:secret@db/app").unwrap_err();
        assert!(!err.message().contains("secret"));
        assert!(err.message().contains("sqlite://"));
    }

    #[tokio::test]
    async fn open_picks_the_backend() {
        let store = open("memory://", OpenOptions::default()).await.unwrap();
        assert_eq!(store.backend(), "memory");
        let store = open("sqlite::memory:", OpenOptions::default())
            .await
            .unwrap();
        assert_eq!(store.backend(), "sqlite");
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/t.db", dir.path().display());
        let store = open(&url, OpenOptions::default()).await.unwrap();
        assert_eq!(store.backend(), "sqlite");
        store.ping().await.unwrap();
        let err = open("oracle://x", OpenOptions::default())
            .await
            .err()
            .unwrap();
        assert_eq!(err.code(), "config_error");
    }
}
