//! Password sign-up, sign-in and change.
//!
//! Sign-in answers `invalid_credentials` for a wrong password and for an unknown
//! email alike, after the same argon2id work (an unknown email is checked
//! against a dummy hash), so neither the answer nor its timing says whether an
//! account exists. Failures are counted per pool and email, for existing and
//! unknown accounts alike, and after five of them each further attempt must
//! wait twice as long as the last (1 s, 2 s, 4 s, … at most 5 minutes). The
//! wait is capped and attempts during it are refused before any password is
//! checked (and not counted), so an attacker can slow an account down but
//! never lock its owner out for long; a successful sign-in clears the count.

use chrono::Duration;
use serde_json::json;

use crate::audit::{EventKind, Subject};
use crate::crypto::Verified;
use crate::model::{
    App, ClientInfo, Credential, CredentialKind, SessionId, SignInMethod, User, UserId,
};
use crate::sessions::{AuthSession, SignInOutcome};
use crate::validate::{MAX_PASSWORD_BYTES, check_new_password, normalize_email, normalize_name};
use crate::{Audit, Error, ErrorKind, Inner, Result, Sessions, new_id};

/// Failures needed before sign-in attempts are slowed down.
pub(crate) const FREE_FAILURES: u32 = 5;
/// Longest wait imposed between attempts.
pub(crate) const MAX_BACKOFF: Duration = Duration::seconds(300);
/// A failure count resets after this long without failures.
pub(crate) const FAILURE_WINDOW: Duration = Duration::hours(1);

/// The result of a sign-up.
#[derive(Debug, Clone, PartialEq)]
pub enum SignUpOutcome {
    /// The account exists and is signed in.
    SignedIn(Box<AuthSession>),
    /// The app requires a verified email before sign-in. The answer is the same
    /// whether the address was new or already registered, so sign-up does not
    /// reveal which addresses have accounts.
    VerificationRequired,
}

/// Password flows; see [`crate::Tessera::passwords`].
pub struct Passwords<'a> {
    inner: &'a Inner,
}

pub(crate) fn throttle_key(pool: &uuid::Uuid, email: &str) -> String {
    format!("sign_in:{pool}:{email}")
}

/// How long to wait after `failures` failures, if at all.
pub(crate) fn backoff(failures: u32) -> Option<Duration> {
    if failures < FREE_FAILURES {
        return None;
    }
    let exp = (failures - FREE_FAILURES).min(16);
    Some(Duration::seconds(1i64 << exp).min(MAX_BACKOFF))
}

impl<'a> Passwords<'a> {
    pub(crate) fn new(inner: &'a Inner) -> Self {
        Passwords { inner }
    }

    async fn record_failure(
        &self,
        app: &App,
        client: &ClientInfo,
        reason: &str,
        user: Option<&User>,
    ) -> Result<()> {
        let subject = Subject {
            app: Some(app),
            user,
            client: Some(client),
            ..Default::default()
        };
        Audit::new(self.inner)
            .record(
                EventKind::SignInFailed,
                subject,
                json!({ "method": "password", "reason": reason }),
            )
            .await
    }

    fn require_method(app: &App) -> Result<()> {
        if app.settings.allows(SignInMethod::Password) {
            Ok(())
        } else {
            Err(Error::new(ErrorKind::MethodDisabled))
        }
    }

    /// Create an account with a password on `app`'s pool and sign it in.
    ///
    /// Errors: `invalid_email`, `weak_password`, `invalid_input` (name),
    /// `email_taken` (only when the app signs users in straight away; with
    /// `require_verified_email` the answer is `VerificationRequired` either way).
    pub async fn sign_up(
        &self,
        app: &App,
        email: &str,
        password: &str,
        name: Option<&str>,
        client: &ClientInfo,
    ) -> Result<SignUpOutcome> {
        Self::require_method(app)?;
        let email = normalize_email(email)?;
        let name = normalize_name(name)?;
        let mut context = vec![email.as_str(), app.name.as_str()];
        if let Some(n) = &name {
            context.push(n);
        }
        check_new_password(password, app.settings.min_password_score, &context)?;
        let phc = self.inner.hasher.hash(password).await?;
        let now = self.inner.now();
        let user = User {
            id: new_id(now),
            pool_id: app.pool_id,
            email,
            email_verified: false,
            name,
            metadata: json!({}),
            disabled: false,
            created_at: now,
            updated_at: now,
        };
        let credential = Credential {
            id: new_id(now),
            user_id: user.id,
            kind: CredentialKind::Password,
            name: None,
            secret: phc,
            data: json!({}),
            created_at: now,
            last_used_at: None,
        };
        match self
            .inner
            .store
            .users()
            .create_user(&user, Some(&credential))
            .await
        {
            Ok(()) => {}
            Err(e) if *e.kind() == ErrorKind::EmailTaken && app.settings.require_verified_email => {
                return Ok(SignUpOutcome::VerificationRequired);
            }
            Err(e) => return Err(e),
        }
        let audit = Audit::new(self.inner);
        audit
            .record(
                EventKind::UserSignedUp,
                Subject {
                    app: Some(app),
                    user: Some(&user),
                    client: Some(client),
                    ..Default::default()
                },
                json!({ "method": "password" }),
            )
            .await?;
        crate::Emails::new(self.inner)
            .send_verification_to(app, &user)
            .await?;
        if app.settings.require_verified_email {
            return Ok(SignUpOutcome::VerificationRequired);
        }
        let session = Sessions::new(self.inner)
            .start(app, &user, vec!["pwd".into()], client, "password")
            .await?;
        Ok(SignUpOutcome::SignedIn(Box::new(session)))
    }

    /// Sign in with email and password.
    ///
    /// Errors: `invalid_credentials` (wrong password or no such account, which
    /// look the same), `rate_limited` (too many recent failures; `retry_after`
    /// says how long), `user_disabled`, `email_not_verified`, `method_disabled`.
    pub async fn sign_in(
        &self,
        app: &App,
        email: &str,
        password: &str,
        client: &ClientInfo,
    ) -> Result<SignInOutcome> {
        Self::require_method(app)?;
        let Ok(email) = normalize_email(email) else {
            self.record_failure(app, client, "invalid_email", None)
                .await?;
            return Err(Error::new(ErrorKind::InvalidCredentials));
        };
        if password.len() > MAX_PASSWORD_BYTES || password.is_empty() {
            // Cannot be anyone's password; do not spend a hash on it.
            self.record_failure(app, client, "invalid_password", None)
                .await?;
            return Err(Error::new(ErrorKind::InvalidCredentials));
        }
        let now = self.inner.now();
        let key = throttle_key(&app.pool_id, &email);
        let throttles = self.inner.store.throttles();
        let prior = throttles.find_throttle(&key).await?;
        if let Some(t) = prior
            && now - t.last_failure_at < FAILURE_WINDOW
            && let Some(wait) = backoff(t.failures)
        {
            let until = t.last_failure_at + wait;
            if now < until {
                self.record_failure(app, client, "rate_limited", None)
                    .await?;
                let retry_after = (until - now).to_std().unwrap_or_default();
                return Err(Error::new(ErrorKind::RateLimited { retry_after }));
            }
        }
        let found = self
            .inner
            .store
            .users()
            .find_user_with_password(app.pool_id, &email)
            .await?;
        let (user, credential) = match found {
            Some((user, credential)) => (Some(user), credential),
            None => (None, None),
        };
        let verified = self
            .inner
            .hasher
            .verify(password, credential.as_ref().map(|c| c.secret.as_str()))
            .await?;
        let rehash = match (verified, &user) {
            (Verified::Yes { rehash }, Some(_)) => rehash,
            (_, user) => {
                throttles
                    .record_failure(&key, now, now - FAILURE_WINDOW)
                    .await?;
                let reason = match (user, &credential) {
                    (None, _) => "unknown_user",
                    (Some(_), None) => "no_password",
                    (Some(_), Some(_)) => "invalid_password",
                };
                self.record_failure(app, client, reason, user.as_ref())
                    .await?;
                return Err(Error::new(ErrorKind::InvalidCredentials));
            }
        };
        let user = user.expect("matched Some above");
        if prior.is_some() {
            throttles.clear_throttle(&key).await?;
        }
        if user.disabled {
            self.record_failure(app, client, "user_disabled", Some(&user))
                .await?;
            return Err(Error::new(ErrorKind::UserDisabled));
        }
        if app.settings.require_verified_email && !user.email_verified {
            self.record_failure(app, client, "email_not_verified", Some(&user))
                .await?;
            return Err(Error::new(ErrorKind::EmailNotVerified));
        }
        if let Some(phc) = rehash {
            self.inner
                .store
                .credentials()
                .set_password(user.id, &phc, now)
                .await?;
        }
        Sessions::new(self.inner)
            .finish_first_factor(app, &user, vec!["pwd".into()], client, "password")
            .await
    }

    /// Change a signed-in user's password after checking the current one; every
    /// other session of the user is revoked (`keep` stays signed in).
    ///
    /// Errors: `invalid_credentials` (wrong current password), `weak_password`,
    /// `rate_limited`, `not_found`.
    pub async fn change(
        &self,
        app: &App,
        user_id: UserId,
        keep: Option<SessionId>,
        current_password: &str,
        new_password: &str,
        client: &ClientInfo,
    ) -> Result<()> {
        let store = &self.inner.store;
        let user = store.users().get_user(user_id).await?;
        if user.pool_id != app.pool_id {
            return Err(Error::new(ErrorKind::NotFound));
        }
        let now = self.inner.now();
        let key = throttle_key(&user.pool_id, &user.email);
        if let Some(t) = store.throttles().find_throttle(&key).await?
            && now - t.last_failure_at < FAILURE_WINDOW
            && let Some(wait) = backoff(t.failures)
            && now < t.last_failure_at + wait
        {
            let retry_after = (t.last_failure_at + wait - now)
                .to_std()
                .unwrap_or_default();
            return Err(Error::new(ErrorKind::RateLimited { retry_after }));
        }
        let credential = store
            .credentials()
            .list_credentials(user_id, Some(CredentialKind::Password))
            .await?
            .into_iter()
            .next();
        let current_ok = current_password.len() <= MAX_PASSWORD_BYTES
            && matches!(
                self.inner
                    .hasher
                    .verify(
                        current_password,
                        credential.as_ref().map(|c| c.secret.as_str())
                    )
                    .await?,
                Verified::Yes { .. }
            );
        if !current_ok {
            store
                .throttles()
                .record_failure(&key, now, now - FAILURE_WINDOW)
                .await?;
            return Err(Error::new(ErrorKind::InvalidCredentials));
        }
        let mut context = vec![user.email.as_str()];
        if let Some(n) = &user.name {
            context.push(n);
        }
        check_new_password(new_password, app.settings.min_password_score, &context)?;
        let phc = self.inner.hasher.hash(new_password).await?;
        store.credentials().set_password(user_id, &phc, now).await?;
        let revoked = store
            .sessions()
            .revoke_user_sessions(user_id, keep, now, "password_changed")
            .await?;
        Audit::new(self.inner)
            .record(
                EventKind::PasswordChanged,
                Subject {
                    app: Some(app),
                    user: Some(&user),
                    client: Some(client),
                    ..Default::default()
                },
                json!({ "sessions_revoked": revoked }),
            )
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(4), None);
        assert_eq!(backoff(5), Some(Duration::seconds(1)));
        assert_eq!(backoff(6), Some(Duration::seconds(2)));
        assert_eq!(backoff(9), Some(Duration::seconds(16)));
        assert_eq!(backoff(40), Some(MAX_BACKOFF));
        assert_eq!(backoff(u32::MAX), Some(MAX_BACKOFF));
    }
}
