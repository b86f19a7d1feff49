#![allow(missing_docs)]
//! Integration tests of the `tessera` binary (one test binary, to keep link
//! time down): each runs the real executable.

/// Serving, the one-shot commands beside a running server, metrics.
mod binary;

/// The stable configuration names.
mod contract;

/// Slow and numerous clients: header timeout, connection limits.
mod slow_clients;

/// Configuration that cannot work is refused at start-up.
mod startup;

use std::process::Child;

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
