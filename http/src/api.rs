//! The user-facing JSON API under `/v1`: sign-up, sign-in, refresh, the
//! caller's session, sessions, sign-out, profile and password change.
//!
//! Route names are a contract (DESIGN.md 4.1). Every handler is registered
//! through `utoipa_axum::routes!`, so a route cannot be served without being
//! in the OpenAPI document.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tessera_core::{SignInOutcome, SignUpOutcome};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::dto::*;
use crate::error::{ApiResult, ErrorEnvelope};
use crate::extract::{Caller, Client, CurrentApp, Json, Via};
use crate::limits::Action;
use crate::metrics;
use crate::state::AppState;

/// Routes of this module.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sign_up))
        .routes(routes!(sign_in_password))
        .routes(routes!(refresh))
        .routes(routes!(current_session))
        .routes(routes!(list_sessions, revoke_all_sessions))
        .routes(routes!(revoke_session))
        .routes(routes!(sign_out))
        .routes(routes!(get_me, patch_me))
        .routes(routes!(change_password))
}

/// The JSON answer for a finished or MFA-pending sign-in.
pub(crate) fn sign_in_answer(outcome: SignInOutcome) -> Response {
    match outcome {
        SignInOutcome::Complete(s) => {
            (StatusCode::OK, axum::Json(TokensView::from(*s))).into_response()
        }
        SignInOutcome::MfaRequired(c) => (
            StatusCode::OK,
            axum::Json(MfaRequiredView {
                mfa_required: true,
                mfa_token: c.mfa_token,
                methods: c.methods.iter().map(|m| m.as_str().to_owned()).collect(),
            }),
        )
            .into_response(),
    }
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
    state.limits.check_ip(Action::SignUp, client.0.ip())?;
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
    Json(req): Json<SignInRequest>,
) -> ApiResult<Response> {
    state.limits.check_ip(Action::SignIn, client.0.ip())?;
    state.limits.check_account(&req.email)?;
    match state
        .tessera
        .passwords()
        .sign_in(&app, &req.email, &req.password, &client.0)
        .await
    {
        Ok(outcome) => {
            metrics::sign_in("password", "succeeded");
            Ok(sign_in_answer(outcome))
        }
        Err(e) => {
            metrics::sign_in("password", e.code());
            Err(e.into())
        }
    }
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
    state.limits.check_ip(Action::Refresh, client.0.ip())?;
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
        crate::pages::clear_session_cookies(&state, res.headers_mut());
    }
    Ok(res)
}

/// The current user.
#[utoipa::path(get, path = "/v1/me", tag = "account", security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = UserView), (status = 401, body = ErrorEnvelope)))]
async fn get_me(caller: Caller) -> axum::Json<UserView> {
    axum::Json(caller.user.into())
}

/// Change the current user's profile.
#[utoipa::path(patch, path = "/v1/me", tag = "account", security(("bearer" = []), ("cookie" = [])), request_body = MePatch,
    responses((status = 200, body = UserView), (status = 422, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope)))]
async fn patch_me(
    State(state): State<AppState>,
    caller: Caller,
    Json(req): Json<MePatch>,
) -> ApiResult<axum::Json<UserView>> {
    let patch = tessera_core::model::UserPatch {
        name: req.name,
        ..Default::default()
    };
    let user = state.tessera.users().update(caller.user.id, &patch).await?;
    Ok(axum::Json(user.into()))
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
    let app = state.tessera.apps().get(caller.session.app_id).await?;
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
