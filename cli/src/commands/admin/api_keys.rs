//! `tessera admin create-api-key`: admin API keys.

use clap::Args;

use crate::config::RawConfig;
use crate::server;

/// `tessera admin create-api-key`.
#[derive(Args)]
pub(crate) struct CreateApiKey {
    #[command(flatten)]
    common: RawConfig,
    /// Label.
    #[arg(long, default_value = "cli")]
    name: String,
    /// Scopes (repeatable; default admin).
    #[arg(long = "scope")]
    scopes: Vec<String>,
}

/// Create a key and print its secret on stdout (the id goes to stderr).
pub(crate) async fn create(args: CreateApiKey) -> tessera_core::Result<()> {
    let tessera = server::open(&args.common.validate()?).await?;
    let scopes = if args.scopes.is_empty() {
        vec![tessera_core::SCOPE_ADMIN.to_owned()]
    } else {
        args.scopes
    };
    let created = tessera.api_keys().create(&args.name, &scopes, None).await?;
    eprintln!(
        "API key {} created; the secret is shown once:",
        created.key.id
    );
    println!("{}", created.secret);
    Ok(())
}
