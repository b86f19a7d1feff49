//! The audit log: its query and event records, and the method that lists
//! events.

use std::time::SystemTime;

use tessera_bindings_common::audit;
use tessera_core::model;

use crate::Tessera;
use crate::convert::{chrono_time, parse_id};
use crate::{Result, TesseraError};

/// Filters and paging for `listAuditEvents`; every field
/// optional. Results come newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct AuditQuery {
    /// Only this user's events.
    #[uniffi(default)]
    pub user_id: Option<String>,
    /// Only this app's events.
    #[uniffi(default)]
    pub app_id: Option<String>,
    /// Only this pool's events.
    #[uniffi(default)]
    pub pool_id: Option<String>,
    /// Only events of this type (`sign_in.failed`, …).
    #[uniffi(default)]
    pub event_type: Option<String>,
    /// Only events at or after this time.
    #[uniffi(default)]
    pub since: Option<SystemTime>,
    /// Only events before this time.
    #[uniffi(default)]
    pub until: Option<SystemTime>,
    /// Only events older than this event id (the last id of the previous page).
    #[uniffi(default)]
    pub before: Option<String>,
    /// Page size: 0 means 100; at most 1000.
    #[uniffi(default = 0)]
    pub limit: i32,
}

impl TryFrom<AuditQuery> for model::AuditQuery {
    type Error = TesseraError;

    fn try_from(q: AuditQuery) -> Result<Self> {
        let id = |field: &str, v: Option<String>| v.map(|s| parse_id(field, &s)).transpose();
        Ok(model::AuditQuery {
            user_id: id("user_id", q.user_id)?,
            app_id: id("app_id", q.app_id)?,
            pool_id: id("pool_id", q.pool_id)?,
            kind: q.event_type,
            since: q.since.map(chrono_time),
            until: q.until.map(chrono_time),
            before: id("before", q.before)?,
            limit: u32::try_from(q.limit)
                .map_err(|_| TesseraError::invalid("limit", "limit must not be negative"))?,
        })
    }
}

crate::mirror! {
    /// One entry of the audit log.
    #[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
    pub struct AuditEvent from model::AuditEvent {
        /// Unique id (UUIDv7, so ids sort by time).
        pub id: String,
        /// What happened (`user.signed_up`, `sign_in.failed`, …).
        pub event_type: String = kind,
        /// The pool concerned.
        pub pool_id: Option<String>,
        /// The app concerned.
        pub app_id: Option<String>,
        /// The user concerned.
        pub user_id: Option<String>,
        /// The session concerned.
        pub session_id: Option<String>,
        /// Client IP.
        pub ip: Option<String>,
        /// Client user agent.
        pub user_agent: Option<String>,
        /// Event details as JSON text (`{"reason":"invalid_password"}`); never a secret.
        pub data_json: String = data,
        /// When it happened.
        pub at: SystemTime,
    }
}

crate::exports! {
    /// Audit events matching `query` (all when `null`), newest first.
    fn list_audit_events(query: Option<AuditQuery>) -> Vec<AuditEvent> [query = None]
        |core| audit::list(core, None, query.unwrap_or_default().try_into()?);
}
