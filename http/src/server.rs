//! Running the server: open the store, build Tessera with its key-encryption
//! key, serve the router until SIGTERM/SIGINT, then let in-flight requests
//! finish. Also the pieces the CLI's other commands share.

use std::net::SocketAddr;
use std::time::Duration;

use std::sync::Arc;

use tessera_core::crypto::KeyRing;
use tessera_core::mail::{LogMailer, Mailer, SmtpMailer};
use tessera_core::{Error, Result, Tessera};
use tessera_storage::OpenOptions;

use crate::config::{Config, KekSource};

/// Load (or, for development, create) the key-encryption key ring.
pub fn load_keyring(kek: &KekSource) -> Result<KeyRing> {
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

/// The mailer `config` asks for: SMTP when `TESSERA_SMTP_URL` is set, else the
/// development log mailer (with a warning).
pub fn mailer(config: &Config) -> Result<Arc<dyn Mailer>> {
    match &config.smtp_url {
        Some(url) => Ok(Arc::new(SmtpMailer::from_url(url, &config.mail_from)?)),
        None => {
            tracing::warn!(
                "DEVELOPMENT MODE: no TESSERA_SMTP_URL, so mail (links and codes included) is written to the log"
            );
            Ok(Arc::new(LogMailer))
        }
    }
}

/// Open the store and build Tessera for `config`.
pub async fn build(config: &Config) -> Result<Tessera> {
    let store = tessera_storage::open(
        &config.database_url,
        OpenOptions {
            migrate: config.migrate,
        },
    )
    .await?;
    let keyring = load_keyring(&config.kek)?;
    let mut builder = Tessera::builder()
        .store(store)
        .key_encryption_key(keyring)
        .issuer(config.http.base_url.clone())
        .signing_alg(config.signing_alg)
        .development(config.http.dev)
        .webauthn_origins(config.webauthn_origins.clone());
    if let Some(rp_id) = &config.webauthn_rp_id {
        builder = builder.webauthn_rp_id(rp_id.clone());
    }
    let tessera = builder.build().await?;
    if let Some(secret) = &config.admin_api_key {
        tessera.api_keys().bootstrap(secret).await?;
    }
    Ok(tessera)
}

/// Serve until a shutdown signal; in-flight requests finish first.
pub async fn serve(config: Config) -> Result<()> {
    let tessera = build(&config).await?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| Error::config(format!("cannot listen on {}: {e}", config.listen)))?;
    let local = listener.local_addr().map_err(Error::internal)?;
    serve_on(tessera, config, listener, local, shutdown_signal()).await
}

/// Serve on a bound listener until `shutdown` resolves.
pub async fn serve_on(
    tessera: Tessera,
    config: Config,
    listener: tokio::net::TcpListener,
    local: SocketAddr,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let mailer = mailer(&config)?;
    let router = crate::router_with(tessera.clone(), config.http.clone());
    let sweeper = tokio::spawn(background(tessera.clone()));
    let worker = tokio::spawn(async move {
        tessera
            .emails()
            .run_worker(mailer, Duration::from_secs(2))
            .await;
    });
    tracing::info!(
        address = %local,
        sign_in = %format!("{}/sign-in", config.http.base_url),
        "Tessera is listening; open the sign-in page at {}/sign-in",
        config.http.base_url
    );
    let result = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .map_err(Error::internal);
    sweeper.abort();
    worker.abort();
    tracing::info!("stopped");
    result
}

/// Periodic maintenance: sweep what has ended. Safe on several instances.
async fn background(tessera: Tessera) {
    let mut tick = tokio::time::interval(Duration::from_secs(300));
    loop {
        tick.tick().await;
        match tessera.sweep(chrono::Duration::days(7)).await {
            Ok(r) => tracing::debug!(?r, "swept"),
            Err(e) => tracing::warn!(error = %e, "sweep failed"),
        }
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
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
