//! Verify Tessera access tokens and webhooks, and call Tessera's server API,
//! from a Rust backend.
//!
//! Tessera is a self-hostable auth server; this crate is what *other*
//! backends use to trust it. It speaks only Tessera's public wire contract —
//! the JWKS, RFC 9068 access tokens, Standard Webhooks and the `/v1/admin`
//! JSON API — and never links Tessera's core, so it works against any
//! Tessera version that keeps that contract. The rules it applies are pinned
//! by the shared vectors in `sdks/testdata/`, which the Rust, Python,
//! TypeScript and Go SDKs all pass.
//!
//! ```no_run
//! # async fn run(token: &str) -> tessera_sdk::Result<()> {
//! use tessera_sdk::{Client, Verifier};
//!
//! let verifier = Verifier::new("https://auth.example.com", "APP_ID");
//! let claims = verifier.verify(token).await?;
//!
//! let client = Client::new("https://auth.example.com", "tsk_…");
//! let user = client.get_user(&claims.sub).await?;
//! # Ok(()) }
//! ```
//!
//! | item | what it does |
//! |---|---|
//! | [`Verifier`] | verifies access tokens against the install's cached JWKS |
//! | [`token_from_headers`] | the bearer token, else the `tessera_at` cookie |
//! | [`verify_webhook`], [`sign_webhook`] | Standard Webhooks signatures |
//! | [`Client`] | the server API with an API key |
//! | `TesseraUser` | axum extractor (feature `axum`) |
//!
//! # Features
//!
//! | feature | default | enables |
//! |---|---|---|
//! | `axum` | yes | `TesseraUser`, an axum 0.8 extractor, and its `Rejection` |
//!
//! # Security
//!
//! The algorithm is taken from the JWKS key, never from the token alone, so
//! `none`, HMAC and key-confusion tokens are refused; only EdDSA, ES256 and
//! RS256 are accepted. `typ` must be `at+jwt`, so an ID token is not an access
//! token. `exp`/`nbf` get a 30 s leeway. An unknown `kid` refetches the JWKS at
//! most once per 30 s. Webhook signatures are compared in constant time.

mod client;
mod error;
mod token;
mod verifier;
mod webhooks;

#[cfg(feature = "axum")]
mod axum;

pub use crate::client::{Client, ClientBuilder, DEFAULT_CLIENT_TIMEOUT, ListUsers, User, UserPage};
pub use crate::error::{Error, ErrorKind, Result, api_code};
pub use crate::token::{ACCESS_TOKEN_COOKIE, token_from_headers};
pub use crate::verifier::{
    Claims, DEFAULT_LEEWAY, DEFAULT_MAX_AGE, DEFAULT_REFETCH_COOLDOWN, DEFAULT_TIMEOUT, Verifier,
    VerifierBuilder,
};
pub use crate::webhooks::{
    HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, TOLERANCE_SECS, sign_webhook, verify_webhook,
    verify_webhook_at,
};

#[cfg(feature = "axum")]
pub use crate::axum::{Rejection, TesseraUser};

/// The `http` crate this SDK's `HeaderMap` arguments come from.
pub use http;
