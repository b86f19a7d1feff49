#![allow(missing_docs)]
//! Integration tests of the `tessera` binary (one test binary, to keep link
//! time down): each runs the real executable.

/// Serving, the one-shot commands beside a running server, metrics.
mod binary;

/// The stable configuration names.
mod contract;
