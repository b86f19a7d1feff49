//! The one error of the binding: a variant per code family, each carrying the
//! stable `code` and a human `detail`.
//!
//! Kotlin sees `sealed class TesseraException` (uniffi renames `…Error` to
//! `…Exception`) with one subclass per variant, so callers can `catch` a
//! specific case or read `e.code` (an extension property in the Kotlin
//! sources) on any of them. The human text is called `detail`, not `message`:
//! Kotlin's `Throwable.message` already exists, and uniffi 0.32 generates
//! uncompilable Kotlin for an error field named `message`. The generated
//! `message` reads `code=…, detail=…`.

use tessera_core::{Error, ErrorKind};

use crate::mfa::MfaChallenge;

/// A Tessera failure, by code family. `code` is always
/// [`tessera_core::ErrorKind::code`] (`invalid_credentials`, …), also for
/// [`TesseraError::Other`], which holds every code without a variant of its own.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
#[non_exhaustive]
pub enum TesseraError {
    /// Email or password wrong, or no such account (`invalid_credentials`).
    #[error("{code}: {detail}")]
    InvalidCredentials {
        /// The stable machine code.
        code: String,
        /// A message safe to show.
        detail: String,
    },
    /// Too many attempts (`rate_limited`); retry after `retry_after_secs`.
    #[error("{code}: {detail}")]
    RateLimited {
        /// The stable machine code.
        code: String,
        /// A message safe to show.
        detail: String,
        /// Seconds to wait before trying again (rounded up).
        retry_after_secs: i64,
    },
    /// Another account of the pool uses this email (`email_taken`).
    #[error("{code}: {detail}")]
    EmailTaken {
        /// The stable machine code.
        code: String,
        /// A message safe to show.
        detail: String,
    },
    /// A token is malformed, forged or unknown (`invalid_token`).
    #[error("{code}: {detail}")]
    InvalidToken {
        /// The stable machine code.
        code: String,
        /// A message safe to show.
        detail: String,
    },
    /// A token was valid once and has expired (`token_expired`).
    #[error("{code}: {detail}")]
    TokenExpired {
        /// The stable machine code.
        code: String,
        /// A message safe to show.
        detail: String,
    },
    /// A spent refresh token was presented again; its session is now revoked
    /// (`refresh_token_reused`).
    #[error("{code}: {detail}")]
    RefreshTokenReused {
        /// The stable machine code.
        code: String,
        /// A message safe to show.
        detail: String,
    },
    /// The session was revoked or has expired (`session_expired`).
    #[error("{code}: {detail}")]
    SessionExpired {
        /// The stable machine code.
        code: String,
        /// A message safe to show.
        detail: String,
    },
    /// No credentials, or they identify no one (`unauthenticated`), e.g. an
    /// unknown session token.
    #[error("{code}: {detail}")]
    Unauthenticated {
        /// The stable machine code.
        code: String,
        /// A message safe to show.
        detail: String,
    },
    /// The caller may not do this (`forbidden`), e.g. an API key without the scope.
    #[error("{code}: {detail}")]
    Forbidden {
        /// The stable machine code.
        code: String,
        /// A message safe to show.
        detail: String,
    },
    /// The password breaks the policy (`weak_password`).
    #[error("{code}: {detail}")]
    WeakPassword {
        /// The stable machine code.
        code: String,
        /// A message safe to show.
        detail: String,
    },
    /// The email address is not acceptable (`invalid_email`).
    #[error("{code}: {detail}")]
    InvalidEmail {
        /// The stable machine code.
        code: String,
        /// A message safe to show.
        detail: String,
    },
    /// An argument failed validation (`invalid_input`); `field` names it.
    #[error("{code}: {detail}")]
    InvalidInput {
        /// The stable machine code.
        code: String,
        /// A message safe to show.
        detail: String,
        /// The offending field or argument (`email`, `user_id`, …).
        field: String,
    },
    /// The thing asked for does not exist (`not_found`).
    #[error("{code}: {detail}")]
    NotFound {
        /// The stable machine code.
        code: String,
        /// A message safe to show.
        detail: String,
    },
    /// A unique value (slug, name) is taken (`conflict`).
    #[error("{code}: {detail}")]
    Conflict {
        /// The stable machine code.
        code: String,
        /// A message safe to show.
        detail: String,
    },
    /// The account is disabled (`user_disabled`).
    #[error("{code}: {detail}")]
    UserDisabled {
        /// The stable machine code.
        code: String,
        /// A message safe to show.
        detail: String,
    },
    /// The account must verify its email first (`email_not_verified`).
    #[error("{code}: {detail}")]
    EmailNotVerified {
        /// The stable machine code.
        code: String,
        /// A message safe to show.
        detail: String,
    },
    /// A second factor is required (`mfa_required`): a first-factor sign-in
    /// (password, email code, magic link, OAuth exchange) succeeded and
    /// `challenge` says how to finish it (`completeMfaWithTotp`, …). In Kotlin
    /// `e.mfaToken` and `e.methods` read it; the exception's message and
    /// `toString()` never show the token.
    #[error("{code}: {detail}")]
    MfaRequired {
        /// The stable machine code.
        code: String,
        /// A message safe to show.
        detail: String,
        /// The token to finish the sign-in with, and the factors it accepts.
        challenge: MfaChallenge,
    },
    /// The sign-in method is not enabled for the app (`method_disabled`).
    #[error("{code}: {detail}")]
    MethodDisabled {
        /// The stable machine code.
        code: String,
        /// A message safe to show.
        detail: String,
    },
    /// The external account's email matches an existing account that it
    /// may not join on its own: sign in to that account and link the provider
    /// there (`account_link_required`).
    #[error("{code}: {detail}")]
    AccountLinkRequired {
        /// The stable machine code.
        code: String,
        /// A message safe to show.
        detail: String,
    },
    /// Removing this would leave the user no way to sign in
    /// (`last_sign_in_method`).
    #[error("{code}: {detail}")]
    LastSignInMethod {
        /// The stable machine code.
        code: String,
        /// A message safe to show.
        detail: String,
    },
    /// The action needs fresh proof (the password, or a TOTP code) beyond a
    /// session (`reauthentication_required`).
    #[error("{code}: {detail}")]
    ReauthenticationRequired {
        /// The stable machine code.
        code: String,
        /// A message safe to show.
        detail: String,
    },
    /// An external sign-in provider failed or answered badly (`provider_error`).
    #[error("{code}: {detail}")]
    ProviderFailed {
        /// The stable machine code.
        code: String,
        /// A message safe to show.
        detail: String,
    },
    /// Every other code: `bad_request`, `identity_taken`, `too_large`,
    /// `storage_error`, `config_error`, `internal_error`, and kinds added later.
    #[error("{code}: {detail}")]
    Other {
        /// The stable machine code.
        code: String,
        /// A message safe to show (generic for server errors).
        detail: String,
    },
}

impl TesseraError {
    /// The stable machine code, e.g. `invalid_credentials`.
    pub fn code(&self) -> &str {
        match self {
            TesseraError::InvalidCredentials { code, .. }
            | TesseraError::RateLimited { code, .. }
            | TesseraError::EmailTaken { code, .. }
            | TesseraError::InvalidToken { code, .. }
            | TesseraError::TokenExpired { code, .. }
            | TesseraError::RefreshTokenReused { code, .. }
            | TesseraError::SessionExpired { code, .. }
            | TesseraError::Unauthenticated { code, .. }
            | TesseraError::Forbidden { code, .. }
            | TesseraError::WeakPassword { code, .. }
            | TesseraError::InvalidEmail { code, .. }
            | TesseraError::InvalidInput { code, .. }
            | TesseraError::NotFound { code, .. }
            | TesseraError::Conflict { code, .. }
            | TesseraError::UserDisabled { code, .. }
            | TesseraError::EmailNotVerified { code, .. }
            | TesseraError::MfaRequired { code, .. }
            | TesseraError::MethodDisabled { code, .. }
            | TesseraError::AccountLinkRequired { code, .. }
            | TesseraError::LastSignInMethod { code, .. }
            | TesseraError::ReauthenticationRequired { code, .. }
            | TesseraError::ProviderFailed { code, .. }
            | TesseraError::Other { code, .. } => code,
        }
    }

    /// An `invalid_input` error for an argument of the binding itself (a
    /// malformed id, bad JSON).
    pub(crate) fn invalid(field: &str, detail: impl Into<String>) -> Self {
        TesseraError::InvalidInput {
            code: ErrorKind::InvalidInput { field: "" }.code().to_owned(),
            detail: detail.into(),
            field: field.to_owned(),
        }
    }
}

impl TesseraError {
    /// `MfaRequired` carrying the challenge of a first-factor sign-in (and,
    /// for a password sign-in, the device token it earned).
    pub(crate) fn mfa_required(
        challenge: tessera_core::MfaChallenge,
        device_token: Option<String>,
    ) -> Self {
        let kind = ErrorKind::MfaRequired;
        TesseraError::MfaRequired {
            code: kind.code().to_owned(),
            detail: kind.default_message().to_owned(),
            challenge: MfaChallenge {
                mfa_token: challenge.mfa_token,
                methods: challenge
                    .methods
                    .iter()
                    .map(|m| m.as_str().to_owned())
                    .collect(),
                device_token,
            },
        }
    }
}

impl From<Error> for TesseraError {
    fn from(e: Error) -> Self {
        let code = e.code().to_owned();
        let detail = e.message().to_owned();
        match e.kind() {
            ErrorKind::InvalidCredentials => TesseraError::InvalidCredentials { code, detail },
            ErrorKind::RateLimited { retry_after } => TesseraError::RateLimited {
                code,
                detail,
                retry_after_secs: i64::try_from(
                    retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0),
                )
                .unwrap_or(i64::MAX),
            },
            ErrorKind::EmailTaken => TesseraError::EmailTaken { code, detail },
            ErrorKind::InvalidToken => TesseraError::InvalidToken { code, detail },
            ErrorKind::TokenExpired => TesseraError::TokenExpired { code, detail },
            ErrorKind::RefreshTokenReused => TesseraError::RefreshTokenReused { code, detail },
            ErrorKind::SessionExpired => TesseraError::SessionExpired { code, detail },
            ErrorKind::Unauthenticated => TesseraError::Unauthenticated { code, detail },
            ErrorKind::Forbidden => TesseraError::Forbidden { code, detail },
            ErrorKind::WeakPassword => TesseraError::WeakPassword { code, detail },
            ErrorKind::InvalidEmail => TesseraError::InvalidEmail { code, detail },
            ErrorKind::InvalidInput { field } => TesseraError::InvalidInput {
                code,
                detail,
                field: (*field).to_owned(),
            },
            ErrorKind::NotFound => TesseraError::NotFound { code, detail },
            ErrorKind::Conflict => TesseraError::Conflict { code, detail },
            ErrorKind::UserDisabled => TesseraError::UserDisabled { code, detail },
            ErrorKind::EmailNotVerified => TesseraError::EmailNotVerified { code, detail },
            // Only a sign-in outcome carries a challenge (see `mfa_required`).
            ErrorKind::MfaRequired => TesseraError::MfaRequired {
                code,
                detail,
                challenge: MfaChallenge {
                    mfa_token: String::new(),
                    methods: Vec::new(),
                    device_token: None,
                },
            },
            ErrorKind::MethodDisabled => TesseraError::MethodDisabled { code, detail },
            ErrorKind::AccountLinkRequired => TesseraError::AccountLinkRequired { code, detail },
            ErrorKind::LastSignInMethod => TesseraError::LastSignInMethod { code, detail },
            ErrorKind::ReauthenticationRequired => {
                TesseraError::ReauthenticationRequired { code, detail }
            }
            ErrorKind::ProviderError => TesseraError::ProviderFailed { code, detail },
            // A refused webhook URL is bad input about `url`, with its own code.
            ErrorKind::InvalidWebhookUrl => TesseraError::InvalidInput {
                code,
                detail,
                field: "url".to_owned(),
            },
            // Listed, not a wildcard: a new kind must be placed here on purpose.
            ErrorKind::BadRequest
            | ErrorKind::IdentityTaken
            | ErrorKind::TooLarge
            | ErrorKind::Storage
            | ErrorKind::Config
            | ErrorKind::Internal => TesseraError::Other { code, detail },
        }
    }
}

/// The error Tessera raises for a stable `code` (`email_taken`, …), with the
/// code's default message; `Other` for a code this version does not know.
/// For callers that get a code from elsewhere (the HTTP API's error envelope,
/// a stored result) and want the same typed exception.
#[uniffi::export]
pub fn error_for_code(code: String) -> TesseraError {
    match ErrorKind::ALL.iter().find(|k| k.code() == code) {
        Some(kind) => Error::new(kind.clone()).into(),
        None => TesseraError::Other {
            code,
            detail: "Unknown error code.".to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Every core code keeps its code through the binding, and only the
    /// documented codes fall to `Other`.
    #[test]
    fn every_core_code_has_a_variant() {
        let mut other = Vec::new();
        for kind in ErrorKind::ALL {
            let e = error_for_code(kind.code().to_owned());
            assert_eq!(e.code(), kind.code());
            assert!(e.to_string().ends_with(kind.default_message()), "{e}");
            if matches!(e, TesseraError::Other { .. }) {
                other.push(kind.code());
            }
        }
        assert_eq!(
            other,
            [
                "bad_request",
                "identity_taken",
                "too_large",
                "storage_error",
                "config_error",
                "internal_error"
            ]
        );
        assert!(matches!(
            error_for_code("from_the_future".into()),
            TesseraError::Other { code, .. } if code == "from_the_future"
        ));
    }

    #[test]
    fn keeps_code_and_rounds_retry_after_up() {
        let e: TesseraError = Error::new(ErrorKind::RateLimited {
            retry_after: Duration::from_millis(1500),
        })
        .into();
        assert_eq!(e.code(), "rate_limited");
        assert!(matches!(
            e,
            TesseraError::RateLimited {
                retry_after_secs: 2,
                ..
            }
        ));
        let e: TesseraError = Error::internal("secret detail").into();
        assert_eq!(e.code(), "internal_error");
        assert!(!e.to_string().contains("secret detail"));
        assert_eq!(
            TesseraError::invalid("user_id", "not a UUID").code(),
            "invalid_input"
        );
    }
}
