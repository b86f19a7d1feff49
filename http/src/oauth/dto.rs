//! The query strings and JSON shapes of the OAuth routes.

use serde::{Deserialize, Serialize};
use tessera_core::model::Identity;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Query of the start route.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct StartQuery {
    /// App id or slug (or the `X-Tessera-App` header; the default app otherwise).
    pub(crate) app: Option<String>,
    /// Where the flow ends (a registered URI): it receives `?code=`. Without
    /// it the flow is a hosted one and ends with session cookies.
    pub(crate) redirect_uri: Option<String>,
    /// The app's PKCE challenge (S256); the exchange then needs the verifier.
    pub(crate) code_challenge: Option<String>,
    /// Must be `S256` when given.
    pub(crate) code_challenge_method: Option<String>,
    /// `true`: link the provider to the signed-in caller instead of signing in.
    pub(crate) link: Option<bool>,
}

/// The JSON answer of a start.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AuthorizationView {
    /// Send the browser here.
    pub(crate) authorization_url: String,
}

/// What providers send to the callback (query or form).
#[derive(Debug, Default, Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub(crate) struct CallbackQuery {
    /// The `state` of the start.
    pub(crate) state: Option<String>,
    /// The authorization code.
    pub(crate) code: Option<String>,
    /// An OAuth error (`access_denied`, …).
    pub(crate) error: Option<String>,
    /// Apple: the user's name, on the first sign-in only (JSON).
    pub(crate) user: Option<String>,
}

/// Body of the exchange.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct ExchangeRequest {
    /// The `code` the callback sent to the redirect URI (`tso_…`).
    pub(crate) code: String,
    /// The PKCE verifier, required when the start carried a `code_challenge`.
    #[serde(default)]
    pub(crate) code_verifier: Option<String>,
}

/// A linked identity.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct IdentityView {
    /// Identity id.
    pub(crate) id: Uuid,
    /// Provider name.
    pub(crate) provider: String,
    /// The provider's user id.
    pub(crate) subject: String,
    /// The email the provider reported.
    pub(crate) email: Option<String>,
    /// Whether the provider asserted it is verified.
    pub(crate) email_verified: bool,
    /// When it was linked.
    pub(crate) created_at: chrono::DateTime<chrono::Utc>,
    /// When it last signed in.
    pub(crate) last_used_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<Identity> for IdentityView {
    fn from(i: Identity) -> Self {
        IdentityView {
            id: i.id,
            provider: i.provider,
            subject: i.subject,
            email: i.email,
            email_verified: i.email_verified,
            created_at: i.created_at,
            last_used_at: i.last_used_at,
        }
    }
}

/// The caller's identities.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct IdentitiesView {
    /// Oldest first.
    pub(crate) identities: Vec<IdentityView>,
}
