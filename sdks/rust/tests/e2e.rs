//! Against a real Tessera server: set TESSERA_BIN to the `tessera` binary.

use std::fs::File;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use tessera_sdk::{Client, Verifier};

const PASSWORD: &str = "correct horse battery staple 42";

/// Kills the server when the test ends, however it ends, and shows its log
/// when the test failed.
struct Server {
    child: Child,
    log: PathBuf,
}

impl Server {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("tessera serve log:\n{}", self.log());
        }
    }
}

fn kid(token: &str) -> String {
    let head = token.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(head).unwrap()).unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

async fn expect(res: reqwest::Response, status: u16) -> Value {
    let got = res.status().as_u16();
    let text = res.text().await.unwrap();
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn e2e_requires_tessera_bin() {
    let Some(bin) = std::env::var_os("TESSERA_BIN") else {
        println!("e2e_requires_tessera_bin: skipped (set TESSERA_BIN to the tessera binary)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let api_key = format!("tsk_{}", URL_SAFE_NO_PAD.encode(rand_bytes()));
    assert_eq!(api_key.len(), 4 + 43);
    let env = [
        (
            "TESSERA_DATABASE_URL".to_owned(),
            format!("sqlite://{}", dir.path().join("t.db").display()),
        ),
        ("TESSERA_LISTEN".into(), format!("127.0.0.1:{port}")),
        ("TESSERA_BASE_URL".into(), base.clone()),
        ("TESSERA_ADMIN_API_KEY".into(), api_key.clone()),
        ("TESSERA_DEV".into(), "1".into()),
        ("TESSERA_RATE_LIMITS".into(), "off".into()),
    ];
    let log = dir.path().join("serve.log");
    let out = File::create(&log).unwrap();
    let mut server = Server {
        child: Command::new(&bin)
            .arg("serve")
            .current_dir(dir.path())
            .envs(env.iter().cloned())
            .stdout(Stdio::from(out.try_clone().unwrap()))
            .stderr(Stdio::from(out))
            .spawn()
            .expect("start tessera serve"),
        log,
    };
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = http.get(format!("{base}/healthz")).send().await
            && r.status() == 200
        {
            break;
        }
        if let Some(status) = server.child.try_wait().unwrap() {
            panic!("tessera serve exited early ({status})");
        }
        assert!(Instant::now() < deadline, "server not healthy within 60 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let email = format!("e2e-{port}@example.test");
    let signed_up = expect(
        http.post(format!("{base}/v1/sign-up"))
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    let token1 = signed_up["access_token"].as_str().unwrap().to_owned();
    let user_id = signed_up["user"]["id"].as_str().unwrap().to_owned();
    let app = expect(
        http.get(format!("{base}/v1/admin/apps/default"))
            .bearer_auth(&api_key)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let app_id = app["id"].as_str().unwrap();

    let verifier = Verifier::new(&base, app_id);
    let claims = verifier
        .verify(&token1)
        .await
        .expect("verify sign-up token");
    assert_eq!(claims.sub, user_id);
    assert_eq!(claims.client_id.as_deref(), Some(app_id));
    assert!(claims.sid.is_some());

    let rotated = Command::new(&bin)
        .args(["keys", "rotate"])
        .current_dir(dir.path())
        .envs(env.iter().cloned())
        .output()
        .unwrap();
    assert!(
        rotated.status.success(),
        "keys rotate: {}",
        String::from_utf8_lossy(&rotated.stderr)
    );
    // A running server caches its signing key for up to a minute
    // (core/src/tokens.rs), so sign in until a token carries the new kid.
    let deadline = Instant::now() + Duration::from_secs(90);
    let token2 = loop {
        let signed_in = expect(
            http.post(format!("{base}/v1/sign-in/password"))
                .json(&json!({"email": email, "password": PASSWORD}))
                .send()
                .await
                .unwrap(),
            200,
        )
        .await;
        let token = signed_in["access_token"].as_str().unwrap().to_owned();
        if kid(&token) != kid(&token1) {
            break token;
        }
        assert!(
            Instant::now() < deadline,
            "no token under the rotated key within 90 s of keys rotate"
        );
        tokio::time::sleep(Duration::from_secs(5)).await;
    };
    let claims2 = verifier
        .verify(&token2)
        .await
        .expect("verify after rotation");
    assert_eq!(claims2.sub, user_id);
    assert_ne!(claims2.sid, claims.sid);
    verifier
        .verify(&token1)
        .await
        .expect("the old key stays published");

    let client = Client::new(&base, &api_key);
    assert_eq!(client.get_user(&user_id).await.unwrap().email, email);
    assert_eq!(
        client
            .get_user_by_email(&email.to_uppercase())
            .await
            .unwrap()
            .id,
        user_id
    );
    assert!(
        client
            .get_user("01900000-0000-7000-8000-000000000000")
            .await
            .unwrap_err()
            .is_not_found()
    );
    // At least the sign-up and one sign-in session.
    assert!(client.revoke_sessions(&user_id).await.unwrap() >= 2);
}

fn rand_bytes() -> [u8; 32] {
    // Unique enough for a throwaway test key; no RNG dependency needed.
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = (seed.rotate_left(i as u32 * 7) as u8) ^ (i as u8).wrapping_mul(37);
    }
    out
}
