//! Sign in with Apple's client secret: not a fixed string but a short-lived
//! JWT signed (ES256) with the developer's private key, made fresh for each
//! token request.
//!
//! Claims (Apple, "Creating a client secret"): `iss` = team id, `sub` =
//! client id (the Services ID), `aud` = `https://appleid.apple.com`, `iat`,
//! `exp` (at most six months; we use five minutes); header `kid` = key id.

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Audience of Apple client secrets.
pub(crate) const AUDIENCE: &str = "https://appleid.apple.com";
/// Lifetime of a generated client secret, in seconds.
const LIFETIME_SECS: i64 = 300;

/// The claims of an Apple client secret.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct ClientSecretClaims {
    pub(crate) iss: String,
    pub(crate) sub: String,
    pub(crate) aud: String,
    pub(crate) iat: i64,
    pub(crate) exp: i64,
}

fn bad_key() -> Error {
    Error::invalid(
        "client_secret",
        "apple's client secret must be the P-256 private key (.p8, PKCS#8 PEM)",
    )
}

/// The PKCS#8 DER inside a `-----BEGIN PRIVATE KEY-----` PEM block.
fn pkcs8_der(pem: &str) -> Result<Vec<u8>> {
    use base64::Engine;
    let body: String = pem
        .trim()
        .strip_prefix("-----BEGIN PRIVATE KEY-----")
        .and_then(|rest| rest.trim_end().strip_suffix("-----END PRIVATE KEY-----"))
        .ok_or_else(bad_key)?
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|_| bad_key())
}

fn key(pem: &str) -> Result<EncodingKey> {
    use p256::pkcs8::DecodePrivateKey as _;
    let der = pkcs8_der(pem)?;
    // Parse it as a P-256 key first: ES256 needs exactly that curve.
    p256::SecretKey::from_pkcs8_der(&der).map_err(|_| bad_key())?;
    Ok(EncodingKey::from_ec_der(&der))
}

/// Check that `pem` is a P-256 private key usable for ES256.
pub(crate) fn check_private_key(pem: &str) -> Result<()> {
    let k = key(pem)?;
    jsonwebtoken::encode(&Header::new(Algorithm::ES256), &serde_json::json!({}), &k)
        .map(|_| ())
        .map_err(|_| bad_key())
}

/// A client secret JWT for `client_id`, valid from `now` for five minutes.
pub(crate) fn client_secret(
    team_id: &str,
    key_id: &str,
    client_id: &str,
    private_key_pem: &str,
    now: DateTime<Utc>,
) -> Result<String> {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(key_id.to_owned());
    let claims = ClientSecretClaims {
        iss: team_id.to_owned(),
        sub: client_id.to_owned(),
        aud: AUDIENCE.to_owned(),
        iat: now.timestamp(),
        exp: now.timestamp() + LIFETIME_SECS,
    };
    jsonwebtoken::encode(&header, &claims, &key(private_key_pem)?)
        .map_err(|e| Error::config("could not sign the Apple client secret").with_source(e))
}

/// The name Apple sends, on the first sign-in only, in the `user` form field
/// of its `form_post` callback: `{"name": {"firstName", "lastName"}, "email"}`.
/// Only the name is used (the email comes from the verified ID token).
pub(crate) fn name_from_user_field(user: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(user).ok()?;
    let name = v.get("name")?;
    let part = |k: &str| {
        name.get(k)
            .and_then(|x| x.as_str())
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let full = [part("firstName"), part("lastName")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    (!full.is_empty()).then_some(full)
}
