//! How a model maps to a table row: one description per model, read and
//! written the same way by every store file.
//!
//! Why: each store file used to spell a model's columns three times (the
//! `SELECT` list, the `INSERT` list and the values in the same order) and
//! repeat the same "run, map each row, collect" steps. A [`FromRow`] names
//! the columns once and reads a row; a [`ToRow`] writes the values in that
//! same order, so [`ToRow::insert`] cannot list a column the values miss.
//! Reading by prefixed column name (`u_id`, `s_id`, …) lets one joined row
//! carry several models (a session and its user).

use sea_orm::{QueryResult, Value};
use tessera_core::{Error, ErrorKind, Result};

use crate::SqlStore;
use crate::dialect::{Dialect, Row};

/// A model read from the columns [`COLUMNS`](Self::COLUMNS), each aliased
/// with [`PREFIX`](Self::PREFIX) in the result.
pub(crate) trait FromRow: Sized {
    /// The model's columns, in table order.
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

/// A model written whole as one row of [`TABLE`](Self::TABLE).
pub(crate) trait ToRow: FromRow {
    /// The table the model is stored in.
    const TABLE: &'static str;

    /// The values of [`COLUMNS`](FromRow::COLUMNS), in the same order.
    fn values(&self, d: Dialect) -> Result<Vec<Value>>;

    /// `INSERT INTO table (columns) VALUES ($1, …)`, ready for a suffix such
    /// as `ON CONFLICT … DO NOTHING`.
    fn insert() -> String {
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
