//! The audit log: every auth event, with who, where and when. It is also the
//! event log that webhooks are delivered from (`docs/events.md`).
//!
//! A flow that changes state builds its event with [`Audit::event`] and hands
//! it to the store method that makes the change, which writes both in one
//! atomic step (with the public webhook events it emits, see
//! [`crate::events`]); events that record no change (a failed sign-in, a code
//! sent) are appended on their own with [`Audit::record`]. Operators query
//! the log by user, app, type and time. Events never carry secrets: a failed
//! sign-in records the reason (`invalid_password`, `unknown_user`), not what
//! was typed.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::model::{
    ApiKey, App, AuditEvent, AuditQuery, ClientInfo, Credential, Identity, NewEvent, Session, User,
    UserId,
};
use crate::{Inner, Result, new_id};

crate::words::protocol_words! {
    /// The kind of an audit event (stable: filters and integrations rely on
    /// the strings). The store keeps [`EventKind::as_str`].
    ///
    /// The log may keep finer kinds than the webhook event types of
    /// `docs/contract.md` (a failed sign-in, a refresh, a sent code); mapping a
    /// kind to the webhook types it emits is one exhaustive `match` on this
    /// enum. `#[non_exhaustive]`: kinds are added as capabilities land.
    #[non_exhaustive]
    pub enum EventKind("audit event kind") {
        /// A user was created by sign-up.
        UserSignedUp => "user.signed_up",
        /// A sign-up on an app that requires a verified email named an
        /// address that has an account; nothing was created.
        SignUpAddressTaken => "sign_up.address_taken",
        /// A user was changed by an administrator or themselves (`data.fields`).
        UserUpdated => "user.updated",
        /// A user was disabled (their sessions are revoked in a separate step).
        UserDisabled => "user.disabled",
        /// A disabled user was enabled.
        UserEnabled => "user.enabled",
        /// A user was deleted.
        UserDeleted => "user.deleted",
        /// A sign-in succeeded (`data.method`).
        SignInSucceeded => "sign_in.succeeded",
        /// A sign-in failed (`data.method`, `data.reason`).
        SignInFailed => "sign_in.failed",
        /// A refresh token was exchanged.
        SessionRefreshed => "session.refreshed",
        /// A spent refresh token was presented again; the session was revoked.
        RefreshTokenReused => "session.refresh_token_reused",
        /// A session was revoked (`data.reason`).
        SessionRevoked => "session.revoked",
        /// All of a user's sessions were revoked (`data.count`).
        SessionsRevoked => "session.revoked_all",
        /// A password was changed.
        PasswordChanged => "password.changed",
        /// A password hash was replaced by one with today's parameters at sign-in.
        PasswordRehashed => "password.rehashed",
        /// The token signing key was rotated (`data.kid`, `data.alg`).
        SigningKeyRotated => "signing_key.rotated",
        /// An app was created, changed or deleted (`data.action`).
        AppChanged => "app.changed",
        /// A pool was created (`data.slug`).
        PoolCreated => "pool.created",
        /// An address was verified.
        EmailVerified => "email.verified",
        /// A password reset link was sent.
        PasswordResetRequested => "password.reset_requested",
        /// A password was reset through a link.
        PasswordReset => "password.reset",
        /// A sign-in code was sent.
        SignInCodeSent => "sign_in.code_sent",
        /// A magic link was sent.
        MagicLinkSent => "sign_in.magic_link_sent",
        /// An address change was requested.
        EmailChangeRequested => "email.change_requested",
        /// An address was changed.
        EmailChanged => "email.changed",
        /// An API key was created.
        ApiKeyCreated => "api_key.created",
        /// An API key was revoked.
        ApiKeyRevoked => "api_key.revoked",
        /// An app's OAuth provider was configured or removed (`data.provider`, `data.action`).
        OauthProviderChanged => "oauth.provider_changed",
        /// An OAuth sign-in was started (`data.provider`).
        OauthStarted => "oauth.started",
        /// An OAuth callback failed (`data.provider`, `data.reason`).
        OauthFailed => "oauth.failed",
        /// An external identity was linked (`data.provider`, `data.how`).
        IdentityLinked => "identity.linked",
        /// An external identity was unlinked (`data.provider`).
        IdentityUnlinked => "identity.unlinked",
        /// A passkey was registered.
        PasskeyRegistered => "passkey.registered",
        /// A passkey was renamed.
        PasskeyRenamed => "passkey.renamed",
        /// A passkey was deleted.
        PasskeyDeleted => "passkey.deleted",
        /// TOTP enrolment began (not active until confirmed).
        TotpEnrollmentStarted => "totp.enrollment_started",
        /// An unconfirmed TOTP enrolment was cancelled.
        TotpEnrollmentCancelled => "totp.enrollment_cancelled",
        /// TOTP was confirmed and is active.
        TotpEnabled => "totp.enabled",
        /// TOTP was disabled.
        TotpDisabled => "totp.disabled",
        /// New recovery codes were issued (the old ones stopped working).
        RecoveryCodesGenerated => "mfa.recovery_codes_generated",
        /// A recovery code was spent (`data.remaining`).
        RecoveryCodeUsed => "mfa.recovery_code_used",
        /// A sign-in stopped for a second factor (`data.methods`).
        MfaChallenged => "mfa.challenged",
        /// A second factor failed (`data.method`, `data.reason`).
        MfaFailed => "mfa.failed",
        /// A webhook endpoint was created, changed, deleted or had its secret
        /// rotated (`data.endpoint_id`, `data.action`).
        WebhookEndpointChanged => "webhook.endpoint_changed",
        /// Tessera disabled a webhook endpoint (`data.endpoint_id`, `data.reason`:
        /// `gone` after a 410, `failing` after 5 days of failures).
        WebhookEndpointDisabled => "webhook.endpoint_disabled",
        /// A test event was queued for an endpoint (`data.endpoint_id`, `data.event_id`).
        WebhookTested => "webhook.tested",
        /// A delivery was retried by hand (`data.endpoint_id`, `data.delivery_id`).
        WebhookDeliveryRetried => "webhook.delivery_retried",
    }
}

/// The audit log capability; see [`crate::Tessera::audit`].
pub struct Audit<'a> {
    inner: &'a Inner,
}

/// The subject of an event being recorded: what its audit entry names and
/// the objects its webhook payloads show.
#[derive(Default, Clone, Copy)]
pub(crate) struct Subject<'s> {
    pub(crate) app: Option<&'s App>,
    pub(crate) user: Option<&'s User>,
    pub(crate) user_id: Option<UserId>,
    pub(crate) session: Option<&'s Session>,
    pub(crate) client: Option<&'s ClientInfo>,
    /// A passkey (or other credential) the event is about.
    pub(crate) credential: Option<&'s Credential>,
    /// An external identity the event is about.
    pub(crate) identity: Option<&'s Identity>,
    /// An admin API key the event is about.
    pub(crate) api_key: Option<&'s ApiKey>,
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

    /// The event recording a change now, with the public events it emits,
    /// to hand to the store method that makes the change.
    pub(crate) fn event(&self, kind: EventKind, subject: Subject<'_>, data: Value) -> NewEvent {
        let audit = entry(kind, &subject, data, self.inner.now());
        let webhooks = crate::events::webhook_events(kind, &subject, &audit);
        NewEvent { audit, webhooks }
    }

    /// [`event`](Self::event) about `user` in `app` from `client`.
    pub(crate) fn user_event(
        &self,
        kind: EventKind,
        app: Option<&App>,
        user: &User,
        client: Option<&ClientInfo>,
        data: Value,
    ) -> NewEvent {
        let subject = Subject {
            app,
            user: Some(user),
            client,
            ..Default::default()
        };
        self.event(kind, subject, data)
    }

    /// Append an event that records no change (a failed sign-in, a code
    /// sent) now. Failures to write the log are returned, not hidden.
    pub(crate) async fn record(
        &self,
        kind: EventKind,
        subject: Subject<'_>,
        data: Value,
    ) -> Result<()> {
        debug_assert!(
            kind.webhook_types().is_empty(),
            "{kind} emits public events: record it with its change"
        );
        let event = entry(kind, &subject, data, self.inner.now());
        self.inner.store.audit().append_event(&event).await
    }

    /// Record an event about `user` in `app` from `client` (what most flows
    /// record).
    pub(crate) async fn record_user_event(
        &self,
        kind: EventKind,
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
}

/// The audit entry of an event of `kind` about `s` at `at`.
fn entry(kind: EventKind, s: &Subject<'_>, data: Value, at: DateTime<Utc>) -> AuditEvent {
    AuditEvent {
        id: new_id(at),
        kind: kind.as_str().to_owned(),
        pool_id: s
            .app
            .map(|a| a.pool_id)
            .or(s.user.map(|u| u.pool_id))
            .or(s.session.map(|x| x.pool_id))
            .or(s.identity.map(|i| i.pool_id)),
        app_id: s.app.map(|a| a.id).or(s.session.map(|x| x.app_id)),
        user_id: s
            .user
            .map(|u| u.id)
            .or(s.user_id)
            .or(s.session.map(|x| x.user_id))
            .or(s.credential.map(|c| c.user_id))
            .or(s.identity.map(|i| i.user_id)),
        session_id: s.session.map(|x| x.id),
        ip: s.client.and_then(ClientInfo::ip).map(|ip| ip.to_string()),
        user_agent: s.client.and_then(ClientInfo::user_agent).map(str::to_owned),
        data,
        at,
    }
}
