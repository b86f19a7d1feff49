//! Input rules shared by every flow: email normalisation, caps on every string,
//! the NIST SP 800-63B password policy, and address blocks (CIDR) of
//! configured allow lists.
//!
//! Validation happens in the core, before anything reaches a store, so every
//! backend sees the same normalised values and no store ever receives an
//! oversized or malformed one.

use crate::model::{
    MAX_EMAIL_LEN, MAX_METADATA_LEN, MAX_NAME_LEN, MAX_SLUG_LEN, MAX_USER_AGENT_LEN,
};
use unicode_normalization::UnicodeNormalization;
use unicode_security::MixedScript;

use crate::{Error, ErrorKind, Result};

/// Shortest accepted password, in characters (NIST SP 800-63B).
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest accepted new password, in characters (NIST asks for at least 64).
pub const MAX_PASSWORD_CHARS: usize = 256;
/// Longest password even considered at sign-in, in bytes: anything longer
/// cannot be right and is refused before hashing.
pub const MAX_PASSWORD_BYTES: usize = 4 * MAX_PASSWORD_CHARS;

/// Longest local part (before the `@`), in bytes (RFC 5321).
const MAX_LOCAL_PART_LEN: usize = 64;

/// Normalise an email address to the one form Tessera stores and compares
/// (docs/contract.md, "Email addresses"), or refuse it with `invalid_email`:
///
/// - trimmed; no whitespace, control, format or other invisible
///   (default-ignorable) character anywhere, so `ada\u{200B}@example.com` or
///   a right-to-left override cannot make a visually identical twin;
/// - the local part lower-cased and in Unicode NFC (a composed and a
///   decomposed `é` are one mailbox), at most 64 bytes, in one script
///   (UTS #39 "highly restrictive": Latin mixed with Cyrillic, as in a
///   Cyrillic `а` inside `pаypal`, is refused; Han with Hiragana, Katakana,
///   Hangul or Bopomofo is one script);
/// - the domain mapped by IDNA (UTS #46, STD3 rules) to its ASCII form, so
///   `bücher.example` and `xn--bcher-kva.example` are one mailbox; it needs
///   a dot, except `localhost`;
/// - at most 254 bytes in all.
pub fn normalize_email(raw: &str) -> Result<String> {
    let invalid = || Error::new(ErrorKind::InvalidEmail);
    let raw = raw.trim();
    if raw.is_empty() || raw.len() > 4 * MAX_EMAIL_LEN {
        return Err(invalid());
    }
    let bad_char = |c: char| {
        c.is_whitespace()
            || c.is_control()
            || is_invisible(c)
            || matches!(c, '<' | '>' | '"' | '\\' | ',' | ';')
    };
    if raw.contains(bad_char) {
        return Err(invalid());
    }
    let Some((local, domain)) = raw.rsplit_once('@') else {
        return Err(invalid());
    };
    let local: String = local.to_lowercase().nfc().collect();
    if local.is_empty()
        || local.len() > MAX_LOCAL_PART_LEN
        || local.contains('@')
        || !local.as_str().is_single_script()
    {
        return Err(invalid());
    }
    if domain.is_empty()
        || domain.starts_with('.')
        || domain.ends_with('.')
        || domain.contains("..")
    {
        return Err(invalid());
    }
    let domain = idna::domain_to_ascii_strict(domain).map_err(|_| invalid())?;
    if !domain.contains('.') && domain != "localhost" {
        return Err(invalid());
    }
    let email = format!("{local}@{domain}");
    if email.len() > MAX_EMAIL_LEN {
        return Err(invalid());
    }
    Ok(email)
}

/// For a normalised address whose local part is not ASCII but looks like an
/// ASCII one (UTS #39 skeleton: `раураl` in Cyrillic looks like `paypal`),
/// the ASCII address it can be taken for; `None` otherwise. Sign-up records
/// it in the audit event (`email_confusable_with`) so an operator can find
/// look-alike accounts; such an address is not refused, since a real
/// mailbox may be written that way.
pub fn email_confusable_with(email: &str) -> Option<String> {
    let (local, domain) = email.rsplit_once('@')?;
    if local.is_ascii() {
        return None;
    }
    let skeleton: String = unicode_security::skeleton(local).collect();
    let skeleton = skeleton.to_lowercase();
    (skeleton.is_ascii() && skeleton != local).then(|| format!("{skeleton}@{domain}"))
}

/// Check a display name: at most 200 characters, no control characters;
/// trimmed, and `None` when empty.
pub fn normalize_name(raw: Option<&str>) -> Result<Option<String>> {
    let Some(name) = raw.map(str::trim).filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    if name.chars().count() > MAX_NAME_LEN {
        return Err(Error::invalid(
            "name",
            "the name is longer than 200 characters",
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::invalid(
            "name",
            "the name contains control characters",
        ));
    }
    Ok(Some(name.to_owned()))
}

/// Check user metadata: a JSON object of at most 16 KiB, with no NUL
/// character anywhere (not every database can store one).
pub fn check_metadata(value: &serde_json::Value) -> Result<()> {
    if !value.is_object() {
        return Err(Error::invalid("metadata", "metadata must be a JSON object"));
    }
    if contains_nul(value) {
        return Err(Error::invalid(
            "metadata",
            "metadata must not contain NUL characters",
        ));
    }
    if serde_json::to_vec(value).map_or(usize::MAX, |v| v.len()) > MAX_METADATA_LEN {
        return Err(Error::with_message(
            ErrorKind::TooLarge,
            "metadata is larger than 16 KiB",
        ));
    }
    Ok(())
}

fn contains_nul(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::String(s) => s.contains('\0'),
        serde_json::Value::Array(a) => a.iter().any(contains_nul),
        serde_json::Value::Object(o) => o.iter().any(|(k, v)| k.contains('\0') || contains_nul(v)),
        _ => false,
    }
}

/// Check a slug: 1 to 64 characters of `a-z`, `0-9` and `-`, not starting with `-`.
pub fn check_slug(slug: &str) -> Result<()> {
    let ok = !slug.is_empty()
        && slug.len() <= MAX_SLUG_LEN
        && !slug.starts_with('-')
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "slug",
            "a slug is 1 to 64 characters of a-z, 0-9 and '-', not starting with '-'",
        ))
    }
}

/// Check a display name of an app or pool: 1 to 200 characters, no control characters.
pub fn check_label(field: &'static str, value: &str) -> Result<()> {
    let n = value.chars().count();
    if value.trim().is_empty() || n > MAX_NAME_LEN || value.chars().any(char::is_control) {
        return Err(Error::invalid(
            field,
            "must be 1 to 200 characters without control characters",
        ));
    }
    Ok(())
}

/// Normalise a `User-Agent` for keeping: drop control and format characters
/// (Unicode `Cc` and `Cf`: bidi overrides, zero-width characters, BOMs), trim,
/// and cut to [`MAX_USER_AGENT_LEN`] bytes on a character boundary; `None`
/// when nothing is left.
pub fn normalize_user_agent(raw: &str) -> Option<String> {
    let cleaned: String = raw
        .chars()
        .filter(|&c| !c.is_control() && !is_format_char(c))
        .collect();
    let mut ua = cleaned.trim();
    if ua.len() > MAX_USER_AGENT_LEN {
        let mut end = MAX_USER_AGENT_LEN;
        while !ua.is_char_boundary(end) {
            end -= 1;
        }
        ua = ua[..end].trim_end();
    }
    (!ua.is_empty()).then(|| ua.to_owned())
}

/// Whether `c` draws nothing: a format character ([`is_format_char`]) or a
/// default-ignorable code point (Unicode's `Default_Ignorable_Code_Point`:
/// fillers, variation selectors, tags), which renderers skip.
fn is_invisible(c: char) -> bool {
    is_format_char(c)
        || matches!(
            c,
            '\u{34F}'
                | '\u{115F}'..='\u{1160}'
                | '\u{17B4}'..='\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FFA0}'
                | '\u{FFF0}'..='\u{FFF8}'
                | '\u{E0000}'..='\u{E0FFF}'
        )
}

/// Whether `c` is in Unicode's general category `Cf` (format characters:
/// invisible, and able to reorder or hide the text around them).
fn is_format_char(c: char) -> bool {
    matches!(
        c,
        '\u{AD}'
            | '\u{600}'..='\u{605}'
            | '\u{61C}'
            | '\u{6DD}'
            | '\u{70F}'
            | '\u{890}'..='\u{891}'
            | '\u{8E2}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}'
    )
}

/// Check a new password against the policy: 8 to 256 characters, no
/// composition rules, and a zxcvbn score of at least `min_score`, with the
/// user's email, name and the app's name counted as guessable words.
pub fn check_new_password(password: &str, min_score: u8, context: &[&str]) -> Result<()> {
    let weak = |msg: &'static str| Error::with_message(ErrorKind::WeakPassword, msg);
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(weak("The password is longer than 256 characters."));
    }
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(weak("The password must be at least 8 characters."));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(weak("The password is longer than 256 characters."));
    }
    if password.contains('\0') {
        return Err(weak("The password contains a NUL character."));
    }
    let mut inputs: Vec<&str> = Vec::with_capacity(context.len() * 2);
    for c in context {
        inputs.push(c);
        if let Some((local, domain)) = c.split_once('@') {
            inputs.push(local);
            inputs.extend(domain.split('.'));
        }
        inputs.extend(c.split_whitespace());
    }
    let score: u8 = zxcvbn::zxcvbn(password, &inputs).score().into();
    if score < min_score {
        return Err(weak(
            "The password is too easy to guess. Use a longer phrase or less common words.",
        ));
    }
    Ok(())
}

/// Parse `1.2.3.4`, `10.0.0.0/8` or `::1/128` into (network, prefix bits);
/// `None` if it is not an address or a block.
pub fn parse_cidr(s: &str) -> Option<(std::net::IpAddr, u8)> {
    let (ip, bits) = match s.trim().split_once('/') {
        Some((ip, bits)) => (
            ip.parse::<std::net::IpAddr>().ok()?,
            bits.parse::<u8>().ok()?,
        ),
        None => {
            let ip = s
                .trim()
                .trim_matches(['[', ']'])
                .parse::<std::net::IpAddr>()
                .ok()?;
            (ip, if ip.is_ipv4() { 32 } else { 128 })
        }
    };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    (bits <= max).then_some((ip, bits))
}

/// Whether `ip` is in the block `net`/`bits` (of the same family).
pub fn in_network(ip: std::net::IpAddr, net: std::net::IpAddr, bits: u8) -> bool {
    use std::net::IpAddr;
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs_parse_and_match() {
        let (n, b) = parse_cidr("10.0.0.0/8").unwrap();
        assert!(in_network("10.1.2.3".parse().unwrap(), n, b));
        assert!(!in_network("11.0.0.1".parse().unwrap(), n, b));
        let (n, b) = parse_cidr("::1").unwrap();
        assert!(in_network("::1".parse().unwrap(), n, b));
        assert!(!in_network("127.0.0.1".parse().unwrap(), n, b));
        let (n, b) = parse_cidr("0.0.0.0/0").unwrap();
        assert!(in_network("203.0.113.9".parse().unwrap(), n, b));
        assert!(parse_cidr("10.0.0.0/33").is_none());
        assert!(parse_cidr("nonsense").is_none());
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            normalize_email("  Alice@Example.COM ").unwrap(),
            "alice@example.com"
        );
        assert_eq!(
            normalize_email("ÉLODIE@exemple.fr").unwrap(),
            "élodie@exemple.fr"
        );
        assert_eq!(normalize_email("dev@localhost").unwrap(), "dev@localhost");
        assert_eq!(
            normalize_email("ada+tag.x_y-z@example.com").unwrap(),
            "ada+tag.x_y-z@example.com"
        );
        let long = format!("{}@example.com", "a".repeat(250));
        for bad in [
            "",
            " ",
            "no-at",
            "@example.com",
            "a@",
            "a@b",
            "a b@example.com",
            "a@exa mple.com",
            "a@example.com\0",
            "a@.example.com",
            "a@example..com",
            "a\n@example.com",
            &long,
            "\"a\"@example.com",
            "a@[192.0.2.1]",
            "a@exa_mple.com",
            "a@-example.com",
        ] {
            assert_eq!(
                normalize_email(bad).unwrap_err().code(),
                "invalid_email",
                "{bad:?}"
            );
        }
    }

    /// Issue 15, item 5: invisible characters made visually identical twin
    /// accounts; only control characters were refused.
    #[test]
    fn invisible_characters_are_refused_anywhere() {
        for bad in [
            "ada\u{200B}@example.com",
            "\u{200B}ada@example.com",
            "ada@exam\u{200B}ple.com",
            "ada\u{202E}moc@example.com",
            "ada\u{2066}@example.com",
            "ada\u{FEFF}@example.com",
            "ada\u{AD}@example.com",
            "ada\u{2060}@example.com",
            "ada\u{180E}@example.com",
            "ada\u{3164}@example.com",
            "ada\u{FE0F}@example.com",
            "ada\u{E0041}@example.com",
            "ada\u{34F}@example.com",
            "ada\u{A0}@example.com",
            "ada\u{2007}@example.com",
        ] {
            assert_eq!(
                normalize_email(bad).unwrap_err().code(),
                "invalid_email",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn internationalised_domains_have_one_form() {
        let ascii = "ada@xn--bcher-kva.example";
        assert_eq!(normalize_email("ada@bücher.example").unwrap(), ascii);
        assert_eq!(normalize_email("ada@BÜCHER.example").unwrap(), ascii);
        assert_eq!(normalize_email("ada@xn--bcher-kva.example").unwrap(), ascii);
        assert_eq!(normalize_email("ada@XN--BCHER-KVA.EXAMPLE").unwrap(), ascii);
        // Decomposed ü (u + combining diaeresis) is the same domain.
        assert_eq!(normalize_email("ada@bu\u{308}cher.example").unwrap(), ascii);
        // Full-width dots and letters map as UTS #46 says.
        assert_eq!(
            normalize_email("ada@ｅｘａｍｐｌｅ。com").unwrap(),
            "ada@example.com"
        );
        // A broken A-label is refused, not stored.
        for bad in [
            "ada@xn--.example",
            "ada@xn--a.example",
            "ada@xn--bcher-kva-.example",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn local_parts_are_nfc_and_single_script() {
        // Composed and decomposed é: one mailbox.
        assert_eq!(
            normalize_email("e\u{301}lodie@example.fr").unwrap(),
            normalize_email("\u{E9}lodie@example.fr").unwrap()
        );
        // One script, or Han with Japanese kana, is fine.
        normalize_email("сергей@example.com").unwrap();
        normalize_email("山田たろう@example.jp").unwrap();
        normalize_email("ada.lovelace2@example.com").unwrap();
        // Latin with a Cyrillic а or a Greek ο: refused.
        for bad in ["p\u{430}ypal@example.com", "g\u{3BF}\u{3BF}gle@example.com"] {
            assert_eq!(
                normalize_email(bad).unwrap_err().code(),
                "invalid_email",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn whole_script_look_alikes_are_flagged() {
        // All-Cyrillic "раураl" minus the Latin l: "рауса" looks like "payca".
        let twin = normalize_email("\u{440}\u{430}\u{443}\u{441}\u{430}@example.com").unwrap();
        assert_eq!(
            email_confusable_with(&twin).as_deref(),
            Some("payca@example.com")
        );
        assert_eq!(email_confusable_with("payca@example.com"), None);
        assert_eq!(email_confusable_with("сергей@example.com"), None);
    }

    #[test]
    fn user_agents_are_trimmed_cleaned_and_cut() {
        assert_eq!(
            normalize_user_agent("  Mozilla/5.0 (X11)\t\n").as_deref(),
            Some("Mozilla/5.0 (X11)")
        );
        // Control and format characters go, wherever they are.
        assert_eq!(
            normalize_user_agent("cu\u{0}rl/8\u{202E}.1\u{200B}\u{FEFF}\u{1b}[31m").as_deref(),
            Some("curl/8.1[31m")
        );
        assert_eq!(normalize_user_agent(" \u{200F}\r\n "), None);
        assert_eq!(normalize_user_agent(""), None);
        // Cut on a character boundary: 511 bytes of 'a' then a 2-byte 'é'.
        let long = format!("{}é{}", "a".repeat(511), "b".repeat(100));
        assert_eq!(normalize_user_agent(&long).unwrap(), "a".repeat(511));
        let spaced = format!("{}  tail", "x".repeat(510));
        assert_eq!(normalize_user_agent(&spaced).unwrap(), "x".repeat(510));
        // Ordinary non-ASCII text is kept.
        assert_eq!(
            normalize_user_agent("conformance/1.0 (\"quoted\" 😀)").as_deref(),
            Some("conformance/1.0 (\"quoted\" 😀)")
        );
    }

    #[test]
    fn password_policy_follows_nist() {
        let ok = "correct horse battery staple";
        check_new_password(ok, 3, &[]).unwrap();
        // No composition rules: a long lower-case phrase is fine.
        check_new_password("tangerine submarine orchestra", 2, &[]).unwrap();
        for (bad, min) in [("", 0), ("short1!", 0), ("password", 1), ("12345678", 1)] {
            assert_eq!(
                check_new_password(bad, min, &[]).unwrap_err().code(),
                "weak_password",
                "{bad}"
            );
        }
        // The user's own details count as guessable.
        let pw = "zebulonquixote";
        check_new_password(pw, 3, &[]).unwrap();
        let context = ["zebulon.quixote@example.com", "Zebulon Quixote"];
        assert!(check_new_password(pw, 3, &context).is_err());
        // Too long, before zxcvbn ever sees it.
        assert!(check_new_password(&"a".repeat(257), 0, &[]).is_err());
        assert!(check_new_password(&"a".repeat(10 * 1024 * 1024), 0, &[]).is_err());
        check_new_password(&"ab".repeat(128), 0, &[]).unwrap();
    }

    #[test]
    fn names_slugs_and_metadata_are_capped() {
        assert_eq!(
            normalize_name(Some("  Ada  ")).unwrap().as_deref(),
            Some("Ada")
        );
        assert_eq!(normalize_name(Some("   ")).unwrap(), None);
        assert!(normalize_name(Some(&"x".repeat(201))).is_err());
        assert!(normalize_name(Some("a\u{7}b")).is_err());
        check_slug("my-app-2").unwrap();
        for bad in ["", "-x", "Upper", "a_b", &"a".repeat(65)] {
            assert!(check_slug(bad).is_err(), "{bad}");
        }
        check_metadata(&serde_json::json!({"plan": "pro"})).unwrap();
        assert!(check_metadata(&serde_json::json!([1])).is_err());
        assert!(check_metadata(&serde_json::json!({"a": ["x\u{0}y"]})).is_err());
        assert!(check_metadata(&serde_json::json!({"k\u{0}": 1})).is_err());
        let big = serde_json::json!({"x": "y".repeat(17 * 1024)});
        assert_eq!(check_metadata(&big).unwrap_err().code(), "too_large");
    }
}
