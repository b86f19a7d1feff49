//! Rate limits shared by every instance on one store, and the atomic
//! backoff step the flows gate their guesses with.
//!
//! Why in the store: limits kept in each process's memory let N instances
//! allow N times the attempts (issue 14, item 4). Each limit here is one
//! atomic upsert ([`ThrottleStore::hit`]) on a row every instance shares, so
//! the numbers below hold for the whole deployment. They are meant for
//! requests that write anyway (sign-in, sign-up, sending mail), so the
//! shared counter adds a write only where there is one already; read-only
//! requests keep whatever cheap in-process limiting the face has.
//!
//! | limit | counted per | hits | window |
//! |---|---|---|---|
//! | [`Limit::SignInPerIp`] | client IP (an IPv6 address by its /64) | 20 | 1 minute |
//! | [`Limit::SignInPerAccount`] | pool and normalised email, or the device token | 10 | 1 minute |
//! | [`Limit::SignUpPerIp`] | client IP | 10 | 1 minute |
//! | [`Limit::MailSendPerIp`] | client IP | 10 | 1 minute |
//!
//! **Fixed windows.** A window opens at a key's first hit and lasts one
//! minute; the hits in it are counted and those past the limit refused with
//! `rate_limited` until it ends. One row and one statement per hit, exact
//! across instances; the price is that a burst straddling two windows can
//! reach twice the limit, the same as the in-process token buckets these
//! replace (a full bucket plus a minute's refill).
//!
//! **The owner is never locked out by the per-account limit.** A sign-in
//! that presents a valid device token for the account (see
//! [`crate::devices`]) is counted per device, not per account, so an
//! attacker's attempts from unknown devices never use up its owner's share.
//!
//! The backoff of password and second-factor guesses is not a window but a
//! wait that doubles ([`Backoff`]); [`reserve`] is its one atomic step.

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};

use crate::model::{App, Backoff, ClientInfo, RateLimit, Reservation, Throttle};
use crate::validate::normalize_email;
use crate::{Error, ErrorKind, Inner, Result};

/// The limits of [`Limits`], with their numbers ([`Limit::rate`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Limit {
    /// Sign-in attempts of any kind from one client IP.
    SignInPerIp,
    /// Sign-in attempts against one account from unknown devices, or from
    /// one known device.
    SignInPerAccount,
    /// Sign-ups from one client IP.
    SignUpPerIp,
    /// Requests that send mail (reset, code, magic link, verification) from
    /// one client IP.
    MailSendPerIp,
}

impl Limit {
    /// How many hits per window.
    pub const fn rate(self) -> RateLimit {
        let max = match self {
            Limit::SignInPerIp => 20,
            Limit::SignInPerAccount | Limit::SignUpPerIp | Limit::MailSendPerIp => 10,
        };
        RateLimit {
            max,
            window: Duration::minutes(1),
        }
    }

    /// The prefix of this limit's keys in the store.
    fn prefix(self) -> &'static str {
        match self {
            Limit::SignInPerIp => "sign_in_ip",
            Limit::SignInPerAccount => "sign_in_account",
            Limit::SignUpPerIp => "sign_up_ip",
            Limit::MailSendPerIp => "mail_send_ip",
        }
    }
}

/// The address a per-IP limit counts: IPv4 as is (also when mapped into
/// IPv6), IPv6 by its /64, since one subscriber usually holds a whole /64.
fn ip_bucket(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

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

/// Shared rate limits; see [`crate::Tessera::limits`] and the module docs.
pub struct Limits<'a> {
    inner: &'a Inner,
}

impl<'a> Limits<'a> {
    pub(crate) fn new(inner: &'a Inner) -> Self {
        Limits { inner }
    }

    /// Count one hit of `limit` for `subject` (what the limit counts per:
    /// an address, an account); `rate_limited` (with how long to wait) when
    /// it is over the limit. Prefer the named methods below, which derive
    /// the subject the same way on every face.
    pub async fn hit(&self, limit: Limit, subject: &str) -> Result<()> {
        let now = self.inner.now();
        let key = format!("{}:{subject}", limit.prefix());
        match self
            .inner
            .store
            .throttles()
            .hit(&key, &limit.rate(), now)
            .await?
        {
            None => Ok(()),
            Some(until) => Err(refused(until, now)),
        }
    }

    async fn per_ip(&self, limit: Limit, client: &ClientInfo) -> Result<()> {
        match client.ip().map(ip_bucket) {
            Some(ip) => self.hit(limit, &ip).await,
            // No address to count by (an embedder's own call): no limit.
            None => Ok(()),
        }
    }

    /// A sign-in attempt (any method) from the client's IP.
    pub async fn sign_in_ip(&self, client: &ClientInfo) -> Result<()> {
        self.per_ip(Limit::SignInPerIp, client).await
    }

    /// A sign-up from the client's IP.
    pub async fn sign_up_ip(&self, client: &ClientInfo) -> Result<()> {
        self.per_ip(Limit::SignUpPerIp, client).await
    }

    /// A request that sends mail, from the client's IP.
    pub async fn mail_send_ip(&self, client: &ClientInfo) -> Result<()> {
        self.per_ip(Limit::MailSendPerIp, client).await
    }

    /// A sign-in attempt against the account `email` on `app`'s pool. With
    /// a `device_token` that is valid for this account the attempt counts
    /// against that device alone, so attempts from unknown devices never
    /// refuse it; an invalid, expired or foreign token counts as none. An
    /// address that is not an email cannot be anyone's account: not counted.
    pub async fn sign_in_account(
        &self,
        app: &App,
        email: &str,
        device_token: Option<&str>,
    ) -> Result<()> {
        let Ok(email) = normalize_email(email) else {
            return Ok(());
        };
        let now = self.inner.now();
        let device = device_token.and_then(|t| {
            crate::devices::verify(&self.inner.device_key, t, app.pool_id, &email, now)
        });
        match device {
            Some(device) => self.hit(Limit::SignInPerAccount, &device.subject()).await,
            None => {
                self.hit(Limit::SignInPerAccount, &format!("{}:{email}", app.pool_id))
                    .await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_buckets_group_ipv6_by_64_and_unmap_ipv4() {
        let b = |s: &str| ip_bucket(s.parse().unwrap());
        assert_eq!(b("192.0.2.7"), "192.0.2.7");
        assert_eq!(b("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(
            b("2001:db8:1:2:aaaa::1"),
            b("2001:db8:1:2:ffff:ffff:ffff:ffff")
        );
        assert_eq!(b("2001:db8:1:2::1"), "2001:db8:1:2::/64");
        assert_ne!(b("2001:db8:1:2::1"), b("2001:db8:1:3::1"));
    }
}
