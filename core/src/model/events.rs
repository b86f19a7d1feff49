//! What a change records: its audit entry and the webhook events it emits,
//! written by the store in the same atomic step as the change itself.
//!
//! Why here, as plain data: the store traits take these values (or a
//! function making them from what the change did) with every method that
//! changes state, so a backend writes the change, its events and their
//! deliveries together or not at all. The core decides what an event says
//! (`crate::events` maps audit kinds to the public types of `docs/events.md`
//! and builds their payloads); backends only store what they are given.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{AppId, AuditEvent, PoolId, User};

/// An event to record with the change it reports: one audit entry and the
/// webhook events (public types) it emits, possibly none.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// The entry of the audit log (which is the event log).
    pub audit: AuditEvent,
    /// The public events it emits, delivered to every enabled endpoint that
    /// subscribes to them.
    pub webhooks: Vec<WebhookEvent>,
}

impl From<AuditEvent> for NewEvent {
    /// An audit entry that emits no public event.
    fn from(audit: AuditEvent) -> Self {
        NewEvent {
            audit,
            webhooks: Vec::new(),
        }
    }
}

/// One public event (a type of `docs/events.md`), as endpoints receive it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEvent {
    /// Unique id (UUIDv7): the `webhook-id` header of every delivery of it,
    /// retries included, so receivers can dedupe.
    pub id: Uuid,
    /// The public type (`user.created`, …).
    pub kind: String,
    /// The pool concerned, if any (endpoints of an app receive the events
    /// of its pool that concern no particular app).
    pub pool_id: Option<PoolId>,
    /// The app concerned, if any.
    pub app_id: Option<AppId>,
    /// The body delivered, exactly as signed:
    /// `{"type", "timestamp", "data"}` serialised.
    pub payload: String,
    /// When it happened.
    pub at: DateTime<Utc>,
}

/// Whether an endpoint subscribed to `filters` receives events of type
/// `kind`: a filter is `*` (everything), `prefix.*` (every type starting
/// with `prefix.`) or a type. The one matching rule every backend applies.
pub fn filters_match(filters: &[String], kind: &str) -> bool {
    filters.iter().any(|f| {
        f == "*"
            || f == kind
            || f.strip_suffix(".*").is_some_and(|prefix| {
                kind.len() > prefix.len() + 1
                    && kind.starts_with(prefix)
                    && kind.as_bytes()[prefix.len()] == b'.'
            })
    })
}

/// What a refresh-token rotation changed, for the events it records (see
/// [`SessionStore::rotate_refresh_token`](crate::store::SessionStore::rotate_refresh_token)).
#[derive(Debug, Clone, Copy)]
pub struct RotationChange<'a> {
    /// What the store answers.
    pub outcome: &'a super::RotationOutcome,
    /// The token's session after the step.
    pub session: &'a super::Session,
    /// Its user.
    pub user: &'a User,
    /// Whether this step revoked the session (a spent token came back while
    /// the session was live).
    pub revoked: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_match_types_prefixes_and_everything() {
        let f = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(filters_match(&f(&["*"]), "user.created"));
        assert!(filters_match(&f(&["user.*"]), "user.created"));
        assert!(filters_match(&f(&["user.*"]), "user.roles_changed"));
        assert!(!filters_match(&f(&["user.*"]), "users.created"));
        assert!(!filters_match(&f(&["user.*"]), "user."));
        assert!(!filters_match(&f(&["user.*"]), "session.created"));
        assert!(filters_match(
            &f(&["session.created", "email.*"]),
            "email.verified"
        ));
        assert!(!filters_match(&f(&["session.created"]), "session.revoked"));
        assert!(!filters_match(&[], "user.created"));
    }
}
