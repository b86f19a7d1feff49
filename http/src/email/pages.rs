//! Hosted pages of the email flows: forgot/reset password, verify email,
//! sign in with an emailed code or link, confirm an address change.
//!
//! Pages reached from an emailed link never act on a GET, except email
//! verification, which is harmless to repeat: the magic link and the address
//! change ask for a click first, so a mail scanner that follows links cannot
//! sign anyone in or change anything.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tessera_core::model::App;
use tessera_core::{ErrorKind, SendFlow};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;

use crate::email::send::send_after_answer;
use crate::error::status_of;
use crate::extract::Client;
use crate::hosted::{
    Field, FormPage, Link, Page, PageForm, PageParams, PageQuery, csrf_forms, device_token,
    error_message, finish_sign_in, message, with_retry_after,
};
use crate::limits::Action;
use crate::openapi::handlers;
use crate::state::AppState;

/// Routes of this module.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    handlers![
        forgot_page, forgot_submit; reset_page, reset_submit; verify_page; code_page, code_send;
        code_verify; magic_request_page, magic_request_submit; magic_page, magic_submit;
        change_page, change_submit
    ]
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

impl PageQuery for LinkParams {
    fn params(&self) -> PageParams {
        PageParams {
            app: self.app.clone(),
            redirect_uri: None,
        }
    }
}

impl LinkParams {
    fn token(&self) -> &str {
        self.token.as_deref().unwrap_or("")
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

csrf_forms!(EmailForm, TokenForm, CodeForm);

fn sign_in_link(p: &PageParams) -> Link {
    Link {
        href: p.href("sign-in"),
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

/// A page that asks for an address and sends it something.
struct Ask {
    path: &'static str,
    heading: &'static str,
    intro: &'static str,
}

const FORGOT: Ask = Ask {
    path: "forgot-password",
    heading: "Reset your password",
    intro: "Enter your address and we will email you a link to choose a new password.",
};

const CODE: Ask = Ask {
    path: "email-code",
    heading: "Sign in with a code",
    intro: "We will email you a six-digit code.",
};

const MAGIC: Ask = Ask {
    path: "magic-link-request",
    heading: "Sign in with a link",
    intro: "We will email you a link that signs you in.",
};

/// The address form of `ask` (422 when it shows an error).
fn email_form(page: &Page, ask: &Ask, email: &str, error: Option<String>) -> Response {
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    FormPage::new(
        &page.app,
        &page.csrf,
        ask.heading,
        page.params.href(ask.path),
        "Send",
    )
    .intro(ask.intro)
    .error(error)
    .field(Field::email(email))
    .link(sign_in_link(&page.params))
    .render(status)
}

/// The empty address form of `ask`, with the CSRF cookie.
fn ask_page(page: Page, ask: &Ask) -> Response {
    let res = email_form(&page, ask, "", None);
    (page.jar, res).into_response()
}

/// Start `flow` for the submitted address and answer with `sent`; the form
/// again with the error if it cannot start.
async fn send(
    state: &AppState,
    client: &Client,
    PageForm { page, form }: &PageForm<EmailForm>,
    (ask, flow): (&Ask, SendFlow),
    sent: impl FnOnce() -> Response,
) -> Response {
    match send_after_answer(state, &page.app, flow, &form.email, client).await {
        Ok(()) => sent(),
        Err(e) => email_form(page, ask, &form.email, Some(e.message().to_owned())),
    }
}

/// "Forgot your password?" page.
#[utoipa::path(get, path = "/forgot-password", tag = "pages", params(PageParams),
    responses((status = 200, description = "Form", content_type = "text/html")))]
async fn forgot_page(page: Page) -> Response {
    ask_page(page, &FORGOT)
}

/// Send a reset link from the hosted page.
#[utoipa::path(post, path = "/forgot-password", tag = "pages", params(PageParams),
    request_body(content = EmailForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 202, description = "Sent if the account exists", content_type = "text/html")))]
async fn forgot_submit(
    State(state): State<AppState>,
    client: Client,
    submitted: PageForm<EmailForm>,
) -> Response {
    let flow = (&FORGOT, SendFlow::PasswordReset);
    send(&state, &client, &submitted, flow, || {
        check_your_email(&submitted.page.app)
    })
    .await
}

fn reset_form<Q>(
    page: &Page<Q>,
    status: StatusCode,
    token: &str,
    error: Option<String>,
) -> Response {
    FormPage::new(
        &page.app,
        &page.csrf,
        "Choose a new password",
        page.params.href("reset-password"),
        "Set password",
    )
    .intro("At least 8 characters. A few unusual words make a strong password.")
    .error(error)
    .hidden("token", token)
    .field(Field {
        name: "new_password",
        label: "New password",
        kind: "password",
        autocomplete: "new-password",
        inputmode: "text",
        value: String::new(),
    })
    .render(status)
}

/// The page a reset link opens.
#[utoipa::path(get, path = "/reset-password", tag = "pages", params(LinkParams),
    responses((status = 200, description = "New-password form", content_type = "text/html")))]
async fn reset_page(page: Page<LinkParams>) -> Response {
    let res = reset_form(&page, StatusCode::OK, page.query.token(), None);
    (page.jar, res).into_response()
}

/// Set the new password.
#[utoipa::path(post, path = "/reset-password", tag = "pages", params(PageParams),
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "Password changed", content_type = "text/html"),
              (status = 401, description = "Invalid or expired link", content_type = "text/html")))]
async fn reset_submit(
    State(state): State<AppState>,
    client: Client,
    PageForm { page, form }: PageForm<TokenForm>,
) -> Response {
    let password = form.new_password.as_deref().unwrap_or("");
    match state
        .tessera
        .emails()
        .reset_password(&form.token, password, &client.0)
        .await
    {
        Ok(()) => message(
            StatusCode::OK,
            &page.app.name,
            "Password changed",
            "Your password was changed and every session was signed out. Sign in with the new password.",
            Some(page.params.href("sign-in")),
        ),
        Err(e) if *e.kind() == ErrorKind::WeakPassword => reset_form(
            &page,
            StatusCode::UNPROCESSABLE_ENTITY,
            &form.token,
            Some(e.message().to_owned()),
        ),
        Err(e) => error_message(
            &e,
            &page.app.name,
            "Link not valid",
            "This link is invalid, was already used, or has expired. Ask for a new one.",
            Some(page.params.href("forgot-password")),
        ),
    }
}

/// The page a verification link opens: verifies the address.
#[utoipa::path(get, path = "/verify-email", tag = "pages", params(LinkParams),
    responses((status = 200, description = "Verified", content_type = "text/html"),
              (status = 401, description = "Invalid or expired link", content_type = "text/html")))]
async fn verify_page(State(state): State<AppState>, page: Page<LinkParams>) -> Response {
    match state
        .tessera
        .emails()
        .verify_email(page.query.token())
        .await
    {
        Ok(user) => message(
            StatusCode::OK,
            &page.app.name,
            "Email verified",
            &format!("Thank you: {} is verified.", user.email),
            Some(page.params.href("account")),
        ),
        Err(e) => error_message(
            &e,
            &page.app.name,
            "Link not valid",
            "This verification link is invalid, was already used, or has expired.",
            None,
        ),
    }
}

fn code_form(page: &Page, status: StatusCode, email: &str, error: Option<String>) -> Response {
    FormPage::new(
        &page.app,
        &page.csrf,
        "Enter your code",
        page.params.href("email-code-verify"),
        "Sign in",
    )
    .intro("If there is an account for that address, we emailed it a six-digit code. It works once, for 10 minutes.")
    .error(error)
    .hidden("email", email)
    .field(Field {
        name: "code",
        label: "Code",
        kind: "text",
        autocomplete: "one-time-code",
        inputmode: "numeric",
        value: String::new(),
    })
    .link(sign_in_link(&page.params))
    .render(status)
}

/// "Email me a code" page.
#[utoipa::path(get, path = "/email-code", tag = "pages", params(PageParams),
    responses((status = 200, description = "Form", content_type = "text/html")))]
async fn code_page(page: Page) -> Response {
    ask_page(page, &CODE)
}

/// Send a code, then show the code form (the same whether or not the account exists).
#[utoipa::path(post, path = "/email-code", tag = "pages", params(PageParams),
    request_body(content = EmailForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "Code form", content_type = "text/html")))]
async fn code_send(
    State(state): State<AppState>,
    client: Client,
    submitted: PageForm<EmailForm>,
) -> Response {
    let flow = (&CODE, SendFlow::SignInCode);
    send(&state, &client, &submitted, flow, || {
        code_form(&submitted.page, StatusCode::OK, &submitted.form.email, None)
    })
    .await
}

/// Sign in with the code.
#[utoipa::path(post, path = "/email-code-verify", tag = "pages", params(PageParams),
    request_body(content = CodeForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "Signed in"), (status = 401, description = "Code form again", content_type = "text/html")))]
async fn code_verify(
    State(state): State<AppState>,
    client: Client,
    PageForm { page, form }: PageForm<CodeForm>,
) -> Response {
    let result = state
        .guard(
            Action::SignIn,
            &client.0,
            Some((&page.app, &form.email, device_token(None, &page.jar))),
            state
                .tessera
                .emails()
                .sign_in_with_code(&page.app, &form.email, &form.code, &client.0),
        )
        .await;
    match result {
        Ok(outcome) => finish_sign_in(&state, page.jar, &page.params, outcome),
        Err(e) => {
            let error = "That code is not right, or it has expired. Check the latest email, or ask for a new code.";
            let res = code_form(&page, status_of(e.kind()), &form.email, Some(error.into()));
            with_retry_after(&e, res)
        }
    }
}

/// "Email me a sign-in link" page.
#[utoipa::path(get, path = "/magic-link-request", tag = "pages", params(PageParams),
    responses((status = 200, description = "Form", content_type = "text/html")))]
async fn magic_request_page(page: Page) -> Response {
    ask_page(page, &MAGIC)
}

/// Send a sign-in link from the hosted page.
#[utoipa::path(post, path = "/magic-link-request", tag = "pages", params(PageParams),
    request_body(content = EmailForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 202, description = "Sent if the account exists", content_type = "text/html")))]
async fn magic_request_submit(
    State(state): State<AppState>,
    client: Client,
    submitted: PageForm<EmailForm>,
) -> Response {
    let flow = (&MAGIC, SendFlow::MagicLink { redirect_uri: None });
    send(&state, &client, &submitted, flow, || {
        check_your_email(&submitted.page.app)
    })
    .await
}

/// A page that only asks for a click, posting the link's token to `path`.
fn confirm_page(
    page: Page<LinkParams>,
    path: &str,
    heading: &str,
    intro: &str,
    button: &str,
) -> Response {
    let res = FormPage::new(
        &page.app,
        &page.csrf,
        heading,
        page.params.href(path),
        button,
    )
    .intro(intro)
    .hidden("token", page.query.token())
    .render(StatusCode::OK);
    (page.jar, res).into_response()
}

/// The page a magic link opens: one click signs in.
#[utoipa::path(get, path = "/magic-link", tag = "pages", params(LinkParams),
    responses((status = 200, description = "Confirmation", content_type = "text/html")))]
async fn magic_page(page: Page<LinkParams>) -> Response {
    confirm_page(
        page,
        "magic-link",
        "Sign in",
        "Continue to sign in on this device.",
        "Sign in",
    )
}

/// Sign in with the magic link.
#[utoipa::path(post, path = "/magic-link", tag = "pages", params(PageParams),
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "Signed in"), (status = 401, description = "Invalid or expired link", content_type = "text/html")))]
async fn magic_submit(
    State(state): State<AppState>,
    client: Client,
    PageForm { page, form }: PageForm<TokenForm>,
) -> Response {
    let done = state
        .guard(
            Action::SignIn,
            &client.0,
            None,
            state
                .tessera
                .emails()
                .sign_in_with_magic_link(&form.token, &client.0),
        )
        .await;
    match done.map(|d| d.outcome) {
        Ok(outcome) => finish_sign_in(&state, page.jar, &page.params, outcome),
        Err(e) => error_message(
            &e,
            &page.app.name,
            "Link not valid",
            "This sign-in link is invalid, was already used, or has expired. Ask for a new one.",
            Some(page.params.href("magic-link-request")),
        ),
    }
}

/// The page an email-change link opens: one click confirms.
#[utoipa::path(get, path = "/confirm-email-change", tag = "pages", params(LinkParams),
    responses((status = 200, description = "Confirmation", content_type = "text/html")))]
async fn change_page(page: Page<LinkParams>) -> Response {
    confirm_page(
        page,
        "confirm-email-change",
        "Confirm your new address",
        "Make this address the one of your account.",
        "Confirm",
    )
}

/// Confirm the address change.
#[utoipa::path(post, path = "/confirm-email-change", tag = "pages", params(PageParams),
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "Changed", content_type = "text/html"), (status = 401, description = "Invalid or expired link", content_type = "text/html")))]
async fn change_submit(
    State(state): State<AppState>,
    client: Client,
    PageForm { page, form }: PageForm<TokenForm>,
) -> Response {
    match state
        .tessera
        .emails()
        .confirm_email_change(&form.token, &client.0)
        .await
    {
        Ok(user) => message(
            StatusCode::OK,
            &page.app.name,
            "Address changed",
            &format!("Your account's address is now {}.", user.email),
            Some(page.params.href("account")),
        ),
        Err(e) => error_message(
            &e,
            &page.app.name,
            "Link not valid",
            "This link is invalid, was already used, or has expired.",
            None,
        ),
    }
}
