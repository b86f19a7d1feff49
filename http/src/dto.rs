//! The JSON shapes of the API: what crosses the wire, documented for OpenAPI.
//!
//! These are deliberately separate from the core's domain types, so the wire
//! contract changes only on purpose.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tessera_core::AuthSession;
use tessera_core::model::{ApiKey, App, AppSettings, AuditEvent, Session, User};
use utoipa::ToSchema;
use uuid::Uuid;

/// A user.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserView {
    /// User id.
    pub id: Uuid,
    /// Pool id.
    pub pool_id: Uuid,
    /// Email (normalised).
    pub email: String,
    /// Whether the email is verified.
    pub email_verified: bool,
    /// Display name.
    pub name: Option<String>,
    /// Application metadata.
    #[schema(value_type = Object)]
    pub metadata: Value,
    /// Whether the account is disabled.
    pub disabled: bool,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        UserView {
            id: u.id,
            pool_id: u.pool_id,
            email: u.email,
            email_verified: u.email_verified,
            name: u.name,
            metadata: u.metadata,
            disabled: u.disabled,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

/// A session.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SessionView {
    /// Session id (the JWT `sid`).
    pub id: Uuid,
    /// App signed in to.
    pub app_id: Uuid,
    /// User.
    pub user_id: Uuid,
    /// Authentication methods (RFC 8176).
    pub amr: Vec<String>,
    /// User agent at sign-in.
    pub user_agent: Option<String>,
    /// IP at sign-in.
    pub ip: Option<String>,
    /// Sign-in time.
    pub created_at: DateTime<Utc>,
    /// Last use.
    pub last_seen_at: DateTime<Utc>,
    /// Absolute expiry.
    pub expires_at: DateTime<Utc>,
    /// Idle expiry.
    pub idle_expires_at: DateTime<Utc>,
    /// Revocation time, if revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Whether this is the session making the request.
    #[serde(default)]
    pub current: bool,
}

impl SessionView {
    /// A view of `s`; `current` marks the caller's own session.
    pub fn new(s: Session, current: Option<Uuid>) -> Self {
        SessionView {
            current: Some(s.id) == current,
            idle_expires_at: s.idle_expires_at(),
            id: s.id,
            app_id: s.app_id,
            user_id: s.user_id,
            amr: s.amr,
            user_agent: s.user_agent,
            ip: s.ip,
            created_at: s.created_at,
            last_seen_at: s.last_seen_at,
            expires_at: s.expires_at,
            revoked_at: s.revoked_at,
        }
    }
}

/// Tokens issued by a sign-in or refresh.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokensView {
    /// Access JWT.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Refresh token (`tsr_…`), rotated on every use.
    pub refresh_token: String,
    /// The user.
    pub user: UserView,
}

impl From<AuthSession> for TokensView {
    fn from(s: AuthSession) -> Self {
        TokensView {
            access_token: s.access_token,
            token_type: "Bearer".into(),
            expires_in: s.expires_in,
            refresh_token: s.refresh_token,
            user: s.user.into(),
        }
    }
}

/// A second factor is required to finish signing in.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MfaRequiredView {
    /// Always true.
    pub mfa_required: bool,
    /// Token to present with the second factor.
    pub mfa_token: String,
    /// Available factors.
    pub methods: Vec<String>,
}

/// The caller's session and user.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CurrentSessionView {
    /// The user.
    pub user: UserView,
    /// The session.
    pub session: SessionView,
}

/// `POST /v1/sign-up`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignUpRequest {
    /// Email address.
    pub email: String,
    /// Password (8 to 256 characters).
    pub password: String,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
}

/// Accepted, waiting for email verification.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AcceptedView {
    /// What happens next.
    pub status: String,
}

/// `POST /v1/sign-in/password`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    /// Email address.
    pub email: String,
    /// Password.
    pub password: String,
}

/// `POST /v1/token/refresh`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token.
    pub refresh_token: String,
}

/// `POST /v1/password/change`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChangeRequest {
    /// The current password.
    pub current_password: String,
    /// The new password.
    pub new_password: String,
}

/// `PATCH /v1/me`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MePatch {
    /// New display name (`null` clears it).
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
}

/// Distinguish an absent field (`None`) from `null` (`Some(None)`).
pub mod double_option {
    use serde::{Deserialize, Deserializer};

    /// Deserialize a present field, `null` included, as `Some`.
    pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

/// A list of sessions.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SessionsView {
    /// Sessions, newest first.
    pub sessions: Vec<SessionView>,
}

/// How many sessions were revoked.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RevokedView {
    /// Count.
    pub revoked: u64,
}

/// An app.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AppView {
    /// App id (OAuth `client_id`, JWT `aud`).
    pub id: Uuid,
    /// Pool id.
    pub pool_id: Uuid,
    /// Slug.
    pub slug: String,
    /// Name.
    pub name: String,
    /// Settings.
    #[schema(value_type = Object)]
    pub settings: AppSettings,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<App> for AppView {
    fn from(a: App) -> Self {
        AppView {
            id: a.id,
            pool_id: a.pool_id,
            slug: a.slug,
            name: a.name,
            settings: a.settings,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

/// A list of apps.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AppsView {
    /// Apps, oldest first.
    pub apps: Vec<AppView>,
}

/// `POST /v1/admin/apps`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppCreate {
    /// Unique slug.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Pool (default: the default pool).
    #[serde(default)]
    pub pool_id: Option<Uuid>,
    /// Settings (merged over the defaults).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub settings: Option<Value>,
}

/// `PATCH /v1/admin/apps/{app}`: a name, a slug, and/or any settings fields
/// (given at the top level or under `settings`), merged over the current ones.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AppPatch {
    /// New name.
    #[serde(default)]
    pub name: Option<String>,
    /// New slug.
    #[serde(default)]
    pub slug: Option<String>,
    /// Settings to change.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub settings: Option<Value>,
    /// Settings fields given at the top level, e.g. `redirect_uris`.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub rest: serde_json::Map<String, Value>,
}

/// A page of users.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UsersPage {
    /// Users, in id order.
    pub users: Vec<UserView>,
    /// Cursor for the next page, or null at the end.
    pub next_cursor: Option<String>,
}

/// `PATCH /v1/admin/users/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdminUserPatch {
    /// New email.
    #[serde(default)]
    pub email: Option<String>,
    /// Verified flag.
    #[serde(default)]
    pub email_verified: Option<bool>,
    /// Name (`null` clears).
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    /// Metadata (replaces).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
    /// Disable (revokes sessions) or enable.
    #[serde(default)]
    pub disabled: Option<bool>,
}

/// An audit event.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditEventView {
    /// Event id.
    pub id: Uuid,
    /// Type, e.g. `sign_in.failed`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Pool.
    pub pool_id: Option<Uuid>,
    /// App.
    pub app_id: Option<Uuid>,
    /// User.
    pub user_id: Option<Uuid>,
    /// Session.
    pub session_id: Option<Uuid>,
    /// Client IP.
    pub ip: Option<String>,
    /// Client user agent.
    pub user_agent: Option<String>,
    /// Details.
    #[schema(value_type = Object)]
    pub data: Value,
    /// When.
    pub at: DateTime<Utc>,
}

impl From<AuditEvent> for AuditEventView {
    fn from(e: AuditEvent) -> Self {
        AuditEventView {
            id: e.id,
            kind: e.kind,
            pool_id: e.pool_id,
            app_id: e.app_id,
            user_id: e.user_id,
            session_id: e.session_id,
            ip: e.ip,
            user_agent: e.user_agent,
            data: e.data,
            at: e.at,
        }
    }
}

/// A page of audit events.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditPage {
    /// Events, newest first.
    pub events: Vec<AuditEventView>,
    /// Cursor for the next (older) page.
    pub next_cursor: Option<String>,
}

/// An API key (never its secret).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ApiKeyView {
    /// Key id.
    pub id: Uuid,
    /// Label.
    pub name: String,
    /// First characters of the key.
    pub hint: String,
    /// Scopes.
    pub scopes: Vec<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last used.
    pub last_used_at: Option<DateTime<Utc>>,
    /// Expiry.
    pub expires_at: Option<DateTime<Utc>>,
    /// Revocation time.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiKey> for ApiKeyView {
    fn from(k: ApiKey) -> Self {
        ApiKeyView {
            id: k.id,
            name: k.name,
            hint: k.hint,
            scopes: k.scopes,
            created_at: k.created_at,
            last_used_at: k.last_used_at,
            expires_at: k.expires_at,
            revoked_at: k.revoked_at,
        }
    }
}

/// A list of API keys.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ApiKeysView {
    /// Keys, oldest first.
    pub api_keys: Vec<ApiKeyView>,
}

/// `POST /v1/admin/api-keys`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyCreate {
    /// Label.
    pub name: String,
    /// Scopes (default `["admin"]`).
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    /// Expiry.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// A new API key: the secret is shown here once.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedApiKeyView {
    /// The key.
    pub api_key: ApiKeyView,
    /// The secret (`tsk_…`). Store it now; it is never shown again.
    pub secret: String,
}

/// `GET /healthz`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
    /// Server version.
    pub version: String,
}
