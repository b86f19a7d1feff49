//! The end of every hosted sign-in (password, email code, magic link,
//! OAuth, passkey, the MFA step): session cookies and the way on, or the MFA
//! step when a second factor is needed.

use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use tessera_core::{AuthSession, MFA_TTL_SECS, SignInOutcome};

use crate::hosted::cookies::{MFA_COOKIE, mfa_cookie, with_session_cookies};
use crate::hosted::page::PageParams;
use crate::state::AppState;

/// Where a finished sign-in goes: the redirect URI (checked against the
/// app's registered URIs when the page was resolved), or the account page.
pub(crate) fn next_location(p: &PageParams) -> String {
    match &p.redirect_uri {
        Some(uri) => uri.clone(),
        None => p.href("account"),
    }
}

/// `jar` with the session cookies of `s`, and the MFA step's cookie cleared
/// when the browser has one (it is spent).
pub(crate) fn signed_in_jar(state: &AppState, jar: CookieJar, s: &AuthSession) -> CookieJar {
    let had_mfa = jar.get(MFA_COOKIE).is_some();
    let jar = with_session_cookies(state, jar, s);
    if had_mfa {
        jar.add(mfa_cookie(state, String::new(), 0))
    } else {
        jar
    }
}

/// The answer of a hosted sign-in: cookies and a redirect to
/// [`next_location`], or, when a second factor is needed, the `mfa_token` in
/// a short-lived cookie (never in a URL) and a redirect to the MFA step.
pub(crate) fn finish_sign_in(
    state: &AppState,
    jar: CookieJar,
    p: &PageParams,
    outcome: SignInOutcome,
) -> Response {
    match outcome {
        SignInOutcome::Complete(s) => (
            signed_in_jar(state, jar, &s),
            Redirect::to(&next_location(p)),
        )
            .into_response(),
        SignInOutcome::MfaRequired(c) => {
            let jar = jar.add(mfa_cookie(state, c.mfa_token, MFA_TTL_SECS));
            (jar, Redirect::to(&p.href("mfa"))).into_response()
        }
    }
}
