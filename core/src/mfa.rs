//! Multi-factor sign-in: the challenge after a first factor and its completion.

use crate::Inner;

/// See [`crate::Tessera::mfa`].
pub struct Mfa<'a> {
    #[allow(dead_code)]
    inner: &'a Inner,
}

impl<'a> Mfa<'a> {
    pub(crate) fn new(inner: &'a Inner) -> Self {
        Mfa { inner }
    }
}
