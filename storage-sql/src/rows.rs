//! How a model maps to a table row, described once per model and read and
//! written the same way by every store file.
//!
//! Why: each store file used to spell a model's columns three times (the
//! `SELECT` list, the `INSERT` list and the values in the same order), write
//! a mapper per model that differed only in names, and repeat the "run, map
//! each row, collect" steps. Now a store file names a model's columns once,
//! with [`table_row!`]: the columns are the model's fields, each read and
//! written by its type's [`Column`] impl (the one place that knows how a
//! timestamp, a hash or a JSON value is stored in each dialect). The
//! generated mapper builds the struct field by field, so a field added to a
//! model and not to its row fails to compile. Columns are read by prefixed
//! name (`u_id`, `s_id`, …), so one joined row can carry several models (a
//! session and its user).

use chrono::{DateTime, Utc};
use sea_orm::{QueryResult, Value};
use tessera_core::crypto::TokenHash;
use tessera_core::model::{AppSettings, CredentialKind, DeliveryStatus, SigningAlg};
use tessera_core::{Error, ErrorKind, Result};
use uuid::Uuid;

use crate::SqlStore;
use crate::dialect::{
    Dialect, Row, bytes, bytes_opt, hash, hash_opt, text, text_opt, uuid, uuid_opt,
};
use crate::exec::{Tx, db};

/// A model read from the columns [`COLUMNS`](Self::COLUMNS), each aliased
/// with [`PREFIX`](Self::PREFIX) in the result. Implemented by [`table_row!`].
pub(crate) trait FromRow: Sized {
    /// The model's columns (its field names).
    const COLUMNS: &'static [&'static str];
    /// The prefix of the model's columns in a result row (`u_` for users).
    const PREFIX: &'static str;

    /// Read the model from a row whose columns carry [`PREFIX`](Self::PREFIX).
    fn from_row(r: &Row<'_>) -> Result<Self>;

    /// The select list `alias.col AS prefixcol, …`; with an empty `alias`,
    /// `col AS prefixcol, …` (for `RETURNING`).
    fn columns(alias: &str) -> String {
        Self::COLUMNS
            .iter()
            .map(|c| {
                if alias.is_empty() {
                    format!("{c} AS {}{c}", Self::PREFIX)
                } else {
                    format!("{alias}.{c} AS {}{c}", Self::PREFIX)
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A model written whole as one row of [`TABLE`](Self::TABLE). Implemented
/// by [`table_row!`].
pub(crate) trait ToRow: FromRow {
    /// The table the model is stored in.
    const TABLE: &'static str;

    /// The values of [`COLUMNS`](FromRow::COLUMNS), in the same order.
    fn values(&self, d: Dialect) -> Result<Vec<Value>>;

    /// `INSERT INTO table (columns) VALUES ($1, …)`, ready for a suffix such
    /// as `ON CONFLICT … DO NOTHING`.
    fn insert_sql() -> String {
        let params = (1..=Self::COLUMNS.len())
            .map(|n| format!("${n}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "INSERT INTO {} ({}) VALUES ({params})",
            Self::TABLE,
            Self::COLUMNS.join(", ")
        )
    }
}

/// Implement [`FromRow`] for a model whose columns are named as its fields
/// (all of them), and with `table`, [`ToRow`] too:
///
/// ```text
/// table_row!(Pool, table "pools", prefix "p_", [id, slug, name, created_at]);
/// table_row!(Throttle, prefix "h_", [failures, last_failure_at]);
/// ```
macro_rules! table_row {
    ($model:ident, prefix $prefix:literal, [$($field:ident),+ $(,)?]) => {
        impl $crate::rows::FromRow for $model {
            const COLUMNS: &'static [&'static str] = &[$(stringify!($field)),+];
            const PREFIX: &'static str = $prefix;

            fn from_row(r: &$crate::dialect::Row<'_>) -> ::tessera_core::Result<Self> {
                Ok($model {
                    $($field: $crate::rows::Column::read(r, stringify!($field))?),+
                })
            }
        }
    };
    ($model:ident, table $table:literal, prefix $prefix:literal, [$($field:ident),+ $(,)?]) => {
        $crate::rows::table_row!($model, prefix $prefix, [$($field),+]);

        impl $crate::rows::ToRow for $model {
            const TABLE: &'static str = $table;

            fn values(
                &self,
                d: $crate::dialect::Dialect,
            ) -> ::tessera_core::Result<Vec<::sea_orm::Value>> {
                Ok(vec![$($crate::rows::Column::write(&self.$field, d)?),+])
            }
        }
    };
}
pub(crate) use table_row;

/// A field type stored in one column: how a dialect reads and writes it.
pub(crate) trait Column: Sized {
    /// Read column `col` (without its prefix) of `r`.
    fn read(r: &Row<'_>, col: &str) -> Result<Self>;
    /// The value to bind for this field.
    fn write(&self, d: Dialect) -> Result<Value>;
}

/// `Column` for types both dialects bind the same way: a reader on [`Row`]
/// and an encoder from [`crate::dialect`].
macro_rules! plain_column {
    ($($ty:ty => $read:ident, |$v:ident| $write:expr;)+) => {$(
        impl Column for $ty {
            fn read(r: &Row<'_>, col: &str) -> Result<Self> {
                r.$read(col)
            }
            fn write(&self, _: Dialect) -> Result<Value> {
                let $v = self;
                Ok($write)
            }
        }
    )+};
}

plain_column! {
    Uuid => uuid, |v| uuid(*v);
    Option<Uuid> => uuid_opt, |v| uuid_opt(*v);
    String => text, |v| text(v);
    Option<String> => text_opt, |v| text_opt(v.as_deref());
    bool => bool, |v| (*v).into();
    i32 => i32, |v| (*v).into();
    i64 => i64, |v| (*v).into();
    Option<i32> => get, |v| (*v).into();
    Option<i64> => get, |v| (*v).into();
    TokenHash => hash, |v| hash(v);
    Option<TokenHash> => hash_opt, |v| hash_opt(v.as_ref());
    Vec<u8> => bytes, |v| bytes(v);
    Option<Vec<u8>> => get, |v| bytes_opt(v.as_deref());
}

/// Timestamps: `TIMESTAMPTZ` on Postgres, microseconds on SQLite.
impl Column for DateTime<Utc> {
    fn read(r: &Row<'_>, col: &str) -> Result<Self> {
        r.ts(col)
    }
    fn write(&self, d: Dialect) -> Result<Value> {
        Ok(d.ts(*self))
    }
}

impl Column for Option<DateTime<Utc>> {
    fn read(r: &Row<'_>, col: &str) -> Result<Self> {
        r.ts_opt(col)
    }
    fn write(&self, d: Dialect) -> Result<Value> {
        Ok(d.ts_opt(*self))
    }
}

/// A count kept as `INTEGER`; a negative value (never written) reads as 0.
impl Column for u32 {
    fn read(r: &Row<'_>, col: &str) -> Result<Self> {
        Ok(u32::try_from(r.i32(col)?).unwrap_or(0))
    }
    fn write(&self, _: Dialect) -> Result<Value> {
        Ok(i64::from(*self).into())
    }
}

impl Column for serde_json::Value {
    fn read(r: &Row<'_>, col: &str) -> Result<Self> {
        r.json(col)
    }
    fn write(&self, d: Dialect) -> Result<Value> {
        Ok(d.json(self))
    }
}

/// Structured fields kept as JSON (`JSONB` on Postgres, text on SQLite).
macro_rules! json_column {
    ($($ty:ty),+) => {$(
        impl Column for $ty {
            fn read(r: &Row<'_>, col: &str) -> Result<Self> {
                r.json_as(col)
            }
            fn write(&self, d: Dialect) -> Result<Value> {
                Ok(d.json(&serde_json::to_value(self).map_err(Error::internal)?))
            }
        }
    )+};
}

json_column!(AppSettings, Vec<String>);

/// Protocol words kept as their stable strings.
macro_rules! word_column {
    ($($ty:ty => $what:literal),+) => {$(
        impl Column for $ty {
            fn read(r: &Row<'_>, col: &str) -> Result<Self> {
                let s = r.text(col)?;
                <$ty>::parse(&s)
                    .ok_or_else(|| Error::internal(format!(concat!("unknown ", $what, " {:?}"), s)))
            }
            fn write(&self, _: Dialect) -> Result<Value> {
                Ok(text(self.as_str()))
            }
        }
    )+};
}

word_column!(
    CredentialKind => "credential kind",
    SigningAlg => "key algorithm",
    DeliveryStatus => "delivery status"
);

impl Tx<'_> {
    /// Insert `row` inside the transaction.
    pub(crate) async fn insert_row<T: ToRow>(&self, row: &T) -> Result<()> {
        self.exec(&T::insert_sql(), row.values(self.d)?).await?;
        Ok(())
    }

    /// Read a `T` from each row of a query inside the transaction.
    pub(crate) async fn select<T: FromRow>(&self, sql: &str, values: Vec<Value>) -> Result<Vec<T>> {
        self.all(sql, values)
            .await?
            .iter()
            .map(|r| T::from_row(&Row::new(r, self.d, T::PREFIX)))
            .collect()
    }
}

/// The answer of a write that must touch a row: `NotFound` when it touched none.
pub(crate) fn found(rows_touched: u64) -> Result<()> {
    if rows_touched == 0 {
        return Err(not_found());
    }
    Ok(())
}

/// `NotFound`, for a row that is not there.
pub(crate) fn not_found() -> Error {
    Error::new(ErrorKind::NotFound)
}

impl SqlStore {
    /// Insert `row` on its own (one statement; see [`write`](Self::write)):
    /// a unique violation is `Conflict`, a missing parent row `NotFound`.
    pub(crate) async fn insert_row<T: ToRow>(&self, row: &T) -> Result<()> {
        self.write(&T::insert_sql(), row.values(self.dialect)?, db)
            .await?;
        Ok(())
    }

    /// Read a `T` from a result row (of a query or a transaction).
    pub(crate) fn read<T: FromRow>(&self, r: &QueryResult) -> Result<T> {
        T::from_row(&Row::new(r, self.dialect, T::PREFIX))
    }

    /// Read a `T` from each row.
    pub(crate) fn read_all<T: FromRow>(&self, rows: &[QueryResult]) -> Result<Vec<T>> {
        rows.iter().map(|r| self.read(r)).collect()
    }

    /// Run one read statement; a `T` from each of its rows.
    pub(crate) async fn select<T: FromRow>(&self, sql: &str, values: Vec<Value>) -> Result<Vec<T>> {
        self.read_all(&self.all(sql, values).await?)
    }

    /// Run one read statement; a `T` from its first row, if any.
    pub(crate) async fn select_one<T: FromRow>(
        &self,
        sql: &str,
        values: Vec<Value>,
    ) -> Result<Option<T>> {
        self.one(sql, values)
            .await?
            .map(|r| self.read(&r))
            .transpose()
    }
}
