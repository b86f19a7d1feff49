//! How a passkey is kept: a `Credential` of kind `Passkey` whose `data` holds
//! the serialised webauthn-rs `Passkey` (public key, counter, flags) next to
//! the fields people and queries read (credential id, flags, sign count,
//! AAGUID, transports).
//!
//! The webauthn-rs serialisation is the source of truth for verification; the
//! plain fields mirror it and are refreshed from it on every write, so the
//! two cannot drift.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;
use webauthn_rs::prelude::Passkey;

use crate::crypto::b64url;
use crate::model::Credential;
use crate::{Error, Result};

/// Version of the `data` layout.
const DATA_VERSION: u64 = 1;

/// A registered passkey, as shown to its owner (no key material).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyInfo {
    /// Id of the stored credential (the `{id}` of the routes).
    pub id: Uuid,
    /// The name the user gave it.
    pub name: String,
    /// The WebAuthn credential id, base64url.
    pub credential_id: String,
    /// The authenticator model's AAGUID, when it reported a non-zero one.
    pub aaguid: Option<String>,
    /// Whether the key may be synced to other devices (a "synced passkey").
    pub backup_eligible: bool,
    /// Whether it was backed up or synced at its last use.
    pub backup_state: bool,
    /// The authenticator's signature counter at its last use (0 when the
    /// authenticator keeps none, as synced passkeys do).
    pub sign_count: u32,
    /// Transports the authenticator said it can use (`internal`, `usb`, `hybrid`, …).
    pub transports: Vec<String>,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    /// When it last signed the user in.
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A stored passkey credential, decoded.
#[derive(Debug, Clone)]
pub(crate) struct StoredPasskey {
    pub(crate) credential: Credential,
    pub(crate) passkey: Passkey,
    pub(crate) credential_id: String,
    pub(crate) aaguid: Option<String>,
}

/// The flags webauthn-rs keeps inside its `Passkey`, read from its (stable,
/// persistence-oriented) serialisation.
struct Flags {
    backup_eligible: bool,
    backup_state: bool,
    sign_count: u32,
    transports: Vec<String>,
}

fn flags(passkey: &Passkey) -> Result<Flags> {
    let v = serde_json::to_value(passkey).map_err(Error::internal)?;
    let cred = &v["cred"];
    Ok(Flags {
        backup_eligible: cred["backup_eligible"].as_bool().unwrap_or(false),
        backup_state: cred["backup_state"].as_bool().unwrap_or(false),
        sign_count: cred["counter"]
            .as_u64()
            .and_then(|c| u32::try_from(c).ok())
            .unwrap_or(0),
        transports: cred["transports"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|t| t.as_str())
                    .filter(|t| *t != "unknown")
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
    })
}

impl StoredPasskey {
    /// A new stored form for `passkey`.
    pub(crate) fn new(credential: Credential, passkey: Passkey, aaguid: Option<String>) -> Self {
        let credential_id = b64url(passkey.cred_id());
        StoredPasskey {
            credential,
            passkey,
            credential_id,
            aaguid,
        }
    }

    /// Decode a stored credential (of kind `Passkey`).
    pub(crate) fn decode(credential: Credential) -> Result<Self> {
        let passkey: Passkey =
            serde_json::from_value(credential.data["passkey"].clone()).map_err(|e| {
                Error::internal(format!("stored passkey {} unreadable: {e}", credential.id))
            })?;
        let aaguid = credential.data["aaguid"].as_str().map(str::to_owned);
        Ok(StoredPasskey::new(credential, passkey, aaguid))
    }

    /// The `data` document for the current state of the passkey.
    pub(crate) fn data(&self) -> Result<Value> {
        let f = flags(&self.passkey)?;
        Ok(json!({
            "version": DATA_VERSION,
            "passkey": serde_json::to_value(&self.passkey).map_err(Error::internal)?,
            "credential_id": self.credential_id,
            "backup_eligible": f.backup_eligible,
            "backup_state": f.backup_state,
            "sign_count": f.sign_count,
            "aaguid": self.aaguid,
            "transports": f.transports,
        }))
    }

    /// The credential as it should be stored now (data refreshed).
    pub(crate) fn to_credential(&self) -> Result<Credential> {
        let mut c = self.credential.clone();
        c.data = self.data()?;
        c.secret = self.credential_id.clone();
        Ok(c)
    }

    /// Whether the key may live outside one device's hardware.
    pub(crate) fn backup_eligible(&self) -> bool {
        flags(&self.passkey).is_ok_and(|f| f.backup_eligible)
    }

    /// What its owner sees.
    pub(crate) fn info(&self) -> Result<PasskeyInfo> {
        let f = flags(&self.passkey)?;
        Ok(PasskeyInfo {
            id: self.credential.id,
            name: self.credential.name.clone().unwrap_or_default(),
            credential_id: self.credential_id.clone(),
            aaguid: self.aaguid.clone(),
            backup_eligible: f.backup_eligible,
            backup_state: f.backup_state,
            sign_count: f.sign_count,
            transports: f.transports,
            created_at: self.credential.created_at,
            last_used_at: self.credential.last_used_at,
        })
    }
}

/// The AAGUID in a registration's attestation object, when the attested
/// credential data carries a non-zero one.
///
/// The attestation object is a CBOR map whose `authData` entry is a byte
/// string; the AAGUID sits after the RP id hash (32 bytes), the flags (1) and
/// the counter (4) when the "attested credential data" flag (0x40) is set.
/// Only that entry is read, so no CBOR library is needed.
pub(crate) fn aaguid_of(attestation_object: &[u8]) -> Option<String> {
    const KEY: &[u8] = b"\x68authData";
    let at = attestation_object
        .windows(KEY.len())
        .position(|w| w == KEY)?
        + KEY.len();
    let rest = attestation_object.get(at..)?;
    let (len, start) = match *rest.first()? {
        b @ 0x40..=0x57 => (usize::from(b - 0x40), 1),
        0x58 => (usize::from(*rest.get(1)?), 2),
        0x59 => (
            usize::from(u16::from_be_bytes([*rest.get(1)?, *rest.get(2)?])),
            3,
        ),
        _ => return None,
    };
    let auth_data = rest.get(start..start + len)?;
    let flags = *auth_data.get(32)?;
    if flags & 0x40 == 0 {
        return None;
    }
    let aaguid: [u8; 16] = auth_data.get(37..53)?.try_into().ok()?;
    if aaguid == [0; 16] {
        return None;
    }
    Some(Uuid::from_bytes(aaguid).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attestation_object(flags: u8, aaguid: [u8; 16]) -> Vec<u8> {
        let mut auth = vec![7u8; 32];
        auth.push(flags);
        auth.extend_from_slice(&[0, 0, 0, 1]);
        auth.extend_from_slice(&aaguid);
        auth.extend_from_slice(&[0, 2, 9, 9]);
        let mut obj = vec![0xa3, 0x63];
        obj.extend_from_slice(b"fmt");
        obj.extend_from_slice(&[0x64]);
        obj.extend_from_slice(b"none");
        obj.extend_from_slice(&[0x67]);
        obj.extend_from_slice(b"attStmt");
        obj.push(0xa0);
        obj.extend_from_slice(b"\x68authData");
        obj.push(0x58);
        obj.push(auth.len() as u8);
        obj.extend_from_slice(&auth);
        obj
    }

    #[test]
    fn aaguid_is_read_from_the_attested_credential_data() {
        let id = [0xab; 16];
        assert_eq!(
            aaguid_of(&attestation_object(0x45, id)).as_deref(),
            Some("abababab-abab-abab-abab-abababababab")
        );
        assert_eq!(aaguid_of(&attestation_object(0x45, [0; 16])), None);
        assert_eq!(aaguid_of(&attestation_object(0x05, id)), None);
        assert_eq!(aaguid_of(b"garbage"), None);
        assert_eq!(aaguid_of(&[]), None);
    }
}
