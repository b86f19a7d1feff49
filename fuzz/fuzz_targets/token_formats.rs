//! libFuzzer target over the opaque token formats every bearer credential
//! goes through before any store lookup: `crypto::check_token_format`
//! (prefix, length, base64url alphabet) and `TokenHash::from_hex`, over
//! arbitrary text and text shaped like a token (a real prefix, then
//! anything). Same properties as
//! `token_formats_never_panic_and_answer_invalid_token` in
//! core/tests/fuzz.rs: nothing panics, a refusal is `invalid_token`, and a
//! token passes only with the prefix asked for.
//! Run: `cargo +nightly fuzz run token_formats`.

#![no_main]

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use tessera_core::crypto::{TokenHash, check_token_format};
use tessera_fuzz::{PREFIXES, client_error};

#[derive(Debug, Arbitrary)]
struct Input {
    /// Put a real prefix (the `prefix`-th) in front of `body`, or not.
    prefixed: bool,
    prefix: u8,
    /// The prefix asked for (the `expected`-th).
    expected: u8,
    body: String,
}

fuzz_target!(|input: Input| {
    let pick = |i: u8| PREFIXES[usize::from(i) % PREFIXES.len()];
    let token = if input.prefixed {
        format!("{}{}", pick(input.prefix), input.body)
    } else {
        input.body
    };
    let expected = pick(input.expected);
    match check_token_format(&token, expected) {
        Err(e) => client_error(&e, &["invalid_token"]),
        // Accepted only with the prefix asked for.
        Ok(_) => assert!(
            token.starts_with(expected),
            "{token:?} passed as {expected}"
        ),
    }
    // Hex hashes: parsing arbitrary text never panics, and what parses
    // prints back the same (lower-case) way.
    if let Some(hash) = TokenHash::from_hex(&token) {
        assert_eq!(TokenHash::from_hex(&hash.to_hex()), Some(hash));
    }
});
