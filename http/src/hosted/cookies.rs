//! The cookies hosted pages set: the session cookies of a sign-in, the MFA
//! step's cookie, and the common attributes of all of them (HttpOnly,
//! `Path=/`, `Secure` unless in development or on plain-HTTP localhost).

use axum::http::{HeaderMap, HeaderValue, header};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use cookie::CookieBuilder;
use tessera_core::AuthSession;

use crate::extract::{ACCESS_COOKIE, DEVICE_COOKIE, SESSION_COOKIE};
use crate::state::AppState;

/// The cookie carrying a hosted sign-in's `mfa_token` to the MFA step.
pub(crate) const MFA_COOKIE: &str = "tessera_mfa";

/// A cookie with the attributes every cookie of the router has (HttpOnly,
/// `Path=/`, `Secure` per [`HttpOptions::secure_cookies`](crate::state::HttpOptions::secure_cookies));
/// the caller adds `SameSite` and a lifetime.
pub(crate) fn cookie(
    state: &AppState,
    name: &'static str,
    value: String,
) -> CookieBuilder<'static> {
    Cookie::build((name, value))
        .http_only(true)
        .secure(state.options.secure_cookies())
        .path("/")
}

fn session_cookie(
    state: &AppState,
    name: &'static str,
    value: String,
    max_age: i64,
) -> Cookie<'static> {
    let mut c = cookie(state, name, value)
        .same_site(SameSite::Lax)
        .max_age(cookie::time::Duration::seconds(max_age))
        .build();
    if let Some(d) = &state.options.cookie_domain {
        c.set_domain(d.clone());
    }
    c
}

/// `jar` with the session cookies of a fresh sign-in (`tessera_session`
/// for the session's lifetime, `tessera_at` for the access token's).
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

/// The `tessera_device` cookie carrying a password sign-in's device token
/// (HttpOnly, `Secure` unless in development, `SameSite=Lax`, `Path=/`, for
/// the token's 90 days; no `Domain`: it is this server's alone).
pub(crate) fn device_cookie(state: &AppState, token: String) -> Cookie<'static> {
    let max_age = tessera_core::devices::DEVICE_TOKEN_TTL.num_seconds();
    cookie(state, DEVICE_COOKIE, token)
        .same_site(SameSite::Lax)
        .max_age(cookie::time::Duration::seconds(max_age))
        .build()
}

/// The device token a request presents: `explicit` (a JSON body's field)
/// first, else the `tessera_device` cookie.
pub(crate) fn device_token<'a>(explicit: Option<&'a str>, jar: &'a CookieJar) -> Option<&'a str> {
    explicit.or_else(|| jar.get(DEVICE_COOKIE).map(|c| c.value()))
}

/// Expire the session cookies (on sign-out, hosted or JSON).
pub(crate) fn clear_session_cookies(state: &AppState, headers: &mut HeaderMap) {
    for name in [SESSION_COOKIE, ACCESS_COOKIE] {
        let c = session_cookie(state, name, String::new(), 0);
        if let Ok(v) = HeaderValue::from_str(&c.to_string()) {
            headers.append(header::SET_COOKIE, v);
        }
    }
}

/// The MFA step's cookie (`SameSite=Lax`: the step is reached by redirect);
/// an empty value with `max_age` 0 clears it.
pub(crate) fn mfa_cookie(state: &AppState, value: String, max_age: i64) -> Cookie<'static> {
    cookie(state, MFA_COOKIE, value)
        .same_site(SameSite::Lax)
        .max_age(cookie::time::Duration::seconds(max_age))
        .build()
}
