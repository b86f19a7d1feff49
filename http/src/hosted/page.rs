//! The extractors of hosted pages: [`Page`] resolves the app and the page's
//! parameters and carries the CSRF token and the browser's client info; [`PageForm`] and [`PageJson`] add a
//! submitted body whose CSRF token has been checked. Each answers with an
//! error page itself, so a handler starts with what it needs.
//!
//! The order of the checks is the order a handler wrote them in before the
//! kit existed: the query string, then the body, then the app and redirect
//! URI, then the CSRF token.

use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tessera_core::model::{App, User};
use utoipa::IntoParams;

use crate::error::{ApiError, status_of};
use crate::extract::{Client, Json, SESSION_COOKIE};
use crate::hosted::csrf::{self, CsrfField};
use crate::hosted::render::{message, server_error};
use crate::state::AppState;

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
    /// The parameters as a query string (`?app=…&redirect_uri=…`, or empty).
    pub(crate) fn query(&self) -> String {
        let q = serde_urlencoded::to_string(self).unwrap_or_default();
        if q.is_empty() { q } else { format!("?{q}") }
    }

    /// A relative link to another page with the same parameters.
    pub(crate) fn href(&self, page: &str) -> String {
        format!("{page}{}", self.query())
    }
}

/// A page's query string: what it says about the page's [`PageParams`]
/// (pages opened from an emailed link take `?token=&app=` instead).
pub(crate) trait PageQuery: DeserializeOwned + Send + 'static {
    /// The page's `?app=` and `?redirect_uri=`.
    fn params(&self) -> PageParams;
}

impl PageQuery for PageParams {
    fn params(&self) -> PageParams {
        self.clone()
    }
}

/// A hosted page: its app (the redirect URI checked against it), its
/// parameters, its query string as parsed, and the browser's CSRF token
/// (`jar` issues the cookie if the browser had none: answer with it when
/// the page shows a form).
pub(crate) struct Page<Q = PageParams> {
    /// The app.
    pub(crate) app: App,
    /// `?app=` and `?redirect_uri=`, for links to the other pages.
    pub(crate) params: PageParams,
    /// The whole query string.
    pub(crate) query: Q,
    /// The browser's cookies, with the CSRF cookie.
    pub(crate) jar: CookieJar,
    /// The CSRF token for the page's forms.
    pub(crate) csrf: String,
    /// The browser's IP and user agent.
    pub(crate) client: Client,
}

/// Why a page could not be resolved: its query string does not parse, its
/// app is unknown (or the store failed), or its redirect URI is not
/// registered for the app.
enum Unresolved {
    Query(QueryRejection),
    App(tessera_core::Error),
    /// The unregistered redirect URI's app, by name.
    Redirect(String),
}

impl Unresolved {
    /// The answer for a browser: an error page.
    fn page(self) -> Response {
        match self {
            Unresolved::Query(r) => message(
                r.status(),
                "Tessera",
                "This link could not be read",
                "Its address is malformed. Open the sign-in page again.",
                None,
            ),
            Unresolved::App(e) => message(
                status_of(e.kind()),
                "Tessera",
                "Unknown app",
                "This sign-in link names an app that does not exist.",
                None,
            ),
            Unresolved::Redirect(app_name) => message(
                StatusCode::BAD_REQUEST,
                &app_name,
                "Redirect not allowed",
                "This sign-in link would send you to an address the app has not registered, so it was refused.",
                None,
            ),
        }
    }

    /// The answer for a page's script: the error envelope.
    fn envelope(self) -> Response {
        let e = match self {
            Unresolved::Query(r) => return ApiError::from(r).into_response(),
            Unresolved::App(e) => e,
            Unresolved::Redirect(_) => tessera_core::Error::with_message(
                tessera_core::ErrorKind::BadRequest,
                "The redirect URI is not registered for the app.",
            ),
        };
        ApiError(e).into_response()
    }
}

/// The app of `p`, with its redirect URI checked.
async fn resolve(state: &AppState, p: &PageParams) -> Result<App, Unresolved> {
    let app = state
        .tessera
        .apps()
        .resolve_or_default(p.app.as_deref())
        .await
        .map_err(Unresolved::App)?;
    if let Some(uri) = &p.redirect_uri
        && !app.settings.redirect_uris.iter().any(|r| r == uri)
    {
        return Err(Unresolved::Redirect(app.name));
    }
    Ok(app)
}

async fn query<Q: PageQuery>(parts: &mut Parts, state: &AppState) -> Result<Q, Unresolved> {
    let Query(q) = Query::<Q>::from_request_parts(parts, state)
        .await
        .map_err(Unresolved::Query)?;
    Ok(q)
}

impl<Q: PageQuery> FromRequestParts<AppState> for Page<Q> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let query = query::<Q>(parts, state).await.map_err(Unresolved::page)?;
        let params = query.params();
        let app = resolve(state, &params).await.map_err(Unresolved::page)?;
        let (jar, csrf) = csrf::ensure(state, CookieJar::from_headers(&parts.headers));
        let client = client(&mut *parts, state).await?;
        Ok(Page {
            app,
            params,
            query,
            jar,
            csrf,
            client,
        })
    }
}

async fn client(parts: &mut Parts, state: &AppState) -> Result<Client, Response> {
    Client::from_request_parts(parts, state)
        .await
        .map_err(IntoResponse::into_response)
}

/// How a submission's failures are answered: a failed CSRF check, and an
/// unreadable query string, unknown app or unregistered redirect URI.
type Refusals = (fn(&App) -> Response, fn(Unresolved) -> Response);

/// Parse a submission (query, then body with `B`), resolve its page and
/// check its CSRF token; `refuse` answers a failed check, `unresolved` an
/// unknown app or redirect URI.
async fn submitted<Q, B, F>(
    req: Request,
    state: &AppState,
    body: impl FnOnce(B) -> F,
    (refuse, unresolved): Refusals,
) -> Result<(Page<Q>, F), Response>
where
    Q: PageQuery,
    B: FromRequest<AppState>,
    B::Rejection: IntoResponse,
    F: CsrfField,
{
    let (mut parts, rest) = req.into_parts();
    let query = query::<Q>(&mut parts, state).await.map_err(unresolved)?;
    let jar = CookieJar::from_headers(&parts.headers);
    let client = client(&mut parts, state).await?;
    let cross_site = csrf::cross_site(state, &parts.headers);
    let params = query.params();
    let app = resolve(state, &params).await.map_err(unresolved)?;
    let form = body(
        B::from_request(Request::from_parts(parts, rest), state)
            .await
            .map_err(|r| unreadable_form(&app, r.into_response()))?,
    );
    if cross_site || !csrf::matches(state, &jar, form.csrf()) {
        return Err(refuse(&app));
    }
    let csrf = form.csrf().to_owned();
    let page = Page {
        app,
        params,
        query,
        jar,
        csrf,
        client,
    };
    Ok((page, form))
}

/// The answer to a body that could not be read: a body rejected in plain
/// text (a form that does not parse, a wrong content type) becomes an HTML
/// page with the same status, as browsers submitting forms expect (issue
/// 15, item 6); answers that are already the envelope or a page stay.
fn unreadable_form(app: &App, rejected: Response) -> Response {
    let plain = rejected
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("text/plain"));
    if !plain {
        return rejected;
    }
    message(
        rejected.status(),
        &app.name,
        "This form could not be read",
        "Go back, reload the page and submit the form again.",
        None,
    )
}

/// A submitted form (`application/x-www-form-urlencoded`) of a page, its
/// CSRF token checked (a "Form expired" page otherwise).
pub(crate) struct PageForm<F, Q = PageParams> {
    /// The page the form was submitted from.
    pub(crate) page: Page<Q>,
    /// The form.
    pub(crate) form: F,
}

impl<F, Q> FromRequest<AppState> for PageForm<F, Q>
where
    F: DeserializeOwned + CsrfField + Send + 'static,
    Q: PageQuery,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (page, form) = submitted::<Q, axum::Form<F>, F>(
            req,
            state,
            |f| f.0,
            (csrf::refused_page, Unresolved::page),
        )
        .await?;
        Ok(PageForm { page, form })
    }
}

/// A JSON body a page's script posts, its CSRF token checked (a `forbidden`
/// error envelope otherwise).
pub(crate) struct PageJson<F> {
    /// The page the script runs on.
    pub(crate) page: Page,
    /// The body.
    pub(crate) body: F,
}

impl<F> FromRequest<AppState> for PageJson<F>
where
    F: DeserializeOwned + CsrfField + Send + 'static,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (page, body) = submitted::<PageParams, Json<F>, F>(
            req,
            state,
            |j| j.0,
            (csrf::refused_json, Unresolved::envelope),
        )
        .await?;
        Ok(PageJson { page, body })
    }
}

/// The user signed in on this browser (the session cookie), for account
/// pages: a redirect to the sign-in page when there is none or it ended; a
/// server error is answered as one.
pub(crate) async fn signed_in_user<Q>(state: &AppState, page: &Page<Q>) -> Result<User, Response> {
    let to_sign_in = || Redirect::to(&page.params.href("sign-in")).into_response();
    let Some(token) = page.jar.get(SESSION_COOKIE).map(|c| c.value().to_owned()) else {
        return Err(to_sign_in());
    };
    match state.tessera.sessions().validate(&token).await {
        Ok((_, user)) => Ok(user),
        Err(e) if e.kind().is_server_error() => Err(server_error(e)),
        Err(_) => Err(to_sign_in()),
    }
}
