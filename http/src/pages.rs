//! Hosted pages: sign-in, sign-up, account and sign-out, server-rendered,
//! usable without JavaScript.
//!
//! Every page takes `?app=` (id or slug; the default app otherwise) and
//! `?redirect_uri=`, which must be one of the app's registered URIs exactly;
//! anything else is refused before a form is shown. Forms carry a CSRF token
//! (double submit: a random `tessera_csrf` cookie, SameSite=Strict, echoed in a
//! hidden field and compared in constant time). Links and form actions are
//! relative, so the pages work when the router is nested under a prefix.

use askama::Template;
use axum::Form;
use axum::extract::{Query as AxQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::{Deserialize, Serialize};
use tessera_core::crypto::{b64url, ct_eq, random_bytes};
use tessera_core::model::App;
use tessera_core::{AuthSession, Error, ErrorKind, SignInOutcome, SignUpOutcome};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::extract::{ACCESS_COOKIE, CSRF_COOKIE, Client, SESSION_COOKIE};
use crate::limits::Action;
use crate::state::AppState;

/// Routes of this module.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sign_in_page, sign_in_submit))
        .routes(routes!(sign_up_page, sign_up_submit))
        .routes(routes!(account_page))
        .routes(routes!(sign_out_submit))
        .routes(routes!(stylesheet))
}

/// `?app=` and `?redirect_uri=` of every page.
#[derive(Debug, Clone, Default, Deserialize, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PageParams {
    /// App id or slug.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) app: Option<String>,
    /// Where to go after signing in (must be registered for the app).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) redirect_uri: Option<String>,
}

impl PageParams {
    pub(crate) fn query(&self) -> String {
        let q = serde_urlencoded::to_string(self).unwrap_or_default();
        if q.is_empty() { q } else { format!("?{q}") }
    }
}

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage<'a> {
    app_name: &'a str,
    base: &'a str,
    action: String,
    sign_up_href: String,
    forgot_href: String,
    code_href: String,
    magic_href: String,
    csrf: &'a str,
    email: &'a str,
    error: Option<String>,
    /// The passkey button (when the app allows passkeys).
    passkey: Option<crate::passkey_pages::SignInButton>,
    /// "Continue with …" links of the app's enabled OAuth providers.
    providers: Vec<crate::oauth::ProviderButton>,
}

#[derive(Template)]
#[template(path = "sign_up.html")]
struct SignUpPage<'a> {
    app_name: &'a str,
    base: &'a str,
    action: String,
    sign_in_href: String,
    csrf: &'a str,
    email: &'a str,
    name: &'a str,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage<'a> {
    app_name: &'a str,
    base: &'a str,
    email: &'a str,
    name: Option<&'a str>,
    sign_out_action: String,
    csrf: &'a str,
    passkeys_href: String,
    security_href: String,
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    app_name: &'a str,
    base: &'a str,
    heading: &'a str,
    message: &'a str,
    link: Option<String>,
}

pub(crate) fn html(status: StatusCode, t: &impl Template) -> Response {
    match t.render() {
        Ok(body) => {
            let mut res = (status, body).into_response();
            res.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(e) => crate::error::ApiError(Error::internal(e)).into_response(),
    }
}

pub(crate) fn message(
    status: StatusCode,
    app_name: &str,
    heading: &str,
    text: &str,
    link: Option<String>,
) -> Response {
    html(
        status,
        &MessagePage {
            app_name,
            base: "",
            heading,
            message: text,
            link,
        },
    )
}

/// Resolve the app and check the redirect URI; an error page otherwise.
pub(crate) async fn page_context(state: &AppState, p: &PageParams) -> Result<App, Response> {
    let app = state
        .tessera
        .apps()
        .resolve_or_default(p.app.as_deref())
        .await;
    let app = app.map_err(|e| {
        let status = crate::error::status_of(e.kind());
        message(
            status,
            "Tessera",
            "Unknown app",
            "This sign-in link names an app that does not exist.",
            None,
        )
    })?;
    if let Some(uri) = &p.redirect_uri
        && !app.settings.redirect_uris.iter().any(|r| r == uri)
    {
        return Err(message(
            StatusCode::BAD_REQUEST,
            &app.name,
            "Redirect not allowed",
            "This sign-in link would send you to an address the app has not registered, so it was refused.",
            None,
        ));
    }
    Ok(app)
}

fn csrf_token(jar: &CookieJar) -> Option<String> {
    jar.get(CSRF_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| v.len() == 43)
}

/// The CSRF token of this browser, issuing a cookie if it has none.
pub(crate) fn ensure_csrf(state: &AppState, jar: CookieJar) -> (CookieJar, String) {
    if let Some(t) = csrf_token(&jar) {
        return (jar, t);
    }
    let token = b64url(&random_bytes::<32>());
    let cookie = Cookie::build((CSRF_COOKIE, token.clone()))
        .http_only(true)
        .secure(state.options.secure_cookies())
        .same_site(SameSite::Strict)
        .path("/")
        .build();
    (jar.add(cookie), token)
}

pub(crate) fn csrf_ok(jar: &CookieJar, submitted: &str) -> bool {
    csrf_token(jar).is_some_and(|t| ct_eq(t.as_bytes(), submitted.as_bytes()))
}

pub(crate) fn csrf_refused(app: &App) -> Response {
    message(
        StatusCode::FORBIDDEN,
        &app.name,
        "Form expired",
        "This form could not be verified (missing or wrong security token). Go back, reload the page and try again.",
        Some("sign-in".into()),
    )
}

fn session_cookie<'c>(state: &AppState, name: &'c str, value: String, max_age: i64) -> Cookie<'c> {
    let mut c = Cookie::build((name, value))
        .http_only(true)
        .secure(state.options.secure_cookies())
        .same_site(SameSite::Lax)
        .path("/")
        .max_age(time_duration(max_age))
        .build();
    if let Some(d) = &state.options.cookie_domain {
        c.set_domain(d.clone());
    }
    c
}

fn time_duration(secs: i64) -> cookie::time::Duration {
    cookie::time::Duration::seconds(secs)
}

/// Set the session cookies of a fresh sign-in.
pub(crate) fn with_session_cookies(state: &AppState, jar: CookieJar, s: &AuthSession) -> CookieJar {
    let lifetime = (s.session.expires_at - s.session.created_at).num_seconds();
    let mut jar = jar;
    if let Some(token) = &s.session_token {
        jar = jar.add(session_cookie(
            state,
            SESSION_COOKIE,
            token.clone(),
            lifetime,
        ));
    }
    jar.add(session_cookie(
        state,
        ACCESS_COOKIE,
        s.access_token.clone(),
        s.expires_in,
    ))
}

/// Expire the session cookies (on sign-out).
pub(crate) fn clear_session_cookies(state: &AppState, headers: &mut HeaderMap) {
    for name in [SESSION_COOKIE, ACCESS_COOKIE] {
        let c = session_cookie(state, name, String::new(), 0);
        if let Ok(v) = HeaderValue::from_str(&c.to_string()) {
            headers.append(header::SET_COOKIE, v);
        }
    }
}

/// The answer of a finished hosted sign-in: session cookies and a redirect,
/// or, when a second factor is needed, the MFA step (see `mfa_pages`).
pub(crate) fn signed_in_page(
    state: &AppState,
    jar: CookieJar,
    _app: &App,
    p: &PageParams,
    outcome: SignInOutcome,
) -> Response {
    match outcome {
        SignInOutcome::Complete(s) => {
            (with_session_cookies(state, jar, &s), after_sign_in(p)).into_response()
        }
        SignInOutcome::MfaRequired(c) => crate::mfa_pages::mfa_step(state, jar, p, c),
    }
}

pub(crate) fn after_sign_in(p: &PageParams) -> Response {
    match &p.redirect_uri {
        // Checked against the app's registered URIs in `page_context`.
        Some(uri) => Redirect::to(uri).into_response(),
        None => Redirect::to(&format!("account{}", p.query())).into_response(),
    }
}

/// Hosted sign-in page.
#[utoipa::path(get, path = "/sign-in", tag = "pages", params(PageParams),
    responses((status = 200, description = "Sign-in form", content_type = "text/html"),
              (status = 400, description = "Unregistered redirect URI", content_type = "text/html")))]
async fn sign_in_page(
    State(state): State<AppState>,
    jar: CookieJar,
    AxQuery(p): AxQuery<PageParams>,
) -> Response {
    let app = match page_context(&state, &p).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let (jar, csrf) = ensure_csrf(&state, jar);
    let page = SignInPage {
        app_name: &app.name,
        base: "",
        action: format!("sign-in{}", p.query()),
        sign_up_href: format!("sign-up{}", p.query()),
        forgot_href: format!("forgot-password{}", p.query()),
        code_href: format!("email-code{}", p.query()),
        magic_href: format!("magic-link-request{}", p.query()),
        csrf: &csrf,
        email: "",
        error: None,
        passkey: crate::passkey_pages::SignInButton::for_app(&app, &p, &csrf),
        providers: crate::oauth::provider_buttons(&state, &app, &p).await,
    };
    (jar, html(StatusCode::OK, &page)).into_response()
}

/// The sign-in form.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct SignInForm {
    csrf: String,
    email: String,
    password: String,
}

/// Submit the hosted sign-in form.
#[utoipa::path(post, path = "/sign-in", tag = "pages", params(PageParams),
    request_body(content = SignInForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "Signed in: to the redirect URI or the account page"),
              (status = 401, description = "Form shown again with an error", content_type = "text/html"),
              (status = 403, description = "CSRF check failed", content_type = "text/html")))]
async fn sign_in_submit(
    State(state): State<AppState>,
    jar: CookieJar,
    client: Client,
    AxQuery(p): AxQuery<PageParams>,
    Form(form): Form<SignInForm>,
) -> Response {
    let app = match page_context(&state, &p).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    if !csrf_ok(&jar, &form.csrf) {
        return csrf_refused(&app);
    }
    let ip = client.0.ip();
    let limited = state
        .limits
        .check_ip(Action::SignIn, ip)
        .and_then(|()| state.limits.check_account(&form.email));
    let result = match limited {
        Ok(()) => {
            state
                .tessera
                .passwords()
                .sign_in(&app, &form.email, &form.password, &client.0)
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(outcome) => {
            crate::metrics::sign_in("password", "succeeded");
            signed_in_page(&state, jar, &app, &p, outcome)
        }
        Err(e) => {
            crate::metrics::sign_in("password", e.code());
            let status = crate::error::status_of(e.kind());
            let csrf = form.csrf.clone();
            let page = SignInPage {
                app_name: &app.name,
                base: "",
                action: format!("sign-in{}", p.query()),
                sign_up_href: format!("sign-up{}", p.query()),
                forgot_href: format!("forgot-password{}", p.query()),
                code_href: format!("email-code{}", p.query()),
                magic_href: format!("magic-link-request{}", p.query()),
                csrf: &csrf,
                email: &form.email,
                error: Some(e.message().to_owned()),
                passkey: crate::passkey_pages::SignInButton::for_app(&app, &p, &csrf),
                providers: crate::oauth::provider_buttons(&state, &app, &p).await,
            };
            let mut res = html(status, &page);
            if let ErrorKind::RateLimited { retry_after } = e.kind() {
                res.headers_mut().insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(retry_after.as_secs().max(1)),
                );
            }
            res
        }
    }
}

/// Hosted sign-up page.
#[utoipa::path(get, path = "/sign-up", tag = "pages", params(PageParams),
    responses((status = 200, description = "Sign-up form", content_type = "text/html")))]
async fn sign_up_page(
    State(state): State<AppState>,
    jar: CookieJar,
    AxQuery(p): AxQuery<PageParams>,
) -> Response {
    let app = match page_context(&state, &p).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let (jar, csrf) = ensure_csrf(&state, jar);
    let page = SignUpPage {
        app_name: &app.name,
        base: "",
        action: format!("sign-up{}", p.query()),
        sign_in_href: format!("sign-in{}", p.query()),
        csrf: &csrf,
        email: "",
        name: "",
        error: None,
    };
    (jar, html(StatusCode::OK, &page)).into_response()
}

/// The sign-up form.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct SignUpForm {
    csrf: String,
    email: String,
    password: String,
    #[serde(default)]
    name: Option<String>,
}

/// Submit the hosted sign-up form.
#[utoipa::path(post, path = "/sign-up", tag = "pages", params(PageParams),
    request_body(content = SignUpForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "Signed up and in"),
              (status = 422, description = "Form shown again with an error", content_type = "text/html"),
              (status = 403, description = "CSRF check failed", content_type = "text/html")))]
async fn sign_up_submit(
    State(state): State<AppState>,
    jar: CookieJar,
    client: Client,
    AxQuery(p): AxQuery<PageParams>,
    Form(form): Form<SignUpForm>,
) -> Response {
    let app = match page_context(&state, &p).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    if !csrf_ok(&jar, &form.csrf) {
        return csrf_refused(&app);
    }
    let ip = client.0.ip();
    let result = match state.limits.check_ip(Action::SignUp, ip) {
        Ok(()) => {
            state
                .tessera
                .passwords()
                .sign_up(
                    &app,
                    &form.email,
                    &form.password,
                    form.name.as_deref(),
                    &client.0,
                )
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(SignUpOutcome::SignedIn(s)) => {
            let jar = with_session_cookies(&state, jar, &s);
            (jar, after_sign_in(&p)).into_response()
        }
        Ok(SignUpOutcome::VerificationRequired) => message(
            StatusCode::ACCEPTED,
            &app.name,
            "Check your email",
            "If this address can be used, we sent it a link to finish creating your account.",
            None,
        ),
        Err(e) => {
            let csrf = form.csrf.clone();
            let page = SignUpPage {
                app_name: &app.name,
                base: "",
                action: format!("sign-up{}", p.query()),
                sign_in_href: format!("sign-in{}", p.query()),
                csrf: &csrf,
                email: &form.email,
                name: form.name.as_deref().unwrap_or(""),
                error: Some(e.message().to_owned()),
            };
            html(crate::error::status_of(e.kind()), &page)
        }
    }
}

/// The signed-in account page (where sign-in lands without a redirect URI).
#[utoipa::path(get, path = "/account", tag = "pages", params(PageParams),
    responses((status = 200, description = "Account page", content_type = "text/html"),
              (status = 303, description = "Not signed in: to the sign-in page")))]
async fn account_page(
    State(state): State<AppState>,
    jar: CookieJar,
    AxQuery(p): AxQuery<PageParams>,
) -> Response {
    let app = match page_context(&state, &p).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let Some(token) = jar.get(SESSION_COOKIE).map(|c| c.value().to_owned()) else {
        return Redirect::to(&format!("sign-in{}", p.query())).into_response();
    };
    let (_, user) = match state.tessera.sessions().validate(&token).await {
        Ok(v) => v,
        Err(_) => return Redirect::to(&format!("sign-in{}", p.query())).into_response(),
    };
    let (jar, csrf) = ensure_csrf(&state, jar);
    let page = AccountPage {
        app_name: &app.name,
        base: "",
        email: &user.email,
        name: user.name.as_deref(),
        sign_out_action: format!("sign-out{}", p.query()),
        csrf: &csrf,
        passkeys_href: format!("passkeys{}", p.query()),
        security_href: format!("account-security{}", p.query()),
    };
    (jar, html(StatusCode::OK, &page)).into_response()
}

/// The sign-out form.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct SignOutForm {
    csrf: String,
}

/// Sign out from the hosted pages.
#[utoipa::path(post, path = "/sign-out", tag = "pages", params(PageParams),
    request_body(content = SignOutForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "Signed out: to the redirect URI or the sign-in page"),
              (status = 403, description = "CSRF check failed", content_type = "text/html")))]
async fn sign_out_submit(
    State(state): State<AppState>,
    jar: CookieJar,
    AxQuery(p): AxQuery<PageParams>,
    Form(form): Form<SignOutForm>,
) -> Response {
    let app = match page_context(&state, &p).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    if !csrf_ok(&jar, &form.csrf) {
        return csrf_refused(&app);
    }
    if let Some(token) = jar.get(SESSION_COOKIE).map(|c| c.value().to_owned())
        && let Ok((session, user)) = state.tessera.sessions().validate(&token).await
        && let Err(e) = state
            .tessera
            .sessions()
            .revoke(user.id, session.id, "sign_out")
            .await
    {
        return crate::error::ApiError(e).into_response();
    }
    let mut res = match &p.redirect_uri {
        Some(uri) => Redirect::to(uri).into_response(),
        None => Redirect::to(&format!("sign-in{}", p.query())).into_response(),
    };
    clear_session_cookies(&state, res.headers_mut());
    res
}

/// The stylesheet of the hosted pages.
#[utoipa::path(get, path = "/assets/tessera.css", tag = "pages",
    responses((status = 200, description = "Stylesheet", content_type = "text/css")))]
async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../assets/tessera.css"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_params_round_trip_through_the_query() {
        let p = PageParams {
            app: Some("shop".into()),
            redirect_uri: Some("https://shop.example/cb?x=1&y=2".into()),
        };
        let q = p.query();
        assert_eq!(
            q,
            "?app=shop&redirect_uri=https%3A%2F%2Fshop.example%2Fcb%3Fx%3D1%26y%3D2"
        );
        assert_eq!(PageParams::default().query(), "");
        let _ = Error::new(ErrorKind::Internal);
    }
}
