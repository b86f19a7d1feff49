//! The JSON shapes of the passkey routes (W3C JSON forms for the ceremonies).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tessera_core::{PasskeyChallenge, PasskeyInfo};
use utoipa::ToSchema;
use uuid::Uuid;

/// The first half of a WebAuthn ceremony.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct CeremonyView {
    /// Ceremony id (`tsw_…`), single use, valid for 5 minutes.
    pub(crate) ceremony: String,
    /// Options for `navigator.credentials.create()` / `.get()` in the W3C
    /// JSON form (`PublicKeyCredentialCreationOptionsJSON` /
    /// `PublicKeyCredentialRequestOptionsJSON`; buffers are base64url).
    #[serde(rename = "publicKey")]
    #[schema(value_type = Object)]
    pub(crate) public_key: Value,
}

impl From<PasskeyChallenge> for CeremonyView {
    fn from(c: PasskeyChallenge) -> Self {
        CeremonyView {
            ceremony: c.ceremony,
            public_key: c.public_key,
        }
    }
}

/// A registered passkey.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct PasskeyView {
    /// Id (for `PATCH`/`DELETE /v1/passkeys/{id}`).
    pub(crate) id: Uuid,
    /// The name the user gave it.
    pub(crate) name: String,
    /// WebAuthn credential id, base64url.
    pub(crate) credential_id: String,
    /// Authenticator model (AAGUID), when reported.
    pub(crate) aaguid: Option<String>,
    /// Whether the key may be synced between devices.
    pub(crate) backup_eligible: bool,
    /// Whether it was backed up or synced at its last use.
    pub(crate) backup_state: bool,
    /// Signature counter at the last use (0 for authenticators without one).
    pub(crate) sign_count: u32,
    /// Transports the authenticator reported.
    pub(crate) transports: Vec<String>,
    /// When it was registered.
    pub(crate) created_at: chrono::DateTime<chrono::Utc>,
    /// When it last signed in.
    pub(crate) last_used_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<PasskeyInfo> for PasskeyView {
    fn from(p: PasskeyInfo) -> Self {
        PasskeyView {
            id: p.id,
            name: p.name,
            credential_id: p.credential_id,
            aaguid: p.aaguid,
            backup_eligible: p.backup_eligible,
            backup_state: p.backup_state,
            sign_count: p.sign_count,
            transports: p.transports,
            created_at: p.created_at,
            last_used_at: p.last_used_at,
        }
    }
}

/// The caller's passkeys.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct PasskeysView {
    /// Oldest first.
    pub(crate) passkeys: Vec<PasskeyView>,
}

/// Finish a registration.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct RegisterFinishRequest {
    /// The ceremony id from `…/register/start`.
    pub(crate) ceremony: String,
    /// `PublicKeyCredential.toJSON()` of `navigator.credentials.create()`.
    #[schema(value_type = Object)]
    pub(crate) credential: Value,
    /// A name for the passkey (default "Passkey").
    #[serde(default)]
    pub(crate) name: Option<String>,
}

/// Start a passkey sign-in: `{}` for a discoverable credential (no email
/// typed), or `{email}` to list that account's passkeys.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub(crate) struct SignInStartRequest {
    /// The account's email, if the user typed one.
    #[serde(default)]
    pub(crate) email: Option<String>,
}

/// Finish a WebAuthn assertion ceremony.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct AssertionFinishRequest {
    /// The ceremony id from the matching `…/start`.
    pub(crate) ceremony: String,
    /// `PublicKeyCredential.toJSON()` of `navigator.credentials.get()`.
    #[schema(value_type = Object)]
    pub(crate) credential: Value,
}

/// Start completing an MFA challenge with a passkey.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct MfaStartRequest {
    /// The `mfa_token` of the first-factor answer.
    pub(crate) mfa_token: String,
}

/// Finish an MFA challenge with a passkey.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct MfaFinishRequest {
    /// The `mfa_token` the ceremony was started for.
    pub(crate) mfa_token: String,
    /// The ceremony id from `…/mfa/passkey/start`.
    pub(crate) ceremony: String,
    /// `PublicKeyCredential.toJSON()` of `navigator.credentials.get()`.
    #[schema(value_type = Object)]
    pub(crate) credential: Value,
}

/// Rename a passkey.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct PasskeyPatch {
    /// The new name (1 to 64 characters).
    pub(crate) name: String,
}
