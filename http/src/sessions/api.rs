//! The JSON routes of sessions: `POST /v1/token/refresh`, `GET
//! /v1/session`, `GET`/`DELETE /v1/sessions`, `DELETE /v1/sessions/{id}`,
//! `POST /v1/sign-out`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use uuid::Uuid;

use crate::dto::{RevokedView, SessionView, SessionsView, TokensView};
use crate::error::{ApiResult, ErrorEnvelope};
use crate::extract::{Caller, Client, Json, Path, Via};
use crate::hosted::clear_session_cookies;
use crate::limits::Action;
use crate::openapi::handlers;
use crate::sessions::dto::{CurrentSessionView, RefreshRequest};
use crate::state::AppState;

/// Routes of this module.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    handlers![
        refresh; current_session; list_sessions, revoke_all_sessions; revoke_session; sign_out
    ]
}

/// Exchange a refresh token for new tokens (the refresh token rotates).
#[utoipa::path(post, path = "/v1/token/refresh", tag = "sessions", request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens", body = TokensView),
        (status = 401, description = "Invalid, expired or reused refresh token", body = ErrorEnvelope)))]
async fn refresh(
    State(state): State<AppState>,
    client: Client,
    Json(req): Json<RefreshRequest>,
) -> ApiResult<Response> {
    state.check_limits(Action::Refresh, &client.0, None).await?;
    let s = state
        .tessera
        .sessions()
        .refresh(&req.refresh_token, &client.0)
        .await?;
    Ok(axum::Json(TokensView::from(s)).into_response())
}

/// The caller's live session and user (one store query).
#[utoipa::path(get, path = "/v1/session", tag = "sessions", security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "The session", body = CurrentSessionView),
        (status = 401, description = "Not signed in, or the session was revoked", body = ErrorEnvelope)))]
async fn current_session(caller: Caller) -> ApiResult<axum::Json<CurrentSessionView>> {
    let id = caller.session.id;
    Ok(axum::Json(CurrentSessionView {
        user: caller.user.into(),
        session: SessionView::new(caller.session, Some(id)),
    }))
}

/// The caller's live sessions.
#[utoipa::path(get, path = "/v1/sessions", tag = "sessions", security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "Sessions", body = SessionsView), (status = 401, body = ErrorEnvelope)))]
async fn list_sessions(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<axum::Json<SessionsView>> {
    let sessions = state.tessera.sessions().list(caller.user.id).await?;
    Ok(axum::Json(SessionsView {
        sessions: sessions
            .into_iter()
            .map(|s| SessionView::new(s, Some(caller.session.id)))
            .collect(),
    }))
}

/// Revoke one of the caller's sessions.
#[utoipa::path(delete, path = "/v1/sessions/{id}", tag = "sessions", security(("bearer" = []), ("cookie" = [])),
    params(("id" = Uuid, Path, description = "Session id")),
    responses((status = 204, description = "Revoked"), (status = 404, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope)))]
async fn revoke_session(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    state
        .tessera
        .sessions()
        .revoke(caller.user.id, id, "revoked_by_user")
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sign out everywhere: revoke all of the caller's sessions.
#[utoipa::path(delete, path = "/v1/sessions", tag = "sessions", security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "Revoked", body = RevokedView), (status = 401, body = ErrorEnvelope)))]
async fn revoke_all_sessions(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<axum::Json<RevokedView>> {
    let revoked = state
        .tessera
        .sessions()
        .revoke_all(caller.user.id, None, "sign_out_everywhere")
        .await?;
    Ok(axum::Json(RevokedView { revoked }))
}

/// Sign out: revoke the current session (and clear cookies).
#[utoipa::path(post, path = "/v1/sign-out", tag = "sessions", security(("bearer" = []), ("cookie" = [])),
    responses((status = 204, description = "Signed out"), (status = 401, body = ErrorEnvelope)))]
async fn sign_out(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    state
        .tessera
        .sessions()
        .revoke(caller.user.id, caller.session.id, "sign_out")
        .await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    if caller.via == Via::Cookie {
        clear_session_cookies(&state, res.headers_mut());
    }
    Ok(res)
}
