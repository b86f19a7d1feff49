//! The atomic backoff step the flows gate their guesses with.
//!
//! The backoff of password and second-factor guesses is a wait that doubles
//! ([`Backoff`]); [`reserve`] is its one atomic step: whether an attempt may
//! proceed is decided and the attempt counted in one store call, before the
//! guess is checked, so concurrent guesses cannot all slip past a wait.

use chrono::{DateTime, Utc};

use crate::model::{Backoff, Reservation, Throttle};
use crate::{Error, ErrorKind, Inner, Result};

/// `rate_limited`, to retry once `until` has passed (at `now`).
pub(crate) fn refused(until: DateTime<Utc>, now: DateTime<Utc>) -> Error {
    let retry_after = (until - now).to_std().unwrap_or_default();
    Error::new(ErrorKind::RateLimited { retry_after })
}

/// Reserve one attempt against `key` under `backoff` (see
/// [`ThrottleStore::reserve_attempt`](crate::store::ThrottleStore::reserve_attempt)):
/// the counted state, or `rate_limited` while the key waits. The caller
/// clears the key when the attempt succeeds.
pub(crate) async fn reserve(inner: &Inner, key: &str, backoff: &Backoff) -> Result<Throttle> {
    let now = inner.now();
    match inner
        .store
        .throttles()
        .reserve_attempt(key, now, backoff)
        .await?
    {
        Reservation::Granted(t) => Ok(t),
        Reservation::Refused { until } => Err(refused(until, now)),
    }
}
