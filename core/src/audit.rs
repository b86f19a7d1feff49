//! The audit log: every auth event, with who, where and when.
//!
//! Flows record events through [`Audit::record`]; operators query them by user,
//! app, type and time. Events never carry secrets: a failed sign-in records the
//! reason (`invalid_password`, `unknown_user`), not what was typed.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::model::{App, AuditEvent, AuditQuery, ClientInfo, Session, User, UserId};
use crate::{Inner, Result, new_id};

/// Event type names (stable: filters and integrations rely on them).
pub mod event {
    /// A user was created by sign-up.
    pub const USER_SIGNED_UP: &str = "user.signed_up";
    /// A user was changed by an administrator or themselves.
    pub const USER_UPDATED: &str = "user.updated";
    /// A user was deleted.
    pub const USER_DELETED: &str = "user.deleted";
    /// A sign-in succeeded (`data.method`).
    pub const SIGN_IN_SUCCEEDED: &str = "sign_in.succeeded";
    /// A sign-in failed (`data.method`, `data.reason`).
    pub const SIGN_IN_FAILED: &str = "sign_in.failed";
    /// A refresh token was exchanged.
    pub const SESSION_REFRESHED: &str = "session.refreshed";
    /// A spent refresh token was presented again; the session was revoked.
    pub const REFRESH_TOKEN_REUSED: &str = "session.refresh_token_reused";
    /// A session was revoked (`data.reason`).
    pub const SESSION_REVOKED: &str = "session.revoked";
    /// All of a user's sessions were revoked (`data.count`).
    pub const SESSIONS_REVOKED: &str = "session.revoked_all";
    /// A password was changed.
    pub const PASSWORD_CHANGED: &str = "password.changed";
    /// The token signing key was rotated (`data.kid`, `data.alg`).
    pub const SIGNING_KEY_ROTATED: &str = "signing_key.rotated";
    /// An app was created, changed or deleted (`data.action`).
    pub const APP_CHANGED: &str = "app.changed";
    /// An address was verified.
    pub const EMAIL_VERIFIED: &str = "email.verified";
    /// A password reset link was sent.
    pub const PASSWORD_RESET_REQUESTED: &str = "password.reset_requested";
    /// A password was reset through a link.
    pub const PASSWORD_RESET: &str = "password.reset";
    /// A sign-in code was sent.
    pub const SIGN_IN_CODE_SENT: &str = "sign_in.code_sent";
    /// A magic link was sent.
    pub const MAGIC_LINK_SENT: &str = "sign_in.magic_link_sent";
    /// An address change was requested.
    pub const EMAIL_CHANGE_REQUESTED: &str = "email.change_requested";
    /// An address was changed.
    pub const EMAIL_CHANGED: &str = "email.changed";
    /// An API key was created.
    pub const API_KEY_CREATED: &str = "api_key.created";
    /// An API key was revoked.
    pub const API_KEY_REVOKED: &str = "api_key.revoked";
    /// An app's OAuth provider was configured or removed (`data.provider`, `data.action`).
    pub const OAUTH_PROVIDER_CHANGED: &str = "oauth.provider_changed";
    /// An OAuth sign-in was started (`data.provider`).
    pub const OAUTH_STARTED: &str = "oauth.started";
    /// An OAuth callback failed (`data.provider`, `data.reason`).
    pub const OAUTH_FAILED: &str = "oauth.failed";
    /// An external identity was linked (`data.provider`, `data.how`).
    pub const IDENTITY_LINKED: &str = "identity.linked";
    /// An external identity was unlinked (`data.provider`).
    pub const IDENTITY_UNLINKED: &str = "identity.unlinked";
    /// A passkey was registered.
    pub const PASSKEY_REGISTERED: &str = "passkey.registered";
    /// A passkey was renamed.
    pub const PASSKEY_RENAMED: &str = "passkey.renamed";
    /// A passkey was deleted.
    pub const PASSKEY_DELETED: &str = "passkey.deleted";
    /// TOTP enrolment began (not active until confirmed).
    pub const TOTP_ENROLLMENT_STARTED: &str = "totp.enrollment_started";
    /// TOTP was confirmed and is active.
    pub const TOTP_ENABLED: &str = "totp.enabled";
    /// TOTP was disabled.
    pub const TOTP_DISABLED: &str = "totp.disabled";
    /// New recovery codes were issued (the old ones stopped working).
    pub const RECOVERY_CODES_GENERATED: &str = "mfa.recovery_codes_generated";
    /// A recovery code was spent (`data.remaining`).
    pub const RECOVERY_CODE_USED: &str = "mfa.recovery_code_used";
    /// A sign-in stopped for a second factor (`data.methods`).
    pub const MFA_CHALLENGED: &str = "mfa.challenged";
    /// A second factor failed (`data.method`, `data.reason`).
    pub const MFA_FAILED: &str = "mfa.failed";
}

/// The audit log capability; see [`crate::Tessera::audit`].
pub struct Audit<'a> {
    inner: &'a Inner,
}

/// The subject of an event being recorded.
#[derive(Default, Clone, Copy)]
pub(crate) struct Subject<'s> {
    pub(crate) app: Option<&'s App>,
    pub(crate) user: Option<&'s User>,
    pub(crate) user_id: Option<UserId>,
    pub(crate) session: Option<&'s Session>,
    pub(crate) client: Option<&'s ClientInfo>,
}

impl<'a> Audit<'a> {
    pub(crate) fn new(inner: &'a Inner) -> Self {
        Audit { inner }
    }

    /// Events matching `query`, newest first; page with `query.before` set to
    /// the id of the last event of the previous page. `limit` 0 means 100; at most 1000.
    pub async fn list(&self, query: &AuditQuery) -> Result<Vec<AuditEvent>> {
        let mut q = query.clone();
        q.limit = if q.limit == 0 { 100 } else { q.limit.min(1000) };
        self.inner.store.audit().list_events(&q).await
    }

    /// Record an event now. Failures to write the log are returned, not hidden.
    pub(crate) async fn record(&self, kind: &str, subject: Subject<'_>, data: Value) -> Result<()> {
        let now = self.inner.now();
        self.record_at(kind, subject, data, now).await
    }

    /// Record an event about `user` in `app` from `client` (what most flows
    /// record).
    pub(crate) async fn record_user_event(
        &self,
        kind: &str,
        app: Option<&App>,
        user: Option<&User>,
        client: Option<&ClientInfo>,
        data: Value,
    ) -> Result<()> {
        let subject = Subject {
            app,
            user,
            client,
            ..Default::default()
        };
        self.record(kind, subject, data).await
    }

    async fn record_at(
        &self,
        kind: &str,
        s: Subject<'_>,
        data: Value,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let event = AuditEvent {
            id: new_id(at),
            kind: kind.to_owned(),
            pool_id: s
                .app
                .map(|a| a.pool_id)
                .or(s.user.map(|u| u.pool_id))
                .or(s.session.map(|x| x.pool_id)),
            app_id: s.app.map(|a| a.id).or(s.session.map(|x| x.app_id)),
            user_id: s
                .user
                .map(|u| u.id)
                .or(s.user_id)
                .or(s.session.map(|x| x.user_id)),
            session_id: s.session.map(|x| x.id),
            ip: s.client.and_then(|c| c.ip.clone()),
            user_agent: s
                .client
                .and_then(|c| c.user_agent.clone())
                .map(crate::sessions::cut_user_agent),
            data,
            at,
        };
        self.inner.store.audit().append_event(&event).await
    }
}
