//! CSRF protection of hosted forms (double submit): a random
//! `tessera_csrf` cookie (SameSite=Strict) issued with the page, echoed in
//! the form's `csrf` field, compared in constant time.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::SameSite;
use tessera_core::crypto::{b64url, ct_eq, random_bytes};
use tessera_core::model::App;
use tessera_core::{Error, ErrorKind};

use crate::error::ApiError;
use crate::extract::CSRF_COOKIE;
use crate::hosted::cookies::cookie;
use crate::hosted::render::message;
use crate::state::AppState;

/// A submitted form that carries the page's CSRF token (implemented with
/// [`csrf_forms!`] for structs with a `csrf: String` field).
pub(crate) trait CsrfField {
    /// The submitted token.
    fn csrf(&self) -> &str;
}

/// Implement [`CsrfField`] for form structs with a `csrf: String` field.
macro_rules! csrf_forms {
    ($($form:ty),+ $(,)?) => {
        $(impl $crate::hosted::CsrfField for $form {
            fn csrf(&self) -> &str {
                &self.csrf
            }
        })+
    };
}
pub(crate) use csrf_forms;

fn token(jar: &CookieJar) -> Option<String> {
    jar.get(CSRF_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| v.len() == 43)
}

/// The CSRF token of this browser, issuing a cookie if it has none.
pub(super) fn ensure(state: &AppState, jar: CookieJar) -> (CookieJar, String) {
    if let Some(t) = token(&jar) {
        return (jar, t);
    }
    let token = b64url(&random_bytes::<32>());
    let cookie = cookie(state, CSRF_COOKIE, token.clone())
        .same_site(SameSite::Strict)
        .build();
    (jar.add(cookie), token)
}

/// Whether `submitted` is this browser's token.
pub(super) fn matches(jar: &CookieJar, submitted: &str) -> bool {
    token(jar).is_some_and(|t| ct_eq(t.as_bytes(), submitted.as_bytes()))
}

/// The answer to a form that failed the check: a page to go back from.
pub(super) fn refused_page(app: &App) -> Response {
    message(
        StatusCode::FORBIDDEN,
        &app.name,
        "Form expired",
        "This form could not be verified (missing or wrong security token). Go back, reload the page and try again.",
        Some("sign-in".into()),
    )
}

/// The answer to a page script's JSON call that failed the check.
pub(super) fn refused_json(_: &App) -> Response {
    ApiError(Error::with_message(
        ErrorKind::Forbidden,
        "This page could not be verified (missing or wrong security token). Reload it and try again.",
    ))
    .into_response()
}
