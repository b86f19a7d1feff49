//! Access tokens and signing keys: the `AccessClaims` class, offline
//! verification, the JWKS and key rotation.

use tessera_bindings_common::tokens;

use crate::{AsyncTessera, Tessera};

crate::record! {
    /// The claims of a Tessera access token (RFC 9068).
    pub(crate) struct AccessClaims(tessera_core::AccessClaims) repr(sub, sid, aud) {
        /// Issuer: the install's base URL.
        iss,
        /// Subject: the user id.
        sub,
        /// Audience: the app id.
        aud,
        /// The app id again, as RFC 9068 asks.
        client_id,
        /// Expiry (Unix seconds).
        exp,
        /// Issued at (Unix seconds).
        iat,
        /// Not before (Unix seconds).
        nbf,
        /// Unique token id.
        jti,
        /// Session id.
        sid,
        /// Pool id.
        pool,
        /// Authentication methods (RFC 8176).
        amr,
        /// Roles.
        roles,
        /// The user's email.
        email,
        /// Whether the email is verified.
        email_verified,
    }
}

crate::methods! {
    /// Verify an access JWT offline (signature, issuer, expiry, audience when
    /// `app=` is given) without looking at its session: `AccessClaims`.
    fn verify_access_token(access_token: String, app: Option<String>)
        [access_token, *, app = None]
        |core| async move {
            let audience = tessera_bindings_common::apps::audience(core, app.as_deref()).await?;
            tokens::verify(core, &access_token, audience.as_deref()).await
        };
    /// The published key set, `{"keys": [...]}`.
    fn jwks()
        []
        |core| tokens::jwks(core);
    /// The id of the key new tokens are signed with.
    fn current_kid()
        []
        |core| tokens::current_kid(core);
    /// Make a new signing key (of `alg`: `EdDSA`, `ES256`, `RS256`) the
    /// current one; the old one stays published while its tokens live.
    fn rotate_signing_key(alg: Option<String>)
        [alg = None]
        |core| tokens::rotate(core, alg.as_deref());
}
