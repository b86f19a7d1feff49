//! Hosted pages of the MFA step and of TOTP enrolment, usable without
//! JavaScript (a passkey button appears when the browser can use it).
//!
//! When a hosted sign-in (password, email code, magic link, OAuth) needs a
//! second factor, the kit's `finish_sign_in` puts the `mfa_token` into a
//! short-lived HttpOnly cookie (`tessera_mfa`, five minutes, SameSite=Lax)
//! and sends the browser to `mfa`: the token never appears in a URL, and a
//! reload shows the step again. When the app requires a second factor the
//! user does not have, the same page enrols an authenticator app with the
//! token and finishes the sign-in.
//!
//! Signed-in users manage TOTP on `account-security`: set up (QR code as
//! inline SVG, plus the secret to type), turn off and regenerate recovery
//! codes (both re-authenticated), with recovery codes shown once.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tessera_core::model::{App, User};
use tessera_core::{Error, ErrorKind, MfaMethod, SignInOutcome, TotpEnrollment};
use utoipa_axum::router::OpenApiRouter;

use crate::error::status_of;
use crate::extract::Client;
use crate::hosted::{
    MFA_COOKIE, Page, PageForm, PageParams, csrf_forms, finish_sign_in, html, message,
    next_location, server_error, signed_in_jar, signed_in_user, with_retry_after,
};
use crate::limits::Action;
use crate::metrics;
use crate::openapi::handlers;
use crate::passkeys::MfaButton;
use crate::state::AppState;

/// Routes of this module.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    handlers![
        mfa_page, mfa_submit; mfa_enroll; mfa_confirm; security_page; totp_enroll; totp_confirm;
        totp_disable; recovery_codes
    ]
}

#[derive(Template)]
#[template(path = "mfa/mfa.html")]
struct MfaPage<'a> {
    app_name: &'a str,
    error: Option<String>,
    enroll_action: Option<String>,
    totp: bool,
    recovery: bool,
    passkey: Option<MfaButton>,
    action: String,
    csrf: &'a str,
    restart_href: String,
}

#[derive(Template)]
#[template(path = "mfa/totp_setup.html")]
struct SetupPage<'a> {
    app_name: &'a str,
    qr_svg: &'a str,
    secret: &'a str,
    otpauth_uri: &'a str,
    error: Option<String>,
    action: String,
    csrf: &'a str,
    cancel_href: Option<String>,
}

#[derive(Template)]
#[template(path = "mfa/recovery_codes.html")]
struct CodesPage<'a> {
    app_name: &'a str,
    heading: &'a str,
    codes: Vec<String>,
    continue_href: String,
}

#[derive(Template)]
#[template(path = "mfa/account_security.html")]
struct SecurityPage<'a> {
    app_name: &'a str,
    error: Option<String>,
    totp_enabled: bool,
    recovery_codes_left: u32,
    has_password: bool,
    csrf: &'a str,
    enroll_action: String,
    disable_action: String,
    regenerate_action: String,
    account_href: String,
}

/// The MFA form: a TOTP code or a recovery code.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct MfaForm {
    csrf: String,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    recovery_code: Option<String>,
}

/// A form with only the CSRF token.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct CsrfForm {
    csrf: String,
}

/// A form with a TOTP code.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct CodeForm {
    csrf: String,
    code: String,
}

/// Re-authentication: the password, or a TOTP code for users without one.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct ReauthForm {
    csrf: String,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    code: Option<String>,
}

csrf_forms!(MfaForm, CsrfForm, CodeForm, ReauthForm);

fn render_setup(
    page: &Page,
    status: StatusCode,
    en: &TotpEnrollment,
    action: &str,
    cancel: &str,
    error: Option<String>,
) -> Response {
    html(
        status,
        &SetupPage {
            app_name: &page.app.name,
            qr_svg: &en.qr_svg,
            secret: &en.secret,
            otpauth_uri: &en.otpauth_uri,
            error,
            action: page.params.href(action),
            csrf: &page.csrf,
            cancel_href: Some(page.params.href(cancel)),
        },
    )
}

fn codes_page(app: &App, heading: &str, codes: Vec<String>, continue_href: String) -> Response {
    html(
        StatusCode::OK,
        &CodesPage {
            app_name: &app.name,
            heading,
            codes,
            continue_href,
        },
    )
}

// ---- The MFA step of a hosted sign-in ----

/// "This sign-in has ended": the MFA token is missing, spent or expired.
fn restart(page: &Page) -> Response {
    message(
        StatusCode::UNAUTHORIZED,
        &page.app.name,
        "Sign in again",
        "This sign-in has expired or was already used. Start again.",
        Some(page.params.href("sign-in")),
    )
}

/// The `mfa_token` of the sign-in in progress on this browser.
fn mfa_token(page: &Page) -> Option<String> {
    page.jar
        .get(MFA_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty())
}

/// Render the MFA step for the challenge in the cookie.
async fn render_step(
    state: &AppState,
    page: Page,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    let Some(token) = mfa_token(&page) else {
        return restart(&page);
    };
    let (app, p) = (&page.app, &page.params);
    let mfa = state.tessera.mfa();
    let pending = match mfa.take_challenge(app, &token).await {
        Ok(pending) => pending,
        Err(e) if e.kind().is_server_error() => return server_error(e),
        Err(_) => return restart(&page),
    };
    if pending.allows(MfaMethod::TotpEnroll) {
        match mfa.pending_enrollment(app, &token).await {
            Ok(Some(en)) => {
                let res = render_setup(&page, status, &en, "mfa-confirm", "sign-in", error);
                return (page.jar, res).into_response();
            }
            Ok(None) => {}
            Err(e) if e.kind().is_server_error() => return server_error(e),
            Err(_) => return restart(&page),
        }
    }
    let step = MfaPage {
        app_name: &app.name,
        error,
        enroll_action: pending
            .allows(MfaMethod::TotpEnroll)
            .then(|| p.href("mfa-enroll")),
        totp: pending.allows(MfaMethod::Totp),
        recovery: pending.allows(MfaMethod::RecoveryCode),
        passkey: MfaButton::for_challenge(app, p, &page.csrf, &token, &pending.methods),
        action: p.href("mfa"),
        csrf: &page.csrf,
        restart_href: p.href("sign-in"),
    };
    let res = html(status, &step);
    (page.jar, res).into_response()
}

/// The answer to a failed attempt at the step: the step again with the
/// error, or "start again" when the sign-in itself has ended.
async fn step_failed(state: &AppState, page: Page, e: Error) -> Response {
    match e.kind() {
        k if k.is_server_error() => server_error(e),
        ErrorKind::InvalidToken | ErrorKind::TokenExpired | ErrorKind::UserDisabled => {
            restart(&page)
        }
        k => {
            let res = render_step(state, page, status_of(k), Some(e.message().into())).await;
            with_retry_after(&e, res)
        }
    }
}

/// The MFA step of a hosted sign-in.
#[utoipa::path(get, path = "/mfa", tag = "pages", params(PageParams),
    responses((status = 200, description = "Second-factor form (or authenticator setup when the app requires one)", content_type = "text/html"),
              (status = 401, description = "No live sign-in: start again", content_type = "text/html")))]
async fn mfa_page(State(state): State<AppState>, page: Page) -> Response {
    render_step(&state, page, StatusCode::OK, None).await
}

/// Submit the MFA step.
#[utoipa::path(post, path = "/mfa", tag = "pages", params(PageParams),
    request_body(content = MfaForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "Signed in: to the redirect URI or the account page"),
              (status = 401, description = "Form shown again with an error", content_type = "text/html"),
              (status = 403, description = "CSRF check failed", content_type = "text/html")))]
async fn mfa_submit(
    State(state): State<AppState>,
    client: Client,
    PageForm { page, form }: PageForm<MfaForm>,
) -> Response {
    let Some(token) = mfa_token(&page) else {
        return restart(&page);
    };
    let filled = |v: &Option<String>| {
        v.as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(str::to_owned)
    };
    let mfa = state.tessera.mfa();
    let (app, client_info) = (&page.app, &client.0);
    let verify = async {
        match (filled(&form.code), filled(&form.recovery_code)) {
            (Some(code), _) => mfa.verify_totp(app, &token, &code, client_info).await,
            (None, Some(rc)) => {
                mfa.verify_recovery_code(app, &token, &rc, client_info)
                    .await
            }
            (None, None) => Err(Error::invalid("code", "Enter a code.")),
        }
    };
    let result = state.guard(Action::SignIn, &client.0, None, verify).await;
    metrics::sign_in("mfa", &result);
    match result {
        Ok(s) => finish_sign_in(
            &state,
            page.jar,
            &page.params,
            SignInOutcome::Complete(Box::new(s)),
        ),
        Err(e) => step_failed(&state, page, e).await,
    }
}

/// Start the authenticator setup an app requires, with the sign-in's MFA token.
#[utoipa::path(post, path = "/mfa-enroll", tag = "pages", params(PageParams),
    request_body(content = CsrfForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "To the MFA step, which now shows the QR code"),
              (status = 401, description = "No live sign-in", content_type = "text/html"),
              (status = 403, description = "CSRF check failed", content_type = "text/html")))]
async fn mfa_enroll(
    State(state): State<AppState>,
    client: Client,
    PageForm { page, .. }: PageForm<CsrfForm>,
) -> Response {
    let Some(token) = mfa_token(&page) else {
        return restart(&page);
    };
    let to_step = || Redirect::to(&page.params.href("mfa")).into_response();
    match state
        .tessera
        .mfa()
        .enroll_totp(&page.app, &token, &client.0)
        .await
    {
        Ok(_) => to_step(),
        Err(e) if e.kind().is_server_error() => server_error(e),
        // Already set up (e.g. a second tab): the step page shows what is next.
        Err(e) if *e.kind() == ErrorKind::Conflict => to_step(),
        Err(_) => restart(&page),
    }
}

/// Confirm the required authenticator setup and finish the sign-in; shows the
/// recovery codes once.
#[utoipa::path(post, path = "/mfa-confirm", tag = "pages", params(PageParams),
    request_body(content = CodeForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "Signed in: the recovery codes", content_type = "text/html"),
              (status = 401, description = "Wrong code: the setup is shown again", content_type = "text/html"),
              (status = 403, description = "CSRF check failed", content_type = "text/html")))]
async fn mfa_confirm(
    State(state): State<AppState>,
    client: Client,
    PageForm { page, form }: PageForm<CodeForm>,
) -> Response {
    let Some(token) = mfa_token(&page) else {
        return restart(&page);
    };
    let result = state
        .guard(
            Action::SignIn,
            &client.0,
            None,
            state
                .tessera
                .mfa()
                .confirm_totp(&page.app, &token, &form.code, &client.0),
        )
        .await;
    metrics::sign_in("mfa", &result);
    match result {
        Ok(done) => {
            let jar = signed_in_jar(&state, page.jar, &done.session);
            let heading = "Your authenticator app is set up";
            let next = next_location(&page.params);
            (
                jar,
                codes_page(&page.app, heading, done.recovery_codes, next),
            )
                .into_response()
        }
        Err(e) => step_failed(&state, page, e).await,
    }
}

// ---- Two-step verification settings of a signed-in user ----

async fn render_security(
    state: &AppState,
    page: Page,
    user: &User,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    let (app, p) = (&page.app, &page.params);
    let totp = state.tessera.totp();
    let st = match totp.status(app, user.id).await {
        Ok(s) => s,
        Err(e) => return server_error(e),
    };
    if st.totp_pending && !st.totp_enabled {
        match totp.pending_enrollment(app, user.id).await {
            Ok(Some(en)) => {
                let res = render_setup(&page, status, &en, "totp-confirm", "account", error);
                return (page.jar, res).into_response();
            }
            Ok(None) => {}
            Err(e) => return server_error(e),
        }
    }
    let settings = SecurityPage {
        app_name: &app.name,
        error,
        totp_enabled: st.totp_enabled,
        recovery_codes_left: st.recovery_codes_left,
        has_password: st.has_password,
        csrf: &page.csrf,
        enroll_action: p.href("totp-enroll"),
        disable_action: p.href("totp-disable"),
        regenerate_action: p.href("recovery-codes"),
        account_href: p.href("account"),
    };
    let res = html(status, &settings);
    (page.jar, res).into_response()
}

/// The answer to a failed change of the settings: the settings again with
/// the error (a server error as one).
async fn settings_failed(state: &AppState, page: Page, user: &User, e: Error) -> Response {
    if e.kind().is_server_error() {
        return server_error(e);
    }
    let status = status_of(e.kind());
    let res = render_security(state, page, user, status, Some(e.message().into())).await;
    with_retry_after(&e, res)
}

/// Two-step verification settings of the signed-in user.
#[utoipa::path(get, path = "/account-security", tag = "pages", params(PageParams),
    responses((status = 200, description = "Settings, or the pending setup's QR code", content_type = "text/html"),
              (status = 303, description = "Not signed in: to the sign-in page")))]
async fn security_page(State(state): State<AppState>, page: Page) -> Response {
    match signed_in_user(&state, &page).await {
        Ok(user) => render_security(&state, page, &user, StatusCode::OK, None).await,
        Err(r) => r,
    }
}

/// A change of the signed-in user's TOTP settings, from one of the forms.
enum Change {
    /// Start setting up an authenticator app.
    Enroll,
    /// Confirm the app with a first code.
    Confirm(String),
    /// Turn the app off (re-authenticated).
    Disable(ReauthForm),
    /// Replace the recovery codes (re-authenticated).
    Regenerate(ReauthForm),
}

/// The one body of the settings forms: the signed-in user (or to the
/// sign-in page), the change (rate limited as a sign-in when it checks a
/// code or password), then the settings again, or the recovery codes once
/// when the change made new ones; a failure shows the settings with the
/// error.
async fn change_settings(state: AppState, client: Client, page: Page, change: Change) -> Response {
    let user = match signed_in_user(&state, &page).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let (totp, app, id, c) = (state.tessera.totp(), &page.app, user.id, &client.0);
    let (password, code) = match &change {
        Change::Disable(f) | Change::Regenerate(f) => (f.password.as_deref(), f.code.as_deref()),
        Change::Enroll | Change::Confirm(_) => (None, None),
    };
    // Enrolling checks nothing; the others check a code or password.
    let result = if matches!(change, Change::Enroll) {
        Ok(())
    } else {
        state.check_limits(Action::SignIn, c, None).await
    };
    let result = match (result, &change) {
        (Err(e), _) => Err(e),
        (Ok(()), Change::Enroll) => totp.enroll(app, id, c).await.map(|_| None),
        (Ok(()), Change::Confirm(code)) => totp
            .confirm(app, id, code, c)
            .await
            .map(|codes| Some(("Your authenticator app is on", codes))),
        (Ok(()), Change::Disable(_)) => totp
            .disable(app, id, password, code, c)
            .await
            .map(|()| None),
        (Ok(()), Change::Regenerate(_)) => totp
            .regenerate_recovery_codes(app, id, password, code, c)
            .await
            .map(|codes| Some(("New recovery codes", codes))),
    };
    let settings = page.params.href("account-security");
    match result {
        Ok(None) => Redirect::to(&settings).into_response(),
        Ok(Some((heading, codes))) => codes_page(&page.app, heading, codes, settings),
        Err(e) => settings_failed(&state, page, &user, e).await,
    }
}

/// Start setting up an authenticator app.
#[utoipa::path(post, path = "/totp-enroll", tag = "pages", params(PageParams),
    request_body(content = CsrfForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "To the settings page, which shows the QR code"),
              (status = 403, description = "CSRF check failed", content_type = "text/html")))]
async fn totp_enroll(
    State(state): State<AppState>,
    client: Client,
    PageForm { page, .. }: PageForm<CsrfForm>,
) -> Response {
    change_settings(state, client, page, Change::Enroll).await
}

/// Confirm the authenticator app with a first code; shows the recovery codes once.
#[utoipa::path(post, path = "/totp-confirm", tag = "pages", params(PageParams),
    request_body(content = CodeForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "Turned on: the recovery codes", content_type = "text/html"),
              (status = 401, description = "Wrong code: the setup is shown again", content_type = "text/html"),
              (status = 403, description = "CSRF check failed", content_type = "text/html")))]
async fn totp_confirm(
    State(state): State<AppState>,
    client: Client,
    PageForm { page, form }: PageForm<CodeForm>,
) -> Response {
    change_settings(state, client, page, Change::Confirm(form.code)).await
}

/// Turn the authenticator app off (re-authenticated).
#[utoipa::path(post, path = "/totp-disable", tag = "pages", params(PageParams),
    request_body(content = ReauthForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "Turned off: back to the settings"),
              (status = 401, description = "Wrong password or code: the settings again", content_type = "text/html"),
              (status = 403, description = "CSRF check failed", content_type = "text/html")))]
async fn totp_disable(
    State(state): State<AppState>,
    client: Client,
    PageForm { page, form }: PageForm<ReauthForm>,
) -> Response {
    change_settings(state, client, page, Change::Disable(form)).await
}

/// Replace the recovery codes (re-authenticated); shows the new ones once.
#[utoipa::path(post, path = "/recovery-codes", tag = "pages", params(PageParams),
    request_body(content = ReauthForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "The new recovery codes", content_type = "text/html"),
              (status = 401, description = "Wrong password or code: the settings again", content_type = "text/html"),
              (status = 403, description = "CSRF check failed", content_type = "text/html")))]
async fn recovery_codes(
    State(state): State<AppState>,
    client: Client,
    PageForm { page, form }: PageForm<ReauthForm>,
) -> Response {
    change_settings(state, client, page, Change::Regenerate(form)).await
}
