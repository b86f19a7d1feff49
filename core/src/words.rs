//! Protocol words: enums whose every variant has one stable string.
//!
//! One-time-token purposes, audit event kinds and MFA methods are written to
//! the store and sent on the wire as strings. Declaring them with
//! [`protocol_words!`] gives each a closed set of variants with `ALL`,
//! `as_str`, `parse`, `FromStr`, `Display` and serde as the string, so a
//! misspelt word is a compile error and the stored form cannot drift. The
//! store keeps plain strings (its traits take `&str`); the core converts at
//! that boundary with `as_str()`, so stored data and the wire are
//! byte-identical to what bare string constants produced.

use std::fmt;

/// A string that is none of an enum's stable words (the `FromStr` error of
/// the protocol-word enums).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownWord {
    /// What was being parsed, e.g. `MFA method`.
    pub what: &'static str,
}

impl fmt::Display for UnknownWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a known {}", self.what)
    }
}

impl std::error::Error for UnknownWord {}

/// Declares an enum of protocol words: `Variant => "word",` rows, with
/// `what` naming the set in error messages.
macro_rules! protocol_words {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($what:literal) {
            $( $(#[$vmeta:meta])* $variant:ident => $word:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[ $( $name::$variant, )+ ];

            /// The stable string, as stored and sent.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $word, )+
                }
            }

            /// The value whose stable string is `s`.
            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $( $word => Some($name::$variant), )+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::words::UnknownWord;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s).ok_or($crate::words::UnknownWord { what: $what })
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <String as serde::Deserialize>::deserialize(d)?;
                Self::parse(&s).ok_or_else(|| {
                    serde::de::Error::custom(format_args!("not a known {}: {s:?}", $what))
                })
            }
        }
    };
}

pub(crate) use protocol_words;

#[cfg(test)]
mod tests {
    use crate::audit::EventKind;
    use crate::mfa::MfaMethod;
    use crate::model::TokenPurpose;

    /// Each set's words are distinct, parse back to their variant, and
    /// round-trip through serde as the bare string.
    fn round_trips<T>(all: &[T], as_str: fn(T) -> &'static str, parse: fn(&str) -> Option<T>)
    where
        T: Copy + PartialEq + std::fmt::Debug + serde::Serialize + serde::de::DeserializeOwned,
    {
        let mut seen = std::collections::BTreeSet::new();
        for &v in all {
            let word = as_str(v);
            assert!(seen.insert(word), "{word} appears twice");
            assert_eq!(parse(word), Some(v));
            assert_eq!(serde_json::to_value(v).unwrap(), serde_json::json!(word));
            assert_eq!(serde_json::from_value::<T>(word.into()).unwrap(), v);
        }
        assert_eq!(parse("no_such_word"), None);
        assert!(serde_json::from_value::<T>("no_such_word".into()).is_err());
    }

    #[test]
    fn words_round_trip() {
        round_trips(TokenPurpose::ALL, TokenPurpose::as_str, TokenPurpose::parse);
        round_trips(EventKind::ALL, EventKind::as_str, EventKind::parse);
        round_trips(MfaMethod::ALL, MfaMethod::as_str, MfaMethod::parse);
    }

    /// The stored strings are the ones the bare constants wrote before these
    /// enums existed: changing one orphans stored tokens and audit filters.
    #[test]
    fn stored_words_are_unchanged() {
        let purposes: Vec<_> = TokenPurpose::ALL.iter().map(|p| p.as_str()).collect();
        assert_eq!(
            purposes,
            [
                "verify_email",
                "password_reset",
                "email_code",
                "magic_link",
                "email_change",
                "mfa",
                "totp_used",
                "totp_confirm",
                "oauth_state",
                "oauth_exchange",
                "passkey_register",
                "passkey_sign_in",
                "passkey_mfa",
            ]
        );
        let methods: Vec<_> = MfaMethod::ALL.iter().map(|m| m.as_str()).collect();
        assert_eq!(methods, ["totp", "recovery_code", "passkey", "totp_enroll"]);
        assert_eq!(EventKind::ALL.len(), 46);
        assert_eq!(EventKind::SignInFailed.as_str(), "sign_in.failed");
        assert_eq!(
            EventKind::RefreshTokenReused.as_str(),
            "session.refresh_token_reused"
        );
        assert_eq!("totp".parse::<MfaMethod>(), Ok(MfaMethod::Totp));
        assert_eq!(
            "sms".parse::<MfaMethod>().unwrap_err().to_string(),
            "not a known MFA method"
        );
    }
}
