//! What the password sign-in path adds over one argon2id verify (issue 2),
//! measured in *pairs*: raw verify, then a full sign-in on the memory store,
//! then again, many times. On a shared machine whose load drifts, criterion's
//! separate runs of the two can differ by more than the overhead being
//! measured; adjacent pairs see the same load, so the per-pair difference
//! stays meaningful. Besides wall time it records, from
//! `/proc/self/task/*/schedstat`, the CPU time all of this process's threads
//! used and the time they waited in the run queue for a CPU, so the cost of the
//! path (CPU) can be told apart from the machine's scheduling latency (waiting
//! for a core at each hand-off to and from the blocking pool).
//!
//! Run with: `cargo run --release -p tessera-bench --bin password_overhead -- --pairs 300`

use std::sync::Arc;
use std::time::{Duration, Instant};

use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version};
use clap::Parser;
use tessera_bench::{PASSWORD, fmt_dur, machine_note};
use tessera_core::Tessera;
use tessera_core::crypto::{KeyRing, PasswordHasher, PasswordParams, Verified};
use tessera_core::model::ClientInfo;

#[derive(Parser, Debug)]
struct Args {
    /// Pairs to measure.
    #[arg(long, default_value_t = 300)]
    pairs: usize,
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    println!("# password sign-in path vs raw argon2id verify, paired");
    println!("machine: {}", machine_note());
    let p = PasswordParams::default();
    let argon2 = Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(p.m_cost, p.t_cost, p.p_cost, None)?,
    );
    let phc = argon2.hash_password(PASSWORD.as_bytes())?.to_string();

    let t = Tessera::builder()
        .store(Arc::new(tessera_storage_memory::MemoryStore::new()))
        .key_encryption_key(KeyRing::new([7; 32], []))
        .build()
        .await?;
    let app = t.apps().default_app().await?;
    t.passwords()
        .sign_up(
            &app,
            "ada@example.com",
            PASSWORD,
            None,
            &ClientInfo::default(),
        )
        .await?;
    // Warm up: the signing key is generated on first use, caches fill.
    for _ in 0..3 {
        t.passwords()
            .sign_in(&app, "ada@example.com", PASSWORD, &ClientInfo::default())
            .await?;
    }

    let (mut raw, mut path, mut diff, mut ratio) = (vec![], vec![], vec![], vec![]);
    let (mut cpu_raw, mut cpu_path, mut cpu_diff) = (vec![], vec![], vec![]);
    let (mut wait_raw, mut wait_path) = (vec![], vec![]);
    // Third arm: Tessera's PasswordHasher alone (semaphore + spawn_blocking +
    // verify), to split the path's extra cost between the hop and the rest.
    let hasher = PasswordHasher::new(PasswordParams::default(), None)?;
    let (mut hop_wall, mut hop_cpu) = (vec![], vec![]);
    for k in 0..args.pairs {
        let h = measured(|| async {
            let t0 = Instant::now();
            let v = hasher.verify(PASSWORD, Some(&phc)).await?;
            assert!(matches!(v, Verified::Yes { rehash: None }));
            Ok(t0.elapsed())
        })
        .await?;
        FAULTS.lock().expect("faults").last_mut().expect("pushed").0 = true;
        hop_wall.push(h.0.as_secs_f64());
        hop_cpu.push(h.1);
        // Alternate which goes first, so neither always follows the other.
        let (r, s) = if k % 2 == 0 {
            let r = measured(|| async { Ok(time_raw(&argon2, &phc)) }).await?;
            let s = measured(|| time_path(&t, &app)).await?;
            (r, s)
        } else {
            let s = measured(|| time_path(&t, &app)).await?;
            let r = measured(|| async { Ok(time_raw(&argon2, &phc)) }).await?;
            (r, s)
        };
        raw.push(r.0.as_secs_f64());
        path.push(s.0.as_secs_f64());
        diff.push(s.0.as_secs_f64() - r.0.as_secs_f64());
        ratio.push(s.0.as_secs_f64() / r.0.as_secs_f64());
        cpu_raw.push(r.1);
        cpu_path.push(s.1);
        cpu_diff.push(s.1 - r.1);
        wait_raw.push(r.2);
        wait_path.push(s.2);
    }
    let secs = |x: f64| fmt_dur(Duration::from_secs_f64(x.max(0.0)));
    let (mr, mp, md, mq) = (
        median(&mut raw),
        median(&mut path),
        median(&mut diff),
        median(&mut ratio),
    );
    println!(
        "\n| pairs | raw verify (median) | sign-in path (median) | median of per-pair (path − raw) | median of per-pair path/raw |"
    );
    println!("|---:|---:|---:|---:|---:|");
    println!(
        "| {} | {} | {} | {}{} | {:.3} ({:+.1} %) |",
        args.pairs,
        secs(mr),
        secs(mp),
        if md < 0.0 { "−" } else { "" },
        secs(md.abs()),
        mq,
        (mq - 1.0) * 100.0
    );
    let (cr, cp, cd, wr, wp) = (
        median(&mut cpu_raw),
        median(&mut cpu_path),
        median(&mut cpu_diff),
        median(&mut wait_raw),
        median(&mut wait_path),
    );
    println!(
        "\n| CPU time, all threads (median) raw | path | median per-pair CPU (path − raw) | CPU path/raw | run-queue wait (median) raw | path |"
    );
    println!("|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {} | {} | {}{} | {:.3} ({:+.1} %) | {} | {} |",
        secs(cr),
        secs(cp),
        if cd < 0.0 { "−" } else { "" },
        secs(cd.abs()),
        cp / cr,
        (cp / cr - 1.0) * 100.0,
        secs(wr),
        secs(wp)
    );
    println!(
        "\n`PasswordHasher::verify` alone (blocking pool): wall median {}, CPU median {}",
        secs(median(&mut hop_wall)),
        secs(median(&mut hop_cpu))
    );
    // Faults per call: every third record is the hasher arm (marked), the
    // other two alternate raw/path by pair parity.
    let all = FAULTS.lock().expect("faults").clone();
    let mut hop_f: Vec<f64> = all.iter().filter(|(h, _)| *h).map(|x| x.1).collect();
    let rest: Vec<f64> = all.iter().filter(|(h, _)| !*h).map(|x| x.1).collect();
    let (mut raw_f, mut path_f) = (vec![], vec![]);
    for (k, pair) in rest.chunks(2).enumerate() {
        if pair.len() < 2 {
            break;
        }
        if k % 2 == 0 {
            raw_f.push(pair[0]);
            path_f.push(pair[1]);
        } else {
            path_f.push(pair[0]);
            raw_f.push(pair[1]);
        }
    }
    println!(
        "minor page faults per call (median): raw verify {:.0}, sign-in path {:.0}, PasswordHasher::verify {:.0}",
        median(&mut raw_f),
        median(&mut path_f),
        median(&mut hop_f)
    );
    println!("end: {}", machine_note());
    Ok(())
}

/// (CPU seconds, run-queue wait seconds) of every thread of this process so
/// far, from `/proc/self/task/*/schedstat` (nanosecond counters).
fn sched() -> (f64, f64) {
    let (mut cpu, mut wait) = (0u64, 0u64);
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        for t in tasks.flatten() {
            let Ok(s) = std::fs::read_to_string(t.path().join("schedstat")) else {
                continue;
            };
            let mut f = s.split_whitespace().map(|v| v.parse::<u64>().unwrap_or(0));
            cpu += f.next().unwrap_or(0);
            wait += f.next().unwrap_or(0);
        }
    }
    (cpu as f64 / 1e9, wait as f64 / 1e9)
}

/// Minor page faults of this process so far (`/proc/self/stat`).
fn minflt() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    after
        .split_whitespace()
        .nth(7)
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0)
}

static FAULTS: std::sync::Mutex<Vec<(bool, f64)>> = std::sync::Mutex::new(Vec::new());

/// Wall time, CPU time and run-queue wait of one call of `f`.
async fn measured<F, Fut>(f: F) -> Result<(Duration, f64, f64), tessera_core::Error>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<Duration, tessera_core::Error>>,
{
    let (c0, w0) = sched();
    let f0 = minflt();
    let wall = f().await?;
    let f1 = minflt();
    let (c1, w1) = sched();
    FAULTS.lock().expect("faults").push((false, f1 - f0));
    Ok((wall, c1 - c0, w1 - w0))
}

fn time_raw(argon2: &Argon2<'static>, phc: &str) -> Duration {
    let t0 = Instant::now();
    let parsed = PasswordHash::new(phc).expect("phc");
    argon2
        .verify_password(PASSWORD.as_bytes(), &parsed)
        .expect("verify");
    t0.elapsed()
}

async fn time_path(
    t: &Tessera,
    app: &tessera_core::model::App,
) -> Result<Duration, tessera_core::Error> {
    let t0 = Instant::now();
    t.passwords()
        .sign_in(app, "ada@example.com", PASSWORD, &ClientInfo::default())
        .await?;
    Ok(t0.elapsed())
}
