//! The JSON routes of passwords: `POST /v1/sign-up`, `POST
//! /v1/sign-in/password`, `POST /v1/password/change`.
//!
//! Route names are a contract (`docs/contract.md`). Every handler is
//! registered through `utoipa_axum::routes!`, so a route cannot be served
//! without being in the OpenAPI document.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tessera_core::SignUpOutcome;
use utoipa_axum::router::OpenApiRouter;

use axum_extra::extract::CookieJar;

use crate::dto::{AcceptedView, TokensView, sign_in_response};
use crate::error::{ApiResult, ErrorEnvelope};
use crate::extract::{Caller, Client, CurrentApp, Json};
use crate::hosted::{device_cookie, device_token};
use crate::limits::Action;
use crate::openapi::handlers;
use crate::passwords::dto::{PasswordChangeRequest, SignInRequest, SignUpRequest};
use crate::state::AppState;

/// Routes of this module.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    handlers![sign_up; sign_in_password; change_password]
}

/// Create an account with email and password.
#[utoipa::path(post, path = "/v1/sign-up", tag = "sign-in", request_body = SignUpRequest,
    params(("X-Tessera-App" = Option<String>, Header, description = "App id or slug (default app when absent)")),
    responses(
        (status = 201, description = "Signed up and signed in", body = TokensView),
        (status = 202, description = "Check your email: the app requires a verified address", body = AcceptedView),
        (status = 409, description = "Email taken", body = ErrorEnvelope),
        (status = 422, description = "Invalid email or weak password", body = ErrorEnvelope),
        (status = 429, description = "Rate limited", body = ErrorEnvelope)))]
async fn sign_up(
    State(state): State<AppState>,
    CurrentApp(app): CurrentApp,
    client: Client,
    Json(req): Json<SignUpRequest>,
) -> ApiResult<Response> {
    state.check_limits(Action::SignUp, &client.0, None).await?;
    let outcome = state
        .tessera
        .passwords()
        .sign_up(
            &app,
            &req.email,
            &req.password,
            req.name.as_deref(),
            &client.0,
        )
        .await?;
    Ok(match outcome {
        SignUpOutcome::SignedIn(s) => {
            (StatusCode::CREATED, axum::Json(TokensView::from(*s))).into_response()
        }
        SignUpOutcome::VerificationRequired => (
            StatusCode::ACCEPTED,
            axum::Json(AcceptedView {
                status: "verification_required".into(),
            }),
        )
            .into_response(),
    })
}

/// Sign in with email and password.
#[utoipa::path(post, path = "/v1/sign-in/password", tag = "sign-in", request_body = SignInRequest,
    params(("X-Tessera-App" = Option<String>, Header, description = "App id or slug")),
    responses(
        (status = 200, description = "Signed in (tokens), or a second factor is required (`mfa_required`)", body = TokensView),
        (status = 401, description = "Invalid credentials", body = ErrorEnvelope),
        (status = 429, description = "Rate limited", body = ErrorEnvelope)))]
async fn sign_in_password(
    State(state): State<AppState>,
    CurrentApp(app): CurrentApp,
    client: Client,
    jar: CookieJar,
    Json(req): Json<SignInRequest>,
) -> ApiResult<Response> {
    let device = device_token(req.device_token.as_deref(), &jar);
    let account = Some((&app, req.email.as_str(), device));
    let passwords = state.tessera.passwords();
    let call = passwords.sign_in_with_device(&app, &req.email, &req.password, device, &client.0);
    let done = state.sign_in("password", &client.0, account, call).await?;
    let cookie = device_cookie(&state, done.device_token.clone());
    let answer = sign_in_response(done.outcome, Some(done.device_token));
    Ok((jar.add(cookie), answer).into_response())
}

/// Change the password (signs out the user's other sessions).
#[utoipa::path(post, path = "/v1/password/change", tag = "account", security(("bearer" = []), ("cookie" = [])),
    request_body = PasswordChangeRequest,
    responses((status = 204, description = "Changed"), (status = 401, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    client: Client,
    Json(req): Json<PasswordChangeRequest>,
) -> ApiResult<StatusCode> {
    let app = caller.app(&state).await?;
    state
        .tessera
        .passwords()
        .change(
            &app,
            caller.user.id,
            Some(caller.session.id),
            &req.current_password,
            &req.new_password,
            &client.0,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
