//! The JSON bodies of the email routes.

use serde::Deserialize;
use utoipa::ToSchema;

/// `{email}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EmailRequest {
    /// The address.
    pub(crate) email: String,
}

/// `{token}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TokenRequest {
    /// The token from the link.
    pub(crate) token: String,
}

/// `{token, new_password}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResetRequest {
    /// The token from the reset link.
    pub(crate) token: String,
    /// The new password.
    pub(crate) new_password: String,
}

/// `{new_email}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChangeRequest {
    /// The new address.
    pub(crate) new_email: String,
}

/// `{email, code}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CodeRequest {
    /// The address the code was sent to.
    pub(crate) email: String,
    /// The six-digit code.
    pub(crate) code: String,
}

/// `{email, redirect_uri?}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MagicRequest {
    /// The address.
    pub(crate) email: String,
    /// Where the link should lead (a registered URI); the hosted page otherwise.
    #[serde(default)]
    pub(crate) redirect_uri: Option<String>,
}
