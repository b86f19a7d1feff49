//! The accept loop of `tessera serve`: connections are admitted, timed and
//! closed here, so slow or numerous clients cannot exhaust the server
//! (issue 15, item 2).
//!
//! `axum::serve` gives no header timeout (hyper's needs a timer it does not
//! set) and no connection limit: a client that opens connections and sends
//! headers one byte a minute holds each of them for ever, and enough of them
//! use up the file descriptors, so `/healthz` stops answering. This loop
//! serves each connection with hyper's HTTP/1 builder directly and adds:
//!
//! - a **header read timeout** ([`ConnectionLimits::header_read_timeout`]): a
//!   request's headers must arrive within it, counted from when the server
//!   starts waiting for them, so it also ends idle keep-alive connections;
//! - **connection limits**: at most [`ConnectionLimits::max`] open at once
//!   (and never more than the process's open-file limit allows), and at most
//!   [`ConnectionLimits::max_per_ip`] from one peer address, trusted proxies
//!   excepted, so one client cannot take every slot. A connection over a
//!   limit is answered `503` with the error envelope (`overloaded`,
//!   `Retry-After: 1`) and closed, without reading its request;
//! - a **keep-alive limit** ([`ConnectionLimits::max_age`]): an older
//!   connection is closed once its current request is answered.
//!
//! Bodies are bounded by the router's own body limit and request timeout.
//! On shutdown the loop stops accepting, lets every connection finish its
//! current request, and returns when all are closed.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

use crate::config::ConnectionLimits;

/// How long a refused connection is given to take its 503.
const REFUSAL_TIME: Duration = Duration::from_secs(2);
/// How long a connection may finish its request once asked to close (past
/// the router's 30 s request timeout).
const CLOSE_GRACE: Duration = Duration::from_secs(35);
/// Descriptors kept free of connections: the database, the listener, logs.
const RESERVED_FDS: usize = 64;

/// The answer to a connection over a limit: the error envelope.
fn refusal() -> Vec<u8> {
    let body = r#"{"error":{"code":"overloaded","message":"The server has too many open connections; try again shortly."}}"#;
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         retry-after: 1\r\ncache-control: no-store\r\nconnection: close\r\n\
         content-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// The open connections, in total and per peer address.
struct Gate {
    limits: ConnectionLimits,
    exempt: Box<dyn Fn(IpAddr) -> bool + Send + Sync>,
    open: Mutex<Open>,
}

#[derive(Default)]
struct Open {
    total: usize,
    per_ip: HashMap<IpAddr, usize>,
    refused: u64,
}

/// A connection's place in the [`Gate`], given back when dropped.
struct Slot {
    gate: Arc<Gate>,
    ip: Option<IpAddr>,
}

impl Gate {
    /// A slot for a connection from `ip`, or `Err(refused so far)`.
    fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Slot, u64> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let counted = !(self.exempt)(ip);
        let from_ip = open.per_ip.get(&ip).copied().unwrap_or(0);
        if open.total >= self.limits.max || counted && from_ip >= self.limits.max_per_ip {
            open.refused += 1;
            return Err(open.refused);
        }
        open.total += 1;
        if counted {
            open.per_ip.insert(ip, from_ip + 1);
        }
        Ok(Slot {
            gate: self.clone(),
            ip: counted.then_some(ip),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.gate.open.lock().unwrap_or_else(|e| e.into_inner());
        open.total -= 1;
        if let Some(ip) = self.ip
            && let Some(n) = open.per_ip.get_mut(&ip)
        {
            *n -= 1;
            if *n == 0 {
                open.per_ip.remove(&ip);
            }
        }
    }
}

/// The soft limit on open files of this process, where the platform says.
fn open_file_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// `limits` with the total lowered, if need be, so accepting never runs the
/// process out of file descriptors.
pub(crate) fn fit_to_process(mut limits: ConnectionLimits) -> ConnectionLimits {
    if let Some(fds) = open_file_limit() {
        let room = fds.saturating_sub(RESERVED_FDS).max(1);
        if limits.max > room {
            tracing::warn!(
                configured = limits.max,
                open_file_limit = fds,
                "TESSERA_MAX_CONNECTIONS is above what the open-file limit allows: \
                 accepting at most {room} connections (raise `ulimit -n` for more)"
            );
            limits.max = room;
            limits.max_per_ip = limits.max_per_ip.min(room);
        }
    }
    limits
}

/// Answer a connection over a limit with 503 and close it, giving it at most
/// [`REFUSAL_TIME`].
async fn refuse(mut stream: TcpStream) {
    let _ = tokio::time::timeout(REFUSAL_TIME, async {
        stream.write_all(&refusal()).await?;
        stream.shutdown().await?;
        // Drain what the client sent, so closing does not reset the
        // connection before it reads the answer.
        let mut sink = [0u8; 1024];
        while stream.read(&mut sink).await? > 0 {}
        Ok::<(), std::io::Error>(())
    })
    .await;
}

/// Serve `router` on `listener` under `limits` until `shutdown` resolves,
/// then let open connections finish their current request. Peers for which
/// `exempt` holds (trusted proxies) are not limited per address.
pub(crate) async fn serve(
    listener: TcpListener,
    router: axum::Router,
    limits: ConnectionLimits,
    exempt: impl Fn(IpAddr) -> bool + Send + Sync + 'static,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let gate = Arc::new(Gate {
        limits,
        exempt: Box::new(exempt),
        open: Mutex::default(),
    });
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // Every connection task holds a sender; `recv` answers `None` once all
    // of them have ended.
    let (alive_tx, mut alive_rx) = tokio::sync::mpsc::channel::<Infallible>(1);
    let mut shutdown = std::pin::pin!(shutdown);
    let mut last_refusal_log: Option<tokio::time::Instant> = None;
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(c) => c,
                Err(e) => {
                    // Out of descriptors (EMFILE), or a connection reset
                    // before it was accepted: wait a little, go on.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let slot = match gate.admit(peer.ip()) {
            Ok(slot) => slot,
            Err(refused) => {
                let now = tokio::time::Instant::now();
                if last_refusal_log.is_none_or(|t| now - t > Duration::from_secs(10)) {
                    last_refusal_log = Some(now);
                    tracing::warn!(
                        peer = %peer.ip(),
                        refused_so_far = refused,
                        max = gate.limits.max,
                        max_per_ip = gate.limits.max_per_ip,
                        "refusing connections over the connection limits"
                    );
                }
                tokio::spawn(refuse(stream));
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let service = router
            .clone()
            .map_request(move |mut req: axum::http::Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
                req
            });
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(gate.limits.header_read_timeout)
            .keep_alive(true)
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let mut stop = stop_rx.clone();
        let max_age = gate.limits.max_age;
        let alive = alive_tx.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let _alive = alive;
            let mut conn = std::pin::pin!(conn);
            // Too old, or the server stops: close after the current request.
            let close = async {
                tokio::select! {
                    () = tokio::time::sleep(max_age) => {}
                    _ = stop.wait_for(|stop| *stop) => {}
                }
            };
            let result = tokio::select! {
                r = conn.as_mut() => Some(r),
                () = close => None,
            };
            let result = match result {
                Some(r) => r,
                None => {
                    conn.as_mut().graceful_shutdown();
                    tokio::time::timeout(CLOSE_GRACE, conn)
                        .await
                        .unwrap_or(Ok(()))
                }
            };
            if let Err(e) = result {
                // Header timeouts, resets, malformed requests: the client's
                // doing, worth a debug line at most.
                tracing::debug!(peer = %peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    drop(alive_tx);
    let _ = alive_rx.recv().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(max: usize, max_per_ip: usize, exempt: Option<IpAddr>) -> Arc<Gate> {
        Arc::new(Gate {
            limits: ConnectionLimits {
                max,
                max_per_ip,
                header_read_timeout: Duration::from_secs(1),
                max_age: Duration::from_secs(1),
            },
            exempt: Box::new(move |ip| Some(ip) == exempt),
            open: Mutex::default(),
        })
    }

    #[test]
    fn slots_are_limited_in_total_and_per_address_and_given_back() {
        let (a, b, proxy): (IpAddr, IpAddr, IpAddr) = (
            "192.0.2.1".parse().unwrap(),
            "192.0.2.2".parse().unwrap(),
            "10.0.0.1".parse().unwrap(),
        );
        let g = gate(4, 2, Some(proxy));
        let a1 = g.admit(a).unwrap();
        let _a2 = g.admit(a).unwrap();
        assert_eq!(g.admit(a).err(), Some(1), "a third from one address");
        let _b1 = g.admit(b).unwrap();
        // A trusted proxy is not limited per address, only in total.
        let _p1 = g.admit(proxy).unwrap();
        assert!(g.admit(proxy).is_err(), "the total is reached");
        drop(a1);
        let _a3 = g.admit(a).unwrap();
        assert_eq!(g.open.lock().unwrap().per_ip.get(&a), Some(&2));
        assert!(!g.open.lock().unwrap().per_ip.contains_key(&proxy));
    }

    #[test]
    fn the_refusal_is_the_error_envelope() {
        let bytes = refusal();
        let text = String::from_utf8(bytes).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 503 "));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["error"]["code"], "overloaded");
    }
}
