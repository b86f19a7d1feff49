//! `tessera admin oauth-providers …`: an app's external sign-in providers
//! (OAuth 2.0 / OpenID Connect), printed as JSON (never the secret).

use clap::{Args, Subcommand};

use tessera_core::Tessera;
use tessera_core::model::App;

use crate::config::RawConfig;
use crate::server;

/// The configuration and the app every `oauth-providers` command works on.
#[derive(Args)]
pub(crate) struct AppArgs {
    #[command(flatten)]
    common: RawConfig,
    /// App id or slug.
    #[arg(long, default_value = "default")]
    app: String,
}

impl AppArgs {
    /// Open Tessera and find the app.
    async fn open(self) -> tessera_core::Result<(Tessera, App)> {
        let tessera = server::open(&self.common.validate()?).await?;
        let app = tessera.apps().resolve(&self.app).await?;
        Ok((tessera, app))
    }
}

#[derive(Subcommand)]
pub(crate) enum OAuthProvidersCommand {
    /// Create or replace a provider; prints it as JSON (never the secret).
    Put(Box<ProviderPut>),
    /// List an app's providers as JSON.
    List(AppArgs),
    /// Show one provider as JSON.
    Get {
        #[command(flatten)]
        on: AppArgs,
        /// Provider name.
        #[arg(long)]
        provider: String,
    },
    /// Remove a provider.
    Delete {
        #[command(flatten)]
        on: AppArgs,
        /// Provider name.
        #[arg(long)]
        provider: String,
    },
}

/// `tessera admin oauth-providers put`.
#[derive(Args)]
pub(crate) struct ProviderPut {
    #[command(flatten)]
    on: AppArgs,
    /// Provider name (the `{provider}` of the routes): a-z 0-9 - _.
    #[arg(long)]
    provider: String,
    /// google, apple, microsoft, github, kakao, naver, oidc or oauth2.
    #[arg(long)]
    kind: String,
    /// OAuth client id.
    #[arg(long)]
    client_id: String,
    /// Client secret (omit to keep the stored one).
    #[arg(long, env = "TESSERA_OAUTH_CLIENT_SECRET", hide_env_values = true)]
    client_secret: Option<String>,
    /// Read the client secret from a file (Apple: the .p8 private key).
    #[arg(long, conflicts_with = "client_secret")]
    client_secret_file: Option<std::path::PathBuf>,
    /// Issuer URL (oidc; microsoft optional).
    #[arg(long)]
    issuer: Option<String>,
    /// Authorization endpoint (oauth2; override for the others).
    #[arg(long)]
    authorization_endpoint: Option<String>,
    /// Token endpoint.
    #[arg(long)]
    token_endpoint: Option<String>,
    /// User info endpoint.
    #[arg(long)]
    userinfo_endpoint: Option<String>,
    /// Scope (repeatable; the preset's otherwise).
    #[arg(long = "scope")]
    scopes: Vec<String>,
    /// oauth2: dotted path of the user id in the user endpoint's JSON.
    #[arg(long)]
    claim_id: Option<String>,
    /// oauth2: path of the email.
    #[arg(long)]
    claim_email: Option<String>,
    /// oauth2: path of the email-verified flag.
    #[arg(long)]
    claim_email_verified: Option<String>,
    /// oauth2: path of the display name.
    #[arg(long)]
    claim_name: Option<String>,
    /// Button label.
    #[arg(long)]
    display_name: Option<String>,
    /// Configure it disabled.
    #[arg(long)]
    disabled: bool,
    /// Apple team id.
    #[arg(long)]
    team_id: Option<String>,
    /// Apple key id.
    #[arg(long)]
    key_id: Option<String>,
    /// Microsoft tenant (common, organizations, consumers or a tenant id).
    #[arg(long)]
    tenant: Option<String>,
    /// client_secret_basic or client_secret_post (oidc, oauth2).
    #[arg(long)]
    token_endpoint_auth: Option<String>,
}

fn print_json(v: &impl serde::Serialize) -> tessera_core::Result<()> {
    let text = serde_json::to_string_pretty(v).map_err(tessera_core::Error::internal)?;
    println!("{text}");
    Ok(())
}

/// Run an `admin oauth-providers` command.
pub(crate) async fn run(command: OAuthProvidersCommand) -> tessera_core::Result<()> {
    match command {
        OAuthProvidersCommand::Put(put) => {
            let p = *put;
            let (tessera, app) = p.on.open().await?;
            let client_secret = match (&p.client_secret_file, p.client_secret) {
                (Some(path), _) => Some(std::fs::read_to_string(path).map_err(|e| {
                    tessera_core::Error::config(format!("cannot read {}: {e}", path.display()))
                })?),
                (None, s) => s,
            };
            let claims = match p.claim_id {
                Some(id) => Some(tessera_core::ClaimMapping {
                    id,
                    email: p.claim_email,
                    email_verified: p.claim_email_verified,
                    name: p.claim_name,
                }),
                None => None,
            };
            let token_endpoint_auth = match p.token_endpoint_auth.as_deref() {
                None => None,
                Some("client_secret_basic") => Some(tessera_core::TokenAuth::ClientSecretBasic),
                Some("client_secret_post") => Some(tessera_core::TokenAuth::ClientSecretPost),
                Some(_) => {
                    return Err(tessera_core::Error::invalid(
                        "token_endpoint_auth",
                        "client_secret_basic or client_secret_post",
                    ));
                }
            };
            let input = tessera_core::ProviderInput {
                kind: p.kind,
                client_id: p.client_id,
                client_secret,
                enabled: Some(!p.disabled),
                issuer: p.issuer,
                authorization_endpoint: p.authorization_endpoint,
                token_endpoint: p.token_endpoint,
                userinfo_endpoint: p.userinfo_endpoint,
                scopes: (!p.scopes.is_empty()).then_some(p.scopes),
                claims,
                display_name: p.display_name,
                team_id: p.team_id,
                key_id: p.key_id,
                tenant: p.tenant,
                token_endpoint_auth,
            };
            let view = tessera
                .oauth()
                .put_provider(&app, &p.provider, &input)
                .await?;
            print_json(&view)
        }
        OAuthProvidersCommand::List(on) => {
            let (tessera, app) = on.open().await?;
            print_json(&tessera.oauth().list_providers(&app).await?)
        }
        OAuthProvidersCommand::Get { on, provider } => {
            let (tessera, app) = on.open().await?;
            print_json(&tessera.oauth().get_provider(&app, &provider).await?)
        }
        OAuthProvidersCommand::Delete { on, provider } => {
            let (tessera, app) = on.open().await?;
            tessera.oauth().delete_provider(&app, &provider).await?;
            eprintln!("removed provider {provider}");
            Ok(())
        }
    }
}
