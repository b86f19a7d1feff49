//! Configuration that cannot work is refused when `tessera serve` starts, with
//! the setting and the fix in the message and a non-zero exit, instead of
//! failing request by request (issue 15, item 7; issue 22).

use super::free_port;
use std::process::{Command, Output};
use std::time::Duration;

/// Run `tessera serve` with `env` (and nothing else from the environment);
/// it must exit by itself within 30 s.
fn serve_exits(dir: &std::path::Path, env: &[(&str, &str)]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .arg("serve")
        .current_dir(dir)
        .env_clear()
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("`tessera serve` {env:?} started instead of refusing");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The found 5xx: with `TESSERA_BASE_URL=http://127.0.0.1:8080`, passkey
/// start answered 500 `config_error`. Now the server does not start.
#[test]
fn an_address_as_base_url_is_refused_because_passkeys_cannot_work() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port().to_string();
    let base = format!("http://127.0.0.1:{port}");
    let out = serve_exits(
        dir.path(),
        &[
            ("TESSERA_DATABASE_URL", "memory://"),
            ("TESSERA_LISTEN", &format!("127.0.0.1:{port}")),
            ("TESSERA_BASE_URL", &base),
        ],
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("config_error"), "{err}");
    assert!(err.contains("TESSERA_BASE_URL"), "{err}");
    assert!(err.contains(&format!("http://localhost:{port}")), "{err}");
    assert!(err.contains("TESSERA_WEBAUTHN_RP_ID"), "{err}");
}

/// Each malformed setting stops the start with its name in the message.
#[test]
fn malformed_settings_stop_the_start_naming_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    for (env, setting) in [
        (
            ("TESSERA_SMTP_URL", "smtp://mail.example.com:587?tls=maybe"),
            "TESSERA_SMTP_URL",
        ),
        (
            ("TESSERA_COOKIE_DOMAIN", "example.org"),
            "TESSERA_COOKIE_DOMAIN",
        ),
        (
            ("TESSERA_TRUSTED_PROXIES", "0.0.0.0/0"),
            "TESSERA_TRUSTED_PROXIES",
        ),
        (
            ("TESSERA_ADMIN_API_KEY", "hunter2"),
            "TESSERA_ADMIN_API_KEY",
        ),
        (("TESSERA_SIGNING_ALG", "none"), "TESSERA_SIGNING_ALG"),
        (("TESSERA_LISTEN", "localhost"), "TESSERA_LISTEN"),
        (
            ("TESSERA_BASE_URL", "https://auth.example.com/?a=b"),
            "TESSERA_BASE_URL",
        ),
        (("TESSERA_MAX_CONNECTIONS", "0"), "TESSERA_MAX_CONNECTIONS"),
    ] {
        let out = serve_exits(
            dir.path(),
            &[("TESSERA_DATABASE_URL", "memory://"), ("PORT", "1"), env],
        );
        assert!(!out.status.success(), "{env:?}");
        let err = stderr(&out);
        assert!(err.contains(setting), "{env:?}: {err}");
        // The secret value is never echoed.
        assert!(!err.contains("hunter2"), "{err}");
    }
    // A port already in use.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = taken.local_addr().unwrap().to_string();
    let out = serve_exits(
        dir.path(),
        &[
            ("TESSERA_DATABASE_URL", "memory://"),
            ("TESSERA_LISTEN", &listen),
        ],
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("TESSERA_LISTEN") && err.contains("Fix:"),
        "{err}"
    );
}

/// Issue 22: a key-encryption key that does not open the signing key made
/// every sign-in answer 500. Now `serve` refuses to start and says which
/// setting to fix.
#[test]
fn a_wrong_key_encryption_key_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    let kek = || {
        let out = Command::new(env!("CARGO_BIN_EXE_tessera"))
            .args(["keys", "generate-kek"])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let (right, wrong) = (kek(), kek());
    assert_ne!(right, wrong);
    // The signing key is made and sealed under `right`.
    let out = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["keys", "rotate"])
        .env_clear()
        .env("TESSERA_DATABASE_URL", &db)
        .env("TESSERA_KEY_ENCRYPTION_KEY", &right)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let port = free_port().to_string();
    let out = serve_exits(
        dir.path(),
        &[
            ("TESSERA_DATABASE_URL", &db),
            ("PORT", &port),
            ("TESSERA_KEY_ENCRYPTION_KEY", &wrong),
        ],
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("TESSERA_KEY_ENCRYPTION_KEY does not open this database's signing key"),
        "{err}"
    );
    assert!(err.contains("TESSERA_KEY_ENCRYPTION_KEY_OLD"), "{err}");
    assert!(
        !err.contains(&wrong) && !err.contains(&right),
        "no key in the log"
    );
    // The old key kept as an old key lets it start (the rotation case): it
    // answers /healthz, so it did not exit.
    let mut child = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .arg("serve")
        .env_clear()
        .env("TESSERA_DATABASE_URL", &db)
        .env("TESSERA_LISTEN", format!("127.0.0.1:{port}"))
        .env("TESSERA_KEY_ENCRYPTION_KEY", &wrong)
        .env("TESSERA_KEY_ENCRYPTION_KEY_OLD", &right)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    let healthy = loop {
        if std::net::TcpStream::connect(format!("127.0.0.1:{port}")).is_ok() {
            break true;
        }
        if child.try_wait().unwrap().is_some() || start.elapsed() > Duration::from_secs(30) {
            break false;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        healthy,
        "serves with the old key kept in TESSERA_KEY_ENCRYPTION_KEY_OLD"
    );
}
