use std::time::Duration;

use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use tessera_sdk::{Client, ErrorKind, ListUsers};

use crate::support::serve;

const API_KEY: &str = "tsk_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG";

fn user(id: &str, email: &str) -> Value {
    json!({
        "id": id, "pool_id": "pool_1", "email": email, "email_verified": true,
        "name": "Ada", "metadata": {"plan": "pro"}, "disabled": false,
        "created_at": "2030-01-01T00:00:00Z", "updated_at": "2030-01-02T03:04:05.123456Z"
    })
}

fn users() -> Vec<Value> {
    vec![
        user("u1", "ada@example.test"),
        user("u2", "grace@example.test"),
        user("u3", "Ada.L@Example.test"),
    ]
}

/// An error answer in Tessera's envelope.
struct ApiError(StatusCode, &'static str, &'static str);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.1, "message": self.2}});
        (self.0, Json(body)).into_response()
    }
}

fn authorized(headers: &HeaderMap) -> Result<(), ApiError> {
    match headers.get("authorization").and_then(|v| v.to_str().ok()) {
        Some(v) if v == format!("Bearer {API_KEY}") => Ok(()),
        _ => Err(ApiError(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "bad API key",
        )),
    }
}

#[derive(Deserialize)]
struct ListQuery {
    email: Option<String>,
    cursor: Option<String>,
    limit: Option<usize>,
}

/// A fake of Tessera's admin API: three users, pages of two.
async fn fake_admin_api() -> String {
    let router = Router::new()
        .route(
            "/v1/admin/users/{id}",
            get(|headers: HeaderMap, Path(id): Path<String>| async move {
                authorized(&headers)?;
                users()
                    .into_iter()
                    .find(|u| u["id"] == id.as_str())
                    .map(Json)
                    .ok_or(ApiError(StatusCode::NOT_FOUND, "not_found", "no such user"))
            }),
        )
        .route(
            "/v1/admin/users",
            get(
                |headers: HeaderMap, Query(q): Query<ListQuery>| async move {
                    authorized(&headers)?;
                    // Like a substring search: the client must pick the exact match.
                    let matching: Vec<Value> = users()
                        .into_iter()
                        .filter(|u| {
                            q.email.as_ref().is_none_or(|e| {
                                u["email"]
                                    .as_str()
                                    .unwrap()
                                    .to_lowercase()
                                    .contains(&e.to_lowercase())
                            })
                        })
                        .collect();
                    let start: usize = q.cursor.map_or(0, |c| c[1..].parse().unwrap());
                    let end = (start + q.limit.unwrap_or(2)).min(matching.len());
                    let next = (end < matching.len()).then(|| format!("c{end}"));
                    Ok::<_, ApiError>(Json(
                        json!({"users": &matching[start..end], "next_cursor": next}),
                    ))
                },
            ),
        )
        .route(
            "/v1/admin/users/{id}/sessions",
            delete(|headers: HeaderMap| async move {
                authorized(&headers)?;
                Ok::<_, ApiError>(Json(json!({"revoked": 3})))
            }),
        )
        .route(
            "/v1/admin/users/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        )
        .route("/v1/admin/users/html", get(|| async { "<html>" }));
    serve(router).await
}

#[tokio::test]
async fn get_user_sends_the_api_key_and_decodes_the_user() {
    let url = fake_admin_api().await;
    let client = Client::new(format!("{url}/"), API_KEY);
    let u = client.get_user("u2").await.unwrap();
    assert_eq!(u.id, "u2");
    assert_eq!(u.email, "grace@example.test");
    assert_eq!(u.pool_id, "pool_1");
    assert!(u.email_verified && !u.disabled);
    assert_eq!(u.name.as_deref(), Some("Ada"));
    assert_eq!(u.metadata, json!({"plan": "pro"}));
    assert_eq!(u.created_at.to_rfc3339(), "2030-01-01T00:00:00+00:00");
    assert_eq!(u.updated_at.timestamp_subsec_micros(), 123_456);
}

#[tokio::test]
async fn error_envelope_becomes_a_typed_error() {
    let url = fake_admin_api().await;
    let err = Client::new(&url, API_KEY)
        .get_user("nobody")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Api);
    assert_eq!(err.status(), Some(404));
    assert_eq!(err.code(), "not_found");
    assert_eq!(err.message(), "no such user");
    assert!(err.is_not_found());

    let err = Client::new(&url, "tsk_wrong")
        .get_user("u1")
        .await
        .unwrap_err();
    assert_eq!((err.status(), err.code()), (Some(401), "unauthenticated"));
    assert!(!err.is_not_found());
}

#[tokio::test]
async fn get_user_by_email_picks_the_exact_match_across_pages() {
    let url = fake_admin_api().await;
    let client = Client::new(&url, API_KEY);
    assert_eq!(
        client
            .get_user_by_email("ADA.l@example.TEST")
            .await
            .unwrap()
            .id,
        "u3"
    );
    assert_eq!(
        client
            .get_user_by_email("ada@example.test")
            .await
            .unwrap()
            .id,
        "u1"
    );
    let err = client
        .get_user_by_email("da@example.test")
        .await
        .unwrap_err();
    assert!(err.is_not_found());
    assert_eq!(err.code(), "not_found");
}

#[tokio::test]
async fn list_users_paginates() {
    let url = fake_admin_api().await;
    let client = Client::new(&url, API_KEY);
    let mut query = ListUsers {
        limit: Some(2),
        ..ListUsers::default()
    };
    let mut ids = Vec::new();
    for _ in 0..5 {
        let page = client.list_users(&query).await.unwrap();
        ids.extend(page.users.into_iter().map(|u| u.id));
        match page.next_cursor {
            Some(c) => query.cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(ids, ["u1", "u2", "u3"]);
}

#[tokio::test]
async fn revoke_sessions_returns_the_count() {
    let url = fake_admin_api().await;
    assert_eq!(
        Client::new(&url, API_KEY)
            .revoke_sessions("u1")
            .await
            .unwrap(),
        3
    );
}

#[tokio::test]
async fn timeout_applies_with_an_injected_client() {
    let url = fake_admin_api().await;
    let client = Client::builder(&url, API_KEY)
        .http_client(reqwest::Client::builder().build().unwrap())
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let err = client.get_user("slow").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn decode_and_transport_errors() {
    let url = fake_admin_api().await;
    let err = Client::new(&url, API_KEY)
        .get_user("html")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    // Nothing listens on port 9 of 127.0.0.1 here.
    let err = Client::new("http://127.0.0.1:9", API_KEY)
        .get_user("u1")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport);
    assert!(Client::builder("not a url", API_KEY).build().is_err());
    assert!(!format!("{:?}", Client::new(&url, API_KEY)).contains(API_KEY));
}
