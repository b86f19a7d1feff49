#![allow(missing_docs)]
//! Integration tests of tessera-http (one binary, to keep link time down).

/// Shared harness: a server on a real TCP port over a chosen store.
mod harness;

/// Full JSON API flows over real TCP, on every backend.
mod flows;

/// The hosted pages: cookies, CSRF, redirect URIs, nesting.
mod pages;

/// Protection: CORS, body limits, rate limits, malformed input, admin auth.
mod protection;

/// Rate limits shared by instances; device tokens.
mod limits;

/// The stable contract: routes vs OpenAPI, cookie names, envelopes, headers, metrics.
mod contract;

/// The error-code table shared with the bindings and SDKs (`sdks/testdata/error-codes.json`).
mod error_codes;

/// Passkeys: JSON routes with a software authenticator, the hosted button and script.
mod passkeys;

/// TOTP, recovery codes and the MFA step: JSON routes and hosted pages.
mod mfa;

/// External OAuth/OIDC sign-in: provider admin, start, callback state, identities.
mod oauth;

/// The OpenAPI document, pinned to `tests/openapi.json`.
mod openapi;

/// Property tests of everything the HTTP face parses: bodies and queries of
/// every route, cookies and CSRF tokens, OAuth callback parameters.
mod fuzz;

/// The layout of `http/src`: no import cycles between files or modules.
mod layout;

/// The webhook admin API with a real receiver.
mod webhooks;
