//! Webhook signatures following the Standard Webhooks specification.
//!
//! A message is signed as `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`
//! with a secret written `whsec_<base64 key>`; several signatures are
//! space-separated while keys rotate. Receivers reject timestamps more than
//! five minutes off. The SDKs implement the same rules, held together by the
//! vectors in `sdks/testdata/webhooks.json`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::crypto::{ct_eq, hmac_sha256, random_bytes};
use crate::{Error, ErrorKind, Result};

/// Prefix of webhook secrets.
pub const SECRET_PREFIX: &str = "whsec_";
/// How far a timestamp may be from now, in seconds.
pub const TOLERANCE_SECS: i64 = 5 * 60;

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

/// The `webhook-signature` value (`v1,<base64>`) for one message under `secret`.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String> {
    let key = key_bytes(secret)?;
    let mut content = Vec::with_capacity(id.len() + body.len() + 24);
    content.extend_from_slice(id.as_bytes());
    content.push(b'.');
    content.extend_from_slice(timestamp.to_string().as_bytes());
    content.push(b'.');
    content.extend_from_slice(body);
    Ok(format!(
        "v1,{}",
        STANDARD.encode(hmac_sha256(&key, &content))
    ))
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
    let expected = sign(secret, id, ts, body)?;
    let matches = signatures
        .split(' ')
        .filter(|s| s.starts_with("v1,"))
        .any(|s| ct_eq(s.as_bytes(), expected.as_bytes()));
    if matches {
        Ok(())
    } else {
        Err(Error::with_message(
            ErrorKind::InvalidToken,
            "no webhook signature matches",
        ))
    }
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
}
