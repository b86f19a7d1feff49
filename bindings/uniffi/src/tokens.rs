//! Access tokens and signing keys: the claims record, the JWKS, rotation.

use crate::Tessera;
use tessera_bindings_common::tokens;

crate::mirror! {
    /// The claims of a Tessera access token (RFC 9068).
    #[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
    pub struct AccessClaims from tessera_core::AccessClaims {
        /// Issuer: the install's base URL.
        pub iss: String,
        /// Subject: the user id.
        pub sub: String,
        /// Audience: the app id.
        pub aud: String,
        /// The app id again, as RFC 9068 asks.
        pub client_id: String,
        /// Expiry (Unix seconds).
        pub exp: i64,
        /// Issued at (Unix seconds).
        pub iat: i64,
        /// Not before (Unix seconds).
        pub nbf: i64,
        /// Unique token id.
        pub jti: String,
        /// Session id.
        pub sid: String,
        /// Pool id.
        pub pool: String,
        /// Authentication methods (RFC 8176).
        pub amr: Vec<String>,
        /// Roles.
        pub roles: Vec<String>,
        /// The user's email.
        pub email: Option<String>,
        /// Whether the email is verified.
        pub email_verified: bool,
    }
}

crate::exports! {
    /// The published key set as JSON text: `{"keys": [...]}`.
    fn jwks() -> String
        |core| tokens::jwks(core);

    /// Rotate the token signing key (to `alg`: `EdDSA`, `ES256` or `RS256`;
    /// default the configured one). The old key stays published until its
    /// tokens expire. Returns the new key id.
    fn rotate_signing_key(alg: Option<String>) -> String [alg = None]
        |core| tokens::rotate(core, alg.as_deref());
}
