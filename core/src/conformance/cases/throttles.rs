//! Failure counters (throttles): counting, the atomic backoff step, and the
//! fixed windows of shared rate limits.

use std::sync::Arc;

use chrono::Duration;

use super::super::fixtures::*;
use crate::model::{Backoff, RateLimit, Reservation, Throttle};
use crate::new_id;
use crate::store::Store;

/// Two free attempts, then 1 s doubling up to 4 s; counts reset after an hour.
const SMALL_BACKOFF: Backoff = Backoff {
    free: 2,
    first_wait: Duration::seconds(1),
    max_wait: Duration::seconds(4),
    reset_after: Duration::hours(1),
};

fn granted(failures: u32, at: chrono::DateTime<chrono::Utc>, wait: Duration) -> Reservation {
    Reservation::Granted(Throttle {
        failures,
        last_failure_at: at,
        next_attempt_at: Some(at + wait),
    })
}

/// `record_failure` counts per key and answers the new state; a count whose
/// last failure is older than `reset_before` starts again at 1 (one exactly
/// at `reset_before` does not); `clear_throttle` forgets the key.
pub async fn record_failure_counts_and_resets(store: Arc<dyn Store>) {
    let th = store.throttles();
    let key = format!("sign_in:{}:{}", new_id(stamp()), ADVERSARIAL[0]);
    let other = format!("sign_in:x:{}", ADVERSARIAL[5]);
    assert_eq!(th.find_throttle(&key).await.unwrap(), None);
    let t1 = at(0) + micro();
    assert_eq!(
        th.record_failure(&key, t1, t1 - Duration::hours(1))
            .await
            .unwrap(),
        Throttle {
            failures: 1,
            last_failure_at: t1,
            next_attempt_at: None,
        }
    );
    th.record_failure(&other, t1, t1 - Duration::hours(1))
        .await
        .unwrap();
    let t2 = at(10);
    assert_eq!(
        th.record_failure(&key, t2, t2 - Duration::hours(1))
            .await
            .unwrap(),
        Throttle {
            failures: 2,
            last_failure_at: t2,
            next_attempt_at: None,
        }
    );
    // A reset boundary exactly at the last failure keeps counting.
    let t3 = at(20);
    assert_eq!(
        th.record_failure(&key, t3, t2).await.unwrap(),
        Throttle {
            failures: 3,
            last_failure_at: t3,
            next_attempt_at: None,
        }
    );
    assert_eq!(
        th.find_throttle(&key).await.unwrap(),
        Some(Throttle {
            failures: 3,
            last_failure_at: t3,
            next_attempt_at: None,
        })
    );
    // Older than the boundary: start again.
    let t4 = at(7200);
    assert_eq!(
        th.record_failure(&key, t4, t3 + micro()).await.unwrap(),
        Throttle {
            failures: 1,
            last_failure_at: t4,
            next_attempt_at: None,
        }
    );
    th.clear_throttle(&key).await.unwrap();
    assert_eq!(th.find_throttle(&key).await.unwrap(), None);
    th.clear_throttle(&key).await.unwrap();
    assert_eq!(
        th.find_throttle(&other).await.unwrap(),
        Some(Throttle {
            failures: 1,
            last_failure_at: t1,
            next_attempt_at: None,
        })
    );
    assert_eq!(
        th.record_failure(&key, t4, t4).await.unwrap().failures,
        1,
        "a cleared key counts from 1"
    );
}

/// `reserve_attempt` counts each attempt it lets through and sets the wait
/// from the new count (free attempts wait zero, then 1 s doubling to the
/// cap); while the key waits it refuses with the time the wait ends and
/// changes nothing; the wait is half-open (an attempt exactly at its end
/// proceeds); a count whose last attempt is older than `reset_after`
/// restarts (one exactly at the boundary keeps counting); `clear_throttle`
/// forgets it; keys are independent; a key counted only by `record_failure`
/// carries on from its count.
pub async fn reserve_attempt_counts_waits_and_resets(store: Arc<dyn Store>) {
    let th = store.throttles();
    let b = &SMALL_BACKOFF;
    let key = format!("sign_in:{}:{}", new_id(stamp()), ADVERSARIAL[6]);
    let other = format!("sign_in:x:{}", ADVERSARIAL[9]);
    let t0 = at(0) + micro();
    let zero = Duration::zero();
    let sec = Duration::seconds;
    assert_eq!(
        th.reserve_attempt(&key, t0, b).await.unwrap(),
        granted(1, t0, zero)
    );
    assert_eq!(
        th.reserve_attempt(&other, t0, b).await.unwrap(),
        granted(1, t0, zero)
    );
    // The second is the last free one: it sets the first wait.
    assert_eq!(
        th.reserve_attempt(&key, t0, b).await.unwrap(),
        granted(2, t0, sec(1))
    );
    let waiting = th.find_throttle(&key).await.unwrap();
    for t in [t0, t0 + sec(1) - micro()] {
        assert_eq!(
            th.reserve_attempt(&key, t, b).await.unwrap(),
            Reservation::Refused { until: t0 + sec(1) }
        );
    }
    assert_eq!(
        th.find_throttle(&key).await.unwrap(),
        waiting,
        "a refusal changes nothing"
    );
    // Exactly at the end of the wait: the next attempt proceeds.
    let t1 = t0 + sec(1);
    assert_eq!(
        th.reserve_attempt(&key, t1, b).await.unwrap(),
        granted(3, t1, sec(2))
    );
    let t2 = t1 + sec(2);
    assert_eq!(
        th.reserve_attempt(&key, t2, b).await.unwrap(),
        granted(4, t2, sec(4))
    );
    let t3 = t2 + sec(4);
    assert_eq!(
        th.reserve_attempt(&key, t3, b).await.unwrap(),
        granted(5, t3, sec(4)),
        "the wait stays at its cap"
    );
    // A last attempt exactly `reset_after` ago keeps counting; older restarts.
    let t4 = t3 + Duration::hours(1);
    assert_eq!(
        th.reserve_attempt(&key, t4, b).await.unwrap(),
        granted(6, t4, sec(4))
    );
    let t5 = t4 + Duration::hours(1) + micro();
    assert_eq!(
        th.reserve_attempt(&key, t5, b).await.unwrap(),
        granted(1, t5, zero)
    );
    th.clear_throttle(&key).await.unwrap();
    assert_eq!(th.find_throttle(&key).await.unwrap(), None);
    assert_eq!(
        th.reserve_attempt(&key, t5, b).await.unwrap(),
        granted(1, t5, zero),
        "a cleared key counts from 1"
    );
    assert_eq!(
        th.find_throttle(&other).await.unwrap(),
        Some(Throttle {
            failures: 1,
            last_failure_at: t0,
            next_attempt_at: Some(t0),
        }),
        "keys are independent"
    );
    // Counted by `record_failure` only: no wait set, the count carries on.
    let counted = "mail:counted";
    th.record_failure(counted, t0, t0).await.unwrap();
    th.record_failure(counted, t0, t0).await.unwrap();
    assert_eq!(
        th.reserve_attempt(counted, t0, b).await.unwrap(),
        granted(3, t0, sec(2))
    );
    // `record_failure` keeps the wait a reservation set.
    assert_eq!(
        th.record_failure(counted, t1, t0).await.unwrap(),
        Throttle {
            failures: 4,
            last_failure_at: t1,
            next_attempt_at: Some(t0 + sec(2)),
        }
    );
}

/// The wait is `Backoff::wait_after` of the new count on every backend, for
/// odd backoffs too: no free attempts, sub-second and uneven waits, a cap
/// below the first wait, no wait at all, and long runs past the cap.
pub async fn reserve_attempt_waits_as_the_backoff_says(store: Arc<dyn Store>) {
    let th = store.throttles();
    let ms = Duration::milliseconds;
    for (i, b) in [
        Backoff {
            free: 0,
            first_wait: ms(1500),
            max_wait: Duration::seconds(10),
            reset_after: Duration::days(1),
        },
        Backoff {
            free: 1,
            first_wait: Duration::microseconds(3),
            max_wait: ms(100),
            reset_after: Duration::days(1),
        },
        Backoff {
            free: 3,
            first_wait: Duration::seconds(10),
            max_wait: Duration::seconds(4),
            reset_after: Duration::days(1),
        },
        Backoff {
            free: 1,
            first_wait: Duration::zero(),
            max_wait: Duration::seconds(60),
            reset_after: Duration::days(1),
        },
        Backoff {
            free: 10,
            first_wait: Duration::seconds(1),
            max_wait: Duration::hours(12),
            reset_after: Duration::days(1),
        },
    ]
    .iter()
    .enumerate()
    {
        let key = format!("odd:{i}");
        let mut now = at(0);
        for n in 1..=60 {
            let wait = b.wait_after(n);
            assert_eq!(
                th.reserve_attempt(&key, now, b).await.unwrap(),
                granted(n, now, wait),
                "{b:?}, attempt {n}"
            );
            now += wait;
        }
    }
}

/// `hit` counts hits in fixed windows: the first `max` are allowed, later
/// ones answer the window's end (counting stops past the limit); a window
/// lasts `[first hit, first hit + window)`, and the first hit at or after
/// its end opens a new one; keys are independent.
pub async fn hit_counts_in_fixed_windows(store: Arc<dyn Store>) {
    let th = store.throttles();
    let limit = RateLimit {
        max: 3,
        window: Duration::seconds(60),
    };
    let key = format!("sign_in_ip:{}", ADVERSARIAL[1]);
    let t0 = at(0) + micro();
    let end = t0 + Duration::seconds(60);
    for _ in 0..3 {
        assert_eq!(th.hit(&key, &limit, t0).await.unwrap(), None);
    }
    assert_eq!(th.hit("other", &limit, t0).await.unwrap(), None);
    for t in [t0, t0 + Duration::seconds(30), end - micro()] {
        assert_eq!(th.hit(&key, &limit, t).await.unwrap(), Some(end), "{t}");
    }
    // The window ends: a new one opens at the next hit.
    assert_eq!(th.hit(&key, &limit, end).await.unwrap(), None);
    assert_eq!(th.hit(&key, &limit, end).await.unwrap(), None);
    assert_eq!(th.hit(&key, &limit, end).await.unwrap(), None);
    assert_eq!(
        th.hit(&key, &limit, end).await.unwrap(),
        Some(end + Duration::seconds(60))
    );
    let later = end + Duration::seconds(90);
    assert_eq!(th.hit(&key, &limit, later).await.unwrap(), None);
    assert_eq!(th.hit("other", &limit, later).await.unwrap(), None);
    let zero = RateLimit {
        max: 0,
        window: Duration::seconds(60),
    };
    assert_eq!(
        th.hit("never", &zero, later).await.unwrap(),
        Some(later + Duration::seconds(60))
    );
}

/// Issue 14, item 3: after five wrong passwords and the one-second wait, 16
/// wrong passwords sent at the same moment: exactly one is checked
/// (`invalid_credentials`), the others are refused (`rate_limited`) before
/// any hash, and the refusals are not counted (the next wait is 2 s).
pub async fn concurrent_wrong_passwords_past_the_threshold_check_one(store: Arc<dyn Store>) {
    let (t, clock) = super::super::tessera(store.clone()).await;
    let app = t.apps().default_app().await.unwrap();
    let client = crate::model::ClientInfo::default();
    t.passwords()
        .sign_up(&app, "ada@example.com", STRONG_PASSWORD, None, &client)
        .await
        .unwrap();
    for _ in 0..crate::passwords::FREE_FAILURES {
        assert_err(
            t.passwords()
                .sign_in(&app, "ada@example.com", OTHER_PASSWORD, &client)
                .await,
            crate::ErrorKind::InvalidCredentials,
        );
    }
    clock.advance(Duration::seconds(1));
    let outcomes = race(16, |_| {
        let t = t.clone();
        let app = app.clone();
        async move {
            t.passwords()
                .sign_in(
                    &app,
                    "ada@example.com",
                    OTHER_PASSWORD,
                    &crate::model::ClientInfo::default(),
                )
                .await
                .map(|_| ())
                .map_err(|e| e.code())
        }
    })
    .await;
    let checked = outcomes
        .iter()
        .filter(|o| **o == Err("invalid_credentials"))
        .count();
    let refused = outcomes
        .iter()
        .filter(|o| **o == Err("rate_limited"))
        .count();
    assert_eq!((checked, refused), (1, 15), "{outcomes:?}");
    // The one checked attempt was the sixth: the next wait is two seconds.
    clock.advance(Duration::seconds(1));
    assert_err(
        t.passwords()
            .sign_in(&app, "ada@example.com", STRONG_PASSWORD, &client)
            .await,
        crate::ErrorKind::RateLimited {
            retry_after: std::time::Duration::from_secs(1),
        },
    );
    clock.advance(Duration::seconds(1));
    t.passwords()
        .sign_in(&app, "ada@example.com", STRONG_PASSWORD, &client)
        .await
        .unwrap();
}

/// A free attempt sets no wait, even for a caller whose clock reading is a
/// moment older than the latest free attempt's (concurrent sign-ins read
/// `now` before they reach the store, in any order); once the free attempts
/// are used, the wait holds for such a caller too.
pub async fn free_attempts_ignore_clock_order(store: Arc<dyn Store>) {
    let th = store.throttles();
    let key = format!("sign_in:{}:order", new_id(stamp()));
    let b = &SMALL_BACKOFF;
    let (t0, t1) = (at(0), at(0) + micro());
    assert_eq!(
        th.reserve_attempt(&key, t1, b).await.unwrap(),
        granted(1, t1, Duration::zero())
    );
    assert_eq!(
        th.reserve_attempt(&key, t0, b).await.unwrap(),
        granted(2, t0, Duration::seconds(1)),
        "an earlier reading after a free attempt proceeds"
    );
    assert_eq!(
        th.reserve_attempt(&key, t0 - micro(), b).await.unwrap(),
        Reservation::Refused {
            until: t0 + Duration::seconds(1)
        },
        "past the free attempts an earlier reading waits too"
    );
}
