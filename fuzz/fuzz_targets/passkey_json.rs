//! libFuzzer target over WebAuthn credential JSON, what a browser posts to
//! finish a passkey sign-in: `Passkeys::finish_sign_in` with arbitrary JSON
//! and with `PublicKeyCredential`-shaped objects of arbitrary fields, each
//! against a fresh ceremony of one Tessera on the memory store (built once,
//! as in core/tests/fuzz.rs). Same properties as
//! `passkey_credential_json_never_panics`: nothing panics, a made-up
//! credential never signs in, every refusal is `invalid_input` /
//! `invalid_credentials`. Run: `cargo +nightly fuzz run passkey_json`.

#![no_main]

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use tessera_fuzz::{client, client_error, world};

#[derive(Debug, Arbitrary)]
enum Input {
    /// Any JSON (bytes that do not parse are skipped).
    Json(Vec<u8>),
    /// The shape of a `PublicKeyCredential`, fields arbitrary.
    Shaped {
        id: String,
        raw_id: String,
        client_data_json: String,
        authenticator_data: String,
        signature: String,
        user_handle: Option<String>,
    },
}

fuzz_target!(|input: Input| {
    let credential = match input {
        Input::Json(bytes) => match serde_json::from_slice::<Value>(&bytes) {
            Ok(v) => v,
            Err(_) => return,
        },
        Input::Shaped {
            id,
            raw_id,
            client_data_json,
            authenticator_data,
            signature,
            user_handle,
        } => json!({
            "id": id,
            "rawId": raw_id,
            "type": "public-key",
            "response": {
                "clientDataJSON": client_data_json,
                "authenticatorData": authenticator_data,
                "signature": signature,
                "userHandle": user_handle,
            },
            "extensions": {},
        }),
    };
    let w = world();
    let result = w.rt.block_on(async {
        let app = w.t.apps().default_app().await.expect("the default app");
        // Each attempt consumes its ceremony, so the store does not grow.
        let challenge =
            w.t.passkeys()
                .start_sign_in(&app, None)
                .await
                .expect("a ceremony");
        w.t.passkeys()
            .finish_sign_in(&app, &challenge.ceremony, &credential, &client())
            .await
    });
    match result {
        Ok(_) => panic!("a made-up credential signed in: {credential}"),
        Err(e) => client_error(&e, &["invalid_input", "invalid_credentials"]),
    }
});
