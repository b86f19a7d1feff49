//! libFuzzer target over OAuth callback parameters, what a provider's
//! redirect (or anyone forging one) hands the core: `OAuth::callback` with
//! an arbitrary provider name and arbitrary `state`, `code`, `error`,
//! `user` and browser state, against one Tessera on the memory store with
//! no flow started (built once, as in core/tests/fuzz.rs). Same properties
//! as `oauth_callback_parameters_never_panic`: nothing panics, no callback
//! without a started flow succeeds, every refusal is `invalid_token` /
//! `token_expired` / `not_found`. Run: `cargo +nightly fuzz run oauth_callback`.

#![no_main]

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use tessera_core::CallbackParams;
use tessera_fuzz::{client, client_error, world};

#[derive(Debug, Arbitrary)]
struct Input {
    name: String,
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
    user: Option<String>,
    browser_state: Option<String>,
}

fuzz_target!(|input: Input| {
    let w = world();
    let params = CallbackParams {
        state: input.state,
        code: input.code,
        error: input.error,
        user: input.user,
        browser_state: input.browser_state,
    };
    match w
        .rt
        .block_on(w.t.oauth().callback(&input.name, &params, &client()))
    {
        Ok(_) => panic!("a callback without a started flow succeeded"),
        Err(e) => client_error(&e, &["invalid_token", "token_expired", "not_found"]),
    }
});
