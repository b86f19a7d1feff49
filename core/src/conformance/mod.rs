//! The storage conformance suite: one set of behaviours every backend must show.
//!
//! A backend's test crate expands the suite with one line,
//!
//! ```ignore
//! async fn make_store() -> std::sync::Arc<dyn tessera_core::store::Store> { /* a fresh, empty store */ }
//! tessera_core::conformance_tests!(make_store);
//! ```
//!
//! which generates one `#[tokio::test]` per case, so a failure names both the
//! case and the backend. Each case gets a fresh store from the factory and may
//! not depend on any other case. Cases exercise the store traits directly and,
//! where an invariant spans several calls, through the [`crate::Tessera`]
//! facade built by [`tessera`].

pub mod cases;

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::Tessera;
use crate::clock::ManualClock;
use crate::crypto::{KeyRing, PasswordParams};
use crate::store::Store;

/// The fixed start time of every case's clock (2030-01-01T00:00:00Z).
pub fn start_time() -> DateTime<Utc> {
    DateTime::from_timestamp(1_893_456_000, 0).expect("valid timestamp")
}

/// A Tessera over `store` with a manual clock at [`start_time`] and cheap
/// password hashing, for cases that go through the facade.
pub async fn tessera(store: Arc<dyn Store>) -> (Tessera, ManualClock) {
    let clock = ManualClock::new(start_time());
    let t = Tessera::builder()
        .store(store)
        .clock(Arc::new(clock.clone()))
        .key_encryption_key(KeyRing::new([7; 32], []))
        .issuer("https://auth.conformance.test")
        .password_params(PasswordParams::insecure_fast_for_tests())
        .build()
        .await
        .expect("Tessera builds over a fresh store");
    (t, clock)
}

/// Expand the conformance suite for a store factory: `conformance_tests!(path_to_async_fn)`.
#[macro_export]
macro_rules! conformance_tests {
    ($make:path) => {
        $crate::__conformance_cases!(
            $make;
            default_pool_and_app_exist,
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases {
    ($make:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let store: ::std::sync::Arc<dyn $crate::store::Store> = $make().await;
                $crate::conformance::cases::$case(store).await;
            }
        )*
    };
}
