//! The JSON shapes of the TOTP, recovery-code and MFA routes.

use serde::{Deserialize, Serialize};
use tessera_core::MfaStatus;
use utoipa::ToSchema;

use crate::dto::UserView;

/// `{mfa_token?}`: enrol with a sign-in's MFA token instead of a session.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TotpEnrollRequest {
    /// The `mfa_token` of a sign-in whose methods are `["totp_enroll"]`.
    #[serde(default)]
    pub(crate) mfa_token: Option<String>,
}

/// A started TOTP enrolment (shown once).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct TotpEnrollmentView {
    /// The secret, base32 (for typing it into an authenticator).
    pub(crate) secret: String,
    /// The `otpauth://totp/…` URI.
    pub(crate) otpauth_uri: String,
    /// The URI as an inline `<svg>` QR code.
    pub(crate) qr_svg: String,
}

impl From<tessera_core::TotpEnrollment> for TotpEnrollmentView {
    fn from(e: tessera_core::TotpEnrollment) -> Self {
        TotpEnrollmentView {
            secret: e.secret,
            otpauth_uri: e.otpauth_uri,
            qr_svg: e.qr_svg,
        }
    }
}

/// `{code, mfa_token?}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TotpConfirmRequest {
    /// A current code from the authenticator.
    pub(crate) code: String,
    /// The `mfa_token` the enrolment was started with (instead of a session).
    #[serde(default)]
    pub(crate) mfa_token: Option<String>,
}

/// New recovery codes (shown once).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct RecoveryCodesView {
    /// Ten single-use codes.
    pub(crate) recovery_codes: Vec<String>,
}

/// A sign-in finished by enrolling TOTP: *Tokens* plus the recovery codes.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct EnrolledTokensView {
    /// Ten single-use codes, shown once.
    pub(crate) recovery_codes: Vec<String>,
    /// Access JWT.
    pub(crate) access_token: String,
    /// Always `Bearer`.
    pub(crate) token_type: String,
    /// Seconds until the access token expires.
    pub(crate) expires_in: i64,
    /// Refresh token.
    pub(crate) refresh_token: String,
    /// The user.
    pub(crate) user: UserView,
}

/// `{password?, code?}`: re-authentication.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReauthRequest {
    /// The current password (required when the user has one).
    #[serde(default)]
    pub(crate) password: Option<String>,
    /// A current TOTP code (required when the user has no password).
    #[serde(default)]
    pub(crate) code: Option<String>,
}

/// The caller's second factors.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct MfaStatusView {
    /// TOTP is confirmed and asked for at sign-in.
    pub(crate) totp_enabled: bool,
    /// A TOTP enrolment was started but not confirmed.
    pub(crate) totp_pending: bool,
    /// Unspent recovery codes.
    pub(crate) recovery_codes_left: u32,
    /// Registered passkeys.
    pub(crate) passkeys: u32,
    /// Whether the app requires a second factor of everyone.
    pub(crate) required_by_app: bool,
}

impl From<MfaStatus> for MfaStatusView {
    fn from(s: MfaStatus) -> Self {
        MfaStatusView {
            totp_enabled: s.totp_enabled,
            totp_pending: s.totp_pending,
            recovery_codes_left: s.recovery_codes_left,
            passkeys: s.passkeys,
            required_by_app: s.required_by_app,
        }
    }
}

/// `{mfa_token, code}` or `{mfa_token, recovery_code}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MfaSignInRequest {
    /// The `mfa_token` of the sign-in.
    pub(crate) mfa_token: String,
    /// A TOTP code.
    #[serde(default)]
    pub(crate) code: Option<String>,
    /// A recovery code (spent).
    #[serde(default)]
    pub(crate) recovery_code: Option<String>,
}
