//! `tessera admin …`: administration from the shell, one file per
//! administered thing; each command opens the configured database directly,
//! so it works beside a running server.

use clap::Subcommand;

use crate::config::RawConfig;

mod api_keys;
mod apps;
mod oauth_providers;
mod webhooks;

#[derive(Subcommand)]
pub(crate) enum AdminCommand {
    /// Create an app.
    CreateApp(apps::CreateApp),
    /// List apps.
    ListApps(RawConfig),
    /// Create an admin API key and print its secret (shown once).
    CreateApiKey(api_keys::CreateApiKey),
    /// External sign-in providers (OAuth 2.0 / OpenID Connect) of an app.
    OauthProviders {
        #[command(subcommand)]
        command: oauth_providers::OAuthProvidersCommand,
    },
    /// Webhook endpoints and their delivery log.
    Webhooks {
        #[command(subcommand)]
        command: webhooks::WebhooksCommand,
    },
}

/// Run an `admin` command.
pub(crate) async fn run(command: AdminCommand) -> tessera_core::Result<()> {
    match command {
        AdminCommand::CreateApp(args) => apps::create(args).await,
        AdminCommand::ListApps(raw) => apps::list(raw).await,
        AdminCommand::CreateApiKey(args) => api_keys::create(args).await,
        AdminCommand::OauthProviders { command } => oauth_providers::run(command).await,
        AdminCommand::Webhooks { command } => webhooks::run(command).await,
    }
}
