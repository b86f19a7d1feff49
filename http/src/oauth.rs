//! Sign-in through external OAuth 2.0 / OpenID Connect providers over HTTP:
//! start (JSON or hosted), the provider's callback (GET, or POST for Apple's
//! `form_post`), the code exchange, and the caller's linked identities.
//!
//! Route names follow DESIGN.md 4.1. Flow state lives in the store (see
//! `tessera_core::OAuth`); hosted and link flows are also bound to the
//! browser that started them by a short-lived `tessera_oauth` cookie holding
//! the `state`, checked at the callback (login CSRF, identity planting). Providers reach the callback by
//! top-level navigation, so the cookie is `SameSite=Lax`, or `None` (with
//! `Secure`) so that Apple's cross-site `form_post` carries it too.

use axum::Form;
use axum::extract::{FromRequestParts, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::{Deserialize, Serialize};
use tessera_core::model::{App, Identity};
use tessera_core::{CallbackParams, CallbackResult, Error, ErrorKind, StartOptions};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::extract::{APP_HEADER, Caller, Client, Json, Query};
use crate::limits::Action;
use crate::pages::PageParams;
use crate::state::AppState;

/// Cookie binding a hosted flow to its browser (holds the flow's `state`).
pub(crate) const OAUTH_COOKIE: &str = "tessera_oauth";

/// Routes of this module.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start))
        .routes(routes!(callback_get, callback_post))
        .routes(routes!(exchange))
        .routes(routes!(hosted_start))
        .routes(routes!(list_identities))
        .routes(routes!(unlink_identity))
}

/// A "Continue with …" link on the hosted sign-in page.
#[derive(Debug, Clone)]
pub(crate) struct ProviderButton {
    /// Provider name.
    pub(crate) name: String,
    /// Button label.
    pub(crate) label: String,
    /// Relative link to the hosted start.
    pub(crate) href: String,
}

/// The buttons of `app`'s enabled providers (none if listing fails: the
/// page still works with the other methods).
pub(crate) async fn provider_buttons(
    state: &AppState,
    app: &App,
    p: &PageParams,
) -> Vec<ProviderButton> {
    let list = match state.tessera.oauth().enabled_providers(app).await {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(error = %e, "could not list OAuth providers");
            return Vec::new();
        }
    };
    let q = PageParams {
        app: Some(app.slug.clone()),
        redirect_uri: p.redirect_uri.clone(),
    }
    .query();
    list.into_iter()
        .map(|v| ProviderButton {
            href: format!("sign-in/oauth/{}{q}", v.provider),
            name: v.provider,
            label: v.display_name,
        })
        .collect()
}

/// A 302 to `url` (DESIGN.md 4.1 names 302 for the provider hops).
fn found(url: &str) -> Response {
    match HeaderValue::from_str(url) {
        Ok(v) => (StatusCode::FOUND, [(header::LOCATION, v)]).into_response(),
        Err(_) => ApiError(Error::internal("unencodable redirect")).into_response(),
    }
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

/// Query of the start route.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct StartQuery {
    /// App id or slug (or the `X-Tessera-App` header; the default app otherwise).
    app: Option<String>,
    /// Where the flow ends (a registered URI): it receives `?code=`. Without
    /// it the flow is a hosted one and ends with session cookies.
    redirect_uri: Option<String>,
    /// The app's PKCE challenge (S256); the exchange then needs the verifier.
    code_challenge: Option<String>,
    /// Must be `S256` when given.
    code_challenge_method: Option<String>,
    /// `true`: link the provider to the signed-in caller instead of signing in.
    link: Option<bool>,
}

/// The JSON answer of a start.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AuthorizationView {
    /// Send the browser here.
    authorization_url: String,
}

async fn resolve_app(
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

fn binding_cookie(state: &AppState, value: String, max_age: i64) -> Cookie<'static> {
    let secure = state.options.secure_cookies();
    Cookie::build((OAUTH_COOKIE, value))
        .http_only(true)
        .secure(secure)
        .same_site(if secure {
            SameSite::None
        } else {
            SameSite::Lax
        })
        .path("/")
        .max_age(cookie::time::Duration::seconds(max_age))
        .build()
}

async fn do_start(
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
    state.limits.check_ip(Action::SignIn, client.0.ip())?;
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

/// Start signing in through a provider: 302 to its authorization page, or
/// `{"authorization_url"}` with `Accept: application/json`.
#[utoipa::path(get, path = "/v1/sign-in/oauth/{provider}", tag = "sign-in",
    params(("provider" = String, Path, description = "Provider name configured for the app"), StartQuery,
        ("X-Tessera-App" = Option<String>, Header, description = "App id or slug")),
    responses(
        (status = 302, description = "To the provider"),
        (status = 200, description = "With `Accept: application/json`", body = AuthorizationView),
        (status = 401, description = "`link=true` without a signed-in caller", body = ErrorEnvelope),
        (status = 403, description = "OAuth sign-in is not enabled for the app", body = ErrorEnvelope),
        (status = 404, description = "No such provider", body = ErrorEnvelope),
        (status = 422, description = "Unregistered redirect URI or bad code challenge", body = ErrorEnvelope),
        (status = 429, description = "Rate limited", body = ErrorEnvelope),
        (status = 502, description = "The provider's discovery failed", body = ErrorEnvelope)))]
async fn start(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    Query(q): Query<StartQuery>,
    req: Request,
) -> ApiResult<Response> {
    Ok(do_start(&state, &provider, q, false, req).await?)
}

/// Hosted-page start (the sign-in page's provider buttons): 302 to the
/// provider; the callback ends with session cookies.
#[utoipa::path(get, path = "/sign-in/oauth/{provider}", tag = "pages",
    params(("provider" = String, Path, description = "Provider name"), PageParams),
    responses((status = 302, description = "To the provider"),
              (status = 400, description = "Unknown app or unregistered redirect URI", content_type = "text/html")))]
async fn hosted_start(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    axum::extract::Query(p): axum::extract::Query<PageParams>,
    req: Request,
) -> Response {
    let app = match crate::pages::page_context(&state, &p).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let q = StartQuery {
        app: Some(app.id.to_string()),
        redirect_uri: p.redirect_uri.clone(),
        ..Default::default()
    };
    match do_start(&state, &provider, q, true, req).await {
        Ok(r) => r,
        Err(e) => error_page(&app.name, &e),
    }
}

fn error_page(app_name: &str, e: &Error) -> Response {
    let status = crate::error::status_of(e.kind());
    let mut res = crate::pages::message(status, app_name, "Sign-in failed", e.message(), None);
    if let ErrorKind::RateLimited { retry_after } = e.kind() {
        res.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(retry_after.as_secs().max(1)),
        );
    }
    res
}

/// What providers send to the callback (query or form).
#[derive(Debug, Default, Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub(crate) struct CallbackQuery {
    /// The `state` of the start.
    state: Option<String>,
    /// The authorization code.
    code: Option<String>,
    /// An OAuth error (`access_denied`, …).
    error: Option<String>,
    /// Apple: the user's name, on the first sign-in only (JSON).
    user: Option<String>,
}

/// `base` joined with a relative reference of the hosted pages (`account?…`).
fn absolute(state: &AppState, location: &str) -> String {
    if location.contains("://") || location.starts_with('/') {
        location.to_owned()
    } else {
        format!("{}/{location}", state.options.base_url)
    }
}

fn with_query(uri: &str, key: &str, value: &str) -> String {
    let sep = if uri.contains('?') { '&' } else { '?' };
    let pair = serde_urlencoded::to_string([(key, value)]).unwrap_or_default();
    format!("{uri}{sep}{pair}")
}

fn clear_binding(state: &AppState, res: &mut Response) {
    let c = binding_cookie(state, String::new(), 0);
    if let Ok(v) = HeaderValue::from_str(&c.to_string()) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}

async fn do_callback(
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
    if let Err(e) = state.limits.check_ip(Action::SignIn, client.0.ip()) {
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
            crate::metrics::sign_in("oauth", e.code());
            return fail_early(e);
        }
    };
    let app = outcome.app;
    let mut res = match (outcome.hosted, outcome.result) {
        (_, Err(e)) => {
            crate::metrics::sign_in("oauth", e.code());
            match (&outcome.redirect_uri, outcome.hosted) {
                (Some(uri), false) => found(&with_query(uri, "error", e.code())),
                _ => error_page(&app.name, &e),
            }
        }
        (_, Ok(CallbackResult::Code(code))) => {
            crate::metrics::sign_in("oauth", "succeeded");
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
            crate::metrics::sign_in("oauth", "succeeded");
            let p = page_params(&app, outcome.redirect_uri.clone());
            let mut res = crate::pages::signed_in_page(&state, jar, &app, &p, signed_in);
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

fn page_params(app: &App, redirect_uri: Option<String>) -> PageParams {
    PageParams {
        app: Some(app.slug.clone()),
        redirect_uri,
    }
}

/// The provider returns here (GET). API flows end with 302 to
/// `redirect_uri?code=…` (or `?error=<code>` once the state was accepted);
/// hosted flows set the session cookies.
#[utoipa::path(get, path = "/v1/sign-in/oauth/{provider}/callback", tag = "sign-in",
    params(("provider" = String, Path, description = "Provider name"), CallbackQuery),
    responses(
        (status = 302, description = "API flow: to the redirect URI with `code` (or `error`)"),
        (status = 303, description = "Hosted flow: signed in (cookies set)"),
        (status = 401, description = "Unknown, spent or expired state", body = ErrorEnvelope),
        (status = 429, description = "Rate limited", body = ErrorEnvelope)))]
async fn callback_get(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    jar: CookieJar,
    headers: HeaderMap,
    client: Client,
    Query(q): Query<CallbackQuery>,
) -> Response {
    do_callback(state, provider, jar, headers, client, q).await
}

/// The provider returns here (POST, `response_mode=form_post`, e.g. Apple).
#[utoipa::path(post, path = "/v1/sign-in/oauth/{provider}/callback", tag = "sign-in",
    params(("provider" = String, Path, description = "Provider name")),
    request_body(content = CallbackQuery, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 302, description = "API flow: to the redirect URI with `code` (or `error`)"),
        (status = 303, description = "Hosted flow: signed in (cookies set)"),
        (status = 401, description = "Unknown, spent or expired state", body = ErrorEnvelope)))]
async fn callback_post(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    jar: CookieJar,
    headers: HeaderMap,
    client: Client,
    Form(q): Form<CallbackQuery>,
) -> Response {
    do_callback(state, provider, jar, headers, client, q).await
}

/// Body of the exchange.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct ExchangeRequest {
    /// The `code` the callback sent to the redirect URI (`tso_…`).
    code: String,
    /// The PKCE verifier, required when the start carried a `code_challenge`.
    #[serde(default)]
    code_verifier: Option<String>,
}

/// Exchange the callback's one-time code for tokens (or the MFA answer).
#[utoipa::path(post, path = "/v1/sign-in/oauth/exchange", tag = "sign-in", request_body = ExchangeRequest,
    responses(
        (status = 200, description = "Signed in (tokens), or `mfa_required`", body = crate::dto::TokensView),
        (status = 401, description = "Unknown, spent or expired code; wrong verifier", body = ErrorEnvelope),
        (status = 429, description = "Rate limited", body = ErrorEnvelope)))]
async fn exchange(
    State(state): State<AppState>,
    client: Client,
    Json(req): Json<ExchangeRequest>,
) -> ApiResult<Response> {
    state.limits.check_ip(Action::Refresh, client.0.ip())?;
    let (_, outcome) = state
        .tessera
        .oauth()
        .exchange(&req.code, req.code_verifier.as_deref())
        .await?;
    Ok(crate::api::sign_in_answer(outcome))
}

/// A linked identity.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct IdentityView {
    /// Identity id.
    id: Uuid,
    /// Provider name.
    provider: String,
    /// The provider's user id.
    subject: String,
    /// The email the provider reported.
    email: Option<String>,
    /// Whether the provider asserted it is verified.
    email_verified: bool,
    /// When it was linked.
    created_at: chrono::DateTime<chrono::Utc>,
    /// When it last signed in.
    last_used_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<Identity> for IdentityView {
    fn from(i: Identity) -> Self {
        IdentityView {
            id: i.id,
            provider: i.provider,
            subject: i.subject,
            email: i.email,
            email_verified: i.email_verified,
            created_at: i.created_at,
            last_used_at: i.last_used_at,
        }
    }
}

/// The caller's identities.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct IdentitiesView {
    /// Oldest first.
    identities: Vec<IdentityView>,
}

/// The caller's linked external identities.
#[utoipa::path(get, path = "/v1/identities", tag = "account", security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = IdentitiesView), (status = 401, body = ErrorEnvelope)))]
async fn list_identities(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<axum::Json<IdentitiesView>> {
    let list = state.tessera.oauth().identities(caller.user.id).await?;
    Ok(axum::Json(IdentitiesView {
        identities: list.into_iter().map(Into::into).collect(),
    }))
}

/// Unlink one of the caller's identities (never their last way to sign in).
#[utoipa::path(delete, path = "/v1/identities/{id}", tag = "account", security(("bearer" = []), ("cookie" = [])),
    params(("id" = Uuid, Path, description = "Identity id")),
    responses((status = 204, description = "Unlinked"),
              (status = 404, body = ErrorEnvelope),
              (status = 409, description = "`last_sign_in_method`", body = ErrorEnvelope),
              (status = 401, body = ErrorEnvelope)))]
async fn unlink_identity(
    State(state): State<AppState>,
    caller: Caller,
    client: Client,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    let app = state.tessera.apps().get(caller.session.app_id).await?;
    state
        .tessera
        .oauth()
        .unlink(&app, caller.user.id, id, &client.0)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
