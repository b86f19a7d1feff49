//! Sign-in through external OAuth 2.0 and OpenID Connect providers.
//!
//! (Issue 8 fills this in: provider configuration per app, presets, the
//! stateless start → callback → exchange flow, and account linking.)

use crate::Inner;

/// External OAuth/OIDC sign-in; see [`crate::Tessera::oauth`].
pub struct OAuth<'a> {
    #[allow(dead_code)]
    inner: &'a Inner,
}

impl<'a> OAuth<'a> {
    pub(crate) fn new(inner: &'a Inner) -> Self {
        OAuth { inner }
    }
}
