//! Integration tests of tessera-core (one binary, to keep link time down).

/// The shared SDK test vectors: generated here, checked for staleness.
mod vectors;
