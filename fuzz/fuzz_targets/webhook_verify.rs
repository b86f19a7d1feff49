//! libFuzzer target over webhook signature verification, as a receiver
//! sees it: `webhooks::verify` (HMAC `v1`) and `webhooks::verify_v1a`
//! (Ed25519) of arbitrary headers and bodies, with a real key or arbitrary
//! text as the key. Same properties as `webhook_headers_never_panic` and
//! `webhook_signatures_round_trip_and_bind_everything` in
//! core/tests/fuzz.rs: nothing panics (no overflow near `i64::MIN`), every
//! refusal is a client error, a genuine signature verifies and binds body,
//! id and timestamp. Run: `cargo +nightly fuzz run webhook_verify`.

#![no_main]

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use tessera_core::webhooks;
use tessera_fuzz::{NOW, client_error};

/// Fixed keys (deterministic, so a crash reproduces).
const SECRET: &str = "whsec_QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=";
const SIGNING_KEY: &str = "whsk_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
const PUBLIC_KEY: &str = "whpk_ebVWLo/mVPlAeLES6KmLp5AfhTrmlb7X4OORC60ElmQ=";

const REFUSALS: &[&str] = &["invalid_token", "token_expired", "invalid_input"];

#[derive(Debug, Arbitrary)]
struct Input {
    /// The real key, or `key` as given.
    real_key: bool,
    key: String,
    id: String,
    /// A number near now, any number, or any text.
    timestamp: Timestamp,
    signatures: String,
    body: Vec<u8>,
    /// `NOW`, or any time at all.
    now: Option<i64>,
    /// Seconds off `NOW` for the round trip (within the tolerance).
    skew: i16,
}

#[derive(Debug, Arbitrary)]
enum Timestamp {
    Near(i16),
    Number(i64),
    Text(String),
}

fuzz_target!(|input: Input| {
    let now = input.now.unwrap_or(NOW);
    let timestamp = match &input.timestamp {
        Timestamp::Near(d) => (NOW + i64::from(*d)).to_string(),
        Timestamp::Number(n) => n.to_string(),
        Timestamp::Text(t) => t.clone(),
    };
    let (secret, public_key) = if input.real_key {
        (SECRET, PUBLIC_KEY)
    } else {
        (input.key.as_str(), input.key.as_str())
    };

    // Arbitrary headers: accepted or refused as a client error.
    let body = &input.body;
    if let Err(e) = webhooks::verify(secret, &input.id, &timestamp, &input.signatures, body, now) {
        client_error(&e, REFUSALS);
    }
    if let Err(e) = webhooks::verify_v1a(
        public_key,
        &input.id,
        &timestamp,
        &input.signatures,
        body,
        now,
    ) {
        client_error(&e, REFUSALS);
    }

    // Round trip: a genuine signature verifies, among others too, and binds
    // the body, the id and the timestamp.
    let ts = NOW + i64::from(input.skew) % 300;
    let ts_text = ts.to_string();
    let sig = webhooks::sign(SECRET, &input.id, ts, body).expect("sign");
    let sig_a = webhooks::sign_v1a(SIGNING_KEY, &input.id, ts, body).expect("sign_v1a");
    webhooks::verify(SECRET, &input.id, &ts_text, &sig, body, NOW).expect("a genuine v1");
    webhooks::verify_v1a(PUBLIC_KEY, &input.id, &ts_text, &sig_a, body, NOW)
        .expect("a genuine v1a");
    let several = format!("v1,AAAA {sig_a} {sig} v2,x");
    webhooks::verify(SECRET, &input.id, &ts_text, &several, body, NOW).expect("v1 among others");
    webhooks::verify_v1a(PUBLIC_KEY, &input.id, &ts_text, &several, body, NOW)
        .expect("v1a among others");

    let mut other = body.clone();
    match other.first_mut() {
        Some(b) => *b ^= 1,
        None => other.push(0),
    }
    assert!(webhooks::verify(SECRET, &input.id, &ts_text, &sig, &other, NOW).is_err());
    assert!(webhooks::verify_v1a(PUBLIC_KEY, &input.id, &ts_text, &sig_a, &other, NOW).is_err());
    let other_id = format!("{}x", input.id);
    assert!(webhooks::verify(SECRET, &other_id, &ts_text, &sig, body, NOW).is_err());
    assert!(webhooks::verify_v1a(PUBLIC_KEY, &other_id, &ts_text, &sig_a, body, NOW).is_err());
    let later = (ts + 1).to_string();
    assert!(webhooks::verify(SECRET, &input.id, &later, &sig, body, NOW).is_err());
    assert!(webhooks::verify_v1a(PUBLIC_KEY, &input.id, &later, &sig_a, body, NOW).is_err());
});
