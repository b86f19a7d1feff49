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

/// Defines [`ErrorKind`] from one table: each row is a kind, its stable code
/// and its default message. The enum, [`ErrorKind::ALL`], [`ErrorKind::code`]
/// and [`ErrorKind::default_message`] all come from the same rows, so a code
/// cannot exist in one and be missing from another.
macro_rules! error_table {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $(
                $(#[$vmeta:meta])*
                $kind:ident $({
                    $( $(#[$fmeta:meta])* $field:ident : $fty:ty = $placeholder:expr ),+ $(,)?
                })? => $code:literal, $message:literal;
            )+
        }
    ) => {
        $(#[$meta])*
        pub enum $name {
            $(
                $(#[$vmeta])*
                $kind $({ $( $(#[$fmeta])* $field: $fty ),+ })?,
            )+
        }

        impl $name {
            /// One value of every kind, in table order. The data of a kind that
            /// carries some is a placeholder (`field: ""`, `retry_after: 0`).
            /// Faces iterate this to prove they handle every code.
            pub const ALL: &'static [$name] = &[
                $( $name::$kind $({ $( $field: $placeholder ),+ })?, )+
            ];

            /// The stable machine code of this kind, e.g. `invalid_credentials`.
            pub fn code(&self) -> &'static str {
                match self {
                    $( $name::$kind $({ $( $field: _ ),+ })? => $code, )+
                }
            }

            /// A message safe to show to the end user for this kind.
            pub fn default_message(&self) -> &'static str {
                match self {
                    $( $name::$kind $({ $( $field: _ ),+ })? => $message, )+
                }
            }
        }
    };
}

error_table! {
    /// What went wrong, in a form callers can match on.
    ///
    /// Deliberately not `#[non_exhaustive]`: every face maps every kind (the
    /// HTTP status, the binding exceptions), and a new kind must fail to
    /// compile there until it is handled. Code outside this workspace that
    /// matches on kinds should keep a wildcard arm: kinds are added in minor
    /// releases.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum ErrorKind {
        /// Email or password wrong, or no such account (never says which).
        InvalidCredentials => "invalid_credentials", "The email or password is incorrect.";
        /// The request is malformed (unparseable JSON, wrong content type).
        BadRequest => "bad_request", "The request is malformed.";
        /// Input failed validation; `field` names the offending field.
        InvalidInput {
            /// The field that failed validation (`email`, `password`, `name`, …).
            field: &'static str = "",
        } => "invalid_input", "The request is invalid.";
        /// The email address is not acceptable.
        InvalidEmail => "invalid_email", "The email address is not valid.";
        /// The password breaks the policy (too short, too long, too guessable).
        WeakPassword => "weak_password", "The password does not meet the password policy.";
        /// Another account in the pool already uses this email.
        EmailTaken => "email_taken", "An account with this email address already exists.";
        /// An external identity is already linked to an account.
        IdentityTaken => "identity_taken", "This external account is already linked to a user.";
        /// A unique value (slug, name) is already in use.
        Conflict => "conflict", "The value is already in use.";
        /// The thing asked for does not exist (or the caller may not see it).
        NotFound => "not_found", "Not found.";
        /// The account is disabled.
        UserDisabled => "user_disabled", "This account is disabled.";
        /// The account must verify its email address first.
        EmailNotVerified => "email_not_verified", "The email address must be verified first.";
        /// A token is malformed, forged, or unknown.
        InvalidToken => "invalid_token", "The token is invalid.";
        /// A token was valid once and has expired.
        TokenExpired => "token_expired", "The token has expired.";
        /// A spent refresh token was presented again; the session is revoked.
        RefreshTokenReused => "refresh_token_reused",
            "The refresh token was already used; the session has been revoked.";
        /// The session was revoked or has expired.
        SessionExpired => "session_expired", "The session has expired or was revoked.";
        /// No credentials were presented, or they do not identify anyone.
        Unauthenticated => "unauthenticated", "Authentication is required.";
        /// The caller is known but may not do this.
        Forbidden => "forbidden", "You are not allowed to do this.";
        /// Too many attempts; try again after the given delay.
        RateLimited {
            /// How long to wait before trying again.
            retry_after: Duration = Duration::ZERO,
        } => "rate_limited", "Too many attempts. Try again later.";
        /// A second factor is required to finish signing in.
        MfaRequired => "mfa_required", "A second factor is required.";
        /// An account with the external identity's email exists, but it may not be
        /// linked automatically: sign in to that account first and link explicitly.
        AccountLinkRequired => "account_link_required",
            "An account with this email exists. Sign in to it first, then link this provider.";
        /// The credential or identity is the user's last way to sign in.
        LastSignInMethod => "last_sign_in_method",
            "This is the account's last way to sign in; add another one first.";
        /// The action needs a recent sign-in or the current password again.
        ReauthenticationRequired => "reauthentication_required", "Confirm it is you to do this.";
        /// An external provider failed or answered something unusable.
        ProviderError => "provider_error", "The sign-in provider failed. Try again.";
        /// The sign-in method is not enabled for this app.
        MethodDisabled => "method_disabled", "This sign-in method is not enabled for this app.";
        /// A webhook endpoint URL is malformed, not `https://`, or reaches a
        /// loopback, private, link-local or metadata address.
        InvalidWebhookUrl => "invalid_webhook_url",
            "The webhook URL is not allowed: it must be https:// and reach a public address.";
        /// The value is larger than allowed.
        TooLarge => "too_large", "The value is too large.";
        /// The store failed (connection lost, timeout, unexpected database state).
        Storage => "storage_error", "The store is unavailable.";
        /// The configuration is unusable (missing or malformed key, bad URL).
        Config => "config_error", "Tessera is misconfigured.";
        /// A bug or an unexpected failure inside Tessera.
        Internal => "internal_error", "Internal error.";
    }
}

impl ErrorKind {
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

    /// Every code is unique snake_case with a message, and `ALL` holds
    /// each kind once (a kind added to the table is in `ALL` by construction;
    /// this pins that the codes stay distinct).
    #[test]
    fn the_table_has_distinct_snake_case_codes() {
        let mut seen = std::collections::BTreeSet::new();
        for kind in ErrorKind::ALL {
            let code = kind.code();
            assert!(
                !code.is_empty() && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{code} is not snake_case"
            );
            assert!(seen.insert(code), "{code} appears twice");
            assert!(kind.default_message().ends_with('.'), "{code}");
        }
        assert_eq!(seen.len(), 29);
        assert_eq!(
            ErrorKind::ALL
                .iter()
                .filter(|k| k.is_server_error())
                .map(ErrorKind::code)
                .collect::<Vec<_>>(),
            ["storage_error", "config_error", "internal_error"]
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
