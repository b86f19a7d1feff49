//! TOTP second factor and recovery codes.

use crate::Inner;

/// See [`crate::Tessera::totp`].
pub struct Totp<'a> {
    #[allow(dead_code)]
    inner: &'a Inner,
}

impl<'a> Totp<'a> {
    pub(crate) fn new(inner: &'a Inner) -> Self {
        Totp { inner }
    }
}
