//! Running Tessera from a [`Config`]: the log subscriber, the key-encryption
//! key (a development one created beside a SQLite file when none is
//! configured), opening the store and the core through
//! [`tessera_storage::TesseraOpener`], and `serve`: the Prometheus exporter,
//! the listener, the router, until SIGTERM/SIGINT, letting in-flight requests
//! finish. Start-up refuses what cannot work (a key-encryption key that does
//! not open the signing key, a port it cannot listen on) with the setting and
//! the fix in the message; connections are served by [`crate::connections`].

use std::time::Duration;

use metrics_exporter_prometheus::PrometheusBuilder;
use tessera_core::crypto::KeyRing;
use tessera_core::{Error, Result, Tessera};
use tessera_http::MetricsRenderer;
use tessera_storage::TesseraOpener;

use crate::config::{Config, KekSource, LogFormat};
use crate::connections;

/// How often `serve` sweeps what has ended, and how long it keeps ended
/// sessions.
const SWEEP_EVERY: Duration = Duration::from_secs(300);
const SWEEP_RETENTION_DAYS: i64 = 7;

/// Histogram buckets of request latencies, in seconds.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// Install the log subscriber: `RUST_LOG` filters (default `info`), lines
/// go to stderr as text or JSON.
pub(crate) fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

/// Load (or, for development, create) the key-encryption key ring.
fn load_keyring(kek: &KekSource) -> Result<KeyRing> {
    match kek {
        KekSource::Configured { current, old } => KeyRing::from_base64(current, old),
        KekSource::Ephemeral => KeyRing::from_base64(&KeyRing::generate_base64(), ""),
        KekSource::DevFile(path) => {
            if let Ok(text) = std::fs::read_to_string(path) {
                return KeyRing::from_base64(text.trim(), "");
            }
            let key = KeyRing::generate_base64();
            write_private(path, &key)?;
            tracing::warn!(
                path = %path.display(),
                "DEVELOPMENT MODE: generated a key-encryption key in a file beside the database. \
                 Anyone with this file can decrypt the signing keys. In production set \
                 TESSERA_KEY_ENCRYPTION_KEY (base64 of 32 random bytes) instead."
            );
            KeyRing::from_base64(&key, "")
        }
    }
}

fn write_private(path: &std::path::Path, contents: &str) -> Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .map_err(|e| Error::config(format!("cannot create {}: {e}", path.display())))?;
    f.write_all(contents.as_bytes())
        .map_err(|e| Error::config(format!("cannot write {}: {e}", path.display())))
}

/// The opener `config` describes, without workers.
fn opener(config: &Config) -> Result<TesseraOpener> {
    let mut opener = TesseraOpener::new(config.database_url.clone(), load_keyring(&config.kek)?)
        .migrate(config.migrate)
        .issuer(config.http.base_url.clone())
        .signing_alg(config.signing_alg)
        .development(config.http.dev)
        .webhook_allow_hosts(config.webhook_allow_hosts.clone())
        .webauthn_origins(config.webauthn_origins.clone())
        .mail(config.mail.clone())
        .background(false);
    if let Some(rp_id) = &config.webauthn_rp_id {
        opener = opener.webauthn_rp_id(rp_id.clone());
    }
    Ok(opener)
}

/// Bootstrap the configured admin API key, if any.
async fn bootstrap(tessera: &Tessera, config: &Config) -> Result<()> {
    if let Some(secret) = &config.admin_api_key {
        tessera.api_keys().bootstrap(secret).await?;
    }
    Ok(())
}

/// Open Tessera for a one-shot command: no background workers (queued mail
/// waits for a server), the admin key bootstrapped.
pub(crate) async fn open(config: &Config) -> Result<Tessera> {
    let tessera = opener(config)?.open().await?;
    bootstrap(&tessera, config).await?;
    Ok(tessera)
}

/// Serve until a shutdown signal; in-flight requests finish first. The mail
/// worker and the sweeper run meanwhile.
pub(crate) async fn serve(config: Config) -> Result<()> {
    for warning in config.warnings() {
        tracing::warn!("{warning}");
    }
    let tessera = opener(&config)?
        .background(true)
        .sweep(SWEEP_EVERY, chrono::Duration::days(SWEEP_RETENTION_DAYS))
        .open()
        .await?;
    check_signing_key(&tessera, &config.kek).await?;
    bootstrap(&tessera, &config).await?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| {
            Error::config(format!(
                "cannot listen on {} (TESSERA_LISTEN / PORT): {e}. Fix: choose a free port \
                 and an address of this machine, such as 0.0.0.0:8080",
                config.listen
            ))
        })?;
    let local = listener.local_addr().map_err(Error::internal)?;
    let mut options = config.http.clone();
    options.metrics = install_metrics();
    let router = tessera_http::router_with(tessera, options);
    tracing::info!(
        address = %local,
        sign_in = %format!("{}/sign-in", config.http.base_url),
        "Tessera is listening; open the sign-in page at {}/sign-in",
        config.http.base_url
    );
    let proxies = config.http.clone();
    connections::serve(
        listener,
        router,
        connections::fit_to_process(config.connections.clone()),
        move |ip| proxies.is_trusted_proxy(ip),
        shutdown_signal(),
    )
    .await;
    tracing::info!("stopped");
    Ok(())
}

/// Open the active signing key (creating the first one on a new database),
/// so a key-encryption key that cannot open it stops the start instead of
/// failing every sign-in with 500 (issues 15 and 22).
async fn check_signing_key(tessera: &Tessera, kek: &KekSource) -> Result<()> {
    let Err(e) = tessera.tokens().current_kid().await else {
        return Ok(());
    };
    if e.code() != "config_error" {
        return Err(e);
    }
    let setting = match kek {
        KekSource::DevFile(path) => format!(
            "the development key-encryption key in {} (was the file replaced?)",
            path.display()
        ),
        _ => "TESSERA_KEY_ENCRYPTION_KEY".to_owned(),
    };
    Err(Error::config(format!(
        "{setting} does not open this database's signing key ({}). Fix: set \
         TESSERA_KEY_ENCRYPTION_KEY to the key the database was set up with; while rotating \
         to a new key, keep the old one in TESSERA_KEY_ENCRYPTION_KEY_OLD",
        e.message()
    )))
}

/// Install the Prometheus recorder as the process's metrics recorder and
/// hand its renderer to the router (`None`, so `/metrics` answers 404, if a
/// recorder is somehow installed already).
fn install_metrics() -> Option<MetricsRenderer> {
    let handle = PrometheusBuilder::new()
        .set_buckets(LATENCY_BUCKETS)
        .ok()?
        .install_recorder()
        .ok()?;
    Some(MetricsRenderer::new(move || handle.render()))
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
