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
    let t = Tessera::builder()
        .store(store)
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
    let tessera = tessera(store).await;
    let addr = spawn_router(tessera_http::router_with(tessera.clone(), options)).await;
    Server {
        base: format!("http://{addr}"),
        tessera,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        _dir: dir,
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
        let res = self
            .client
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        read(res).await
    }

    pub(crate) async fn get_auth(&self, path: &str, token: &str) -> (u16, Value) {
        let res = self
            .client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        read(res).await
    }

    pub(crate) async fn sign_up(&self, email: &str) -> Value {
        let (status, body) = self
            .post("/v1/sign-up", json!({"email": email, "password": PASSWORD}))
            .await;
        assert_eq!(status, 201, "{body}");
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
