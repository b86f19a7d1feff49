//! `tessera admin webhooks …`: webhook endpoints and their delivery log,
//! printed as JSON. The secret is printed once, by `create` and
//! `rotate-secret`; nothing else ever shows it.

use clap::{Args, Subcommand};
use serde_json::{Value, json};
use uuid::Uuid;

use tessera_core::model::{DeliveryQuery, WebhookEndpointPatch};
use tessera_core::{Error, NewWebhookEndpoint, Tessera, WebhookSecret};

use crate::config::RawConfig;
use crate::server;

#[derive(Subcommand)]
pub(crate) enum WebhooksCommand {
    /// Create an endpoint; prints it with its secret (shown once).
    Create(Create),
    /// List endpoints (of one app with --app).
    List {
        #[command(flatten)]
        common: RawConfig,
        /// Only this app's endpoints (id or slug).
        #[arg(long)]
        app: Option<String>,
    },
    /// Show one endpoint.
    Get(On),
    /// Change an endpoint.
    Update(Update),
    /// Delete an endpoint and its delivery log.
    Delete(On),
    /// Give an endpoint a new secret; prints it (shown once).
    RotateSecret {
        #[command(flatten)]
        on: On,
        /// How long the old secret keeps signing, in seconds (default 86400).
        #[arg(long)]
        keep_old_secs: Option<i64>,
    },
    /// Send a `webhook.test` event to an endpoint now; prints the delivery.
    Test(On),
    /// An endpoint's delivery log, newest first.
    Deliveries {
        #[command(flatten)]
        on: On,
        /// Only pending, succeeded or failed deliveries.
        #[arg(long)]
        status: Option<String>,
        /// How many (default 100).
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Make a delivery pending again and deliver it now.
    Retry {
        #[command(flatten)]
        on: On,
        /// Delivery id.
        #[arg(long)]
        delivery: Uuid,
    },
}

/// The configuration and the endpoint a command works on.
#[derive(Args)]
pub(crate) struct On {
    #[command(flatten)]
    common: RawConfig,
    /// Endpoint id.
    #[arg(long)]
    id: Uuid,
}

/// `tessera admin webhooks create`.
#[derive(Args)]
pub(crate) struct Create {
    #[command(flatten)]
    common: RawConfig,
    /// Where events are POSTed (https://).
    #[arg(long)]
    url: String,
    /// The app whose events it receives (id or slug); every event when omitted.
    #[arg(long)]
    app: Option<String>,
    /// Event filter (repeatable): a type, prefix.* or * (default *).
    #[arg(long = "event")]
    events: Vec<String>,
    /// A note for people.
    #[arg(long)]
    description: Option<String>,
    /// Also sign with Ed25519 (v1a); the public key is printed.
    #[arg(long)]
    asymmetric: bool,
}

/// `tessera admin webhooks update`.
#[derive(Args)]
pub(crate) struct Update {
    #[command(flatten)]
    on: On,
    /// New URL.
    #[arg(long)]
    url: Option<String>,
    /// New event filters (repeatable; replace the old ones).
    #[arg(long = "event")]
    events: Vec<String>,
    /// New description ("" clears it).
    #[arg(long)]
    description: Option<String>,
    /// Enable (true) or disable (false).
    #[arg(long)]
    enabled: Option<bool>,
}

async fn open(common: RawConfig) -> tessera_core::Result<Tessera> {
    server::open(&common.validate()?).await
}

fn print(value: &impl serde::Serialize) -> tessera_core::Result<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Error::internal("cannot print JSON").with_source(e))?;
    println!("{text}");
    Ok(())
}

fn with_secret(s: &WebhookSecret) -> Value {
    json!({ "endpoint": s.endpoint, "secret": s.secret })
}

/// Run a `webhooks` command.
pub(crate) async fn run(command: WebhooksCommand) -> tessera_core::Result<()> {
    match command {
        WebhooksCommand::Create(c) => {
            let t = open(c.common).await?;
            let app_id = match &c.app {
                Some(a) => Some(t.apps().resolve(a).await?.id),
                None => None,
            };
            let created = t
                .webhooks()
                .create(&NewWebhookEndpoint {
                    app_id,
                    url: c.url,
                    events: c.events,
                    description: c.description,
                    asymmetric: c.asymmetric,
                })
                .await?;
            eprintln!("the secret is shown once; store it now");
            print(&with_secret(&created))
        }
        WebhooksCommand::List { common, app } => {
            let t = open(common).await?;
            let app_id = match &app {
                Some(a) => Some(t.apps().resolve(a).await?.id),
                None => None,
            };
            print(&t.webhooks().list(app_id).await?)
        }
        WebhooksCommand::Get(on) => {
            let t = open(on.common).await?;
            print(&t.webhooks().get(on.id).await?)
        }
        WebhooksCommand::Update(u) => {
            let t = open(u.on.common).await?;
            let patch = WebhookEndpointPatch {
                url: u.url,
                description: u.description.map(|d| Some(d).filter(|d| !d.is_empty())),
                events: (!u.events.is_empty()).then_some(u.events),
                enabled: u.enabled,
            };
            print(&t.webhooks().update(u.on.id, &patch).await?)
        }
        WebhooksCommand::Delete(on) => {
            let t = open(on.common).await?;
            t.webhooks().delete(on.id).await?;
            print(&json!({ "deleted": on.id }))
        }
        WebhooksCommand::RotateSecret { on, keep_old_secs } => {
            let t = open(on.common).await?;
            let rotated = t.webhooks().rotate_secret(on.id, keep_old_secs).await?;
            eprintln!("the secret is shown once; store it now");
            print(&with_secret(&rotated))
        }
        WebhooksCommand::Test(on) => {
            let t = open(on.common).await?;
            let delivery = t.webhooks().send_test(on.id).await?;
            // A one-shot command runs no worker: deliver what is due now.
            t.webhooks().deliver_pending().await?;
            print(&t.webhooks().delivery(on.id, delivery.id).await?)
        }
        WebhooksCommand::Deliveries { on, status, limit } => {
            let t = open(on.common).await?;
            let query = DeliveryQuery::from_params(status.as_deref(), None, limit)?;
            print(&t.webhooks().deliveries(on.id, &query).await?)
        }
        WebhooksCommand::Retry { on, delivery } => {
            let t = open(on.common).await?;
            t.webhooks().retry(on.id, delivery).await?;
            t.webhooks().deliver_pending().await?;
            print(&t.webhooks().delivery(on.id, delivery).await?)
        }
    }
}
