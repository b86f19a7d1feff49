//! TOTP, recovery codes, passkeys and the MFA step of sign-in, as methods of
//! [`Tessera`].
//!
//! A separate `#[uniffi::export]` block so the account and session surface in
//! `lib.rs` stays readable; Kotlin sees one `Tessera` class either way. Every
//! method acts for an app (`app`: id or slug, the `default` app when `null`),
//! since MFA challenges, passkey ceremonies and relying-party settings are
//! per app. WebAuthn options and credentials cross as JSON text in the W3C
//! forms (`PublicKeyCredential.toJSON()`).

use crate::factors::{EnrolledSignIn, MfaStatus, PasskeyChallenge, PasskeyInfo, TotpEnrollment};
use crate::records::parse_id;
use crate::{AuthSession, ClientInfo, Result, Tessera, TesseraError, client_info};

fn parse_credential(json: &str) -> Result<serde_json::Value> {
    serde_json::from_str(json).map_err(|e| {
        TesseraError::invalid(
            "credential",
            format!("credential is not valid JSON (PublicKeyCredential.toJSON()): {e}"),
        )
    })
}

impl Tessera {
    async fn user(&self, user_id: &str) -> Result<tessera_core::model::User> {
        let id = parse_id("user_id", user_id)?;
        Ok(self.core.users().get(id).await?)
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl Tessera {
    // --- TOTP and recovery codes ---------------------------------------

    /// Start TOTP enrolment for a signed-in user: a new secret, its
    /// `otpauth://` URI and QR code. Inactive until `confirmTotp`; enrolling
    /// again replaces an unconfirmed secret.
    ///
    /// Errors: `conflict` (TOTP already enabled), `not_found`, `user_disabled`.
    #[uniffi::method(default(app = None, client = None))]
    pub async fn enroll_totp(
        &self,
        user_id: String,
        app: Option<String>,
        client: Option<ClientInfo>,
    ) -> Result<TotpEnrollment> {
        let user_id = parse_id("user_id", &user_id)?;
        let app = self.app(app).await?;
        Ok(self
            .core
            .totp()
            .enroll(&app, user_id, &client_info(client))
            .await?
            .into())
    }

    /// The started, unconfirmed enrolment shown again; `null` if none.
    #[uniffi::method(default(app = None))]
    pub async fn pending_totp_enrollment(
        &self,
        user_id: String,
        app: Option<String>,
    ) -> Result<Option<TotpEnrollment>> {
        let user_id = parse_id("user_id", &user_id)?;
        let app = self.app(app).await?;
        let pending = self.core.totp().pending_enrollment(&app, user_id).await?;
        Ok(pending.map(Into::into))
    }

    /// Confirm a started enrolment with a first code: TOTP becomes active and
    /// the answer is a fresh set of 10 recovery codes, shown this once.
    ///
    /// Errors: `invalid_credentials` (wrong or reused code), `not_found` (no
    /// enrolment started), `conflict` (already enabled), `rate_limited`.
    #[uniffi::method(default(app = None, client = None))]
    pub async fn confirm_totp(
        &self,
        user_id: String,
        code: String,
        app: Option<String>,
        client: Option<ClientInfo>,
    ) -> Result<Vec<String>> {
        let user_id = parse_id("user_id", &user_id)?;
        let app = self.app(app).await?;
        Ok(self
            .core
            .totp()
            .confirm(&app, user_id, &code, &client_info(client))
            .await?)
    }

    /// Turn TOTP off (or cancel an unconfirmed enrolment) and delete the
    /// recovery codes. Re-authentication: `password` when the user has one,
    /// otherwise `code` (a current TOTP code).
    ///
    /// Errors: `reauthentication_required` (proof missing),
    /// `invalid_credentials` (proof wrong), `not_found` (no TOTP), `rate_limited`.
    #[uniffi::method(default(password = None, code = None, app = None, client = None))]
    pub async fn disable_totp(
        &self,
        user_id: String,
        password: Option<String>,
        code: Option<String>,
        app: Option<String>,
        client: Option<ClientInfo>,
    ) -> Result<()> {
        let user_id = parse_id("user_id", &user_id)?;
        let app = self.app(app).await?;
        Ok(self
            .core
            .totp()
            .disable(
                &app,
                user_id,
                password.as_deref(),
                code.as_deref(),
                &client_info(client),
            )
            .await?)
    }

    /// Replace the user's recovery codes with a new set (the old ones stop
    /// working), shown this once. Re-authentication as for `disableTotp`.
    ///
    /// Errors: as `disableTotp`, and `conflict` (no second factor enabled).
    #[uniffi::method(default(password = None, code = None, app = None, client = None))]
    pub async fn regenerate_recovery_codes(
        &self,
        user_id: String,
        password: Option<String>,
        code: Option<String>,
        app: Option<String>,
        client: Option<ClientInfo>,
    ) -> Result<Vec<String>> {
        let user_id = parse_id("user_id", &user_id)?;
        let app = self.app(app).await?;
        Ok(self
            .core
            .totp()
            .regenerate_recovery_codes(
                &app,
                user_id,
                password.as_deref(),
                code.as_deref(),
                &client_info(client),
            )
            .await?)
    }

    /// The user's second factors (TOTP, recovery codes left, passkeys).
    #[uniffi::method(default(app = None))]
    pub async fn mfa_status(&self, user_id: String, app: Option<String>) -> Result<MfaStatus> {
        let user_id = parse_id("user_id", &user_id)?;
        let app = self.app(app).await?;
        Ok(self.core.totp().status(&app, user_id).await?.into())
    }

    // --- the MFA step of sign-in ----------------------------------------

    /// Finish a sign-in that answered `MfaRequired` with a TOTP code
    /// (`amr` gains `otp` and `mfa`). A code is accepted once.
    ///
    /// Errors: `invalid_credentials` (wrong or reused code; after 5 the
    /// challenge is spent), `invalid_token` (unknown, spent or expired
    /// `mfa_token`, or another app's), `invalid_input` (`method`: the
    /// challenge does not accept TOTP), `rate_limited`, `user_disabled`.
    #[uniffi::method(default(app = None, client = None))]
    pub async fn complete_mfa_with_totp(
        &self,
        mfa_token: String,
        code: String,
        app: Option<String>,
        client: Option<ClientInfo>,
    ) -> Result<AuthSession> {
        let app = self.app(app).await?;
        Ok(self
            .core
            .mfa()
            .verify_totp(&app, &mfa_token, &code, &client_info(client))
            .await?
            .into())
    }

    /// Finish a sign-in that answered `MfaRequired` with a recovery code,
    /// which is spent (`amr` gains `mfa`).
    ///
    /// Errors: as `completeMfaWithTotp`.
    #[uniffi::method(default(app = None, client = None))]
    pub async fn complete_mfa_with_recovery_code(
        &self,
        mfa_token: String,
        recovery_code: String,
        app: Option<String>,
        client: Option<ClientInfo>,
    ) -> Result<AuthSession> {
        let app = self.app(app).await?;
        Ok(self
            .core
            .mfa()
            .verify_recovery_code(&app, &mfa_token, &recovery_code, &client_info(client))
            .await?
            .into())
    }

    /// When the app requires a second factor the user lacks (`methods` =
    /// `["totp_enroll"]`): start TOTP enrolment with the `mfa_token` standing
    /// in for a session. Finish with `confirmTotpForMfa`.
    ///
    /// Errors: `invalid_token`, `invalid_input` (not an enrolment challenge), `conflict`.
    #[uniffi::method(default(app = None, client = None))]
    pub async fn enroll_totp_for_mfa(
        &self,
        mfa_token: String,
        app: Option<String>,
        client: Option<ClientInfo>,
    ) -> Result<TotpEnrollment> {
        let app = self.app(app).await?;
        Ok(self
            .core
            .mfa()
            .enroll_totp(&app, &mfa_token, &client_info(client))
            .await?
            .into())
    }

    /// Confirm the enrolment of `enrollTotpForMfa` with a first code and
    /// finish the sign-in: the session and the new recovery codes.
    ///
    /// Errors: as `completeMfaWithTotp`, and `not_found` (no enrolment started).
    #[uniffi::method(default(app = None, client = None))]
    pub async fn confirm_totp_for_mfa(
        &self,
        mfa_token: String,
        code: String,
        app: Option<String>,
        client: Option<ClientInfo>,
    ) -> Result<EnrolledSignIn> {
        let app = self.app(app).await?;
        Ok(self
            .core
            .mfa()
            .confirm_totp(&app, &mfa_token, &code, &client_info(client))
            .await?
            .into())
    }

    // --- passkeys -------------------------------------------------------

    /// Begin registering a passkey for a signed-in user (discoverable, user
    /// verification required; the user's passkeys are excluded).
    ///
    /// Errors: `method_disabled` (passkeys off for the app), `invalid_input`
    /// (`passkeys`: too many), `not_found`, `config_error` (relying party).
    #[uniffi::method(default(app = None))]
    pub async fn start_passkey_registration(
        &self,
        user_id: String,
        app: Option<String>,
    ) -> Result<PasskeyChallenge> {
        let user = self.user(&user_id).await?;
        let app = self.app(app).await?;
        Ok(self
            .core
            .passkeys()
            .start_registration(&app, &user)
            .await?
            .into())
    }

    /// Finish a registration with the authenticator's answer
    /// (`PublicKeyCredential.toJSON()` of `navigator.credentials.create()`, as
    /// JSON text) and store the passkey under `name` (default "Passkey").
    ///
    /// Errors: `invalid_token` / `token_expired` (ceremony unknown, spent,
    /// expired, or another user's), `invalid_input` (`credential`: malformed
    /// or does not verify; `name`), `conflict` (already registered).
    #[uniffi::method(default(name = None, app = None, client = None))]
    pub async fn finish_passkey_registration(
        &self,
        user_id: String,
        ceremony: String,
        credential_json: String,
        name: Option<String>,
        app: Option<String>,
        client: Option<ClientInfo>,
    ) -> Result<PasskeyInfo> {
        let user = self.user(&user_id).await?;
        let app = self.app(app).await?;
        let credential = parse_credential(&credential_json)?;
        Ok(self
            .core
            .passkeys()
            .finish_registration(
                &app,
                &user,
                &ceremony,
                &credential,
                name.as_deref(),
                &client_info(client),
            )
            .await?
            .into())
    }

    /// Begin a passkey sign-in: without `email`, for a discoverable
    /// credential (no email typed); with one, listing that account's
    /// passkeys. Same answer shape whether or not the account exists.
    ///
    /// Errors: `method_disabled`, `config_error`.
    #[uniffi::method(default(email = None, app = None))]
    pub async fn start_passkey_sign_in(
        &self,
        email: Option<String>,
        app: Option<String>,
    ) -> Result<PasskeyChallenge> {
        let app = self.app(app).await?;
        Ok(self
            .core
            .passkeys()
            .start_sign_in(&app, email.as_deref())
            .await?
            .into())
    }

    /// Finish a passkey sign-in with the authenticator's assertion (JSON
    /// text). A passkey is multi-factor by itself: `amr` is `hwk` or `swk`,
    /// plus `mfa`.
    ///
    /// Errors: `invalid_token` / `token_expired` (ceremony), `invalid_input`
    /// (`credential` malformed), `invalid_credentials` (does not verify, or
    /// not a passkey of the expected user), `user_disabled`,
    /// `email_not_verified`, `method_disabled`.
    #[uniffi::method(default(app = None, client = None))]
    pub async fn finish_passkey_sign_in(
        &self,
        ceremony: String,
        credential_json: String,
        app: Option<String>,
        client: Option<ClientInfo>,
    ) -> Result<AuthSession> {
        let app = self.app(app).await?;
        let credential = parse_credential(&credential_json)?;
        Ok(self
            .core
            .passkeys()
            .finish_sign_in(&app, &ceremony, &credential, &client_info(client))
            .await?
            .into())
    }

    /// Begin finishing a sign-in that answered `MfaRequired` (with
    /// `passkey` among its methods) with one of the user's passkeys.
    ///
    /// Errors: `invalid_token`, `method_disabled` (no passkey), `user_disabled`.
    #[uniffi::method(default(app = None))]
    pub async fn start_passkey_mfa(
        &self,
        mfa_token: String,
        app: Option<String>,
    ) -> Result<PasskeyChallenge> {
        let app = self.app(app).await?;
        Ok(self
            .core
            .passkeys()
            .start_mfa(&app, &mfa_token)
            .await?
            .into())
    }

    /// Finish the MFA step with a passkey assertion (JSON text): the session,
    /// `amr` = the first factor's plus `hwk`/`swk` and `mfa`.
    ///
    /// Errors: `invalid_token`, `invalid_credentials` (counts as a failed
    /// attempt), `rate_limited`, `invalid_input` (`credential`).
    #[uniffi::method(default(app = None, client = None))]
    pub async fn finish_passkey_mfa(
        &self,
        mfa_token: String,
        ceremony: String,
        credential_json: String,
        app: Option<String>,
        client: Option<ClientInfo>,
    ) -> Result<AuthSession> {
        let app = self.app(app).await?;
        let credential = parse_credential(&credential_json)?;
        Ok(self
            .core
            .passkeys()
            .finish_mfa(
                &app,
                &mfa_token,
                &ceremony,
                &credential,
                &client_info(client),
            )
            .await?
            .into())
    }

    /// The user's passkeys, oldest first.
    pub async fn list_passkeys(&self, user_id: String) -> Result<Vec<PasskeyInfo>> {
        let user_id = parse_id("user_id", &user_id)?;
        let list = self.core.passkeys().list(user_id).await?;
        Ok(list.into_iter().map(Into::into).collect())
    }

    /// Rename one of the user's passkeys.
    ///
    /// Errors: `not_found` (not a passkey of this user), `invalid_input` (`name`).
    pub async fn rename_passkey(
        &self,
        user_id: String,
        passkey_id: String,
        name: String,
    ) -> Result<PasskeyInfo> {
        let user_id = parse_id("user_id", &user_id)?;
        let id = parse_id("passkey_id", &passkey_id)?;
        Ok(self
            .core
            .passkeys()
            .rename(user_id, id, &name)
            .await?
            .into())
    }

    /// Delete one of the user's passkeys, unless it is their last way to
    /// sign in.
    ///
    /// Errors: `not_found`, `last_sign_in_method`.
    pub async fn delete_passkey(&self, user_id: String, passkey_id: String) -> Result<()> {
        let user_id = parse_id("user_id", &user_id)?;
        let id = parse_id("passkey_id", &passkey_id)?;
        Ok(self.core.passkeys().delete(user_id, id).await?)
    }
}
