//! The SDK's integration tests, one binary to keep link time down.

/// Shared helpers: vector files and local HTTP servers.
mod support;

/// Every case of sdks/testdata/tokens.json.
mod vectors;

/// JWKS caching, refetch on unknown kid, cooldown.
mod cache;

/// Every case of sdks/testdata/webhooks.json, signing, header handling.
mod webhooks;

/// The server-API error codes against sdks/testdata/error-codes.json.
mod error_codes;

/// The server-API client against a local fake of the admin API.
mod client;

/// The axum extractor, through tower's oneshot.
#[cfg(feature = "axum")]
mod extractor;

/// Against a real `tessera serve` when TESSERA_BIN is set.
mod e2e;
