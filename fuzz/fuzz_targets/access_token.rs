//! libFuzzer target over access-token (JWT) verification, the check every
//! authenticated API call makes: `Tokens::verify` of arbitrary text, of
//! JWT-shaped forgeries (headers with `alg: none`, HS256, a foreign `kid`,
//! `jku`/`jwk`; any payload and signature) and of a real token with one
//! character changed, against one Tessera on the memory store (built once,
//! as `world()` in core/tests/fuzz.rs builds it). Same properties as
//! `access_token_verification_never_panics_and_refuses_forgeries` and
//! `any_change_to_a_real_access_token_is_refused`: nothing panics, nothing
//! forged verifies, every refusal is `invalid_token` / `token_expired`.
//! Run: `cargo +nightly fuzz run access_token`.

#![no_main]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use tessera_fuzz::{ISSUER, client_error, world};

#[derive(Debug, Arbitrary)]
enum Input {
    /// Any text at all.
    Text(String),
    /// A JWT-shaped forgery.
    Forged {
        alg: u8,
        typ: u8,
        kid: Option<String>,
        jku_jwk: bool,
        /// JSON if it parses, else a claims object made of the fields below.
        payload: Vec<u8>,
        sub: String,
        exp: i64,
        issuer_ours: bool,
        signature: String,
    },
    /// The real token with the character at `at` replaced by `with`.
    Changed { at: usize, with: char },
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

fuzz_target!(|input: Input| {
    let w = world();
    let (token, allowed): (String, &[&str]) = match input {
        Input::Text(t) => (t, &["invalid_token", "token_expired"]),
        Input::Forged {
            alg,
            typ,
            kid,
            jku_jwk,
            payload,
            sub,
            exp,
            issuer_ours,
            signature,
        } => {
            const ALGS: &[&str] = &["none", "HS256", "RS256", "ES256", "EdDSA", ""];
            const TYPS: &[&str] = &["at+jwt", "JWT", ""];
            let mut h = json!({
                "alg": ALGS[usize::from(alg) % ALGS.len()],
                "typ": TYPS[usize::from(typ) % TYPS.len()],
            });
            if let Some(kid) = kid {
                h["kid"] = kid.into();
            }
            if jku_jwk {
                h["jku"] = "https://evil.example/jwks".into();
                h["jwk"] = json!({ "kty": "oct", "k": "AAAA" });
            }
            let p = serde_json::from_slice::<Value>(&payload).unwrap_or_else(|_| {
                json!({
                    "iss": if issuer_ours { ISSUER.to_owned() } else { sub.clone() },
                    "sub": sub,
                    "exp": exp,
                    "iat": exp.saturating_sub(900),
                })
            });
            (
                format!("{}.{}.{signature}", b64(&h), b64(&p)),
                &["invalid_token", "token_expired"],
            )
        }
        Input::Changed { at, with } => {
            let real = &w.access_token;
            // The access token is ASCII: every index is a char boundary.
            let i = at % real.len();
            let mut forged = real.clone();
            forged.replace_range(i..=i, &with.to_string());
            if forged == *real {
                return;
            }
            (forged, &["invalid_token"])
        }
    };
    match w.rt.block_on(w.t.tokens().verify(&token, None)) {
        Ok(_) => panic!("a forged token verified: {token}"),
        Err(e) => client_error(&e, allowed),
    }
});
