//! libFuzzer target over the validation of what people type and what
//! clients send: `validate::normalize_email`, `normalize_name`,
//! `check_slug`, `check_new_password` and `check_metadata` (of arbitrary
//! JSON). Same properties as the email / name / slug / metadata / password
//! properties in core/tests/fuzz.rs: nothing panics; a stored email is
//! bounded, ASCII-domained, free of whitespace and control characters and
//! its own normal form; invisible characters never pass; every refusal is a
//! client error. Run: `cargo +nightly fuzz run validate`.

#![no_main]

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use tessera_core::validate::{
    check_metadata, check_new_password, check_slug, normalize_email, normalize_name,
};
use tessera_fuzz::client_error;

const INVISIBLE: &[char] = &[
    '\u{200B}',
    '\u{200C}',
    '\u{200D}',
    '\u{202E}',
    '\u{2066}',
    '\u{FEFF}',
    '\u{AD}',
    '\u{2060}',
    '\u{180E}',
    '\u{E0041}',
    '\u{FE0F}',
];

#[derive(Debug, Arbitrary)]
struct Input {
    text: String,
    password: String,
    score: u8,
    /// Metadata: JSON if it parses.
    metadata: Vec<u8>,
    /// A plain `local@domain.com` with one invisible character inserted.
    local: Vec<u8>,
    domain: Vec<u8>,
    at: usize,
    invisible: u8,
}

fn email_is_total_idempotent_and_bounded(raw: &str) {
    match normalize_email(raw) {
        Ok(email) => {
            assert!(email.len() <= 254, "{email:?}");
            let (local, domain) = email.rsplit_once('@').expect("an @");
            assert!(!local.is_empty(), "{email:?}");
            assert!(domain.is_ascii(), "{email:?}");
            assert!(
                !email.chars().any(|c| c.is_whitespace() || c.is_control()),
                "{email:?}"
            );
            // The stored form is its own normal form: one mailbox, one string.
            assert_eq!(normalize_email(&email).expect("idempotent"), email);
            if email.is_ascii() {
                assert_eq!(
                    normalize_email(&email.to_uppercase()).expect("case-blind"),
                    email
                );
            }
        }
        Err(e) => client_error(&e, &["invalid_email"]),
    }
}

/// `[a-z]{1,10}` from arbitrary bytes.
fn letters(bytes: &[u8]) -> String {
    let s: String = bytes
        .iter()
        .take(10)
        .map(|b| char::from(b'a' + b % 26))
        .collect();
    if s.is_empty() { "a".into() } else { s }
}

fuzz_target!(|input: Input| {
    let text = &input.text;
    email_is_total_idempotent_and_bounded(text);

    let mut plain: Vec<char> = format!("{}@{}.com", letters(&input.local), letters(&input.domain))
        .chars()
        .collect();
    let invisible = INVISIBLE[usize::from(input.invisible) % INVISIBLE.len()];
    plain.insert(input.at % (plain.len() + 1), invisible);
    let hidden: String = plain.into_iter().collect();
    match normalize_email(&hidden) {
        Ok(email) => panic!("{hidden:?} passed as {email:?}"),
        Err(e) => assert_eq!(e.code(), "invalid_email"),
    }

    match normalize_name(Some(text)) {
        Ok(Some(name)) => assert!(!name.chars().any(char::is_control), "{name:?}"),
        Ok(None) => assert!(text.trim().is_empty(), "{text:?} dropped"),
        Err(e) => client_error(&e, &["invalid_input", "too_large"]),
    }
    if let Err(e) = check_slug(text) {
        client_error(&e, &["invalid_input", "too_large"]);
    }
    if let Err(e) = check_new_password(&input.password, input.score % 5, &[text]) {
        client_error(&e, &["weak_password", "invalid_input", "too_large"]);
    }
    if let Err(e) = check_metadata(&json!({ "k": text })) {
        client_error(&e, &["invalid_input", "too_large"]);
    }
    if let Ok(value) = serde_json::from_slice::<Value>(&input.metadata) {
        if let Err(e) = check_metadata(&value) {
            client_error(&e, &["invalid_input", "too_large"]);
        }
    }
});
