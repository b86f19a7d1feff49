//! The wire shapes several capabilities answer: users, sessions, *Tokens*,
//! the MFA answer of a sign-in, "accepted". A capability keeps the shapes
//! only it uses in its own folder (`<capability>/dto.rs`).
//!
//! These are deliberately separate from the core's domain types, so the wire
//! contract changes only on purpose.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tessera_core::model::{Session, User};
use tessera_core::{AuthSession, SignInOutcome};
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
    /// A device token (`tsd_…`, password sign-in only): present it at this
    /// device's next sign-in (`device_token` field or `tessera_device`
    /// cookie) so guesses from other devices never lock it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_token: Option<String>,
}

impl From<AuthSession> for TokensView {
    fn from(s: AuthSession) -> Self {
        TokensView {
            access_token: s.access_token,
            token_type: "Bearer".into(),
            expires_in: s.expires_in,
            refresh_token: s.refresh_token,
            user: s.user.into(),
            device_token: None,
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
    /// A device token (`tsd_…`, password sign-in only), as in *Tokens*.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_token: Option<String>,
}

/// The JSON answer of every sign-in route: 200 *Tokens*, or 200
/// `{"mfa_required": true, "mfa_token", "methods"}` when a second factor is
/// needed.
pub struct SignInAnswer(pub SignInOutcome);

impl IntoResponse for SignInAnswer {
    fn into_response(self) -> Response {
        sign_in_response(self.0, None)
    }
}

/// The JSON answer of a sign-in, with the device token of a password
/// sign-in when there is one.
pub fn sign_in_response(outcome: SignInOutcome, device_token: Option<String>) -> Response {
    match outcome {
        SignInOutcome::Complete(s) => {
            let mut view = TokensView::from(*s);
            view.device_token = device_token;
            (StatusCode::OK, axum::Json(view)).into_response()
        }
        SignInOutcome::MfaRequired(c) => (
            StatusCode::OK,
            axum::Json(MfaRequiredView {
                mfa_required: true,
                mfa_token: c.mfa_token,
                methods: c.methods.iter().map(|m| m.as_str().to_owned()).collect(),
                device_token,
            }),
        )
            .into_response(),
    }
}

/// Accepted, waiting for email verification.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AcceptedView {
    /// What happens next.
    pub status: String,
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
