//! Device tokens: OWASP's "device cookies", so that an attacker guessing
//! passwords cannot keep an account's owner out.
//!
//! The password backoff counts attempts per account. Alone, it lets anyone
//! who sends one wrong password each time the wait ends keep the account
//! waiting, and its owner with it (issue 15, item 1). So every successful
//! password sign-in also answers a *device token*: the face hands it back to
//! that device (for browsers, a `tessera_device` cookie) and the device
//! presents it at its next sign-in. A sign-in with a valid token for the
//! account is throttled on that device's own budget (the same backoff, keyed
//! by the token), never the account-wide one, so failures from unknown
//! devices cannot refuse it; a device that fails repeatedly slows down (and
//! waits) on its own. A token that is invalid, expired, or for another
//! account counts as no token: the attempt is an unknown device's.
//!
//! **MAC'd, not stored.** A token is `tsd_` + base64url of `expires (8, big
//! endian Unix seconds) ‖ id (16 random bytes) ‖ HMAC-SHA256` where the MAC
//! covers the pool, the expiry, the id and the normalised email, under a key
//! derived from the key-encryption key (`tessera/device-token/v1`). Nothing
//! is written to issue one and nothing read to check one (a sign-in already
//! writes enough), every instance can check what another issued, and the
//! token does not reveal the address it is bound to. What a stored token
//! would add, revoking one, buys little: a token only grants its own budget
//! of guesses, is bound to the address (an email change voids it) and
//! expires after [`DEVICE_TOKEN_TTL`]; rotating the key-encryption key voids
//! them all (devices then count as unknown until their next sign-in). A
//! device's failures live in the throttle row keyed by its id.

use chrono::{DateTime, Duration, Utc};

use crate::crypto::{b64url, ct_eq, hmac_sha256, prefix, random_bytes};
use crate::model::PoolId;

/// How long a device token is honoured after it was issued (each successful
/// sign-in issues a fresh one).
pub const DEVICE_TOKEN_TTL: Duration = Duration::days(90);

const EXPIRES_LEN: usize = 8;
const ID_LEN: usize = 16;
const MAC_LEN: usize = 32;
const BODY_LEN: usize = EXPIRES_LEN + ID_LEN + MAC_LEN;

/// A device whose token checked out: the key of its own budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Device {
    id: [u8; ID_LEN],
}

impl Device {
    /// What the device's throttles and limits are keyed by.
    pub(crate) fn subject(&self) -> String {
        format!("device:{}", b64url(&self.id))
    }
}

fn mac(
    key: &[u8; 32],
    pool: PoolId,
    email: &str,
    expires: &[u8; EXPIRES_LEN],
    id: &[u8; ID_LEN],
) -> [u8; MAC_LEN] {
    let mut msg = Vec::with_capacity(16 + EXPIRES_LEN + ID_LEN + email.len());
    msg.extend_from_slice(pool.as_bytes());
    msg.extend_from_slice(expires);
    msg.extend_from_slice(id);
    // Last, so the fixed-length fields before it keep the message unambiguous.
    msg.extend_from_slice(email.as_bytes());
    hmac_sha256(key, &msg)
}

/// A fresh device token for the account `(pool, email)` (`email`
/// normalised), valid for [`DEVICE_TOKEN_TTL`] from `now`.
pub(crate) fn issue(key: &[u8; 32], pool: PoolId, email: &str, now: DateTime<Utc>) -> String {
    let expires = (now + DEVICE_TOKEN_TTL).timestamp().to_be_bytes();
    let id = random_bytes::<ID_LEN>();
    let mut body = Vec::with_capacity(BODY_LEN);
    body.extend_from_slice(&expires);
    body.extend_from_slice(&id);
    body.extend_from_slice(&mac(key, pool, email, &expires, &id));
    format!("{}{}", prefix::DEVICE, b64url(&body))
}

/// The device of `token` if it is a well-formed, unexpired token issued for
/// the account `(pool, email)` under `key`; `None` otherwise (garbage costs
/// one length check).
pub(crate) fn verify(
    key: &[u8; 32],
    token: &str,
    pool: PoolId,
    email: &str,
    now: DateTime<Utc>,
) -> Option<Device> {
    use base64::Engine;
    let encoded = token.strip_prefix(prefix::DEVICE)?;
    if encoded.len() != (BODY_LEN * 4).div_ceil(3) {
        return None;
    }
    let body = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded)
        .ok()?;
    let (expires, rest) = body.split_first_chunk::<EXPIRES_LEN>()?;
    let (id, presented) = rest.split_first_chunk::<ID_LEN>()?;
    if !ct_eq(presented, &mac(key, pool, email, expires, id)) {
        return None;
    }
    let expires = DateTime::from_timestamp(i64::from_be_bytes(*expires), 0)?;
    (now < expires).then_some(Device { id: *id })
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    const KEY: [u8; 32] = [9; 32];

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_900_000_000, 0).unwrap()
    }

    #[test]
    fn a_token_is_valid_only_for_its_account_key_and_lifetime() {
        let pool = Uuid::from_u128(1);
        let token = issue(&KEY, pool, "ada@example.com", now());
        assert!(token.starts_with("tsd_"));
        let device = verify(&KEY, &token, pool, "ada@example.com", now()).unwrap();
        let later = now() + DEVICE_TOKEN_TTL - Duration::seconds(1);
        assert_eq!(
            verify(&KEY, &token, pool, "ada@example.com", later),
            Some(device.clone())
        );
        // Expired, another account, another pool, another key.
        let expired = now() + DEVICE_TOKEN_TTL;
        assert_eq!(verify(&KEY, &token, pool, "ada@example.com", expired), None);
        assert_eq!(verify(&KEY, &token, pool, "eve@example.com", now()), None);
        let other_pool = Uuid::from_u128(2);
        assert_eq!(
            verify(&KEY, &token, other_pool, "ada@example.com", now()),
            None
        );
        assert_eq!(
            verify(&[8; 32], &token, pool, "ada@example.com", now()),
            None
        );
        // Each token is its own device.
        let second = issue(&KEY, pool, "ada@example.com", now());
        assert_ne!(
            verify(&KEY, &second, pool, "ada@example.com", now()),
            Some(device)
        );
    }

    #[test]
    fn tampered_and_malformed_tokens_are_no_device() {
        let pool = Uuid::from_u128(1);
        let token = issue(&KEY, pool, "ada@example.com", now());
        let check = |t: &str| verify(&KEY, t, pool, "ada@example.com", now());
        // Flip one character in each part: the expiry, the id, the MAC.
        for at in [5, 20, token.len() - 2] {
            let mut chars: Vec<char> = token.chars().collect();
            chars[at] = if chars[at] == 'A' { 'B' } else { 'A' };
            let tampered: String = chars.into_iter().collect();
            assert_eq!(check(&tampered), None, "{at}");
        }
        for bad in [
            "",
            "tsd_",
            &token[..token.len() - 1],
            &format!("{token}A"),
            &token.replace("tsd_", "tss_"),
            &format!("tsd_{}", "!".repeat(75)),
            &format!("tsd_{}A", "é".repeat(37)),
        ] {
            assert_eq!(check(bad), None, "{bad:?}");
        }
    }
}
