//! Hosted pages of the MFA step and of TOTP enrolment, usable without
//! JavaScript (a passkey button appears when the browser can use it).
//!
//! When a hosted sign-in (password, email code, magic link) needs a second
//! factor, the `mfa_token` goes into a short-lived HttpOnly cookie
//! (`tessera_mfa`, five minutes, SameSite=Lax) and the browser is sent to
//! `mfa`: the token never appears in a URL, and a reload shows the step
//! again. Every form carries the CSRF token of `pages`. When the app requires
//! a second factor the user does not have, the same page enrols an
//! authenticator app with the token and finishes the sign-in.
//!
//! Signed-in users manage TOTP on `account-security`: set up (QR code as
//! inline SVG, plus the secret to type), turn off and regenerate recovery
//! codes (both re-authenticated), with recovery codes shown once.

use askama::Template;
use axum::Form;
use axum::extract::{Query as AxQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::Deserialize;
use tessera_core::model::{App, User};
use tessera_core::{Error, ErrorKind, MFA_TTL_SECS, MfaChallenge, MfaMethod, TotpEnrollment};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::extract::{Client, SESSION_COOKIE};
use crate::limits::Action;
use crate::pages::{
    PageParams, after_sign_in, csrf_ok, csrf_refused, ensure_csrf, html, message, page_context,
    with_session_cookies,
};
use crate::passkey_pages::MfaButton;
use crate::state::AppState;

/// The cookie carrying a hosted sign-in's `mfa_token` to the MFA step.
pub(crate) const MFA_COOKIE: &str = "tessera_mfa";

/// Routes of this module.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(mfa_page, mfa_submit))
        .routes(routes!(mfa_enroll))
        .routes(routes!(mfa_confirm))
        .routes(routes!(security_page))
        .routes(routes!(totp_enroll))
        .routes(routes!(totp_confirm))
        .routes(routes!(totp_disable))
        .routes(routes!(recovery_codes))
}

fn mfa_cookie(state: &AppState, value: String, max_age: i64) -> Cookie<'static> {
    Cookie::build((MFA_COOKIE, value))
        .http_only(true)
        .secure(state.options.secure_cookies())
        .same_site(SameSite::Lax)
        .path("/")
        .max_age(cookie::time::Duration::seconds(max_age))
        .build()
}

/// The MFA branch of a finished hosted sign-in: keep the token in a cookie
/// and go to the MFA step.
pub(crate) fn mfa_step(
    state: &AppState,
    jar: CookieJar,
    p: &PageParams,
    challenge: MfaChallenge,
) -> Response {
    let jar = jar.add(mfa_cookie(state, challenge.mfa_token, MFA_TTL_SECS));
    (jar, Redirect::to(&format!("mfa{}", p.query()))).into_response()
}

#[derive(Template)]
#[template(path = "mfa.html")]
struct MfaPage<'a> {
    app_name: &'a str,
    base: &'a str,
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
#[template(path = "totp_setup.html")]
struct SetupPage<'a> {
    app_name: &'a str,
    base: &'a str,
    qr_svg: &'a str,
    secret: &'a str,
    otpauth_uri: &'a str,
    error: Option<String>,
    action: String,
    csrf: &'a str,
    cancel_href: Option<String>,
}

#[derive(Template)]
#[template(path = "recovery_codes.html")]
struct CodesPage<'a> {
    app_name: &'a str,
    base: &'a str,
    heading: &'a str,
    codes: Vec<String>,
    continue_href: String,
}

#[derive(Template)]
#[template(path = "account_security.html")]
struct SecurityPage<'a> {
    app_name: &'a str,
    base: &'a str,
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

fn server_error(e: Error) -> Response {
    crate::error::ApiError(e).into_response()
}

fn with_retry_after(mut res: Response, e: &Error) -> Response {
    if let ErrorKind::RateLimited { retry_after } = e.kind() {
        res.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(retry_after.as_secs().max(1)),
        );
    }
    res
}

fn render_setup(
    status: StatusCode,
    app: &App,
    en: &TotpEnrollment,
    csrf: &str,
    action: String,
    cancel_href: Option<String>,
    error: Option<String>,
) -> Response {
    html(
        status,
        &SetupPage {
            app_name: &app.name,
            base: "",
            qr_svg: &en.qr_svg,
            secret: &en.secret,
            otpauth_uri: &en.otpauth_uri,
            error,
            action,
            csrf,
            cancel_href,
        },
    )
}

/// "This sign-in has ended": the MFA token is missing, spent or expired.
fn restart(app: &App, p: &PageParams) -> Response {
    message(
        StatusCode::UNAUTHORIZED,
        &app.name,
        "Sign in again",
        "This sign-in has expired or was already used. Start again.",
        Some(format!("sign-in{}", p.query())),
    )
}

fn mfa_token(jar: &CookieJar) -> Option<String> {
    jar.get(MFA_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty())
}

/// Render the MFA step for the challenge in the cookie.
async fn render_step(
    state: &AppState,
    jar: CookieJar,
    app: &App,
    p: &PageParams,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    let Some(token) = mfa_token(&jar) else {
        return restart(app, p);
    };
    let mfa = state.tessera.mfa();
    let pending = match mfa.take_challenge(app, &token).await {
        Ok(pending) => pending,
        Err(e) if e.kind().is_server_error() => return server_error(e),
        Err(_) => return restart(app, p),
    };
    let (jar, csrf) = ensure_csrf(state, jar);
    if pending.allows(MfaMethod::TotpEnroll) {
        match mfa.pending_enrollment(app, &token).await {
            Ok(Some(en)) => {
                let page = render_setup(
                    status,
                    app,
                    &en,
                    &csrf,
                    format!("mfa-confirm{}", p.query()),
                    Some(format!("sign-in{}", p.query())),
                    error,
                );
                return (jar, page).into_response();
            }
            Ok(None) => {}
            Err(e) if e.kind().is_server_error() => return server_error(e),
            Err(_) => return restart(app, p),
        }
    }
    let page = MfaPage {
        app_name: &app.name,
        base: "",
        error,
        enroll_action: pending
            .allows(MfaMethod::TotpEnroll)
            .then(|| format!("mfa-enroll{}", p.query())),
        totp: pending.allows(MfaMethod::Totp),
        recovery: pending.allows(MfaMethod::RecoveryCode),
        passkey: MfaButton::for_challenge(app, p, &csrf, &token, &pending.methods),
        action: format!("mfa{}", p.query()),
        csrf: &csrf,
        restart_href: format!("sign-in{}", p.query()),
    };
    (jar, html(status, &page)).into_response()
}

/// The MFA step of a hosted sign-in.
#[utoipa::path(get, path = "/mfa", tag = "pages", params(PageParams),
    responses((status = 200, description = "Second-factor form (or authenticator setup when the app requires one)", content_type = "text/html"),
              (status = 401, description = "No live sign-in: start again", content_type = "text/html")))]
async fn mfa_page(
    State(state): State<AppState>,
    jar: CookieJar,
    AxQuery(p): AxQuery<PageParams>,
) -> Response {
    let app = match page_context(&state, &p).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    render_step(&state, jar, &app, &p, StatusCode::OK, None).await
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

/// Finish a sign-in: the session cookies are set and the MFA cookie cleared.
fn finish(
    state: &AppState,
    jar: CookieJar,
    p: &PageParams,
    s: &tessera_core::AuthSession,
) -> (CookieJar, Response) {
    let jar = with_session_cookies(state, jar, s).add(mfa_cookie(state, String::new(), 0));
    (jar, after_sign_in(p))
}

/// Submit the MFA step.
#[utoipa::path(post, path = "/mfa", tag = "pages", params(PageParams),
    request_body(content = MfaForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "Signed in: to the redirect URI or the account page"),
              (status = 401, description = "Form shown again with an error", content_type = "text/html"),
              (status = 403, description = "CSRF check failed", content_type = "text/html")))]
async fn mfa_submit(
    State(state): State<AppState>,
    jar: CookieJar,
    client: Client,
    AxQuery(p): AxQuery<PageParams>,
    Form(form): Form<MfaForm>,
) -> Response {
    let app = match page_context(&state, &p).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    if !csrf_ok(&jar, &form.csrf) {
        return csrf_refused(&app);
    }
    let Some(token) = mfa_token(&jar) else {
        return restart(&app, &p);
    };
    let mfa = state.tessera.mfa();
    let filled = |v: &Option<String>| {
        v.as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(str::to_owned)
    };
    let result = match state.limits.check_ip(Action::SignIn, client.0.ip()) {
        Err(e) => Err(e),
        Ok(()) => match (filled(&form.code), filled(&form.recovery_code)) {
            (Some(code), _) => mfa.verify_totp(&app, &token, &code, &client.0).await,
            (None, Some(rc)) => mfa.verify_recovery_code(&app, &token, &rc, &client.0).await,
            (None, None) => Err(Error::invalid("code", "Enter a code.")),
        },
    };
    match result {
        Ok(s) => {
            crate::metrics::sign_in("mfa", "succeeded");
            finish(&state, jar, &p, &s).into_response()
        }
        Err(e) => {
            crate::metrics::sign_in("mfa", e.code());
            match e.kind() {
                k if k.is_server_error() => server_error(e),
                ErrorKind::InvalidToken | ErrorKind::TokenExpired | ErrorKind::UserDisabled => {
                    restart(&app, &p)
                }
                k => {
                    let status = crate::error::status_of(k);
                    let res =
                        render_step(&state, jar, &app, &p, status, Some(e.message().into())).await;
                    with_retry_after(res, &e)
                }
            }
        }
    }
}

/// A form with only the CSRF token.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct CsrfForm {
    csrf: String,
}

/// Start the authenticator setup an app requires, with the sign-in's MFA token.
#[utoipa::path(post, path = "/mfa-enroll", tag = "pages", params(PageParams),
    request_body(content = CsrfForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "To the MFA step, which now shows the QR code"),
              (status = 401, description = "No live sign-in", content_type = "text/html"),
              (status = 403, description = "CSRF check failed", content_type = "text/html")))]
async fn mfa_enroll(
    State(state): State<AppState>,
    jar: CookieJar,
    client: Client,
    AxQuery(p): AxQuery<PageParams>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let app = match page_context(&state, &p).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    if !csrf_ok(&jar, &form.csrf) {
        return csrf_refused(&app);
    }
    let Some(token) = mfa_token(&jar) else {
        return restart(&app, &p);
    };
    match state
        .tessera
        .mfa()
        .enroll_totp(&app, &token, &client.0)
        .await
    {
        Ok(_) => Redirect::to(&format!("mfa{}", p.query())).into_response(),
        Err(e) if e.kind().is_server_error() => server_error(e),
        // Already set up (e.g. a second tab): the step page shows what is next.
        Err(e) if *e.kind() == ErrorKind::Conflict => {
            Redirect::to(&format!("mfa{}", p.query())).into_response()
        }
        Err(_) => restart(&app, &p),
    }
}

/// A form with a TOTP code.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct CodeForm {
    csrf: String,
    code: String,
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
    jar: CookieJar,
    client: Client,
    AxQuery(p): AxQuery<PageParams>,
    Form(form): Form<CodeForm>,
) -> Response {
    let app = match page_context(&state, &p).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    if !csrf_ok(&jar, &form.csrf) {
        return csrf_refused(&app);
    }
    let Some(token) = mfa_token(&jar) else {
        return restart(&app, &p);
    };
    let result = match state.limits.check_ip(Action::SignIn, client.0.ip()) {
        Err(e) => Err(e),
        Ok(()) => {
            state
                .tessera
                .mfa()
                .confirm_totp(&app, &token, &form.code, &client.0)
                .await
        }
    };
    match result {
        Ok(done) => {
            crate::metrics::sign_in("mfa", "succeeded");
            let jar = with_session_cookies(&state, jar, &done.session).add(mfa_cookie(
                &state,
                String::new(),
                0,
            ));
            let continue_href = match &p.redirect_uri {
                Some(uri) => uri.clone(),
                None => format!("account{}", p.query()),
            };
            let page = CodesPage {
                app_name: &app.name,
                base: "",
                heading: "Your authenticator app is set up",
                codes: done.recovery_codes,
                continue_href,
            };
            (jar, html(StatusCode::OK, &page)).into_response()
        }
        Err(e) => {
            crate::metrics::sign_in("mfa", e.code());
            match e.kind() {
                k if k.is_server_error() => server_error(e),
                ErrorKind::InvalidToken | ErrorKind::TokenExpired | ErrorKind::UserDisabled => {
                    restart(&app, &p)
                }
                k => {
                    let status = crate::error::status_of(k);
                    let res =
                        render_step(&state, jar, &app, &p, status, Some(e.message().into())).await;
                    with_retry_after(res, &e)
                }
            }
        }
    }
}

/// The signed-in user of the session cookie, or a redirect to sign in.
async fn signed_in(state: &AppState, jar: &CookieJar, p: &PageParams) -> Result<User, Response> {
    let to_sign_in = || Redirect::to(&format!("sign-in{}", p.query())).into_response();
    let Some(token) = jar.get(SESSION_COOKIE).map(|c| c.value().to_owned()) else {
        return Err(to_sign_in());
    };
    match state.tessera.sessions().validate(&token).await {
        Ok((_, user)) => Ok(user),
        Err(e) if e.kind().is_server_error() => Err(server_error(e)),
        Err(_) => Err(to_sign_in()),
    }
}

async fn render_security(
    state: &AppState,
    jar: CookieJar,
    app: &App,
    user: &User,
    p: &PageParams,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    let (jar, csrf) = ensure_csrf(state, jar);
    let totp = state.tessera.totp();
    let st = match totp.status(app, user.id).await {
        Ok(s) => s,
        Err(e) => return server_error(e),
    };
    if st.totp_pending && !st.totp_enabled {
        match totp.pending_enrollment(app, user.id).await {
            Ok(Some(en)) => {
                let page = render_setup(
                    status,
                    app,
                    &en,
                    &csrf,
                    format!("totp-confirm{}", p.query()),
                    Some(format!("account{}", p.query())),
                    error,
                );
                return (jar, page).into_response();
            }
            Ok(None) => {}
            Err(e) => return server_error(e),
        }
    }
    let page = SecurityPage {
        app_name: &app.name,
        base: "",
        error,
        totp_enabled: st.totp_enabled,
        recovery_codes_left: st.recovery_codes_left,
        has_password: st.has_password,
        csrf: &csrf,
        enroll_action: format!("totp-enroll{}", p.query()),
        disable_action: format!("totp-disable{}", p.query()),
        regenerate_action: format!("recovery-codes{}", p.query()),
        account_href: format!("account{}", p.query()),
    };
    (jar, html(status, &page)).into_response()
}

/// Two-step verification settings of the signed-in user.
#[utoipa::path(get, path = "/account-security", tag = "pages", params(PageParams),
    responses((status = 200, description = "Settings, or the pending setup's QR code", content_type = "text/html"),
              (status = 303, description = "Not signed in: to the sign-in page")))]
async fn security_page(
    State(state): State<AppState>,
    jar: CookieJar,
    AxQuery(p): AxQuery<PageParams>,
) -> Response {
    let app = match page_context(&state, &p).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let user = match signed_in(&state, &jar, &p).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    render_security(&state, jar, &app, &user, &p, StatusCode::OK, None).await
}

/// Check CSRF and the session of an account form.
async fn account_form(
    state: &AppState,
    jar: &CookieJar,
    p: &PageParams,
    csrf: &str,
) -> Result<(App, User), Response> {
    let app = page_context(state, p).await?;
    if !csrf_ok(jar, csrf) {
        return Err(csrf_refused(&app));
    }
    let user = signed_in(state, jar, p).await?;
    Ok((app, user))
}

/// Start setting up an authenticator app.
#[utoipa::path(post, path = "/totp-enroll", tag = "pages", params(PageParams),
    request_body(content = CsrfForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "To the settings page, which shows the QR code"),
              (status = 403, description = "CSRF check failed", content_type = "text/html")))]
async fn totp_enroll(
    State(state): State<AppState>,
    jar: CookieJar,
    client: Client,
    AxQuery(p): AxQuery<PageParams>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let (app, user) = match account_form(&state, &jar, &p, &form.csrf).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    match state.tessera.totp().enroll(&app, user.id, &client.0).await {
        Ok(_) => Redirect::to(&format!("account-security{}", p.query())).into_response(),
        Err(e) if e.kind().is_server_error() => server_error(e),
        Err(e) => {
            let status = crate::error::status_of(e.kind());
            render_security(
                &state,
                jar,
                &app,
                &user,
                &p,
                status,
                Some(e.message().into()),
            )
            .await
        }
    }
}

/// Confirm the authenticator app with a first code; shows the recovery codes once.
#[utoipa::path(post, path = "/totp-confirm", tag = "pages", params(PageParams),
    request_body(content = CodeForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "Turned on: the recovery codes", content_type = "text/html"),
              (status = 401, description = "Wrong code: the setup is shown again", content_type = "text/html"),
              (status = 403, description = "CSRF check failed", content_type = "text/html")))]
async fn totp_confirm(
    State(state): State<AppState>,
    jar: CookieJar,
    client: Client,
    AxQuery(p): AxQuery<PageParams>,
    Form(form): Form<CodeForm>,
) -> Response {
    let (app, user) = match account_form(&state, &jar, &p, &form.csrf).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let result = match state.limits.check_ip(Action::SignIn, client.0.ip()) {
        Err(e) => Err(e),
        Ok(()) => {
            state
                .tessera
                .totp()
                .confirm(&app, user.id, &form.code, &client.0)
                .await
        }
    };
    match result {
        Ok(codes) => codes_page(&app, &p, "Your authenticator app is on", codes),
        Err(e) if e.kind().is_server_error() => server_error(e),
        Err(e) => {
            let status = crate::error::status_of(e.kind());
            let res = render_security(
                &state,
                jar,
                &app,
                &user,
                &p,
                status,
                Some(e.message().into()),
            )
            .await;
            with_retry_after(res, &e)
        }
    }
}

fn codes_page(app: &App, p: &PageParams, heading: &str, codes: Vec<String>) -> Response {
    html(
        StatusCode::OK,
        &CodesPage {
            app_name: &app.name,
            base: "",
            heading,
            codes,
            continue_href: format!("account-security{}", p.query()),
        },
    )
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

/// Turn the authenticator app off (re-authenticated).
#[utoipa::path(post, path = "/totp-disable", tag = "pages", params(PageParams),
    request_body(content = ReauthForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "Turned off: back to the settings"),
              (status = 401, description = "Wrong password or code: the settings again", content_type = "text/html"),
              (status = 403, description = "CSRF check failed", content_type = "text/html")))]
async fn totp_disable(
    State(state): State<AppState>,
    jar: CookieJar,
    client: Client,
    AxQuery(p): AxQuery<PageParams>,
    Form(form): Form<ReauthForm>,
) -> Response {
    let (app, user) = match account_form(&state, &jar, &p, &form.csrf).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let result = match state.limits.check_ip(Action::SignIn, client.0.ip()) {
        Err(e) => Err(e),
        Ok(()) => {
            state
                .tessera
                .totp()
                .disable(
                    &app,
                    user.id,
                    form.password.as_deref(),
                    form.code.as_deref(),
                    &client.0,
                )
                .await
        }
    };
    match result {
        Ok(()) => Redirect::to(&format!("account-security{}", p.query())).into_response(),
        Err(e) if e.kind().is_server_error() => server_error(e),
        Err(e) => {
            let status = crate::error::status_of(e.kind());
            let res = render_security(
                &state,
                jar,
                &app,
                &user,
                &p,
                status,
                Some(e.message().into()),
            )
            .await;
            with_retry_after(res, &e)
        }
    }
}

/// Replace the recovery codes (re-authenticated); shows the new ones once.
#[utoipa::path(post, path = "/recovery-codes", tag = "pages", params(PageParams),
    request_body(content = ReauthForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "The new recovery codes", content_type = "text/html"),
              (status = 401, description = "Wrong password or code: the settings again", content_type = "text/html"),
              (status = 403, description = "CSRF check failed", content_type = "text/html")))]
async fn recovery_codes(
    State(state): State<AppState>,
    jar: CookieJar,
    client: Client,
    AxQuery(p): AxQuery<PageParams>,
    Form(form): Form<ReauthForm>,
) -> Response {
    let (app, user) = match account_form(&state, &jar, &p, &form.csrf).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let result = match state.limits.check_ip(Action::SignIn, client.0.ip()) {
        Err(e) => Err(e),
        Ok(()) => {
            state
                .tessera
                .totp()
                .regenerate_recovery_codes(
                    &app,
                    user.id,
                    form.password.as_deref(),
                    form.code.as_deref(),
                    &client.0,
                )
                .await
        }
    };
    match result {
        Ok(codes) => codes_page(&app, &p, "New recovery codes", codes),
        Err(e) if e.kind().is_server_error() => server_error(e),
        Err(e) => {
            let status = crate::error::status_of(e.kind());
            let res = render_security(
                &state,
                jar,
                &app,
                &user,
                &p,
                status,
                Some(e.message().into()),
            )
            .await;
            with_retry_after(res, &e)
        }
    }
}
