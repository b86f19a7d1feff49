//! Second factors, passkeys and external sign-in, as async functions of the
//! core and owned arguments (the `flows` of [`super`], kept apart so each
//! capability reads on its own).
//!
//! Every function that acts for an app takes `app: Option<String>` (id or
//! slug; the default app otherwise): MFA challenges, passkey ceremonies and
//! provider settings all belong to one app. WebAuthn options and credentials
//! cross as JSON documents in the W3C forms (`PublicKeyCredential.toJSON()`).

use serde_json::Value;
use tessera_core::model::{ClientInfo, User};
use tessera_core::{
    CallbackParams, Error, ProviderInput, Result, SignInOutcome, StartOptions, Tessera,
};

use crate::auth_types::{OAuthCallback, PasskeyOptions};
use crate::convert::{Id, Json};

fn client(ip: Option<String>, user_agent: Option<String>) -> ClientInfo {
    ClientInfo::parse(ip.as_deref(), user_agent.as_deref())
}

async fn user_of(core: &Tessera, user_id: Id) -> Result<User> {
    core.users().get(user_id.0).await
}

/// A credential as a dict, or as JSON text.
fn credential(c: Json) -> Result<Value> {
    match c.0 {
        Value::String(text) => serde_json::from_str(&text).map_err(|e| {
            Error::invalid(
                "credential",
                format!("credential is not valid JSON (PublicKeyCredential.toJSON()): {e}"),
            )
        }),
        v @ Value::Object(_) => Ok(v),
        _ => Err(Error::invalid(
            "credential",
            "credential must be a dict (PublicKeyCredential.toJSON()) or its JSON text",
        )),
    }
}

// --- TOTP and recovery codes -------------------------------------------

pub(crate) async fn enroll_totp(
    core: Tessera,
    user_id: Id,
    app: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
) -> Result<tessera_core::TotpEnrollment> {
    let app = core.apps().resolve_or_default(app.as_deref()).await?;
    core.totp()
        .enroll(&app, user_id.0, &client(ip, user_agent))
        .await
}

pub(crate) async fn pending_totp_enrollment(
    core: Tessera,
    user_id: Id,
    app: Option<String>,
) -> Result<Option<tessera_core::TotpEnrollment>> {
    let app = core.apps().resolve_or_default(app.as_deref()).await?;
    core.totp().pending_enrollment(&app, user_id.0).await
}

pub(crate) async fn confirm_totp(
    core: Tessera,
    user_id: Id,
    code: String,
    app: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
) -> Result<Vec<String>> {
    let app = core.apps().resolve_or_default(app.as_deref()).await?;
    core.totp()
        .confirm(&app, user_id.0, &code, &client(ip, user_agent))
        .await
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn disable_totp(
    core: Tessera,
    user_id: Id,
    password: Option<String>,
    code: Option<String>,
    app: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
) -> Result<()> {
    let app = core.apps().resolve_or_default(app.as_deref()).await?;
    core.totp()
        .disable(
            &app,
            user_id.0,
            password.as_deref(),
            code.as_deref(),
            &client(ip, user_agent),
        )
        .await
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn regenerate_recovery_codes(
    core: Tessera,
    user_id: Id,
    password: Option<String>,
    code: Option<String>,
    app: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
) -> Result<Vec<String>> {
    let app = core.apps().resolve_or_default(app.as_deref()).await?;
    core.totp()
        .regenerate_recovery_codes(
            &app,
            user_id.0,
            password.as_deref(),
            code.as_deref(),
            &client(ip, user_agent),
        )
        .await
}

pub(crate) async fn mfa_status(
    core: Tessera,
    user_id: Id,
    app: Option<String>,
) -> Result<tessera_core::MfaStatus> {
    let app = core.apps().resolve_or_default(app.as_deref()).await?;
    core.totp().status(&app, user_id.0).await
}

// --- the MFA step of sign-in ---------------------------------------------

pub(crate) async fn complete_mfa_with_totp(
    core: Tessera,
    mfa_token: String,
    code: String,
    app: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
) -> Result<tessera_core::AuthSession> {
    let app = core.apps().resolve_or_default(app.as_deref()).await?;
    core.mfa()
        .verify_totp(&app, &mfa_token, &code, &client(ip, user_agent))
        .await
}

pub(crate) async fn complete_mfa_with_recovery_code(
    core: Tessera,
    mfa_token: String,
    recovery_code: String,
    app: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
) -> Result<tessera_core::AuthSession> {
    let app = core.apps().resolve_or_default(app.as_deref()).await?;
    core.mfa()
        .verify_recovery_code(&app, &mfa_token, &recovery_code, &client(ip, user_agent))
        .await
}

pub(crate) async fn enroll_totp_for_mfa(
    core: Tessera,
    mfa_token: String,
    app: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
) -> Result<tessera_core::TotpEnrollment> {
    let app = core.apps().resolve_or_default(app.as_deref()).await?;
    core.mfa()
        .enroll_totp(&app, &mfa_token, &client(ip, user_agent))
        .await
}

pub(crate) async fn confirm_totp_for_mfa(
    core: Tessera,
    mfa_token: String,
    code: String,
    app: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
) -> Result<tessera_core::EnrolledSignIn> {
    let app = core.apps().resolve_or_default(app.as_deref()).await?;
    core.mfa()
        .confirm_totp(&app, &mfa_token, &code, &client(ip, user_agent))
        .await
}

// --- passkeys ------------------------------------------------------------

pub(crate) async fn start_passkey_registration(
    core: Tessera,
    user_id: Id,
    app: Option<String>,
) -> Result<PasskeyOptions> {
    let user = user_of(&core, user_id).await?;
    let app = core.apps().resolve_or_default(app.as_deref()).await?;
    core.passkeys()
        .start_registration(&app, &user)
        .await
        .map(PasskeyOptions)
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn finish_passkey_registration(
    core: Tessera,
    user_id: Id,
    ceremony: String,
    credential: Json,
    name: Option<String>,
    app: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
) -> Result<tessera_core::PasskeyInfo> {
    let credential = self::credential(credential)?;
    let user = user_of(&core, user_id).await?;
    let app = core.apps().resolve_or_default(app.as_deref()).await?;
    core.passkeys()
        .finish_registration(
            &app,
            &user,
            &ceremony,
            &credential,
            name.as_deref(),
            &client(ip, user_agent),
        )
        .await
}

pub(crate) async fn start_passkey_sign_in(
    core: Tessera,
    email: Option<String>,
    app: Option<String>,
) -> Result<PasskeyOptions> {
    let app = core.apps().resolve_or_default(app.as_deref()).await?;
    core.passkeys()
        .start_sign_in(&app, email.as_deref())
        .await
        .map(PasskeyOptions)
}

pub(crate) async fn finish_passkey_sign_in(
    core: Tessera,
    ceremony: String,
    credential: Json,
    app: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
) -> Result<tessera_core::AuthSession> {
    let credential = self::credential(credential)?;
    let app = core.apps().resolve_or_default(app.as_deref()).await?;
    core.passkeys()
        .finish_sign_in(&app, &ceremony, &credential, &client(ip, user_agent))
        .await
}

pub(crate) async fn start_passkey_mfa(
    core: Tessera,
    mfa_token: String,
    app: Option<String>,
) -> Result<PasskeyOptions> {
    let app = core.apps().resolve_or_default(app.as_deref()).await?;
    core.passkeys()
        .start_mfa(&app, &mfa_token)
        .await
        .map(PasskeyOptions)
}

pub(crate) async fn finish_passkey_mfa(
    core: Tessera,
    mfa_token: String,
    ceremony: String,
    credential: Json,
    app: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
) -> Result<tessera_core::AuthSession> {
    let credential = self::credential(credential)?;
    let app = core.apps().resolve_or_default(app.as_deref()).await?;
    core.passkeys()
        .finish_mfa(
            &app,
            &mfa_token,
            &ceremony,
            &credential,
            &client(ip, user_agent),
        )
        .await
}

pub(crate) async fn list_passkeys(
    core: Tessera,
    user_id: Id,
) -> Result<Vec<tessera_core::PasskeyInfo>> {
    core.passkeys().list(user_id.0).await
}

pub(crate) async fn rename_passkey(
    core: Tessera,
    user_id: Id,
    passkey_id: Id,
    name: String,
) -> Result<tessera_core::PasskeyInfo> {
    core.passkeys().rename(user_id.0, passkey_id.0, &name).await
}

pub(crate) async fn delete_passkey(core: Tessera, user_id: Id, passkey_id: Id) -> Result<()> {
    core.passkeys().delete(user_id.0, passkey_id.0).await
}

// --- external sign-in (OAuth 2.0 / OpenID Connect) -------------------------

pub(crate) async fn put_oauth_provider(
    core: Tessera,
    provider: String,
    config: Json,
    app: Option<String>,
) -> Result<tessera_core::ProviderView> {
    let input: ProviderInput =
        serde_json::from_value(config.0).map_err(|e| Error::invalid("config", e.to_string()))?;
    let app = core.apps().resolve_or_default(app.as_deref()).await?;
    core.oauth().put_provider(&app, &provider, &input).await
}

pub(crate) async fn get_oauth_provider(
    core: Tessera,
    provider: String,
    app: Option<String>,
) -> Result<tessera_core::ProviderView> {
    let app = core.apps().resolve_or_default(app.as_deref()).await?;
    core.oauth().get_provider(&app, &provider).await
}

pub(crate) async fn list_oauth_providers(
    core: Tessera,
    app: Option<String>,
) -> Result<Vec<tessera_core::ProviderView>> {
    let app = core.apps().resolve_or_default(app.as_deref()).await?;
    core.oauth().list_providers(&app).await
}

pub(crate) async fn delete_oauth_provider(
    core: Tessera,
    provider: String,
    app: Option<String>,
) -> Result<()> {
    let app = core.apps().resolve_or_default(app.as_deref()).await?;
    core.oauth().delete_provider(&app, &provider).await
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn start_oauth(
    core: Tessera,
    provider: String,
    redirect_uri: String,
    code_challenge: Option<String>,
    link_user_id: Option<Id>,
    app: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
) -> Result<tessera_core::Authorization> {
    let app = core.apps().resolve_or_default(app.as_deref()).await?;
    let options = StartOptions {
        redirect_uri: Some(redirect_uri),
        hosted: false,
        code_challenge,
        link_user: link_user_id.map(|u| u.0),
    };
    core.oauth()
        .start(&app, &provider, &options, &client(ip, user_agent))
        .await
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn oauth_callback(
    core: Tessera,
    provider: String,
    state: String,
    code: Option<String>,
    error: Option<String>,
    user: Option<String>,
    browser_state: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
) -> Result<OAuthCallback> {
    let params = CallbackParams {
        state: Some(state),
        code,
        error,
        user,
        browser_state,
    };
    let outcome = core
        .oauth()
        .callback(&provider, &params, &client(ip, user_agent))
        .await?;
    Ok(OAuthCallback {
        app_id: outcome.app.id.to_string(),
        provider: outcome.provider,
        redirect_uri: outcome.redirect_uri,
        result: outcome.result,
    })
}

pub(crate) async fn exchange_oauth_code(
    core: Tessera,
    code: String,
    code_verifier: Option<String>,
) -> Result<SignInOutcome> {
    let (_app, outcome) = core
        .oauth()
        .exchange(&code, code_verifier.as_deref())
        .await?;
    Ok(outcome)
}

pub(crate) async fn list_identities(
    core: Tessera,
    user_id: Id,
) -> Result<Vec<tessera_core::model::Identity>> {
    core.oauth().identities(user_id.0).await
}

pub(crate) async fn unlink_identity(
    core: Tessera,
    user_id: Id,
    identity_id: Id,
    app: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
) -> Result<()> {
    let app = core.apps().resolve_or_default(app.as_deref()).await?;
    core.oauth()
        .unlink(&app, user_id.0, identity_id.0, &client(ip, user_agent))
        .await
}
