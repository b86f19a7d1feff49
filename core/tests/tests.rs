//! Integration tests of tessera-core (one binary, to keep link time down).

/// The shared SDK test vectors: generated here, checked for staleness.
mod vectors;

/// Flow behaviour of the core itself, on the memory store.
mod flows;

/// Email flows and the outbox, with a capturing mailer.
mod emails;

/// TOTP, recovery codes and multi-factor sign-in.
mod mfa;

/// Passkey ceremonies against a software authenticator.
mod passkeys;

/// A store that refuses writes or is shared by instances (issue 14).
mod faults;

/// Throttling as an attacker meets it: owner lockout, password change.
mod throttling;
