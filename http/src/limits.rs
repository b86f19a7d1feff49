//! Rate limits per client IP and per account, in front of the core's own
//! per-account backoff.
//!
//! Buckets live in this instance's memory (GCRA via `governor`): with several
//! instances each enforces its own share, and a restart forgets them, which
//! is harmless. `TESSERA_RATE_LIMITS=off` disables them for load tests.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tessera_core::{Error, ErrorKind};

/// What is being limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Password sign-in attempts.
    SignIn,
    /// Sign-ups.
    SignUp,
    /// Refreshes and other token exchanges.
    Refresh,
    /// Hosted-page form posts.
    Form,
}

/// The limiters.
pub struct RateLimits {
    enabled: bool,
    per_ip: DefaultKeyedRateLimiter<(Action, IpAddr)>,
    sign_in_per_ip: DefaultKeyedRateLimiter<IpAddr>,
    per_account: DefaultKeyedRateLimiter<String>,
}

fn quota(per_minute: u32, burst: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(per_minute).expect("non-zero"))
        .allow_burst(NonZeroU32::new(burst).expect("non-zero"))
}

impl RateLimits {
    /// Limits, enabled or not.
    pub fn new(enabled: bool) -> Self {
        RateLimits {
            enabled,
            per_ip: RateLimiter::keyed(quota(30, 30)),
            sign_in_per_ip: RateLimiter::keyed(quota(20, 20)),
            per_account: RateLimiter::keyed(quota(10, 10)),
        }
    }

    fn refuse(wait: Duration) -> Error {
        Error::new(ErrorKind::RateLimited {
            retry_after: wait.max(Duration::from_secs(1)),
        })
    }

    /// Count an `action` from `ip`; `rate_limited` with a retry delay when over.
    pub fn check_ip(&self, action: Action, ip: Option<IpAddr>) -> Result<(), Error> {
        let Some(ip) = ip.filter(|_| self.enabled) else {
            return Ok(());
        };
        let now = DefaultClock::default().now();
        let res = match action {
            Action::SignIn => self.sign_in_per_ip.check_key(&ip),
            _ => self.per_ip.check_key(&(action, ip)),
        };
        res.map_err(|not_until| Self::refuse(not_until.wait_time_from(now)))
    }

    /// Count an attempt against an account (a normalised email).
    pub fn check_account(&self, account: &str) -> Result<(), Error> {
        if !self.enabled {
            return Ok(());
        }
        let now = DefaultClock::default().now();
        self.per_account
            .check_key(&account.trim().to_lowercase())
            .map_err(|not_until| Self::refuse(not_until.wait_time_from(now)))
    }

    /// Drop idle buckets (called periodically by the server).
    pub fn shrink(&self) {
        self.per_ip.retain_recent();
        self.sign_in_per_ip.retain_recent();
        self.per_account.retain_recent();
    }
}
