//! `tessera admin create-app`, `tessera admin list-apps`.

use clap::Args;

use crate::config::RawConfig;
use crate::server;

/// `tessera admin create-app`.
#[derive(Args)]
pub(crate) struct CreateApp {
    #[command(flatten)]
    common: RawConfig,
    /// Unique slug.
    #[arg(long)]
    slug: String,
    /// Display name.
    #[arg(long)]
    name: String,
    /// Registered redirect URI (repeatable).
    #[arg(long = "redirect-uri")]
    redirect_uris: Vec<String>,
    /// Allowed CORS origin (repeatable).
    #[arg(long = "cors-origin")]
    cors_origins: Vec<String>,
}

/// Create an app in the default pool.
pub(crate) async fn create(args: CreateApp) -> tessera_core::Result<()> {
    let tessera = server::open(&args.common.validate()?).await?;
    let settings = tessera_core::model::AppSettings {
        redirect_uris: args.redirect_uris,
        cors_origins: args.cors_origins,
        ..Default::default()
    };
    let app = tessera
        .apps()
        .create(tessera_core::NewApp {
            slug: args.slug,
            name: args.name,
            pool_id: None,
            settings: Some(settings),
        })
        .await?;
    println!("created app {} ({})", app.slug, app.id);
    Ok(())
}

/// Print every app: id, slug and name, tab-separated.
pub(crate) async fn list(raw: RawConfig) -> tessera_core::Result<()> {
    let tessera = server::open(&raw.validate()?).await?;
    for app in tessera.apps().list(None).await? {
        println!("{}\t{}\t{}", app.id, app.slug, app.name);
    }
    Ok(())
}
