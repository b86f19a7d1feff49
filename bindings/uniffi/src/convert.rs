//! Values across the boundary, and the two macros every capability file uses.
//!
//! Ids cross as strings (UUIDs), times as `SystemTime` (Kotlin
//! `java.time.Instant`), free-form JSON as text, counts as signed integers
//! (Kotlin's unsigned types are awkward). [`FromCore`] turns the core's
//! values into the records: [`mirror!`](crate::mirror) declares a record
//! from its field list and derives that conversion, and
//! [`exports!`](crate::exports) declares `Tessera`'s methods, each one line
//! that calls `tessera_bindings_common` and converts the answer.

use std::time::SystemTime;

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::{Result, TesseraError};

/// A record made from a core value; fallible because some answers are
/// errors on this side (a sign-in that needs a second factor throws
/// `MfaRequired`).
pub(crate) trait FromCore<T>: Sized {
    /// Convert.
    fn from_core(value: T) -> Result<Self>;
}

macro_rules! same {
    ($($t:ty),*) => {$(
        impl FromCore<$t> for $t {
            fn from_core(value: $t) -> Result<Self> {
                Ok(value)
            }
        }
    )*};
}
same!((), String, bool, i32, i64);

/// Scalar conversions, each `from => to` by one expression of `value`.
macro_rules! scalar {
    ($($from:ty => $to:ty: |$v:ident| $how:expr;)*) => {$(
        impl FromCore<$from> for $to {
            fn from_core($v: $from) -> Result<Self> {
                Ok($how)
            }
        }
    )*};
}
scalar! {
    Uuid => String: |value| value.to_string();
    DateTime<Utc> => SystemTime: |value| value.into();
    // JSON documents cross as text.
    Value => String: |value| value.to_string();
    // Counts saturate rather than wrap.
    u32 => i32: |value| i32::try_from(value).unwrap_or(i32::MAX);
    u32 => i64: |value| value.into();
    u64 => i64: |value| i64::try_from(value).unwrap_or(i64::MAX);
    // Protocol words cross as their stable strings.
    tessera_core::model::DeliveryStatus => String: |value| value.as_str().to_owned();
}

impl<T, U: FromCore<T>> FromCore<Option<T>> for Option<U> {
    fn from_core(value: Option<T>) -> Result<Self> {
        value.map(U::from_core).transpose()
    }
}

impl<T, U: FromCore<T>> FromCore<Vec<T>> for Vec<U> {
    fn from_core(value: Vec<T>) -> Result<Self> {
        value.into_iter().map(U::from_core).collect()
    }
}

/// A `SystemTime` given from Kotlin, for the core.
pub(crate) fn chrono_time(t: SystemTime) -> DateTime<Utc> {
    t.into()
}

/// Parse a UUID argument; `invalid_input` naming `field` if malformed.
pub(crate) fn parse_id(field: &str, id: &str) -> Result<Uuid> {
    id.trim()
        .parse()
        .map_err(|_| TesseraError::invalid(field, format!("{field} must be a UUID")))
}

/// Parse an optional UUID argument.
pub(crate) fn parse_opt_id(field: &str, id: Option<String>) -> Result<Option<Uuid>> {
    id.map(|s| parse_id(field, &s)).transpose()
}

/// Parse a JSON argument given as text; `invalid_input` naming `field`.
pub(crate) fn parse_json(field: &str, text: &str) -> Result<Value> {
    serde_json::from_str(text)
        .map_err(|e| TesseraError::invalid(field, format!("{field} is not valid JSON: {e}")))
}

/// Declare a record Kotlin receives, and its conversion from the core type,
/// from one field list: `pub field: Type` reads the core value's `field`,
/// `pub field: Type = other` its `other`; each converts by [`FromCore`].
#[macro_export]
#[doc(hidden)]
macro_rules! mirror {
    (
        $(#[$meta:meta])*
        pub struct $name:ident from $core:ty {
            $(
                $(#[doc = $doc:literal])*
                pub $field:ident: $ty:ty $(= $src:tt)?
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        pub struct $name {
            $( $(#[doc = $doc])* pub $field: $ty, )*
        }

        impl $crate::convert::FromCore<$core> for $name {
            fn from_core(value: $core) -> $crate::Result<Self> {
                Ok($name {
                    $( $field: $crate::convert::FromCore::from_core(
                        $crate::mirror!(@read value, $field $(, $src)?)
                    )?, )*
                })
            }
        }
    };
    (@read $v:ident, $field:ident) => { $v.$field };
    (@read $v:ident, $field:ident, $src:tt) => { $v.$src };
}

/// Declare methods of [`crate::Tessera`] (Kotlin `suspend` functions): doc,
/// signature, `[defaults]` of the optional arguments (`uniffi::method`'s
/// `default(…)`), and `|core| call` — a future of the core's answer (or of
/// the binding's own `Result`), converted by [`FromCore`].
#[macro_export]
#[doc(hidden)]
macro_rules! exports {
    ($(
        $(#[doc = $doc:literal])*
        fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty $([$($default:tt)*])?
            |$core:ident| $call:expr;
    )*) => {
        // `Tessera` as the caller sees it (each capability file imports
        // it): uniffi's export takes no qualified self-type.
        #[uniffi::export(async_runtime = "tokio")]
        impl Tessera {
            $(
                $(#[doc = $doc])*
                $(#[uniffi::method(default($($default)*))])?
                #[allow(clippy::too_many_arguments)]
                pub async fn $name(&self, $($arg: $ty),*) -> $crate::Result<$ret> {
                    let $core = &self.core;
                    $crate::convert::FromCore::from_core($call.await?)
                }
            )*
        }
    };
}
