//! The extractors of hosted pages: [`Page`] resolves the app and the page's
//! parameters and carries the CSRF token; [`PageForm`] and [`PageJson`] add a
//! submitted body whose CSRF token has been checked. Each answers with an
//! error page itself, so a handler starts with what it needs.
//!
//! The order of the checks is the order a handler wrote them in before the
//! kit existed: the query string, then the body, then the app and redirect
//! URI, then the CSRF token.

use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tessera_core::model::{App, User};
use utoipa::IntoParams;

use crate::error::status_of;
use crate::extract::{Json, SESSION_COOKIE};
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
}

/// The app of `p`, and its redirect URI checked; an error page otherwise.
async fn resolve(state: &AppState, p: &PageParams) -> Result<App, Response> {
    let app = state
        .tessera
        .apps()
        .resolve_or_default(p.app.as_deref())
        .await
        .map_err(|e| {
            message(
                status_of(e.kind()),
                "Tessera",
                "Unknown app",
                "This sign-in link names an app that does not exist.",
                None,
            )
        })?;
    if let Some(uri) = &p.redirect_uri
        && !app.settings.redirect_uris.iter().any(|r| r == uri)
    {
        return Err(message(
            StatusCode::BAD_REQUEST,
            &app.name,
            "Redirect not allowed",
            "This sign-in link would send you to an address the app has not registered, so it was refused.",
            None,
        ));
    }
    Ok(app)
}

async fn query<Q: PageQuery>(parts: &mut Parts, state: &AppState) -> Result<Q, Response> {
    let Query(q) = Query::<Q>::from_request_parts(parts, state)
        .await
        .map_err(IntoResponse::into_response)?;
    Ok(q)
}

impl<Q: PageQuery> FromRequestParts<AppState> for Page<Q> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let query = query::<Q>(parts, state).await?;
        let params = query.params();
        let app = resolve(state, &params).await?;
        let (jar, csrf) = csrf::ensure(state, CookieJar::from_headers(&parts.headers));
        Ok(Page {
            app,
            params,
            query,
            jar,
            csrf,
        })
    }
}

/// Parse a submission (query, then body with `B`), resolve its page and
/// check its CSRF token; `refuse` answers a failed check.
async fn submitted<Q, B, F>(
    req: Request,
    state: &AppState,
    body: impl FnOnce(B) -> F,
    refuse: fn(&App) -> Response,
) -> Result<(Page<Q>, F), Response>
where
    Q: PageQuery,
    B: FromRequest<AppState>,
    B::Rejection: IntoResponse,
    F: CsrfField,
{
    let (mut parts, rest) = req.into_parts();
    let query = query::<Q>(&mut parts, state).await?;
    let jar = CookieJar::from_headers(&parts.headers);
    let cross_site = csrf::cross_site(state, &parts.headers);
    let params = query.params();
    let app = resolve(state, &params).await?;
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
        let (page, form) =
            submitted::<Q, axum::Form<F>, F>(req, state, |f| f.0, csrf::refused_page).await?;
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
        let (page, body) =
            submitted::<PageParams, Json<F>, F>(req, state, |j| j.0, csrf::refused_json).await?;
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
