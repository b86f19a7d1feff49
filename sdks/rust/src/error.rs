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
    /// [`Error::code`].
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
