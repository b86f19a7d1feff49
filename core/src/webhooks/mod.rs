//! Webhooks: the [`Webhooks`] handle (`endpoints.rs`: endpoints, secrets,
//! the delivery log), delivery from the outbox (`delivery.rs`), the SSRF
//! guard on endpoint URLs (`ssrf.rs`), and here the signatures, following
//! the Standard Webhooks specification (what the SDKs verify).
//!
//! A message is signed as `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`
//! with a secret written `whsec_<base64 key>`; several signatures are
//! space-separated while keys rotate. Receivers reject timestamps more than
//! five minutes off. The SDKs implement the same rules, held together by the
//! vectors in `sdks/testdata/webhooks.json`. Endpoints that ask for
//! asymmetric signing also get a `v1a,<base64 Ed25519 signature>` of the same
//! content, made with a `whsk_` signing key and checked with its `whpk_`
//! public key, so a receiver can verify without holding a shared secret.

pub(crate) mod delivery;
mod endpoints;
pub mod ssrf;

pub use delivery::{
    BATCH, DISABLE_AFTER, DeliveryRound, EXCERPT_BYTES, LEASE, RETRY_SCHEDULE_SECS, TIMEOUT,
};
pub use endpoints::{
    DEFAULT_KEEP_OLD_SECS, MAX_KEEP_OLD_SECS, NewWebhookEndpoint, WebhookSecret, Webhooks,
};
pub use ssrf::AllowHosts;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::crypto::{ct_eq, hmac_sha256, random_bytes};
use crate::{Error, ErrorKind, Result};

/// Prefix of webhook secrets.
pub const SECRET_PREFIX: &str = "whsec_";
/// How far a timestamp may be from now, in seconds.
pub const TOLERANCE_SECS: i64 = 5 * 60;

/// Prefix of Ed25519 signing keys (private: sealed, never shown).
pub const SIGNING_KEY_PREFIX: &str = "whsk_";
/// Prefix of Ed25519 public keys (shown to receivers).
pub const PUBLIC_KEY_PREFIX: &str = "whpk_";

/// A new random signing secret, `whsec_…`.
pub fn generate_secret() -> String {
    format!("{SECRET_PREFIX}{}", STANDARD.encode(random_bytes::<32>()))
}

fn key_bytes(secret: &str) -> Result<Vec<u8>> {
    let b64 = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    STANDARD
        .decode(b64)
        .map_err(|_| Error::invalid("secret", "a webhook secret is whsec_ followed by base64"))
}

/// What is signed: `{id}.{timestamp}.{body}`.
fn signed_content(id: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
    let mut content = Vec::with_capacity(id.len() + body.len() + 24);
    content.extend_from_slice(id.as_bytes());
    content.push(b'.');
    content.extend_from_slice(timestamp.to_string().as_bytes());
    content.push(b'.');
    content.extend_from_slice(body);
    content
}

/// The `webhook-signature` value (`v1,<base64>`) for one message under `secret`.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String> {
    let key = key_bytes(secret)?;
    let content = signed_content(id, timestamp, body);
    Ok(format!(
        "v1,{}",
        STANDARD.encode(hmac_sha256(&key, &content))
    ))
}

/// A new Ed25519 key pair: the signing key (`whsk_…`, kept sealed) and its
/// public key (`whpk_…`, shown to receivers).
pub fn generate_signing_key() -> (String, String) {
    let key = ed25519_dalek::SigningKey::from_bytes(&random_bytes::<32>());
    (
        format!("{SIGNING_KEY_PREFIX}{}", STANDARD.encode(key.to_bytes())),
        format!(
            "{PUBLIC_KEY_PREFIX}{}",
            STANDARD.encode(key.verifying_key().to_bytes())
        ),
    )
}

fn key32(value: &str, prefix: &str) -> Result<[u8; 32]> {
    let b64 = value.strip_prefix(prefix).unwrap_or(value);
    STANDARD
        .decode(b64)
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| {
            Error::invalid(
                "key",
                format!("an Ed25519 key is {prefix} followed by 32 bytes in base64"),
            )
        })
}

/// The asymmetric signature (`v1a,<base64>`) of one message under the
/// `whsk_` signing key.
pub fn sign_v1a(signing_key: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String> {
    use ed25519_dalek::Signer as _;
    let key = ed25519_dalek::SigningKey::from_bytes(&key32(signing_key, SIGNING_KEY_PREFIX)?);
    let sig = key.sign(&signed_content(id, timestamp, body));
    Ok(format!("v1a,{}", STANDARD.encode(sig.to_bytes())))
}

/// Verify the `v1a` signatures of a delivery with the `whpk_` public key
/// (same rules as [`verify`]: any one match, five minutes of tolerance).
pub fn verify_v1a(
    public_key: &str,
    id: &str,
    timestamp: &str,
    signatures: &str,
    body: &[u8],
    now: i64,
) -> Result<()> {
    let ts = check_timestamp(timestamp, now)?;
    let key = ed25519_dalek::VerifyingKey::from_bytes(&key32(public_key, PUBLIC_KEY_PREFIX)?)
        .map_err(|_| Error::invalid("public_key", "not an Ed25519 public key"))?;
    let content = signed_content(id, ts, body);
    let matches = signatures
        .split(' ')
        .filter_map(|s| s.strip_prefix("v1a,"))
        .filter_map(|b64| STANDARD.decode(b64).ok())
        .filter_map(|b| ed25519_dalek::Signature::from_slice(&b).ok())
        .any(|sig| key.verify_strict(&content, &sig).is_ok());
    matched(matches)
}

/// `Ok` when a signature matched, `invalid_token` otherwise.
fn matched(any: bool) -> Result<()> {
    if any {
        Ok(())
    } else {
        Err(Error::with_message(
            ErrorKind::InvalidToken,
            "no webhook signature matches",
        ))
    }
}

fn check_timestamp(timestamp: &str, now: i64) -> Result<i64> {
    let ts: i64 = timestamp.trim().parse().map_err(|_| {
        Error::with_message(ErrorKind::InvalidToken, "webhook-timestamp is not a number")
    })?;
    // `abs_diff`: a timestamp near i64::MIN or MAX must not overflow
    // (found by tests/fuzz.rs: `now - ts` panicked in debug builds).
    if now.abs_diff(ts) > TOLERANCE_SECS.unsigned_abs() {
        return Err(Error::with_message(
            ErrorKind::TokenExpired,
            "webhook-timestamp is more than five minutes off",
        ));
    }
    Ok(ts)
}

/// Verify a delivery: `signatures` is the `webhook-signature` header (one or more
/// space-separated `v1,…`), `timestamp` the `webhook-timestamp` header, `now`
/// the receiver's Unix time. Any one matching signature under `secret` is enough.
pub fn verify(
    secret: &str,
    id: &str,
    timestamp: &str,
    signatures: &str,
    body: &[u8],
    now: i64,
) -> Result<()> {
    let ts = check_timestamp(timestamp, now)?;
    let expected = sign(secret, id, ts, body)?;
    let matches = signatures
        .split(' ')
        .filter(|s| s.starts_with("v1,"))
        .any(|s| ct_eq(s.as_bytes(), expected.as_bytes()));
    matched(matches)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_and_verify_round_trip_with_rotation() {
        let old = generate_secret();
        let new = generate_secret();
        let body = br#"{"type":"user.created"}"#;
        let s_old = sign(&old, "msg_1", 1_700_000_000, body).unwrap();
        let s_new = sign(&new, "msg_1", 1_700_000_000, body).unwrap();
        let header = format!("{s_old} {s_new}");
        verify(&new, "msg_1", "1700000000", &header, body, 1_700_000_100).unwrap();
        verify(&old, "msg_1", "1700000000", &header, body, 1_700_000_100).unwrap();
        assert_eq!(
            verify(&new, "msg_1", "1700000000", &header, b"{}", 1_700_000_000)
                .unwrap_err()
                .code(),
            "invalid_token"
        );
        assert_eq!(
            verify(&new, "msg_1", "1700000000", &header, body, 1_700_000_301)
                .unwrap_err()
                .code(),
            "token_expired"
        );
        assert!(verify(&new, "msg_1", "soon", &header, body, 0).is_err());
    }

    #[test]
    fn v1a_signatures_verify_with_the_public_key_only() {
        let (sk, pk) = generate_signing_key();
        let (_, other_pk) = generate_signing_key();
        let body = br#"{"type":"user.created"}"#;
        let v1 = sign(&generate_secret(), "msg_1", 1_700_000_000, body).unwrap();
        let v1a = sign_v1a(&sk, "msg_1", 1_700_000_000, body).unwrap();
        assert!(v1a.starts_with("v1a,"));
        let header = format!("{v1} {v1a}");
        verify_v1a(&pk, "msg_1", "1700000000", &header, body, 1_700_000_010).unwrap();
        assert!(
            verify_v1a(
                &other_pk,
                "msg_1",
                "1700000000",
                &header,
                body,
                1_700_000_010
            )
            .is_err()
        );
        assert!(verify_v1a(&pk, "msg_2", "1700000000", &header, body, 1_700_000_010).is_err());
        assert!(verify_v1a(&pk, "msg_1", "1700000000", &v1, body, 1_700_000_010).is_err());
    }
}
