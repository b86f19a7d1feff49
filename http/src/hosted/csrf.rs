//! CSRF protection of hosted forms, bound to the server (issue 15, item 3).
//!
//! A page gives the browser a random *pre-session id* in a cookie
//! (SameSite=Strict; `__Host-tessera_csrf` whenever cookies are `Secure`,
//! which also forbids a `Domain` and requires `Path=/`; plain `tessera_csrf`
//! only in development or on plain-HTTP localhost, where `__Host-` cookies
//! cannot be set) and puts the token `base64url(HMAC(pre-session id))` in the
//! form's `csrf` field, the MAC keyed by the core under the key-encryption
//! key ([`tessera_core::Tessera::csrf_mac`]). A submission passes when the
//! field is the MAC of the cookie's id (constant-time compare): a cookie and
//! token pair of the attacker's choosing no longer works, since only the
//! server can compute the token of an id. On top, every hosted form POST is
//! refused when the browser says it comes from another site
//! (`Sec-Fetch-Site: cross-site`, or an `Origin` of another site).

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::SameSite;
use tessera_core::crypto::{b64url, ct_eq, random_bytes};
use tessera_core::model::App;
use tessera_core::{Error, ErrorKind};

use crate::error::ApiError;
use crate::extract::{CSRF_COOKIE, HOST_CSRF_COOKIE};
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

/// The name of the pre-session cookie under `state`'s options.
pub(crate) fn cookie_name(state: &AppState) -> &'static str {
    if state.options.secure_cookies() {
        HOST_CSRF_COOKIE
    } else {
        CSRF_COOKIE
    }
}

fn pre_session(state: &AppState, jar: &CookieJar) -> Option<String> {
    jar.get(cookie_name(state))
        .map(|c| c.value().to_owned())
        .filter(|v| v.len() == 43)
}

fn token_of(state: &AppState, pre_session: &str) -> String {
    b64url(&state.tessera.csrf_mac(pre_session))
}

/// The CSRF token of this browser's pre-session, issuing the pre-session
/// cookie if it has none.
pub(super) fn ensure(state: &AppState, jar: CookieJar) -> (CookieJar, String) {
    if let Some(id) = pre_session(state, &jar) {
        let token = token_of(state, &id);
        return (jar, token);
    }
    let id = b64url(&random_bytes::<32>());
    let token = token_of(state, &id);
    let cookie = cookie(state, cookie_name(state), id)
        .same_site(SameSite::Strict)
        .build();
    (jar.add(cookie), token)
}

/// Whether `submitted` is the token of this browser's pre-session.
pub(super) fn matches(state: &AppState, jar: &CookieJar, submitted: &str) -> bool {
    pre_session(state, jar)
        .is_some_and(|id| ct_eq(token_of(state, &id).as_bytes(), submitted.as_bytes()))
}

/// Whether the browser says the request comes from another site:
/// `Sec-Fetch-Site: cross-site`, or (from browsers that do not send it) an
/// `Origin` whose site differs from the base URL's. Same-origin and
/// same-site requests pass, and so do requests that send neither header.
/// "Site" is approximated as scheme and the host's last two labels.
pub(super) fn cross_site(state: &AppState, headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return site.as_bytes().eq_ignore_ascii_case(b"cross-site");
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return false;
    };
    let origin = origin.to_str().unwrap_or("null");
    site_of(origin).is_none_or(|o| Some(o) != site_of(&state.options.base_url))
}

/// `(scheme, last two host labels)` of a URL or origin, lowercased.
fn site_of(url: &str) -> Option<(String, String)> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next()?,
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    if host.is_empty() {
        return None;
    }
    let labels: Vec<&str> = host.split('.').collect();
    let site = if host.parse::<std::net::IpAddr>().is_ok() || labels.len() < 2 {
        host.to_owned()
    } else {
        labels[labels.len() - 2..].join(".")
    };
    Some((scheme.to_ascii_lowercase(), site.to_ascii_lowercase()))
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
