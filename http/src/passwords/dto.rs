//! The JSON bodies of the password routes.

use serde::Deserialize;
use utoipa::ToSchema;

/// `POST /v1/sign-up`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SignUpRequest {
    /// Email address.
    pub(crate) email: String,
    /// Password (8 to 256 characters).
    pub(crate) password: String,
    /// Display name.
    #[serde(default)]
    pub(crate) name: Option<String>,
}

/// `POST /v1/sign-in/password`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SignInRequest {
    /// Email address.
    pub(crate) email: String,
    /// Password.
    pub(crate) password: String,
    /// The device token (`tsd_…`) this device got at its last sign-in to
    /// this account, if any (else the `tessera_device` cookie is used).
    #[serde(default)]
    pub(crate) device_token: Option<String>,
}

/// `POST /v1/password/change`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PasswordChangeRequest {
    /// The current password.
    pub(crate) current_password: String,
    /// The new password.
    pub(crate) new_password: String,
}
