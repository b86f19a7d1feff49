//! Hosted pages of the email flows: forgot/reset password, verify email,
//! sign in with an emailed code or link, confirm an address change.
//!
//! Same rules as the other hosted pages (`?app=`, registered redirect URIs
//! only, CSRF on every form, relative links). Pages reached from an emailed
//! link never act on a GET, except email verification, which is harmless to
//! repeat: the magic link and the address change ask for a click first, so a
//! mail scanner that follows links cannot sign anyone in or change anything.

use askama::Template;
use axum::Form;
use axum::extract::{Query as AxQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use tessera_core::ErrorKind;
use tessera_core::model::App;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use tessera_core::SendFlow;

use crate::email::send_after_answer;
use crate::extract::Client;
use crate::limits::Action;
use crate::pages::{
    PageParams, csrf_ok, csrf_refused, ensure_csrf, html, message, page_context, signed_in_page,
};
use crate::state::AppState;

/// Routes of this module.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(forgot_page, forgot_submit))
        .routes(routes!(reset_page, reset_submit))
        .routes(routes!(verify_page))
        .routes(routes!(code_page, code_send))
        .routes(routes!(code_verify))
        .routes(routes!(magic_request_page, magic_request_submit))
        .routes(routes!(magic_page, magic_submit))
        .routes(routes!(change_page, change_submit))
}

struct Field {
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    autocomplete: &'static str,
    inputmode: &'static str,
    value: String,
}

struct Hidden {
    name: &'static str,
    value: String,
}

struct Link {
    href: String,
    text: &'static str,
}

#[derive(Template)]
#[template(path = "form.html")]
struct FormPage<'a> {
    app_name: &'a str,
    base: &'a str,
    heading: &'a str,
    intro: Option<&'a str>,
    error: Option<String>,
    action: String,
    csrf: &'a str,
    hidden: Vec<Hidden>,
    fields: Vec<Field>,
    button: &'a str,
    links: Vec<Link>,
}

fn email_field(value: &str) -> Field {
    Field {
        name: "email",
        label: "Email",
        kind: "email",
        autocomplete: "username",
        inputmode: "email",
        value: value.to_owned(),
    }
}

/// A form page for `app`.
#[allow(clippy::too_many_arguments)]
fn form(
    app: &App,
    status: StatusCode,
    csrf: &str,
    heading: &str,
    intro: Option<&str>,
    error: Option<String>,
    action: String,
    hidden: Vec<Hidden>,
    fields: Vec<Field>,
    button: &str,
    links: Vec<Link>,
) -> Response {
    html(
        status,
        &FormPage {
            app_name: &app.name,
            base: "",
            heading,
            intro,
            error,
            action,
            csrf,
            hidden,
            fields,
            button,
            links,
        },
    )
}

/// `?token=` and `?app=` of pages opened from an emailed link.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct LinkParams {
    /// The token from the link.
    #[serde(default)]
    token: Option<String>,
    /// App id or slug.
    #[serde(default)]
    app: Option<String>,
}

impl LinkParams {
    fn page(&self) -> PageParams {
        PageParams {
            app: self.app.clone(),
            redirect_uri: None,
        }
    }
}

/// A form posting an email address.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct EmailForm {
    csrf: String,
    email: String,
}

/// A form posting a token (and, for resets, a new password).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct TokenForm {
    csrf: String,
    token: String,
    #[serde(default)]
    new_password: Option<String>,
}

/// A form posting a sign-in code.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct CodeForm {
    csrf: String,
    email: String,
    code: String,
}

fn sign_in_link(p: &PageParams) -> Link {
    Link {
        href: format!("sign-in{}", p.query()),
        text: "Back to sign in",
    }
}

fn check_your_email(app: &App) -> Response {
    message(
        StatusCode::ACCEPTED,
        &app.name,
        "Check your email",
        "If there is an account for that address, we sent it a message. It can take a minute to arrive.",
        None,
    )
}

#[allow(clippy::too_many_arguments)]
fn email_form(
    app: &App,
    csrf: &str,
    p: &PageParams,
    path: &str,
    heading: &str,
    intro: &str,
    error: Option<String>,
    email: &str,
) -> Response {
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    form(
        app,
        status,
        csrf,
        heading,
        Some(intro),
        error,
        format!("{path}{}", p.query()),
        vec![],
        vec![email_field(email)],
        "Send",
        vec![sign_in_link(p)],
    )
}

async fn context(
    state: &AppState,
    p: &PageParams,
    jar: CookieJar,
) -> Result<(App, CookieJar, String), Response> {
    let app = page_context(state, p).await?;
    let (jar, csrf) = ensure_csrf(state, jar);
    Ok((app, jar, csrf))
}

macro_rules! page {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(r) => return r,
        }
    };
}

/// "Forgot your password?" page.
#[utoipa::path(get, path = "/forgot-password", tag = "pages", params(PageParams),
    responses((status = 200, description = "Form", content_type = "text/html")))]
async fn forgot_page(
    State(state): State<AppState>,
    jar: CookieJar,
    AxQuery(p): AxQuery<PageParams>,
) -> Response {
    let (app, jar, csrf) = page!(context(&state, &p, jar).await);
    (
        jar,
        email_form(
            &app,
            &csrf,
            &p,
            "forgot-password",
            "Reset your password",
            "Enter your address and we will email you a link to choose a new password.",
            None,
            "",
        ),
    )
        .into_response()
}

/// Send a reset link from the hosted page.
#[utoipa::path(post, path = "/forgot-password", tag = "pages", params(PageParams),
    request_body(content = EmailForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 202, description = "Sent if the account exists", content_type = "text/html")))]
async fn forgot_submit(
    State(state): State<AppState>,
    jar: CookieJar,
    client: Client,
    AxQuery(p): AxQuery<PageParams>,
    Form(f): Form<EmailForm>,
) -> Response {
    let app = page!(page_context(&state, &p).await);
    if !csrf_ok(&jar, &f.csrf) {
        return csrf_refused(&app);
    }
    let sent = send_after_answer(&state, &app, SendFlow::PasswordReset, &f.email, &client);
    match sent {
        Ok(()) => check_your_email(&app),
        Err(e) => email_form(
            &app,
            &f.csrf,
            &p,
            "forgot-password",
            "Reset your password",
            "Enter your address and we will email you a link to choose a new password.",
            Some(e.message().to_owned()),
            &f.email,
        ),
    }
}

fn reset_form(
    app: &App,
    status: StatusCode,
    csrf: &str,
    p: &PageParams,
    token: &str,
    error: Option<String>,
) -> Response {
    form(
        app,
        status,
        csrf,
        "Choose a new password",
        Some("At least 8 characters. A few unusual words make a strong password."),
        error,
        format!("reset-password{}", p.query()),
        vec![Hidden {
            name: "token",
            value: token.to_owned(),
        }],
        vec![Field {
            name: "new_password",
            label: "New password",
            kind: "password",
            autocomplete: "new-password",
            inputmode: "text",
            value: String::new(),
        }],
        "Set password",
        vec![],
    )
}

/// The page a reset link opens.
#[utoipa::path(get, path = "/reset-password", tag = "pages", params(LinkParams),
    responses((status = 200, description = "New-password form", content_type = "text/html")))]
async fn reset_page(
    State(state): State<AppState>,
    jar: CookieJar,
    AxQuery(l): AxQuery<LinkParams>,
) -> Response {
    let p = l.page();
    let (app, jar, csrf) = page!(context(&state, &p, jar).await);
    (
        jar,
        reset_form(
            &app,
            StatusCode::OK,
            &csrf,
            &p,
            l.token.as_deref().unwrap_or(""),
            None,
        ),
    )
        .into_response()
}

/// Set the new password.
#[utoipa::path(post, path = "/reset-password", tag = "pages", params(PageParams),
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "Password changed", content_type = "text/html"),
              (status = 401, description = "Invalid or expired link", content_type = "text/html")))]
async fn reset_submit(
    State(state): State<AppState>,
    jar: CookieJar,
    client: Client,
    AxQuery(p): AxQuery<PageParams>,
    Form(f): Form<TokenForm>,
) -> Response {
    let app = page!(page_context(&state, &p).await);
    if !csrf_ok(&jar, &f.csrf) {
        return csrf_refused(&app);
    }
    let password = f.new_password.as_deref().unwrap_or("");
    match state
        .tessera
        .emails()
        .reset_password(&f.token, password, &client.0)
        .await
    {
        Ok(()) => message(
            StatusCode::OK,
            &app.name,
            "Password changed",
            "Your password was changed and every session was signed out. Sign in with the new password.",
            Some(format!("sign-in{}", p.query())),
        ),
        Err(e) if *e.kind() == ErrorKind::WeakPassword => reset_form(
            &app,
            StatusCode::UNPROCESSABLE_ENTITY,
            &f.csrf,
            &p,
            &f.token,
            Some(e.message().to_owned()),
        ),
        Err(e) => message(
            crate::error::status_of(e.kind()),
            &app.name,
            "Link not valid",
            "This link is invalid, was already used, or has expired. Ask for a new one.",
            Some(format!("forgot-password{}", p.query())),
        ),
    }
}

/// The page a verification link opens: verifies the address.
#[utoipa::path(get, path = "/verify-email", tag = "pages", params(LinkParams),
    responses((status = 200, description = "Verified", content_type = "text/html"),
              (status = 401, description = "Invalid or expired link", content_type = "text/html")))]
async fn verify_page(State(state): State<AppState>, AxQuery(l): AxQuery<LinkParams>) -> Response {
    let p = l.page();
    let app = page!(page_context(&state, &p).await);
    match state
        .tessera
        .emails()
        .verify_email(l.token.as_deref().unwrap_or(""))
        .await
    {
        Ok(user) => message(
            StatusCode::OK,
            &app.name,
            "Email verified",
            &format!("Thank you: {} is verified.", user.email),
            Some(format!("account{}", p.query())),
        ),
        Err(e) => message(
            crate::error::status_of(e.kind()),
            &app.name,
            "Link not valid",
            "This verification link is invalid, was already used, or has expired.",
            None,
        ),
    }
}

fn code_form(
    app: &App,
    status: StatusCode,
    csrf: &str,
    p: &PageParams,
    email: &str,
    error: Option<String>,
) -> Response {
    form(
        app,
        status,
        csrf,
        "Enter your code",
        Some(
            "If there is an account for that address, we emailed it a six-digit code. It works once, for 10 minutes.",
        ),
        error,
        format!("email-code-verify{}", p.query()),
        vec![Hidden {
            name: "email",
            value: email.to_owned(),
        }],
        vec![Field {
            name: "code",
            label: "Code",
            kind: "text",
            autocomplete: "one-time-code",
            inputmode: "numeric",
            value: String::new(),
        }],
        "Sign in",
        vec![sign_in_link(p)],
    )
}

/// "Email me a code" page.
#[utoipa::path(get, path = "/email-code", tag = "pages", params(PageParams),
    responses((status = 200, description = "Form", content_type = "text/html")))]
async fn code_page(
    State(state): State<AppState>,
    jar: CookieJar,
    AxQuery(p): AxQuery<PageParams>,
) -> Response {
    let (app, jar, csrf) = page!(context(&state, &p, jar).await);
    (
        jar,
        email_form(
            &app,
            &csrf,
            &p,
            "email-code",
            "Sign in with a code",
            "We will email you a six-digit code.",
            None,
            "",
        ),
    )
        .into_response()
}

/// Send a code, then show the code form (the same whether or not the account exists).
#[utoipa::path(post, path = "/email-code", tag = "pages", params(PageParams),
    request_body(content = EmailForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "Code form", content_type = "text/html")))]
async fn code_send(
    State(state): State<AppState>,
    jar: CookieJar,
    client: Client,
    AxQuery(p): AxQuery<PageParams>,
    Form(f): Form<EmailForm>,
) -> Response {
    let app = page!(page_context(&state, &p).await);
    if !csrf_ok(&jar, &f.csrf) {
        return csrf_refused(&app);
    }
    let sent = send_after_answer(&state, &app, SendFlow::SignInCode, &f.email, &client);
    match sent {
        Ok(()) => code_form(&app, StatusCode::OK, &f.csrf, &p, &f.email, None),
        Err(e) => email_form(
            &app,
            &f.csrf,
            &p,
            "email-code",
            "Sign in with a code",
            "We will email you a six-digit code.",
            Some(e.message().to_owned()),
            &f.email,
        ),
    }
}

/// Sign in with the code.
#[utoipa::path(post, path = "/email-code-verify", tag = "pages", params(PageParams),
    request_body(content = CodeForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "Signed in"), (status = 401, description = "Code form again", content_type = "text/html")))]
async fn code_verify(
    State(state): State<AppState>,
    jar: CookieJar,
    client: Client,
    AxQuery(p): AxQuery<PageParams>,
    Form(f): Form<CodeForm>,
) -> Response {
    let app = page!(page_context(&state, &p).await);
    if !csrf_ok(&jar, &f.csrf) {
        return csrf_refused(&app);
    }
    let result = match state
        .limits
        .check_ip(Action::SignIn, client.0.ip())
        .and_then(|()| state.limits.check_account(&f.email))
    {
        Ok(()) => {
            state
                .tessera
                .emails()
                .sign_in_with_code(&app, &f.email, &f.code, &client.0)
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(outcome) => signed_in_page(&state, jar, &app, &p, outcome),
        Err(e) => code_form(&app, crate::error::status_of(e.kind()), &f.csrf, &p, &f.email, Some("That code is not right, or it has expired. Check the latest email, or ask for a new code.".into())),
    }
}

/// "Email me a sign-in link" page.
#[utoipa::path(get, path = "/magic-link-request", tag = "pages", params(PageParams),
    responses((status = 200, description = "Form", content_type = "text/html")))]
async fn magic_request_page(
    State(state): State<AppState>,
    jar: CookieJar,
    AxQuery(p): AxQuery<PageParams>,
) -> Response {
    let (app, jar, csrf) = page!(context(&state, &p, jar).await);
    (
        jar,
        email_form(
            &app,
            &csrf,
            &p,
            "magic-link-request",
            "Sign in with a link",
            "We will email you a link that signs you in.",
            None,
            "",
        ),
    )
        .into_response()
}

/// Send a sign-in link from the hosted page.
#[utoipa::path(post, path = "/magic-link-request", tag = "pages", params(PageParams),
    request_body(content = EmailForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 202, description = "Sent if the account exists", content_type = "text/html")))]
async fn magic_request_submit(
    State(state): State<AppState>,
    jar: CookieJar,
    client: Client,
    AxQuery(p): AxQuery<PageParams>,
    Form(f): Form<EmailForm>,
) -> Response {
    let app = page!(page_context(&state, &p).await);
    if !csrf_ok(&jar, &f.csrf) {
        return csrf_refused(&app);
    }
    let sent = send_after_answer(
        &state,
        &app,
        SendFlow::MagicLink { redirect_uri: None },
        &f.email,
        &client,
    );
    match sent {
        Ok(()) => check_your_email(&app),
        Err(e) => email_form(
            &app,
            &f.csrf,
            &p,
            "magic-link-request",
            "Sign in with a link",
            "We will email you a link that signs you in.",
            Some(e.message().to_owned()),
            &f.email,
        ),
    }
}

#[allow(clippy::too_many_arguments)]
fn confirm_form(
    app: &App,
    csrf: &str,
    p: &PageParams,
    path: &str,
    heading: &str,
    intro: &str,
    token: &str,
    button: &str,
) -> Response {
    form(
        app,
        StatusCode::OK,
        csrf,
        heading,
        Some(intro),
        None,
        format!("{path}{}", p.query()),
        vec![Hidden {
            name: "token",
            value: token.to_owned(),
        }],
        vec![],
        button,
        vec![],
    )
}

/// The page a magic link opens: one click signs in.
#[utoipa::path(get, path = "/magic-link", tag = "pages", params(LinkParams),
    responses((status = 200, description = "Confirmation", content_type = "text/html")))]
async fn magic_page(
    State(state): State<AppState>,
    jar: CookieJar,
    AxQuery(l): AxQuery<LinkParams>,
) -> Response {
    let p = l.page();
    let (app, jar, csrf) = page!(context(&state, &p, jar).await);
    (
        jar,
        confirm_form(
            &app,
            &csrf,
            &p,
            "magic-link",
            "Sign in",
            "Continue to sign in on this device.",
            l.token.as_deref().unwrap_or(""),
            "Sign in",
        ),
    )
        .into_response()
}

/// Sign in with the magic link.
#[utoipa::path(post, path = "/magic-link", tag = "pages", params(PageParams),
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "Signed in"), (status = 401, description = "Invalid or expired link", content_type = "text/html")))]
async fn magic_submit(
    State(state): State<AppState>,
    jar: CookieJar,
    client: Client,
    AxQuery(p): AxQuery<PageParams>,
    Form(f): Form<TokenForm>,
) -> Response {
    let app = page!(page_context(&state, &p).await);
    if !csrf_ok(&jar, &f.csrf) {
        return csrf_refused(&app);
    }
    let done = match state.limits.check_ip(Action::SignIn, client.0.ip()) {
        Ok(()) => {
            state
                .tessera
                .emails()
                .sign_in_with_magic_link(&f.token, &client.0)
                .await
        }
        Err(e) => Err(e),
    };
    match done.map(|d| d.outcome) {
        Ok(outcome) => signed_in_page(&state, jar, &app, &p, outcome),
        Err(e) => message(
            crate::error::status_of(e.kind()),
            &app.name,
            "Link not valid",
            "This sign-in link is invalid, was already used, or has expired. Ask for a new one.",
            Some(format!("magic-link-request{}", p.query())),
        ),
    }
}

/// The page an email-change link opens: one click confirms.
#[utoipa::path(get, path = "/confirm-email-change", tag = "pages", params(LinkParams),
    responses((status = 200, description = "Confirmation", content_type = "text/html")))]
async fn change_page(
    State(state): State<AppState>,
    jar: CookieJar,
    AxQuery(l): AxQuery<LinkParams>,
) -> Response {
    let p = l.page();
    let (app, jar, csrf) = page!(context(&state, &p, jar).await);
    (
        jar,
        confirm_form(
            &app,
            &csrf,
            &p,
            "confirm-email-change",
            "Confirm your new address",
            "Make this address the one of your account.",
            l.token.as_deref().unwrap_or(""),
            "Confirm",
        ),
    )
        .into_response()
}

/// Confirm the address change.
#[utoipa::path(post, path = "/confirm-email-change", tag = "pages", params(PageParams),
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "Changed", content_type = "text/html"), (status = 401, description = "Invalid or expired link", content_type = "text/html")))]
async fn change_submit(
    State(state): State<AppState>,
    jar: CookieJar,
    client: Client,
    AxQuery(p): AxQuery<PageParams>,
    Form(f): Form<TokenForm>,
) -> Response {
    let app = page!(page_context(&state, &p).await);
    if !csrf_ok(&jar, &f.csrf) {
        return csrf_refused(&app);
    }
    match state
        .tessera
        .emails()
        .confirm_email_change(&f.token, &client.0)
        .await
    {
        Ok(user) => message(
            StatusCode::OK,
            &app.name,
            "Address changed",
            &format!("Your account's address is now {}.", user.email),
            Some(format!("account{}", p.query())),
        ),
        Err(e) => message(
            crate::error::status_of(e.kind()),
            &app.name,
            "Link not valid",
            "This link is invalid, was already used, or has expired.",
            None,
        ),
    }
}
