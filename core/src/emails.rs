//! Email flows: verification, password reset, one-time sign-in codes, magic
//! links and email change, and the delivery of queued mail.
//!
//! Each flow stores only the hash of its secret and queues its mail in the
//! same atomic store step ([`crate::store::MailOutboxStore::enqueue_mail`]);
//! the mail's content is sealed under the key-encryption key until it is sent,
//! then deleted. "Send" flows answer the same whether or not the address has
//! an account, and send nothing for an unknown address (or, when the app asks
//! for it, a short note saying there is no account). Each address gets at most
//! [`SENDS_PER_HOUR`] messages an hour, counted whether or not it has an
//! account.
//!
//! **Equal work for known and unknown addresses** (issue 15, item 10). Not
//! only the answer but the work behind it must not depend on the account:
//! the faces answer before the flow runs, but the flow's writes still
//! compete for the database (SQLite has one writer) with the *next* request,
//! so a flow that wrote more for known addresses made the request after it
//! measurably slower. So every "send" flow ([`Emails::send`]) makes the same
//! store calls in the same order either way: count the send, look the
//! address up, (reset) delete the account's older links, store one token and
//! queue one message in one step, record one audit event. For an address
//! without a (live) account the token is a *decoy* (random, bound to no
//! user, never mailed, so nobody can use it; it expires like any other) and
//! the message is a decoy too: the rendered mail sealed as [`Outgoing`]'s
//! decoy, which the mail worker claims and deletes like a sent message but
//! never hands to the mailer. Sign-up on an app that requires a verified
//! email does the same for an address that is taken: where a new account
//! gets its verification link, the taken one gets a decoy
//! ([`Emails::queue_decoy_verification`]). What still differs is outside the
//! database: the mailer's SMTP conversation, which happens in the mail
//! worker, after the request, for mail the address's owner asked for.

use std::sync::Arc;

use chrono::Duration;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::EventKind;
use crate::crypto::{TokenHash, check_token_format, generate_token, prefix, random_bytes};
use crate::mail::{Mail, Mailer, kind, render};
use crate::model::{
    App, ClientInfo, OneTimeToken, OutboxMail, SignInMethod, TokenPurpose, User, UserId, UserPatch,
};
use crate::sessions::SignInOutcome;
use crate::validate::{check_new_password, normalize_email};
use crate::{Audit, Error, ErrorKind, Inner, Result, Sessions, new_id};

/// Most messages one address receives in an hour.
pub const SENDS_PER_HOUR: u32 = 5;
/// Wrong guesses that spend a sign-in code.
pub const MAX_CODE_ATTEMPTS: u32 = 5;
const VERIFY_TTL: Duration = Duration::hours(24);
const RESET_TTL: Duration = Duration::hours(1);
const CODE_TTL: Duration = Duration::minutes(10);
const MAGIC_TTL: Duration = Duration::minutes(15);
const CHANGE_TTL: Duration = Duration::hours(24);
/// A worker holds a message this long before another may retry it.
const LEASE: Duration = Duration::minutes(2);
/// After this many attempts a message is dropped (and the failure logged).
const MAX_DELIVERY_ATTEMPTS: i32 = 20;

/// What a delivery run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Messages handed to the mailer.
    pub sent: u32,
    /// Messages that failed and will be retried.
    pub failed: u32,
    /// Decoys (see the module docs) claimed and deleted without sending.
    pub decoys: u32,
}

/// What one outbox row holds, sealed: a message to send, or a decoy written
/// in its place for an address without an account (see the module docs).
/// Rows queued before decoys existed hold a bare [`Mail`] and read as `Send`.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Outgoing {
    /// Never sent: claimed and deleted by the worker like a sent message.
    Decoy {
        /// The mail the address would have got, rendered all the same.
        decoy: Mail,
    },
    /// Sent to `to`.
    Send(Mail),
}

/// A finished magic-link sign-in.
#[derive(Debug, Clone, PartialEq)]
pub struct MagicLinkSignIn {
    /// The outcome (a session, or a second factor to complete).
    pub outcome: SignInOutcome,
    /// The app signed in to.
    pub app: App,
    /// Where the link asked to go afterwards, if anywhere.
    pub redirect_uri: Option<String>,
}

/// A flow that emails an address if it has an account, answering the same
/// either way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendFlow {
    /// A password-reset link.
    PasswordReset,
    /// A six-digit sign-in code.
    SignInCode,
    /// A magic sign-in link, to a registered URI or the hosted page.
    MagicLink {
        /// Where the link leads (one of the app's registered URIs).
        redirect_uri: Option<String>,
    },
}

/// Email flows; see [`crate::Tessera::emails`].
pub struct Emails<'a> {
    inner: &'a Inner,
}

/// The stored hash of a code: unambiguous, and distinct per purpose and pool.
fn code_hash(purpose: TokenPurpose, pool: uuid::Uuid, subject: &str, code: &str) -> TokenHash {
    TokenHash::of(&format!("{purpose}\u{0}{pool}\u{0}{subject}\u{0}{code}"))
}

/// A uniformly random six-digit code.
fn six_digits() -> String {
    loop {
        let v = u32::from_le_bytes(random_bytes::<4>());
        // 4_294_000_000 is a multiple of 10^6 below 2^32: no modulo bias.
        if v < 4_294_000_000 {
            return format!("{:06}", v % 1_000_000);
        }
    }
}

impl<'a> Emails<'a> {
    pub(crate) fn new(inner: &'a Inner) -> Self {
        Emails { inner }
    }

    fn link(&self, path: &str, token: &str, app: &App) -> String {
        format!("{}{path}?token={token}&app={}", self.inner.issuer, app.slug)
    }

    fn token(
        &self,
        hash: TokenHash,
        purpose: TokenPurpose,
        app: &App,
        user: Option<&User>,
        subject: &str,
        ttl: Duration,
    ) -> OneTimeToken {
        let now = self.inner.now();
        OneTimeToken {
            hash,
            purpose: purpose.as_str().to_owned(),
            pool_id: app.pool_id,
            app_id: Some(app.id),
            user_id: user.map(|u| u.id),
            subject: Some(subject.to_owned()),
            data: json!({}),
            attempts: 0,
            created_at: now,
            expires_at: now + ttl,
        }
    }

    /// Queue `mail`, with `token` stored in the same step.
    async fn queue(
        &self,
        mail: &Mail,
        token: Option<&OneTimeToken>,
        replace_code: bool,
    ) -> Result<()> {
        self.queue_outgoing(&Outgoing::Send(mail.clone()), token, replace_code)
            .await
    }

    /// Queue `outgoing`, with `token` stored in the same step.
    async fn queue_outgoing(
        &self,
        outgoing: &Outgoing,
        token: Option<&OneTimeToken>,
        replace_code: bool,
    ) -> Result<()> {
        let now = self.inner.now();
        let id = new_id(now);
        let body = serde_json::to_vec(outgoing).map_err(Error::internal)?;
        let sealed = self
            .inner
            .keyring
            .seal(&body, format!("tessera/mail/{id}").as_bytes())?;
        let row = OutboxMail {
            id,
            sealed,
            created_at: now,
            attempts: 0,
            next_attempt_at: now,
            leased_until: None,
            last_error: None,
        };
        self.inner
            .store
            .mail()
            .enqueue_mail(&row, token, replace_code)
            .await?;
        self.inner.mail_ready.notify_one();
        Ok(())
    }

    /// Count a message to `email`; `false` once the address had its share this hour.
    async fn may_send(&self, app: &App, email: &str) -> Result<bool> {
        let now = self.inner.now();
        let key = format!("mail:{}:{email}", app.pool_id);
        let t = self
            .inner
            .store
            .throttles()
            .record_failure(&key, now, now - Duration::hours(1))
            .await?;
        Ok(t.failures <= SENDS_PER_HOUR)
    }

    /// The live account of `email` on `app`'s pool, if any. When there is
    /// none and the app asks for it, the note to an unknown address is
    /// rendered (to queue in the decoy's place).
    async fn account(&self, app: &App, email: &str) -> Result<(Option<User>, Option<Mail>)> {
        let user = self
            .inner
            .store
            .users()
            .find_user_by_email(app.pool_id, email)
            .await?
            .filter(|u| !u.disabled);
        let note = match (&user, app.settings.notify_unknown_addresses) {
            (None, true) => Some(render(app, kind::UNKNOWN_ADDRESS, email, None, None)?),
            _ => None,
        };
        Ok((user, note))
    }

    /// Queue `mail` with `token` for `user`, or, without a user, a decoy of
    /// each (or the note to an unknown address with the decoy token): the
    /// same store step either way (see the module docs).
    async fn queue_for(
        &self,
        user: Option<&User>,
        mail: Mail,
        note: Option<Mail>,
        token: &OneTimeToken,
        replace_code: bool,
    ) -> Result<()> {
        let outgoing = match (user, note) {
            (Some(_), _) => Outgoing::Send(mail),
            (None, Some(note)) => Outgoing::Send(note),
            (None, None) => Outgoing::Decoy { decoy: mail },
        };
        self.queue_outgoing(&outgoing, Some(token), replace_code)
            .await
    }

    /// For sign-up on an app that requires a verified email, when `email` is
    /// taken: the store work a new account's verification link costs (count
    /// the send, one token and one message in one step), as decoys, so the
    /// answer (202 either way) does not come sooner for taken addresses.
    pub(crate) async fn queue_decoy_verification(&self, app: &App, email: &str) -> Result<()> {
        self.queue_verification(app, None, email).await
    }

    /// Count the send and queue a verification link for `email`: a real one
    /// for `user`, a decoy without one (see the module docs).
    async fn queue_verification(&self, app: &App, user: Option<&User>, email: &str) -> Result<()> {
        if !self.may_send(app, email).await? {
            return Ok(());
        }
        let (secret, hash) = generate_token(prefix::VERIFY_EMAIL);
        let token = self.token(
            hash,
            TokenPurpose::VerifyEmail,
            app,
            user,
            email,
            VERIFY_TTL,
        );
        let mail = render(
            app,
            kind::VERIFY_EMAIL,
            email,
            Some(&self.link("/verify-email", &secret, app)),
            None,
        )?;
        self.queue_for(user, mail, None, &token, false).await
    }

    fn require(app: &App, method: SignInMethod) -> Result<()> {
        if app.settings.allows(method) {
            Ok(())
        } else {
            Err(Error::new(ErrorKind::MethodDisabled))
        }
    }

    async fn audit(
        &self,
        kind: EventKind,
        app: Option<&App>,
        user: Option<&User>,
        client: Option<&ClientInfo>,
        data: serde_json::Value,
    ) -> Result<()> {
        Audit::new(self.inner)
            .record_user_event(kind, app, user, client, data)
            .await
    }

    /// Spend a link token: `invalid_token` if unknown or spent, `token_expired`.
    async fn spend(
        &self,
        purpose: TokenPurpose,
        token: &str,
        prefix: &str,
    ) -> Result<OneTimeToken> {
        check_token_format(token, prefix)?;
        self.inner
            .store
            .tokens()
            .consume_token(purpose.as_str(), &TokenHash::of(token), self.inner.now())
            .await
    }

    async fn token_app(&self, t: &OneTimeToken) -> Result<App> {
        match t.app_id {
            Some(id) => self.inner.store.apps().get_app(id).await,
            None => crate::Apps::new(self.inner).default_app().await,
        }
    }

    /// Mark the user's address verified (a code or link sent to it came
    /// back), with its `email.verified` event.
    async fn mark_verified(
        &self,
        app: &App,
        user: User,
        client: Option<&ClientInfo>,
    ) -> Result<User> {
        if user.email_verified {
            return Ok(user);
        }
        let patch = UserPatch {
            email_verified: Some(true),
            ..Default::default()
        };
        let audit = Audit::new(self.inner);
        self.inner
            .store
            .users()
            .update_user(user.id, &patch, self.inner.now(), &|u| {
                vec![audit.user_event(EventKind::EmailVerified, Some(app), u, client, json!({}))]
            })
            .await
    }

    /// Send `user_id` a link that verifies their address (nothing if it is verified).
    pub async fn send_verification(&self, app: &App, user_id: UserId) -> Result<()> {
        let user = self.inner.store.users().get_user(user_id).await?;
        self.send_verification_to(app, &user).await
    }

    /// [`send_verification`](Self::send_verification) for a user already at hand.
    pub(crate) async fn send_verification_to(&self, app: &App, user: &User) -> Result<()> {
        if user.email_verified || user.pool_id != app.pool_id {
            return Ok(());
        }
        self.queue_verification(app, Some(user), &user.email).await
    }

    /// Verify an address with the token of a verification link.
    ///
    /// Errors: `invalid_token` (unknown, spent, or for an address the user no
    /// longer has), `token_expired`.
    pub async fn verify_email(&self, token: &str) -> Result<User> {
        let t = self
            .spend(TokenPurpose::VerifyEmail, token, prefix::VERIFY_EMAIL)
            .await?;
        let user_id = t
            .user_id
            .ok_or_else(|| Error::new(ErrorKind::InvalidToken))?;
        let user = match self.inner.store.users().get_user(user_id).await {
            Ok(u) => u,
            Err(e) if *e.kind() == ErrorKind::NotFound => {
                return Err(Error::new(ErrorKind::InvalidToken));
            }
            Err(e) => return Err(e),
        };
        if t.subject.as_deref() != Some(user.email.as_str()) {
            return Err(Error::new(ErrorKind::InvalidToken));
        }
        let app = self.token_app(&t).await?;
        self.mark_verified(&app, user, None).await
    }

    /// The checks of a "send" flow that do not depend on whether the address
    /// has an account (the method is enabled, the address and redirect URI
    /// are acceptable); answers the normalised address. A face that must not
    /// reveal accounts through timing runs these, answers, and only then does
    /// the rest with [`send`](Self::send) (the HTTP server does).
    pub fn check_send(app: &App, flow: &SendFlow, email: &str) -> Result<String> {
        match flow {
            SendFlow::PasswordReset => {}
            SendFlow::SignInCode => Self::require(app, SignInMethod::EmailCode)?,
            SendFlow::MagicLink { redirect_uri } => {
                Self::require(app, SignInMethod::MagicLink)?;
                if let Some(uri) = redirect_uri
                    && !app.settings.redirect_uris.iter().any(|r| r == uri)
                {
                    return Err(Error::invalid(
                        "redirect_uri",
                        "the redirect URI is not registered for this app",
                    ));
                }
            }
        }
        normalize_email(email)
    }

    /// Run a "send" flow: [`send_password_reset`](Self::send_password_reset),
    /// [`send_sign_in_code`](Self::send_sign_in_code) or
    /// [`send_magic_link`](Self::send_magic_link).
    pub async fn send(
        &self,
        app: &App,
        flow: &SendFlow,
        email: &str,
        client: &ClientInfo,
    ) -> Result<()> {
        match flow {
            SendFlow::PasswordReset => self.send_password_reset(app, email, client).await,
            SendFlow::SignInCode => self.send_sign_in_code(app, email, client).await,
            SendFlow::MagicLink { redirect_uri } => {
                self.send_magic_link(app, email, redirect_uri.as_deref(), client)
                    .await
            }
        }
    }

    /// Send a password-reset link to `email`, if it has an account. Answers the
    /// same either way.
    pub async fn send_password_reset(
        &self,
        app: &App,
        email: &str,
        client: &ClientInfo,
    ) -> Result<()> {
        let email = Self::check_send(app, &SendFlow::PasswordReset, email)?;
        if !self.may_send(app, &email).await? {
            return Ok(());
        }
        // From here, the same store calls with or without an account.
        let (user, note) = self.account(app, &email).await?;
        // Only the newest link works. (Without an account: a random id, so
        // the same delete finds nothing.)
        let owner = user
            .as_ref()
            .map_or_else(|| new_id(self.inner.now()), |u| u.id);
        self.inner
            .store
            .tokens()
            .delete_user_tokens(owner, TokenPurpose::PasswordReset.as_str())
            .await?;
        let (secret, hash) = generate_token(prefix::PASSWORD_RESET);
        let token = self.token(
            hash,
            TokenPurpose::PasswordReset,
            app,
            user.as_ref(),
            &email,
            RESET_TTL,
        );
        let mail = render(
            app,
            kind::PASSWORD_RESET,
            &email,
            Some(&self.link("/reset-password", &secret, app)),
            None,
        )?;
        self.queue_for(user.as_ref(), mail, note, &token, false)
            .await?;
        self.audit(
            EventKind::PasswordResetRequested,
            Some(app),
            user.as_ref(),
            Some(client),
            json!({ "account": user.is_some() }),
        )
        .await
    }

    /// Set a new password with the token of a reset link. Every session of the
    /// user is revoked, the address counts as verified, and the user is told.
    ///
    /// Errors: `invalid_token`, `token_expired`, `weak_password` (the token
    /// stays usable, so the user can try another password).
    pub async fn reset_password(
        &self,
        token: &str,
        new_password: &str,
        client: &ClientInfo,
    ) -> Result<()> {
        check_token_format(token, prefix::PASSWORD_RESET)?;
        let hash = TokenHash::of(token);
        let now = self.inner.now();
        let Some(peek) = self
            .inner
            .store
            .tokens()
            .find_token(TokenPurpose::PasswordReset.as_str(), &hash, now)
            .await?
        else {
            // Expired or unknown: spending it says which (and removes an expired one).
            self.spend(TokenPurpose::PasswordReset, token, prefix::PASSWORD_RESET)
                .await?;
            return Err(Error::new(ErrorKind::InvalidToken));
        };
        let app = self.token_app(&peek).await?;
        let user_id = peek
            .user_id
            .ok_or_else(|| Error::new(ErrorKind::InvalidToken))?;
        let user = self.inner.store.users().get_user(user_id).await?;
        let mut context = vec![user.email.as_str(), app.name.as_str()];
        if let Some(n) = &user.name {
            context.push(n);
        }
        check_new_password(new_password, app.settings.min_password_score, &context)?;
        let phc = self.inner.hasher.hash(new_password).await?;
        // Exactly one of racing resets gets here.
        self.spend(TokenPurpose::PasswordReset, token, prefix::PASSWORD_RESET)
            .await?;
        let now = self.inner.now();
        let event = Audit::new(self.inner).user_event(
            EventKind::PasswordReset,
            Some(&app),
            &user,
            Some(client),
            json!({}),
        );
        self.inner
            .store
            .credentials()
            .set_password(user.id, &phc, now, &[event])
            .await?;
        crate::sessions::revoke_user_sessions(self.inner, user.id, None, "password_reset").await?;
        self.inner
            .store
            .throttles()
            .clear_throttle(&crate::passwords::throttle_key(&user.pool_id, &user.email))
            .await?;
        let user = self.mark_verified(&app, user, Some(client)).await?;
        let mail = render(&app, kind::PASSWORD_CHANGED, &user.email, None, None)?;
        self.queue(&mail, None, false).await
    }

    /// Send a six-digit sign-in code to `email`, if it has an account (a new
    /// code replaces the last one). Answers the same either way.
    pub async fn send_sign_in_code(
        &self,
        app: &App,
        email: &str,
        client: &ClientInfo,
    ) -> Result<()> {
        let email = Self::check_send(app, &SendFlow::SignInCode, email)?;
        if !self.may_send(app, &email).await? {
            return Ok(());
        }
        // From here, the same store calls with or without an account.
        let (user, note) = self.account(app, &email).await?;
        let code = six_digits();
        let hash = code_hash(TokenPurpose::EmailCode, app.pool_id, &email, &code);
        let token = self.token(
            hash,
            TokenPurpose::EmailCode,
            app,
            user.as_ref(),
            &email,
            CODE_TTL,
        );
        let mail = render(app, kind::SIGN_IN_CODE, &email, None, Some(&code))?;
        self.queue_for(user.as_ref(), mail, note, &token, true)
            .await?;
        self.audit(
            EventKind::SignInCodeSent,
            Some(app),
            user.as_ref(),
            Some(client),
            json!({ "account": user.is_some() }),
        )
        .await
    }

    /// Sign in with an emailed code. A code works once, for 10 minutes, and is
    /// spent after [`MAX_CODE_ATTEMPTS`] wrong guesses. Every failure answers
    /// `invalid_credentials` (an expired code, a wrong one and an address
    /// without a code look the same).
    pub async fn sign_in_with_code(
        &self,
        app: &App,
        email: &str,
        code: &str,
        client: &ClientInfo,
    ) -> Result<SignInOutcome> {
        Self::require(app, SignInMethod::EmailCode)?;
        let fail = |reason: &'static str| async move {
            self.audit(
                EventKind::SignInFailed,
                Some(app),
                None,
                Some(client),
                json!({ "method": "email_code", "reason": reason }),
            )
            .await?;
            Err::<SignInOutcome, Error>(Error::new(ErrorKind::InvalidCredentials))
        };
        let Ok(email) = normalize_email(email) else {
            return fail("invalid_email").await;
        };
        let code = code.trim();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return fail("malformed_code").await;
        }
        let hash = code_hash(TokenPurpose::EmailCode, app.pool_id, &email, code);
        let attempt = self
            .inner
            .store
            .tokens()
            .attempt_code(
                TokenPurpose::EmailCode.as_str(),
                app.pool_id,
                &email,
                &hash,
                MAX_CODE_ATTEMPTS,
                self.inner.now(),
            )
            .await?;
        let token = match attempt {
            crate::model::CodeAttempt::Accepted(t) => t,
            crate::model::CodeAttempt::Rejected { .. } => return fail("wrong_code").await,
            crate::model::CodeAttempt::Expired => return fail("expired_code").await,
            crate::model::CodeAttempt::NotFound => return fail("no_code").await,
        };
        self.finish_sign_in(app, &token, client, "email_code").await
    }

    async fn finish_sign_in(
        &self,
        app: &App,
        token: &OneTimeToken,
        client: &ClientInfo,
        method: &str,
    ) -> Result<SignInOutcome> {
        let Some(user_id) = token.user_id else {
            return Err(Error::new(ErrorKind::InvalidCredentials));
        };
        let user = match self.inner.store.users().get_user(user_id).await {
            Ok(u) => u,
            Err(e) if *e.kind() == ErrorKind::NotFound => {
                return Err(Error::new(ErrorKind::InvalidCredentials));
            }
            Err(e) => return Err(e),
        };
        if user.disabled {
            self.audit(
                EventKind::SignInFailed,
                Some(app),
                Some(&user),
                Some(client),
                json!({ "method": method, "reason": "user_disabled" }),
            )
            .await?;
            return Err(Error::new(ErrorKind::UserDisabled));
        }
        // The code or link reached the address: it is verified now.
        let user = self.mark_verified(app, user, Some(client)).await?;
        Sessions::new(self.inner)
            .finish_first_factor(app, &user, vec!["otp".into()], client, method)
            .await
    }

    /// Send a magic sign-in link to `email`, if it has an account. With a
    /// `redirect_uri` (one of the app's registered URIs) the link goes there
    /// with `?token=`, for the app to exchange at
    /// [`sign_in_with_magic_link`](Self::sign_in_with_magic_link); otherwise
    /// it opens the hosted page. Answers the same either way.
    pub async fn send_magic_link(
        &self,
        app: &App,
        email: &str,
        redirect_uri: Option<&str>,
        client: &ClientInfo,
    ) -> Result<()> {
        let flow = SendFlow::MagicLink {
            redirect_uri: redirect_uri.map(str::to_owned),
        };
        let email = Self::check_send(app, &flow, email)?;
        if !self.may_send(app, &email).await? {
            return Ok(());
        }
        // From here, the same store calls with or without an account.
        let (user, note) = self.account(app, &email).await?;
        let (secret, hash) = generate_token(prefix::MAGIC_LINK);
        let mut token = self.token(
            hash,
            TokenPurpose::MagicLink,
            app,
            user.as_ref(),
            &email,
            MAGIC_TTL,
        );
        token.data = json!({ "redirect_uri": redirect_uri });
        let link = match redirect_uri {
            Some(uri) => format!(
                "{uri}{}token={secret}",
                if uri.contains('?') { '&' } else { '?' }
            ),
            None => self.link("/magic-link", &secret, app),
        };
        let mail = render(app, kind::MAGIC_LINK, &email, Some(&link), None)?;
        self.queue_for(user.as_ref(), mail, note, &token, false)
            .await?;
        self.audit(
            EventKind::MagicLinkSent,
            Some(app),
            user.as_ref(),
            Some(client),
            json!({ "account": user.is_some() }),
        )
        .await
    }

    /// Sign in with the token of a magic link (once, within 15 minutes).
    ///
    /// Errors: `invalid_token`, `token_expired`, `user_disabled`.
    pub async fn sign_in_with_magic_link(
        &self,
        token: &str,
        client: &ClientInfo,
    ) -> Result<MagicLinkSignIn> {
        let t = self
            .spend(TokenPurpose::MagicLink, token, prefix::MAGIC_LINK)
            .await?;
        let app = self.token_app(&t).await?;
        let outcome = match self.finish_sign_in(&app, &t, client, "magic_link").await {
            Err(e) if *e.kind() == ErrorKind::InvalidCredentials => {
                return Err(Error::new(ErrorKind::InvalidToken));
            }
            other => other?,
        };
        let redirect_uri = t
            .data
            .get("redirect_uri")
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        Ok(MagicLinkSignIn {
            outcome,
            app,
            redirect_uri,
        })
    }

    /// Ask to change a signed-in user's address: a confirmation link goes to
    /// the new address, and the old one is told. Nothing is sent when the new
    /// address already belongs to another account (the answer is the same).
    pub async fn request_email_change(
        &self,
        app: &App,
        user_id: UserId,
        new_email: &str,
        client: &ClientInfo,
    ) -> Result<()> {
        let user = self.inner.store.users().get_user(user_id).await?;
        let new_email = normalize_email(new_email)?;
        if new_email == user.email {
            return Err(Error::invalid("new_email", "this is already your address"));
        }
        if !self.may_send(app, &new_email).await?
            || self
                .inner
                .store
                .users()
                .find_user_by_email(user.pool_id, &new_email)
                .await?
                .is_some()
        {
            return Ok(());
        }
        let (secret, hash) = generate_token(prefix::EMAIL_CHANGE);
        let mut token = self.token(
            hash,
            TokenPurpose::EmailChange,
            app,
            Some(&user),
            &new_email,
            CHANGE_TTL,
        );
        token.data = json!({ "old_email": user.email });
        let mail = render(
            app,
            kind::EMAIL_CHANGE,
            &new_email,
            Some(&self.link("/confirm-email-change", &secret, app)),
            None,
        )?;
        self.queue(&mail, Some(&token), false).await?;
        let notice = render(app, kind::EMAIL_CHANGE_NOTICE, &user.email, None, None)?;
        self.queue(&notice, None, false).await?;
        self.audit(
            EventKind::EmailChangeRequested,
            Some(app),
            Some(&user),
            Some(client),
            json!({}),
        )
        .await
    }

    /// Confirm an address change with the token from the new address. The old
    /// address is told.
    ///
    /// Errors: `invalid_token`, `token_expired`, `email_taken` (the address was
    /// taken meanwhile).
    pub async fn confirm_email_change(&self, token: &str, client: &ClientInfo) -> Result<User> {
        let t = self
            .spend(TokenPurpose::EmailChange, token, prefix::EMAIL_CHANGE)
            .await?;
        let (Some(user_id), Some(new_email)) = (t.user_id, t.subject.clone()) else {
            return Err(Error::new(ErrorKind::InvalidToken));
        };
        let old = self.inner.store.users().get_user(user_id).await?;
        let patch = UserPatch {
            email: Some(new_email),
            email_verified: Some(true),
            ..Default::default()
        };
        let app = self.token_app(&t).await?;
        let audit = Audit::new(self.inner);
        let user = self
            .inner
            .store
            .users()
            .update_user(user_id, &patch, self.inner.now(), &|u| {
                vec![audit.user_event(
                    EventKind::EmailChanged,
                    Some(&app),
                    u,
                    Some(client),
                    json!({}),
                )]
            })
            .await?;
        let mail = render(&app, kind::EMAIL_CHANGED, &old.email, None, None)?;
        self.queue(&mail, None, false).await?;
        Ok(user)
    }

    /// Hand up to `limit` due messages to `mailer`: delivered ones are deleted,
    /// failed ones retried later with exponential backoff (30 s doubling, at
    /// most an hour; dropped after 20 attempts). Safe to run on every instance.
    pub async fn deliver_pending(&self, mailer: &dyn Mailer, limit: u32) -> Result<DeliveryReport> {
        let now = self.inner.now();
        let outbox = self.inner.store.mail();
        let mut report = DeliveryReport::default();
        for row in outbox.claim_mail(now, now + LEASE, limit).await? {
            let aad = format!("tessera/mail/{}", row.id);
            let result = match self.inner.keyring.open(&row.sealed, aad.as_bytes()) {
                Ok(body) => match serde_json::from_slice::<Outgoing>(&body) {
                    Ok(Outgoing::Send(mail)) => mailer.send(&mail).await.map(|()| true),
                    Ok(Outgoing::Decoy { .. }) => Ok(false),
                    Err(e) => Err(Error::internal(e)),
                },
                Err(e) => Err(e),
            };
            match result {
                Ok(sent) => {
                    outbox.complete_mail(row.id).await?;
                    if sent {
                        report.sent += 1;
                    } else {
                        report.decoys += 1;
                    }
                }
                Err(e) if row.attempts >= MAX_DELIVERY_ATTEMPTS => {
                    tracing::error!(mail = %row.id, error = %e, "giving up on a message after {} attempts", row.attempts);
                    outbox.complete_mail(row.id).await?;
                    report.failed += 1;
                }
                Err(e) => {
                    tracing::warn!(mail = %row.id, attempt = row.attempts, error = %e, "mail delivery failed; will retry");
                    let backoff = Duration::seconds(30 * (1i64 << (row.attempts.clamp(1, 8) - 1)))
                        .min(Duration::hours(1));
                    outbox
                        .retry_mail(row.id, self.inner.now() + backoff, e.code())
                        .await?;
                    report.failed += 1;
                }
            }
        }
        Ok(report)
    }

    /// Deliver mail until the future is dropped: whenever mail is queued by this
    /// instance, and every `poll` for mail queued by others or due for retry.
    /// (Embedders that should not keep the Tessera alive with a worker use
    /// [`Tessera::mail_worker`](crate::Tessera::mail_worker).)
    pub async fn run_worker(&self, mailer: Arc<dyn Mailer>, poll: std::time::Duration) {
        loop {
            self.deliver_round(mailer.as_ref()).await;
            self.wait_for_mail(poll).await;
        }
    }

    /// Deliver everything that is due, in batches.
    pub(crate) async fn deliver_round(&self, mailer: &dyn Mailer) {
        loop {
            match self.deliver_pending(mailer, 50).await {
                Ok(r) if r.sent + r.failed + r.decoys == 50 => continue,
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "mail worker could not read the outbox");
                    break;
                }
            }
        }
    }

    /// Until this instance queues mail, or `poll` passes.
    pub(crate) async fn wait_for_mail(&self, poll: std::time::Duration) {
        tokio::select! {
            () = self.inner.mail_ready.notified() => {},
            () = tokio::time::sleep(poll) => {},
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits_and_hashes_are_unambiguous() {
        for _ in 0..100 {
            let c = six_digits();
            assert_eq!(c.len(), 6);
            assert!(c.bytes().all(|b| b.is_ascii_digit()));
        }
        let pool = uuid::Uuid::nil();
        let (p, q) = (TokenPurpose::EmailCode, TokenPurpose::MagicLink);
        assert_ne!(
            code_hash(p, pool, "x@a.com1", "23456"),
            code_hash(p, pool, "x@a.com", "123456")
        );
        assert_ne!(
            code_hash(p, pool, "x@a.com", "123456"),
            code_hash(q, pool, "x@a.com", "123456")
        );
        // The stored form of codes issued before the purpose was an enum.
        assert_eq!(
            code_hash(p, pool, "x@a.com", "123456"),
            TokenHash::of(&format!("email_code\u{0}{pool}\u{0}x@a.com\u{0}123456"))
        );
    }
}
