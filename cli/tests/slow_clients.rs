//! Slow and numerous clients against the real binary (issue 15, item 2): a
//! request whose headers never finish used to be held for over a minute, and
//! enough of them used up the file descriptors until `/healthz` stopped
//! answering.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{Kill, free_port};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// A connection from `source` (any 127.0.0.0/8 address is this machine)
/// that sends the start of a request and never finishes its headers.
async fn slow_client(source: &str, port: u16) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(format!("{source}:0").parse().unwrap()).unwrap();
    let mut stream = socket
        .connect(format!("127.0.0.1:{port}").parse().unwrap())
        .await
        .unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    stream
}

/// What the server sends before closing (empty if it closes at once),
/// waiting at most `limit`; `None` if it keeps the connection open.
async fn answer_before_close(stream: &mut TcpStream, limit: Duration) -> Option<String> {
    let mut got = Vec::new();
    let read = tokio::time::timeout(limit, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    read.ok()
        .map(|()| String::from_utf8_lossy(&got).into_owned())
}

/// Slow-loris from one address, with the server's open-file limit at 256:
/// connections over the per-address limit get 503 with the error envelope at
/// once, `/healthz` from another address still answers, and a half-sent
/// request is closed after the header timeout (10 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_cannot_starve_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    // `ulimit -n 256`: before the fix, 300 slow connections ran the server
    // out of descriptors and /healthz hung.
    let child = Command::new("sh")
        .arg("-c")
        .arg("ulimit -n 256 && exec \"$0\" serve")
        .arg(env!("CARGO_BIN_EXE_tessera"))
        .current_dir(dir.path())
        .env_clear()
        .env("TESSERA_DATABASE_URL", "memory://")
        .env("TESSERA_LISTEN", format!("127.0.0.1:{port}"))
        .env("TESSERA_MAX_CONNECTIONS_PER_IP", "50")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _server = Kill(child);
    let health = format!("http://127.0.0.1:{port}/healthz");
    let start = Instant::now();
    while reqwest::get(&health).await.is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "server did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let opened = Instant::now();
    let mut slow = Vec::new();
    for _ in 0..300 {
        slow.push(slow_client("127.0.0.2", port).await);
    }
    // /healthz from another address answers while 300 slow clients wait.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let res = client.get(&health).send().await.expect("/healthz answers");
    assert_eq!(res.status(), 200);
    // The slow clients over the per-address limit were answered 503 with
    // the envelope and closed.
    let mut refused = 0;
    for stream in &mut slow[50..] {
        let answer = answer_before_close(stream, Duration::from_secs(5))
            .await
            .expect("a refused connection is closed");
        assert!(answer.starts_with("HTTP/1.1 503 "), "{answer:?}");
        assert!(answer.contains(r#""code":"overloaded""#), "{answer}");
        refused += 1;
    }
    assert_eq!(refused, 250);
    // The admitted ones are closed once the header timeout passes, not held.
    let first = &mut slow[0];
    let answer = answer_before_close(first, Duration::from_secs(20))
        .await
        .expect("a half-sent request is closed after the header timeout");
    assert!(!answer.contains("200 OK"), "{answer}");
    assert!(
        opened.elapsed() >= Duration::from_secs(9),
        "closed by the timeout, not at once"
    );
    for stream in &mut slow[1..50] {
        assert!(
            answer_before_close(stream, Duration::from_secs(5))
                .await
                .is_some()
        );
    }
    // With the slots back, the same address is served again.
    let mut again = slow_client("127.0.0.2", port).await;
    again.write_all(b"1\r\n\r\n").await.unwrap();
    let answer = answer_before_close(&mut again, Duration::from_secs(15))
        .await
        .unwrap_or_default();
    assert!(answer.starts_with("HTTP/1.1 200 "), "{answer}");
}
