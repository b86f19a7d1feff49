//! Shared helpers of Tessera's benchmarks and load generators.
//!
//! Why a library: the criterion benches (`benches/core.rs`) and the load
//! generators (`src/bin/scale.rs`, `src/bin/http_load.rs`) report latencies the
//! same way (exact percentiles from every recorded sample, no sampling
//! histogram) and derive seeded session tokens the same way, so a figure in
//! `RESULTS.md` means the same thing whichever tool produced it. Nothing here
//! asserts a timing: speed is measured and written down, never tested.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// The password every seeded and signed-up benchmark account uses.
pub const PASSWORD: &str = "correct horse battery staple 42";

/// Latency samples (nanoseconds) of one measured run, and its wall time.
#[derive(Debug, Default, Clone)]
pub struct Samples {
    nanos: Vec<u64>,
    errors: u64,
}

impl Samples {
    /// An empty set with room for `n` samples.
    pub fn with_capacity(n: usize) -> Self {
        Samples {
            nanos: Vec::with_capacity(n),
            errors: 0,
        }
    }

    /// Record one successful call.
    pub fn record(&mut self, d: Duration) {
        self.nanos.push(d.as_nanos() as u64);
    }

    /// Record one failed call (not counted in latencies).
    pub fn error(&mut self) {
        self.errors += 1;
    }

    /// Merge another task's samples.
    pub fn merge(&mut self, other: Samples) {
        self.nanos.extend(other.nanos);
        self.errors += other.errors;
    }

    /// Summarise over a run that took `wall`.
    pub fn summary(mut self, wall: Duration) -> Summary {
        self.nanos.sort_unstable();
        let n = self.nanos.len();
        let pct = |p: f64| -> Duration {
            if n == 0 {
                return Duration::ZERO;
            }
            let idx = ((p / 100.0) * n as f64).ceil() as usize;
            Duration::from_nanos(self.nanos[idx.clamp(1, n) - 1])
        };
        let mean = if n == 0 {
            Duration::ZERO
        } else {
            Duration::from_nanos(
                (self.nanos.iter().map(|&x| x as u128).sum::<u128>() / n as u128) as u64,
            )
        };
        Summary {
            count: n as u64,
            errors: self.errors,
            wall,
            mean,
            p50: pct(50.0),
            p90: pct(90.0),
            p99: pct(99.0),
            p999: pct(99.9),
            max: self
                .nanos
                .last()
                .map_or(Duration::ZERO, |&x| Duration::from_nanos(x)),
        }
    }
}

/// What a run measured.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    /// Successful calls.
    pub count: u64,
    /// Failed calls.
    pub errors: u64,
    /// Wall time of the run.
    pub wall: Duration,
    /// Mean latency.
    pub mean: Duration,
    /// Median latency.
    pub p50: Duration,
    /// 90th percentile.
    pub p90: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// 99.9th percentile.
    pub p999: Duration,
    /// Slowest call.
    pub max: Duration,
}

impl Summary {
    /// Successful calls per second.
    pub fn throughput(&self) -> f64 {
        self.count as f64 / self.wall.as_secs_f64()
    }

    /// A Markdown table row: `| label | calls | errors | ops/s | mean | p50 | p90 | p99 | p99.9 | max |`.
    pub fn row(&self, label: &str) -> String {
        format!(
            "| {label} | {} | {} | {:.0} | {} | {} | {} | {} | {} | {} |",
            self.count,
            self.errors,
            self.throughput(),
            fmt_dur(self.mean),
            fmt_dur(self.p50),
            fmt_dur(self.p90),
            fmt_dur(self.p99),
            fmt_dur(self.p999),
            fmt_dur(self.max),
        )
    }

    /// The header matching [`Summary::row`].
    pub fn header(first: &str) -> String {
        format!(
            "| {first} | calls | errors | ops/s | mean | p50 | p90 | p99 | p99.9 | max |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        )
    }
}

/// A duration in the unit that reads best (ns, µs, ms, s).
pub fn fmt_dur(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns < 1_000 {
        format!("{ns} ns")
    } else if ns < 1_000_000 {
        format!("{:.1} µs", ns as f64 / 1e3)
    } else if ns < 1_000_000_000 {
        format!("{:.2} ms", ns as f64 / 1e6)
    } else {
        format!("{:.2} s", ns as f64 / 1e9)
    }
}

/// The session token of seeded session number `i`: deterministic, so a load
/// generator can present any seeded session without storing a million
/// tokens, and shaped exactly like a real `tss_` token.
pub fn seeded_session_token(i: u64) -> String {
    let secret: [u8; 32] = Sha256::digest(format!("tessera-bench-session-{i}").as_bytes()).into();
    let mut token = String::from("tss_");
    URL_SAFE_NO_PAD.encode_string(secret, &mut token);
    token
}

/// The email of seeded user number `i`.
pub fn seeded_email(i: u64) -> String {
    format!("user{i}@bench.example")
}

/// A cheap, seedable xorshift generator: picking which seeded row to ask for
/// must not cost more than the query being measured.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (any value).
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// A value in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x % n.max(1)
    }
}

/// One line describing the machine and its load right now (`nproc`, load
/// averages, memory), for the notes next to every figure.
pub fn machine_note() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    let mem = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("MemAvailable"))
        .map(|l| l.split_whitespace().nth(1).unwrap_or("?").to_owned())
        .unwrap_or_default();
    format!(
        "nproc={cores}, loadavg(1/5/15 min)={}, MemAvailable={} MiB, at {}",
        load.join(" "),
        mem.parse::<u64>()
            .map_or("?".into(), |k| (k / 1024).to_string()),
        chrono::Utc::now().format("%Y-%m-%d %H:%M:%S UTC")
    )
}
