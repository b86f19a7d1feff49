//! The real `tessera` executable: zero-configuration start, signals, the
//! one-shot commands beside a running server, metrics.

use super::{Kill, free_port, wait_healthy};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `tessera serve` with no arguments in an empty directory: a SQLite file, a
/// development KEK beside it, and /healthz answering. ($PORT picks the port
/// so parallel tests do not collide; everything else is default.)
#[tokio::test]
async fn serve_starts_with_no_arguments_in_an_empty_directory() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .arg("serve")
        .current_dir(dir.path())
        .env_clear()
        .env("PORT", port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = Kill(child);
    let health = wait_healthy(&format!("http://127.0.0.1:{port}/healthz")).await;
    assert_eq!(health["status"], "ok");
    assert_eq!(health["version"], env!("CARGO_PKG_VERSION"));
    assert!(dir.path().join("tessera.db").exists());
    assert!(dir.path().join("tessera.db.kek").exists());
    // The binary installs the Prometheus exporter the router renders.
    let res = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/plain; version=0.0.4");
    let text = res.text().await.unwrap();
    assert!(text.contains("tessera_http_requests_total"), "{text}");
    assert!(text.contains("route=\"/healthz\""), "{text}");
    // SIGTERM: graceful stop.
    let pid = child.0.id();
    Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status()
        .unwrap();
    let start = Instant::now();
    while child.0.try_wait().unwrap().is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "server did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut stderr = String::new();
    use std::io::Read;
    child
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        stderr.contains("/sign-in"),
        "prints where to sign in: {stderr}"
    );
    assert!(
        stderr.contains("DEVELOPMENT"),
        "warns about the development key: {stderr}"
    );
}

/// `tessera keys rotate` and `tessera admin create-api-key` work on the same
/// database as a running server; the server publishes both keys.
#[tokio::test]
async fn cli_rotates_keys_and_creates_api_keys() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_tessera"))
            .args(args)
            .env("TESSERA_DATABASE_URL", &db)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    run(&["migrate"]);
    let _server = Kill(
        Command::new(env!("CARGO_BIN_EXE_tessera"))
            .arg("serve")
            .env("TESSERA_DATABASE_URL", &db)
            .env("TESSERA_LISTEN", format!("127.0.0.1:{port}"))
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    wait_healthy(&format!("{base}/healthz")).await;
    let jwks: serde_json::Value = reqwest::get(format!("{base}/.well-known/jwks.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let before = jwks["keys"].as_array().unwrap().len();
    assert_eq!(before, 1);
    let out = run(&["keys", "rotate", "--alg", "ES256"]);
    assert!(out.starts_with("new signing key: "));
    let jwks: serde_json::Value = reqwest::get(format!("{base}/.well-known/jwks.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let algs: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["alg"].as_str().unwrap())
        .collect();
    assert_eq!(algs, ["EdDSA", "ES256"]);

    let secret = run(&["admin", "create-api-key", "--name", "ops"])
        .trim()
        .to_owned();
    assert!(secret.starts_with("tsk_"));
    let res = reqwest::Client::new()
        .get(format!("{base}/v1/admin/apps"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let out = run(&[
        "admin",
        "create-app",
        "--slug",
        "shop",
        "--name",
        "Shop",
        "--redirect-uri",
        "https://shop.example/cb",
    ]);
    assert!(out.contains("created app shop"));
    assert!(run(&["admin", "list-apps"]).contains("shop"));
}

/// A request's headers (lower-cased names) and body.
type Request = (Vec<(String, String)>, Vec<u8>);

/// A one-request HTTP receiver on loopback: answers 204 and hands back the
/// request.
fn one_request_receiver() -> (u16, std::thread::JoinHandle<Request>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut headers = Vec::new();
        let mut line = String::new();
        reader.read_line(&mut line).unwrap(); // request line
        loop {
            line.clear();
            reader.read_line(&mut line).unwrap();
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let (k, v) = l.split_once(':').unwrap();
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
        let len: usize = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .map(|(_, v)| v.parse().unwrap())
            .unwrap_or(0);
        let mut body = vec![0; len];
        reader.read_exact(&mut body).unwrap();
        let mut stream = stream;
        stream
            .write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n")
            .unwrap();
        (headers, body)
    });
    (port, handle)
}

/// `tessera admin webhooks create` prints the endpoint and its secret once;
/// `test` delivers a signed `webhook.test` event that verifies with that
/// secret; a loopback URL is refused without `TESSERA_WEBHOOK_ALLOW_HOSTS`.
#[test]
fn admin_webhooks_create_and_test() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    let run = |args: &[&str], allow: &str| {
        Command::new(env!("CARGO_BIN_EXE_tessera"))
            .args(args)
            .env("TESSERA_DATABASE_URL", &db)
            .env("TESSERA_WEBHOOK_ALLOW_HOSTS", allow)
            .env_remove("TESSERA_DEV")
            .output()
            .unwrap()
    };
    let (port, receiver) = one_request_receiver();
    let url = format!("http://127.0.0.1:{port}/hook");

    let refused = run(&["admin", "webhooks", "create", "--url", &url], "");
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("invalid_webhook_url"), "{stderr}");

    let out = run(
        &[
            "admin",
            "webhooks",
            "create",
            "--url",
            &url,
            "--event",
            "user.*",
            "--description",
            "ci",
        ],
        "127.0.0.1",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let secret = created["secret"].as_str().unwrap().to_owned();
    let id = created["endpoint"]["id"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    assert_eq!(created["endpoint"]["events"], serde_json::json!(["user.*"]));

    let listed = run(&["admin", "webhooks", "get", "--id", &id], "127.0.0.1");
    let text = String::from_utf8(listed.stdout).unwrap();
    assert!(text.contains(&id) && !text.contains(&secret[6..]), "{text}");

    let out = run(&["admin", "webhooks", "test", "--id", &id], "127.0.0.1");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let delivery: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(delivery["status"], "succeeded", "{delivery}");
    assert_eq!(delivery["response_code"], 204);
    assert_eq!(delivery["event_type"], "webhook.test");

    let (headers, body) = receiver.join().unwrap();
    let h = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert_eq!(h("webhook-id"), delivery["event_id"].as_str().unwrap());
    let ts = h("webhook-timestamp");
    tessera_core::webhooks::verify(
        &secret,
        &h("webhook-id"),
        &ts,
        &h("webhook-signature"),
        &body,
        ts.parse().unwrap(),
    )
    .unwrap();
    let event: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(event["type"], "webhook.test");
}
