//! The JSON routes of external sign-in: `GET /v1/sign-in/oauth/{provider}`,
//! its callback, `POST /v1/sign-in/oauth/exchange`, and `GET`/`DELETE
//! /v1/identities…`.

use axum::Form;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum_extra::extract::CookieJar;
use utoipa_axum::router::OpenApiRouter;
use uuid::Uuid;

use crate::dto::{SignInAnswer, TokensView};
use crate::error::{ApiResult, ErrorEnvelope};
use crate::extract::{Caller, Client, Json, Path, Query};
use crate::limits::Action;
use crate::oauth::dto::{
    AuthorizationView, CallbackQuery, ExchangeRequest, IdentitiesView, StartQuery,
};
use crate::oauth::flow::{do_callback, do_start};
use crate::openapi::handlers;
use crate::state::AppState;

/// Routes of this module.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    handlers![start; callback_get, callback_post; exchange; list_identities; unlink_identity]
}

/// Start signing in through a provider: 302 to its authorization page, or
/// `{"authorization_url"}` with `Accept: application/json`.
#[utoipa::path(get, path = "/v1/sign-in/oauth/{provider}", tag = "sign-in",
    params(("provider" = String, Path, description = "Provider name configured for the app"), StartQuery,
        ("X-Tessera-App" = Option<String>, Header, description = "App id or slug")),
    responses(
        (status = 302, description = "To the provider"),
        (status = 200, description = "With `Accept: application/json`", body = AuthorizationView),
        (status = 401, description = "`link=true` without a signed-in caller", body = ErrorEnvelope),
        (status = 403, description = "OAuth sign-in is not enabled for the app", body = ErrorEnvelope),
        (status = 404, description = "No such provider", body = ErrorEnvelope),
        (status = 422, description = "Unregistered redirect URI or bad code challenge", body = ErrorEnvelope),
        (status = 429, description = "Rate limited", body = ErrorEnvelope),
        (status = 502, description = "The provider's discovery failed", body = ErrorEnvelope)))]
async fn start(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    Query(q): Query<StartQuery>,
    req: Request,
) -> ApiResult<Response> {
    Ok(do_start(&state, &provider, q, false, req).await?)
}

/// The provider returns here (GET). API flows end with 302 to
/// `redirect_uri?code=…` (or `?error=<code>` once the state was accepted);
/// hosted flows set the session cookies.
#[utoipa::path(get, path = "/v1/sign-in/oauth/{provider}/callback", tag = "sign-in",
    params(("provider" = String, Path, description = "Provider name"), CallbackQuery),
    responses(
        (status = 302, description = "API flow: to the redirect URI with `code` (or `error`)"),
        (status = 303, description = "Hosted flow: signed in (cookies set)"),
        (status = 401, description = "Unknown, spent or expired state", body = ErrorEnvelope),
        (status = 429, description = "Rate limited", body = ErrorEnvelope)))]
async fn callback_get(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    jar: CookieJar,
    headers: HeaderMap,
    client: Client,
    Query(q): Query<CallbackQuery>,
) -> Response {
    do_callback(state, provider, jar, headers, client, q).await
}

/// The provider returns here (POST, `response_mode=form_post`, e.g. Apple).
#[utoipa::path(post, path = "/v1/sign-in/oauth/{provider}/callback", tag = "sign-in",
    params(("provider" = String, Path, description = "Provider name")),
    request_body(content = CallbackQuery, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 302, description = "API flow: to the redirect URI with `code` (or `error`)"),
        (status = 303, description = "Hosted flow: signed in (cookies set)"),
        (status = 401, description = "Unknown, spent or expired state", body = ErrorEnvelope)))]
async fn callback_post(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    jar: CookieJar,
    headers: HeaderMap,
    client: Client,
    Form(q): Form<CallbackQuery>,
) -> Response {
    do_callback(state, provider, jar, headers, client, q).await
}

/// Exchange the callback's one-time code for tokens (or the MFA answer).
#[utoipa::path(post, path = "/v1/sign-in/oauth/exchange", tag = "sign-in", request_body = ExchangeRequest,
    responses(
        (status = 200, description = "Signed in (tokens), or `mfa_required`", body = TokensView),
        (status = 401, description = "Unknown, spent or expired code; wrong verifier", body = ErrorEnvelope),
        (status = 429, description = "Rate limited", body = ErrorEnvelope)))]
async fn exchange(
    State(state): State<AppState>,
    client: Client,
    Json(req): Json<ExchangeRequest>,
) -> ApiResult<SignInAnswer> {
    state.check_limits(Action::Refresh, &client.0, None).await?;
    let (_, outcome) = state
        .tessera
        .oauth()
        .exchange(&req.code, req.code_verifier.as_deref())
        .await?;
    Ok(SignInAnswer(outcome))
}

/// The caller's linked external identities.
#[utoipa::path(get, path = "/v1/identities", tag = "account", security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = IdentitiesView), (status = 401, body = ErrorEnvelope)))]
async fn list_identities(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<axum::Json<IdentitiesView>> {
    let list = state.tessera.oauth().identities(caller.user.id).await?;
    Ok(axum::Json(IdentitiesView {
        identities: list.into_iter().map(Into::into).collect(),
    }))
}

/// Unlink one of the caller's identities (never their last way to sign in).
#[utoipa::path(delete, path = "/v1/identities/{id}", tag = "account", security(("bearer" = []), ("cookie" = [])),
    params(("id" = Uuid, Path, description = "Identity id")),
    responses((status = 204, description = "Unlinked"),
              (status = 404, body = ErrorEnvelope),
              (status = 409, description = "`last_sign_in_method`", body = ErrorEnvelope),
              (status = 401, body = ErrorEnvelope)))]
async fn unlink_identity(
    State(state): State<AppState>,
    caller: Caller,
    client: Client,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    let app = caller.app(&state).await?;
    state
        .tessera
        .oauth()
        .unlink(&app, caller.user.id, id, &client.0)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
