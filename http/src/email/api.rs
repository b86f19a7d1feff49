//! The JSON routes of the email flows: `/v1/password/reset…`,
//! `/v1/email/verify…`, `/v1/email/change…`, `/v1/sign-in/code…`,
//! `/v1/sign-in/magic-link…`.

use axum::extract::State;
use axum::http::StatusCode;
use axum_extra::extract::CookieJar;
use tessera_core::SendFlow;
use utoipa_axum::router::OpenApiRouter;

use crate::dto::{AcceptedView, SignInAnswer, TokensView, UserView};
use crate::email::dto::{
    ChangeRequest, CodeRequest, EmailRequest, MagicRequest, ResetRequest, TokenRequest,
};
use crate::email::send::send_after_answer;
use crate::error::{ApiResult, ErrorEnvelope};
use crate::extract::{Caller, Client, CurrentApp, Json};
use crate::hosted::device_token;
use crate::limits::Action;
use crate::openapi::handlers;
use crate::state::AppState;

/// Routes of this module.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    handlers![
        reset_send; reset; verify_send; verify; change; change_confirm; code_send; code_sign_in;
        magic_send; magic_sign_in
    ]
}

/// The one answer of every "send" route.
fn accepted() -> (StatusCode, axum::Json<AcceptedView>) {
    (
        StatusCode::ACCEPTED,
        axum::Json(AcceptedView {
            status: "sent_if_account_exists".into(),
        }),
    )
}

/// Send a password-reset link (if the address has an account).
#[utoipa::path(post, path = "/v1/password/reset/send", tag = "email", request_body = EmailRequest,
    params(("X-Tessera-App" = Option<String>, Header, description = "App id or slug")),
    responses((status = 202, description = "Sent if the account exists (the same answer either way)", body = AcceptedView),
              (status = 422, body = ErrorEnvelope), (status = 429, body = ErrorEnvelope)))]
async fn reset_send(
    State(state): State<AppState>,
    CurrentApp(app): CurrentApp,
    client: Client,
    Json(req): Json<EmailRequest>,
) -> ApiResult<(StatusCode, axum::Json<AcceptedView>)> {
    send_after_answer(&state, &app, SendFlow::PasswordReset, &req.email, &client).await?;
    Ok(accepted())
}

/// Set a new password with the token of a reset link (signs out every session).
#[utoipa::path(post, path = "/v1/password/reset", tag = "email", request_body = ResetRequest,
    responses((status = 204, description = "Password changed"),
              (status = 401, description = "Invalid or expired token", body = ErrorEnvelope),
              (status = 422, body = ErrorEnvelope)))]
async fn reset(
    State(state): State<AppState>,
    client: Client,
    Json(req): Json<ResetRequest>,
) -> ApiResult<StatusCode> {
    state.check_limits(Action::Refresh, &client.0, None).await?;
    state
        .tessera
        .emails()
        .reset_password(&req.token, &req.new_password, &client.0)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Send the caller a verification link.
#[utoipa::path(post, path = "/v1/email/verify/send", tag = "email", security(("bearer" = []), ("cookie" = [])),
    responses((status = 202, body = AcceptedView), (status = 401, body = ErrorEnvelope)))]
async fn verify_send(
    State(state): State<AppState>,
    caller: Caller,
    client: Client,
) -> ApiResult<(StatusCode, axum::Json<AcceptedView>)> {
    state
        .check_limits(Action::MailSend, &client.0, None)
        .await?;
    let app = caller.app(&state).await?;
    state
        .tessera
        .emails()
        .send_verification(&app, caller.user.id)
        .await?;
    Ok(accepted())
}

/// Verify an address with the token of a verification link.
#[utoipa::path(post, path = "/v1/email/verify", tag = "email", request_body = TokenRequest,
    responses((status = 204, description = "Verified"), (status = 401, body = ErrorEnvelope)))]
async fn verify(
    State(state): State<AppState>,
    client: Client,
    Json(req): Json<TokenRequest>,
) -> ApiResult<StatusCode> {
    state.check_limits(Action::Refresh, &client.0, None).await?;
    state.tessera.emails().verify_email(&req.token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ask to change the caller's address; confirmed from the new address.
#[utoipa::path(post, path = "/v1/email/change", tag = "email", security(("bearer" = []), ("cookie" = [])),
    request_body = ChangeRequest,
    responses((status = 202, body = AcceptedView), (status = 401, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn change(
    State(state): State<AppState>,
    caller: Caller,
    client: Client,
    Json(req): Json<ChangeRequest>,
) -> ApiResult<(StatusCode, axum::Json<AcceptedView>)> {
    state
        .check_limits(Action::MailSend, &client.0, None)
        .await?;
    let app = caller.app(&state).await?;
    state
        .tessera
        .emails()
        .request_email_change(&app, caller.user.id, &req.new_email, &client.0)
        .await?;
    Ok(accepted())
}

/// Confirm an address change with the token sent to the new address.
#[utoipa::path(post, path = "/v1/email/change/confirm", tag = "email", request_body = TokenRequest,
    responses((status = 200, body = UserView), (status = 401, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
async fn change_confirm(
    State(state): State<AppState>,
    client: Client,
    Json(req): Json<TokenRequest>,
) -> ApiResult<axum::Json<UserView>> {
    state.check_limits(Action::Refresh, &client.0, None).await?;
    let user = state
        .tessera
        .emails()
        .confirm_email_change(&req.token, &client.0)
        .await?;
    Ok(axum::Json(user.into()))
}

/// Send a six-digit sign-in code (if the address has an account).
#[utoipa::path(post, path = "/v1/sign-in/code/send", tag = "email", request_body = EmailRequest,
    params(("X-Tessera-App" = Option<String>, Header, description = "App id or slug")),
    responses((status = 202, body = AcceptedView), (status = 422, body = ErrorEnvelope), (status = 429, body = ErrorEnvelope)))]
async fn code_send(
    State(state): State<AppState>,
    CurrentApp(app): CurrentApp,
    client: Client,
    Json(req): Json<EmailRequest>,
) -> ApiResult<(StatusCode, axum::Json<AcceptedView>)> {
    send_after_answer(&state, &app, SendFlow::SignInCode, &req.email, &client).await?;
    Ok(accepted())
}

/// Sign in with an emailed code.
#[utoipa::path(post, path = "/v1/sign-in/code", tag = "email", request_body = CodeRequest,
    params(("X-Tessera-App" = Option<String>, Header, description = "App id or slug")),
    responses((status = 200, body = TokensView), (status = 401, body = ErrorEnvelope), (status = 429, body = ErrorEnvelope)))]
async fn code_sign_in(
    State(state): State<AppState>,
    CurrentApp(app): CurrentApp,
    client: Client,
    jar: CookieJar,
    Json(req): Json<CodeRequest>,
) -> ApiResult<SignInAnswer> {
    let account = Some((&app, req.email.as_str(), device_token(None, &jar)));
    let emails = state.tessera.emails();
    let call = emails.sign_in_with_code(&app, &req.email, &req.code, &client.0);
    let outcome = state
        .sign_in("email_code", &client.0, account, call)
        .await?;
    Ok(SignInAnswer(outcome))
}

/// Send a magic sign-in link (if the address has an account).
#[utoipa::path(post, path = "/v1/sign-in/magic-link/send", tag = "email", request_body = MagicRequest,
    params(("X-Tessera-App" = Option<String>, Header, description = "App id or slug")),
    responses((status = 202, body = AcceptedView), (status = 422, description = "Unregistered redirect URI", body = ErrorEnvelope),
              (status = 429, body = ErrorEnvelope)))]
async fn magic_send(
    State(state): State<AppState>,
    CurrentApp(app): CurrentApp,
    client: Client,
    Json(req): Json<MagicRequest>,
) -> ApiResult<(StatusCode, axum::Json<AcceptedView>)> {
    send_after_answer(
        &state,
        &app,
        SendFlow::MagicLink {
            redirect_uri: req.redirect_uri,
        },
        &req.email,
        &client,
    )
    .await?;
    Ok(accepted())
}

/// Sign in with the token of a magic link.
#[utoipa::path(post, path = "/v1/sign-in/magic-link", tag = "email", request_body = TokenRequest,
    responses((status = 200, body = TokensView), (status = 401, body = ErrorEnvelope)))]
async fn magic_sign_in(
    State(state): State<AppState>,
    client: Client,
    Json(req): Json<TokenRequest>,
) -> ApiResult<SignInAnswer> {
    let emails = state.tessera.emails();
    let call = emails.sign_in_with_magic_link(&req.token, &client.0);
    let done = state.sign_in("magic_link", &client.0, None, call).await?;
    Ok(SignInAnswer(done.outcome))
}
