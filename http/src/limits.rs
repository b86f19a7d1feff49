//! Rate limits per client IP and per account, in front of the core's own
//! per-account backoff.
//!
//! Buckets live in this instance's memory (GCRA via `governor`): with several
//! instances each enforces its own share, and a restart forgets them, which
//! is harmless. `TESSERA_RATE_LIMITS=off` disables them for load tests.

use std::future::Future;
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
    /// Requests that send mail (reset, code, magic link, verification).
    MailSend,
}

/// Past this many tracked keys, idle buckets are dropped.
const MAX_KEYS: usize = 100_000;

/// The limiters.
pub struct RateLimits {
    enabled: bool,
    sign_in: DefaultKeyedRateLimiter<IpAddr>,
    sign_up: DefaultKeyedRateLimiter<IpAddr>,
    refresh: DefaultKeyedRateLimiter<IpAddr>,
    mail_send: DefaultKeyedRateLimiter<IpAddr>,
    per_account: DefaultKeyedRateLimiter<String>,
}

fn quota(per_minute: u32, burst: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(per_minute).expect("non-zero"))
        .allow_burst(NonZeroU32::new(burst).expect("non-zero"))
}

impl RateLimits {
    /// Limits, enabled or not. Per IP and minute: 20 sign-ins, 10 sign-ups,
    /// 120 refreshes (many users can share one NAT), 10 mail sends; per account and minute:
    /// 10 sign-in attempts, from anywhere.
    pub fn new(enabled: bool) -> Self {
        RateLimits {
            enabled,
            sign_in: RateLimiter::keyed(quota(20, 20)),
            sign_up: RateLimiter::keyed(quota(10, 10)),
            refresh: RateLimiter::keyed(quota(120, 60)),
            mail_send: RateLimiter::keyed(quota(10, 10)),
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
        let limiter = match action {
            Action::SignIn => &self.sign_in,
            Action::SignUp => &self.sign_up,
            Action::Refresh => &self.refresh,
            Action::MailSend => &self.mail_send,
        };
        let res = limiter.check_key(&ip);
        if limiter.len() > MAX_KEYS {
            limiter.retain_recent();
        }
        res.map_err(|not_until| Self::refuse(not_until.wait_time_from(now)))
    }

    /// Count an attempt against an account (a normalised email).
    pub fn check_account(&self, account: &str) -> Result<(), Error> {
        if !self.enabled {
            return Ok(());
        }
        let now = DefaultClock::default().now();
        let res = self.per_account.check_key(&account.trim().to_lowercase());
        if self.per_account.len() > MAX_KEYS {
            self.per_account.retain_recent();
        }
        res.map_err(|not_until| Self::refuse(not_until.wait_time_from(now)))
    }
}

impl RateLimits {
    /// Run `call` when `action` from `ip` (and, given one, attempts on
    /// `account`) is within its limits; `rate_limited` without running it
    /// otherwise. The "rate limit, then call" step of the hosted pages, which
    /// answer a refusal as they answer the call's own errors.
    pub async fn guard<T>(
        &self,
        action: Action,
        ip: Option<IpAddr>,
        account: Option<&str>,
        call: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        self.check_ip(action, ip)?;
        if let Some(account) = account {
            self.check_account(account)?;
        }
        call.await
    }
}
