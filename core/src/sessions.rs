//! Sessions: one per sign-in, renewed by rotating refresh tokens.
//!
//! A sign-in yields three secrets: a short-lived access JWT for APIs, an opaque
//! session token (`tss_…`) for the browser cookie, and an opaque refresh token
//! (`tsr_…`) that is exchanged for a new one on every use.
//!
//! **Refresh rotation and the grace window.** Presenting a spent refresh token
//! normally means it was stolen, so the whole session is revoked. But two tabs
//! of one browser often refresh at the same moment with the same token. So the
//! successor of a refresh token is *derived* from it (HMAC under a key derived
//! from the key-encryption key), not drawn at random: for a few seconds after a
//! token is spent (the app's grace window, default and maximum 10 s), the same
//! token is answered with the *same* successor, provided that successor has not
//! itself been used. Both tabs end up holding the one live token; nothing is
//! stored in plaintext; after the window, or once the successor is used, the
//! spent token counts as reuse and revokes the session.

use chrono::Duration;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::{EventKind, Subject};
use crate::crypto::{
    TokenHash, check_token_format, generate_token, hmac_sha256, prefix, token_from_secret,
    token_secret,
};
use crate::model::{
    App, ClientInfo, NewEvent, RefreshRotation, RefreshToken, RotationChange, RotationOutcome,
    Session, SessionId, User, UserId,
};
use crate::{Audit, Error, ErrorKind, Inner, Result, Tokens, new_id};

/// `last_seen_at` is written at most this often per session.
const TOUCH_EVERY: Duration = Duration::seconds(60);

/// A signed-in session and the secrets that carry it.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthSession {
    /// The user.
    pub user: User,
    /// The session.
    pub session: Session,
    /// Access JWT (`Authorization: Bearer …`).
    pub access_token: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Refresh token (`tsr_…`), spent on use.
    pub refresh_token: String,
    /// Session token (`tss_…`) for the `tessera_session` cookie; only issued at
    /// sign-in, not on refresh.
    pub session_token: Option<String>,
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

/// A second factor is needed before the session exists.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct MfaChallenge {
    /// Short-lived token to present with the second factor.
    pub mfa_token: String,
    /// Factors the user can complete the sign-in with (`totp`, `recovery_code`,
    /// `passkey`, or `totp_enroll`); serialised as those strings.
    pub methods: Vec<crate::MfaMethod>,
}

impl std::fmt::Debug for MfaChallenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MfaChallenge")
            .field("methods", &self.methods)
            .finish_non_exhaustive()
    }
}

/// The result of a first-factor sign-in.
#[derive(Debug, Clone, PartialEq)]
pub enum SignInOutcome {
    /// Signed in.
    Complete(Box<AuthSession>),
    /// A second factor is required (for users who enrolled one, or apps that
    /// require one).
    MfaRequired(MfaChallenge),
}

impl SignInOutcome {
    /// The session, if the sign-in is complete.
    pub fn session(self) -> Option<AuthSession> {
        match self {
            SignInOutcome::Complete(s) => Some(*s),
            SignInOutcome::MfaRequired(_) => None,
        }
    }
}

/// Sessions; see [`crate::Tessera::sessions`].
pub struct Sessions<'a> {
    inner: &'a Inner,
}

impl<'a> Sessions<'a> {
    pub(crate) fn new(inner: &'a Inner) -> Self {
        Sessions { inner }
    }

    fn successor(&self, presented: &str) -> String {
        let secret = hmac_sha256(&self.inner.refresh_key, presented.as_bytes());
        token_from_secret(prefix::REFRESH, &secret)
    }

    /// Every first-factor sign-in (password, email code, magic link, OAuth)
    /// ends here: it starts the session, or, when the user has a second factor
    /// or the app requires one, answers an MFA challenge instead (see
    /// [`crate::Mfa`]). `amr` lists the methods used so far.
    pub(crate) async fn finish_first_factor(
        &self,
        app: &App,
        user: &User,
        amr: Vec<String>,
        client: &ClientInfo,
        method: &str,
    ) -> Result<SignInOutcome> {
        if let Some(challenge) = crate::Mfa::new(self.inner)
            .challenge_if_needed(app, user, &amr, client, method)
            .await?
        {
            return Ok(SignInOutcome::MfaRequired(challenge));
        }
        let session = self.start(app, user, amr, client, method).await?;
        Ok(SignInOutcome::Complete(Box::new(session)))
    }

    /// Start a session for `user` on `app` after a successful first (and, when
    /// needed, second) factor; `amr` lists the methods used (RFC 8176).
    pub(crate) async fn start(
        &self,
        app: &App,
        user: &User,
        amr: Vec<String>,
        client: &ClientInfo,
        method: &str,
    ) -> Result<AuthSession> {
        let now = self.inner.now();
        let (session_token, token_hash) = generate_token(prefix::SESSION);
        let (refresh_token, refresh_hash) = generate_token(prefix::REFRESH);
        let session = Session {
            id: new_id(now),
            pool_id: user.pool_id,
            app_id: app.id,
            user_id: user.id,
            token_hash,
            amr,
            user_agent: client.user_agent().map(str::to_owned),
            ip: client.ip().map(|ip| ip.to_string()),
            created_at: now,
            last_seen_at: now,
            idle_timeout_secs: app.settings.session_idle_timeout_secs,
            expires_at: now + Duration::seconds(app.settings.session_lifetime_secs),
            revoked_at: None,
            revoke_reason: None,
        };
        let refresh = RefreshToken {
            hash: refresh_hash,
            session_id: session.id,
            created_at: now,
            spent_at: None,
            replaced_by: None,
        };
        let event = Audit::new(self.inner).event(
            EventKind::SignInSucceeded,
            Subject {
                app: Some(app),
                user: Some(user),
                session: Some(&session),
                client: Some(client),
                ..Default::default()
            },
            json!({ "method": method }),
        );
        self.inner
            .store
            .sessions()
            .create_session(&session, &refresh, &[event])
            .await?;
        let (access_token, expires_in) = Tokens::new(self.inner).issue(app, &session, user).await?;
        Ok(AuthSession {
            user: user.clone(),
            session,
            access_token,
            expires_in,
            refresh_token,
            session_token: Some(session_token),
        })
    }

    fn check_live(&self, session: &Session, user: &User) -> Result<()> {
        if !session.is_active(self.inner.now()) {
            return Err(Error::new(ErrorKind::SessionExpired));
        }
        if user.disabled {
            return Err(Error::new(ErrorKind::UserDisabled));
        }
        Ok(())
    }

    /// Record that `session` was used (`last_seen_at`, which moves its idle
    /// expiry), at most once a minute, off the answer's path: a session check
    /// is a read and must answer even when the store cannot be written
    /// (disk full, read-only, database failing over). The write runs in the
    /// background; a failure is logged and costs only a stale `last_seen_at`
    /// (the next check, a minute on, tries again).
    async fn touch(&self, session: &mut Session) {
        let now = self.inner.now();
        if now - session.last_seen_at < TOUCH_EVERY {
            return;
        }
        session.last_seen_at = now;
        let store = self.inner.store.clone();
        let id = session.id;
        let write = async move {
            if let Err(e) = store.sessions().touch_session(id, now).await {
                tracing::warn!(session = %id, error = %e, "could not record session activity");
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn(write)),
            // Polled outside a Tokio runtime: no background to run it in.
            Err(_) => write.await,
        }
    }

    /// Validate an opaque session token (the `tessera_session` cookie): one
    /// store query (plus, at most once a minute, a `last_seen_at` write in the
    /// background that the answer does not wait for or depend on).
    pub async fn validate(&self, session_token: &str) -> Result<(Session, User)> {
        check_token_format(session_token, prefix::SESSION)
            .map_err(|_| Error::new(ErrorKind::Unauthenticated))?;
        let (mut session, user) = self
            .inner
            .store
            .sessions()
            .find_session_by_token(&TokenHash::of(session_token))
            .await?
            .ok_or_else(|| Error::new(ErrorKind::Unauthenticated))?;
        self.check_live(&session, &user)?;
        self.touch(&mut session).await;
        Ok((session, user))
    }

    /// Validate an access JWT *and* its session (so a revoked session's tokens
    /// stop working at once here, while SDKs verifying offline accept them until
    /// they expire).
    pub async fn validate_access_token(
        &self,
        access_token: &str,
        audience: Option<&str>,
    ) -> Result<(Session, User, crate::AccessClaims)> {
        let claims = Tokens::new(self.inner)
            .verify(access_token, audience)
            .await?;
        let sid: SessionId = claims
            .sid
            .parse()
            .map_err(|_| Error::new(ErrorKind::InvalidToken))?;
        let (mut session, user) = self
            .inner
            .store
            .sessions()
            .find_session(sid)
            .await?
            .ok_or_else(|| Error::new(ErrorKind::SessionExpired))?;
        self.check_live(&session, &user)?;
        self.touch(&mut session).await;
        Ok((session, user, claims))
    }

    /// Exchange a refresh token for a new access token and refresh token.
    ///
    /// Errors: `invalid_token` (unknown or malformed), `session_expired`
    /// (revoked, idle or past its lifetime), `refresh_token_reused` (a spent
    /// token outside the grace window: the session is now revoked).
    pub async fn refresh(&self, refresh_token: &str, client: &ClientInfo) -> Result<AuthSession> {
        token_secret(refresh_token, prefix::REFRESH)?;
        let now = self.inner.now();
        let successor = self.successor(refresh_token);
        // The grace window is per app; read it through the session's app below.
        // The store needs it up front, so use the largest allowed and narrow
        // afterwards if the app's is smaller.
        let rotation = RefreshRotation {
            presented: TokenHash::of(refresh_token),
            successor: TokenHash::of(&successor),
            grace: Duration::seconds(crate::model::MAX_REFRESH_GRACE_SECS),
            now,
        };
        let audit = Audit::new(self.inner);
        let events = |change: &RotationChange<'_>| -> Vec<NewEvent> {
            let subject = Subject {
                user: Some(change.user),
                session: Some(change.session),
                client: Some(client),
                ..Default::default()
            };
            match change.outcome {
                // A repeat changes nothing: recorded below, once the app's
                // own grace window says it is one.
                RotationOutcome::Repeated(..)
                | RotationOutcome::Inactive
                | RotationOutcome::NotFound => Vec::new(),
                RotationOutcome::Rotated(_) => vec![audit.event(
                    EventKind::SessionRefreshed,
                    subject,
                    json!({ "repeated": false }),
                )],
                RotationOutcome::Reused { .. } => self.reuse_events(change.revoked, subject),
            }
        };
        let outcome = self
            .inner
            .store
            .sessions()
            .rotate_refresh_token(&rotation, &events)
            .await?;
        let (session, user, spent_at) = match outcome {
            RotationOutcome::Rotated(b) => (b.0, b.1, None),
            RotationOutcome::Repeated(b, spent_at) => (b.0, b.1, Some(spent_at)),
            RotationOutcome::Reused { .. } => {
                return Err(Error::new(ErrorKind::RefreshTokenReused));
            }
            RotationOutcome::Inactive => return Err(Error::new(ErrorKind::SessionExpired)),
            RotationOutcome::NotFound => return Err(Error::new(ErrorKind::InvalidToken)),
        };
        let app = self.inner.store.apps().get_app(session.app_id).await?;
        let subject = Subject {
            app: Some(&app),
            user: Some(&user),
            session: Some(&session),
            client: Some(client),
            ..Default::default()
        };
        if let Some(spent_at) = spent_at {
            if now - spent_at >= Duration::seconds(app.settings.refresh_reuse_grace_secs) {
                // Outside this app's (narrower) window: reuse after all.
                let revoked = self
                    .inner
                    .store
                    .sessions()
                    .revoke_session(session.id, None, now, "refresh_token_reused", &|s| {
                        self.reuse_events(
                            true,
                            Subject {
                                session: Some(s),
                                ..subject
                            },
                        )
                    })
                    .await?;
                if !revoked {
                    // Revoked meanwhile: the reuse changes nothing more.
                    audit
                        .record(EventKind::RefreshTokenReused, subject, json!({}))
                        .await?;
                }
                return Err(Error::new(ErrorKind::RefreshTokenReused));
            }
            audit
                .record(
                    EventKind::SessionRefreshed,
                    subject,
                    json!({ "repeated": true }),
                )
                .await?;
        }
        if user.disabled {
            return Err(Error::new(ErrorKind::UserDisabled));
        }
        let (access_token, expires_in) =
            Tokens::new(self.inner).issue(&app, &session, &user).await?;
        Ok(AuthSession {
            user,
            session,
            access_token,
            expires_in,
            refresh_token: successor,
            session_token: None,
        })
    }

    /// The events of a detected refresh-token reuse: the security event,
    /// and the revocation when this step `revoked` the session.
    fn reuse_events(&self, revoked: bool, subject: Subject<'_>) -> Vec<NewEvent> {
        let audit = Audit::new(self.inner);
        let mut events = vec![audit.event(EventKind::RefreshTokenReused, subject, json!({}))];
        if revoked {
            let session_id = subject.session.map(|s| s.id);
            events.push(audit.event(
                EventKind::SessionRevoked,
                subject,
                json!({ "session_id": session_id, "reason": "refresh_token_reused" }),
            ));
        }
        events
    }

    /// A user's live sessions, newest first.
    pub async fn list(&self, user_id: UserId) -> Result<Vec<Session>> {
        let now = self.inner.now();
        let mut sessions = self
            .inner
            .store
            .sessions()
            .list_user_sessions(user_id)
            .await?;
        sessions.retain(|s| s.is_active(now));
        Ok(sessions)
    }

    /// Revoke one of `user_id`'s sessions (sign out one device). Idempotent;
    /// `not_found` if the session is not the user's.
    pub async fn revoke(&self, user_id: UserId, session_id: SessionId, reason: &str) -> Result<()> {
        let now = self.inner.now();
        let audit = Audit::new(self.inner);
        self.inner
            .store
            .sessions()
            .revoke_session(session_id, Some(user_id), now, reason, &|s| {
                vec![audit.event(
                    EventKind::SessionRevoked,
                    Subject {
                        session: Some(s),
                        ..Default::default()
                    },
                    json!({ "session_id": session_id, "reason": reason }),
                )]
            })
            .await?;
        Ok(())
    }

    /// Sign out the session `token` belongs to: a session token (`tss_…`) or
    /// an access JWT. Its refresh token stops working too.
    ///
    /// Errors: as [`validate`](Self::validate) or
    /// [`validate_access_token`](Self::validate_access_token); an already
    /// signed-out session answers `session_expired`.
    pub async fn sign_out(&self, token: &str) -> Result<()> {
        let (session, user) = if token.starts_with(prefix::SESSION) {
            self.validate(token).await?
        } else {
            let (session, user, _) = self.validate_access_token(token, None).await?;
            (session, user)
        };
        self.revoke(user.id, session.id, "sign_out").await
    }

    /// Revoke every session of `user_id` except `except` (sign out everywhere,
    /// or everywhere else). Returns how many were revoked.
    pub async fn revoke_all(
        &self,
        user_id: UserId,
        except: Option<SessionId>,
        reason: &str,
    ) -> Result<u64> {
        revoke_user_sessions(self.inner, user_id, except, reason).await
    }
}

/// Revoke every live session of `user_id` but `except`, recording in the
/// same step a `session.revoked` event per session and one summary
/// (`session.revoked_all`, with the count). Returns how many.
pub(crate) async fn revoke_user_sessions(
    inner: &Inner,
    user_id: UserId,
    except: Option<SessionId>,
    reason: &str,
) -> Result<u64> {
    let audit = Audit::new(inner);
    let events = |revoked: &Vec<Session>| {
        let mut events: Vec<NewEvent> = revoked
            .iter()
            .map(|s| {
                audit.event(
                    EventKind::SessionRevoked,
                    Subject {
                        session: Some(s),
                        ..Default::default()
                    },
                    json!({ "session_id": s.id, "reason": reason }),
                )
            })
            .collect();
        events.push(audit.event(
            EventKind::SessionsRevoked,
            Subject {
                user_id: Some(user_id),
                ..Default::default()
            },
            json!({ "count": revoked.len(), "reason": reason, "except": except }),
        ));
        events
    };
    inner
        .store
        .sessions()
        .revoke_user_sessions(user_id, except, inner.now(), reason, &events)
        .await
}
