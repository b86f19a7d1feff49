#![allow(missing_docs)]
//! Integration tests of the `tessera` binary (one test binary, to keep link
//! time down): each runs the real executable.

/// Serving, the one-shot commands beside a running server, metrics.
mod binary;

/// The stable configuration names.
mod contract;

/// Oversized and malformed request heads get the error envelope.
mod oversized;

/// Slow and numerous clients: header timeout, connection limits.
mod slow_clients;

/// Configuration that cannot work is refused at start-up.
mod startup;

use std::process::Child;
use std::time::{Duration, Instant};

/// A child process killed (and reaped) when the test ends, pass or fail.
struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A TCP port free on loopback right now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Wait (at most 30 s) until `url` answers 200; its JSON body.
async fn wait_healthy(url: &str) -> serde_json::Value {
    let start = Instant::now();
    loop {
        if let Ok(res) = reqwest::get(url).await
            && res.status() == 200
        {
            return res.json().await.unwrap();
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "server did not become healthy"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What the server sends before closing (empty if it closes at once),
/// waiting at most `limit`; `None` if it keeps the connection open.
async fn answer_before_close(
    stream: &mut (impl tokio::io::AsyncRead + Unpin),
    limit: Duration,
) -> Option<String> {
    use tokio::io::AsyncReadExt;
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
