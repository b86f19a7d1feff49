//! WebAuthn passkeys: registration, sign-in, list, rename, delete.

use crate::Inner;

/// See [`crate::Tessera::passkeys`].
pub struct Passkeys<'a> {
    #[allow(dead_code)]
    inner: &'a Inner,
}

impl<'a> Passkeys<'a> {
    pub(crate) fn new(inner: &'a Inner) -> Self {
        Passkeys { inner }
    }
}
