//! Webhook delivery against a real HTTP receiver (a small axum server on
//! loopback, allowed through `TESSERA_WEBHOOK_ALLOW_HOSTS`'s builder
//! setting): signatures verified with the core's verifier and the `v1a`
//! signature checked independently with `ed25519-dalek`, the event id as
//! `webhook-id` on every retry, the retry schedule under a manual clock,
//! 410 disabling the endpoint, `Retry-After`, secret rotation, redirects not
//! followed, a capped answer excerpt, and the SSRF guard at creation and at
//! delivery.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Duration};
use serde_json::Value;
use tessera_core::clock::ManualClock;
use tessera_core::crypto::{KeyRing, PasswordParams};
use tessera_core::model::{AuditQuery, ClientInfo, DeliveryQuery, DeliveryStatus, WebhookDelivery};
use tessera_core::store::Store;
use tessera_core::webhooks::AllowHosts;
use tessera_core::{NewWebhookEndpoint, Tessera, WebhookSecret, webhooks};
use tessera_storage_memory::MemoryStore;

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Got {
    id: String,
    timestamp: String,
    signature: String,
    body: Vec<u8>,
}

impl Got {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// What the receiver answers next: status, extra headers, body.
type Reply = (u16, Vec<(&'static str, String)>, String);

#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Got>>>,
    script: Arc<Mutex<VecDeque<Reply>>>,
    elsewhere: Arc<AtomicUsize>,
}

impl Receiver {
    fn then(&self, status: u16, headers: Vec<(&'static str, String)>, body: &str) {
        self.script
            .lock()
            .unwrap()
            .push_back((status, headers, body.to_owned()));
    }

    fn take(&self) -> Vec<Got> {
        std::mem::take(&mut *self.got.lock().unwrap())
    }
}

fn header(h: &HeaderMap, name: &str) -> String {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

async fn hook(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> Response {
    r.got.lock().unwrap().push(Got {
        id: header(&headers, "webhook-id"),
        timestamp: header(&headers, "webhook-timestamp"),
        signature: header(&headers, "webhook-signature"),
        body: body.to_vec(),
    });
    let (status, extra, body) =
        r.script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or((204, Vec::new(), String::new()));
    let mut resp = (StatusCode::from_u16(status).unwrap(), body).into_response();
    for (name, value) in extra {
        resp.headers_mut().insert(name, value.parse().unwrap());
    }
    resp
}

async fn elsewhere(State(r): State<Receiver>) -> StatusCode {
    r.elsewhere.fetch_add(1, Ordering::SeqCst);
    StatusCode::OK
}

async fn receiver() -> (Receiver, SocketAddr) {
    let r = Receiver::default();
    let app = axum::Router::new()
        .route("/hook", post(hook))
        .route("/elsewhere", any(elsewhere))
        .with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (r, addr)
}

struct Env {
    t: Tessera,
    clock: ManualClock,
    store: Arc<dyn Store>,
    r: Receiver,
    addr: SocketAddr,
}

async fn tessera(store: Arc<dyn Store>, clock: &ManualClock, allow: &str) -> Tessera {
    Tessera::builder()
        .store(store)
        .clock(Arc::new(clock.clone()))
        .key_encryption_key(KeyRing::new([5; 32], []))
        .issuer("https://auth.example.test")
        .password_params(PasswordParams::insecure_fast_for_tests())
        .webhook_allow_hosts(AllowHosts::parse(allow).unwrap())
        .build()
        .await
        .unwrap()
}

async fn env() -> Env {
    let clock = ManualClock::new(DateTime::from_timestamp(1_900_000_000, 0).unwrap());
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let t = tessera(store.clone(), &clock, "127.0.0.1, localhost").await;
    let (r, addr) = receiver().await;
    Env {
        t,
        clock,
        store,
        r,
        addr,
    }
}

impl Env {
    fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    async fn endpoint(&self, events: &[&str], asymmetric: bool) -> WebhookSecret {
        let app = self.t.apps().default_app().await.unwrap();
        self.t
            .webhooks()
            .create(&NewWebhookEndpoint {
                app_id: Some(app.id),
                url: self.url(),
                events: events.iter().map(|s| s.to_string()).collect(),
                description: Some("test receiver".into()),
                asymmetric,
            })
            .await
            .unwrap()
    }

    async fn deliver(&self) -> usize {
        self.t.webhooks().deliver_pending().await.unwrap().attempted
    }

    async fn delivery(&self, d: &WebhookDelivery) -> WebhookDelivery {
        self.t
            .webhooks()
            .delivery(d.endpoint_id, d.id)
            .await
            .unwrap()
    }
}

/// Verify with the core's verifier at the delivery's own timestamp.
fn verifies(secret: &str, g: &Got) -> bool {
    let now: i64 = g.timestamp.parse().unwrap();
    webhooks::verify(secret, &g.id, &g.timestamp, &g.signature, &g.body, now).is_ok()
}

/// Check the `v1a` signature with ed25519-dalek directly (not the core's code).
fn v1a_verifies_independently(public_key: &str, g: &Got) -> bool {
    use ed25519_dalek::Verifier as _;
    let pk: [u8; 32] = STANDARD
        .decode(public_key.strip_prefix("whpk_").unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let key = ed25519_dalek::VerifyingKey::from_bytes(&pk).unwrap();
    let mut content = format!("{}.{}.", g.id, g.timestamp).into_bytes();
    content.extend_from_slice(&g.body);
    g.signature
        .split(' ')
        .filter_map(|s| s.strip_prefix("v1a,"))
        .any(|b64| {
            let sig = ed25519_dalek::Signature::from_slice(&STANDARD.decode(b64).unwrap()).unwrap();
            key.verify(&content, &sig).is_ok()
        })
}

#[tokio::test]
async fn events_arrive_signed_with_v1_and_v1a_and_tests_ignore_the_filter() {
    let e = env().await;
    let created = e.endpoint(&["user.*"], true).await;
    assert!(created.secret.starts_with("whsec_"));
    let pk = created.endpoint.public_key.clone().expect("a public key");
    // The secret is never in what the endpoint serialises to.
    let shown =
        serde_json::to_string(&e.t.webhooks().get(created.endpoint.id).await.unwrap()).unwrap();
    assert!(!shown.contains(&created.secret[6..]), "{shown}");

    let app = e.t.apps().default_app().await.unwrap();
    e.t.passwords()
        .sign_up(
            &app,
            "ada@example.com",
            "correct horse battery staple",
            None,
            &ClientInfo::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        e.deliver().await,
        1,
        "user.created only: session.* is filtered out"
    );
    let got = e.r.take();
    assert_eq!(got.len(), 1);
    let g = &got[0];
    assert!(verifies(&created.secret, g), "{g:?}");
    assert!(!verifies(&webhooks::generate_secret(), g));
    assert!(v1a_verifies_independently(&pk, g), "{g:?}");
    webhooks::verify_v1a(
        &pk,
        &g.id,
        &g.timestamp,
        &g.signature,
        &g.body,
        g.timestamp.parse().unwrap(),
    )
    .unwrap();
    let body = g.json();
    assert_eq!(body["type"], "user.created");
    assert_eq!(body["data"]["email"], "ada@example.com");
    assert_eq!(body["data"]["app_id"], app.id.to_string());
    let text = String::from_utf8_lossy(&g.body);
    assert!(!text.contains("argon2") && !text.contains("hash"), "{text}");

    let log =
        e.t.webhooks()
            .deliveries(created.endpoint.id, &DeliveryQuery::default())
            .await
            .unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].status, DeliveryStatus::Succeeded);
    assert_eq!(log[0].event_id.to_string(), g.id);
    assert_eq!(log[0].response_code, Some(204));

    // A test event goes out whatever the filter.
    let d = e.t.webhooks().send_test(created.endpoint.id).await.unwrap();
    assert_eq!(e.deliver().await, 1);
    let got = e.r.take();
    assert_eq!(got[0].json()["type"], "webhook.test");
    assert_eq!(got[0].id, d.event_id.to_string());
    assert!(verifies(&created.secret, &got[0]));
    assert_eq!(e.delivery(&d).await.status, DeliveryStatus::Succeeded);
}

#[tokio::test]
async fn a_500_is_retried_on_schedule_with_the_same_webhook_id() {
    let e = env().await;
    let created = e.endpoint(&["*"], false).await;
    e.r.then(500, Vec::new(), &"x".repeat(5000));
    let d = e.t.webhooks().send_test(created.endpoint.id).await.unwrap();
    assert_eq!(e.deliver().await, 1);
    let first = e.delivery(&d).await;
    assert_eq!(first.status, DeliveryStatus::Pending);
    assert_eq!(first.attempt, 1);
    assert_eq!(first.response_code, Some(500));
    assert_eq!(
        first.response_excerpt.as_deref().map(str::len),
        Some(1024),
        "the excerpt is capped"
    );
    assert_eq!(
        first.next_attempt_at,
        Some(e.clock_now() + Duration::seconds(5))
    );
    // Not due yet.
    assert_eq!(e.deliver().await, 0);
    e.clock.advance(Duration::seconds(5));
    assert_eq!(e.deliver().await, 1);
    let done = e.delivery(&d).await;
    assert_eq!(done.status, DeliveryStatus::Succeeded);
    assert_eq!(done.attempt, 2);
    let got = e.r.take();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].id, got[1].id, "the same webhook-id on every retry");
    assert_ne!(got[0].timestamp, got[1].timestamp, "signed afresh");
    assert!(got.iter().all(|g| verifies(&created.secret, g)));
    // A manual retry of a finished delivery sends it once more.
    e.t.webhooks()
        .retry(created.endpoint.id, d.id)
        .await
        .unwrap();
    assert_eq!(e.deliver().await, 1);
    assert_eq!(e.r.take()[0].id, d.event_id.to_string());
}

impl Env {
    fn clock_now(&self) -> chrono::DateTime<chrono::Utc> {
        use tessera_core::clock::Clock as _;
        self.clock.now()
    }
}

#[tokio::test]
async fn a_410_disables_the_endpoint_and_records_why() {
    let e = env().await;
    let created = e.endpoint(&["*"], false).await;
    e.r.then(410, Vec::new(), "gone");
    let d = e.t.webhooks().send_test(created.endpoint.id).await.unwrap();
    assert_eq!(e.deliver().await, 1);
    assert_eq!(e.delivery(&d).await.status, DeliveryStatus::Failed);
    let ep = e.t.webhooks().get(created.endpoint.id).await.unwrap();
    assert!(!ep.enabled);
    assert_eq!(ep.disabled_reason.as_deref(), Some("gone"));
    let events =
        e.t.audit()
            .list(&AuditQuery {
                kind: Some("webhook.endpoint_disabled".into()),
                ..Default::default()
            })
            .await
            .unwrap();
    assert_eq!(events.len(), 1, "the disabling is recorded");
    // Nothing more goes to a disabled endpoint.
    e.t.webhooks().send_test(created.endpoint.id).await.unwrap();
    assert_eq!(e.deliver().await, 0);
    assert_eq!(e.r.take().len(), 1);
}

#[tokio::test]
async fn retry_after_postpones_the_next_attempt() {
    let e = env().await;
    let created = e.endpoint(&["*"], false).await;
    e.r.then(503, vec![("retry-after", "120".into())], "busy");
    let d = e.t.webhooks().send_test(created.endpoint.id).await.unwrap();
    let t0 = e.clock_now();
    assert_eq!(e.deliver().await, 1);
    assert_eq!(
        e.delivery(&d).await.next_attempt_at,
        Some(t0 + Duration::seconds(120))
    );
    e.clock.advance(Duration::seconds(5));
    assert_eq!(e.deliver().await, 0, "the schedule's 5 s is not enough");
    e.clock.advance(Duration::seconds(115));
    assert_eq!(e.deliver().await, 1);
    assert_eq!(e.delivery(&d).await.status, DeliveryStatus::Succeeded);
}

#[tokio::test]
async fn after_a_rotation_both_secrets_sign_until_the_old_one_expires() {
    let e = env().await;
    let created = e.endpoint(&["*"], true).await;
    let pk = created.endpoint.public_key.clone().unwrap();
    let rotated =
        e.t.webhooks()
            .rotate_secret(created.endpoint.id, Some(3600))
            .await
            .unwrap();
    assert_ne!(rotated.secret, created.secret);
    assert_eq!(
        rotated.endpoint.public_key.as_deref(),
        Some(pk.as_str()),
        "the public key stays"
    );
    e.t.webhooks().send_test(created.endpoint.id).await.unwrap();
    e.deliver().await;
    let g = e.r.take().remove(0);
    assert_eq!(g.signature.matches("v1,").count(), 2, "{}", g.signature);
    assert!(
        verifies(&created.secret, &g),
        "the old secret still verifies"
    );
    assert!(verifies(&rotated.secret, &g), "the new secret verifies");
    assert!(v1a_verifies_independently(&pk, &g));

    e.clock.advance(Duration::seconds(3601));
    e.t.webhooks().send_test(created.endpoint.id).await.unwrap();
    e.deliver().await;
    let g = e.r.take().remove(0);
    assert!(
        !verifies(&created.secret, &g),
        "the old secret has stopped signing"
    );
    assert!(verifies(&rotated.secret, &g));
    assert!(v1a_verifies_independently(&pk, &g));
}

/// Answers 204 only once two requests are in flight together (503 after
/// 5 s alone): a worker that made a batch's attempts one at a time would
/// leave the first one waiting, and it would fail.
async fn together(State(meeting): State<Arc<tokio::sync::Barrier>>) -> StatusCode {
    match tokio::time::timeout(std::time::Duration::from_secs(5), meeting.wait()).await {
        Ok(_) => StatusCode::NO_CONTENT,
        Err(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

#[tokio::test]
async fn a_batch_is_delivered_concurrently_so_a_slow_receiver_holds_up_no_one() {
    let e = env().await;
    let app = axum::Router::new()
        .route("/together", post(together))
        .with_state(Arc::new(tokio::sync::Barrier::new(2)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let mut tests = Vec::new();
    for n in 1..=2 {
        let created =
            e.t.webhooks()
                .create(&NewWebhookEndpoint {
                    app_id: None,
                    url: format!("http://{addr}/together?receiver={n}"),
                    events: vec![],
                    description: None,
                    asymmetric: false,
                })
                .await
                .unwrap();
        tests.push(e.t.webhooks().send_test(created.endpoint.id).await.unwrap());
    }
    // One round claims both: each answer waits for the other request.
    let round = e.t.webhooks().deliver_pending().await.unwrap();
    assert_eq!((round.attempted, round.succeeded), (2, 2));
    for d in &tests {
        let done = e.delivery(d).await;
        assert_eq!(done.status, DeliveryStatus::Succeeded);
        assert_eq!(done.response_code, Some(204));
    }
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let e = env().await;
    let created = e.endpoint(&["*"], false).await;
    e.r.then(
        307,
        vec![("location", format!("http://{}/elsewhere", e.addr))],
        "",
    );
    let d = e.t.webhooks().send_test(created.endpoint.id).await.unwrap();
    assert_eq!(e.deliver().await, 1);
    assert_eq!(
        e.r.elsewhere.load(Ordering::SeqCst),
        0,
        "the redirect was not followed"
    );
    let after = e.delivery(&d).await;
    assert_eq!(
        after.status,
        DeliveryStatus::Pending,
        "a redirect is a failure"
    );
    assert_eq!(after.response_code, Some(307));
}

#[tokio::test]
async fn non_public_addresses_are_refused_at_creation_and_at_delivery() {
    let e = env().await;
    // An instance on the same store without the allow list.
    let guarded = tessera(e.store.clone(), &e.clock, "").await;
    for url in [
        e.url(),
        format!("https://{}/hook", e.addr),
        format!("https://localhost:{}/hook", e.addr.port()),
        "https://169.254.169.254/latest/meta-data".to_owned(),
        "https://[::1]/hook".to_owned(),
        "http://example.com/hook".to_owned(),
    ] {
        let err = guarded
            .webhooks()
            .create(&NewWebhookEndpoint {
                url: url.clone(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), "invalid_webhook_url", "{url}");
    }
    assert!(
        guarded.webhooks().list(None).await.unwrap().is_empty(),
        "nothing written"
    );

    // Endpoints the allowed instance created (a literal address and a name
    // resolving to loopback) are refused when the guarded one delivers.
    let by_ip = e.endpoint(&["*"], false).await;
    let by_name =
        e.t.webhooks()
            .create(&NewWebhookEndpoint {
                url: format!("http://localhost:{}/hook", e.addr.port()),
                ..Default::default()
            })
            .await
            .unwrap();
    let d1 = e.t.webhooks().send_test(by_ip.endpoint.id).await.unwrap();
    let d2 = e.t.webhooks().send_test(by_name.endpoint.id).await.unwrap();
    assert_eq!(
        guarded
            .webhooks()
            .deliver_pending()
            .await
            .unwrap()
            .attempted,
        2
    );
    assert!(e.r.take().is_empty(), "nothing reached the receiver");
    for d in [d1, d2] {
        let after = e.delivery(&d).await;
        assert_eq!(after.status, DeliveryStatus::Pending);
        assert_eq!(
            after.last_error.as_deref(),
            Some("address_refused"),
            "{after:?}"
        );
    }
}
