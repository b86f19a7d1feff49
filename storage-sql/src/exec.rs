//! Running statements: write serialisation and busy retries for SQLite,
//! transactions, the mapping of database failures onto [`ErrorKind`]s, and
//! the health gate (every call fails at once while the database is known
//! unreachable, and failures that suggest it is start a probe; see
//! [`crate::health`]).
//!
//! A constraint violation becomes a typed error (`Conflict`, `NotFound`, or the
//! kind a call site names, such as `EmailTaken`); anything else becomes
//! [`Error::storage`], whose message is generic and whose source keeps the
//! database's own text for logs. No caller ever sees a raw database message.

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use sea_orm::{
    ConnectionTrait, DatabaseTransaction, DbErr, QueryResult, RuntimeErr, SqlErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait, Value,
};
use tessera_core::{Error, ErrorKind, Result};
use tokio::sync::MutexGuard;

use crate::SqlStore;
use crate::dialect::Dialect;
use crate::health::Health;

/// How often a write that meets a busy database is tried in all.
const WRITE_ATTEMPTS: u32 = 8;

/// What a failed statement was, as far as Tessera cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Violation {
    Unique,
    ForeignKey,
    Check,
    Nul,
    Busy,
    Other,
}

pub(crate) fn classify(e: &DbErr) -> Violation {
    match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => return Violation::Unique,
        Some(SqlErr::ForeignKeyConstraintViolation(_)) => return Violation::ForeignKey,
        _ => {}
    }
    if let DbErr::Exec(RuntimeErr::SqlxError(x))
    | DbErr::Query(RuntimeErr::SqlxError(x))
    | DbErr::Conn(RuntimeErr::SqlxError(x)) = e
        && let sea_orm::sqlx::Error::Database(d) = x.deref()
    {
        let code = d.code().unwrap_or_default();
        return match code.deref() {
            // SQLITE_BUSY, _BUSY_RECOVERY, _BUSY_SNAPSHOT, SQLITE_LOCKED, _LOCKED_SHAREDCACHE;
            // Postgres serialization_failure, deadlock_detected.
            "5" | "261" | "517" | "6" | "262" | "40001" | "40P01" => Violation::Busy,
            // SQLITE_CONSTRAINT_CHECK; Postgres check_violation.
            "275" | "23514" => Violation::Check,
            // Postgres text and jsonb cannot hold NUL (invalid byte sequence,
            // untranslatable character).
            "22021" | "22P05" => Violation::Nul,
            _ => Violation::Other,
        };
    }
    Violation::Other
}

/// The generic mapping: unique → `Conflict`, foreign key → `NotFound`, check →
/// `TooLarge` (the checks bound lengths), NUL in text (Postgres) →
/// `InvalidInput`, anything else → `Storage`.
pub(crate) fn db(e: DbErr) -> Error {
    match classify(&e) {
        Violation::Unique => Error::new(ErrorKind::Conflict),
        Violation::ForeignKey => Error::new(ErrorKind::NotFound),
        Violation::Check => Error::new(ErrorKind::TooLarge),
        Violation::Nul => Error::invalid("value", "text may not contain NUL characters"),
        Violation::Busy | Violation::Other => Error::storage(e),
    }
}

/// Like [`db`], but a unique violation is `kind`.
pub(crate) fn unique_is(kind: ErrorKind) -> impl FnOnce(DbErr) -> Error {
    move |e| {
        if classify(&e) == Violation::Unique {
            Error::new(kind)
        } else {
            db(e)
        }
    }
}

/// Whether `e` is a busy database worth trying again.
fn is_busy(e: &Error) -> bool {
    e.kind() == &ErrorKind::Storage
        && std::error::Error::source(e)
            .and_then(|s| s.downcast_ref::<DbErr>())
            .is_some_and(|d| classify(d) == Violation::Busy)
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(5u64 << attempt.min(6))
}

/// An open write transaction (and, on SQLite, the process's write turn).
pub(crate) struct Tx<'a> {
    tx: DatabaseTransaction,
    pub(crate) d: Dialect,
    health: &'a Arc<Health>,
    _turn: Option<MutexGuard<'a, ()>>,
}

impl Tx<'_> {
    pub(crate) fn conn(&self) -> &DatabaseTransaction {
        &self.tx
    }

    pub(crate) async fn one(&self, sql: &str, values: Vec<Value>) -> Result<Option<QueryResult>> {
        self.tx
            .query_one_raw(self.d.stmt(sql, values))
            .await
            .map_err(|e| self.failed(e, db))
    }

    /// Run a query; all its rows.
    pub(crate) async fn all(&self, sql: &str, values: Vec<Value>) -> Result<Vec<QueryResult>> {
        self.all_map(sql, values, db).await
    }

    /// Run a query (a write with `RETURNING`); all its rows, a failure
    /// mapped by `on_err` (see [`db`], [`unique_is`]).
    pub(crate) async fn all_map(
        &self,
        sql: &str,
        values: Vec<Value>,
        on_err: fn(DbErr) -> Error,
    ) -> Result<Vec<QueryResult>> {
        self.tx
            .query_all_raw(self.d.stmt(sql, values))
            .await
            .map_err(|e| self.failed(e, on_err))
    }

    /// Run a statement; the number of rows it touched.
    pub(crate) async fn exec(&self, sql: &str, values: Vec<Value>) -> Result<u64> {
        self.exec_raw(sql, values).await.map_err(db)
    }

    pub(crate) async fn exec_raw(&self, sql: &str, values: Vec<Value>) -> Result<u64, DbErr> {
        self.tx
            .execute_raw(self.d.stmt(sql, values))
            .await
            .map(|r| r.rows_affected())
            .inspect_err(|e| self.health.observe(e))
    }

    fn failed(&self, e: DbErr, map: impl FnOnce(DbErr) -> Error) -> Error {
        self.health.observe(&e);
        map(e)
    }

    /// Commit on `Ok`, roll back on `Err`, and hand the result on. A failed
    /// COMMIT is an error like any other: the connection is not reused while
    /// it may still be inside the transaction (see [`crate::pool`]).
    pub(crate) async fn finish<T>(self, result: Result<T>) -> Result<T> {
        match result {
            Ok(v) => {
                let health = self.health;
                self.tx.commit().await.map_err(|e| {
                    health.observe(&e);
                    db(e)
                })?;
                Ok(v)
            }
            Err(e) => {
                if let Err(rollback) = self.tx.rollback().await {
                    tracing::warn!(error = %rollback, "rollback failed");
                }
                Err(e)
            }
        }
    }
}

impl SqlStore {
    async fn turn(&self) -> Option<MutexGuard<'_, ()>> {
        match &self.write_turn {
            Some(m) => Some(m.lock().await),
            None => None,
        }
    }

    fn failed(&self, e: DbErr, map: impl FnOnce(DbErr) -> Error) -> Error {
        self.health.observe(&e);
        map(e)
    }

    /// Begin a write transaction (`BEGIN IMMEDIATE` on SQLite, after taking
    /// this process's write turn), retrying while the database is busy.
    pub(crate) async fn begin(&self) -> Result<Tx<'_>> {
        self.health.guard(self.begin_now()).await
    }

    async fn begin_now(&self) -> Result<Tx<'_>> {
        let turn = self.turn().await;
        let options = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        let mut attempt = 0;
        loop {
            match self.db.begin_with_options(options).await {
                Ok(tx) => {
                    return Ok(Tx {
                        tx,
                        d: self.dialect,
                        health: &self.health,
                        _turn: turn,
                    });
                }
                Err(e) => {
                    let e = self.failed(e, db);
                    attempt += 1;
                    if !is_busy(&e) || attempt >= WRITE_ATTEMPTS {
                        return Err(e);
                    }
                    tokio::time::sleep(backoff(attempt)).await;
                }
            }
        }
    }

    /// Run one read statement; its first row.
    pub(crate) async fn one(&self, sql: &str, values: Vec<Value>) -> Result<Option<QueryResult>> {
        let call = async {
            self.db
                .query_one_raw(self.dialect.stmt(sql, values))
                .await
                .map_err(|e| self.failed(e, db))
        };
        self.health.guard(call).await
    }

    /// Run one read statement; all its rows.
    pub(crate) async fn all(&self, sql: &str, values: Vec<Value>) -> Result<Vec<QueryResult>> {
        let call = async {
            self.db
                .query_all_raw(self.dialect.stmt(sql, values))
                .await
                .map_err(|e| self.failed(e, db))
        };
        self.health.guard(call).await
    }

    /// Run one writing statement on its own (atomic by itself), retrying while
    /// the database is busy; the number of rows it touched. `on_err` maps a
    /// failure (see [`db`], [`unique_is`]).
    pub(crate) async fn write(
        &self,
        sql: &str,
        values: Vec<Value>,
        on_err: fn(DbErr) -> Error,
    ) -> Result<u64> {
        let call = async {
            let _turn = self.turn().await;
            let mut attempt = 0;
            loop {
                match self
                    .db
                    .execute_raw(self.dialect.stmt(sql, values.clone()))
                    .await
                {
                    Ok(r) => return Ok(r.rows_affected()),
                    Err(e) if classify(&e) == Violation::Busy && attempt + 1 < WRITE_ATTEMPTS => {
                        attempt += 1;
                        tokio::time::sleep(backoff(attempt)).await;
                    }
                    Err(e) => return Err(self.failed(e, on_err)),
                }
            }
        };
        self.health.guard(call).await
    }

    /// Like [`write`](Self::write) for a statement with `RETURNING`: its rows.
    pub(crate) async fn write_returning(
        &self,
        sql: &str,
        values: Vec<Value>,
        on_err: fn(DbErr) -> Error,
    ) -> Result<Vec<QueryResult>> {
        let call = async {
            let _turn = self.turn().await;
            let mut attempt = 0;
            loop {
                match self
                    .db
                    .query_all_raw(self.dialect.stmt(sql, values.clone()))
                    .await
                {
                    Ok(rows) => return Ok(rows),
                    Err(e) if classify(&e) == Violation::Busy && attempt + 1 < WRITE_ATTEMPTS => {
                        attempt += 1;
                        tokio::time::sleep(backoff(attempt)).await;
                    }
                    Err(e) => return Err(self.failed(e, on_err)),
                }
            }
        };
        self.health.guard(call).await
    }
}
