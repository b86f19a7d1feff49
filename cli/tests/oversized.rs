//! Oversized and malformed request heads against the real binary (issue 15,
//! item 6): hyper answers them itself, before the router, and used to send
//! an empty `431` (or `400`); `tessera serve` answers with the error
//! envelope and `Connection: close` instead, and a huge declared body is
//! refused with `413` before it is sent.

use std::process::{Command, Stdio};
use std::time::Duration;

use super::{Kill, answer_before_close, free_port, wait_healthy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Send `request` (concurrently: the server may answer before it is all
/// sent, and stop reading) and return everything the server sends until it
/// closes, waiting at most 20 s.
async fn exchange(port: u16, request: Vec<u8>) -> String {
    let stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let sender = tokio::spawn(async move {
        // A reset once the server has answered is expected.
        let _ = write.write_all(&request).await;
        write
    });
    let got = answer_before_close(&mut read, Duration::from_secs(20))
        .await
        .expect("the server kept the connection open");
    drop(sender.await);
    got
}

/// The complete answers in `text` (a keep-alive exchange may hold several),
/// each as `(status line, lower-cased head, body)`.
fn answers(mut text: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    while let Some((head, rest)) = text.split_once("\r\n\r\n") {
        let lower = head.to_ascii_lowercase();
        let length: usize = lower
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .map_or(0, |n| n.trim().parse().unwrap());
        if rest.len() < length {
            break;
        }
        let (body, after) = rest.split_at(length);
        let status = head.lines().next().unwrap_or_default().to_owned();
        out.push((status, lower, body.to_owned()));
        text = after;
    }
    out
}

/// `answer` is `status` with the error envelope of `code`, closing.
fn assert_envelope(answer: &(String, String, String), status: u16, code: &str) {
    let (line, head, body) = answer;
    assert!(line.starts_with(&format!("HTTP/1.1 {status} ")), "{line}");
    assert!(head.contains("content-type: application/json"), "{head}");
    let value: serde_json::Value =
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body:?}"));
    assert_eq!(value["error"]["code"], code, "{body}");
    assert!(value["error"]["message"].is_string(), "{body}");
    if status != 413 {
        assert!(head.contains("connection: close"), "{head}");
    }
}

fn with_header_of(bytes: usize) -> Vec<u8> {
    let mut request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ".to_vec();
    request.extend(std::iter::repeat_n(b'a', bytes));
    request.extend_from_slice(b"\r\n\r\n");
    request
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_and_malformed_heads_get_the_envelope() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .arg("serve")
        .current_dir(dir.path())
        .env_clear()
        .env("TESSERA_DATABASE_URL", "memory://")
        .env("TESSERA_LISTEN", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _server = Kill(child);
    wait_healthy(&format!("http://127.0.0.1:{port}/healthz")).await;

    // A head of ordinary size (8 KiB of one header) is served.
    let ok = answers(&exchange(port, with_header_of(8 * 1024)).await);
    assert!(ok[0].0.starts_with("HTTP/1.1 200 "), "{:?}", ok[0]);

    // 64 KiB and 1 MiB of one header, and 200 small header fields: 431.
    for request in [with_header_of(64 * 1024), with_header_of(1024 * 1024)] {
        let got = answers(&exchange(port, request).await);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_envelope(&got[0], 431, "too_large");
    }
    let mut many = b"GET /healthz HTTP/1.1\r\nHost: x\r\n".to_vec();
    for i in 0..200 {
        many.extend_from_slice(format!("X-Field-{i}: 1\r\n").as_bytes());
    }
    many.extend_from_slice(b"\r\n");
    let got = answers(&exchange(port, many).await);
    assert_envelope(&got[0], 431, "too_large");

    // On a kept-alive connection the limit holds for each request: the
    // first is answered, the second, oversized, gets the envelope.
    let mut two = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".to_vec();
    two.extend(with_header_of(64 * 1024));
    let got = answers(&exchange(port, two).await);
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got[0].0.starts_with("HTTP/1.1 200 "), "{:?}", got[0]);
    assert_envelope(&got[1], 431, "too_large");

    // A request line hyper cannot parse: 400 with the envelope.
    let got = answers(&exchange(port, b"NOT HTTP AT ALL\r\n\r\n".to_vec()).await);
    assert_envelope(&got[0], 400, "bad_request");

    // A declared 100 MB body is refused at once, without waiting for it
    // (before, the server waited for the body until its 30 s timeout and
    // answered a bodiless 408).
    let stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    write
        .write_all(
            b"POST /v1/sign-up HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
              Content-Length: 100000000\r\n\r\n",
        )
        .await
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let head_read = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let n = read.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed without an answer");
            got.extend_from_slice(&buf[..n]);
            if let Some(answer) = answers(&String::from_utf8_lossy(&got)).pop() {
                return answer;
            }
        }
    })
    .await
    .expect("no answer while the body was still owed");
    assert_envelope(&head_read, 413, "too_large");
    drop(write);
}
