//! The audit log: the `AuditEvent` class and its listing.

use chrono::{DateTime, Utc};
use tessera_bindings_common::audit;
use tessera_core::model;

use crate::convert::Id;
use crate::{AsyncTessera, Tessera};

crate::record! {
    /// One entry of the audit log.
    pub(crate) struct AuditEvent(model::AuditEvent) repr(id, r#type, user_id) {
        /// Unique id (UUIDv7, so ids sort by time).
        id,
        /// What happened (`user.signed_up`, `sign_in.failed`, …).
        r#type = kind,
        /// The pool concerned.
        pool_id,
        /// The app concerned.
        app_id,
        /// The user concerned.
        user_id,
        /// The session concerned.
        session_id,
        /// Client IP.
        ip,
        /// Client user agent.
        user_agent,
        /// Event details (never a secret).
        data,
        /// When it happened.
        at,
    }
}

crate::methods! {
    /// Audit events, newest first, filtered; pass the last id of a page as
    /// `before=` for the next.
    fn list_audit_events(user_id: Option<Id>, app: Option<String>, pool_id: Option<Id>, r#type: Option<String>, since: Option<DateTime<Utc>>, until: Option<DateTime<Utc>>, before: Option<Id>, limit: u32)
        [*, user_id = None, app = None, pool_id = None, r#type = None, since = None, until = None, before = None, limit = 100]
        |core| audit::list(core, app.as_deref(), model::AuditQuery {
            user_id: user_id.map(|u| u.0),
            app_id: None,
            pool_id: pool_id.map(|p| p.0),
            kind: r#type,
            since,
            until,
            before: before.map(|b| b.0),
            limit,
        });
}
