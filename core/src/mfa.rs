//! Multi-factor sign-in: the challenge after a first factor and its completion.
//!
//! Every first-factor sign-in ends in `Sessions::finish_first_factor`. When
//! the user has a second factor (a confirmed TOTP or a passkey) or the app
//! requires one, no session starts: the answer is an [`MfaChallenge`] whose
//! `mfa_token` (`tsf_…`, five minutes) is presented with the second factor.
//! The challenge lives in the store (only its hash), so any instance can
//! finish what another began.
//!
//! **Attempts.** A wrong factor counts one attempt against the challenge
//! through the store's atomic `attempt_code` (the challenge is its own
//! "subject"; after [`MAX_MFA_ATTEMPTS`] wrong ones it is spent), and every
//! try counts against the user's MFA throttle (after ten within an hour,
//! across challenges, each further try waits 1 s, doubling up to 5 minutes).
//! A try is counted *before* its factor is checked, in the store's one atomic
//! step that also decides whether it may proceed, so concurrent guesses
//! cannot slip past the wait together; a right factor clears the count. A
//! right factor spends the challenge with `consume_token`, so of concurrent
//! completions exactly one gets the session.
//!
//! **Enrolment.** When the app requires a second factor and the user has
//! none, the challenge's methods are `["totp_enroll"]`: the `mfa_token` then
//! stands in for a session to [`enroll_totp`](Mfa::enroll_totp) and
//! [`confirm_totp`](Mfa::confirm_totp), which finishes the sign-in.
//!
//! The session's `amr` is the first factor's, plus `otp` for TOTP (or
//! whatever the completing factor adds, e.g. `hwk` for a passkey), plus `mfa`.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::EventKind;
use crate::crypto::{TokenHash, check_token_format, generate_token, prefix};
use crate::limits::{refused, reserve};
use crate::model::Backoff;
use crate::model::{
    App, AppId, ClientInfo, CodeAttempt, CredentialKind, MfaPolicy, OneTimeToken, TokenPurpose,
    User, UserId,
};
use crate::passwords::FAILURE_WINDOW;
use crate::sessions::{AuthSession, MfaChallenge, Sessions};
use crate::totp::{
    CodeCheck, Totp, TotpEnrollment, is_confirmed, normalize_recovery_code, recovery_code_digest,
};
use crate::{Audit, Error, ErrorKind, Inner, Result};

/// Wrong second factors after which an MFA challenge is spent.
pub const MAX_MFA_ATTEMPTS: u32 = 5;
/// Lifetime of an MFA challenge, in seconds.
pub const MFA_TTL_SECS: i64 = 5 * 60;
/// Wrong second factors a user may make (across challenges, within an hour)
/// before each further try must wait.
const FREE_FAILURES: u32 = 2 * MAX_MFA_ATTEMPTS;
/// The longest wait between tries.
const MAX_BACKOFF: Duration = Duration::seconds(300);

/// The backoff of a user's second-factor tries: 1 s after
/// [`FREE_FAILURES`], doubling up to [`MAX_BACKOFF`].
const MFA_BACKOFF: Backoff = Backoff {
    free: FREE_FAILURES,
    first_wait: Duration::seconds(1),
    max_wait: MAX_BACKOFF,
    reset_after: FAILURE_WINDOW,
};

crate::words::protocol_words! {
    /// A way to complete an MFA challenge (its `methods`; also the `method`
    /// of `mfa.failed` audit events).
    pub enum MfaMethod("MFA method") {
        /// A code from an authenticator app.
        Totp => "totp",
        /// One of the user's recovery codes.
        RecoveryCode => "recovery_code",
        /// A passkey.
        Passkey => "passkey",
        /// The app requires a second factor and the user has none: enrol TOTP
        /// with the `mfa_token`, which finishes the sign-in.
        TotpEnroll => "totp_enroll",
    }
}

/// A sign-in waiting for its second factor, as read from its `mfa_token`.
#[derive(Clone, PartialEq)]
pub struct PendingMfa {
    /// Who is signing in.
    pub user: User,
    /// The app signing in to.
    pub app_id: AppId,
    /// The first factor's `amr` values.
    pub amr: Vec<String>,
    /// The first factor (`password`, `email_code`, `magic_link`, `oauth`).
    pub method: String,
    /// How the challenge may be completed.
    pub methods: Vec<MfaMethod>,
    /// When the challenge stops working.
    pub expires_at: DateTime<Utc>,
    /// Wrong attempts so far.
    pub attempts: u32,
    pub(crate) hash: TokenHash,
    pub(crate) pool_id: crate::model::PoolId,
}

impl PendingMfa {
    /// Whether `m` may complete this challenge.
    pub fn allows(&self, m: MfaMethod) -> bool {
        self.methods.contains(&m)
    }

    fn subject(&self) -> String {
        challenge_subject(&self.hash)
    }
}

impl std::fmt::Debug for PendingMfa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingMfa")
            .field("user", &self.user.id)
            .field("app_id", &self.app_id)
            .field("amr", &self.amr)
            .field("methods", &self.methods)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// A sign-in finished by enrolling TOTP: the session, and the recovery codes
/// to show the user this once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrolledSignIn {
    /// The new recovery codes.
    pub recovery_codes: Vec<String>,
    /// The session.
    pub session: AuthSession,
}

fn challenge_subject(hash: &TokenHash) -> String {
    format!("mfa:{}", hash.to_hex())
}

fn throttle_key(user_id: UserId) -> String {
    format!("mfa:{user_id}")
}

/// See [`crate::Tessera::mfa`].
pub struct Mfa<'a> {
    inner: &'a Inner,
}

impl<'a> Mfa<'a> {
    pub(crate) fn new(inner: &'a Inner) -> Self {
        Mfa { inner }
    }

    /// The factors `user` can complete a challenge with, or `None` when no
    /// second factor is asked for.
    async fn methods_for(&self, app: &App, user: &User) -> Result<Option<Vec<MfaMethod>>> {
        let creds = self
            .inner
            .store
            .credentials()
            .list_credentials(user.id, None)
            .await?;
        let totp = creds.iter().any(is_confirmed);
        let passkey = creds.iter().any(|c| c.kind == CredentialKind::Passkey);
        let recovery = creds.iter().any(|c| c.kind == CredentialKind::RecoveryCode);
        let mut methods = Vec::new();
        if totp {
            methods.push(MfaMethod::Totp);
        }
        if passkey {
            methods.push(MfaMethod::Passkey);
        }
        if !methods.is_empty() && recovery {
            methods.push(MfaMethod::RecoveryCode);
        }
        if methods.is_empty() && app.settings.mfa == MfaPolicy::Required {
            methods.push(MfaMethod::TotpEnroll);
        }
        Ok((!methods.is_empty()).then_some(methods))
    }

    /// Called by `finish_first_factor`: store a challenge if a second factor
    /// is needed.
    pub(crate) async fn challenge_if_needed(
        &self,
        app: &App,
        user: &User,
        amr: &[String],
        client: &ClientInfo,
        first: &str,
    ) -> Result<Option<MfaChallenge>> {
        let Some(methods) = self.methods_for(app, user).await? else {
            return Ok(None);
        };
        let now = self.inner.now();
        let (mfa_token, hash) = generate_token(prefix::MFA);
        let token = OneTimeToken {
            hash,
            purpose: TokenPurpose::MfaChallenge.as_str().to_owned(),
            pool_id: user.pool_id,
            app_id: Some(app.id),
            user_id: Some(user.id),
            subject: Some(challenge_subject(&hash)),
            data: json!({
                "amr": amr,
                "method": first,
                "methods": methods,
                "client": client,
            }),
            attempts: 0,
            created_at: now,
            expires_at: now + Duration::seconds(MFA_TTL_SECS),
        };
        self.inner.store.tokens().insert_token(&token).await?;
        self.audit(
            EventKind::MfaChallenged,
            app,
            user,
            client,
            json!({ "methods": methods, "method": first }),
        )
        .await?;
        Ok(Some(MfaChallenge { mfa_token, methods }))
    }

    async fn audit(
        &self,
        kind: EventKind,
        app: &App,
        user: &User,
        client: &ClientInfo,
        data: serde_json::Value,
    ) -> Result<()> {
        Audit::new(self.inner)
            .record_user_event(kind, Some(app), Some(user), Some(client), data)
            .await
    }

    /// Read an MFA challenge without spending it (a failed factor leaves it
    /// usable, up to [`MAX_MFA_ATTEMPTS`]).
    ///
    /// Errors: `invalid_token` (malformed, unknown, expired, spent, or issued
    /// for another app), `user_disabled`.
    pub async fn take_challenge(&self, app: &App, mfa_token: &str) -> Result<PendingMfa> {
        check_token_format(mfa_token, prefix::MFA)?;
        let hash = TokenHash::of(mfa_token);
        let token = self
            .inner
            .store
            .tokens()
            .find_token(TokenPurpose::MfaChallenge.as_str(), &hash, self.inner.now())
            .await?
            .ok_or_else(|| Error::new(ErrorKind::InvalidToken))?;
        let (Some(user_id), true) = (token.user_id, token.app_id == Some(app.id)) else {
            return Err(Error::new(ErrorKind::InvalidToken));
        };
        let user = match self.inner.store.users().get_user(user_id).await {
            Ok(u) => u,
            Err(e) if *e.kind() == ErrorKind::NotFound => {
                return Err(Error::new(ErrorKind::InvalidToken));
            }
            Err(e) => return Err(e),
        };
        if user.disabled {
            return Err(Error::new(ErrorKind::UserDisabled));
        }
        let strings = |key: &str| -> Vec<String> {
            token
                .data
                .get(key)
                .and_then(|v| serde_json::from_value(v.clone()).ok())
                .unwrap_or_default()
        };
        Ok(PendingMfa {
            user,
            app_id: app.id,
            amr: strings("amr"),
            method: token
                .data
                .get("method")
                .and_then(|v| v.as_str())
                .unwrap_or("unknown")
                .to_owned(),
            // A word this version does not know cannot complete the challenge.
            methods: token
                .data
                .get("methods")
                .and_then(|v| v.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|m| m.as_str().and_then(MfaMethod::parse))
                        .collect()
                })
                .unwrap_or_default(),
            expires_at: token.expires_at,
            attempts: token.attempts.max(0) as u32,
            hash,
            pool_id: token.pool_id,
        })
    }

    /// Spend the challenge (one winner among concurrent callers; the others
    /// get `invalid_token`) and start the session, with `amr` = the first
    /// factor's + `factor_amr` + `mfa`. Only after the factor was verified.
    pub(crate) async fn complete_with(
        &self,
        app: &App,
        pending: &PendingMfa,
        factor_amr: &[&str],
        client: &ClientInfo,
    ) -> Result<AuthSession> {
        self.inner
            .store
            .tokens()
            .consume_token(
                TokenPurpose::MfaChallenge.as_str(),
                &pending.hash,
                self.inner.now(),
            )
            .await?;
        let mut amr = pending.amr.clone();
        for v in factor_amr.iter().copied().chain(["mfa"]) {
            if !amr.iter().any(|a| a == v) {
                amr.push(v.to_owned());
            }
        }
        self.clear_rate(pending.user.id).await?;
        Sessions::new(self.inner)
            .start(app, &pending.user, amr, client, &pending.method)
            .await
    }

    /// Count a wrong factor against the challenge and the user's throttle,
    /// record it, and give the error to answer.
    pub(crate) async fn fail_attempt(
        &self,
        app: &App,
        pending: &PendingMfa,
        factor: MfaMethod,
        reason: &str,
        client: &ClientInfo,
    ) -> Error {
        let r: Result<Error> = async {
            let attempt = self
                .inner
                .store
                .tokens()
                .attempt_code(
                    TokenPurpose::MfaChallenge.as_str(),
                    pending.pool_id,
                    &pending.subject(),
                    // No challenge hashes to zero: this always counts as wrong.
                    &TokenHash::default(),
                    MAX_MFA_ATTEMPTS,
                    self.inner.now(),
                )
                .await?;
            let left = match attempt {
                CodeAttempt::Rejected { attempts_left } => attempts_left,
                _ => 0,
            };
            self.audit(
                EventKind::MfaFailed,
                app,
                &pending.user,
                client,
                json!({ "method": factor, "reason": reason, "attempts_left": left }),
            )
            .await?;
            Ok(if left == 0 {
                Error::with_message(
                    ErrorKind::InvalidCredentials,
                    "The code is incorrect. Too many attempts: sign in again.",
                )
            } else {
                Error::with_message(ErrorKind::InvalidCredentials, "The code is incorrect.")
            })
        }
        .await;
        r.unwrap_or_else(|e| e)
    }

    /// The per-user MFA rate limit, without counting: `rate_limited` while
    /// the user's tries are waiting (for steps that check no factor).
    pub(crate) async fn check_rate(&self, user_id: UserId) -> Result<()> {
        let now = self.inner.now();
        if let Some(t) = self
            .inner
            .store
            .throttles()
            .find_throttle(&throttle_key(user_id))
            .await?
            && let Some(until) = t.waiting_until(now, &MFA_BACKOFF)
        {
            return Err(refused(until, now));
        }
        Ok(())
    }

    /// Count a try of a second factor against the user, before it is
    /// checked: `rate_limited` (and not counted) while the user's tries are
    /// waiting. A right factor then calls [`clear_rate`](Self::clear_rate).
    pub(crate) async fn reserve_try(&self, user_id: UserId) -> Result<()> {
        reserve(self.inner, &throttle_key(user_id), &MFA_BACKOFF)
            .await
            .map(|_| ())
    }

    /// Forget the user's counted tries (after a right factor).
    pub(crate) async fn clear_rate(&self, user_id: UserId) -> Result<()> {
        self.inner
            .store
            .throttles()
            .clear_throttle(&throttle_key(user_id))
            .await
    }

    async fn take_for(&self, app: &App, mfa_token: &str, m: MfaMethod) -> Result<PendingMfa> {
        let pending = self.take_challenge(app, mfa_token).await?;
        if !pending.allows(m) {
            return Err(Error::with_message(
                ErrorKind::InvalidInput { field: "method" },
                "This sign-in cannot be completed that way.",
            ));
        }
        self.check_rate(pending.user.id).await?;
        Ok(pending)
    }

    /// Complete a sign-in with a TOTP code (`amr` gains `otp` and `mfa`).
    ///
    /// Errors: `invalid_credentials` (wrong or already used code; after
    /// [`MAX_MFA_ATTEMPTS`] the challenge is spent), `invalid_token`,
    /// `invalid_input` (the user has no TOTP), `rate_limited`, `user_disabled`.
    pub async fn verify_totp(
        &self,
        app: &App,
        mfa_token: &str,
        code: &str,
        client: &ClientInfo,
    ) -> Result<AuthSession> {
        let pending = self.take_for(app, mfa_token, MfaMethod::Totp).await?;
        self.reserve_try(pending.user.id).await?;
        let credential = self
            .inner
            .store
            .credentials()
            .list_credentials(pending.user.id, Some(CredentialKind::Totp))
            .await?
            .into_iter()
            .find(is_confirmed);
        let check = match &credential {
            Some(c) => {
                Totp::new(self.inner)
                    .check_code(&pending.user, c, code)
                    .await?
            }
            None => CodeCheck::Wrong,
        };
        if check != CodeCheck::Accepted {
            return Err(self
                .fail_attempt(app, &pending, MfaMethod::Totp, check.reason(), client)
                .await);
        }
        if let Some(c) = credential {
            self.inner
                .store
                .credentials()
                .touch_credential(c.id, self.inner.now())
                .await?;
        }
        self.complete_with(app, &pending, &["otp"], client).await
    }

    /// Complete a sign-in with a recovery code, which is spent (once, even
    /// under concurrency). `amr` gains `mfa`.
    ///
    /// Errors: as [`verify_totp`](Self::verify_totp).
    pub async fn verify_recovery_code(
        &self,
        app: &App,
        mfa_token: &str,
        recovery_code: &str,
        client: &ClientInfo,
    ) -> Result<AuthSession> {
        let pending = self
            .take_for(app, mfa_token, MfaMethod::RecoveryCode)
            .await?;
        self.reserve_try(pending.user.id).await?;
        let store = self.inner.store.credentials();
        let spent = match normalize_recovery_code(recovery_code) {
            Some(canonical) => {
                let left = store
                    .list_credentials(pending.user.id, Some(CredentialKind::RecoveryCode))
                    .await?
                    .len();
                let event = Audit::new(self.inner).user_event(
                    EventKind::RecoveryCodeUsed,
                    Some(app),
                    &pending.user,
                    Some(client),
                    json!({ "remaining": left.saturating_sub(1) }),
                );
                store
                    .consume_credential(
                        pending.user.id,
                        CredentialKind::RecoveryCode,
                        &recovery_code_digest(pending.user.id, &canonical),
                        &[event],
                    )
                    .await?
            }
            None => false,
        };
        if !spent {
            return Err(self
                .fail_attempt(app, &pending, MfaMethod::RecoveryCode, "wrong_code", client)
                .await);
        }
        self.complete_with(app, &pending, &[], client).await
    }

    /// Start TOTP enrolment for a sign-in whose app requires a second factor
    /// the user does not have yet (methods `["totp_enroll"]`); the `mfa_token`
    /// stands in for a session. Finish with [`confirm_totp`](Self::confirm_totp).
    ///
    /// Errors: `invalid_token`, `invalid_input` (the challenge is not an
    /// enrolment), `conflict`.
    pub async fn enroll_totp(
        &self,
        app: &App,
        mfa_token: &str,
        client: &ClientInfo,
    ) -> Result<TotpEnrollment> {
        let pending = self.take_for(app, mfa_token, MfaMethod::TotpEnroll).await?;
        Totp::new(self.inner)
            .enroll_user(app, &pending.user, client)
            .await
    }

    /// The enrolment started with [`enroll_totp`](Self::enroll_totp) and not
    /// yet confirmed, shown again; `None` if none was started.
    pub async fn pending_enrollment(
        &self,
        app: &App,
        mfa_token: &str,
    ) -> Result<Option<TotpEnrollment>> {
        let pending = self.take_for(app, mfa_token, MfaMethod::TotpEnroll).await?;
        Totp::new(self.inner).pending_for(app, &pending.user).await
    }

    /// Confirm the enrolment started with [`enroll_totp`](Self::enroll_totp)
    /// and finish the sign-in (`amr` gains `otp` and `mfa`); the answer carries
    /// the new recovery codes to show once.
    ///
    /// Errors: as [`verify_totp`](Self::verify_totp), and `not_found` (no
    /// enrolment started).
    pub async fn confirm_totp(
        &self,
        app: &App,
        mfa_token: &str,
        code: &str,
        client: &ClientInfo,
    ) -> Result<EnrolledSignIn> {
        let pending = self.take_for(app, mfa_token, MfaMethod::TotpEnroll).await?;
        self.reserve_try(pending.user.id).await?;
        let confirmed = Totp::new(self.inner)
            .confirm_user(app, &pending.user, code, client)
            .await?;
        let recovery_codes = match confirmed {
            Ok(codes) => codes,
            Err(check) => {
                return Err(self
                    .fail_attempt(app, &pending, MfaMethod::Totp, check.reason(), client)
                    .await);
            }
        };
        let session = self.complete_with(app, &pending, &["otp"], client).await?;
        Ok(EnrolledSignIn {
            recovery_codes,
            session,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_starts_after_two_challenges_worth_and_is_capped() {
        let wait = |n| MFA_BACKOFF.wait_after(n);
        assert_eq!(wait(9), Duration::zero());
        assert_eq!(wait(10), Duration::seconds(1));
        assert_eq!(wait(12), Duration::seconds(4));
        assert_eq!(wait(40), MAX_BACKOFF);
        assert_eq!(wait(u32::MAX), MAX_BACKOFF);
    }
}
