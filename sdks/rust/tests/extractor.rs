use axum::Router;
use axum::body::Body;
use axum::extract::FromRef;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use serde_json::Value;
use tessera_sdk::{TesseraUser, Verifier, token_from_headers};
use tower::ServiceExt;

use crate::support::{JwksServer, NOW, TokenVectors};

/// An app state that holds the verifier among other things.
#[derive(Clone)]
struct AppState {
    verifier: Verifier,
}

impl FromRef<AppState> for Verifier {
    fn from_ref(state: &AppState) -> Self {
        state.verifier.clone()
    }
}

async fn app() -> (Router, TokenVectors) {
    let vectors = TokenVectors::load();
    let server = JwksServer::start(vectors.jwks()).await;
    let state = AppState {
        verifier: vectors.verifier(&server.url, NOW).build(),
    };
    let router = Router::new()
        .route(
            "/me",
            get(|TesseraUser(claims): TesseraUser| async move { claims.sub }),
        )
        .route(
            "/maybe",
            get(|user: Option<TesseraUser>| async move {
                user.map_or("anonymous".to_owned(), |TesseraUser(c)| c.sub)
            }),
        )
        .with_state(state);
    (router, vectors)
}

async fn call(router: &Router, path: &str, header: Option<(&str, String)>) -> (StatusCode, String) {
    let mut req = Request::get(path);
    if let Some((name, value)) = header {
        req = req.header(name, value);
    }
    let res = router
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let body = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

const SUB: &str = "01900000-0000-7000-8000-0000000000b1";

#[tokio::test]
async fn extractor_accepts_bearer_and_cookie() {
    let (router, v) = app().await;
    let bearer = format!("Bearer {}", v.token("valid_eddsa"));
    assert_eq!(
        call(&router, "/me", Some(("authorization", bearer))).await,
        (StatusCode::OK, SUB.into())
    );
    let cookie = format!("theme=dark; tessera_at={}", v.token("valid_es256"));
    assert_eq!(
        call(&router, "/me", Some(("cookie", cookie))).await,
        (StatusCode::OK, SUB.into())
    );
}

#[tokio::test]
async fn extractor_rejects_with_401_and_the_envelope() {
    let (router, v) = app().await;
    for header in [
        None,
        Some(("authorization", format!("Bearer {}", v.token("expired")))),
        Some(("authorization", format!("Bearer {}", v.token("alg_none")))),
        Some(("authorization", "Bearer garbage".to_owned())),
    ] {
        let req = {
            let mut r = Request::get("/me");
            if let Some((n, val)) = &header {
                r = r.header(*n, val);
            }
            r.body(Body::empty()).unwrap()
        };
        let res = router.clone().oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{header:?}");
        assert_eq!(res.headers()["content-type"], "application/json");
        let body = axum::body::to_bytes(res.into_body(), 1 << 20)
            .await
            .unwrap();
        let json: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["error"]["code"], "unauthenticated", "{header:?}");
        assert!(json["error"]["message"].is_string());
    }
}

#[tokio::test]
async fn optional_extractor_yields_none_for_anonymous() {
    let (router, v) = app().await;
    assert_eq!(
        call(&router, "/maybe", None).await,
        (StatusCode::OK, "anonymous".into())
    );
    let expired = format!("Bearer {}", v.token("expired"));
    assert_eq!(
        call(&router, "/maybe", Some(("authorization", expired))).await,
        (StatusCode::OK, "anonymous".into())
    );
    let good = format!("Bearer {}", v.token("valid_rs256"));
    assert_eq!(
        call(&router, "/maybe", Some(("authorization", good))).await,
        (StatusCode::OK, SUB.into())
    );
}

#[test]
fn token_from_headers_prefers_bearer_then_cookie() {
    use tessera_sdk::http::HeaderMap;
    let mut h = HeaderMap::new();
    assert_eq!(token_from_headers(&h), None);
    h.insert("cookie", "a=b; tessera_at=from-cookie".parse().unwrap());
    assert_eq!(token_from_headers(&h), Some("from-cookie"));
    h.insert("authorization", "Basic dXNlcjpwYXNz".parse().unwrap());
    assert_eq!(token_from_headers(&h), Some("from-cookie"));
    h.insert("authorization", "bearer  from-header ".parse().unwrap());
    assert_eq!(token_from_headers(&h), Some("from-header"));
}
