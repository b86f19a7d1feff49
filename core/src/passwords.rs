//! Password sign-up, sign-in and change.
//!
//! Sign-in answers `invalid_credentials` for a wrong password and for an unknown
//! email alike, after the same argon2id work (an unknown email is checked
//! against a dummy hash), so neither the answer nor its timing says whether an
//! account exists.
//!
//! **Backoff.** Attempts are counted per pool and email, for existing and
//! unknown accounts alike ([`SIGN_IN_BACKOFF`]): five proceed at once, then
//! each further attempt must wait twice as long as the last (1 s, 2 s, 4 s, …
//! at most 5 minutes); attempts during a wait are refused before any password
//! is checked, and not counted. Whether an attempt may proceed is decided and
//! counted in one atomic store step *before* the hash is checked
//! ([`ThrottleStore::reserve_attempt`](crate::store::ThrottleStore::reserve_attempt)),
//! so wrong passwords sent at the same moment, to one instance or many, cannot
//! all be checked: past the free attempts, one per wait is. A success clears
//! the count.
//!
//! **The owner is not locked out.** The wait is capped, so an attacker can
//! slow an account down but never lock it for long; and a device that signed
//! in before presents its device token ([`crate::devices`]) and is throttled
//! on its own budget, so an attacker sending one wrong password each time the
//! wait ends keeps only unknown devices waiting
//! ([`Passwords::sign_in_with_device`]).
//!
//! **Sign-up** on an app that requires a verified email answers the same
//! for a new address and a taken one, and does the same work: hashing the
//! password, trying to create the account, then, for a taken address, an
//! audit event (`sign_up.address_taken`) and a decoy verification link where
//! a new account gets its `user.signed_up` event and its real link
//! ([`crate::emails`] explains decoys), so the answer does not come sooner
//! for addresses that have accounts (issue 15, item 10).
//!
//! **Password change** checks the current password on a budget of its own
//! (per user, the same backoff): a signed-in user's mistakes there neither
//! slow down nor lock out sign-in, and sign-in failures do not block it.

use chrono::Duration;
use serde_json::json;

use crate::audit::{EventKind, Subject};
use crate::crypto::Verified;
use crate::limits::{refused, reserve};
use crate::model::{
    App, Backoff, ClientInfo, Credential, CredentialKind, FirstSignIn, Reservation, SessionId,
    SignInMethod, User, UserId,
};
use crate::sessions::{AuthSession, SignInOutcome};
use crate::validate::{
    MAX_PASSWORD_BYTES, check_new_password, email_confusable_with, normalize_email, normalize_name,
};
use crate::{Audit, Error, ErrorKind, Inner, Result, Sessions, new_id};

/// Failures needed before sign-in attempts are slowed down.
pub(crate) const FREE_FAILURES: u32 = 5;
/// Longest wait imposed between attempts.
pub(crate) const MAX_BACKOFF: Duration = Duration::seconds(300);
/// A failure count resets after this long without failures.
pub(crate) const FAILURE_WINDOW: Duration = Duration::hours(1);

/// The backoff of password attempts: per account from unknown devices, per
/// known device, and per user for the current password of a change.
pub const SIGN_IN_BACKOFF: Backoff = Backoff {
    free: FREE_FAILURES,
    first_wait: Duration::seconds(1),
    max_wait: MAX_BACKOFF,
    reset_after: FAILURE_WINDOW,
};

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

/// The result of a password sign-in: its outcome and, since the password was
/// right, a fresh device token for this account.
#[derive(Clone, PartialEq)]
pub struct PasswordSignIn {
    /// Signed in, or a second factor is needed.
    pub outcome: SignInOutcome,
    /// A device token (`tsd_…`) for the account, valid for
    /// [`DEVICE_TOKEN_TTL`](crate::devices::DEVICE_TOKEN_TTL): give it to the device
    /// that signed in (for browsers, an HttpOnly `tessera_device` cookie) to
    /// present at its next sign-in, replacing the one it had. Issued when the
    /// password was right, also when a second factor is still needed.
    pub device_token: String,
}

impl std::fmt::Debug for PasswordSignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the token.
        f.debug_struct("PasswordSignIn")
            .field("outcome", &self.outcome)
            .finish_non_exhaustive()
    }
}

/// Password flows; see [`crate::Tessera::passwords`].
pub struct Passwords<'a> {
    inner: &'a Inner,
}

/// The account-wide throttle of sign-ins with `email` on `pool`.
pub(crate) fn throttle_key(pool: &uuid::Uuid, email: &str) -> String {
    format!("sign_in:{pool}:{email}")
}

/// The throttle of the current-password check of `user`'s password changes.
fn change_throttle_key(user: UserId) -> String {
    format!("password_change:{user}")
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
        let mut data = json!({ "method": "password" });
        if let Some(twin) = email_confusable_with(&user.email) {
            // Flagged, not refused: see docs/contract.md, "Email addresses".
            data["email_confusable_with"] = twin.into();
        }
        let event = Audit::new(self.inner).user_event(
            EventKind::UserSignedUp,
            Some(app),
            &user,
            Some(client),
            data,
        );
        match self
            .inner
            .store
            .users()
            .create_user(&user, Some(FirstSignIn::Password(&credential)), &[event])
            .await
        {
            Ok(()) => {}
            Err(e) if *e.kind() == ErrorKind::EmailTaken && app.settings.require_verified_email => {
                // The same work a new account costs from here on (an audit
                // event, a counted send, a token and a message in one step),
                // as decoys: see "Sign-up" in the module docs.
                Audit::new(self.inner)
                    .record(
                        EventKind::SignUpAddressTaken,
                        Subject {
                            app: Some(app),
                            client: Some(client),
                            ..Default::default()
                        },
                        json!({ "method": "password" }),
                    )
                    .await?;
                crate::Emails::new(self.inner)
                    .queue_decoy_verification(app, &user.email)
                    .await?;
                return Ok(SignUpOutcome::VerificationRequired);
            }
            Err(e) => return Err(e),
        }
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

    /// Sign in with email and password, as a device not known to the
    /// account (see [`sign_in_with_device`](Self::sign_in_with_device)).
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
        self.sign_in_with_device(app, email, password, None, client)
            .await
            .map(|s| s.outcome)
    }

    /// Sign in with email and password from a device that may present the
    /// device token it got at its last sign-in to this account. With a valid
    /// token the attempt is throttled on that device's own budget, so
    /// failures from other devices never refuse it; without one (or with an
    /// invalid, expired or foreign one) on the account's. Either way the
    /// answer carries a fresh device token to keep.
    ///
    /// Errors: as [`sign_in`](Self::sign_in).
    pub async fn sign_in_with_device(
        &self,
        app: &App,
        email: &str,
        password: &str,
        device_token: Option<&str>,
        client: &ClientInfo,
    ) -> Result<PasswordSignIn> {
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
        let key = match device_token.and_then(|t| {
            crate::devices::verify(&self.inner.device_key, t, app.pool_id, &email, now)
        }) {
            Some(device) => format!("sign_in:{}", device.subject()),
            None => throttle_key(&app.pool_id, &email),
        };
        // Decide and count in one step, before the hash: see the module docs.
        let throttles = self.inner.store.throttles();
        if let Reservation::Refused { until } = throttles
            .reserve_attempt(&key, now, &SIGN_IN_BACKOFF)
            .await?
        {
            self.record_failure(app, client, "rate_limited", None)
                .await?;
            return Err(refused(until, now));
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
                // The attempt was counted when it was reserved.
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
        throttles.clear_throttle(&key).await?;
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
            let event = Audit::new(self.inner).user_event(
                EventKind::PasswordRehashed,
                Some(app),
                &user,
                Some(client),
                json!({}),
            );
            self.inner
                .store
                .credentials()
                .set_password(user.id, &phc, now, &[event])
                .await?;
        }
        let outcome = Sessions::new(self.inner)
            .finish_first_factor(app, &user, vec!["pwd".into()], client, "password")
            .await?;
        Ok(PasswordSignIn {
            outcome,
            device_token: crate::devices::issue(&self.inner.device_key, app.pool_id, &email, now),
        })
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
        // Its own budget, not sign-in's: see the module docs.
        let key = change_throttle_key(user_id);
        reserve(self.inner, &key, &SIGN_IN_BACKOFF).await?;
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
            // The attempt was counted when it was reserved.
            return Err(Error::new(ErrorKind::InvalidCredentials));
        }
        store.throttles().clear_throttle(&key).await?;
        let mut context = vec![user.email.as_str()];
        if let Some(n) = &user.name {
            context.push(n);
        }
        check_new_password(new_password, app.settings.min_password_score, &context)?;
        let phc = self.inner.hasher.hash(new_password).await?;
        let event = Audit::new(self.inner).user_event(
            EventKind::PasswordChanged,
            Some(app),
            &user,
            Some(client),
            json!({}),
        );
        store
            .credentials()
            .set_password(user_id, &phc, now, &[event])
            .await?;
        crate::sessions::revoke_user_sessions(self.inner, user_id, keep, "password_changed")
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let wait = |n| SIGN_IN_BACKOFF.wait_after(n);
        assert_eq!(wait(4), Duration::zero());
        assert_eq!(wait(5), Duration::seconds(1));
        assert_eq!(wait(6), Duration::seconds(2));
        assert_eq!(wait(9), Duration::seconds(16));
        assert_eq!(wait(13), Duration::seconds(256));
        assert_eq!(wait(14), MAX_BACKOFF);
        assert_eq!(wait(40), MAX_BACKOFF);
        assert_eq!(wait(u32::MAX), MAX_BACKOFF);
    }
}
