//! Verifying (and, for tests and tools, signing) Tessera's webhooks.
//!
//! Tessera follows the Standard Webhooks specification: headers
//! `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature`
//! (`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, several
//! space-separated while secrets rotate), secrets written `whsec_<base64>`.
//! A delivery whose timestamp is more than five minutes off is refused, so a
//! captured delivery cannot be replayed later; deliveries are at least once,
//! so dedupe by `webhook-id`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use http::HeaderMap;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::{Error, ErrorKind, Result};

/// The `webhook-id` header.
pub const HEADER_ID: &str = "webhook-id";
/// The `webhook-timestamp` header.
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
/// The `webhook-signature` header.
pub const HEADER_SIGNATURE: &str = "webhook-signature";
/// How far `webhook-timestamp` may be from now, in seconds.
pub const TOLERANCE_SECS: i64 = 5 * 60;

const SECRET_PREFIX: &str = "whsec_";

fn key(secret: &str) -> Result<Vec<u8>> {
    let b64 = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    match STANDARD.decode(b64) {
        Ok(key) if !key.is_empty() => Ok(key),
        _ => Err(Error::new(
            ErrorKind::InvalidSecret,
            "a webhook secret is whsec_ followed by base64",
        )),
    }
}

fn mac(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> [u8; 32] {
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(id.as_bytes());
    m.update(b".");
    m.update(timestamp.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m.finalize().into_bytes().into()
}

/// The `webhook-signature` value (`v1,<base64>`) of a delivery, for tests and
/// tools that play Tessera's part.
pub fn sign_webhook(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String> {
    let key = key(secret)?;
    Ok(format!(
        "v1,{}",
        STANDARD.encode(mac(&key, id, timestamp, body))
    ))
}

/// Verify a webhook delivery from Tessera at the current time. `body` is the
/// raw request body, before any JSON parsing.
///
/// Fails with [`ErrorKind::Malformed`] (missing headers, timestamp not a
/// number), [`ErrorKind::TimestampOutOfTolerance`],
/// [`ErrorKind::InvalidSignature`] or [`ErrorKind::InvalidSecret`].
///
/// ```
/// # use tessera_sdk::{sign_webhook, verify_webhook};
/// # use http::HeaderMap;
/// let secret = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
/// let body = br#"{"type":"user.created"}"#;
/// let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
/// let mut headers = HeaderMap::new();
/// headers.insert("webhook-id", "msg_1".parse().unwrap());
/// headers.insert("webhook-timestamp", now.to_string().parse().unwrap());
/// headers.insert("webhook-signature", sign_webhook(secret, "msg_1", now, body)?.parse().unwrap());
/// verify_webhook(secret, &headers, body)?;
/// # Ok::<(), tessera_sdk::Error>(())
/// ```
pub fn verify_webhook(secret: &str, headers: &HeaderMap, body: &[u8]) -> Result<()> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    verify_webhook_at(secret, headers, body, now)
}

/// [`verify_webhook`] at a given Unix time `now`.
pub fn verify_webhook_at(secret: &str, headers: &HeaderMap, body: &[u8], now: i64) -> Result<()> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
    };
    let (Some(id), Some(ts), Some(signatures)) = (
        header(HEADER_ID),
        header(HEADER_TIMESTAMP),
        header(HEADER_SIGNATURE),
    ) else {
        return Err(Error::new(
            ErrorKind::Malformed,
            "missing webhook-id, webhook-timestamp or webhook-signature",
        ));
    };
    let ts: i64 = ts
        .trim()
        .parse()
        .map_err(|_| Error::new(ErrorKind::Malformed, "webhook-timestamp is not a number"))?;
    if now.abs_diff(ts) > TOLERANCE_SECS as u64 {
        return Err(Error::new(
            ErrorKind::TimestampOutOfTolerance,
            "webhook-timestamp is more than five minutes off",
        ));
    }
    let expected = mac(&key(secret)?, id, ts, body);
    let matches = signatures
        .split(' ')
        .filter_map(|s| s.strip_prefix("v1,"))
        .filter_map(|b64| STANDARD.decode(b64).ok())
        .any(|sig| bool::from(sig.ct_eq(&expected)));
    if matches {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::InvalidSignature,
            "no webhook signature matches",
        ))
    }
}
