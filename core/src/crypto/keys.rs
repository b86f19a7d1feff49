//! Key material for signing access tokens: generation, PKCS#8/PKCS#1 forms for
//! the JWT library, and public JWKs for the JWKS.
//!
//! Ed25519 is the default; ES256 (P-256) and RS256 (2048-bit RSA) exist for
//! verifiers that do not speak EdDSA. The private key is handled as DER bytes
//! (PKCS#8 for Ed25519 and P-256, PKCS#1 for RSA: the forms `jsonwebtoken`
//! takes) and only ever stored sealed.

use jsonwebtoken::{DecodingKey, EncodingKey};
use serde_json::{Value, json};

use super::{b64url, random_bytes};
use crate::model::SigningAlg;
use crate::{Error, Result};

/// A private signing key and its public JWK (without `kid`).
pub struct KeyMaterial {
    alg: SigningAlg,
    private_der: Vec<u8>,
    public_jwk: serde_json::Map<String, Value>,
}

impl std::fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyMaterial")
            .field("alg", &self.alg)
            .field("public_jwk", &self.public_jwk)
            .finish_non_exhaustive()
    }
}

impl KeyMaterial {
    /// A fresh random key for `alg`.
    pub fn generate(alg: SigningAlg) -> Result<Self> {
        use ed25519_dalek::pkcs8::EncodePrivateKey as _;
        let der = match alg {
            SigningAlg::EdDSA => ed25519_dalek::SigningKey::from_bytes(&random_bytes::<32>())
                .to_pkcs8_der()
                .map_err(Error::internal)?
                .as_bytes()
                .to_vec(),
            SigningAlg::ES256 => {
                use p256::pkcs8::EncodePrivateKey as _;
                let secret = loop {
                    // Fails only for values at or above the group order (~2^-128).
                    if let Ok(s) = p256::SecretKey::from_slice(&random_bytes::<32>()) {
                        break s;
                    }
                };
                secret
                    .to_pkcs8_der()
                    .map_err(Error::internal)?
                    .as_bytes()
                    .to_vec()
            }
            SigningAlg::RS256 => {
                use rsa::pkcs1::EncodeRsaPrivateKey as _;
                rsa::RsaPrivateKey::new(&mut rand_core_06::OsRng, 2048)
                    .map_err(Error::internal)?
                    .to_pkcs1_der()
                    .map_err(Error::internal)?
                    .as_bytes()
                    .to_vec()
            }
        };
        KeyMaterial::from_private_der(alg, der)
    }

    /// Key material from its private DER (PKCS#8 for EdDSA and ES256, PKCS#1
    /// for RS256).
    pub fn from_private_der(alg: SigningAlg, der: Vec<u8>) -> Result<Self> {
        let bad =
            |e: &dyn std::fmt::Display| Error::config(format!("invalid {} key: {e}", alg.as_str()));
        let jwk = match alg {
            SigningAlg::EdDSA => {
                use ed25519_dalek::pkcs8::DecodePrivateKey as _;
                let key = ed25519_dalek::SigningKey::from_pkcs8_der(&der).map_err(|e| bad(&e))?;
                json!({"kty": "OKP", "crv": "Ed25519", "x": b64url(key.verifying_key().as_bytes())})
            }
            SigningAlg::ES256 => {
                use p256::elliptic_curve::sec1::ToEncodedPoint as _;
                use p256::pkcs8::DecodePrivateKey as _;
                let key = p256::SecretKey::from_pkcs8_der(&der).map_err(|e| bad(&e))?;
                let point = key.public_key().to_encoded_point(false);
                let (Some(x), Some(y)) = (point.x(), point.y()) else {
                    return Err(bad(&"point at infinity"));
                };
                json!({"kty": "EC", "crv": "P-256", "x": b64url(x), "y": b64url(y)})
            }
            SigningAlg::RS256 => {
                use rsa::pkcs1::DecodeRsaPrivateKey as _;
                use rsa::traits::PublicKeyParts as _;
                let key = rsa::RsaPrivateKey::from_pkcs1_der(&der).map_err(|e| bad(&e))?;
                json!({"kty": "RSA", "n": b64url(&key.n().to_bytes_be()), "e": b64url(&key.e().to_bytes_be())})
            }
        };
        let Value::Object(public_jwk) = jwk else {
            unreachable!("json! of an object literal is an object")
        };
        Ok(KeyMaterial {
            alg,
            private_der: der,
            public_jwk,
        })
    }

    /// The algorithm.
    pub fn alg(&self) -> SigningAlg {
        self.alg
    }

    /// The private key's DER bytes (seal before storing).
    pub fn private_der(&self) -> &[u8] {
        &self.private_der
    }

    /// The key for `jsonwebtoken::encode`.
    pub fn encoding_key(&self) -> EncodingKey {
        match self.alg {
            SigningAlg::EdDSA => EncodingKey::from_ed_der(&self.private_der),
            SigningAlg::ES256 => EncodingKey::from_ec_der(&self.private_der),
            SigningAlg::RS256 => EncodingKey::from_rsa_der(&self.private_der),
        }
    }

    /// The public JWK as published: key parameters plus `kid`, `alg`, `use`.
    pub fn public_jwk(&self, kid: &str) -> Value {
        let mut jwk = self.public_jwk.clone();
        jwk.insert("kid".into(), kid.into());
        jwk.insert("alg".into(), self.alg.as_str().into());
        jwk.insert("use".into(), "sig".into());
        Value::Object(jwk)
    }
}

/// The verification key and algorithm of a published JWK.
pub fn decoding_key(jwk: &Value) -> Result<(DecodingKey, SigningAlg)> {
    let alg = jwk
        .get("alg")
        .and_then(Value::as_str)
        .and_then(SigningAlg::parse)
        .ok_or_else(|| Error::internal("stored JWK has no supported alg"))?;
    let parsed: jsonwebtoken::jwk::Jwk =
        serde_json::from_value(jwk.clone()).map_err(Error::internal)?;
    Ok((
        DecodingKey::from_jwk(&parsed).map_err(Error::internal)?,
        alg,
    ))
}

/// The `jsonwebtoken` algorithm for a signing algorithm.
pub fn jwt_algorithm(alg: SigningAlg) -> jsonwebtoken::Algorithm {
    match alg {
        SigningAlg::EdDSA => jsonwebtoken::Algorithm::EdDSA,
        SigningAlg::ES256 => jsonwebtoken::Algorithm::ES256,
        SigningAlg::RS256 => jsonwebtoken::Algorithm::RS256,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_algorithm_signs_and_verifies() {
        for alg in [SigningAlg::EdDSA, SigningAlg::ES256, SigningAlg::RS256] {
            let km = KeyMaterial::generate(alg).unwrap();
            let jwk = km.public_jwk("k1");
            assert_eq!(jwk["alg"], alg.as_str());
            assert_eq!(jwk["use"], "sig");
            let mut header = jsonwebtoken::Header::new(jwt_algorithm(alg));
            header.kid = Some("k1".into());
            let token = jsonwebtoken::encode(
                &header,
                &json!({"sub": "x", "exp": 4_000_000_000u64}),
                &km.encoding_key(),
            )
            .unwrap();
            let (dk, alg2) = decoding_key(&jwk).unwrap();
            assert_eq!(alg, alg2);
            let mut v = jsonwebtoken::Validation::new(jwt_algorithm(alg));
            v.required_spec_claims.clear();
            v.validate_aud = false;
            let data = jsonwebtoken::decode::<Value>(&token, &dk, &v).unwrap();
            assert_eq!(data.claims["sub"], "x");
            // Round trip through DER gives the same public key.
            let again = KeyMaterial::from_private_der(alg, km.private_der().to_vec()).unwrap();
            assert_eq!(again.public_jwk("k1"), jwk);
        }
    }

    #[test]
    fn garbage_der_is_an_error_not_a_panic() {
        for alg in [SigningAlg::EdDSA, SigningAlg::ES256, SigningAlg::RS256] {
            assert!(KeyMaterial::from_private_der(alg, vec![1, 2, 3]).is_err());
        }
    }
}
