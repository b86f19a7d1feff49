//! Shared pieces of the cargo-fuzz targets (`fuzz_targets/*.rs`): the
//! client-error property and one Tessera on the memory store, built once per
//! process the way `world()` in core/tests/fuzz.rs builds it, so every
//! target asserts exactly what the stable property tests assert.

use std::sync::{Arc, OnceLock};

use chrono::DateTime;
use tessera_core::clock::ManualClock;
use tessera_core::crypto::{KeyRing, PasswordParams, prefix};
use tessera_core::model::ClientInfo;
use tessera_core::{Error, SignUpOutcome, Tessera};
use tessera_storage_memory::MemoryStore;

/// The issuer of the fuzzed Tessera.
pub const ISSUER: &str = "https://auth.example.test";
/// The (frozen) time of the fuzzed Tessera and of webhook checks.
pub const NOW: i64 = 1_900_000_000;

/// Every opaque token prefix the core issues.
pub const PREFIXES: &[&str] = &[
    prefix::SESSION,
    prefix::REFRESH,
    prefix::API_KEY,
    prefix::MAGIC_LINK,
    prefix::VERIFY_EMAIL,
    prefix::PASSWORD_RESET,
    prefix::MFA,
    prefix::EMAIL_CHANGE,
    prefix::DEVICE,
];

/// A refusal must be one the caller can act on, never a server fault
/// (`internal_error`): anything else panics, which libFuzzer reports.
pub fn client_error(e: &Error, allowed: &[&str]) {
    assert!(
        allowed.contains(&e.code()),
        "unexpected error {} ({e})",
        e.code()
    );
}

/// The client of every call.
pub fn client() -> ClientInfo {
    ClientInfo::parse(Some("192.0.2.1"), Some("fuzz"))
}

/// One Tessera on the memory store with a signed-up user; run its futures
/// with `rt.block_on`.
pub struct World {
    /// A current-thread runtime for the core's futures.
    pub rt: tokio::runtime::Runtime,
    /// The Tessera under test.
    pub t: Tessera,
    /// A genuine access token of the signed-up user.
    pub access_token: String,
}

/// The process's [`World`], built on first use.
pub fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let (t, access_token) = rt.block_on(async {
            let clock = ManualClock::new(DateTime::from_timestamp(NOW, 0).unwrap());
            let t = Tessera::builder()
                .store(Arc::new(MemoryStore::new()))
                .clock(Arc::new(clock))
                .key_encryption_key(KeyRing::new([7; 32], []))
                .issuer(ISSUER)
                .password_params(PasswordParams::insecure_fast_for_tests())
                .build()
                .await
                .expect("a Tessera on the memory store");
            let app = t.apps().default_app().await.expect("the default app");
            let s = match t
                .passwords()
                .sign_up(
                    &app,
                    "ada@example.com",
                    "correct horse battery staple",
                    None,
                    &client(),
                )
                .await
                .expect("a sign-up")
            {
                SignUpOutcome::SignedIn(s) => *s,
                SignUpOutcome::VerificationRequired => panic!("the default app signs in at once"),
            };
            (t, s.access_token)
        });
        World {
            rt,
            t,
            access_token,
        }
    })
}
