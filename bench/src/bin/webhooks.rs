//! Webhook delivery through the outbox, and what an endpoint adds to the
//! paths that emit events (issue 16).
//!
//! 1. **Events per second through the outbox** on one store (SQLite or
//!    Postgres): sign-ups queue `user.created` deliveries for one endpoint;
//!    then `W` workers (`Webhooks::deliver_pending`, what `tessera serve`
//!    runs) drain them to a local HTTP receiver: claim under a lease, sign,
//!    POST, record the attempt. Measured beside a raw baseline in the same
//!    run: the same number of signed POSTs to the same receiver with no store
//!    (sign + POST only), so the ratio is the outbox's own cost.
//! 2. **The cost of the event write** on sign-up and sign-in, in *pairs*: one
//!    call on an app with an endpoint subscribed to every event (the change,
//!    its event and one delivery row in one atomic write), then the same call
//!    on an app without one (the change and its event), alternating, so both
//!    arms see the same machine load. Password hashing uses the insecure fast
//!    parameters so that the store's cost is what is compared, not argon2id.
//!
//! The receiver is a minimal HTTP/1.1 server on loopback answering `204`
//! (allowed through the SSRF guard by `webhook_allow_hosts`).
//!
//! Run with: `cargo run --release -p tessera-bench --bin webhooks -- --url sqlite:///tmp/w.db`

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use tessera_bench::{PASSWORD, fmt_dur, machine_note};
use tessera_core::NewApp;
use tessera_core::Tessera;
use tessera_core::crypto::{KeyRing, PasswordParams};
use tessera_core::model::{App, ClientInfo};
use tessera_core::webhooks::{AllowHosts, NewWebhookEndpoint};
use tessera_storage::TesseraOpener;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Parser, Debug)]
struct Args {
    /// The store: `sqlite://PATH` or `postgres://…` (a fresh database).
    #[arg(long)]
    url: String,
    /// Label of the tables (default: the backend).
    #[arg(long)]
    label: Option<String>,
    /// Events queued then delivered per outbox run (two per sign-up).
    #[arg(long, default_value_t = 1000)]
    events: u64,
    /// Worker counts to drain with, one run each.
    #[arg(long, value_delimiter = ',', default_value = "1,4")]
    workers: Vec<usize>,
    /// Pairs per path for the event-write cost.
    #[arg(long, default_value_t = 300)]
    pairs: usize,
}

/// Answers every request with `204`, counting them; keep-alive.
async fn receiver() -> std::io::Result<(String, Arc<AtomicU64>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    let count = Arc::new(AtomicU64::new(0));
    let counter = count.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream, counter.clone()));
        }
    });
    Ok((url, count))
}

async fn serve(mut stream: TcpStream, count: Arc<AtomicU64>) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(8192);
    let mut chunk = [0u8; 8192];
    loop {
        // One request: the head, then Content-Length bytes of body.
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        while buf.len() < head_end + len {
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        buf.drain(..head_end + len);
        count.fetch_add(1, Ordering::Relaxed);
        stream
            .write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
            .await?;
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Sign up `n` users on `app` (each queues one delivery per subscribed
/// endpoint); the e-mail addresses start at `from`.
async fn sign_ups(t: &Tessera, app: &App, from: u64, n: u64) -> tessera_core::Result<()> {
    for i in from..from + n {
        t.passwords()
            .sign_up(
                app,
                &format!("u{i}@{}.bench.example", app.slug),
                PASSWORD,
                None,
                &ClientInfo::default(),
            )
            .await?;
    }
    Ok(())
}

/// Drain every pending delivery with `workers` concurrent workers; the
/// wall time.
async fn drain(t: &Tessera, workers: usize) -> tessera_core::Result<Duration> {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..workers {
        let t = t.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let round = t.webhooks().deliver_pending().await?;
                if round.attempted == 0 && t.webhooks().pending().await? == 0 {
                    return Ok::<_, tessera_core::Error>(());
                }
            }
        }));
    }
    for task in tasks {
        task.await
            .map_err(|e| tessera_core::Error::internal(e.to_string()))??;
    }
    Ok(start.elapsed())
}

/// The raw baseline: `n` signed POSTs of a sign-up-sized body, one at a
/// time, through one client (as one worker sends them).
async fn raw_posts(url: &str, n: u64) -> Result<Duration, Box<dyn std::error::Error>> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let secret = tessera_core::webhooks::generate_secret();
    let body = serde_json::json!({
        "type": "user.created",
        "timestamp": chrono::Utc::now(),
        "data": {"id": uuid::Uuid::new_v4(), "email": "u1@bench.example", "email_verified": false},
    })
    .to_string();
    let start = Instant::now();
    for _ in 0..n {
        let id = uuid::Uuid::new_v4().to_string();
        let ts = chrono::Utc::now().timestamp();
        let sig = tessera_core::webhooks::sign(&secret, &id, ts, body.as_bytes())?;
        let answer = client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", ts.to_string())
            .header("webhook-signature", sig)
            .body(body.clone())
            .send()
            .await?;
        if !answer.status().is_success() {
            return Err(format!("receiver answered {}", answer.status()).into());
        }
    }
    Ok(start.elapsed())
}

/// Time one call.
async fn timed<F, T>(f: F) -> tessera_core::Result<f64>
where
    F: std::future::Future<Output = tessera_core::Result<T>>,
{
    let start = Instant::now();
    f.await?;
    Ok(start.elapsed().as_secs_f64() * 1e6)
}

fn pair_row(label: &str, with: &mut [f64], without: &mut [f64]) -> String {
    let mut diff: Vec<f64> = with
        .iter()
        .zip(without.iter())
        .map(|(a, b)| a - b)
        .collect();
    let mut ratio: Vec<f64> = with
        .iter()
        .zip(without.iter())
        .map(|(a, b)| a / b)
        .collect();
    format!(
        "| {label} | {} | {:.0} µs | {:.0} µs | {:+.0} µs | ×{:.2} |",
        with.len(),
        median(with),
        median(without),
        median(&mut diff),
        median(&mut ratio),
    )
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let (url, received) = receiver().await?;
    let t = TesseraOpener::new(args.url.clone(), KeyRing::new([7; 32], []))
        .password_params(PasswordParams::insecure_fast_for_tests())
        .webhook_allow_hosts(AllowHosts::parse("127.0.0.1")?)
        // No worker of its own: the runs below drain the outbox themselves.
        .background(false)
        .open()
        .await?;
    let label = args
        .label
        .clone()
        .unwrap_or_else(|| t.store().backend().to_owned());
    let with = t
        .apps()
        .create(NewApp {
            slug: "hooked".into(),
            name: "With an endpoint".into(),
            pool_id: None,
            settings: None,
        })
        .await?;
    let without = t
        .apps()
        .create(NewApp {
            slug: "plain".into(),
            name: "Without an endpoint".into(),
            pool_id: None,
            settings: None,
        })
        .await?;
    t.webhooks()
        .create(&NewWebhookEndpoint {
            app_id: Some(with.id),
            url: url.clone(),
            events: vec![],
            description: Some("bench receiver".into()),
            asymmetric: false,
        })
        .await?;
    // The endpoint's own `webhook_endpoint.changed` event is install-wide
    // and this endpoint is app-scoped: nothing is pending yet.
    t.webhooks().deliver_pending().await?;

    println!("# webhooks: outbox throughput and event-write cost ({label})");
    println!("machine: {}", machine_note());
    println!();
    println!(
        "## Events per second through the outbox ({} events per run)",
        args.events
    );
    println!();
    println!("| run | events | wall | events/s | vs raw |");
    println!("|---|---:|---:|---:|---:|");
    let raw = raw_posts(&url, args.events).await?;
    let raw_rate = args.events as f64 / raw.as_secs_f64();
    println!(
        "| raw: sign + POST, no store (baseline) | {} | {} | {:.0} | ×1.00 |",
        args.events,
        fmt_dur(raw),
        raw_rate
    );
    let mut next = 0;
    for &w in &args.workers {
        // Each sign-up records two events (`user.created`, and
        // `session.created` for the session it starts): both are queued.
        sign_ups(&t, &with, next, args.events / 2).await?;
        next += args.events / 2;
        let queued = t.webhooks().pending().await?;
        let before = received.load(Ordering::Relaxed);
        let wall = drain(&t, w).await?;
        let got = received.load(Ordering::Relaxed) - before;
        let rate = got as f64 / wall.as_secs_f64();
        println!(
            "| outbox, {w} worker{}: claim, sign, POST, record | {got} | {} | {:.0} | ×{:.2} |",
            if w == 1 { "" } else { "s" },
            fmt_dur(wall),
            rate,
            rate / raw_rate
        );
        if got != queued {
            println!("(received {got} of {queued} queued deliveries: one was lost or repeated)");
        }
    }

    println!();
    println!(
        "## What the endpoint adds: paired calls, with an endpoint vs without ({} pairs)",
        args.pairs
    );
    println!();
    println!(
        "| path | pairs | with (median) | without (median) | difference (median) | ratio (median) |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    let (mut up_with, mut up_without) = (vec![], vec![]);
    let client = ClientInfo::default();
    for k in 0..args.pairs as u64 {
        let i = next + k;
        let (a, b) = (
            format!("p{i}@hooked.bench.example"),
            format!("p{i}@plain.bench.example"),
        );
        up_with.push(timed(t.passwords().sign_up(&with, &a, PASSWORD, None, &client)).await?);
        up_without.push(timed(t.passwords().sign_up(&without, &b, PASSWORD, None, &client)).await?);
    }
    println!(
        "{}",
        pair_row("password sign-up", &mut up_with, &mut up_without)
    );
    let (mut in_with, mut in_without) = (vec![], vec![]);
    let (a, b) = (
        format!("p{next}@hooked.bench.example"),
        format!("p{next}@plain.bench.example"),
    );
    for _ in 0..args.pairs {
        in_with.push(timed(t.passwords().sign_in(&with, &a, PASSWORD, &client)).await?);
        in_without.push(timed(t.passwords().sign_in(&without, &b, PASSWORD, &client)).await?);
    }
    println!(
        "{}",
        pair_row("password sign-in", &mut in_with, &mut in_without)
    );
    let queued = t.webhooks().pending().await?;
    println!();
    println!("Deliveries queued by the paired runs (the with-endpoint arm only): {queued}.");
    Ok(())
}
