//! The `tessera` binary: a thin `clap` front over `tessera_http`.
//!
//! Every flag has a `TESSERA_*` environment variable. `tessera serve` with no
//! arguments runs the development server on `./tessera.db`, port 8080.

use clap::builder::BoolishValueParser;
use clap::{Args, Parser, Subcommand};
use tessera_core::model::SigningAlg;
use tessera_http::config::{Config, LogFormat, RawConfig};
use tessera_http::server;

#[derive(Parser)]
#[command(name = "tessera", version, about = "Self-hostable user authentication")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (JSON API, hosted pages, admin API).
    Serve(Common),
    /// Run database migrations and exit.
    Migrate(Common),
    /// Signing keys and key-encryption keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Administration from the shell: apps and API keys.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Make a new signing key current; the old one stays published until its tokens expire.
    Rotate {
        #[command(flatten)]
        common: Box<Common>,
        /// Algorithm of the new key (default: TESSERA_SIGNING_ALG or EdDSA).
        #[arg(long)]
        alg: Option<String>,
    },
    /// Print a new random key-encryption key (base64) for TESSERA_KEY_ENCRYPTION_KEY.
    GenerateKek,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an app.
    CreateApp {
        #[command(flatten)]
        common: Common,
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
    },
    /// List apps.
    ListApps(Common),
    /// Create an admin API key and print its secret (shown once).
    CreateApiKey {
        #[command(flatten)]
        common: Common,
        /// Label.
        #[arg(long, default_value = "cli")]
        name: String,
        /// Scopes (repeatable; default admin).
        #[arg(long = "scope")]
        scopes: Vec<String>,
    },
    /// External sign-in providers (OAuth 2.0 / OpenID Connect) of an app.
    OauthProviders {
        #[command(subcommand)]
        command: OAuthProvidersCommand,
    },
}

#[derive(Subcommand)]
enum OAuthProvidersCommand {
    /// Create or replace a provider; prints it as JSON (never the secret).
    Put(Box<ProviderPut>),
    /// List an app's providers as JSON.
    List {
        #[command(flatten)]
        common: Common,
        /// App id or slug.
        #[arg(long, default_value = "default")]
        app: String,
    },
    /// Show one provider as JSON.
    Get {
        #[command(flatten)]
        common: Common,
        /// App id or slug.
        #[arg(long, default_value = "default")]
        app: String,
        /// Provider name.
        #[arg(long)]
        provider: String,
    },
    /// Remove a provider.
    Delete {
        #[command(flatten)]
        common: Common,
        /// App id or slug.
        #[arg(long, default_value = "default")]
        app: String,
        /// Provider name.
        #[arg(long)]
        provider: String,
    },
}

/// `tessera admin oauth-providers put`.
#[derive(Args)]
struct ProviderPut {
    #[command(flatten)]
    common: Common,
    /// App id or slug.
    #[arg(long, default_value = "default")]
    app: String,
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

/// Settings shared by every command; each flag has a TESSERA_* variable.
#[derive(Args, Clone)]
struct Common {
    /// Database URL: sqlite://PATH, postgres://…, memory://
    #[arg(long, env = "TESSERA_DATABASE_URL")]
    database_url: Option<String>,
    /// Listen address (default 0.0.0.0:$PORT or 0.0.0.0:8080).
    #[arg(long, env = "TESSERA_LISTEN")]
    listen: Option<String>,
    /// Port, used when --listen is not given.
    #[arg(long, env = "PORT")]
    port: Option<u16>,
    /// Public base URL (the token issuer).
    #[arg(long, env = "TESSERA_BASE_URL")]
    base_url: Option<String>,
    /// Key-encryption key, base64 of 32 bytes.
    #[arg(long, env = "TESSERA_KEY_ENCRYPTION_KEY", hide_env_values = true)]
    key_encryption_key: Option<String>,
    /// Old key-encryption keys still accepted, comma-separated.
    #[arg(long, env = "TESSERA_KEY_ENCRYPTION_KEY_OLD", hide_env_values = true)]
    key_encryption_key_old: Option<String>,
    /// SMTP URL: smtp://user:pass@host:port, smtps://…, ?tls=starttls|none
    #[arg(long, env = "TESSERA_SMTP_URL", hide_env_values = true)]
    smtp_url: Option<String>,
    /// From address of mail.
    #[arg(long, env = "TESSERA_MAIL_FROM")]
    mail_from: Option<String>,
    /// Bootstrap admin API key (tsk_…).
    #[arg(long, env = "TESSERA_ADMIN_API_KEY", hide_env_values = true)]
    admin_api_key: Option<String>,
    /// Log format: text or json.
    #[arg(long, env = "TESSERA_LOG_FORMAT")]
    log_format: Option<String>,
    /// Development mode (plain-HTTP cookies, loopback OAuth endpoints); 1/true/on.
    #[arg(long, env = "TESSERA_DEV", value_parser = BoolishValueParser::new(), num_args = 0..=1,
          default_value = "false", default_missing_value = "true")]
    dev: bool,
    /// Rate limits: on (default) or off.
    #[arg(long, env = "TESSERA_RATE_LIMITS")]
    rate_limits: Option<String>,
    /// Default WebAuthn relying-party id.
    #[arg(long, env = "TESSERA_WEBAUTHN_RP_ID")]
    webauthn_rp_id: Option<String>,
    /// Default WebAuthn origin.
    #[arg(long, env = "TESSERA_WEBAUTHN_ORIGIN")]
    webauthn_origin: Option<String>,
    /// Proxies whose X-Forwarded-For is trusted (addresses or CIDRs, comma-separated).
    #[arg(long, env = "TESSERA_TRUSTED_PROXIES")]
    trusted_proxies: Option<String>,
    /// Domain attribute of cookies.
    #[arg(long, env = "TESSERA_COOKIE_DOMAIN")]
    cookie_domain: Option<String>,
    /// Algorithm of new signing keys: EdDSA, ES256, RS256.
    #[arg(long, env = "TESSERA_SIGNING_ALG")]
    signing_alg: Option<String>,
    /// Do not run migrations on start.
    #[arg(long, env = "TESSERA_NO_MIGRATE", value_parser = BoolishValueParser::new(), num_args = 0..=1,
          default_value = "false", default_missing_value = "true")]
    no_migrate: bool,
}

impl Common {
    fn config(self) -> tessera_core::Result<Config> {
        RawConfig {
            database_url: self.database_url,
            listen: self.listen,
            port: self.port,
            base_url: self.base_url,
            key_encryption_key: self.key_encryption_key,
            key_encryption_key_old: self.key_encryption_key_old,
            smtp_url: self.smtp_url,
            mail_from: self.mail_from,
            admin_api_key: self.admin_api_key,
            log_format: self.log_format,
            dev: self.dev,
            rate_limits: self.rate_limits,
            webauthn_rp_id: self.webauthn_rp_id,
            webauthn_origin: self.webauthn_origin,
            trusted_proxies: self.trusted_proxies,
            cookie_domain: self.cookie_domain,
            signing_alg: self.signing_alg,
            no_migrate: self.no_migrate,
        }
        .validate()
    }
}

fn init_logs(format: LogFormat) {
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

async fn run(cli: Cli) -> tessera_core::Result<()> {
    match cli.command {
        Command::Serve(common) => {
            let config = common.config()?;
            init_logs(config.log_format);
            server::serve(config).await
        }
        Command::Migrate(common) => {
            let config = common.config()?;
            init_logs(config.log_format);
            tessera_storage::open(
                &config.database_url,
                tessera_storage::OpenOptions { migrate: true },
            )
            .await?;
            println!("migrations applied to {}", redact(&config.database_url));
            Ok(())
        }
        Command::Keys {
            command: KeysCommand::GenerateKek,
        } => {
            println!("{}", tessera_core::crypto::KeyRing::generate_base64());
            Ok(())
        }
        Command::Keys {
            command: KeysCommand::Rotate { common, alg },
        } => {
            let config = common.config()?;
            init_logs(config.log_format);
            let alg = alg
                .map(|a| {
                    SigningAlg::parse(&a).ok_or_else(|| {
                        tessera_core::Error::config("--alg must be EdDSA, ES256 or RS256")
                    })
                })
                .transpose()?;
            let tessera = server::build(&config).await?;
            let kid = tessera.tokens().rotate(alg).await?;
            println!("new signing key: {kid}");
            Ok(())
        }
        Command::Admin { command } => admin(command).await,
    }
}

async fn admin(command: AdminCommand) -> tessera_core::Result<()> {
    match command {
        AdminCommand::OauthProviders { command } => oauth_providers(command).await,
        AdminCommand::CreateApp {
            common,
            slug,
            name,
            redirect_uris,
            cors_origins,
        } => {
            let tessera = server::build(&common.config()?).await?;
            let settings = tessera_core::model::AppSettings {
                redirect_uris,
                cors_origins,
                ..Default::default()
            };
            let app = tessera
                .apps()
                .create(tessera_core::NewApp {
                    slug,
                    name,
                    pool_id: None,
                    settings: Some(settings),
                })
                .await?;
            println!("created app {} ({})", app.slug, app.id);
            Ok(())
        }
        AdminCommand::ListApps(common) => {
            let tessera = server::build(&common.config()?).await?;
            for app in tessera.apps().list(None).await? {
                println!("{}\t{}\t{}", app.id, app.slug, app.name);
            }
            Ok(())
        }
        AdminCommand::CreateApiKey {
            common,
            name,
            scopes,
        } => {
            let tessera = server::build(&common.config()?).await?;
            let scopes = if scopes.is_empty() {
                vec![tessera_core::SCOPE_ADMIN.to_owned()]
            } else {
                scopes
            };
            let created = tessera.api_keys().create(&name, &scopes, None).await?;
            eprintln!(
                "API key {} created; the secret is shown once:",
                created.key.id
            );
            println!("{}", created.secret);
            Ok(())
        }
    }
}

fn print_json(v: &impl serde::Serialize) -> tessera_core::Result<()> {
    let text = serde_json::to_string_pretty(v).map_err(tessera_core::Error::internal)?;
    println!("{text}");
    Ok(())
}

async fn oauth_providers(command: OAuthProvidersCommand) -> tessera_core::Result<()> {
    match command {
        OAuthProvidersCommand::Put(put) => {
            let p = *put;
            let tessera = server::build(&p.common.config()?).await?;
            let app = tessera.apps().resolve(&p.app).await?;
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
        OAuthProvidersCommand::List { common, app } => {
            let tessera = server::build(&common.config()?).await?;
            let app = tessera.apps().resolve(&app).await?;
            print_json(&tessera.oauth().list_providers(&app).await?)
        }
        OAuthProvidersCommand::Get {
            common,
            app,
            provider,
        } => {
            let tessera = server::build(&common.config()?).await?;
            let app = tessera.apps().resolve(&app).await?;
            print_json(&tessera.oauth().get_provider(&app, &provider).await?)
        }
        OAuthProvidersCommand::Delete {
            common,
            app,
            provider,
        } => {
            let tessera = server::build(&common.config()?).await?;
            let app = tessera.apps().resolve(&app).await?;
            tessera.oauth().delete_provider(&app, &provider).await?;
            eprintln!("removed provider {provider}");
            Ok(())
        }
    }
}

/// A database URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***@{}", &url[..s], &url[at + 1..]),
        _ => url.to_owned(),
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
