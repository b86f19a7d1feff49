//! The JSON routes of TOTP, recovery codes and the MFA step of sign-in:
//! `/v1/totp…`, `/v1/recovery-codes`, `/v1/mfa`, `POST /v1/sign-in/mfa`.
//!
//! Apps with their own UI enrol TOTP (`/v1/totp/…`) for a signed-in caller,
//! or, when the app requires a second factor the user lacks, with the
//! `mfa_token` of the sign-in in place of a session (the confirmation then
//! finishes the sign-in). `POST /v1/sign-in/mfa` completes a sign-in that
//! answered `{"mfa_required": true, …}`. Every route that checks a code or a
//! password is rate limited per client IP like the other sign-in routes; the
//! core adds per-user backoff and per-challenge attempt limits.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use tessera_core::{Error, ErrorKind};
use utoipa_axum::router::OpenApiRouter;

use crate::dto::TokensView;
use crate::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::extract::{Caller, Client, CurrentApp, Json};
use crate::limits::Action;
use crate::metrics;
use crate::mfa::dto::{
    EnrolledTokensView, MfaSignInRequest, MfaStatusView, ReauthRequest, RecoveryCodesView,
    TotpConfirmRequest, TotpEnrollRequest, TotpEnrollmentView,
};
use crate::openapi::handlers;
use crate::state::AppState;

/// Routes of this module.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    handlers![totp_enroll; totp_confirm; totp_disable; recovery_codes; mfa_status; sign_in_mfa]
}

/// A JSON body that may be absent (empty means all defaults).
fn optional_json<T: DeserializeOwned + Default>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    // The same kinds as `extract::Json`: wrong shape 422, not JSON 400.
    serde_json::from_slice(body).map_err(|e| {
        let kind = if e.is_data() {
            ErrorKind::InvalidInput { field: "body" }
        } else {
            ErrorKind::BadRequest
        };
        ApiError(Error::with_message(
            kind,
            format!("Failed to parse the JSON body: {e}"),
        ))
    })
}

/// Start TOTP enrolment: a new secret, its `otpauth://` URI and QR code. It
/// is inactive until confirmed with a code; enrolling again replaces an
/// unconfirmed secret. Authenticated by the session, or by `mfa_token` when
/// the app requires a second factor the user does not have yet.
#[utoipa::path(post, path = "/v1/totp/enroll", tag = "account", security(("bearer" = []), ("cookie" = [])),
    request_body(content = Option<TotpEnrollRequest>, description = "Optional; `{mfa_token}` instead of a session"),
    params(("X-Tessera-App" = Option<String>, Header, description = "App id or slug (with `mfa_token`)")),
    responses(
        (status = 200, description = "The secret, URI and QR code", body = TotpEnrollmentView),
        (status = 401, description = "Not signed in, or invalid MFA token", body = ErrorEnvelope),
        (status = 409, description = "TOTP is already enabled", body = ErrorEnvelope)))]
async fn totp_enroll(
    State(state): State<AppState>,
    CurrentApp(app): CurrentApp,
    caller: Result<Caller, ApiError>,
    client: Client,
    body: Bytes,
) -> ApiResult<axum::Json<TotpEnrollmentView>> {
    let req: TotpEnrollRequest = optional_json(&body)?;
    let enrollment = match (req.mfa_token, caller) {
        (Some(token), _) => {
            state.check_limits(Action::SignIn, &client.0, None).await?;
            state
                .tessera
                .mfa()
                .enroll_totp(&app, &token, &client.0)
                .await?
        }
        (None, Ok(caller)) => {
            let app = caller.app(&state).await?;
            state
                .tessera
                .totp()
                .enroll(&app, caller.user.id, &client.0)
                .await?
        }
        (None, Err(e)) => return Err(e),
    };
    Ok(axum::Json(enrollment.into()))
}

/// Confirm TOTP with a first code: it becomes active and the answer carries
/// ten recovery codes, shown once. With `mfa_token` (forced enrolment at
/// sign-in) the answer also carries the session's *Tokens*.
#[utoipa::path(post, path = "/v1/totp/confirm", tag = "account", security(("bearer" = []), ("cookie" = [])),
    request_body = TotpConfirmRequest,
    params(("X-Tessera-App" = Option<String>, Header, description = "App id or slug (with `mfa_token`)")),
    responses(
        (status = 200, description = "Recovery codes (and tokens, with `mfa_token`)", body = RecoveryCodesView),
        (status = 401, description = "Wrong or reused code, not signed in, or invalid MFA token", body = ErrorEnvelope),
        (status = 404, description = "No enrolment started", body = ErrorEnvelope),
        (status = 409, description = "Already enabled", body = ErrorEnvelope),
        (status = 429, description = "Rate limited", body = ErrorEnvelope)))]
async fn totp_confirm(
    State(state): State<AppState>,
    CurrentApp(app): CurrentApp,
    caller: Result<Caller, ApiError>,
    client: Client,
    Json(req): Json<TotpConfirmRequest>,
) -> ApiResult<Response> {
    state.check_limits(Action::SignIn, &client.0, None).await?;
    match (req.mfa_token, caller) {
        (Some(token), _) => {
            let done = state
                .tessera
                .mfa()
                .confirm_totp(&app, &token, &req.code, &client.0)
                .await;
            metrics::sign_in("mfa", &done);
            let done = done?;
            let t = TokensView::from(done.session);
            Ok(axum::Json(EnrolledTokensView {
                recovery_codes: done.recovery_codes,
                access_token: t.access_token,
                token_type: t.token_type,
                expires_in: t.expires_in,
                refresh_token: t.refresh_token,
                user: t.user,
            })
            .into_response())
        }
        (None, Ok(caller)) => {
            let app = caller.app(&state).await?;
            let recovery_codes = state
                .tessera
                .totp()
                .confirm(&app, caller.user.id, &req.code, &client.0)
                .await?;
            Ok(axum::Json(RecoveryCodesView { recovery_codes }).into_response())
        }
        (None, Err(e)) => Err(e),
    }
}

/// What a re-authenticated change of the caller's TOTP does.
enum Reauthed {
    /// Turn TOTP off.
    Disable,
    /// Replace the recovery codes.
    Regenerate,
}

/// The one body of the re-authenticated routes: the optional
/// [`ReauthRequest`], the rate limit (as a sign-in: a password or code is
/// checked), then the change on the caller's account; the new recovery
/// codes when it made some.
async fn reauthenticated(
    state: &AppState,
    caller: &Caller,
    client: &Client,
    body: &Bytes,
    change: Reauthed,
) -> ApiResult<Vec<String>> {
    let req: ReauthRequest = optional_json(body)?;
    state.check_limits(Action::SignIn, &client.0, None).await?;
    let app = caller.app(state).await?;
    let (totp, id, c) = (state.tessera.totp(), caller.user.id, &client.0);
    let (password, code) = (req.password.as_deref(), req.code.as_deref());
    Ok(match change {
        Reauthed::Disable => {
            totp.disable(&app, id, password, code, c).await?;
            Vec::new()
        }
        Reauthed::Regenerate => {
            totp.regenerate_recovery_codes(&app, id, password, code, c)
                .await?
        }
    })
}

/// Disable TOTP (and delete the recovery codes). Needs re-authentication:
/// the current `password` when the user has one, otherwise a current TOTP
/// `code`.
#[utoipa::path(delete, path = "/v1/totp", tag = "account", security(("bearer" = []), ("cookie" = [])),
    request_body = ReauthRequest,
    responses(
        (status = 204, description = "Disabled"),
        (status = 401, description = "Re-authentication missing (`reauthentication_required`) or wrong", body = ErrorEnvelope),
        (status = 404, description = "TOTP is not enabled", body = ErrorEnvelope),
        (status = 429, description = "Rate limited", body = ErrorEnvelope)))]
async fn totp_disable(
    State(state): State<AppState>,
    caller: Caller,
    client: Client,
    body: Bytes,
) -> ApiResult<StatusCode> {
    reauthenticated(&state, &caller, &client, &body, Reauthed::Disable).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replace the recovery codes with ten new ones (shown once; the old ones stop
/// working). Needs a second factor and re-authentication as for disabling TOTP.
#[utoipa::path(post, path = "/v1/recovery-codes", tag = "account", security(("bearer" = []), ("cookie" = [])),
    request_body = ReauthRequest,
    responses(
        (status = 200, description = "The new codes", body = RecoveryCodesView),
        (status = 401, description = "Re-authentication missing or wrong", body = ErrorEnvelope),
        (status = 409, description = "No second factor enabled", body = ErrorEnvelope),
        (status = 429, description = "Rate limited", body = ErrorEnvelope)))]
async fn recovery_codes(
    State(state): State<AppState>,
    caller: Caller,
    client: Client,
    body: Bytes,
) -> ApiResult<axum::Json<RecoveryCodesView>> {
    let recovery_codes =
        reauthenticated(&state, &caller, &client, &body, Reauthed::Regenerate).await?;
    Ok(axum::Json(RecoveryCodesView { recovery_codes }))
}

/// The caller's second factors: TOTP, recovery codes left, passkeys.
#[utoipa::path(get, path = "/v1/mfa", tag = "account", security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = MfaStatusView), (status = 401, body = ErrorEnvelope)))]
async fn mfa_status(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<axum::Json<MfaStatusView>> {
    let app = caller.app(&state).await?;
    let status = state.tessera.totp().status(&app, caller.user.id).await?;
    Ok(axum::Json(status.into()))
}

/// Finish a sign-in that answered `mfa_required`, with a TOTP code or a
/// recovery code. Five wrong attempts spend the `mfa_token`.
#[utoipa::path(post, path = "/v1/sign-in/mfa", tag = "sign-in", request_body = MfaSignInRequest,
    params(("X-Tessera-App" = Option<String>, Header, description = "App id or slug")),
    responses(
        (status = 200, description = "Signed in", body = TokensView),
        (status = 401, description = "Wrong or reused code (`invalid_credentials`), or an invalid, spent or expired token (`invalid_token`)", body = ErrorEnvelope),
        (status = 422, description = "Neither or both of `code` and `recovery_code`, or a method this sign-in does not allow", body = ErrorEnvelope),
        (status = 429, description = "Rate limited", body = ErrorEnvelope)))]
async fn sign_in_mfa(
    State(state): State<AppState>,
    CurrentApp(app): CurrentApp,
    client: Client,
    Json(req): Json<MfaSignInRequest>,
) -> ApiResult<Response> {
    let mfa = state.tessera.mfa();
    let verify = async {
        match (&req.code, &req.recovery_code) {
            (Some(code), None) => mfa.verify_totp(&app, &req.mfa_token, code, &client.0).await,
            (None, Some(rc)) => {
                mfa.verify_recovery_code(&app, &req.mfa_token, rc, &client.0)
                    .await
            }
            _ => Err(Error::invalid(
                "code",
                "Give either `code` (TOTP) or `recovery_code`.",
            )),
        }
    };
    let session = state.sign_in("mfa", &client.0, None, verify).await?;
    Ok(axum::Json(TokensView::from(session)).into_response())
}
