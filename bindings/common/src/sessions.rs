//! Sessions: refresh, validation, listing, revocation and sign-out.

use tessera_core::model::{ClientInfo, Session, User};
use tessera_core::{AccessClaims, AuthSession, Result, Tessera};
use uuid::Uuid;

/// Exchange a refresh token for new tokens.
pub async fn refresh(core: &Tessera, token: &str, client: &ClientInfo) -> Result<AuthSession> {
    core.sessions().refresh(token, client).await
}

/// A live session token's session and user.
pub async fn validate(core: &Tessera, token: &str) -> Result<(Session, User)> {
    core.sessions().validate(token).await
}

/// A live access token's session, user and claims; `audience` (an app id),
/// when given, must be the token's.
pub async fn validate_access_token(
    core: &Tessera,
    token: &str,
    audience: Option<&str>,
) -> Result<(Session, User, AccessClaims)> {
    core.sessions().validate_access_token(token, audience).await
}

/// A user's live sessions, newest first.
pub async fn list(core: &Tessera, user: Uuid) -> Result<Vec<Session>> {
    core.sessions().list(user).await
}

/// Revoke one of a user's sessions (idempotent).
pub async fn revoke(core: &Tessera, user: Uuid, session: Uuid, reason: &str) -> Result<()> {
    core.sessions().revoke(user, session, reason).await
}

/// Revoke every session of a user but `except`; how many were revoked.
pub async fn revoke_all(
    core: &Tessera,
    user: Uuid,
    except: Option<Uuid>,
    reason: &str,
) -> Result<u64> {
    core.sessions().revoke_all(user, except, reason).await
}

/// Sign out the session of a session token or an access token.
pub async fn sign_out(core: &Tessera, token: &str) -> Result<()> {
    core.sessions().sign_out(token).await
}
