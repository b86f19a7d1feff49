//! Rate limits of the HTTP face: the deployment-wide limits of the core for
//! sign-in, sign-up and mail, and one in-process limit for refreshes.
//!
//! Sign-in (per IP and per account), sign-up and mail-send limits are the
//! core's [`tessera_core::limits`]: one atomic row per key in the store, so
//! every instance on one store shares them and N instances allow the
//! documented count in total, not N times it (issue 14, item 4). Those
//! requests write anyway, so the shared counter costs no new kind of work.
//!
//! The per-account sign-in limit is counted with the device token the
//! client presents (`tessera_device` cookie or the `device_token` field; see
//! `docs/contract.md`): a device that signed in before keeps its own budget,
//! so an attacker guessing from unknown devices cannot lock its owner out
//! (issue 15, item 1).
//!
//! Refreshes and other token exchanges keep a per-process limiter (GCRA via
//! `governor`): they are high-volume, mostly read, and a limit per instance
//! is good enough for them (with N instances it allows N times as many; a
//! restart forgets it, which is harmless). `TESSERA_RATE_LIMITS=off`
//! disables every limit here (load tests).

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tessera_core::model::{App, ClientInfo};
use tessera_core::{Error, ErrorKind, Tessera};

/// What is being limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Sign-in attempts of any kind (shared: 20 per IP and minute).
    SignIn,
    /// Sign-ups (shared: 10 per IP and minute).
    SignUp,
    /// Refreshes and other token exchanges (this instance: 120 per IP and
    /// minute, many users can share one NAT).
    Refresh,
    /// Requests that send mail: reset, code, magic link, verification
    /// (shared: 10 per IP and minute).
    MailSend,
}

/// Past this many tracked keys, idle refresh buckets are dropped.
const MAX_KEYS: usize = 100_000;

/// The limits: whether they apply, and the in-process refresh limiter.
pub struct RateLimits {
    enabled: bool,
    refresh: DefaultKeyedRateLimiter<IpAddr>,
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
            refresh: RateLimiter::keyed(quota(120, 60)),
        }
    }

    fn refresh(&self, ip: Option<IpAddr>) -> Result<(), Error> {
        let Some(ip) = ip else {
            return Ok(());
        };
        let now = DefaultClock::default().now();
        let res = self.refresh.check_key(&ip);
        if self.refresh.len() > MAX_KEYS {
            self.refresh.retain_recent();
        }
        res.map_err(|not_until| {
            Error::new(ErrorKind::RateLimited {
                retry_after: not_until.wait_time_from(now).max(Duration::from_secs(1)),
            })
        })
    }

    /// Count an `action` from `client`; `rate_limited` with a retry delay
    /// when over.
    pub async fn check_ip(
        &self,
        tessera: &Tessera,
        action: Action,
        client: &ClientInfo,
    ) -> Result<(), Error> {
        if !self.enabled {
            return Ok(());
        }
        let limits = tessera.limits();
        match action {
            Action::SignIn => limits.sign_in_ip(client).await,
            Action::SignUp => limits.sign_up_ip(client).await,
            Action::MailSend => limits.mail_send_ip(client).await,
            Action::Refresh => self.refresh(client.ip()),
        }
    }

    /// Count a sign-in attempt against the account `email` on `app`, on the
    /// budget of the device presenting `device_token` when it is valid for
    /// the account.
    pub async fn check_account(
        &self,
        tessera: &Tessera,
        app: &App,
        email: &str,
        device_token: Option<&str>,
    ) -> Result<(), Error> {
        if !self.enabled {
            return Ok(());
        }
        tessera
            .limits()
            .sign_in_account(app, email, device_token)
            .await
    }

    /// Count `action` from `client` and, given one, a sign-in attempt on
    /// `account` (app, email, device token): the "rate limit" step every
    /// limited route takes before its call.
    pub async fn check(
        &self,
        tessera: &Tessera,
        action: Action,
        client: &ClientInfo,
        account: Option<(&App, &str, Option<&str>)>,
    ) -> Result<(), Error> {
        self.check_ip(tessera, action, client).await?;
        if let Some((app, email, device)) = account {
            self.check_account(tessera, app, email, device).await?;
        }
        Ok(())
    }
}
