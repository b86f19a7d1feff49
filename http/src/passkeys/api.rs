//! The passkey JSON routes: `/v1/passkeys…` (the caller's passkeys),
//! `/v1/sign-in/passkey/…` and `/v1/sign-in/mfa/passkey/…`.
//!
//! Bodies use the W3C JSON forms, so a browser needs no base64 juggling: a
//! `…/start` answers `{"ceremony", "publicKey"}` for
//! `PublicKeyCredential.parseCreationOptionsFromJSON` /
//! `parseRequestOptionsFromJSON`, and a `…/finish` takes
//! `{"ceremony", "credential": credential.toJSON()}`. Ceremony state is in
//! the store, so any instance can finish what another started.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use uuid::Uuid;

use crate::dto::TokensView;
use crate::error::{ApiResult, ErrorEnvelope};
use crate::extract::{Caller, Client, CurrentApp, Json, Path};
use crate::limits::Action;
use crate::openapi::handlers;
use crate::passkeys::dto::{
    AssertionFinishRequest, CeremonyView, MfaFinishRequest, MfaStartRequest, PasskeyPatch,
    PasskeyView, PasskeysView, RegisterFinishRequest, SignInStartRequest,
};
use crate::state::AppState;

/// Routes of this module.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    handlers![
        register_start; register_finish; sign_in_start; sign_in_finish; mfa_start; mfa_finish;
        list_passkeys; rename_passkey, delete_passkey
    ]
}

/// Begin registering a passkey for the signed-in caller.
#[utoipa::path(post, path = "/v1/passkeys/register/start", tag = "passkeys",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Creation options and the ceremony id", body = CeremonyView),
        (status = 401, description = "Not signed in", body = ErrorEnvelope),
        (status = 403, description = "Passkeys are not enabled for the app", body = ErrorEnvelope),
        (status = 422, description = "Too many passkeys", body = ErrorEnvelope)))]
async fn register_start(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<axum::Json<CeremonyView>> {
    let app = caller.app(&state).await?;
    let challenge = state
        .tessera
        .passkeys()
        .start_registration(&app, &caller.user)
        .await?;
    Ok(axum::Json(challenge.into()))
}

/// Finish registering a passkey.
#[utoipa::path(post, path = "/v1/passkeys/register/finish", tag = "passkeys",
    security(("bearer" = []), ("cookie" = [])), request_body = RegisterFinishRequest,
    responses(
        (status = 201, description = "Registered", body = PasskeyView),
                (status = 401, description = "Not signed in, or the ceremony is unknown, spent or another user's", body = ErrorEnvelope),
        (status = 409, description = "Already registered", body = ErrorEnvelope),
        (status = 422, description = "Not a credential, or the authenticator's answer does not verify", body = ErrorEnvelope)))]
async fn register_finish(
    State(state): State<AppState>,
    caller: Caller,
    client: Client,
    Json(req): Json<RegisterFinishRequest>,
) -> ApiResult<Response> {
    let app = caller.app(&state).await?;
    let info = state
        .tessera
        .passkeys()
        .finish_registration(
            &app,
            &caller.user,
            &req.ceremony,
            &req.credential,
            req.name.as_deref(),
            &client.0,
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(PasskeyView::from(info))).into_response())
}

/// Begin a passkey sign-in.
#[utoipa::path(post, path = "/v1/sign-in/passkey/start", tag = "passkeys",
    request_body = SignInStartRequest,
    params(("X-Tessera-App" = Option<String>, Header, description = "App id or slug")),
    responses(
        (status = 200, description = "Request options and the ceremony id (the same shape whether or not the email has an account)", body = CeremonyView),
        (status = 403, description = "Passkeys are not enabled for the app", body = ErrorEnvelope),
        (status = 429, description = "Rate limited", body = ErrorEnvelope)))]
async fn sign_in_start(
    State(state): State<AppState>,
    CurrentApp(app): CurrentApp,
    client: Client,
    Json(req): Json<SignInStartRequest>,
) -> ApiResult<axum::Json<CeremonyView>> {
    state.check_limits(Action::SignIn, &client.0, None).await?;
    let challenge = state
        .tessera
        .passkeys()
        .start_sign_in(&app, req.email.as_deref())
        .await?;
    Ok(axum::Json(challenge.into()))
}

/// Finish a passkey sign-in: the session's tokens (a passkey with user
/// verification is multi-factor, so there is no MFA step).
#[utoipa::path(post, path = "/v1/sign-in/passkey/finish", tag = "passkeys",
    request_body = AssertionFinishRequest,
    params(("X-Tessera-App" = Option<String>, Header, description = "App id or slug")),
    responses(
        (status = 200, description = "Signed in", body = TokensView),
                (status = 401, description = "Invalid credentials, or the ceremony is unknown, spent or expired", body = ErrorEnvelope),
        (status = 422, description = "Not a credential", body = ErrorEnvelope),
        (status = 403, description = "User disabled, email not verified, or passkeys disabled", body = ErrorEnvelope),
        (status = 429, description = "Rate limited", body = ErrorEnvelope)))]
async fn sign_in_finish(
    State(state): State<AppState>,
    CurrentApp(app): CurrentApp,
    client: Client,
    Json(req): Json<AssertionFinishRequest>,
) -> ApiResult<axum::Json<TokensView>> {
    let passkeys = state.tessera.passkeys();
    let call = passkeys.finish_sign_in(&app, &req.ceremony, &req.credential, &client.0);
    let session = state.sign_in("passkey", &client.0, None, call).await?;
    Ok(axum::Json(TokensView::from(session)))
}

/// Begin completing an MFA challenge with one of the user's passkeys.
#[utoipa::path(post, path = "/v1/sign-in/mfa/passkey/start", tag = "passkeys",
    request_body = MfaStartRequest,
    params(("X-Tessera-App" = Option<String>, Header, description = "App id or slug")),
    responses(
        (status = 200, description = "Request options and the ceremony id", body = CeremonyView),
        (status = 401, description = "Unknown, spent or expired MFA token", body = ErrorEnvelope),
        (status = 403, description = "The user has no passkey", body = ErrorEnvelope),
        (status = 429, description = "Rate limited", body = ErrorEnvelope)))]
async fn mfa_start(
    State(state): State<AppState>,
    CurrentApp(app): CurrentApp,
    client: Client,
    Json(req): Json<MfaStartRequest>,
) -> ApiResult<axum::Json<CeremonyView>> {
    state.check_limits(Action::SignIn, &client.0, None).await?;
    let challenge = state
        .tessera
        .passkeys()
        .start_mfa(&app, &req.mfa_token)
        .await?;
    Ok(axum::Json(challenge.into()))
}

/// Finish an MFA challenge with a passkey: the session's tokens.
#[utoipa::path(post, path = "/v1/sign-in/mfa/passkey/finish", tag = "passkeys",
    request_body = MfaFinishRequest,
    params(("X-Tessera-App" = Option<String>, Header, description = "App id or slug")),
    responses(
        (status = 200, description = "Signed in", body = TokensView),
                (status = 401, description = "Invalid credentials, or an unknown, spent or expired token or ceremony", body = ErrorEnvelope),
        (status = 422, description = "Not a credential", body = ErrorEnvelope),
        (status = 429, description = "Rate limited", body = ErrorEnvelope)))]
async fn mfa_finish(
    State(state): State<AppState>,
    CurrentApp(app): CurrentApp,
    client: Client,
    Json(req): Json<MfaFinishRequest>,
) -> ApiResult<axum::Json<TokensView>> {
    let passkeys = state.tessera.passkeys();
    let call = passkeys.finish_mfa(
        &app,
        &req.mfa_token,
        &req.ceremony,
        &req.credential,
        &client.0,
    );
    let session = state.sign_in("mfa_passkey", &client.0, None, call).await?;
    Ok(axum::Json(TokensView::from(session)))
}

/// The caller's passkeys.
#[utoipa::path(get, path = "/v1/passkeys", tag = "passkeys",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = PasskeysView), (status = 401, body = ErrorEnvelope)))]
async fn list_passkeys(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<axum::Json<PasskeysView>> {
    let passkeys = state.tessera.passkeys().list(caller.user.id).await?;
    Ok(axum::Json(PasskeysView {
        passkeys: passkeys.into_iter().map(Into::into).collect(),
    }))
}

/// Rename one of the caller's passkeys.
#[utoipa::path(patch, path = "/v1/passkeys/{id}", tag = "passkeys",
    security(("bearer" = []), ("cookie" = [])), request_body = PasskeyPatch,
    params(("id" = Uuid, Path, description = "Passkey id")),
    responses((status = 200, body = PasskeyView), (status = 404, body = ErrorEnvelope),
              (status = 422, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope)))]
async fn rename_passkey(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Json(req): Json<PasskeyPatch>,
) -> ApiResult<axum::Json<PasskeyView>> {
    let info = state
        .tessera
        .passkeys()
        .rename(caller.user.id, id, &req.name)
        .await?;
    Ok(axum::Json(info.into()))
}

/// Delete one of the caller's passkeys (refused when it is their last way to
/// sign in: no password, no other passkey, no linked identity).
#[utoipa::path(delete, path = "/v1/passkeys/{id}", tag = "passkeys",
    security(("bearer" = []), ("cookie" = [])),
    params(("id" = Uuid, Path, description = "Passkey id")),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorEnvelope),
              (status = 409, description = "The last way to sign in", body = ErrorEnvelope),
              (status = 401, body = ErrorEnvelope)))]
async fn delete_passkey(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    state.tessera.passkeys().delete(caller.user.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
