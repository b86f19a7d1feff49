//! Secrets: opaque tokens, hashing, constant-time comparison, sealing under the
//! key-encryption key, and password hashing off the async executor.
//!
//! Opaque tokens are 256-bit random values with a readable prefix (`tss_`,
//! `tsr_`, …) so secret scanners can spot leaks; only their SHA-256 is stored.

mod keys;
mod password;
mod seal;

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub use keys::{KeyMaterial, decoding_key, jwt_algorithm};
pub use password::{PasswordHasher, PasswordParams, Verified};
pub use seal::KeyRing;

use crate::{Error, ErrorKind, Result};

/// Prefixes of Tessera's opaque tokens.
pub mod prefix {
    /// Session token (cookie `tessera_session`).
    pub const SESSION: &str = "tss_";
    /// Refresh token.
    pub const REFRESH: &str = "tsr_";
    /// API key.
    pub const API_KEY: &str = "tsk_";
    /// Magic-link token.
    pub const MAGIC_LINK: &str = "tsm_";
    /// Email verification token.
    pub const VERIFY_EMAIL: &str = "tsv_";
    /// Password reset token.
    pub const PASSWORD_RESET: &str = "tsp_";
    /// MFA challenge token.
    pub const MFA: &str = "tsf_";
    /// Email change confirmation token.
    pub const EMAIL_CHANGE: &str = "tse_";
    /// Device token (a browser's `tessera_device` cookie): MAC'd, not stored.
    pub const DEVICE: &str = "tsd_";
}

/// Length of the random part of an opaque token, base64url without padding.
const TOKEN_BODY_LEN: usize = 43;

/// SHA-256 of a secret: what stores keep instead of the secret.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct TokenHash(pub [u8; 32]);

impl TokenHash {
    /// The hash of `secret`.
    pub fn of(secret: &str) -> Self {
        TokenHash(Sha256::digest(secret.as_bytes()).into())
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// From stored bytes; `None` unless exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(TokenHash)
    }

    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Parse lower- or upper-case hex.
    pub fn from_hex(s: &str) -> Option<Self> {
        if s.len() != 64 || !s.is_ascii() {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(TokenHash(out))
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A hash is not a secret, but a short form keeps logs readable.
        write!(f, "TokenHash({}…)", &self.to_hex()[..8])
    }
}

impl Serialize for TokenHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for TokenHash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        TokenHash::from_hex(&s).ok_or_else(|| serde::de::Error::custom("expected 64 hex digits"))
    }
}

/// `N` bytes from the operating system's CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    rand::fill(&mut out[..]);
    out
}

/// A new opaque token with `prefix` (see [`prefix`]) and its hash.
pub fn generate_token(prefix: &str) -> (String, TokenHash) {
    let token = token_from_secret(prefix, &random_bytes::<32>());
    let hash = TokenHash::of(&token);
    (token, hash)
}

/// The opaque token with `prefix` whose random part is `secret`.
pub(crate) fn token_from_secret(prefix: &str, secret: &[u8; 32]) -> String {
    let mut token = String::with_capacity(prefix.len() + TOKEN_BODY_LEN);
    token.push_str(prefix);
    URL_SAFE_NO_PAD.encode_string(secret, &mut token);
    token
}

/// Check that `token` looks like a token with `prefix`, before any lookup, so
/// garbage costs nothing and never reaches a store. Answers `InvalidToken`.
pub fn check_token_format(token: &str, prefix: &str) -> Result<()> {
    let well_formed = token.len() == prefix.len() + TOKEN_BODY_LEN
        && token.starts_with(prefix)
        && token[prefix.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if well_formed {
        Ok(())
    } else {
        Err(Error::new(ErrorKind::InvalidToken))
    }
}

/// The 32 random bytes of a well-formed token (see [`check_token_format`]).
pub(crate) fn token_secret(token: &str, prefix: &str) -> Result<[u8; 32]> {
    check_token_format(token, prefix)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(&token[prefix.len()..])
        .map_err(|_| Error::new(ErrorKind::InvalidToken))?;
    bytes
        .try_into()
        .map_err(|_| Error::new(ErrorKind::InvalidToken))
}

/// Compare two byte strings in time independent of where they differ.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// HMAC-SHA256 of `message` under `key`.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    use hmac::{KeyInit, Mac};
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any size");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// base64url without padding, the encoding of JOSE.
pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_prefix_and_hash_of_whole_string() {
        let (token, hash) = generate_token(prefix::REFRESH);
        assert!(token.starts_with("tsr_"));
        assert_eq!(token.len(), 4 + 43);
        assert_eq!(hash, TokenHash::of(&token));
        check_token_format(&token, prefix::REFRESH).unwrap();
        assert_eq!(token_secret(&token, prefix::REFRESH).unwrap().len(), 32);
    }

    #[test]
    fn malformed_tokens_are_rejected_before_lookup() {
        let (token, _) = generate_token(prefix::REFRESH);
        for bad in [
            "",
            "tsr_",
            &token[..token.len() - 1],
            &format!("{token}x"),
            &token.replace("tsr_", "tss_"),
            &format!("tsr_{}", "!".repeat(43)),
            &format!("tsr_{}", "é".repeat(43)),
        ] {
            let err = check_token_format(bad, prefix::REFRESH).unwrap_err();
            assert_eq!(err.code(), "invalid_token", "{bad:?}");
        }
    }

    #[test]
    fn hex_round_trip() {
        let h = TokenHash::of("x");
        assert_eq!(TokenHash::from_hex(&h.to_hex()), Some(h));
        assert_eq!(TokenHash::from_hex("zz"), None);
        assert_eq!(TokenHash::from_hex(&"é".repeat(32)), None);
    }

    #[test]
    fn constant_time_eq_compares_content() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
    }
}
