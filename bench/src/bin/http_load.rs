//! HTTP load generator (issue 4), run as a second process against
//! `target/release/tessera serve` on loopback.
//!
//! Run with (it starts and stops the server itself when given `--server-bin`):
//! `cargo build --release -p tessera-cli --bin tessera -p tessera-bench --bin http_load`
//! `target/release/http_load --server-bin target/release/tessera --db memory:// --scenario all`
//!
//! Scenarios: `argon2` (the machine's raw argon2id ceiling, in this process,
//! before any server runs), `startup` (time from spawn to the first healthy
//! `/healthz`, idle RSS), `healthz` (idle latency), `session` (`GET /v1/session`
//! with a Bearer access token), `sign-in` (`POST /v1/sign-in/password`),
//! `healthz-under-sign-in` (`/healthz` latency while sign-ins saturate the
//! CPU), or `all`. The client and the server share the machine's cores, so
//! every throughput here is a lower bound for a server with cores of its own;
//! the server's CPU use during each run is printed next to it.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version};
use clap::Parser;
use serde_json::{Value, json};
use tessera_bench::{PASSWORD, Rng, Samples, Summary, fmt_dur, machine_note};
use tessera_core::crypto::PasswordParams;

#[derive(Parser, Debug, Clone)]
#[command(about = "Load generator for `tessera serve`")]
struct Args {
    /// `all`, `argon2`, `startup`, `healthz`, `session`, `sign-in`, `healthz-under-sign-in`.
    #[arg(long, default_value = "all")]
    scenario: String,
    /// Start this `tessera` binary (and stop it at the end).
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// `TESSERA_DATABASE_URL` for a spawned server.
    #[arg(long, default_value = "memory://")]
    db: String,
    /// Port of a spawned server.
    #[arg(long, default_value_t = 18080)]
    port: u16,
    /// Base URL of a server that is already running (instead of `--server-bin`).
    #[arg(long)]
    url: Option<String>,
    /// Concurrent connections for `session`.
    #[arg(long, default_value = "1,8,64", value_delimiter = ',')]
    concurrency: Vec<usize>,
    /// Concurrent sign-ins for `sign-in` and `healthz-under-sign-in`.
    #[arg(long, default_value = "2,8", value_delimiter = ',')]
    sign_in_concurrency: Vec<usize>,
    /// Seconds per measured run.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Accounts signed up for the `session` scenario.
    #[arg(long, default_value_t = 64)]
    accounts: usize,
    /// Threads of this client's runtime (the server gets the rest of the machine).
    #[arg(long, default_value_t = 1)]
    client_threads: usize,
    /// Label of this run in the output (e.g. the backend).
    #[arg(long, default_value = "")]
    label: String,
}

const ADMIN_KEY: &str = "tsk_BENCHbenchBENCHbenchBENCHbenchBENCHbench123";
/// base64 of 32 bytes of 0x07: a fixed key-encryption key for benchmark servers.
const KEK_B64: &str = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.client_threads.max(1))
        .enable_all()
        .build()?;
    rt.block_on(run(args))
}

struct Server {
    child: Option<Child>,
    base: String,
}

impl Server {
    fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(c) = &mut self.child {
            // Our own child, by its pid.
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Resident and peak memory of `pid` in KiB (VmRSS, VmHWM).
fn rss(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// CPU seconds (user + system) `pid` has used.
fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    ticks / 100.0 // USER_HZ is 100 on Linux
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(256)
        .timeout(Duration::from_secs(60))
        .build()
        .expect("reqwest client")
}

async fn spawn_server(
    args: &Args,
    bin: &PathBuf,
) -> Result<(Server, Duration), Box<dyn std::error::Error>> {
    let base = format!("http://127.0.0.1:{}", args.port);
    let log = std::fs::File::create(
        std::env::temp_dir().join(format!("tessera-bench-{}.log", args.port)),
    )?;
    let t0 = Instant::now();
    let child = Command::new(bin)
        .arg("serve")
        .env("TESSERA_DATABASE_URL", &args.db)
        .env("TESSERA_LISTEN", format!("127.0.0.1:{}", args.port))
        .env("TESSERA_BASE_URL", &base)
        .env("TESSERA_RATE_LIMITS", "off")
        .env("TESSERA_ADMIN_API_KEY", ADMIN_KEY)
        .env("TESSERA_KEY_ENCRYPTION_KEY", KEK_B64)
        .stdout(Stdio::from(log.try_clone()?))
        .stderr(Stdio::from(log))
        .spawn()?;
    let server = Server {
        child: Some(child),
        base: base.clone(),
    };
    // Poll as fast as a connection can be refused until /healthz answers 200.
    let c = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .build()?;
    loop {
        if let Ok(r) = c.get(format!("{base}/healthz")).send().await
            && r.status().is_success()
        {
            return Ok((server, t0.elapsed()));
        }
        if t0.elapsed() > Duration::from_secs(120) {
            return Err("server did not become healthy within 120 s".into());
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let all = args.scenario == "all";
    let wants = |s: &str| all || args.scenario == s;
    println!("# http_load {} (db {})", args.label, args.db);
    println!("machine: {}", machine_note());
    println!("client runtime threads: {}", args.client_threads);

    if wants("argon2") {
        argon2_ceiling(args.seconds).await;
    }

    let (server, startup) = match (&args.server_bin, &args.url) {
        (Some(bin), _) => {
            let (s, d) = spawn_server(&args, bin).await?;
            (s, Some(d))
        }
        (None, Some(u)) => (
            Server {
                child: None,
                base: u.trim_end_matches('/').to_owned(),
            },
            None,
        ),
        (None, None) => {
            if args.scenario == "argon2" {
                return Ok(());
            }
            return Err("give --server-bin or --url".into());
        }
    };
    let pid = server.pid();
    if let Some(d) = startup {
        println!(
            "\n## startup\n\nspawn → first 200 from /healthz: **{}** ({})",
            fmt_dur(d),
            args.db
        );
    }
    if let Some(pid) = pid {
        tokio::time::sleep(Duration::from_secs(3)).await;
        let (rss_kib, hwm) = rss(pid);
        println!(
            "idle RSS 3 s after healthy: **{:.1} MiB** (VmRSS {rss_kib} KiB, VmHWM {hwm} KiB)",
            rss_kib as f64 / 1024.0
        );
    }
    if args.scenario == "startup" {
        return Ok(());
    }
    let base = server.base.clone();
    let http = client();
    let secs = Duration::from_secs(args.seconds);

    if wants("healthz") {
        println!("\n## /healthz, idle server — {}", machine_note());
        println!("{}", Summary::header("run"));
        let url = format!("{base}/healthz");
        let (s, cpu) = load(&http, pid, 1, secs, {
            let url = url.clone();
            move |c: reqwest::Client, _| {
                let url = url.clone();
                async move { ok(c.get(url).send().await) }
            }
        })
        .await;
        println!("{} {cpu}", s.row("GET /healthz · 1"));
    }

    if wants("session") {
        let tokens = Arc::new(sign_up_accounts(&http, &base, args.accounts, "s").await?);
        println!(
            "\n## GET /v1/session (Bearer access token, {} accounts) — {}",
            tokens.len(),
            machine_note()
        );
        println!("{}", Summary::header("concurrency"));
        for &c in &args.concurrency {
            let url = format!("{base}/v1/session");
            let tokens = tokens.clone();
            let (s, cpu) = load(&http, pid, c, secs, move |cl: reqwest::Client, i| {
                let url = url.clone();
                let tok = tokens[i as usize % tokens.len()].0.clone();
                async move { ok(cl.get(url).bearer_auth(tok).send().await) }
            })
            .await;
            println!("{} {cpu}", s.row(&format!("GET /v1/session · {c}")));
        }
    }

    let max_c = args.sign_in_concurrency.iter().copied().max().unwrap_or(2);
    let needs_accounts = wants("sign-in") || wants("healthz-under-sign-in");
    let accounts = if needs_accounts {
        Arc::new(sign_up_accounts(&http, &base, max_c.max(8), "p").await?)
    } else {
        Arc::new(Vec::new())
    };

    if wants("sign-in") {
        println!("\n## POST /v1/sign-in/password — {}", machine_note());
        println!("{}", Summary::header("concurrency"));
        for &c in &args.sign_in_concurrency {
            let url = format!("{base}/v1/sign-in/password");
            let accounts = accounts.clone();
            let (s, cpu) = load(&http, pid, c, secs, move |cl: reqwest::Client, i| {
                let url = url.clone();
                let email = accounts[i as usize % accounts.len()].1.clone();
                async move {
                    ok(cl
                        .post(url)
                        .json(&json!({"email": email, "password": PASSWORD}))
                        .send()
                        .await)
                }
            })
            .await;
            println!("{} {cpu}", s.row(&format!("sign-in · {c}")));
        }
    }

    if wants("healthz-under-sign-in") {
        let c = max_c;
        println!(
            "\n## /healthz while {c} concurrent sign-ins saturate the CPU — {}",
            machine_note()
        );
        let stop = Instant::now() + secs;
        let url = format!("{base}/v1/sign-in/password");
        let mut bg = tokio::task::JoinSet::new();
        for k in 0..c {
            let cl = http.clone();
            let url = url.clone();
            let email = accounts[k % accounts.len()].1.clone();
            bg.spawn(async move {
                let mut s = Samples::default();
                while Instant::now() < stop {
                    let t0 = Instant::now();
                    if ok(cl
                        .post(&url)
                        .json(&json!({"email": email, "password": PASSWORD}))
                        .send()
                        .await)
                    {
                        s.record(t0.elapsed());
                    } else {
                        s.error();
                    }
                }
                s
            });
        }
        // Let the sign-ins fill the hashing pool first.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let cpu0 = pid.map(cpu_secs);
        let t0 = Instant::now();
        let mut probes = Samples::default();
        let hz = format!("{base}/healthz");
        while Instant::now() + Duration::from_millis(300) < stop {
            let t = Instant::now();
            if ok(http.get(&hz).send().await) {
                probes.record(t.elapsed());
            } else {
                probes.error();
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let wall = t0.elapsed();
        let cpu = cpu_note(pid, cpu0, wall);
        let mut signins = Samples::default();
        while let Some(s) = bg.join_next().await {
            signins.merge(s?);
        }
        println!("{}", Summary::header("run"));
        println!(
            "{} {cpu}",
            probes.summary(wall).row("GET /healthz every 10 ms (probe)")
        );
        println!(
            "{}",
            signins
                .summary(secs)
                .row(&format!("sign-in · {c} (background)"))
        );
    }

    if let Some(pid) = pid {
        let (rss_kib, hwm) = rss(pid);
        println!(
            "\nRSS after the runs: {:.1} MiB (peak VmHWM {:.1} MiB)",
            rss_kib as f64 / 1024.0,
            hwm as f64 / 1024.0
        );
    }
    println!("end: {}", machine_note());
    drop(server);
    Ok(())
}

fn ok(r: reqwest::Result<reqwest::Response>) -> bool {
    matches!(r, Ok(r) if r.status().is_success())
}

fn cpu_note(pid: Option<u32>, cpu0: Option<f64>, wall: Duration) -> String {
    match (pid, cpu0) {
        (Some(pid), Some(c0)) => format!(
            "(server CPU {:.0} % of one core)",
            100.0 * (cpu_secs(pid) - c0) / wall.as_secs_f64()
        ),
        _ => String::new(),
    }
}

/// `c` connections, each sending requests back to back for `dur`.
async fn load<F, Fut>(
    http: &reqwest::Client,
    pid: Option<u32>,
    c: usize,
    dur: Duration,
    f: F,
) -> (Summary, String)
where
    F: Fn(reqwest::Client, u64) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    // Open the connections before the clock starts.
    let warm = Instant::now() + Duration::from_millis(500);
    let mut w = tokio::task::JoinSet::new();
    for k in 0..c {
        let (f, cl) = (f.clone(), http.clone());
        w.spawn(async move {
            let mut i = k as u64;
            while Instant::now() < warm {
                f(cl.clone(), i).await;
                i += c as u64;
            }
        });
    }
    while w.join_next().await.is_some() {}

    let cpu0 = pid.map(cpu_secs);
    let start = Instant::now();
    let deadline = start + dur;
    let mut tasks = tokio::task::JoinSet::new();
    for k in 0..c {
        let (f, cl) = (f.clone(), http.clone());
        tasks.spawn(async move {
            let mut rng = Rng::new(k as u64 + 17);
            let mut s = Samples::with_capacity(50_000);
            while Instant::now() < deadline {
                let i = rng.below(u64::MAX);
                let t0 = Instant::now();
                if f(cl.clone(), i).await {
                    s.record(t0.elapsed());
                } else {
                    s.error();
                }
            }
            s
        });
    }
    let mut all = Samples::default();
    while let Some(s) = tasks.join_next().await {
        all.merge(s.expect("load task"));
    }
    let wall = start.elapsed();
    (all.summary(wall), cpu_note(pid, cpu0, wall))
}

/// Sign up `n` accounts; their (access token, email).
async fn sign_up_accounts(
    http: &reqwest::Client,
    base: &str,
    n: usize,
    tag: &str,
) -> Result<Vec<(String, String)>, Box<dyn std::error::Error>> {
    let run = std::process::id();
    let mut tasks = tokio::task::JoinSet::new();
    for k in 0..n {
        let http = http.clone();
        let url = format!("{base}/v1/sign-up");
        let email = format!(
            "load-{tag}-{run}-{k}-{}@bench.example",
            chrono::Utc::now().timestamp_micros()
        );
        tasks.spawn(async move {
            let r = http
                .post(url)
                .json(&json!({"email": email, "password": PASSWORD}))
                .send()
                .await?;
            let status = r.status();
            let body: Value = r.json().await?;
            match body["access_token"].as_str() {
                Some(t) => Ok((t.to_owned(), email)),
                None => Err(format!("sign-up answered {status}: {body}").into()),
            }
        });
    }
    let mut out = Vec::new();
    while let Some(r) = tasks.join_next().await {
        let r: Result<(String, String), Box<dyn std::error::Error + Send + Sync>> = r?;
        out.push(r.map_err(|e| e.to_string())?);
    }
    Ok(out)
}

/// The machine's argon2id ceiling: one verify per thread, as many threads as
/// cores, back to back, with the OWASP parameters the server uses.
async fn argon2_ceiling(secs: u64) {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    println!(
        "\n## raw argon2id ceiling (m=19456 KiB, t=2, p=1) — {}",
        machine_note()
    );
    println!("| threads | verifies | verifies/s | mean per verify |\n|---:|---:|---:|---:|");
    for threads in [1, cores] {
        let p = PasswordParams::default();
        let argon2 = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(p.m_cost, p.t_cost, p.p_cost, None).expect("params"),
        );
        let phc = argon2
            .hash_password(PASSWORD.as_bytes())
            .expect("hash")
            .to_string();
        let stop = Instant::now() + Duration::from_secs(secs);
        let start = Instant::now();
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let (argon2, phc) = (argon2.clone(), phc.clone());
                std::thread::spawn(move || {
                    let mut n = 0u64;
                    while Instant::now() < stop {
                        let parsed = PasswordHash::new(&phc).expect("phc");
                        argon2
                            .verify_password(PASSWORD.as_bytes(), &parsed)
                            .expect("verify");
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        let n: u64 = handles.into_iter().map(|h| h.join().expect("thread")).sum();
        let wall = start.elapsed().as_secs_f64();
        println!(
            "| {threads} | {n} | {:.1} | {} |",
            n as f64 / wall,
            fmt_dur(Duration::from_secs_f64(
                wall * threads as f64 / n.max(1) as f64
            ))
        );
    }
}
