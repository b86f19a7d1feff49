//! The steps of an external sign-in that the JSON routes and the hosted
//! pages share: the start (checks, the provider's URL, the browser-binding
//! cookie) and the callback (the core's verdict turned into a redirect, a
//! page or session cookies).

use axum::extract::{FromRequestParts, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use tessera_core::model::App;
use tessera_core::{CallbackParams, CallbackResult, Error, ErrorKind, StartOptions};

use crate::error::ApiError;
use crate::extract::{APP_HEADER, Caller, Client};
use crate::hosted::{PageParams, cookie, error_message, finish_sign_in};
use crate::limits::Action;
use crate::metrics;
use crate::oauth::dto::{AuthorizationView, CallbackQuery, StartQuery};
use crate::state::AppState;

/// Cookie binding a hosted flow to its browser (holds the flow's `state`).
const OAUTH_COOKIE: &str = "tessera_oauth";

/// A 302 to `url` (`docs/contract.md` names 302 for the provider hops).
pub(super) fn found(url: &str) -> Response {
    match HeaderValue::from_str(url) {
        Ok(v) => (StatusCode::FOUND, [(header::LOCATION, v)]).into_response(),
        Err(_) => ApiError(Error::internal("unencodable redirect")).into_response(),
    }
}

pub(super) fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

pub(super) fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

pub(super) async fn resolve_app(
    state: &AppState,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Result<App, Error> {
    let named = query.or_else(|| {
        headers
            .get(APP_HEADER)
            .map(|v| v.to_str().unwrap_or("\u{0}"))
    });
    state.tessera.apps().resolve_or_default(named).await
}

pub(super) fn binding_cookie(state: &AppState, value: String, max_age: i64) -> Cookie<'static> {
    let same_site = if state.options.secure_cookies() {
        SameSite::None
    } else {
        SameSite::Lax
    };
    cookie(state, OAUTH_COOKIE, value)
        .same_site(same_site)
        .max_age(cookie::time::Duration::seconds(max_age))
        .build()
}

pub(super) async fn do_start(
    state: &AppState,
    provider: &str,
    q: StartQuery,
    hosted_page: bool,
    req: Request,
) -> Result<Response, Error> {
    let (mut parts, _) = req.into_parts();
    let client = Client::from_request_parts(&mut parts, state)
        .await
        .map_err(|e| e.0)?;
    state.check_limits(Action::SignIn, &client.0, None).await?;
    if q.code_challenge_method
        .as_deref()
        .is_some_and(|m| m != "S256")
    {
        return Err(Error::invalid(
            "code_challenge_method",
            "only S256 is supported",
        ));
    }
    if q.code_challenge_method.is_some() && q.code_challenge.is_none() {
        return Err(Error::invalid(
            "code_challenge",
            "code_challenge is missing",
        ));
    }
    let app = resolve_app(state, q.app.as_deref(), &parts.headers).await?;
    let link_user = if q.link.unwrap_or(false) {
        let caller = Caller::from_request_parts(&mut parts, state)
            .await
            .map_err(|e| e.0)?;
        if caller.user.pool_id != app.pool_id {
            return Err(Error::new(ErrorKind::Forbidden));
        }
        Some(caller.user.id)
    } else {
        None
    };
    let hosted = hosted_page || q.redirect_uri.is_none();
    let options = StartOptions {
        redirect_uri: q.redirect_uri,
        hosted,
        code_challenge: q.code_challenge,
        link_user,
    };
    let auth = state
        .tessera
        .oauth()
        .start(&app, provider, &options, &client.0)
        .await?;
    let mut res = if wants_json(&parts.headers) && !hosted_page {
        axum::Json(AuthorizationView {
            authorization_url: auth.authorization_url.clone(),
        })
        .into_response()
    } else {
        found(&auth.authorization_url)
    };
    if let Some(s) = auth.browser_state {
        let c = binding_cookie(state, s, 600);
        if let Ok(v) = HeaderValue::from_str(&c.to_string()) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// `base` joined with a relative reference of the hosted pages (`account?…`).
pub(super) fn absolute(state: &AppState, location: &str) -> String {
    if location.contains("://") || location.starts_with('/') {
        location.to_owned()
    } else {
        format!("{}/{location}", state.options.base_url)
    }
}

pub(super) fn with_query(uri: &str, key: &str, value: &str) -> String {
    let sep = if uri.contains('?') { '&' } else { '?' };
    let pair = serde_urlencoded::to_string([(key, value)]).unwrap_or_default();
    format!("{uri}{sep}{pair}")
}

pub(super) fn clear_binding(state: &AppState, res: &mut Response) {
    let c = binding_cookie(state, String::new(), 0);
    if let Ok(v) = HeaderValue::from_str(&c.to_string()) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}

pub(super) async fn do_callback(
    state: AppState,
    provider: String,
    jar: CookieJar,
    headers: HeaderMap,
    client: Client,
    q: CallbackQuery,
) -> Response {
    let html = wants_html(&headers);
    let fail_early = |e: Error| {
        if html {
            error_page("Tessera", &e)
        } else {
            ApiError(e).into_response()
        }
    };
    if let Err(e) = state
        .limits
        .check_ip(&state.tessera, Action::SignIn, &client.0)
        .await
    {
        return fail_early(e);
    }
    let jar_had_binding = jar.get(OAUTH_COOKIE).is_some();
    let params = CallbackParams {
        state: q.state,
        code: q.code,
        error: q.error,
        user: q.user,
        browser_state: jar.get(OAUTH_COOKIE).map(|c| c.value().to_owned()),
    };
    let outcome = match state
        .tessera
        .oauth()
        .callback(&provider, &params, &client.0)
        .await
    {
        Ok(o) => o,
        Err(e) => {
            metrics::sign_in_outcome("oauth", e.code());
            return fail_early(e);
        }
    };
    let app = outcome.app;
    let mut res = match (outcome.hosted, outcome.result) {
        (_, Err(e)) => {
            metrics::sign_in_outcome("oauth", e.code());
            match (&outcome.redirect_uri, outcome.hosted) {
                (Some(uri), false) => found(&with_query(uri, "error", e.code())),
                _ => error_page(&app.name, &e),
            }
        }
        (_, Ok(CallbackResult::Code(code))) => {
            metrics::sign_in_outcome("oauth", "succeeded");
            match &outcome.redirect_uri {
                Some(uri) => found(&with_query(uri, "code", &code)),
                None => {
                    ApiError(Error::internal("API flow without a redirect URI")).into_response()
                }
            }
        }
        (_, Ok(CallbackResult::Linked(identity))) => {
            match (&outcome.redirect_uri, outcome.hosted) {
                (Some(uri), false) => found(&with_query(uri, "linked", &identity.provider)),
                (Some(uri), true) => Redirect::to(uri).into_response(),
                (None, _) => Redirect::to(&absolute(
                    &state,
                    &format!("account{}", page_params(&app, None).query()),
                ))
                .into_response(),
            }
        }
        (_, Ok(CallbackResult::SignedIn(signed_in))) => {
            metrics::sign_in_outcome("oauth", "succeeded");
            let p = page_params(&app, outcome.redirect_uri.clone());
            let mut res = finish_sign_in(&state, jar, &p, signed_in);
            // The hosted pages answer relative redirects (`account?…`,
            // `mfa?…`); from under /v1/… they must be made absolute.
            if let Some(loc) = res
                .headers()
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(|l| absolute(&state, l))
                && let Ok(v) = HeaderValue::from_str(&loc)
            {
                res.headers_mut().insert(header::LOCATION, v);
            }
            res
        }
    };
    if jar_had_binding {
        clear_binding(&state, &mut res);
    }
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

pub(super) fn page_params(app: &App, redirect_uri: Option<String>) -> PageParams {
    PageParams {
        app: Some(app.slug.clone()),
        redirect_uri,
    }
}

/// The page of a failed hosted flow: the error's own message.
pub(super) fn error_page(app_name: &str, e: &Error) -> Response {
    error_message(e, app_name, "Sign-in failed", e.message(), None)
}
