//! Sessions: the records of a signed-in session and the methods that
//! refresh, validate, list, revoke and sign out.

use std::time::SystemTime;

use tessera_bindings_common::sessions;
use tessera_core::model;

use crate::Tessera;
use crate::convert::{FromCore, parse_id, parse_opt_id};
use crate::{Result, TesseraError, User};

/// Who is calling: kept on sessions and audit events. Both fields optional;
/// an `ip` that is not an IP address is dropped, and the user agent is
/// trimmed, cleaned of control and format characters and cut to 512 bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct ClientInfo {
    /// The client's IP address.
    #[uniffi(default)]
    pub ip: Option<String>,
    /// The client's user agent.
    #[uniffi(default)]
    pub user_agent: Option<String>,
}

/// The core's client of an optional `ClientInfo` argument.
pub(crate) fn client_info(c: Option<ClientInfo>) -> model::ClientInfo {
    c.map(|c| model::ClientInfo::parse(c.ip.as_deref(), c.user_agent.as_deref()))
        .unwrap_or_default()
}

crate::mirror! {
    /// A signed-in session (one per sign-in, on one app).
    #[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
    pub struct Session from model::Session {
        /// Unique id (the JWT `sid`).
        pub id: String,
        /// The user's pool.
        pub pool_id: String,
        /// The app signed in to.
        pub app_id: String,
        /// Who signed in.
        pub user_id: String,
        /// How the user authenticated (RFC 8176 values, e.g. `pwd`).
        pub amr: Vec<String>,
        /// User agent at sign-in.
        pub user_agent: Option<String>,
        /// Client IP at sign-in.
        pub ip: Option<String>,
        /// Sign-in time.
        pub created_at: SystemTime,
        /// Last validation or refresh (updated at most once a minute).
        pub last_seen_at: SystemTime,
        /// Seconds of inactivity after which the session ends.
        pub idle_timeout_secs: i64,
        /// Absolute end of the session.
        pub expires_at: SystemTime,
        /// When it was revoked.
        pub revoked_at: Option<SystemTime>,
        /// Why it was revoked (`sign_out`, `refresh_token_reused`, …).
        pub revoke_reason: Option<String>,
    }
}

/// A signed-in session and the secrets that carry it. `toString()` shows
/// no token.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Debug)]
pub struct AuthSession {
    /// Access JWT (`Authorization: Bearer …`).
    pub access_token: String,
    /// Refresh token (`tsr_…`), spent on use: keep the one each refresh returns.
    pub refresh_token: String,
    /// Session token (`tss_…`) for a cookie; issued at sign-in, not on refresh.
    pub session_token: Option<String>,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// The user.
    pub user: User,
    /// The session.
    pub session: Session,
    /// A password sign-in's device token (`tsd_…`): keep it on this device
    /// and pass it to the next `signInPassword` as `deviceToken`, so
    /// failures from other devices never throttle this one; `null` for
    /// other sign-ins and refreshes.
    #[uniffi(default)]
    pub device_token: Option<String>,
}

impl std::fmt::Debug for AuthSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secrets.
        f.debug_struct("AuthSession")
            .field("user", &self.user.id)
            .field("session", &self.session.id)
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

impl FromCore<tessera_core::AuthSession> for AuthSession {
    fn from_core(a: tessera_core::AuthSession) -> Result<Self> {
        Ok(AuthSession {
            access_token: a.access_token,
            refresh_token: a.refresh_token,
            session_token: a.session_token,
            expires_in: a.expires_in,
            user: FromCore::from_core(a.user)?,
            session: FromCore::from_core(a.session)?,
            device_token: None,
        })
    }
}

/// The session of a finished first-factor sign-in, or `MfaRequired`
/// carrying the challenge to finish it with.
impl FromCore<tessera_core::SignInOutcome> for AuthSession {
    fn from_core(outcome: tessera_core::SignInOutcome) -> Result<Self> {
        match outcome {
            tessera_core::SignInOutcome::Complete(session) => AuthSession::from_core(*session),
            tessera_core::SignInOutcome::MfaRequired(challenge) => {
                Err(TesseraError::mfa_required(challenge, None))
            }
        }
    }
}

crate::mirror! {
    /// A validated session and its user.
    #[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
    pub struct SessionInfo from (model::Session, model::User) {
        /// The session.
        pub session: Session = 0,
        /// Its user.
        pub user: User = 1,
    }
}

crate::mirror! {
    /// A validated access token: its claims, and its session and user (checked live).
    #[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
    pub struct AccessTokenInfo from (model::Session, model::User, tessera_core::AccessClaims) {
        /// The session the token belongs to.
        pub session: Session = 0,
        /// Its user.
        pub user: User = 1,
        /// The token's claims.
        pub claims: crate::AccessClaims = 2,
    }
}

crate::exports! {
    /// Exchange a refresh token for a new access token and refresh token.
    ///
    /// Errors: `invalid_token`, `session_expired`, `refresh_token_reused` (a
    /// spent token presented again: the session is revoked).
    fn refresh(refresh_token: String, client: Option<ClientInfo>) -> AuthSession [client = None]
        |core| sessions::refresh(core, &refresh_token, &client_info(client));

    /// Validate an opaque session token (`tss_…`).
    ///
    /// Errors: `unauthenticated` (unknown or malformed), `session_expired`,
    /// `user_disabled`.
    fn validate_session(session_token: String) -> SessionInfo
        |core| sessions::validate(core, &session_token);

    /// Validate an access JWT *and* its session (so a revoked session's tokens
    /// stop working at once). `audience`, when given, must be the token's app id.
    ///
    /// Errors: `invalid_token`, `token_expired`, `session_expired`, `user_disabled`.
    fn validate_access_token(access_token: String, audience: Option<String>) -> AccessTokenInfo
        [audience = None]
        |core| sessions::validate_access_token(core, &access_token, audience.as_deref());

    /// A user's live sessions, newest first.
    fn list_sessions(user_id: String) -> Vec<Session>
        |core| sessions::list(core, parse_id("user_id", &user_id)?);

    /// Revoke one of a user's sessions (sign out one device). Idempotent.
    fn revoke_session(user_id: String, session_id: String, reason: String) -> ()
        [reason = "revoked"]
        |core| sessions::revoke(
            core, parse_id("user_id", &user_id)?, parse_id("session_id", &session_id)?, &reason,
        );

    /// Revoke every session of a user except `except_session_id` (sign out
    /// everywhere, or everywhere else). Returns how many were revoked.
    fn revoke_all_sessions(user_id: String, except_session_id: Option<String>, reason: String) -> i64
        [except_session_id = None, reason = "revoked_all"]
        |core| sessions::revoke_all(
            core,
            parse_id("user_id", &user_id)?,
            parse_opt_id("except_session_id", except_session_id)?,
            &reason,
        );

    /// Sign out the session a token belongs to: a session token (`tss_…`) or
    /// an access JWT. Its refresh token stops working too.
    ///
    /// Errors: as `validateSession` / `validateAccessToken` (an already
    /// signed-out session answers `session_expired`).
    fn sign_out(token: String) -> ()
        |core| sessions::sign_out(core, &token);
}
