//! Extractors: JSON bodies and query strings with our error envelope, the app
//! a request is for, the client's address, the signed-in caller and the admin
//! API key.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum_extra::extract::CookieJar;
use serde::de::DeserializeOwned;
use tessera_core::model::{ApiKey, App, ClientInfo, Session, User};
use tessera_core::{Error, ErrorKind};

use crate::error::ApiError;
use crate::state::AppState;

/// Name of the session cookie (a stable contract).
pub const SESSION_COOKIE: &str = "tessera_session";
/// Name of the access-token cookie for server-rendered apps (a stable contract).
pub const ACCESS_COOKIE: &str = "tessera_at";
/// Name of the device-token cookie a password sign-in sets (a stable
/// contract; see `docs/contract.md`).
pub const DEVICE_COOKIE: &str = "tessera_device";
/// Name of the CSRF pre-session cookie of hosted pages in development or
/// on plain-HTTP localhost.
pub const CSRF_COOKIE: &str = "tessera_csrf";
/// Name of the CSRF pre-session cookie whenever cookies are `Secure`.
pub const HOST_CSRF_COOKIE: &str = "__Host-tessera_csrf";
/// Header choosing the app (id or slug).
pub const APP_HEADER: &str = "x-tessera-app";

/// A JSON body whose rejections use the error envelope.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        // Every body of the API is a JSON object: read it as a value first,
        // since serde would also build a struct from an array
        // (`["a@b.c", "pw"]`; issue 15, item 6).
        let axum::Json(v) = axum::Json::<serde_json::Value>::from_request(req, state).await?;
        if !v.is_object() {
            return Err(ApiError(Error::invalid(
                "body",
                "The body must be a JSON object.",
            )));
        }
        serde_json::from_value(v).map(Json).map_err(|e| {
            ApiError(Error::with_message(
                ErrorKind::InvalidInput { field: "body" },
                format!("Failed to deserialize the JSON body into the target type: {e}"),
            ))
        })
    }
}

/// A path parameter whose rejections use the error envelope (404: a path
/// with a malformed id names nothing).
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(v) =
            axum::extract::Path::<T>::from_request_parts(parts, state).await?;
        Ok(Path(v))
    }
}

/// A query string whose rejections use the error envelope.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Query(v) =
            axum::extract::Query::<T>::from_request_parts(parts, state).await?;
        Ok(Query(v))
    }
}

/// The app a JSON API request is for: the `X-Tessera-App` header (id or
/// slug), or the `default` app.
pub struct CurrentApp(pub App);

impl FromRequestParts<AppState> for CurrentApp {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(APP_HEADER)
            .map(|v| v.to_str().unwrap_or("\u{0}"));
        let app = state
            .tessera
            .apps()
            .resolve_or_default(header)
            .await
            .map_err(|e| {
                if header.is_some() && *e.kind() == ErrorKind::NotFound {
                    Error::with_message(ErrorKind::NotFound, "Unknown app (X-Tessera-App).")
                } else {
                    e
                }
            })?;
        Ok(CurrentApp(app))
    }
}

/// The client's IP (honouring `X-Forwarded-For` only from trusted proxies)
/// and user agent, normalised by [`ClientInfo::new`].
pub struct Client(pub ClientInfo);

/// The client IP of a request.
pub fn client_ip(headers: &HeaderMap, peer: Option<IpAddr>, state: &AppState) -> Option<IpAddr> {
    let peer = peer?;
    if !state.options.is_trusted_proxy(peer) {
        return Some(peer);
    }
    // Walk X-Forwarded-For from the right, skipping our own proxies.
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    Some(
        forwarded
            .into_iter()
            .rev()
            .find(|ip| !state.options.is_trusted_proxy(*ip))
            .unwrap_or(peer),
    )
}

/// The peer address of a connection, when the server recorded it.
pub fn peer_ip(parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

impl FromRequestParts<AppState> for Client {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ip = client_ip(&parts.headers, peer_ip(parts), state);
        let user_agent = parts
            .headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok());
        Ok(Client(ClientInfo::new(ip, user_agent)))
    }
}

/// How the caller authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// `Authorization: Bearer <access JWT>`.
    Bearer,
    /// The `tessera_session` cookie.
    Cookie,
}

/// The signed-in caller: a live session and its user.
pub struct Caller {
    /// The session.
    pub session: Session,
    /// The user.
    pub user: User,
    /// How they authenticated.
    pub via: Via,
}

impl Caller {
    /// The app of the caller's session (routes that act on "my account"
    /// take the app from the session, never from a header).
    pub async fn app(&self, state: &AppState) -> Result<App, Error> {
        state.tessera.apps().get(self.session.app_id).await
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let sessions = state.tessera.sessions();
        let unauth = |e: Error| match e.kind() {
            ErrorKind::Storage | ErrorKind::Internal | ErrorKind::Config => ApiError(e),
            ErrorKind::UserDisabled | ErrorKind::SessionExpired | ErrorKind::TokenExpired => {
                ApiError(e)
            }
            _ => ApiError(Error::new(ErrorKind::Unauthenticated)),
        };
        if let Some(token) = bearer(&parts.headers).map(str::to_owned) {
            // A request naming its app (`X-Tessera-App`) accepts only that
            // app's tokens (`aud`); without the header any app's token of
            // this server is accepted, as before.
            let audience = if parts.headers.contains_key(APP_HEADER) {
                let CurrentApp(app) = CurrentApp::from_request_parts(parts, state).await?;
                Some(app.id.to_string())
            } else {
                None
            };
            let (session, user, _) = sessions
                .validate_access_token(&token, audience.as_deref())
                .await
                .map_err(unauth)?;
            return Ok(Caller {
                session,
                user,
                via: Via::Bearer,
            });
        }
        let jar = CookieJar::from_headers(&parts.headers);
        if let Some(c) = jar.get(SESSION_COOKIE) {
            if !cookie_request_allowed(parts, state).await {
                return Err(ApiError(Error::with_message(
                    ErrorKind::Forbidden,
                    "Cross-origin requests authenticated by cookie must come from an allowed origin.",
                )));
            }
            let (session, user) = sessions.validate(c.value()).await.map_err(unauth)?;
            return Ok(Caller {
                session,
                user,
                via: Via::Cookie,
            });
        }
        Err(ApiError(Error::new(ErrorKind::Unauthenticated)))
    }
}

/// CSRF defence for cookie-authenticated API calls, on top of `SameSite=Lax`:
/// a state-changing request that says where it comes from (`Origin`) must come
/// from this server or an origin some app allows. Requests without `Origin`
/// (not from a browser) and safe methods pass.
async fn cookie_request_allowed(parts: &Parts, state: &AppState) -> bool {
    use axum::http::Method;
    if matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    let Some(origin) = parts
        .headers
        .get(axum::http::header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    else {
        return true;
    };
    if state.options.base_url.starts_with(origin)
        && state.options.base_url[origin.len()..]
            .chars()
            .next()
            .is_none_or(|c| c == '/')
    {
        return true;
    }
    state.tessera.apps().list(None).await.is_ok_and(|apps| {
        apps.iter()
            .any(|a| a.settings.cors_origins.iter().any(|o| o == origin))
    })
}

/// An admin API key allowed to do what the request asks: `GET` needs
/// `<resource>:read`, other methods `<resource>:write`, where the resource is
/// the path segment after `/v1/admin/` (`users`, `apps`, `audit`); API keys
/// themselves need `admin`.
pub struct AdminKey(pub ApiKey);

fn admin_scope(parts: &Parts) -> String {
    let path = parts
        .extensions
        .get::<axum::extract::MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| parts.uri.path().to_owned());
    let resource = path
        .split("/v1/admin/")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or("admin");
    if resource == "api-keys" {
        return tessera_core::SCOPE_ADMIN.to_owned();
    }
    let access = if parts.method == axum::http::Method::GET {
        "read"
    } else {
        "write"
    };
    format!("{resource}:{access}")
}

impl FromRequestParts<AppState> for AdminKey {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let secret = bearer(&parts.headers)
            .ok_or_else(|| ApiError(Error::new(ErrorKind::Unauthenticated)))?;
        let key = state
            .tessera
            .api_keys()
            .authenticate(secret, &admin_scope(parts))
            .await?;
        Ok(AdminKey(key))
    }
}
