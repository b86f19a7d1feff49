//! Property tests ("fuzzing" on stable Rust) of everything in the core that
//! parses input an attacker controls: opaque token formats and prefixes,
//! access-token (JWT) verification, webhook signatures, email / name /
//! password / slug / metadata validation, OAuth callback parameters and
//! WebAuthn credential JSON. The properties: nothing panics, every refusal is
//! a typed client error (never `internal_error`), and round trips hold.
//!
//! proptest rather than bolero: it runs on stable inside `cargo test` with no
//! extra tooling, shrinks failures to a minimal input, and keeps them in
//! `fuzz.proptest-regressions` (next to this file), replayed first on every
//! run. Each property runs a bounded
//! number of cases (a few seconds in all); `PROPTEST_CASES=100000 cargo test
//! -p tessera-core --test fuzz` runs longer (docs/security.md, "Fuzzing").

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::DateTime;
use proptest::prelude::*;
use serde_json::{Value, json};
use tessera_core::clock::ManualClock;
use tessera_core::crypto::{KeyRing, PasswordParams, TokenHash, check_token_format, prefix};
use tessera_core::model::ClientInfo;
use tessera_core::validate::{
    check_metadata, check_new_password, check_slug, normalize_email, normalize_name,
};
use tessera_core::{CallbackParams, Error, SignUpOutcome, Tessera, webhooks};
use tessera_storage_memory::MemoryStore;

const ISSUER: &str = "https://auth.example.test";
const NOW: i64 = 1_900_000_000;

/// `cases` cases, or `PROPTEST_CASES` when set (for longer runs).
fn cases(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases);
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

/// A refusal must be one the caller can act on, never a server fault.
fn client_error(e: &Error, allowed: &[&str]) -> std::result::Result<(), TestCaseError> {
    prop_assert!(
        allowed.contains(&e.code()),
        "unexpected error {} ({e})",
        e.code()
    );
    Ok(())
}

const PREFIXES: &[&str] = &[
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

/// Strings near the shape of a token: a real prefix, then base64url-ish
/// text of about the right length, or anything at all.
fn token_like() -> impl Strategy<Value = String> {
    prop_oneof![
        (
            prop::sample::select(PREFIXES),
            "[A-Za-z0-9_\\-=+/.é\u{200B}]{40,46}"
        )
            .prop_map(|(p, body)| format!("{p}{body}")),
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(cases(512))]

    #[test]
    fn token_formats_never_panic_and_answer_invalid_token(
        token in token_like(),
        expected in prop::sample::select(PREFIXES),
    ) {
        if let Err(e) = check_token_format(&token, expected) {
            client_error(&e, &["invalid_token"])?;
        } else {
            // Accepted only with the prefix asked for.
            prop_assert!(token.starts_with(expected));
        }
        // Hex hashes: parsing arbitrary text never panics.
        let _ = TokenHash::from_hex(&token);
    }

    #[test]
    fn generated_tokens_pass_only_their_own_prefix(
        own in prop::sample::select(PREFIXES),
        other in prop::sample::select(PREFIXES),
        at in any::<prop::sample::Index>(),
        with in any::<char>(),
    ) {
        let (token, hash) = tessera_core::crypto::generate_token(own);
        prop_assert!(check_token_format(&token, own).is_ok());
        prop_assert_eq!(check_token_format(&token, other).is_ok(), own == other);
        prop_assert_eq!(TokenHash::from_hex(&hash.to_hex()), Some(hash));
        // Replacing one character with anything outside base64url breaks it.
        let i = at.index(token.len());
        if !(with.is_ascii_alphanumeric() || with == '-' || with == '_') {
            let mut bad = token.clone();
            bad.replace_range(i..=i, &with.to_string());
            prop_assert!(check_token_format(&bad, own).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn webhook_headers_never_panic(
        secret in prop_oneof![Just(webhooks::generate_secret()), any::<String>()],
        id in any::<String>(),
        timestamp in prop_oneof![
            any::<i64>().prop_map(|t| t.to_string()),
            (NOW - 600..NOW + 600).prop_map(|t| t.to_string()),
            any::<String>(),
        ],
        signatures in any::<String>(),
        body in prop::collection::vec(any::<u8>(), 0..256),
        now in prop_oneof![Just(NOW), any::<i64>()],
    ) {
        if let Err(e) = webhooks::verify(&secret, &id, &timestamp, &signatures, &body, now) {
            client_error(&e, &["invalid_token", "token_expired", "invalid_input"])?;
        }
    }

    #[test]
    fn webhook_signatures_round_trip_and_bind_everything(
        id in "[a-z0-9_]{1,40}",
        body in prop::collection::vec(any::<u8>(), 0..256),
        skew in -299i64..=299,
        flip in any::<prop::sample::Index>(),
    ) {
        let secret = webhooks::generate_secret();
        let ts = NOW + skew;
        let sig = webhooks::sign(&secret, &id, ts, &body).unwrap();
        webhooks::verify(&secret, &id, &ts.to_string(), &sig, &body, NOW).unwrap();
        // Among other signatures (rotation) it still matches.
        let several = format!("v1,AAAA {sig} v2,x");
        webhooks::verify(&secret, &id, &ts.to_string(), &several, &body, NOW).unwrap();
        // Another body, id, time or secret does not.
        let mut other = body.clone();
        if other.is_empty() {
            other.push(0);
        } else {
            let i = flip.index(other.len());
            other[i] ^= 1;
        }
        prop_assert!(webhooks::verify(&secret, &id, &ts.to_string(), &sig, &other, NOW).is_err());
        let other_id = format!("{id}x");
        prop_assert!(webhooks::verify(&secret, &other_id, &ts.to_string(), &sig, &body, NOW).is_err());
        prop_assert!(webhooks::verify(&secret, &id, &(ts + 1).to_string(), &sig, &body, NOW).is_err());
        let stranger = webhooks::generate_secret();
        prop_assert!(webhooks::verify(&stranger, &id, &ts.to_string(), &sig, &body, NOW).is_err());
    }
}

/// Addresses: arbitrary text, and plausible addresses with Unicode, case,
/// spaces and invisible characters mixed in.
fn address_like() -> impl Strategy<Value = String> {
    let part = "[a-zA-Z0-9.+_\\-éüßİıЅѕаοΑ山た\u{301}\u{308}\u{200B}\u{202E}\u{FE0F} ]{0,20}";
    prop_oneof![
        any::<String>(),
        (
            part,
            part,
            "[a-zA-Z0-9\\-äöü。．]{0,12}",
            "(com|example|xn--bcher-kva|ＣＯＭ|)"
        )
            .prop_map(|(l, d, d2, tld)| format!("{l}@{d}{d2}.{tld}")),
    ]
}

proptest! {
    #![proptest_config(cases(1024))]

    #[test]
    fn email_normalisation_is_total_idempotent_and_bounded(raw in address_like()) {
        match normalize_email(&raw) {
            Ok(email) => {
                prop_assert!(email.len() <= 254);
                let (local, domain) = email.rsplit_once('@').unwrap();
                prop_assert!(!local.is_empty());
                prop_assert!(domain.is_ascii(), "{email:?}");
                prop_assert!(!email.chars().any(|c| c.is_whitespace() || c.is_control()));
                // The stored form is its own normal form: one mailbox, one string.
                prop_assert_eq!(normalize_email(&email).unwrap(), email.clone());
                if email.is_ascii() {
                    prop_assert_eq!(normalize_email(&email.to_uppercase()).unwrap(), email.clone());
                }
            }
            Err(e) => client_error(&e, &["invalid_email"])?,
        }
    }

    #[test]
    fn invisible_characters_never_pass(
        raw in "[a-z]{1,10}@[a-z]{1,10}\\.com",
        at in any::<prop::sample::Index>(),
        invisible in prop::sample::select(&['\u{200B}', '\u{200C}', '\u{200D}', '\u{202E}', '\u{2066}', '\u{FEFF}', '\u{AD}', '\u{2060}', '\u{180E}', '\u{E0041}', '\u{FE0F}'][..]),
    ) {
        let mut s: Vec<char> = raw.chars().collect();
        s.insert(at.index(s.len() + 1), invisible);
        let s: String = s.into_iter().collect();
        prop_assert_eq!(normalize_email(&s).unwrap_err().code(), "invalid_email");
    }

    #[test]
    fn names_slugs_metadata_and_passwords_never_panic(
        text in any::<String>(),
        short in ".{0,40}",
        score in 0u8..=4,
    ) {
        match normalize_name(Some(&text)) {
            Ok(Some(name)) => prop_assert!(!name.chars().any(char::is_control)),
            Ok(None) => prop_assert!(text.trim().is_empty()),
            Err(e) => client_error(&e, &["invalid_input", "too_large"])?,
        }
        if let Err(e) = check_slug(&text) {
            client_error(&e, &["invalid_input", "too_large"])?;
        }
        if let Err(e) = check_new_password(&short, score, &[&text]) {
            client_error(&e, &["weak_password", "invalid_input", "too_large"])?;
        }
        if let Err(e) = check_metadata(&json!({ "k": text })) {
            client_error(&e, &["invalid_input", "too_large"])?;
        }
    }

    #[test]
    fn metadata_of_any_shape_is_checked_not_crashed(value in json_value()) {
        if let Err(e) = check_metadata(&value) {
            client_error(&e, &["invalid_input", "too_large"])?;
        }
    }
}

/// Arbitrary JSON, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,20}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(".{0,10}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// One Tessera on the memory store, with a signed-up user, for the
/// properties that need the whole core; each case runs on `rt`.
struct World {
    rt: tokio::runtime::Runtime,
    t: Tessera,
    access_token: String,
}

fn world() -> World {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
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
            .unwrap();
        let app = t.apps().default_app().await.unwrap();
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
            .unwrap()
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
}

fn client() -> ClientInfo {
    ClientInfo::parse(Some("192.0.2.1"), Some("fuzz"))
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

/// JWT-shaped strings: forged headers (`none`, HS256, foreign `kid`,
/// `jku`/`jwk`), arbitrary payloads and signatures, or any text at all.
fn jwt_like() -> impl Strategy<Value = String> {
    let header = (
        prop::sample::select(&["none", "HS256", "RS256", "ES256", "EdDSA", ""][..]),
        prop::option::of(".{0,12}"),
        prop::sample::select(&["at+jwt", "JWT", ""][..]),
        any::<bool>(),
    )
        .prop_map(|(alg, kid, typ, extra)| {
            let mut h = json!({ "alg": alg, "typ": typ });
            if let Some(kid) = kid {
                h["kid"] = kid.into();
            }
            if extra {
                h["jku"] = "https://evil.example/jwks".into();
                h["jwk"] = json!({ "kty": "oct", "k": "AAAA" });
            }
            b64(&h)
        });
    prop_oneof![
        (header, json_value(), "[A-Za-z0-9_\\-]{0,90}")
            .prop_map(|(h, p, s)| format!("{h}.{}.{s}", b64(&p))),
        any::<String>(),
        "[A-Za-z0-9_\\-.]{0,200}",
    ]
}

#[test]
fn access_token_verification_never_panics_and_refuses_forgeries() {
    let w = world();
    let mut runner = proptest::test_runner::TestRunner::new(cases(512));
    runner
        .run(&jwt_like(), |token| {
            let result = w.rt.block_on(w.t.tokens().verify(&token, None));
            match result {
                Ok(_) => prop_assert!(false, "a forged token verified: {token}"),
                Err(e) => client_error(&e, &["invalid_token", "token_expired"])?,
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn any_change_to_a_real_access_token_is_refused() {
    let w = world();
    let token = w.access_token.clone();
    w.rt.block_on(w.t.tokens().verify(&token, None)).unwrap();
    let mut runner = proptest::test_runner::TestRunner::new(cases(512));
    runner
        .run(
            &(any::<prop::sample::Index>(), any::<char>()),
            |(at, with)| {
                let i = at.index(token.len());
                let mut forged = token.clone();
                forged.replace_range(i..=i, &with.to_string());
                if forged != token {
                    let e =
                        w.rt.block_on(w.t.tokens().verify(&forged, None))
                            .unwrap_err();
                    client_error(&e, &["invalid_token"])?;
                }
                Ok(())
            },
        )
        .unwrap();
}

#[test]
fn oauth_callback_parameters_never_panic() {
    let w = world();
    let text = || prop::option::of(prop_oneof![any::<String>(), "[A-Za-z0-9_\\-]{43}"]);
    let params = ("[a-z0-9_\\-]{0,12}", text(), text(), text(), text(), text());
    let mut runner = proptest::test_runner::TestRunner::new(cases(256));
    runner
        .run(
            &params,
            |(name, state, code, error, user, browser_state)| {
                let params = CallbackParams {
                    state,
                    code,
                    error,
                    user,
                    browser_state,
                };
                let result =
                    w.rt.block_on(w.t.oauth().callback(&name, &params, &client()));
                match result {
                    Ok(_) => prop_assert!(false, "a callback without a started flow succeeded"),
                    Err(e) => client_error(&e, &["invalid_token", "token_expired", "not_found"])?,
                }
                Ok(())
            },
        )
        .unwrap();
}

/// Credential JSON: the shape of a `PublicKeyCredential` with arbitrary
/// fields, or any JSON at all.
fn credential_like() -> impl Strategy<Value = Value> {
    let b64ish = || prop_oneof!["[A-Za-z0-9_\\-]{0,80}", any::<String>()];
    prop_oneof![
        (
            b64ish(),
            b64ish(),
            b64ish(),
            b64ish(),
            b64ish(),
            prop::option::of(b64ish())
        )
            .prop_map(|(id, cdj, ad, sig, raw, handle)| {
                json!({
                    "id": id,
                    "rawId": raw,
                    "type": "public-key",
                    "response": {
                        "clientDataJSON": cdj,
                        "authenticatorData": ad,
                        "signature": sig,
                        "userHandle": handle,
                    },
                    "extensions": {},
                })
            }),
        json_value(),
    ]
}

#[test]
fn passkey_credential_json_never_panics() {
    let w = world();
    let app = w.rt.block_on(w.t.apps().default_app()).unwrap();
    let mut runner = proptest::test_runner::TestRunner::new(cases(256));
    runner
        .run(&credential_like(), |credential| {
            let result = w.rt.block_on(async {
                let challenge = w.t.passkeys().start_sign_in(&app, None).await.unwrap();
                w.t.passkeys()
                    .finish_sign_in(&app, &challenge.ceremony, &credential, &client())
                    .await
            });
            match result {
                Ok(_) => prop_assert!(false, "made-up credential signed in"),
                Err(e) => client_error(&e, &["invalid_input", "invalid_credentials"])?,
            }
            Ok(())
        })
        .unwrap();
}
