//! TOTP second factor and recovery codes.
//!
//! A TOTP secret (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps) is a
//! [`Credential`] of kind `totp`, its secret sealed under the key-encryption
//! key and bound to the credential's id, inactive (`data.confirmed = false`)
//! until the user proves their authenticator works by entering a first code.
//!
//! **A code is accepted once.** A matching code (within one step either side
//! of now) is only accepted if inserting a one-time marker for (user, time
//! step) succeeds: the store's unique token hash decides, so of many
//! concurrent requests with one code exactly one wins, on every backend and
//! every instance, with no read-modify-write.
//!
//! **Recovery codes** (10, `xxxx-xxxx-xxxx-xxxx`: 80 bits in a readable base-32 alphabet) are
//! stored only as SHA-256 digests salted with the user id, as credentials of
//! kind `recovery_code`, and spent with the store's atomic
//! `consume_credential`. They are shown once, when TOTP is confirmed or when
//! the user regenerates them (which invalidates the old set).
//!
//! **Re-authentication.** Disabling TOTP and regenerating recovery codes need
//! proof beyond a session: the current password when the user has one,
//! otherwise a current TOTP code.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::EventKind;
use crate::crypto::{TokenHash, Verified, ct_eq, random_bytes};
use crate::model::{
    App, ClientInfo, Credential, CredentialKind, MfaPolicy, NewEvent, OneTimeToken, TokenPurpose,
    User, UserId,
};
use crate::validate::MAX_PASSWORD_BYTES;
use crate::{Audit, Error, ErrorKind, Inner, Mfa, Result, new_id};

/// Seconds per TOTP step.
pub const TOTP_PERIOD_SECS: u64 = 30;
/// Digits of a TOTP code.
pub const TOTP_DIGITS: u8 = 6;
/// How many recovery codes a user gets.
pub const RECOVERY_CODE_COUNT: usize = 10;
/// Bytes of a TOTP secret (160 bits, RFC 4226's recommendation).
const SECRET_LEN: usize = 20;
/// The readable alphabet of recovery codes (Crockford's base 32, lower case).
const RECOVERY_ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// A started TOTP enrolment: what the user's authenticator app needs. Shown
/// once; the secret is not active until confirmed with a code.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpEnrollment {
    /// The secret, base32 without padding (for typing it in by hand).
    pub secret: String,
    /// The `otpauth://totp/…` URI (issuer = the app's name, account = the email).
    pub otpauth_uri: String,
    /// The URI as a QR code: an `<svg>` element, ready to inline in HTML.
    pub qr_svg: String,
}

impl std::fmt::Debug for TotpEnrollment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpEnrollment").finish_non_exhaustive()
    }
}

/// A user's second factors, as the account page shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MfaStatus {
    /// TOTP is confirmed and asked for at sign-in.
    pub totp_enabled: bool,
    /// A TOTP enrolment was started but not confirmed.
    pub totp_pending: bool,
    /// Unspent recovery codes.
    pub recovery_codes_left: u32,
    /// Registered passkeys.
    pub passkeys: u32,
    /// Whether the app requires a second factor of everyone.
    pub required_by_app: bool,
    /// Whether the user has a password (re-authentication then asks for it;
    /// otherwise for a TOTP code).
    pub has_password: bool,
}

/// How a TOTP code fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CodeCheck {
    /// Right, and now spent.
    Accepted,
    /// Wrong (or malformed).
    Wrong,
    /// Right, but already used.
    Replayed,
}

impl CodeCheck {
    pub(crate) fn reason(self) -> &'static str {
        match self {
            CodeCheck::Accepted => "accepted",
            CodeCheck::Wrong => "wrong_code",
            CodeCheck::Replayed => "replayed_code",
        }
    }
}

fn aad(credential_id: uuid::Uuid) -> Vec<u8> {
    format!("tessera/totp/{credential_id}").into_bytes()
}

pub(crate) fn is_confirmed(c: &Credential) -> bool {
    c.kind == CredentialKind::Totp
        && c.data.get("confirmed").and_then(|v| v.as_bool()) == Some(true)
}

/// `:` separates issuer and account in an otpauth label; keep it out of both.
fn label_part(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| if c == ':' || c.is_control() { ' ' } else { c })
        .collect();
    let cleaned = cleaned.trim().to_owned();
    if cleaned.is_empty() {
        "Tessera".to_owned()
    } else {
        cleaned
    }
}

fn totp_for(secret: Vec<u8>, issuer: Option<&str>, account: Option<&str>) -> Result<totp_rs::Totp> {
    let mut builder = totp_rs::Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_digits(TOTP_DIGITS)
        .with_skew(1)
        .with_step_duration(TOTP_PERIOD_SECS)
        .with_secret(secret);
    if let Some(account) = account {
        builder = builder
            .with_account_name(label_part(account))
            .with_issuer(issuer.map(label_part));
    }
    builder.build().map_err(Error::internal)
}

/// Six digits, trimmed of spaces; `None` if it cannot be a code.
fn normalize_code(code: &str) -> Option<String> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    (code.len() == TOTP_DIGITS as usize && code.bytes().all(|b| b.is_ascii_digit())).then_some(code)
}

/// Characters in a recovery code: 16 of base 32 are 80 random bits, so the
/// stored digests cannot be reversed by trying every code, even offline.
const RECOVERY_CODE_CHARS: usize = 16;

/// A new recovery code, `xxxx-xxxx-xxxx-xxxx`.
fn new_recovery_code() -> String {
    let bytes = random_bytes::<RECOVERY_CODE_CHARS>();
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| RECOVERY_ALPHABET[(b & 31) as usize] as char)
        .collect();
    grouped(&chars)
}

/// `chars` in dash-separated groups of four.
fn grouped(chars: &[char]) -> String {
    chars
        .chunks(4)
        .map(|g| g.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// The canonical form of a typed recovery code (case, dashes and spaces do
/// not matter; `o`, `i`, `l` read as `0`, `1`, `1`); `None` if malformed.
pub(crate) fn normalize_recovery_code(code: &str) -> Option<String> {
    let mut chars = Vec::with_capacity(RECOVERY_CODE_CHARS);
    for c in code.chars() {
        if c.is_whitespace() || c == '-' {
            continue;
        }
        let c = match c.to_ascii_lowercase() {
            'o' => '0',
            'i' | 'l' => '1',
            c => c,
        };
        if !c.is_ascii()
            || !RECOVERY_ALPHABET.contains(&(c as u8))
            || chars.len() == RECOVERY_CODE_CHARS
        {
            return None;
        }
        chars.push(c);
    }
    (chars.len() == RECOVERY_CODE_CHARS).then(|| grouped(&chars))
}

/// What is stored for a recovery code: a digest salted with the user id.
pub(crate) fn recovery_code_digest(user_id: UserId, canonical: &str) -> String {
    TokenHash::of(&format!(
        "tessera/recovery-code\u{0}{user_id}\u{0}{canonical}"
    ))
    .to_hex()
}

fn used_marker(user: &User, step: u64, now: DateTime<Utc>) -> OneTimeToken {
    // A step-`s` code is accepted while now's step is s-1, s or s+1, that is
    // until the end of step s+1; keep the marker a little longer.
    let until = DateTime::from_timestamp(((step + 3) * TOTP_PERIOD_SECS) as i64, 0)
        .unwrap_or(now + Duration::seconds(120));
    OneTimeToken {
        hash: TokenHash::of(&format!(
            "{}\u{0}{}\u{0}{step}",
            TokenPurpose::TotpUsed,
            user.id
        )),
        purpose: TokenPurpose::TotpUsed.as_str().to_owned(),
        pool_id: user.pool_id,
        app_id: None,
        user_id: Some(user.id),
        subject: None,
        data: json!({}),
        attempts: 0,
        created_at: now,
        expires_at: until.max(now + Duration::seconds(1)),
    }
}

/// TOTP and recovery codes; see [`crate::Tessera::totp`].
pub struct Totp<'a> {
    inner: &'a Inner,
}

impl<'a> Totp<'a> {
    pub(crate) fn new(inner: &'a Inner) -> Self {
        Totp { inner }
    }

    async fn user_of(&self, app: &App, user_id: UserId) -> Result<User> {
        let user = self.inner.store.users().get_user(user_id).await?;
        if user.pool_id != app.pool_id {
            return Err(Error::new(ErrorKind::NotFound));
        }
        if user.disabled {
            return Err(Error::new(ErrorKind::UserDisabled));
        }
        Ok(user)
    }

    async fn credentials(&self, user_id: UserId, kind: CredentialKind) -> Result<Vec<Credential>> {
        self.inner
            .store
            .credentials()
            .list_credentials(user_id, Some(kind))
            .await
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

    /// The event recording a change of `user`'s second factors.
    fn event(
        &self,
        kind: EventKind,
        app: &App,
        user: &User,
        client: &ClientInfo,
        data: serde_json::Value,
    ) -> NewEvent {
        Audit::new(self.inner).user_event(kind, Some(app), user, Some(client), data)
    }

    /// Check `code` against the TOTP `credential` of `user` (±1 step) and, if
    /// it matches, spend it for good (atomically: one winner per user and step).
    pub(crate) async fn check_code(
        &self,
        user: &User,
        credential: &Credential,
        code: &str,
    ) -> Result<CodeCheck> {
        let Some(code) = normalize_code(code) else {
            return Ok(CodeCheck::Wrong);
        };
        let secret = self.open_secret(credential)?;
        let totp = totp_for(secret, None, None)?;
        let now = self.inner.now();
        let t = now.timestamp().max(0) as u64;
        let current = t / TOTP_PERIOD_SECS;
        let mut matched = None;
        // Compare all three in constant time, whatever matches first.
        for step in [current.saturating_sub(1), current, current + 1] {
            let expected = totp.generate(step * TOTP_PERIOD_SECS).to_string();
            if ct_eq(expected.as_bytes(), code.as_bytes()) && matched.is_none() {
                matched = Some(step);
            }
        }
        let Some(step) = matched else {
            return Ok(CodeCheck::Wrong);
        };
        match self
            .inner
            .store
            .tokens()
            .insert_token(&used_marker(user, step, now))
            .await
        {
            Ok(()) => Ok(CodeCheck::Accepted),
            Err(e) if *e.kind() == ErrorKind::Conflict => Ok(CodeCheck::Replayed),
            Err(e) => Err(e),
        }
    }

    /// Start TOTP enrolment for a signed-in user: a new secret, its
    /// `otpauth://` URI and QR code. It is inactive until [`confirm`](Self::confirm)ed;
    /// enrolling again replaces an unconfirmed secret.
    ///
    /// Errors: `conflict` (TOTP is already enabled: disable it first),
    /// `not_found`, `user_disabled`.
    pub async fn enroll(
        &self,
        app: &App,
        user_id: UserId,
        client: &ClientInfo,
    ) -> Result<TotpEnrollment> {
        let user = self.user_of(app, user_id).await?;
        self.enroll_user(app, &user, client).await
    }

    pub(crate) async fn enroll_user(
        &self,
        app: &App,
        user: &User,
        client: &ClientInfo,
    ) -> Result<TotpEnrollment> {
        let existing = self.credentials(user.id, CredentialKind::Totp).await?;
        if existing.iter().any(is_confirmed) {
            return Err(Error::with_message(
                ErrorKind::Conflict,
                "TOTP is already enabled; disable it first.",
            ));
        }
        let secret = random_bytes::<SECRET_LEN>().to_vec();
        let totp = totp_for(secret.clone(), Some(&app.name), Some(&user.email))?;
        let otpauth_uri = totp.to_url().map_err(Error::internal)?;
        let qr_svg = qr_svg(&otpauth_uri)?;
        let now = self.inner.now();
        let id = new_id(now);
        let sealed = self.inner.keyring.seal(&secret, &aad(id))?;
        let credential = Credential {
            id,
            user_id: user.id,
            kind: CredentialKind::Totp,
            name: None,
            secret: STANDARD.encode(sealed),
            data: json!({
                "confirmed": false,
                "algorithm": "SHA1",
                "digits": TOTP_DIGITS,
                "period": TOTP_PERIOD_SECS,
            }),
            created_at: now,
            last_used_at: None,
        };
        let store = self.inner.store.credentials();
        let event = self.event(
            EventKind::TotpEnrollmentStarted,
            app,
            user,
            client,
            json!({}),
        );
        store.insert_credential(&credential, &[event]).await?;
        // The new secret replaces any unconfirmed one.
        for old in existing {
            store.delete_credential(user.id, old.id, &[]).await?;
        }
        Ok(TotpEnrollment {
            secret: totp.secret().to_base32(),
            otpauth_uri,
            qr_svg,
        })
    }

    /// The started, unconfirmed enrolment of the user, shown again (e.g. when
    /// a hosted page is reloaded or a code was mistyped); `None` if there is none.
    pub async fn pending_enrollment(
        &self,
        app: &App,
        user_id: UserId,
    ) -> Result<Option<TotpEnrollment>> {
        let user = self.user_of(app, user_id).await?;
        self.pending_for(app, &user).await
    }

    pub(crate) async fn pending_for(
        &self,
        app: &App,
        user: &User,
    ) -> Result<Option<TotpEnrollment>> {
        let existing = self.credentials(user.id, CredentialKind::Totp).await?;
        if existing.iter().any(is_confirmed) {
            return Ok(None);
        }
        let Some(credential) = existing.into_iter().max_by_key(|c| (c.created_at, c.id)) else {
            return Ok(None);
        };
        let secret = self.open_secret(&credential)?;
        let totp = totp_for(secret, Some(&app.name), Some(&user.email))?;
        let otpauth_uri = totp.to_url().map_err(Error::internal)?;
        Ok(Some(TotpEnrollment {
            secret: totp.secret().to_base32(),
            qr_svg: qr_svg(&otpauth_uri)?,
            otpauth_uri,
        }))
    }

    fn open_secret(&self, credential: &Credential) -> Result<Vec<u8>> {
        let sealed = STANDARD
            .decode(&credential.secret)
            .map_err(|_| Error::config("a sealed TOTP secret is malformed"))?;
        self.inner.keyring.open(&sealed, &aad(credential.id))
    }

    /// Confirm a started enrolment with a first code from the authenticator:
    /// TOTP becomes active (asked for at sign-in) and the answer is a fresh
    /// set of [`RECOVERY_CODE_COUNT`] recovery codes, shown this once.
    ///
    /// Errors: `invalid_credentials` (wrong or reused code), `not_found` (no
    /// enrolment started), `conflict` (already enabled), `rate_limited`.
    pub async fn confirm(
        &self,
        app: &App,
        user_id: UserId,
        code: &str,
        client: &ClientInfo,
    ) -> Result<Vec<String>> {
        let user = self.user_of(app, user_id).await?;
        let mfa = Mfa::new(self.inner);
        mfa.reserve_try(user.id).await?;
        match self.confirm_user(app, &user, code, client).await? {
            Ok(codes) => {
                mfa.clear_rate(user.id).await?;
                Ok(codes)
            }
            Err(check) => {
                self.audit(
                    EventKind::MfaFailed,
                    app,
                    &user,
                    client,
                    json!({ "method": "totp", "reason": check.reason(), "step": "confirm" }),
                )
                .await?;
                Err(Error::new(ErrorKind::InvalidCredentials))
            }
        }
    }

    /// Confirm for `user`; the inner `Err` is a refused code (the caller counts it).
    pub(crate) async fn confirm_user(
        &self,
        app: &App,
        user: &User,
        code: &str,
        client: &ClientInfo,
    ) -> Result<std::result::Result<Vec<String>, CodeCheck>> {
        let existing = self.credentials(user.id, CredentialKind::Totp).await?;
        if existing.iter().any(is_confirmed) {
            return Err(Error::with_message(
                ErrorKind::Conflict,
                "TOTP is already enabled.",
            ));
        }
        // The newest unconfirmed secret is the one the user just scanned.
        let Some(mut credential) = existing.into_iter().max_by_key(|c| (c.created_at, c.id)) else {
            return Err(Error::with_message(
                ErrorKind::NotFound,
                "No TOTP enrolment to confirm; start one first.",
            ));
        };
        let check = self.check_code(user, &credential, code).await?;
        if check != CodeCheck::Accepted {
            return Ok(Err(check));
        }
        let now = self.inner.now();
        // Of two confirmations racing with different codes, one wins.
        let marker = OneTimeToken {
            hash: TokenHash::of(&format!(
                "{}\u{0}{}",
                TokenPurpose::TotpConfirm,
                credential.id
            )),
            purpose: TokenPurpose::TotpConfirm.as_str().to_owned(),
            pool_id: user.pool_id,
            app_id: Some(app.id),
            user_id: Some(user.id),
            subject: None,
            data: json!({}),
            attempts: 0,
            created_at: now,
            expires_at: now + Duration::hours(1),
        };
        match self.inner.store.tokens().insert_token(&marker).await {
            Ok(()) => {}
            Err(e) if *e.kind() == ErrorKind::Conflict => {
                return Err(Error::with_message(
                    ErrorKind::Conflict,
                    "TOTP is already enabled.",
                ));
            }
            Err(e) => return Err(e),
        }
        credential.data["confirmed"] = json!(true);
        credential.data["confirmed_at"] = json!(now);
        let store = self.inner.store.credentials();
        let event = self.event(EventKind::TotpEnabled, app, user, client, json!({}));
        store.update_credential(&credential, &[event]).await?;
        store.touch_credential(credential.id, now).await?;
        let codes = self.replace_recovery_codes(app, user, client).await?;
        Ok(Ok(codes))
    }

    /// Issue a new set of recovery codes, then delete the old ones (so a
    /// failure half-way leaves the old set working). The last code's insert
    /// records the event: it is written once the whole set exists.
    async fn replace_recovery_codes(
        &self,
        app: &App,
        user: &User,
        client: &ClientInfo,
    ) -> Result<Vec<String>> {
        let store = self.inner.store.credentials();
        let old = self
            .credentials(user.id, CredentialKind::RecoveryCode)
            .await?;
        let now = self.inner.now();
        let mut codes = Vec::with_capacity(RECOVERY_CODE_COUNT);
        for i in 0..RECOVERY_CODE_COUNT {
            let code = new_recovery_code();
            let events = if i + 1 == RECOVERY_CODE_COUNT {
                vec![self.event(
                    EventKind::RecoveryCodesGenerated,
                    app,
                    user,
                    client,
                    json!({ "count": RECOVERY_CODE_COUNT }),
                )]
            } else {
                Vec::new()
            };
            store
                .insert_credential(
                    &Credential {
                        id: new_id(now),
                        user_id: user.id,
                        kind: CredentialKind::RecoveryCode,
                        name: None,
                        secret: recovery_code_digest(user.id, &code),
                        data: json!({}),
                        created_at: now,
                        last_used_at: None,
                    },
                    &events,
                )
                .await?;
            codes.push(code);
        }
        for c in old {
            store.delete_credential(user.id, c.id, &[]).await?;
        }
        Ok(codes)
    }

    /// Prove it is the user: the current password if they have one, otherwise
    /// a current TOTP code. Counts tries against the user's MFA throttle
    /// (before checking, once the needed proof is there).
    async fn reauthenticate(
        &self,
        app: &App,
        user: &User,
        password: Option<&str>,
        code: Option<&str>,
        client: &ClientInfo,
    ) -> Result<()> {
        let mfa = Mfa::new(self.inner);
        mfa.check_rate(user.id).await?;
        let store = self.inner.store.credentials();
        let password_credential = store
            .list_credentials(user.id, Some(CredentialKind::Password))
            .await?
            .into_iter()
            .next();
        let ok = if let Some(credential) = password_credential {
            let Some(password) = password.filter(|p| !p.is_empty()) else {
                return Err(Error::with_message(
                    ErrorKind::ReauthenticationRequired,
                    "Enter your current password to do this.",
                ));
            };
            mfa.reserve_try(user.id).await?;
            password.len() <= MAX_PASSWORD_BYTES
                && matches!(
                    self.inner
                        .hasher
                        .verify(password, Some(credential.secret.as_str()))
                        .await?,
                    Verified::Yes { .. }
                )
        } else {
            let totp = self
                .credentials(user.id, CredentialKind::Totp)
                .await?
                .into_iter()
                .find(is_confirmed);
            let (Some(totp), Some(code)) = (totp, code.filter(|c| !c.trim().is_empty())) else {
                return Err(Error::with_message(
                    ErrorKind::ReauthenticationRequired,
                    "Enter a current code from your authenticator app to do this.",
                ));
            };
            mfa.reserve_try(user.id).await?;
            self.check_code(user, &totp, code).await? == CodeCheck::Accepted
        };
        if ok {
            mfa.clear_rate(user.id).await
        } else {
            self.audit(
                EventKind::MfaFailed,
                app,
                user,
                client,
                json!({ "method": "reauthentication", "reason": "invalid_credentials" }),
            )
            .await?;
            Err(Error::new(ErrorKind::InvalidCredentials))
        }
    }

    /// Turn TOTP off (or cancel an unconfirmed enrolment) and delete the
    /// recovery codes. Needs re-authentication: `password` when the user has
    /// a password, otherwise `code` (a current TOTP code); cancelling an
    /// unconfirmed enrolment of a user without a password needs neither.
    ///
    /// Errors: `reauthentication_required` (the needed proof is missing),
    /// `invalid_credentials` (it is wrong), `not_found` (no TOTP),
    /// `rate_limited`.
    pub async fn disable(
        &self,
        app: &App,
        user_id: UserId,
        password: Option<&str>,
        code: Option<&str>,
        client: &ClientInfo,
    ) -> Result<()> {
        let user = self.user_of(app, user_id).await?;
        let existing = self.credentials(user.id, CredentialKind::Totp).await?;
        if existing.is_empty() {
            return Err(Error::with_message(
                ErrorKind::NotFound,
                "TOTP is not enabled.",
            ));
        }
        let has_password = !self
            .credentials(user.id, CredentialKind::Password)
            .await?
            .is_empty();
        if has_password || existing.iter().any(is_confirmed) {
            self.reauthenticate(app, &user, password, code, client)
                .await?;
        }
        let store = self.inner.store.credentials();
        let kind = if existing.iter().any(is_confirmed) {
            EventKind::TotpDisabled
        } else {
            EventKind::TotpEnrollmentCancelled
        };
        // The first deletion that happens records the event.
        let mut event = Some(self.event(kind, app, &user, client, json!({})));
        for c in existing {
            if store
                .delete_credential(user.id, c.id, event.as_slice())
                .await?
            {
                event = None;
            }
        }
        for c in self
            .credentials(user.id, CredentialKind::RecoveryCode)
            .await?
        {
            store.delete_credential(user.id, c.id, &[]).await?;
        }
        Ok(())
    }

    /// Replace the user's recovery codes with a new set (the old ones stop
    /// working), shown this once. Needs a second factor enabled (TOTP or a
    /// passkey) and re-authentication as for [`disable`](Self::disable).
    ///
    /// Errors: as `disable`, and `conflict` when no second factor is enabled.
    pub async fn regenerate_recovery_codes(
        &self,
        app: &App,
        user_id: UserId,
        password: Option<&str>,
        code: Option<&str>,
        client: &ClientInfo,
    ) -> Result<Vec<String>> {
        let user = self.user_of(app, user_id).await?;
        let status = self.status(app, user.id).await?;
        if !status.totp_enabled && status.passkeys == 0 {
            return Err(Error::with_message(
                ErrorKind::Conflict,
                "Enable a second factor first.",
            ));
        }
        self.reauthenticate(app, &user, password, code, client)
            .await?;
        self.replace_recovery_codes(app, &user, client).await
    }

    /// The user's second factors.
    pub async fn status(&self, app: &App, user_id: UserId) -> Result<MfaStatus> {
        let all = self
            .inner
            .store
            .credentials()
            .list_credentials(user_id, None)
            .await?;
        let count = |k: CredentialKind| all.iter().filter(|c| c.kind == k).count() as u32;
        Ok(MfaStatus {
            totp_enabled: all.iter().any(is_confirmed),
            totp_pending: all
                .iter()
                .any(|c| c.kind == CredentialKind::Totp && !is_confirmed(c)),
            recovery_codes_left: count(CredentialKind::RecoveryCode),
            passkeys: count(CredentialKind::Passkey),
            required_by_app: app.settings.mfa == MfaPolicy::Required,
            has_password: count(CredentialKind::Password) > 0,
        })
    }
}

/// The QR code of `data` as an inline `<svg>` element.
fn qr_svg(data: &str) -> Result<String> {
    let code = qrcode::QrCode::new(data.as_bytes()).map_err(Error::internal)?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    // Drop the XML declaration: the element is inlined into HTML.
    let start = svg.find("<svg").unwrap_or(0);
    Ok(svg[start..].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_readable_and_normalise() {
        let code = new_recovery_code();
        assert_eq!(code.len(), 19);
        assert_eq!(code.split('-').map(str::len).collect::<Vec<_>>(), [4; 4]);
        assert_ne!(code, new_recovery_code());
        assert_eq!(
            normalize_recovery_code(&code).as_deref(),
            Some(code.as_str())
        );
        let typed = format!(" {} ", code.to_uppercase().replace('-', " "));
        assert_eq!(
            normalize_recovery_code(&typed).as_deref(),
            Some(code.as_str())
        );
        assert_eq!(
            normalize_recovery_code("OIL0-0abc-deab-cdef").as_deref(),
            Some("0110-0abc-deab-cdef")
        );
        for bad in [
            "",
            "abcde",
            "abcd-abcd-abcd-abcda",
            "abcd-abcd-abcd-abcu",
            "ääää-aaaa-aaaa-aaaa",
        ] {
            assert_eq!(normalize_recovery_code(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn rfc_6238_sha1_vectors() {
        // RFC 6238 appendix B (8 digits there; the last six are ours).
        let totp = totp_for(b"12345678901234567890".to_vec(), None, None).unwrap();
        for (t, code) in [
            (59, "287082"),
            (1111111109, "081804"),
            (2000000000, "279037"),
        ] {
            assert_eq!(totp.generate(t).to_string(), code, "t = {t}");
        }
    }

    #[test]
    fn codes_are_six_digits() {
        assert_eq!(normalize_code(" 123 456 ").as_deref(), Some("123456"));
        assert_eq!(normalize_code("12345"), None);
        assert_eq!(normalize_code("12345a"), None);
        assert_eq!(normalize_code("１２３４５６"), None);
    }

    #[test]
    fn otpauth_uri_names_issuer_and_account() {
        let totp = totp_for(vec![1; 20], Some("My: App"), Some("ada@example.com")).unwrap();
        let uri = totp.to_url().unwrap();
        assert!(
            uri.starts_with("otpauth://totp/My%20%20App:ada%40example.com?"),
            "{uri}"
        );
        assert!(uri.contains("issuer=My"), "{uri}");
        let svg = qr_svg(&uri).unwrap();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    }
}
