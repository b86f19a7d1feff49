//! A thin client for Tessera's server API (`/v1/admin/…`), authenticated with
//! an API key (`tsk_…`).
//!
//! Errors keep Tessera's answer: [`ErrorKind::Api`] with the HTTP status and
//! the `code` of the error envelope `{"error": {"code", "message"}}`, so a
//! caller can tell "no such user" from "bad API key" without parsing text.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::{Method, Url};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::{Error, ErrorKind, Result};

/// Bound on each API request, unless [`ClientBuilder::timeout`] says otherwise.
pub const DEFAULT_CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

/// A Tessera user as the server API returns it.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// The user id.
    pub id: String,
    /// The pool the user belongs to.
    pub pool_id: String,
    /// The email address.
    pub email: String,
    /// Whether the email address is verified.
    pub email_verified: bool,
    /// The display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Application metadata (JSON).
    #[serde(default)]
    pub metadata: serde_json::Value,
    /// Whether the account is disabled.
    pub disabled: bool,
    /// When the user was created.
    pub created_at: DateTime<Utc>,
    /// When the user was last changed.
    pub updated_at: DateTime<Utc>,
}

/// One page of [`Client::list_users`].
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct UserPage {
    /// The users on this page.
    pub users: Vec<User>,
    /// The cursor of the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// Filters and paging of [`Client::list_users`]; `None` fields are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListUsers {
    /// Only users with this email.
    pub email: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size.
    pub limit: Option<u32>,
}

/// Calls Tessera's server API. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    base: Url,
    api_key: String,
    http: reqwest::Client,
    timeout: Duration,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the API key.
        f.debug_struct("Client")
            .field("base_url", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

/// Builds a [`Client`] with non-default settings.
#[must_use]
pub struct ClientBuilder {
    base_url: String,
    api_key: String,
    http: Option<reqwest::Client>,
    timeout: Duration,
}

impl ClientBuilder {
    /// The HTTP client to send requests with (proxies, TLS roots, pooling).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }
    /// Bound on each request; default 10 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
    /// The client; fails if the base URL is not an absolute URL.
    pub fn build(self) -> Result<Client> {
        let base = Url::parse(self.base_url.trim_end_matches('/'))
            .ok()
            .filter(|u| !u.cannot_be_a_base())
            .ok_or_else(|| Error::new(ErrorKind::Transport, "base URL is not an absolute URL"))?;
        Ok(Client {
            base,
            api_key: self.api_key,
            http: self.http.unwrap_or_default(),
            timeout: self.timeout,
        })
    }
}

#[derive(Deserialize)]
struct Envelope {
    error: EnvelopeError,
}

#[derive(Deserialize)]
struct EnvelopeError {
    code: String,
    #[serde(default)]
    message: String,
}

impl Client {
    /// A client for the Tessera install at `base_url`, authenticating with
    /// `api_key` (`tsk_…`).
    ///
    /// # Panics
    /// If `base_url` is not an absolute URL; use [`Client::builder`] to get
    /// an error instead.
    pub fn new(base_url: impl Into<String>, api_key: impl Into<String>) -> Self {
        Self::builder(base_url, api_key)
            .build()
            .expect("Tessera base URL must be an absolute URL")
    }

    /// A builder to change the settings of [`Client::new`].
    pub fn builder(base_url: impl Into<String>, api_key: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            base_url: base_url.into(),
            api_key: api_key.into(),
            http: None,
            timeout: DEFAULT_CLIENT_TIMEOUT,
        }
    }

    /// The user with the given id (`GET /v1/admin/users/{id}`).
    pub async fn get_user(&self, id: &str) -> Result<User> {
        let url = self.url(&["v1", "admin", "users", id], &[]);
        self.send(Method::GET, url).await
    }

    /// The user whose email equals `email`, ignoring case. No such user is an
    /// [`ErrorKind::Api`] error with status 404 and code `not_found`.
    pub async fn get_user_by_email(&self, email: &str) -> Result<User> {
        let mut query = ListUsers {
            email: Some(email.to_owned()),
            ..ListUsers::default()
        };
        let wanted = email.to_lowercase();
        // The server filters by email, so more than one page is unusual.
        for _ in 0..20 {
            let page = self.list_users(&query).await?;
            if let Some(user) = page
                .users
                .into_iter()
                .find(|u| u.email.to_lowercase() == wanted)
            {
                return Ok(user);
            }
            match page.next_cursor {
                Some(cursor) => query.cursor = Some(cursor),
                None => break,
            }
        }
        Err(Error::api(
            404,
            "not_found".into(),
            "no user with that email".into(),
        ))
    }

    /// One page of users (`GET /v1/admin/users?email=&cursor=&limit=`).
    pub async fn list_users(&self, query: &ListUsers) -> Result<UserPage> {
        let limit = query.limit.map(|l| l.to_string());
        let pairs: Vec<(&str, &str)> = [
            ("email", query.email.as_deref()),
            ("cursor", query.cursor.as_deref()),
            ("limit", limit.as_deref()),
        ]
        .into_iter()
        .filter_map(|(k, v)| Some((k, v?)))
        .collect();
        let url = self.url(&["v1", "admin", "users"], &pairs);
        self.send(Method::GET, url).await
    }

    /// Signs the user out everywhere (`DELETE /v1/admin/users/{id}/sessions`)
    /// and returns how many sessions were revoked.
    pub async fn revoke_sessions(&self, user_id: &str) -> Result<u64> {
        #[derive(Deserialize)]
        struct Revoked {
            revoked: u64,
        }
        let url = self.url(&["v1", "admin", "users", user_id, "sessions"], &[]);
        let out: Revoked = self.send(Method::DELETE, url).await?;
        Ok(out.revoked)
    }

    fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> Url {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .expect("checked in build")
            .pop_if_empty()
            .extend(segments);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    async fn send<T: DeserializeOwned>(&self, method: Method, url: Url) -> Result<T> {
        let what = format!("{method} {}", url.path());
        let response = self
            .http
            .request(method, url)
            .bearer_auth(&self.api_key)
            .header(http::header::ACCEPT, "application/json")
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|e| transport(e, &what))?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| transport(e, &what))?;
        if !status.is_success() {
            return Err(match serde_json::from_slice::<Envelope>(&body) {
                Ok(env) => Error::api(status.as_u16(), env.error.code, env.error.message),
                Err(_) => Error::api(
                    status.as_u16(),
                    format!("http_{}", status.as_u16()),
                    status.canonical_reason().unwrap_or("").to_owned(),
                ),
            });
        }
        serde_json::from_slice(&body).map_err(|e| {
            Error::new(ErrorKind::Decode, format!("{what}: unexpected answer")).with_source(e)
        })
    }
}

fn transport(e: reqwest::Error, what: &str) -> Error {
    let kind = if e.is_timeout() {
        ErrorKind::Timeout
    } else {
        ErrorKind::Transport
    };
    Error::new(kind, what.to_owned()).with_source(e)
}
