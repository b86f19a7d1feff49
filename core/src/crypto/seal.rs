//! Sealing secrets at rest (signing keys, OAuth client secrets, TOTP secrets)
//! with AES-256-GCM under a key-encryption key (KEK).
//!
//! A sealed value is `version (1) ‖ kek id (4) ‖ nonce (12) ‖ ciphertext+tag`.
//! The KEK id (first 4 bytes of SHA-256 of the key) lets old KEKs keep opening
//! values after the operator rotates to a new one. Callers pass the row's
//! identity as associated data, so a ciphertext copied into another row does
//! not open.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

use super::random_bytes;
use crate::{Error, Result};

const VERSION: u8 = 1;
const HEADER_LEN: usize = 1 + 4 + 12;

struct Kek {
    id: [u8; 4],
    key: [u8; 32],
    cipher: Aes256Gcm,
}

impl Kek {
    fn new(key: [u8; 32]) -> Self {
        let digest = Sha256::digest(key);
        Kek {
            id: [digest[0], digest[1], digest[2], digest[3]],
            key,
            cipher: Aes256Gcm::new(&key.into()),
        }
    }
}

/// The current key-encryption key and the old ones still accepted.
pub struct KeyRing {
    current: Kek,
    old: Vec<Kek>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("current", &hex4(&self.current.id))
            .field(
                "old",
                &self.old.iter().map(|k| hex4(&k.id)).collect::<Vec<_>>(),
            )
            .finish()
    }
}

fn hex4(id: &[u8; 4]) -> String {
    id.iter().map(|b| format!("{b:02x}")).collect()
}

impl KeyRing {
    /// A ring from raw 32-byte keys.
    pub fn new(current: [u8; 32], old: impl IntoIterator<Item = [u8; 32]>) -> Self {
        KeyRing {
            current: Kek::new(current),
            old: old.into_iter().map(Kek::new).collect(),
        }
    }

    /// A ring from base64 keys (the `TESSERA_KEY_ENCRYPTION_KEY` form); `old`
    /// may be empty or comma-separated.
    pub fn from_base64(current: &str, old: &str) -> Result<Self> {
        let parse = |s: &str| -> Result<[u8; 32]> {
            let bytes = STANDARD
                .decode(s.trim())
                .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s.trim()))
                .map_err(|_| Error::config("the key-encryption key is not valid base64"))?;
            bytes
                .try_into()
                .map_err(|_| Error::config("the key-encryption key must be 32 bytes"))
        };
        let old = old
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(parse)
            .collect::<Result<Vec<_>>>()?;
        Ok(KeyRing::new(parse(current)?, old))
    }

    /// A fresh random key, base64 (what `tessera serve` writes for development).
    pub fn generate_base64() -> String {
        STANDARD.encode(random_bytes::<32>())
    }

    /// Seal `plaintext` bound to `aad` under the current KEK.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
        let nonce_bytes = random_bytes::<12>();
        let nonce = Nonce::try_from(&nonce_bytes[..]).map_err(Error::internal)?;
        let ct = self
            .current
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| Error::internal("AES-GCM encryption failed"))?;
        let mut out = Vec::with_capacity(HEADER_LEN + ct.len());
        out.push(VERSION);
        out.extend_from_slice(&self.current.id);
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Open a value sealed by [`KeyRing::seal`] under the current or an old KEK.
    /// Tampered data, the wrong `aad` or an unknown KEK give a `config_error`
    /// (the operator must supply the right key), never a panic.
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
        if sealed.len() < HEADER_LEN + 16 || sealed[0] != VERSION {
            return Err(Error::config("a sealed secret is malformed"));
        }
        let id = &sealed[1..5];
        let kek = std::iter::once(&self.current)
            .chain(&self.old)
            .find(|k| k.id == id)
            .ok_or_else(|| {
                Error::config(
                    "a secret is sealed under a key-encryption key that is not configured \
                     (set TESSERA_KEY_ENCRYPTION_KEY_OLD)",
                )
            })?;
        let nonce = Nonce::try_from(&sealed[5..HEADER_LEN]).map_err(Error::internal)?;
        kek.cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: &sealed[HEADER_LEN..],
                    aad,
                },
            )
            .map_err(|_| Error::config("a sealed secret does not open (tampered or moved)"))
    }

    /// A 32-byte key derived from the current KEK for `purpose` (HMAC-SHA256).
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        super::hmac_sha256(&self.current.key, purpose.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_binding() {
        let ring = KeyRing::new([7; 32], []);
        let sealed = ring.seal(b"secret", b"row-1").unwrap();
        assert_eq!(ring.open(&sealed, b"row-1").unwrap(), b"secret");
        // Moved to another row: does not open.
        assert_eq!(
            ring.open(&sealed, b"row-2").unwrap_err().code(),
            "config_error"
        );
        // Tampered.
        let mut bad = sealed.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert!(ring.open(&bad, b"row-1").is_err());
        // Truncated.
        assert!(ring.open(&sealed[..10], b"row-1").is_err());
    }

    #[test]
    fn old_keys_still_open_after_rotation() {
        let old = KeyRing::new([1; 32], []);
        let sealed = old.seal(b"x", b"a").unwrap();
        let rotated = KeyRing::new([2; 32], [[1; 32]]);
        assert_eq!(rotated.open(&sealed, b"a").unwrap(), b"x");
        let without_old = KeyRing::new([2; 32], []);
        assert!(without_old.open(&sealed, b"a").is_err());
    }

    #[test]
    fn base64_config_is_validated() {
        let k = KeyRing::generate_base64();
        KeyRing::from_base64(&k, "").unwrap();
        KeyRing::from_base64(&k, &format!("{k}, {k}")).unwrap();
        assert_eq!(
            KeyRing::from_base64("short", "").unwrap_err().code(),
            "config_error"
        );
        assert!(KeyRing::from_base64("AAAA", "").is_err());
    }
}
