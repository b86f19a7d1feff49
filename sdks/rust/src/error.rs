//! The SDK's one error type and its stable kinds.
//!
//! Every failure — a refused token, a refused webhook, a server-API error —
//! is an [`Error`] whose [`ErrorKind`] has a stable snake_case
//! [`code`](ErrorKind::code), so callers branch on kinds, never on messages.
//! Token and webhook codes match the `error` names of the shared vectors in
//! `sdks/testdata/`.

use std::borrow::Cow;
use std::fmt;

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why an operation failed.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The request carries no access token.
    MissingToken,
    /// The token or webhook is not well-formed.
    Malformed,
    /// The header `alg` is not EdDSA, ES256 or RS256, or not the algorithm of
    /// the key its `kid` names.
    UnsupportedAlgorithm,
    /// The header `typ` is not `at+jwt` (RFC 9068), e.g. an ID token.
    InvalidTokenType,
    /// The `kid` is not in the JWKS, even after a refetch.
    UnknownKey,
    /// The signature does not match (token or webhook).
    InvalidSignature,
    /// `exp` is past, beyond the leeway.
    Expired,
    /// `nbf` is in the future, beyond the leeway.
    NotYetValid,
    /// `iss` is not the expected issuer.
    InvalidIssuer,
    /// `aud` does not contain the expected audience.
    InvalidAudience,
    /// The JWKS could not be fetched or read.
    JwksUnavailable,
    /// `webhook-timestamp` is more than five minutes from now.
    TimestampOutOfTolerance,
    /// A webhook secret is not `whsec_` followed by base64.
    InvalidSecret,
    /// Tessera answered with an error; see [`Error::status`] and
    /// [`Error::code`] (one of [`api_code`]).
    Api,
    /// The request did not finish within the timeout.
    Timeout,
    /// The request could not be sent or its answer read.
    Transport,
    /// Tessera's answer was not the JSON this SDK expects.
    Decode,
}

impl ErrorKind {
    /// The stable machine-readable code, e.g. `"expired"`.
    pub fn code(self) -> &'static str {
        match self {
            Self::MissingToken => "missing_token",
            Self::Malformed => "malformed",
            Self::UnsupportedAlgorithm => "unsupported_algorithm",
            Self::InvalidTokenType => "invalid_token_type",
            Self::UnknownKey => "unknown_key",
            Self::InvalidSignature => "invalid_signature",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::InvalidIssuer => "invalid_issuer",
            Self::InvalidAudience => "invalid_audience",
            Self::JwksUnavailable => "jwks_unavailable",
            Self::TimestampOutOfTolerance => "timestamp_out_of_tolerance",
            Self::InvalidSecret => "invalid_secret",
            Self::Api => "api",
            Self::Timeout => "timeout",
            Self::Transport => "transport",
            Self::Decode => "decode",
        }
    }

    /// Whether this kind means "the caller is not authenticated" (a missing
    /// or refused token), as opposed to a failure on our side.
    pub fn is_unauthenticated(self) -> bool {
        !matches!(
            self,
            Self::JwksUnavailable | Self::Api | Self::Timeout | Self::Transport | Self::Decode
        )
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The codes of Tessera's error envelope: what [`Error::code`] returns for an
/// [`ErrorKind::Api`] error, one constant per code, so callers compare with
/// `e.code() == api_code::EMAIL_TAKEN` instead of spelling strings. The list
/// is checked against `sdks/testdata/error-codes.json` (generated from the
/// server) by this crate's tests.
pub mod api_code {
    /// Email or password wrong, or no such account (never says which).
    pub const INVALID_CREDENTIALS: &str = "invalid_credentials";
    /// The request is malformed (unparseable JSON, wrong content type).
    pub const BAD_REQUEST: &str = "bad_request";
    /// Input failed validation; `field` names the offending field.
    pub const INVALID_INPUT: &str = "invalid_input";
    /// The email address is not acceptable.
    pub const INVALID_EMAIL: &str = "invalid_email";
    /// The password breaks the policy (too short, too long, too guessable).
    pub const WEAK_PASSWORD: &str = "weak_password";
    /// Another account in the pool already uses this email.
    pub const EMAIL_TAKEN: &str = "email_taken";
    /// An external identity is already linked to an account.
    pub const IDENTITY_TAKEN: &str = "identity_taken";
    /// A unique value (slug, name) is already in use.
    pub const CONFLICT: &str = "conflict";
    /// The thing asked for does not exist (or the caller may not see it).
    pub const NOT_FOUND: &str = "not_found";
    /// The account is disabled.
    pub const USER_DISABLED: &str = "user_disabled";
    /// The account must verify its email address first.
    pub const EMAIL_NOT_VERIFIED: &str = "email_not_verified";
    /// A token is malformed, forged, or unknown.
    pub const INVALID_TOKEN: &str = "invalid_token";
    /// A token was valid once and has expired.
    pub const TOKEN_EXPIRED: &str = "token_expired";
    /// A spent refresh token was presented again; the session is revoked.
    pub const REFRESH_TOKEN_REUSED: &str = "refresh_token_reused";
    /// The session was revoked or has expired.
    pub const SESSION_EXPIRED: &str = "session_expired";
    /// No credentials were presented, or they do not identify anyone.
    pub const UNAUTHENTICATED: &str = "unauthenticated";
    /// The caller is known but may not do this.
    pub const FORBIDDEN: &str = "forbidden";
    /// Too many attempts; try again after the given delay.
    pub const RATE_LIMITED: &str = "rate_limited";
    /// A second factor is required to finish signing in.
    pub const MFA_REQUIRED: &str = "mfa_required";
    /// An account with the external identity's email exists; sign in to it and link explicitly.
    pub const ACCOUNT_LINK_REQUIRED: &str = "account_link_required";
    /// The credential or identity is the user's last way to sign in.
    pub const LAST_SIGN_IN_METHOD: &str = "last_sign_in_method";
    /// The action needs a recent sign-in or the current password again.
    pub const REAUTHENTICATION_REQUIRED: &str = "reauthentication_required";
    /// An external provider failed or answered something unusable.
    pub const PROVIDER_ERROR: &str = "provider_error";
    /// The sign-in method is not enabled for this app.
    pub const METHOD_DISABLED: &str = "method_disabled";
    /// A webhook endpoint URL is not https:// or reaches a non-public address.
    pub const INVALID_WEBHOOK_URL: &str = "invalid_webhook_url";
    /// The value is larger than allowed.
    pub const TOO_LARGE: &str = "too_large";
    /// The store failed (connection lost, timeout, unexpected database state).
    pub const STORAGE_ERROR: &str = "storage_error";
    /// The configuration is unusable (missing or malformed key, bad URL).
    pub const CONFIG_ERROR: &str = "config_error";
    /// A bug or an unexpected failure inside Tessera.
    pub const INTERNAL_ERROR: &str = "internal_error";
    /// A known route called with a method it does not serve (HTTP only).
    pub const METHOD_NOT_ALLOWED: &str = "method_not_allowed";
    /// The request took longer than the server allows (HTTP only).
    pub const TIMEOUT: &str = "timeout";
    /// Every code above.
    pub const ALL: &[&str] = &[
        INVALID_CREDENTIALS,
        BAD_REQUEST,
        INVALID_INPUT,
        INVALID_EMAIL,
        WEAK_PASSWORD,
        EMAIL_TAKEN,
        IDENTITY_TAKEN,
        CONFLICT,
        NOT_FOUND,
        USER_DISABLED,
        EMAIL_NOT_VERIFIED,
        INVALID_TOKEN,
        TOKEN_EXPIRED,
        REFRESH_TOKEN_REUSED,
        SESSION_EXPIRED,
        UNAUTHENTICATED,
        FORBIDDEN,
        RATE_LIMITED,
        MFA_REQUIRED,
        ACCOUNT_LINK_REQUIRED,
        LAST_SIGN_IN_METHOD,
        REAUTHENTICATION_REQUIRED,
        PROVIDER_ERROR,
        METHOD_DISABLED,
        INVALID_WEBHOOK_URL,
        TOO_LARGE,
        STORAGE_ERROR,
        CONFIG_ERROR,
        INTERNAL_ERROR,
        METHOD_NOT_ALLOWED,
        TIMEOUT,
    ];
}

/// A failure of this SDK: a refused token or webhook, or a failed call to
/// Tessera. Never contains the token or a secret.
#[derive(Debug, thiserror::Error)]
#[error("{}", self.describe())]
pub struct Error {
    kind: ErrorKind,
    message: Cow<'static, str>,
    status: Option<u16>,
    api_code: Option<String>,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            kind,
            message: message.into(),
            status: None,
            api_code: None,
            source: None,
        }
    }

    pub(crate) fn with_source(
        mut self,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        self.source = Some(source.into());
        self
    }

    pub(crate) fn api(status: u16, code: String, message: String) -> Self {
        Self {
            kind: ErrorKind::Api,
            message: message.into(),
            status: Some(status),
            api_code: Some(code),
            source: None,
        }
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The stable code: for [`ErrorKind::Api`] the `code` of Tessera's error
    /// envelope (e.g. `"not_found"`), else the kind's code.
    pub fn code(&self) -> &str {
        self.api_code.as_deref().unwrap_or(self.kind.code())
    }

    /// The HTTP status of an [`ErrorKind::Api`] error.
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// The human-readable detail.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether Tessera answered 404 (including `get_user_by_email` finding no
    /// user).
    pub fn is_not_found(&self) -> bool {
        self.status == Some(404)
    }

    fn describe(&self) -> String {
        match (self.status, self.message.is_empty()) {
            (Some(status), _) => format!(
                "tessera API error {status} {}: {}",
                self.code(),
                self.message
            ),
            (None, true) => self.kind.code().to_owned(),
            (None, false) => format!("{}: {}", self.kind.code(), self.message),
        }
    }
}
