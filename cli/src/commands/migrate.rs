//! `tessera migrate`: run the database migrations alone and exit (`serve`
//! runs them on start unless `--no-migrate`).

use crate::config::RawConfig;
use crate::server;

/// Migrate the configured database.
pub(crate) async fn run(raw: RawConfig) -> tessera_core::Result<()> {
    let config = raw.validate()?;
    server::init_logs(config.log_format);
    tessera_storage::open(
        &config.database_url,
        tessera_storage::OpenOptions { migrate: true },
    )
    .await?;
    println!("migrations applied to {}", redact(&config.database_url));
    Ok(())
}

/// A database URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***@{}", &url[..s], &url[at + 1..]),
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://u:secret@db:5432/app"),
            "postgres://***@db:5432/app"
        );
        assert_eq!(redact("sqlite://tessera.db"), "sqlite://tessera.db");
    }
}
