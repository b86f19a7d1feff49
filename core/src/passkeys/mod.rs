//! WebAuthn passkeys: registration for a signed-in user, sign-in with a
//! discoverable credential (no email typed) or for an email, completing an
//! MFA challenge, and list / rename / delete.
//!
//! Why it looks like this: a ceremony has two steps that may land on
//! different instances, so its state (the webauthn-rs registration or
//! authentication state, serialised) lives in the store as a one-time token.
//! The ceremony id the browser carries is a random `tsw_…` token of which only
//! the hash is stored; `finish` spends it exactly once, before anything is
//! verified, so a replayed or raced `finish` is refused however the first one
//! ended. Every sign-in ceremony is started as a discoverable one (the same
//! challenge shape whether or not a user is known); the email and MFA
//! variants only add `allowCredentials`, and `finish` then also insists that
//! the credential belongs to the user the ceremony was started for.
//!
//! Registration requires a resident (discoverable) key and user verification,
//! so every passkey can sign in without an email and a passkey sign-in is
//! multi-factor by itself (`amr` = `hwk` or `swk`, plus `mfa`); it does not
//! stop for a second factor.
//!
//! **No enumeration.** `start_sign_in` for an email answers a challenge whose
//! `allowCredentials` lists credential ids for every address: the user's real
//! ones when they have passkeys, otherwise ids derived from the pool and
//! address by HMAC under a key derived from the key-encryption key
//! (webauthn-rs's fake-credential generator, with a realistic distribution of
//! id lengths and counts, never empty). The same address always gets the same fake ids,
//! transports are never listed, and the options are otherwise identical, so
//! the answer does not say whether an account exists (or has passkeys);
//! `finish` then fails with `invalid_credentials` like any wrong credential.
//!
//! Credential ids are matched only among the passkeys of the user the
//! assertion names (user handle) or the ceremony was for, so a credential id
//! registered to two accounts can never sign one in as the other.

mod rp;
mod stored;

use chrono::Duration;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;
use webauthn_rs::Webauthn;
use webauthn_rs::fake::{FakePasskeyDistribution, WebauthnFakeCredentialGenerator};
use webauthn_rs::prelude::{
    AuthenticationResult, DiscoverableAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, WebauthnError,
};

use crate::audit::{EventKind, Subject};
use crate::crypto::{TokenHash, b64url, check_token_format, ct_eq, generate_token};
use crate::model::{
    App, ClientInfo, Credential, CredentialKind, OneTimeToken, SignInMethod, TokenPurpose, User,
    UserId,
};
use crate::sessions::AuthSession;
use crate::{Audit, Error, ErrorKind, Inner, Mfa, MfaMethod, Result, Sessions, new_id};

pub use rp::WebauthnDefaults;
pub use stored::PasskeyInfo;
use stored::{StoredPasskey, aaguid_of};

/// Prefix of ceremony ids.
pub(crate) const CEREMONY_PREFIX: &str = "tsw_";
/// Longest passkey name, in characters.
pub const MAX_PASSKEY_NAME_CHARS: usize = 64;
/// Most passkeys one user may register.
pub const MAX_PASSKEYS_PER_USER: usize = 25;

/// The first half of a ceremony: what the browser passes to
/// `navigator.credentials.create()` / `.get()` (after
/// `PublicKeyCredential.parseCreationOptionsFromJSON` /
/// `parseRequestOptionsFromJSON`), and the ceremony id to send back with
/// the result. Serialises as `{"ceremony": "tsw_…", "publicKey": {…}}`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct PasskeyChallenge {
    /// The ceremony id (single use, valid for 5 minutes).
    pub ceremony: String,
    /// W3C JSON options (`PublicKeyCredentialCreationOptionsJSON` or
    /// `PublicKeyCredentialRequestOptionsJSON`, buffers base64url).
    #[serde(rename = "publicKey")]
    pub public_key: Value,
}

impl std::fmt::Debug for PasskeyChallenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasskeyChallenge")
            .field("public_key", &self.public_key)
            .finish_non_exhaustive()
    }
}

/// Why a sign-in assertion was refused (for the audit log; the caller only
/// ever sees `invalid_credentials`).
struct Refusal {
    reason: &'static str,
    user: Option<User>,
    error: Error,
}

impl Refusal {
    fn new(reason: &'static str, user: Option<User>) -> Self {
        Refusal {
            reason,
            user,
            error: Error::new(ErrorKind::InvalidCredentials),
        }
    }
}

impl From<Error> for Refusal {
    fn from(error: Error) -> Self {
        Refusal {
            reason: "error",
            user: None,
            error,
        }
    }
}

/// A verified assertion.
struct Asserted {
    user: User,
    passkey: StoredPasskey,
    result: AuthenticationResult,
}

impl Asserted {
    /// RFC 8176 method of the key: `swk` for keys that may be synced off the
    /// device (backup eligible), `hwk` for device-bound ones.
    fn key_amr(&self) -> &'static str {
        if self.result.backup_eligible() || self.passkey.backup_eligible() {
            "swk"
        } else {
            "hwk"
        }
    }
}

fn reason_of(e: &WebauthnError) -> &'static str {
    match e {
        WebauthnError::InvalidRPOrigin => "wrong_origin",
        WebauthnError::InvalidRPIDHash => "wrong_rp_id",
        WebauthnError::MismatchedChallenge => "challenge_mismatch",
        WebauthnError::UserNotVerified => "user_not_verified",
        WebauthnError::UserNotPresent => "user_not_present",
        WebauthnError::CredentialPossibleCompromise => "counter_regressed",
        WebauthnError::CredentialBackupEligibilityInconsistent => "backup_eligibility_changed",
        _ => "invalid_assertion",
    }
}

/// Check and normalise a passkey name.
fn normalize_passkey_name(name: Option<&str>) -> Result<String> {
    let name = name.map(str::trim).unwrap_or("");
    if name.is_empty() {
        return Ok("Passkey".to_owned());
    }
    if name.chars().count() > MAX_PASSKEY_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(Error::invalid(
            "name",
            "a passkey name is at most 64 characters, without control characters",
        ));
    }
    Ok(name.to_owned())
}

fn bad_credential(e: serde_json::Error) -> Error {
    Error::invalid(
        "credential",
        format!("not a PublicKeyCredential in its JSON form: {e}"),
    )
}

/// Passkeys; see [`crate::Tessera::passkeys`].
pub struct Passkeys<'a> {
    inner: &'a Inner,
}

impl<'a> Passkeys<'a> {
    pub(crate) fn new(inner: &'a Inner) -> Self {
        Passkeys { inner }
    }

    fn webauthn(&self, app: &App) -> Result<Webauthn> {
        rp::webauthn(app, &self.inner.webauthn, &self.inner.issuer)
    }

    fn require_method(app: &App) -> Result<()> {
        if app.settings.allows(SignInMethod::Passkey) {
            Ok(())
        } else {
            Err(Error::new(ErrorKind::MethodDisabled))
        }
    }

    /// Store a ceremony's state; answers its id.
    async fn save_ceremony(
        &self,
        purpose: TokenPurpose,
        app: &App,
        user_id: Option<UserId>,
        data: Value,
    ) -> Result<String> {
        let now = self.inner.now();
        let (ceremony, hash) = generate_token(CEREMONY_PREFIX);
        let ttl = Duration::from_std(rp::CEREMONY_TIMEOUT).map_err(Error::internal)?;
        let token = OneTimeToken {
            hash,
            purpose: purpose.as_str().to_owned(),
            pool_id: app.pool_id,
            app_id: Some(app.id),
            user_id,
            subject: None,
            data,
            attempts: 0,
            created_at: now,
            expires_at: now + ttl,
        };
        self.inner.store.tokens().insert_token(&token).await?;
        Ok(ceremony)
    }

    /// Spend a ceremony (exactly once) started for `app`.
    async fn take_ceremony(
        &self,
        purpose: TokenPurpose,
        app: &App,
        ceremony: &str,
    ) -> Result<OneTimeToken> {
        check_token_format(ceremony, CEREMONY_PREFIX)?;
        let token = self
            .inner
            .store
            .tokens()
            .consume_token(purpose.as_str(), &TokenHash::of(ceremony), self.inner.now())
            .await?;
        if token.app_id != Some(app.id) {
            return Err(Error::new(ErrorKind::InvalidToken));
        }
        Ok(token)
    }

    async fn stored(&self, user_id: UserId) -> Result<Vec<StoredPasskey>> {
        self.inner
            .store
            .credentials()
            .list_credentials(user_id, Some(CredentialKind::Passkey))
            .await?
            .into_iter()
            .map(StoredPasskey::decode)
            .collect()
    }

    async fn find(&self, user_id: UserId, id: Uuid) -> Result<StoredPasskey> {
        self.stored(user_id)
            .await?
            .into_iter()
            .find(|p| p.credential.id == id)
            .ok_or_else(|| Error::new(ErrorKind::NotFound))
    }

    // ---- registration -------------------------------------------------

    /// Begin registering a passkey for the signed-in `user` on `app`: a
    /// discoverable credential with user verification required; the user's
    /// existing passkeys are excluded.
    ///
    /// Errors: `method_disabled` (passkeys off for the app), `invalid_input`
    /// (`passkeys`: already [`MAX_PASSKEYS_PER_USER`]), `config_error` (the
    /// app's relying-party settings are unusable).
    pub async fn start_registration(&self, app: &App, user: &User) -> Result<PasskeyChallenge> {
        Self::require_method(app)?;
        if user.pool_id != app.pool_id {
            return Err(Error::new(ErrorKind::Forbidden));
        }
        let existing = self.stored(user.id).await?;
        if existing.len() >= MAX_PASSKEYS_PER_USER {
            return Err(Error::invalid(
                "passkeys",
                "this account has as many passkeys as it may; delete one first",
            ));
        }
        let webauthn = self.webauthn(app)?;
        let exclude = existing
            .iter()
            .map(|p| p.passkey.cred_id().clone())
            .collect();
        let display = user.name.as_deref().unwrap_or(&user.email);
        let (ccr, state) = webauthn
            .start_passkey_registration(user.id, &user.email, display, Some(exclude))
            .map_err(|e| Error::internal(format!("starting passkey registration: {e}")))?;
        let mut public_key = serde_json::to_value(&ccr.public_key).map_err(Error::internal)?;
        // webauthn-rs asks for a discoverable key only when preferred; we need one.
        public_key["authenticatorSelection"]["residentKey"] = json!("required");
        public_key["authenticatorSelection"]["requireResidentKey"] = json!(true);
        let data = json!({ "state": serde_json::to_value(&state).map_err(Error::internal)? });
        let ceremony = self
            .save_ceremony(TokenPurpose::PasskeyRegister, app, Some(user.id), data)
            .await?;
        Ok(PasskeyChallenge {
            ceremony,
            public_key,
        })
    }

    /// Finish a registration with the browser's answer
    /// (`PublicKeyCredential.toJSON()` of `navigator.credentials.create()`),
    /// store the passkey under `name` (default "Passkey") and answer it.
    ///
    /// Errors: `invalid_token` (unknown, spent, or another user's or app's
    /// ceremony), `token_expired`, `invalid_input` (`credential`: not a credential in its JSON form, or
    /// the answer does not verify — wrong
    /// origin or challenge, no user verification, not discoverable;
    /// `name`), `conflict` (already registered).
    pub async fn finish_registration(
        &self,
        app: &App,
        user: &User,
        ceremony: &str,
        credential: &Value,
        name: Option<&str>,
        client: &ClientInfo,
    ) -> Result<PasskeyInfo> {
        let name = normalize_passkey_name(name)?;
        let token = self
            .take_ceremony(TokenPurpose::PasskeyRegister, app, ceremony)
            .await?;
        if token.user_id != Some(user.id) {
            return Err(Error::new(ErrorKind::InvalidToken));
        }
        let reg: RegisterPublicKeyCredential =
            serde_json::from_value(credential.clone()).map_err(bad_credential)?;
        if reg.extensions.cred_props.as_ref().and_then(|p| p.rk) == Some(false) {
            return Err(Error::invalid(
                "credential",
                "this authenticator could not store a discoverable passkey",
            ));
        }
        let state: PasskeyRegistration = serde_json::from_value(token.data["state"].clone())
            .map_err(|e| Error::internal(format!("stored registration state unreadable: {e}")))?;
        let passkey = self
            .webauthn(app)?
            .finish_passkey_registration(&reg, &state)
            .map_err(|e| {
                let message = match e {
                    WebauthnError::InvalidRPOrigin => "the passkey was created for another origin",
                    WebauthnError::UserNotVerified => "the authenticator did not verify the user",
                    WebauthnError::MismatchedChallenge => {
                        "the answer does not match this ceremony's challenge"
                    }
                    _ => "the authenticator's answer could not be verified",
                };
                tracing::debug!(error = %e, "passkey registration refused");
                Error::invalid("credential", message)
            })?;
        let existing = self.stored(user.id).await?;
        if existing
            .iter()
            .any(|p| p.passkey.cred_id() == passkey.cred_id())
        {
            return Err(Error::with_message(
                ErrorKind::Conflict,
                "This passkey is already registered.",
            ));
        }
        let now = self.inner.now();
        let credential = Credential {
            id: new_id(now),
            user_id: user.id,
            kind: CredentialKind::Passkey,
            name: Some(name),
            secret: String::new(),
            data: json!({}),
            created_at: now,
            last_used_at: None,
        };
        let stored = StoredPasskey::new(
            credential,
            passkey,
            aaguid_of(&reg.response.attestation_object),
        );
        let credential = stored.to_credential()?;
        let event = Audit::new(self.inner).event(
            EventKind::PasskeyRegistered,
            Subject {
                app: Some(app),
                user: Some(user),
                client: Some(client),
                credential: Some(&credential),
                ..Default::default()
            },
            json!({ "passkey_id": credential.id, "credential_id": stored.credential_id }),
        );
        self.inner
            .store
            .credentials()
            .insert_credential(&credential, &[event])
            .await?;
        StoredPasskey::decode(credential)?.info()
    }

    // ---- sign-in ------------------------------------------------------

    /// Request options for `allow` (credential ids) and the state to keep.
    fn request_options(&self, app: &App, allow: Option<Vec<Vec<u8>>>) -> Result<(Value, Value)> {
        let (rcr, state) = self
            .webauthn(app)?
            .start_discoverable_authentication()
            .map_err(|e| Error::internal(format!("starting passkey authentication: {e}")))?;
        let mut public_key = serde_json::to_value(&rcr.public_key).map_err(Error::internal)?;
        public_key["allowCredentials"] = match allow {
            None => json!([]),
            Some(ids) => ids
                .iter()
                .map(|id| json!({ "type": "public-key", "id": b64url(id) }))
                .collect(),
        };
        let state = serde_json::to_value(&state).map_err(Error::internal)?;
        Ok((public_key, state))
    }

    /// Credential ids to offer for an address without passkeys (see the
    /// module docs): stable per pool and address, secret without the KEK.
    fn fake_credential_ids(&self, app: &App, email: &str) -> Result<Vec<Vec<u8>>> {
        let key = self
            .inner
            .keyring
            .derive("tessera/passkeys/fake-credential-ids/v1");
        let generator = WebauthnFakeCredentialGenerator::<FakePasskeyDistribution>::new(&key)
            .map_err(|e| Error::internal(format!("fake credential generator: {e}")))?;
        // The distribution gives some addresses no credential at all; an
        // account with passkeys never has none, so draw again until there is one.
        for round in 0u8..16 {
            let ids = generator
                .generate(format!("{}\u{0}{email}\u{0}{round}", app.pool_id).as_bytes())
                .map_err(|e| Error::internal(format!("fake credential ids: {e}")))?;
            if !ids.is_empty() {
                return Ok(ids);
            }
        }
        Ok(vec![
            crate::crypto::hmac_sha256(&key, format!("{}\u{0}{email}", app.pool_id).as_bytes())
                .to_vec(),
        ])
    }

    /// Begin a passkey sign-in. Without `email` the browser offers the
    /// user's discoverable passkeys for this site (no email typed); with
    /// one, `allowCredentials` lists that account's passkeys. The answer has
    /// the same shape whether or not the account exists (see the module docs).
    ///
    /// Errors: `method_disabled`, `config_error`.
    pub async fn start_sign_in(&self, app: &App, email: Option<&str>) -> Result<PasskeyChallenge> {
        Self::require_method(app)?;
        let (public_key, state, user_id, mode) = match email {
            None => {
                let (pk, state) = self.request_options(app, None)?;
                (pk, state, None, "discoverable")
            }
            Some(email) => {
                let normalized = crate::validate::normalize_email(email)
                    .unwrap_or_else(|_| email.trim().to_lowercase());
                let user = self
                    .inner
                    .store
                    .users()
                    .find_user_by_email(app.pool_id, &normalized)
                    .await?;
                // The same store work whether or not the address has an
                // account (the part `timing` measured 1.14× for known ones):
                // an unknown address lists the passkeys of the nil id, which
                // no user has.
                let real = self
                    .stored(user.as_ref().map_or(Uuid::nil(), |u| u.id))
                    .await?;
                let (ids, user_id) = if real.is_empty() {
                    (self.fake_credential_ids(app, &normalized)?, None)
                } else {
                    (
                        real.iter().map(|p| p.passkey.cred_id().clone()).collect(),
                        user.map(|u| u.id),
                    )
                };
                let (pk, state) = self.request_options(app, Some(ids))?;
                (pk, state, user_id, "email")
            }
        };
        let ceremony = self
            .save_ceremony(
                TokenPurpose::PasskeySignIn,
                app,
                user_id,
                json!({ "state": state, "mode": mode }),
            )
            .await?;
        Ok(PasskeyChallenge {
            ceremony,
            public_key,
        })
    }

    /// Verify an assertion against a spent ceremony. `expected` is the user
    /// the ceremony was for (email and MFA variants; `None` for an email with
    /// no passkeys behind it), or `None` with `discoverable` to take the user
    /// from the assertion's user handle.
    async fn verify(
        &self,
        app: &App,
        token: &OneTimeToken,
        credential: &Value,
        discoverable: bool,
    ) -> std::result::Result<Asserted, Refusal> {
        let pkc: PublicKeyCredential =
            serde_json::from_value(credential.clone()).map_err(|e| Refusal {
                reason: "malformed",
                user: None,
                error: bad_credential(e),
            })?;
        let handle = match pkc.get_user_unique_id() {
            None => None,
            Some(bytes) => match Uuid::from_slice(bytes) {
                Ok(id) => Some(id),
                Err(_) => return Err(Refusal::new("unknown_user", None)),
            },
        };
        let user_id = match (discoverable, token.user_id, handle) {
            (true, _, Some(h)) => h,
            (true, _, None) => return Err(Refusal::new("no_user_handle", None)),
            (false, None, _) => return Err(Refusal::new("unknown_user", None)),
            (false, Some(expected), Some(h)) if h != expected => {
                return Err(Refusal::new("user_mismatch", None));
            }
            (false, Some(expected), _) => expected,
        };
        let user = match self.inner.store.users().get_user(user_id).await {
            Ok(u) if u.pool_id == app.pool_id => u,
            Ok(_) => return Err(Refusal::new("unknown_user", None)),
            Err(e) if *e.kind() == ErrorKind::NotFound => {
                return Err(Refusal::new("unknown_user", None));
            }
            Err(e) => return Err(e.into()),
        };
        let Some(mut passkey) = self
            .stored(user.id)
            .await?
            .into_iter()
            .find(|p| p.passkey.cred_id().as_slice() == pkc.raw_id.as_slice())
        else {
            return Err(Refusal::new("unknown_credential", Some(user)));
        };
        let state: DiscoverableAuthentication = serde_json::from_value(token.data["state"].clone())
            .map_err(|e| Error::internal(format!("stored authentication state unreadable: {e}")))?;
        let webauthn = self.webauthn(app)?;
        let result =
            match webauthn.finish_discoverable_authentication_v2(&pkc, state, &passkey.passkey) {
                Ok(r) => r,
                Err(e) => {
                    tracing::debug!(error = %e, "passkey assertion refused");
                    return Err(Refusal::new(reason_of(&e), Some(user)));
                }
            };
        if !result.user_verified() {
            return Err(Refusal::new("user_not_verified", Some(user)));
        }
        let now = self.inner.now();
        let creds = self.inner.store.credentials();
        if passkey.passkey.update_credential(&result) == Some(true) {
            let updated = passkey.to_credential()?;
            // The signature counter moved: bookkeeping, not an event.
            creds.update_credential(&updated, &[]).await?;
            passkey.credential = updated;
        }
        creds.touch_credential(passkey.credential.id, now).await?;
        passkey.credential.last_used_at = Some(now);
        Ok(Asserted {
            user,
            passkey,
            result,
        })
    }

    async fn record_failure(
        &self,
        app: &App,
        client: &ClientInfo,
        refusal: &Refusal,
    ) -> Result<()> {
        Audit::new(self.inner)
            .record(
                EventKind::SignInFailed,
                Subject {
                    app: Some(app),
                    user: refusal.user.as_ref(),
                    client: Some(client),
                    ..Default::default()
                },
                json!({ "method": "passkey", "reason": refusal.reason }),
            )
            .await
    }

    /// Finish a passkey sign-in with the browser's answer
    /// (`PublicKeyCredential.toJSON()` of `navigator.credentials.get()`) and
    /// start the session. A passkey with user verification is multi-factor by
    /// itself, so this never stops for a second factor: `amr` is `hwk`
    /// (device-bound key) or `swk` (synced key), plus `mfa`.
    ///
    /// Errors: `invalid_token` / `token_expired` (ceremony unknown, spent,
    /// expired, or another app's), `invalid_input` (`credential`: not a
    /// credential in its JSON form), `invalid_credentials` (unknown user or credential, wrong origin,
    /// bad signature, no user verification, counter gone backwards, or a
    /// credential not of the user the ceremony was for), `user_disabled`,
    /// `email_not_verified`, `method_disabled`.
    pub async fn finish_sign_in(
        &self,
        app: &App,
        ceremony: &str,
        credential: &Value,
        client: &ClientInfo,
    ) -> Result<AuthSession> {
        Self::require_method(app)?;
        let token = self
            .take_ceremony(TokenPurpose::PasskeySignIn, app, ceremony)
            .await?;
        let discoverable = token.data["mode"] == "discoverable";
        let asserted = match self.verify(app, &token, credential, discoverable).await {
            Ok(a) => a,
            Err(refusal) => {
                if refusal.reason != "error" {
                    self.record_failure(app, client, &refusal).await?;
                }
                return Err(refusal.error);
            }
        };
        let user = &asserted.user;
        if user.disabled {
            let r = Refusal {
                reason: "user_disabled",
                user: Some(user.clone()),
                error: Error::new(ErrorKind::UserDisabled),
            };
            self.record_failure(app, client, &r).await?;
            return Err(r.error);
        }
        if app.settings.require_verified_email && !user.email_verified {
            let r = Refusal {
                reason: "email_not_verified",
                user: Some(user.clone()),
                error: Error::new(ErrorKind::EmailNotVerified),
            };
            self.record_failure(app, client, &r).await?;
            return Err(r.error);
        }
        let amr = vec![asserted.key_amr().to_owned(), "mfa".to_owned()];
        Sessions::new(self.inner)
            .start(app, user, amr, client, "passkey")
            .await
    }

    // ---- second factor ------------------------------------------------

    /// Begin completing an MFA challenge (`mfa_token` from a first-factor
    /// sign-in) with one of the user's passkeys. The challenge is not spent.
    ///
    /// Errors: `invalid_token` (MFA token unknown, spent, expired or of
    /// another app), `method_disabled` (the user has no passkey),
    /// `user_disabled`.
    pub async fn start_mfa(&self, app: &App, mfa_token: &str) -> Result<PasskeyChallenge> {
        let pending = Mfa::new(self.inner).take_challenge(app, mfa_token).await?;
        let no_passkey = || {
            Error::with_message(
                ErrorKind::MethodDisabled,
                "This account has no passkey to complete the sign-in with.",
            )
        };
        if !pending.allows(MfaMethod::Passkey) {
            return Err(no_passkey());
        }
        let ids: Vec<Vec<u8>> = self
            .stored(pending.user.id)
            .await?
            .iter()
            .map(|p| p.passkey.cred_id().clone())
            .collect();
        if ids.is_empty() {
            return Err(no_passkey());
        }
        let (public_key, state) = self.request_options(app, Some(ids))?;
        let data = json!({
            "state": state,
            "mode": "mfa",
            "mfa": TokenHash::of(mfa_token).to_hex(),
        });
        let ceremony = self
            .save_ceremony(TokenPurpose::PasskeyMfa, app, Some(pending.user.id), data)
            .await?;
        Ok(PasskeyChallenge {
            ceremony,
            public_key,
        })
    }

    /// Finish an MFA challenge with a passkey assertion: on success the
    /// challenge is spent and the session starts with the first factor's
    /// `amr` plus `hwk`/`swk` and `mfa`.
    ///
    /// Errors: `invalid_token` (MFA token or ceremony unknown, spent,
    /// expired, or not started for this MFA token), `invalid_credentials`
    /// (the assertion does not verify, or is not one of the user's
    /// passkeys; counts as a failed MFA attempt), `rate_limited`,
    /// `invalid_input` (`credential`).
    pub async fn finish_mfa(
        &self,
        app: &App,
        mfa_token: &str,
        ceremony: &str,
        credential: &Value,
        client: &ClientInfo,
    ) -> Result<AuthSession> {
        let mfa = Mfa::new(self.inner);
        let pending = mfa.take_challenge(app, mfa_token).await?;
        mfa.check_rate(pending.user.id).await?;
        let token = self
            .take_ceremony(TokenPurpose::PasskeyMfa, app, ceremony)
            .await?;
        let bound = token.data["mfa"].as_str().unwrap_or_default();
        if !ct_eq(
            bound.as_bytes(),
            TokenHash::of(mfa_token).to_hex().as_bytes(),
        ) || token.user_id != Some(pending.user.id)
        {
            return Err(Error::new(ErrorKind::InvalidToken));
        }
        mfa.reserve_try(pending.user.id).await?;
        let asserted = match self.verify(app, &token, credential, false).await {
            Ok(a) => a,
            Err(refusal) if refusal.reason == "error" || refusal.reason == "malformed" => {
                return Err(refusal.error);
            }
            Err(refusal) => {
                return Err(mfa
                    .fail_attempt(app, &pending, MfaMethod::Passkey, refusal.reason, client)
                    .await);
            }
        };
        mfa.complete_with(app, &pending, &[asserted.key_amr()], client)
            .await
    }

    // ---- management ---------------------------------------------------

    /// The user's passkeys, oldest first.
    pub async fn list(&self, user_id: UserId) -> Result<Vec<PasskeyInfo>> {
        self.stored(user_id)
            .await?
            .iter()
            .map(StoredPasskey::info)
            .collect()
    }

    /// Rename one of the user's passkeys.
    ///
    /// Errors: `not_found` (no such passkey of this user), `invalid_input` (`name`).
    pub async fn rename(&self, user_id: UserId, id: Uuid, name: &str) -> Result<PasskeyInfo> {
        let name = normalize_passkey_name(Some(name))?;
        let mut passkey = self.find(user_id, id).await?;
        passkey.credential.name = Some(name);
        let updated = passkey.to_credential()?;
        let event = Audit::new(self.inner).event(
            EventKind::PasskeyRenamed,
            Subject {
                user_id: Some(user_id),
                credential: Some(&updated),
                ..Default::default()
            },
            json!({ "passkey_id": id }),
        );
        self.inner
            .store
            .credentials()
            .update_credential(&updated, &[event])
            .await?;
        passkey.credential = updated;
        passkey.info()
    }

    /// Delete one of the user's passkeys, unless it is their last way to
    /// sign in (no password, no other passkey, no linked identity).
    ///
    /// Errors: `not_found`, `last_sign_in_method`.
    pub async fn delete(&self, user_id: UserId, id: Uuid) -> Result<()> {
        let store = &self.inner.store;
        let passkey = store
            .credentials()
            .list_credentials(user_id, Some(CredentialKind::Passkey))
            .await?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or_else(|| Error::new(ErrorKind::NotFound))?;
        let user = store.users().get_user(user_id).await?;
        let event = Audit::new(self.inner).event(
            EventKind::PasskeyDeleted,
            Subject {
                user: Some(&user),
                credential: Some(&passkey),
                ..Default::default()
            },
            json!({ "passkey_id": id }),
        );
        crate::users::delete_sign_in_method(
            self.inner,
            None,
            &user,
            crate::model::SignInMethodRef::Credential(id),
            event,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_bounded_and_defaulted() {
        assert_eq!(normalize_passkey_name(None).unwrap(), "Passkey");
        assert_eq!(normalize_passkey_name(Some("  ")).unwrap(), "Passkey");
        assert_eq!(normalize_passkey_name(Some(" Laptop ")).unwrap(), "Laptop");
        assert!(normalize_passkey_name(Some(&"x".repeat(65))).is_err());
        assert!(normalize_passkey_name(Some("a\u{0}b")).is_err());
    }
}
