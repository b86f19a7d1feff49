//! The hosted sign-in and sign-up pages (`/sign-in`, `/sign-up`). The
//! sign-in page also shows the passkey button and the app's OAuth providers,
//! which those capabilities provide.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tessera_core::{SignInOutcome, SignUpOutcome};
use utoipa_axum::router::OpenApiRouter;

use crate::error::status_of;
use crate::extract::Client;
use crate::hosted::{
    Page, PageForm, PageParams, csrf_forms, device_cookie, device_token, finish_sign_in, html,
    message, with_retry_after,
};
use crate::limits::Action;
use crate::metrics;
use crate::oauth::{ProviderButton, provider_buttons};
use crate::openapi::handlers;
use crate::passkeys::SignInButton;
use crate::state::AppState;

/// Routes of this module.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    handlers![sign_in_page, sign_in_submit; sign_up_page, sign_up_submit]
}

#[derive(Template)]
#[template(path = "passwords/sign_in.html")]
struct SignInPage<'a> {
    app_name: &'a str,
    action: String,
    sign_up_href: String,
    forgot_href: String,
    code_href: String,
    magic_href: String,
    csrf: &'a str,
    email: &'a str,
    error: Option<String>,
    /// The passkey button (when the app allows passkeys).
    passkey: Option<SignInButton>,
    /// "Continue with …" links of the app's enabled OAuth providers.
    providers: Vec<ProviderButton>,
}

/// The sign-in page of `page`, with `email` filled in and an error if any.
async fn sign_in_form(
    state: &AppState,
    page: &Page,
    status: StatusCode,
    email: &str,
    error: Option<String>,
) -> Response {
    let p = &page.params;
    let form = SignInPage {
        app_name: &page.app.name,
        action: p.href("sign-in"),
        sign_up_href: p.href("sign-up"),
        forgot_href: p.href("forgot-password"),
        code_href: p.href("email-code"),
        magic_href: p.href("magic-link-request"),
        csrf: &page.csrf,
        email,
        error,
        passkey: SignInButton::for_app(&page.app, p, &page.csrf),
        providers: provider_buttons(state, &page.app, p).await,
    };
    html(status, &form)
}

#[derive(Template)]
#[template(path = "passwords/sign_up.html")]
struct SignUpPage<'a> {
    app_name: &'a str,
    action: String,
    sign_in_href: String,
    csrf: &'a str,
    email: &'a str,
    name: &'a str,
    error: Option<String>,
}

/// The sign-up page of `page`, with the fields filled in and an error if any.
fn sign_up_form(
    page: &Page,
    status: StatusCode,
    email: &str,
    name: &str,
    error: Option<String>,
) -> Response {
    let form = SignUpPage {
        app_name: &page.app.name,
        action: page.params.href("sign-up"),
        sign_in_href: page.params.href("sign-in"),
        csrf: &page.csrf,
        email,
        name,
        error,
    };
    html(status, &form)
}

/// Hosted sign-in page.
#[utoipa::path(get, path = "/sign-in", tag = "pages", params(PageParams),
    responses((status = 200, description = "Sign-in form", content_type = "text/html"),
              (status = 400, description = "Unregistered redirect URI", content_type = "text/html")))]
async fn sign_in_page(State(state): State<AppState>, page: Page) -> Response {
    let res = sign_in_form(&state, &page, StatusCode::OK, "", None).await;
    (page.jar, res).into_response()
}

/// The sign-in form.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct SignInForm {
    csrf: String,
    email: String,
    password: String,
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

csrf_forms!(SignInForm, SignUpForm);

/// Submit the hosted sign-in form.
#[utoipa::path(post, path = "/sign-in", tag = "pages", params(PageParams),
    request_body(content = SignInForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "Signed in: to the redirect URI or the account page"),
              (status = 401, description = "Form shown again with an error", content_type = "text/html"),
              (status = 403, description = "CSRF check failed", content_type = "text/html")))]
async fn sign_in_submit(
    State(state): State<AppState>,
    client: Client,
    PageForm { page, form }: PageForm<SignInForm>,
) -> Response {
    let device = device_token(None, &page.jar).map(str::to_owned);
    let result = state
        .guard(
            Action::SignIn,
            &client.0,
            Some((&page.app, &form.email, device.as_deref())),
            state.tessera.passwords().sign_in_with_device(
                &page.app,
                &form.email,
                &form.password,
                device.as_deref(),
                &client.0,
            ),
        )
        .await;
    metrics::sign_in("password", &result);
    match result {
        Ok(done) => {
            let jar = page.jar.add(device_cookie(&state, done.device_token));
            finish_sign_in(&state, jar, &page.params, done.outcome)
        }
        Err(e) => {
            let res = sign_in_form(
                &state,
                &page,
                status_of(e.kind()),
                &form.email,
                Some(e.message().to_owned()),
            )
            .await;
            with_retry_after(&e, res)
        }
    }
}

/// Hosted sign-up page.
#[utoipa::path(get, path = "/sign-up", tag = "pages", params(PageParams),
    responses((status = 200, description = "Sign-up form", content_type = "text/html")))]
async fn sign_up_page(page: Page) -> Response {
    let res = sign_up_form(&page, StatusCode::OK, "", "", None);
    (page.jar, res).into_response()
}

/// Submit the hosted sign-up form.
#[utoipa::path(post, path = "/sign-up", tag = "pages", params(PageParams),
    request_body(content = SignUpForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "Signed up and in"),
              (status = 422, description = "Form shown again with an error", content_type = "text/html"),
              (status = 403, description = "CSRF check failed", content_type = "text/html")))]
async fn sign_up_submit(
    State(state): State<AppState>,
    client: Client,
    PageForm { page, form }: PageForm<SignUpForm>,
) -> Response {
    let name = form.name.as_deref();
    let result = state
        .guard(
            Action::SignUp,
            &client.0,
            None,
            state.tessera.passwords().sign_up(
                &page.app,
                &form.email,
                &form.password,
                name,
                &client.0,
            ),
        )
        .await;
    match result {
        Ok(SignUpOutcome::SignedIn(s)) => {
            finish_sign_in(&state, page.jar, &page.params, SignInOutcome::Complete(s))
        }
        Ok(SignUpOutcome::VerificationRequired) => message(
            StatusCode::ACCEPTED,
            &page.app.name,
            "Check your email",
            "If this address can be used, we sent it a link to finish creating your account.",
            None,
        ),
        Err(e) => {
            let error = Some(e.message().to_owned());
            let res = sign_up_form(
                &page,
                status_of(e.kind()),
                &form.email,
                name.unwrap_or(""),
                error,
            );
            with_retry_after(&e, res)
        }
    }
}
