//! Where SQLite and Postgres differ: column types, value encodings and a few
//! SQL fragments.
//!
//! Everything else is one SQL text for both (parameters are `$1`, `$2`, …,
//! which SQLite accepts too). Timestamps are the main difference: Postgres
//! stores `TIMESTAMPTZ`; SQLite stores integer microseconds since the epoch, so
//! ordering and range comparisons stay plain integer comparisons in SQL and
//! microseconds round-trip exactly.

use chrono::{DateTime, Utc};
use sea_orm::{DbBackend, QueryResult, Statement, TryGetable, Value};
use tessera_core::crypto::TokenHash;
use tessera_core::{Error, Result};
use uuid::Uuid;

/// The SQL dialect a [`SqlStore`](crate::SqlStore) speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite (3.35 or later, for `RETURNING`).
    Sqlite,
    /// PostgreSQL (12 or later).
    Postgres,
}

impl Dialect {
    /// The dialect of a sea-orm backend; `None` for backends Tessera does not support.
    pub fn of(backend: DbBackend) -> Option<Self> {
        match backend {
            DbBackend::Sqlite => Some(Dialect::Sqlite),
            DbBackend::Postgres => Some(Dialect::Postgres),
            _ => None,
        }
    }

    /// The sea-orm backend of this dialect.
    pub fn backend(self) -> DbBackend {
        match self {
            Dialect::Sqlite => DbBackend::Sqlite,
            Dialect::Postgres => DbBackend::Postgres,
        }
    }

    /// The backend name reported by [`Store::backend`](tessera_core::store::Store::backend).
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
        }
    }

    pub(crate) fn stmt(self, sql: &str, values: Vec<Value>) -> Statement {
        Statement::from_sql_and_values(self.backend(), sql, values)
    }

    /// A timestamp, truncated to microseconds (what both databases keep).
    pub(crate) fn ts(self, t: DateTime<Utc>) -> Value {
        let micros = t.timestamp_micros();
        match self {
            Dialect::Sqlite => Value::BigInt(Some(micros)),
            Dialect::Postgres => {
                Value::ChronoDateTimeUtc(Some(DateTime::from_timestamp_micros(micros).unwrap_or(t)))
            }
        }
    }

    pub(crate) fn ts_opt(self, t: Option<DateTime<Utc>>) -> Value {
        match (self, t) {
            (_, Some(t)) => self.ts(t),
            (Dialect::Sqlite, None) => Value::BigInt(None),
            (Dialect::Postgres, None) => Value::ChronoDateTimeUtc(None),
        }
    }

    pub(crate) fn json(self, v: &serde_json::Value) -> Value {
        match self {
            Dialect::Sqlite => Value::String(Some(v.to_string())),
            Dialect::Postgres => Value::Json(Some(Box::new(v.clone()))),
        }
    }

    /// Row locks for read-then-write transactions. SQLite needs none: its
    /// write transactions begin `IMMEDIATE` and are serialised.
    pub(crate) fn for_update(self, of: &str) -> String {
        match self {
            Dialect::Sqlite => String::new(),
            Dialect::Postgres => format!(" FOR UPDATE OF {of}"),
        }
    }

    /// `haystack` contains the text of parameter `param` literally (no `LIKE` wildcards).
    pub(crate) fn contains(self, haystack: &str, param: &str) -> String {
        match self {
            Dialect::Sqlite => format!("instr({haystack}, {param}) > 0"),
            Dialect::Postgres => format!("strpos({haystack}, {param}) > 0"),
        }
    }

    /// The timestamp column `ts` plus the seconds in column `secs`.
    pub(crate) fn plus_secs(self, ts: &str, secs: &str) -> String {
        match self {
            Dialect::Sqlite => format!("({ts} + {secs} * 1000000)"),
            Dialect::Postgres => format!("({ts} + {secs} * interval '1 second')"),
        }
    }

    /// Column types for the migrations: (uuid, timestamp, bytes, json, bool).
    pub(crate) fn types(self) -> [(&'static str, &'static str); 5] {
        match self {
            Dialect::Sqlite => [
                ("{uuid}", "BLOB"),
                ("{ts}", "INTEGER"),
                ("{bytes}", "BLOB"),
                ("{json}", "TEXT"),
                ("{bool}", "BOOLEAN"),
            ],
            Dialect::Postgres => [
                ("{uuid}", "UUID"),
                ("{ts}", "TIMESTAMPTZ"),
                ("{bytes}", "BYTEA"),
                ("{json}", "JSONB"),
                ("{bool}", "BOOLEAN"),
            ],
        }
    }
}

/// `Value`s of the types both dialects encode the same way.
pub(crate) fn uuid(u: Uuid) -> Value {
    Value::Uuid(Some(u))
}

pub(crate) fn uuid_opt(u: Option<Uuid>) -> Value {
    Value::Uuid(u)
}

pub(crate) fn text(s: &str) -> Value {
    Value::String(Some(s.to_owned()))
}

pub(crate) fn text_opt(s: Option<&str>) -> Value {
    Value::String(s.map(str::to_owned))
}

pub(crate) fn bytes(b: &[u8]) -> Value {
    Value::Bytes(Some(b.to_vec()))
}

pub(crate) fn bytes_opt(b: Option<&[u8]>) -> Value {
    Value::Bytes(b.map(<[u8]>::to_vec))
}

pub(crate) fn hash(h: &TokenHash) -> Value {
    Value::Bytes(Some(h.as_bytes().to_vec()))
}

pub(crate) fn hash_opt(h: Option<&TokenHash>) -> Value {
    Value::Bytes(h.map(|h| h.as_bytes().to_vec()))
}

fn decode(e: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::storage(e)
}

/// A result row read in a dialect, by prefixed column name.
pub(crate) struct Row<'a> {
    pub(crate) row: &'a QueryResult,
    pub(crate) dialect: Dialect,
    pub(crate) prefix: &'a str,
}

impl<'a> Row<'a> {
    pub(crate) fn new(row: &'a QueryResult, dialect: Dialect, prefix: &'a str) -> Self {
        Row {
            row,
            dialect,
            prefix,
        }
    }

    pub(crate) fn get<T: TryGetable>(&self, col: &str) -> Result<T> {
        self.row
            .try_get_by::<T, _>(format!("{}{col}", self.prefix).as_str())
            .map_err(decode)
    }

    pub(crate) fn uuid(&self, col: &str) -> Result<Uuid> {
        self.get(col)
    }

    pub(crate) fn uuid_opt(&self, col: &str) -> Result<Option<Uuid>> {
        self.get(col)
    }

    pub(crate) fn text(&self, col: &str) -> Result<String> {
        self.get(col)
    }

    pub(crate) fn text_opt(&self, col: &str) -> Result<Option<String>> {
        self.get(col)
    }

    pub(crate) fn bool(&self, col: &str) -> Result<bool> {
        self.get(col)
    }

    pub(crate) fn i64(&self, col: &str) -> Result<i64> {
        self.get(col)
    }

    pub(crate) fn i32(&self, col: &str) -> Result<i32> {
        self.get(col)
    }

    pub(crate) fn ts(&self, col: &str) -> Result<DateTime<Utc>> {
        self.ts_opt(col)?
            .ok_or_else(|| Error::internal(format!("NULL timestamp in {col}")))
    }

    pub(crate) fn ts_opt(&self, col: &str) -> Result<Option<DateTime<Utc>>> {
        match self.dialect {
            Dialect::Postgres => self.get(col),
            Dialect::Sqlite => match self.get::<Option<i64>>(col)? {
                None => Ok(None),
                Some(micros) => DateTime::from_timestamp_micros(micros)
                    .map(Some)
                    .ok_or_else(|| Error::internal(format!("timestamp out of range in {col}"))),
            },
        }
    }

    pub(crate) fn json(&self, col: &str) -> Result<serde_json::Value> {
        match self.dialect {
            Dialect::Postgres => self.get(col),
            Dialect::Sqlite => serde_json::from_str(&self.text(col)?).map_err(decode),
        }
    }

    pub(crate) fn json_as<T: serde::de::DeserializeOwned>(&self, col: &str) -> Result<T> {
        serde_json::from_value(self.json(col)?).map_err(decode)
    }

    pub(crate) fn bytes(&self, col: &str) -> Result<Vec<u8>> {
        self.get(col)
    }

    pub(crate) fn hash(&self, col: &str) -> Result<TokenHash> {
        TokenHash::from_slice(&self.bytes(col)?)
            .ok_or_else(|| Error::internal(format!("malformed hash in {col}")))
    }

    pub(crate) fn hash_opt(&self, col: &str) -> Result<Option<TokenHash>> {
        match self.get::<Option<Vec<u8>>>(col)? {
            None => Ok(None),
            Some(b) => TokenHash::from_slice(&b)
                .map(Some)
                .ok_or_else(|| Error::internal(format!("malformed hash in {col}"))),
        }
    }
}
