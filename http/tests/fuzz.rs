//! Property tests ("fuzzing" on stable Rust, issue 15) of what the HTTP face
//! parses from an attacker: every route's body and query string, `Cookie`
//! headers and CSRF tokens of the hosted forms, and the OAuth callback's
//! parameters. Requests go through the router in process (`tower`'s
//! `oneshot`), so thousands of cases take seconds.
//!
//! The properties: nothing panics; nothing answers 5xx (except 502
//! `provider_error` from the OAuth routes, the contract when a configured
//! provider cannot be reached); every JSON answer of a 4xx is the error
//! envelope (`docs/contract.md`); every error of a hosted form post is an
//! HTML page (413 excepted: the envelope, as documented); a CSRF check or a
//! session cookie passes only with the genuine value.
//!
//! Each property runs `PROPTEST_CASES` cases (64 by default, a few seconds);
//! longer runs: docs/security.md, "Fuzzing". The core's parsers have their
//! own properties in `core/tests/fuzz.rs`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, header};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};
use tessera_http::HttpOptions;
use tower::ServiceExt;

use crate::harness::{ADMIN_KEY, PASSWORD, hidden_csrf, tessera_at};

const EMAIL: &str = "fuzz@example.com";
const CONTENT_TYPES: &[&str] = &[
    "application/json",
    "application/x-www-form-urlencoded",
    "text/plain",
    "application/json; charset=utf-8",
    "multipart/form-data; boundary=x",
];

/// An answer: status, content type, body.
struct Answer {
    status: u16,
    content_type: String,
    body: Vec<u8>,
    set_cookie: Vec<String>,
}

/// The router over a memory store with the admin key bootstrapped and one
/// user signed up, and a runtime to drive it.
struct Fixture {
    rt: tokio::runtime::Runtime,
    router: axum::Router,
    user_token: String,
}

impl Fixture {
    fn new() -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let router = rt.block_on(async {
            let store = Arc::new(tessera_storage_memory::MemoryStore::new());
            // A host name: passkeys need a domain as RP id.
            let tessera = tessera_at(store, false, "http://localhost").await;
            let options = HttpOptions {
                base_url: "http://localhost".into(),
                rate_limits: false,
                ..Default::default()
            };
            tessera_http::router_with(tessera, options)
        });
        let mut f = Fixture {
            rt,
            router,
            user_token: String::new(),
        };
        let body = json!({"email": EMAIL, "password": PASSWORD}).to_string();
        let a = f.send(
            Request::post("/v1/sign-up")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body))
                .unwrap(),
        );
        assert_eq!(a.status, 201);
        let v: Value = serde_json::from_slice(&a.body).unwrap();
        f.user_token = v["access_token"].as_str().unwrap().to_owned();
        f
    }

    fn send(&self, mut req: Request<Body>) -> Answer {
        let peer: SocketAddr = "192.0.2.7:40000".parse().unwrap();
        req.extensions_mut().insert(ConnectInfo(peer));
        self.rt.block_on(async {
            let res = self.router.clone().oneshot(req).await.unwrap();
            let status = res.status().as_u16();
            let content_type = res
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let set_cookie = res
                .headers()
                .get_all(header::SET_COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok().map(str::to_owned))
                .collect();
            let body = axum::body::to_bytes(res.into_body(), usize::MAX)
                .await
                .unwrap()
                .to_vec();
            Answer {
                status,
                content_type,
                body,
                set_cookie,
            }
        })
    }
}

/// `PROPTEST_CASES` cases, 64 unless set.
fn runner() -> TestRunner {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

/// Percent-encode every byte but unreserved ones.
fn encode(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn form(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k.as_bytes()), encode(v.as_bytes())))
        .collect::<Vec<_>>()
        .join("&")
}

/// How a route answers its errors.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Speaks {
    /// The JSON API and the JSON routes of hosted pages' scripts: the
    /// envelope.
    Json,
    /// A hosted form post: an HTML page (413 excepted: the envelope).
    Html,
    /// Anything else (pages, assets, discovery): a JSON answer is the
    /// envelope.
    Either,
}

/// How the route at `path`, with a body of `content_type`, answers errors.
fn speaks(path: &str, content_type: Option<&str>) -> Speaks {
    match content_type {
        _ if path.starts_with("/v1/") => Speaks::Json,
        Some("application/json") => Speaks::Json,
        Some(_) => Speaks::Html,
        None => Speaks::Either,
    }
}

/// The checks every answer passes: no 5xx (but 502 `provider_error` on the
/// OAuth routes), the envelope on every JSON 4xx and on every 4xx of a route
/// that speaks JSON, an HTML page for every error of a hosted form post.
fn check_answer(at: &str, route: &str, speaks: Speaks, a: &Answer) -> Result<(), TestCaseError> {
    let text = String::from_utf8_lossy(&a.body);
    let json = a.content_type.starts_with("application/json");
    let envelope = || -> Option<String> {
        let v: Value = serde_json::from_slice(&a.body).ok()?;
        v["error"]["code"].as_str().map(str::to_owned)
    };
    if a.status >= 500 {
        let provider = route.contains("/sign-in/oauth/") && a.status == 502;
        prop_assert!(
            provider && (!json || envelope().as_deref() == Some("provider_error")),
            "{at}: {} {text}",
            a.status
        );
    }
    if (400..500).contains(&a.status) {
        if json || speaks == Speaks::Json {
            prop_assert!(json, "{at}: {} {} {text}", a.status, a.content_type);
            prop_assert!(envelope().is_some(), "{at}: {} {text}", a.status);
        }
        if speaks == Speaks::Html && a.status != 413 {
            prop_assert!(
                a.content_type.starts_with("text/html"),
                "{at}: {} {} {text}",
                a.status,
                a.content_type
            );
        }
    }
    Ok(())
}

/// One operation of the OpenAPI document.
#[derive(Debug, Clone)]
struct Operation {
    method: String,
    path: String,
    /// The body's content type, if it has one.
    body: Option<String>,
    /// Names of the body's properties and of the query parameters.
    fields: Vec<String>,
    query: Vec<String>,
}

/// Every operation of the document, with the names its body and query use.
fn operations() -> Vec<Operation> {
    let doc = serde_json::to_value(tessera_http::openapi()).unwrap();
    let schemas = &doc["components"]["schemas"];
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let content = op["requestBody"]["content"].as_object();
            let body = content.and_then(|c| c.keys().next().cloned());
            let mut fields = Vec::new();
            if let Some((_, media)) = content.and_then(|c| c.iter().next()) {
                let mut schema = &media["schema"];
                if let Some(name) = schema["$ref"].as_str() {
                    schema = &schemas[name.rsplit('/').next().unwrap()];
                }
                if let Some(props) = schema["properties"].as_object() {
                    fields.extend(props.keys().cloned());
                }
            }
            let query = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "query")
                .filter_map(|p| p["name"].as_str().map(str::to_owned))
                .collect();
            ops.push(Operation {
                method: method.to_uppercase(),
                path: path.clone(),
                body,
                fields,
                query,
            });
        }
    }
    ops
}

/// Any JSON value, up to three levels deep, with object keys drawn from
/// `keys` half of the time.
fn json_value(keys: Vec<String>) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,40}".prop_map(Value::from),
        Just(Value::from(EMAIL)),
        Just(Value::from(PASSWORD)),
    ];
    let key = prop_oneof![select(keys), ".{0,12}"];
    leaf.prop_recursive(3, 32, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// What a request carries as its body.
#[derive(Debug, Clone)]
enum Sent {
    Json(Value),
    Form(Vec<(String, String)>),
    Bytes(&'static str, Vec<u8>),
}

/// The route of `op` with its path parameters replaced by `value`.
fn fill(path: &str, value: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find('}')
            .map_or(rest.len(), |e| start + e + 1);
        out.push_str(value);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Every route of the document, with arbitrary JSON values, forms and bytes
/// as bodies, arbitrary query strings and path parameters, with no
/// credentials, a user's token or the admin key.
#[test]
fn every_route_takes_arbitrary_bodies_without_5xx_and_answers_in_its_form() {
    let f = Fixture::new();
    let ops = operations();
    assert!(ops.len() > 80, "{}", ops.len());
    let keys: Vec<String> = {
        let mut k: Vec<String> = ops.iter().flat_map(|o| o.fields.clone()).collect();
        k.extend(["email".into(), "password".into(), "csrf".into()]);
        k.sort();
        k.dedup();
        k
    };
    let query_keys: Vec<String> = {
        let mut k: Vec<String> = ops.iter().flat_map(|o| o.query.clone()).collect();
        k.push("app".into());
        k.sort();
        k.dedup();
        k
    };
    let sent = prop_oneof![
        3 => prop::collection::vec((select(keys.clone()), json_value(keys.clone())), 0..6)
            .prop_map(|kv| Sent::Json(Value::Object(kv.into_iter().collect()))),
        1 => json_value(keys.clone()).prop_map(Sent::Json),
        2 => prop::collection::vec((prop_oneof![select(keys.clone()), ".{0,8}"], ".{0,40}"), 0..6)
            .prop_map(Sent::Form),
        1 => (select(CONTENT_TYPES), prop::collection::vec(any::<u8>(), 0..200))
            .prop_map(|(ct, b)| Sent::Bytes(ct, b)),
    ];
    let path_value = prop_oneof![
        "[a-z0-9-]{0,12}",
        Just("default".to_owned()),
        Just("00000000-0000-0000-0000-000000000000".to_owned()),
        prop::collection::vec(any::<u8>(), 0..20).prop_map(|b| encode(&b)),
    ];
    let query = prop::collection::vec((select(query_keys), ".{0,30}"), 0..4);
    let strategy = (0..ops.len(), 0..3u8, path_value, query, sent);
    runner()
        .run(&strategy, |(i, who, value, query, sent)| {
            let op = &ops[i];
            let mut uri = fill(&op.path, &value);
            if !query.is_empty() {
                uri = format!("{uri}?{}", form(&query));
            }
            let mut req = Request::builder().method(op.method.as_str()).uri(&uri);
            match who {
                1 => req = req.header(header::AUTHORIZATION, format!("Bearer {}", f.user_token)),
                2 => req = req.header(header::AUTHORIZATION, format!("Bearer {ADMIN_KEY}")),
                _ => {}
            }
            let has_body = op.body.is_some() || op.method != "GET";
            let (content_type, body) = match (&sent, has_body) {
                (_, false) => (None, Vec::new()),
                (Sent::Json(v), _) => (Some("application/json"), v.to_string().into_bytes()),
                (Sent::Form(pairs), _) => (
                    Some("application/x-www-form-urlencoded"),
                    form(pairs).into_bytes(),
                ),
                (Sent::Bytes(ct, b), _) => (Some(*ct), b.clone()),
            };
            if let Some(ct) = content_type {
                req = req.header(header::CONTENT_TYPE, ct);
            }
            let Ok(req) = req.body(Body::from(body)) else {
                // A URI the client side cannot even build: nothing to send.
                return Ok(());
            };
            let a = f.send(req);
            let at = format!("{} {uri} {sent:?}", op.method);
            check_answer(&at, &op.path, speaks(&op.path, op.body.as_deref()), &a)
        })
        .unwrap();
}

/// A genuine CSRF pair of a fresh browser: (cookie value, form token).
fn genuine_csrf(f: &Fixture) -> (String, String) {
    let a = f.send(Request::get("/sign-in").body(Body::empty()).unwrap());
    assert_eq!(a.status, 200);
    let cookie = a
        .set_cookie
        .iter()
        .find_map(|c| c.strip_prefix("tessera_csrf="))
        .and_then(|c| c.split(';').next())
        .expect("csrf cookie")
        .to_owned();
    (cookie, hidden_csrf(&String::from_utf8_lossy(&a.body)))
}

/// Post the hosted sign-in form with the right password, `cookie` as the
/// `Cookie` header and `csrf` as the form's token: whether it signed in
/// (a session cookie set), after checking the answer's form.
fn hosted_sign_in(f: &Fixture, cookie: &[u8], csrf: &str) -> Result<bool, TestCaseError> {
    let body = form(&[
        ("csrf".into(), csrf.into()),
        ("email".into(), EMAIL.into()),
        ("password".into(), PASSWORD.into()),
    ]);
    let Ok(req) = Request::post("/sign-in")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, cookie)
        .body(Body::from(body))
    else {
        // Not a valid header value: no client can send it.
        return Ok(false);
    };
    let a = f.send(req);
    check_answer("POST /sign-in", "/sign-in", Speaks::Html, &a)?;
    Ok(a.set_cookie
        .iter()
        .any(|c| c.starts_with("tessera_session=") && !c.contains("Max-Age=0")))
}

/// Flip one character of `s` at `at` to another base64url character.
fn flip(s: &str, at: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut b = s.as_bytes().to_vec();
    let i = at % b.len();
    let pos = ALPHABET.iter().position(|&c| c == b[i]).unwrap_or(0);
    b[i] = ALPHABET[(pos + 1 + at / b.len() % 63) % 64];
    String::from_utf8(b).unwrap()
}

/// Arbitrary `Cookie` headers and CSRF fields on the hosted sign-in form,
/// with the account's right password: it signs in only with a genuine pair
/// (a browser's cookie and its token); a token or cookie with one character
/// changed, one browser's cookie with another's token, or random values are
/// refused (with an HTML page).
#[test]
fn csrf_checks_pass_only_genuine_pairs_whatever_the_cookie_header() {
    let f = Fixture::new();
    let (id, token) = genuine_csrf(&f);
    let (other_id, other_token) = genuine_csrf(&f);
    assert_ne!(id, other_id);
    assert!(hosted_sign_in(&f, format!("tessera_csrf={id}").as_bytes(), &token).unwrap());
    let cookie = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..120),
        ".{0,80}".prop_map(String::into_bytes),
        "[A-Za-z0-9_-]{43}".prop_map(|v| format!("tessera_csrf={v}").into_bytes()),
        (0..43usize * 64).prop_map({
            let id = id.clone();
            move |at| format!("tessera_csrf={}", flip(&id, at)).into_bytes()
        }),
        "[a-z]{0,8}=[a-z]{0,8}".prop_map({
            let id = other_id.clone();
            move |junk| format!("{junk}; tessera_csrf={id}").into_bytes()
        }),
        Just(format!("tessera_csrf={id}").into_bytes()),
    ];
    let csrf = prop_oneof![
        ".{0,60}",
        "[A-Za-z0-9_-]{43}",
        (0..43usize * 64).prop_map({
            let token = token.clone();
            move |at| flip(&token, at)
        }),
        Just(other_token.clone()),
        Just(token.clone()),
    ];
    let genuine_cookie = format!("tessera_csrf={id}").into_bytes();
    runner()
        .run(&(cookie, csrf), |(cookie, csrf)| {
            let signed_in = hosted_sign_in(&f, &cookie, &csrf)?;
            // This browser's pair, or the other browser's whole pair.
            let other = format!("; tessera_csrf={other_id}");
            let genuine = cookie == genuine_cookie && csrf == token
                || cookie.ends_with(other.as_bytes()) && csrf == other_token;
            prop_assert_eq!(
                signed_in,
                genuine,
                "cookie {:?} csrf {:?}",
                String::from_utf8_lossy(&cookie),
                csrf
            );
            Ok(())
        })
        .unwrap();
}

/// Arbitrary `Cookie` headers on a page and a JSON route that read the
/// session cookie: never 5xx, never signed in without a genuine session.
#[test]
fn arbitrary_session_cookies_sign_nobody_in() {
    let f = Fixture::new();
    let cookie = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..200),
        (
            "(tessera_session|tessera_at|tessera_device|tessera_mfa)",
            ".{0,80}"
        )
            .prop_map(|(n, v)| format!("{n}={v}").into_bytes()),
        ("(tessera_session|tessera_at)", "tss_[A-Za-z0-9_-]{0,50}")
            .prop_map(|(n, v)| format!("{n}={v}").into_bytes()),
    ];
    runner()
        .run(&cookie, |cookie| {
            for uri in ["/account", "/v1/me"] {
                let Ok(req) = Request::get(uri)
                    .header(header::COOKIE, cookie.as_slice())
                    .body(Body::empty())
                else {
                    return Ok(());
                };
                let a = f.send(req);
                check_answer(&format!("GET {uri}"), uri, speaks(uri, None), &a)?;
                // The page sends the visitor to sign in; the API refuses.
                let expected = if uri == "/account" { 303 } else { 401 };
                prop_assert_eq!(
                    a.status,
                    expected,
                    "{} {:?}",
                    uri,
                    String::from_utf8_lossy(&cookie)
                );
            }
            Ok(())
        })
        .unwrap();
}

/// Arbitrary OAuth callback parameters (the provider's redirect back: GET
/// query and `form_post` body), for a provider that exists and one that
/// does not: never 5xx, never a redirect (no state is genuine), always the
/// envelope.
#[test]
fn oauth_callback_parameters_are_refused_in_the_envelope() {
    let f = Fixture::new();
    let provider = r#"{"kind":"github","client_id":"fuzz","client_secret":"fuzz-secret"}"#;
    let a = f.send(
        Request::put("/v1/admin/apps/default/oauth-providers/github")
            .header(header::AUTHORIZATION, format!("Bearer {ADMIN_KEY}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(provider))
            .unwrap(),
    );
    assert!(
        a.status < 300,
        "{} {}",
        a.status,
        String::from_utf8_lossy(&a.body)
    );
    let key = prop_oneof![
        Just("state".to_owned()),
        Just("code".to_owned()),
        Just("error".to_owned()),
        Just("user".to_owned()),
        Just("iss".to_owned()),
        ".{0,8}",
    ];
    let value = prop_oneof![
        ".{0,60}".prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 0..60),
        Just(br#"{"name":{"firstName":"A"}}"#.to_vec()),
    ];
    let params = prop::collection::vec((key, value), 0..5);
    let strategy = (
        prop_oneof![Just("github"), Just("nope")],
        any::<bool>(),
        params,
    );
    runner()
        .run(&strategy, |(provider, post, params)| {
            let encoded = params
                .iter()
                .map(|(k, v)| format!("{}={}", encode(k.as_bytes()), encode(v)))
                .collect::<Vec<_>>()
                .join("&");
            let path = format!("/v1/sign-in/oauth/{provider}/callback");
            let req = if post {
                Request::post(&path)
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from(encoded.clone()))
            } else {
                Request::get(format!("{path}?{encoded}")).body(Body::empty())
            };
            let a = f.send(req.unwrap());
            check_answer(&format!("{path} {encoded}"), &path, Speaks::Json, &a)?;
            prop_assert!(
                (400..500).contains(&a.status),
                "{} {}: {}",
                path,
                encoded,
                a.status
            );
            Ok(())
        })
        .unwrap();
}
