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
