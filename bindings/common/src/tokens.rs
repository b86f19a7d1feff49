//! Access tokens and signing keys: offline verification, the JWKS, rotation.

use serde_json::Value;
use tessera_core::model::SigningAlg;
use tessera_core::{AccessClaims, Error, Result, Tessera};

/// Verify an access token offline (no session lookup); `audience` (an app
/// id), when given, must be the token's.
pub async fn verify(core: &Tessera, token: &str, audience: Option<&str>) -> Result<AccessClaims> {
    core.tokens().verify(token, audience).await
}

/// The published key set, `{"keys": [...]}`.
pub async fn jwks(core: &Tessera) -> Result<Value> {
    core.tokens().jwks().await
}

/// The id of the key new tokens are signed with.
pub async fn current_kid(core: &Tessera) -> Result<String> {
    core.tokens().current_kid().await
}

/// Make a new signing key (of `alg`: `EdDSA`, `ES256`, `RS256`; default the
/// configured one) current; its id.
///
/// Errors: `invalid_input` (`alg`).
pub async fn rotate(core: &Tessera, alg: Option<&str>) -> Result<String> {
    let alg = alg
        .map(|a| {
            SigningAlg::parse(a)
                .ok_or_else(|| Error::invalid("alg", "the algorithm must be EdDSA, ES256 or RS256"))
        })
        .transpose()?;
    core.tokens().rotate(alg).await
}
