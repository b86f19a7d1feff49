//! The one error type of Tessera, with stable machine-readable codes.
//!
//! Every fallible operation in the core, in the store traits and in the faces
//! built on them returns [`Error`]. Its [`ErrorKind`] is what callers match on;
//! [`ErrorKind::code`] is the stable snake_case string that crosses process
//! boundaries (the HTTP error envelope, Python's `.code`, Kotlin's `code`).
//! Backends map their native failures (a unique violation, a lost connection)
//! onto these kinds so no caller ever parses a message.

use std::fmt;
use std::time::Duration;

/// Shorthand for results in Tessera.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, in a form callers can match on.
///
/// New kinds may be added; match with a wildcard arm.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Email or password wrong, or no such account (never says which).
    InvalidCredentials,
    /// The request is malformed (unparseable JSON, wrong content type).
    BadRequest,
    /// Input failed validation; `field` names the offending field.
    InvalidInput {
        /// The field that failed validation (`email`, `password`, `name`, …).
        field: &'static str,
    },
    /// The email address is not acceptable.
    InvalidEmail,
    /// The password breaks the policy (too short, too long, too guessable).
    WeakPassword,
    /// Another account in the pool already uses this email.
    EmailTaken,
    /// An external identity is already linked to an account.
    IdentityTaken,
    /// A unique value (slug, name) is already in use.
    Conflict,
    /// The thing asked for does not exist (or the caller may not see it).
    NotFound,
    /// The account is disabled.
    UserDisabled,
    /// The account must verify its email address first.
    EmailNotVerified,
    /// A token is malformed, forged, or unknown.
    InvalidToken,
    /// A token was valid once and has expired.
    TokenExpired,
    /// A spent refresh token was presented again; the session is revoked.
    RefreshTokenReused,
    /// The session was revoked or has expired.
    SessionExpired,
    /// No credentials were presented, or they do not identify anyone.
    Unauthenticated,
    /// The caller is known but may not do this.
    Forbidden,
    /// Too many attempts; try again after the given delay.
    RateLimited {
        /// How long to wait before trying again.
        retry_after: Duration,
    },
    /// A second factor is required to finish signing in.
    MfaRequired,
    /// An account with the external identity's email exists, but it may not be
    /// linked automatically: sign in to that account first and link explicitly.
    AccountLinkRequired,
    /// The credential or identity is the user's last way to sign in.
    LastSignInMethod,
    /// The action needs a recent sign-in or the current password again.
    ReauthenticationRequired,
    /// An external provider failed or answered something unusable.
    ProviderError,
    /// The sign-in method is not enabled for this app.
    MethodDisabled,
    /// The value is larger than allowed.
    TooLarge,
    /// The store failed (connection lost, timeout, unexpected database state).
    Storage,
    /// The configuration is unusable (missing or malformed key, bad URL).
    Config,
    /// A bug or an unexpected failure inside Tessera.
    Internal,
}

impl ErrorKind {
    /// The stable machine code of this kind, e.g. `invalid_credentials`.
    pub fn code(&self) -> &'static str {
        match self {
            ErrorKind::InvalidCredentials => "invalid_credentials",
            ErrorKind::BadRequest => "bad_request",
            ErrorKind::InvalidInput { .. } => "invalid_input",
            ErrorKind::InvalidEmail => "invalid_email",
            ErrorKind::WeakPassword => "weak_password",
            ErrorKind::EmailTaken => "email_taken",
            ErrorKind::IdentityTaken => "identity_taken",
            ErrorKind::Conflict => "conflict",
            ErrorKind::NotFound => "not_found",
            ErrorKind::UserDisabled => "user_disabled",
            ErrorKind::EmailNotVerified => "email_not_verified",
            ErrorKind::InvalidToken => "invalid_token",
            ErrorKind::TokenExpired => "token_expired",
            ErrorKind::RefreshTokenReused => "refresh_token_reused",
            ErrorKind::SessionExpired => "session_expired",
            ErrorKind::Unauthenticated => "unauthenticated",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::RateLimited { .. } => "rate_limited",
            ErrorKind::MfaRequired => "mfa_required",
            ErrorKind::AccountLinkRequired => "account_link_required",
            ErrorKind::LastSignInMethod => "last_sign_in_method",
            ErrorKind::ReauthenticationRequired => "reauthentication_required",
            ErrorKind::ProviderError => "provider_error",
            ErrorKind::MethodDisabled => "method_disabled",
            ErrorKind::TooLarge => "too_large",
            ErrorKind::Storage => "storage_error",
            ErrorKind::Config => "config_error",
            ErrorKind::Internal => "internal_error",
        }
    }

    /// A message safe to show to the end user for this kind.
    pub fn default_message(&self) -> &'static str {
        match self {
            ErrorKind::InvalidCredentials => "The email or password is incorrect.",
            ErrorKind::BadRequest => "The request is malformed.",
            ErrorKind::InvalidInput { .. } => "The request is invalid.",
            ErrorKind::InvalidEmail => "The email address is not valid.",
            ErrorKind::WeakPassword => "The password does not meet the password policy.",
            ErrorKind::EmailTaken => "An account with this email address already exists.",
            ErrorKind::IdentityTaken => "This external account is already linked to a user.",
            ErrorKind::Conflict => "The value is already in use.",
            ErrorKind::NotFound => "Not found.",
            ErrorKind::UserDisabled => "This account is disabled.",
            ErrorKind::EmailNotVerified => "The email address must be verified first.",
            ErrorKind::InvalidToken => "The token is invalid.",
            ErrorKind::TokenExpired => "The token has expired.",
            ErrorKind::RefreshTokenReused => {
                "The refresh token was already used; the session has been revoked."
            }
            ErrorKind::SessionExpired => "The session has expired or was revoked.",
            ErrorKind::Unauthenticated => "Authentication is required.",
            ErrorKind::Forbidden => "You are not allowed to do this.",
            ErrorKind::RateLimited { .. } => "Too many attempts. Try again later.",
            ErrorKind::MfaRequired => "A second factor is required.",
            ErrorKind::AccountLinkRequired => {
                "An account with this email exists. Sign in to it first, then link this provider."
            }
            ErrorKind::LastSignInMethod => {
                "This is the account's last way to sign in; add another one first."
            }
            ErrorKind::ReauthenticationRequired => "Confirm it is you to do this.",
            ErrorKind::ProviderError => "The sign-in provider failed. Try again.",
            ErrorKind::MethodDisabled => "This sign-in method is not enabled for this app.",
            ErrorKind::TooLarge => "The value is too large.",
            ErrorKind::Storage => "The store is unavailable.",
            ErrorKind::Config => "Tessera is misconfigured.",
            ErrorKind::Internal => "Internal error.",
        }
    }

    /// True for failures that are Tessera's (or its store's) fault, not the caller's.
    pub fn is_server_error(&self) -> bool {
        matches!(
            self,
            ErrorKind::Storage | ErrorKind::Config | ErrorKind::Internal
        )
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Tessera's error: a stable [`ErrorKind`], a human message and an optional cause.
///
/// The message never contains a secret; for server errors it is generic and the
/// cause (kept as [`std::error::Error::source`]) carries the detail for logs.
pub struct Error {
    kind: ErrorKind,
    message: std::borrow::Cow<'static, str>,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Error {
    /// An error of `kind` with its default message.
    pub fn new(kind: ErrorKind) -> Self {
        let message = kind.default_message().into();
        Error {
            kind,
            message,
            source: None,
        }
    }

    /// An error of `kind` with a specific message (shown to callers).
    pub fn with_message(
        kind: ErrorKind,
        message: impl Into<std::borrow::Cow<'static, str>>,
    ) -> Self {
        Error {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// Invalid input in `field`, with a message for the caller.
    pub fn invalid(
        field: &'static str,
        message: impl Into<std::borrow::Cow<'static, str>>,
    ) -> Self {
        Error::with_message(ErrorKind::InvalidInput { field }, message)
    }

    /// A storage failure with its underlying cause (kept for logs, not shown).
    pub fn storage(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Error::new(ErrorKind::Storage).with_source(source)
    }

    /// An internal failure with a description for logs.
    pub fn internal(detail: impl fmt::Display) -> Self {
        Error::new(ErrorKind::Internal).with_source(Detail(detail.to_string()))
    }

    /// A configuration failure with a message for the operator.
    pub fn config(message: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        Error::with_message(ErrorKind::Config, message)
    }

    /// Attach the underlying cause.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The stable machine code, e.g. `invalid_credentials`.
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    /// The human message (safe to show; never contains a secret).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Error::new(kind)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("code", &self.code())
            .field("message", &self.message);
        if let ErrorKind::InvalidInput { field } = &self.kind {
            d.field("field", field);
        }
        if let Some(source) = &self.source {
            d.field("source", &source.to_string());
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.message)?;
        if let Some(source) = &self.source {
            write!(f, " ({source})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

/// A plain-text cause for internal errors.
#[derive(Debug)]
struct Detail(String);

impl fmt::Display for Detail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Detail {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_snake_case() {
        let kinds = [
            ErrorKind::InvalidCredentials,
            ErrorKind::RateLimited {
                retry_after: Duration::from_secs(3),
            },
            ErrorKind::InvalidInput { field: "email" },
            ErrorKind::RefreshTokenReused,
        ];
        let codes: Vec<_> = kinds.iter().map(|k| k.code()).collect();
        assert_eq!(
            codes,
            [
                "invalid_credentials",
                "rate_limited",
                "invalid_input",
                "refresh_token_reused"
            ]
        );
    }

    #[test]
    fn display_keeps_source_for_logs() {
        let e = Error::internal("boom");
        assert_eq!(e.code(), "internal_error");
        assert!(e.to_string().contains("boom"));
        assert!(std::error::Error::source(&e).is_some());
    }
}
