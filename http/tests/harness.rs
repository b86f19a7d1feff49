use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use serde_json::{Value, json};
use tessera_core::Tessera;
use tessera_core::crypto::{KeyRing, PasswordParams};
use tessera_core::store::Store;
use tessera_http::{HttpOptions, MetricsRenderer};

pub(crate) const ADMIN_KEY: &str = "tsk_TESTtestTESTtestTESTtestTESTtestTESTtest123";
pub(crate) const PASSWORD: &str = "correct horse battery staple 42";

/// A store for the backend named by `backend`: `memory`, `sqlite` (a fresh
/// file) or `postgres` (a fresh schema on the test server).
pub(crate) async fn store(backend: &str) -> (Arc<dyn Store>, Option<tempfile::TempDir>) {
    match backend {
        "memory" => (Arc::new(tessera_storage_memory::MemoryStore::new()), None),
        "sqlite" => {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}", dir.path().join("t.db").display());
            (
                tessera_storage::open(&url, Default::default())
                    .await
                    .unwrap(),
                Some(dir),
            )
        }
        "postgres" => {
            let url = postgres_url().expect(
                "Postgres tests need TESSERA_TEST_DATABASE_URL or the PG* variables of pg_virtualenv \
                 (set TESSERA_SKIP_POSTGRES=1 to skip them explicitly)",
            );
            let schema = format!("http_{}", uuid::Uuid::new_v4().simple());
            let sep = if url.contains('?') { '&' } else { '?' };
            let url = format!("{url}{sep}schema={schema}");
            (
                tessera_storage::open(&url, Default::default())
                    .await
                    .unwrap(),
                None,
            )
        }
        other => panic!("unknown backend {other}"),
    }
}

/// The test server's URL, from `TESSERA_TEST_DATABASE_URL` or libpq variables.
pub(crate) fn postgres_url() -> Option<String> {
    if let Ok(u) = std::env::var("TESSERA_TEST_DATABASE_URL") {
        return Some(u);
    }
    let host = std::env::var("PGHOST").ok()?;
    let port = std::env::var("PGPORT").unwrap_or_else(|_| "5432".into());
    let user = std::env::var("PGUSER").unwrap_or_else(|_| "postgres".into());
    let password = std::env::var("PGPASSWORD").unwrap_or_default();
    let db = std::env::var("PGDATABASE").unwrap_or_else(|_| "postgres".into());
    let host = if host.starts_with('/') {
        "localhost".to_owned()
    } else {
        host
    };
    Some(format!("postgres://{user}:{password}@{host}:{port}/{db}"))
}

/// Whether Postgres tests were explicitly skipped.
pub(crate) fn skip_postgres() -> bool {
    std::env::var_os("TESSERA_SKIP_POSTGRES").is_some()
}

pub(crate) async fn tessera(store: Arc<dyn Store>) -> Tessera {
    tessera_in(store, false).await
}

/// A Tessera over `store`, in development mode if `development` (loopback
/// OAuth provider endpoints allowed), with the admin key bootstrapped.
pub(crate) async fn tessera_in(store: Arc<dyn Store>, development: bool) -> Tessera {
    let t = Tessera::builder()
        .store(store)
        .development(development)
        .key_encryption_key(KeyRing::new([9; 32], []))
        .issuer("http://127.0.0.1")
        .password_params(PasswordParams::insecure_fast_for_tests())
        .build()
        .await
        .unwrap();
    t.api_keys().bootstrap(ADMIN_KEY).await.unwrap();
    t
}

/// A running server.
pub(crate) struct Server {
    pub(crate) base: String,
    pub(crate) tessera: Tessera,
    pub(crate) client: reqwest::Client,
    pub(crate) _dir: Option<tempfile::TempDir>,
}

/// Options as the binary gives them: `/metrics` renders a Prometheus
/// recorder installed once for this test process (the router installs none).
pub(crate) fn options(rate_limits: bool) -> HttpOptions {
    HttpOptions {
        base_url: "http://127.0.0.1".into(),
        rate_limits,
        metrics: Some(prometheus()),
        ..Default::default()
    }
}

fn prometheus() -> MetricsRenderer {
    static HANDLE: OnceLock<metrics_exporter_prometheus::PrometheusHandle> = OnceLock::new();
    let handle = HANDLE
        .get_or_init(|| {
            metrics_exporter_prometheus::PrometheusBuilder::new()
                .install_recorder()
                .expect("the only recorder of the test process")
        })
        .clone();
    MetricsRenderer::new(move || handle.render())
}

/// Serve `router` on 127.0.0.1:0.
pub(crate) async fn spawn_router(router: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    addr
}

pub(crate) async fn server_with(backend: &str, options: HttpOptions) -> Server {
    let (store, dir) = store(backend).await;
    let mut s = serve(tessera(store).await, options).await;
    s._dir = dir;
    s
}

/// Serve `tessera` (built by the caller) with `options`.
pub(crate) async fn serve(tessera: Tessera, options: HttpOptions) -> Server {
    let addr = spawn_router(tessera_http::router_with(tessera.clone(), options)).await;
    Server {
        base: format!("http://{addr}"),
        tessera,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        _dir: None,
    }
}

pub(crate) async fn server(backend: &str) -> Server {
    server_with(backend, options(false)).await
}

impl Server {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub(crate) async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, None, Some(body))
            .await
    }

    /// `GET path`, nothing else.
    pub(crate) async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// The body of `GET path`.
    pub(crate) async fn text(&self, path: &str) -> String {
        self.get(path).await.text().await.unwrap()
    }

    /// `GET path` with the `Cookie` header `cookies`.
    pub(crate) async fn get_with_cookies(&self, path: &str, cookies: &str) -> reqwest::Response {
        let req = self.client.get(self.url(path));
        req.header(reqwest::header::COOKIE, cookies)
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn get_auth(&self, path: &str, token: &str) -> (u16, Value) {
        self.send(reqwest::Method::GET, path, Some(token), None)
            .await
    }

    /// `method path` with an optional bearer `token` and JSON `body`.
    pub(crate) async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        read(req.send().await.unwrap()).await
    }

    /// `method path` with the admin API key.
    pub(crate) async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        self.send(method, path, Some(ADMIN_KEY), body).await
    }

    pub(crate) async fn sign_up(&self, email: &str) -> Value {
        let (status, body) = self
            .post("/v1/sign-up", json!({"email": email, "password": PASSWORD}))
            .await;
        assert_eq!(status, 201, "{body}");
        body
    }
}

impl Server {
    /// POST `body` to `path` until the answer is 429, at most `attempts`
    /// times: that answer, or `None` if the limit never struck.
    pub(crate) async fn until_limited(
        &self,
        path: &str,
        body: Value,
        attempts: usize,
    ) -> Option<reqwest::Response> {
        for _ in 0..attempts {
            let res = self
                .client
                .post(self.url(path))
                .json(&body)
                .send()
                .await
                .unwrap();
            if res.status() == 429 {
                return Some(res);
            }
        }
        None
    }

    /// Change the default app's settings with `change`.
    pub(crate) async fn set_default_app(
        &self,
        change: impl FnOnce(&mut tessera_core::model::AppSettings),
    ) {
        let app = self.tessera.apps().default_app().await.unwrap();
        let mut settings = app.settings.clone();
        change(&mut settings);
        let apps = self.tessera.apps();
        apps.update(app.id, None, None, Some(settings))
            .await
            .unwrap();
    }

    /// Sign in as `email` with [`PASSWORD`] over the JSON API; the answer
    /// (tokens, or the MFA challenge).
    pub(crate) async fn sign_in(&self, email: &str) -> Value {
        let body = json!({"email": email, "password": PASSWORD});
        let (status, body) = self.post("/v1/sign-in/password", body).await;
        assert_eq!(status, 200, "{body}");
        body
    }
}

pub(crate) async fn read(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, body)
}

/// Compare `value` with the committed file `path` (pretty JSON);
/// `TESSERA_UPDATE_VECTORS=1` rewrites the file instead. `stale` says what
/// differs and how to regenerate.
pub(crate) fn check_snapshot(path: &std::path::Path, value: &Value, stale: &str) {
    let text = serde_json::to_string_pretty(value).unwrap() + "\n";
    if std::env::var_os("TESSERA_UPDATE_VECTORS").is_some() {
        std::fs::write(path, &text).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(committed == text, "{}: {stale}", path.display());
}

/// Assert `body` is the error envelope with `code`.
pub(crate) fn assert_error(body: &Value, code: &str) {
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

// ---- Hosted pages: cookies, CSRF, a browser's cookie jar ----

/// Cookies set by a response: (name, value, the raw header).
pub(crate) fn set_cookies(res: &reqwest::Response) -> Vec<(String, String, String)> {
    res.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .map(|v| {
            let raw = v.to_str().unwrap().to_owned();
            let first = raw.split(';').next().unwrap();
            let (n, val) = first.split_once('=').unwrap();
            (n.to_owned(), val.to_owned(), raw)
        })
        .collect()
}

/// The raw `Set-Cookie` header of cookie `name`, if the response sets it.
pub(crate) fn set_cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    set_cookies(res)
        .into_iter()
        .find(|c| c.0 == name)
        .map(|c| c.2)
}

/// The hidden CSRF field of a page's form.
pub(crate) fn hidden_csrf(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("form has a csrf field") + marker.len();
    html[start..start + 43].to_owned()
}

/// Load a form page: (the CSRF cookie's value, the form's CSRF field),
/// checking the cookie's attributes and that the page has a form.
pub(crate) async fn form_page(s: &Server, path: &str) -> (String, String) {
    let res = s.client.get(s.url(path)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let cookie = set_cookies(&res)
        .into_iter()
        .find(|c| c.0 == "tessera_csrf")
        .expect("csrf cookie issued");
    assert!(
        cookie.2.contains("HttpOnly") && cookie.2.contains("SameSite=Strict"),
        "{}",
        cookie.2
    );
    let html = res.text().await.unwrap();
    assert!(html.contains("<form method=\"post\""));
    (cookie.1, hidden_csrf(&html))
}

/// A browser's cookie jar, by hand.
#[derive(Default)]
pub(crate) struct Jar(Vec<(String, String)>);

impl Jar {
    /// Keep the cookies `res` sets; drop the ones it clears.
    pub(crate) fn take(&mut self, res: &reqwest::Response) {
        for (name, value, raw) in set_cookies(res) {
            self.0.retain(|(n, _)| *n != name);
            if !value.is_empty() && !raw.contains("Max-Age=0") {
                self.0.push((name, value));
            }
        }
    }

    /// The `Cookie` header a browser would send.
    pub(crate) fn header(&self) -> String {
        self.0
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The value of cookie `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// GET a page with the jar's cookies: (status, HTML).
pub(crate) async fn get_page(s: &Server, jar: &mut Jar, path: &str) -> (u16, String) {
    let res = s
        .client
        .get(s.url(path))
        .header(reqwest::header::COOKIE, jar.header())
        .send()
        .await
        .unwrap();
    jar.take(&res);
    (res.status().as_u16(), res.text().await.unwrap())
}

/// POST a form with the jar's cookies: (status, `Location`, body).
pub(crate) async fn post_form(
    s: &Server,
    jar: &mut Jar,
    path: &str,
    form: &[(&str, &str)],
) -> (u16, Option<String>, String) {
    let res = s
        .client
        .post(s.url(path))
        .header(reqwest::header::COOKIE, jar.header())
        .form(form)
        .send()
        .await
        .unwrap();
    jar.take(&res);
    let location = res
        .headers()
        .get(reqwest::header::LOCATION)
        .map(|v| v.to_str().unwrap().to_owned());
    (res.status().as_u16(), location, res.text().await.unwrap())
}

/// Sign in as `email` (with [`PASSWORD`]) through the hosted form, with the
/// jar: (the page's CSRF token, the submit's status and `Location`).
pub(crate) async fn hosted_sign_in(
    s: &Server,
    jar: &mut Jar,
    email: &str,
) -> (String, u16, Option<String>) {
    let (status, html) = get_page(s, jar, "/sign-in").await;
    assert_eq!(status, 200);
    let csrf = hidden_csrf(&html);
    let (status, location, _) = post_form(s, jar, "/sign-in", &credentials(&csrf, email)).await;
    (csrf, status, location)
}

/// The fields of the sign-in (and sign-up) form: the `csrf` token, `email`
/// and [`PASSWORD`].
pub(crate) fn credentials<'a>(csrf: &'a str, email: &'a str) -> [(&'static str, &'a str); 3] {
    [("csrf", csrf), ("email", email), ("password", PASSWORD)]
}

/// POST a form with only the CSRF cookie `csrf` (the page's `tessera_csrf`).
pub(crate) async fn submit(
    s: &Server,
    path: &str,
    csrf: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    s.client
        .post(s.url(path))
        .header(reqwest::header::COOKIE, format!("tessera_csrf={csrf}"))
        .form(form)
        .send()
        .await
        .unwrap()
}
