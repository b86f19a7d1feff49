//! The public event types of webhooks (`docs/events.md`) and how the audit
//! log's finer kinds map onto them.
//!
//! Why a second vocabulary: the audit log keeps whatever an operator may want
//! to look up (a failed sign-in, a refresh, a code sent), while integrators
//! subscribe to a small, stable set of changes (`user.created`,
//! `session.revoked`, …). Every audit kind maps to the public types it emits
//! in one exhaustive `match` ([`EventKind::webhook_types`]), so a new kind
//! cannot be added without deciding what it emits. Each public event is built
//! here with its payload (`data` = the object after the change, with its ids
//! and `app_id`, never a secret, a token or a hash) and handed to the store
//! with the change, which writes both in one atomic step.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::audit::{EventKind, Subject};
use crate::model::{
    ApiKey, AuditEvent, Credential, Identity, Session, User, WebhookEndpoint, WebhookEvent,
};
use crate::new_id;

crate::words::protocol_words! {
    /// The public event types, as webhook bodies name them (`"type"`).
    /// Stable: receivers subscribe to and switch on these strings. See
    /// `docs/events.md` for when each is sent and what its `data` holds.
    pub enum EventType("webhook event type") {
        /// An account was created (sign-up, or a first sign-in through a provider).
        UserCreated => "user.created",
        /// An account's profile changed (email, name, metadata, verified flag by an admin).
        UserUpdated => "user.updated",
        /// An account was deleted.
        UserDeleted => "user.deleted",
        /// An account was disabled (its sessions are revoked too).
        UserDisabled => "user.disabled",
        /// A disabled account was enabled again.
        UserEnabled => "user.enabled",
        /// An address was verified.
        EmailVerified => "email.verified",
        /// An address was changed (confirmed through the new address).
        EmailChanged => "email.changed",
        /// A user changed their password.
        PasswordChanged => "password.changed",
        /// A password was reset through an emailed link.
        PasswordReset => "password.reset",
        /// A session started (any sign-in method; `data.id` is the token's `sid`).
        SessionCreated => "session.created",
        /// A session was revoked (sign-out, revocation, refresh-token reuse, …).
        SessionRevoked => "session.revoked",
        /// A second factor (TOTP) was enabled.
        MfaEnabled => "mfa.enabled",
        /// A second factor (TOTP) was disabled.
        MfaDisabled => "mfa.disabled",
        /// A passkey was registered.
        PasskeyAdded => "passkey.added",
        /// A passkey was deleted.
        PasskeyRemoved => "passkey.removed",
        /// An external identity was linked.
        IdentityLinked => "identity.linked",
        /// An external identity was unlinked.
        IdentityUnlinked => "identity.unlinked",
        /// Organizations (not emitted yet).
        OrganizationCreated => "organization.created",
        /// Organizations (not emitted yet).
        OrganizationUpdated => "organization.updated",
        /// Organizations (not emitted yet).
        OrganizationDeleted => "organization.deleted",
        /// Organization membership (not emitted yet).
        MemberAdded => "member.added",
        /// Organization membership (not emitted yet).
        MemberUpdated => "member.updated",
        /// Organization membership (not emitted yet).
        MemberRemoved => "member.removed",
        /// Organization invitations (not emitted yet).
        InvitationCreated => "invitation.created",
        /// Organization invitations (not emitted yet).
        InvitationAccepted => "invitation.accepted",
        /// Organization invitations (not emitted yet).
        InvitationRevoked => "invitation.revoked",
        /// Roles (not emitted yet).
        RoleUpdated => "role.updated",
        /// Roles (not emitted yet).
        RoleDeleted => "role.deleted",
        /// Roles (not emitted yet).
        UserRolesChanged => "user.roles_changed",
        /// Impersonation (not emitted yet).
        UserImpersonated => "user.impersonated",
        /// An admin API key was created.
        ApiKeyCreated => "api_key.created",
        /// An admin API key was revoked.
        ApiKeyRevoked => "api_key.revoked",
        /// A test event, sent on request to one endpoint whatever its filter.
        WebhookTest => "webhook.test",
    }
}

/// The version of the event catalogue (`docs/events.md`): bumped when a type
/// is added or a payload gains a field; nothing is ever renamed or removed.
pub const CATALOGUE_VERSION: u32 = 1;

impl EventType {
    /// Whether Tessera sends this type yet (types of capabilities that do not
    /// exist yet — organizations, roles, impersonation — are reserved).
    pub fn is_emitted(self) -> bool {
        !matches!(
            self,
            EventType::OrganizationCreated
                | EventType::OrganizationUpdated
                | EventType::OrganizationDeleted
                | EventType::MemberAdded
                | EventType::MemberUpdated
                | EventType::MemberRemoved
                | EventType::InvitationCreated
                | EventType::InvitationAccepted
                | EventType::InvitationRevoked
                | EventType::RoleUpdated
                | EventType::RoleDeleted
                | EventType::UserRolesChanged
                | EventType::UserImpersonated
        )
    }
}

impl EventKind {
    /// The public event types an audit event of this kind emits: the one
    /// place that decides (exhaustive, so a new kind must answer).
    pub fn webhook_types(self) -> &'static [EventType] {
        use EventKind as K;
        use EventType as T;
        match self {
            K::UserSignedUp => &[T::UserCreated],
            K::UserUpdated => &[T::UserUpdated],
            K::UserDisabled => &[T::UserDisabled],
            K::UserEnabled => &[T::UserEnabled],
            K::UserDeleted => &[T::UserDeleted],
            K::SignInSucceeded => &[T::SessionCreated],
            K::SessionRevoked => &[T::SessionRevoked],
            K::PasswordChanged => &[T::PasswordChanged],
            K::PasswordReset => &[T::PasswordReset],
            K::EmailVerified => &[T::EmailVerified],
            K::EmailChanged => &[T::EmailChanged],
            K::ApiKeyCreated => &[T::ApiKeyCreated],
            K::ApiKeyRevoked => &[T::ApiKeyRevoked],
            K::IdentityLinked => &[T::IdentityLinked],
            K::IdentityUnlinked => &[T::IdentityUnlinked],
            K::PasskeyRegistered => &[T::PasskeyAdded],
            K::PasskeyDeleted => &[T::PasskeyRemoved],
            K::TotpEnabled => &[T::MfaEnabled],
            K::TotpDisabled => &[T::MfaDisabled],
            K::SignInFailed
            | K::SignUpAddressTaken
            | K::SessionRefreshed
            | K::RefreshTokenReused
            | K::SessionsRevoked
            | K::PasswordRehashed
            | K::SigningKeyRotated
            | K::AppChanged
            | K::PoolCreated
            | K::PasswordResetRequested
            | K::SignInCodeSent
            | K::MagicLinkSent
            | K::EmailChangeRequested
            | K::OauthProviderChanged
            | K::OauthStarted
            | K::OauthFailed
            | K::PasskeyRenamed
            | K::TotpEnrollmentStarted
            | K::TotpEnrollmentCancelled
            | K::RecoveryCodesGenerated
            | K::RecoveryCodeUsed
            | K::MfaChallenged
            | K::MfaFailed
            | K::WebhookEndpointChanged
            | K::WebhookEndpointDisabled
            | K::WebhookTested
            | K::WebhookDeliveryRetried => &[],
        }
    }
}

/// The webhook body: `{"type", "timestamp", "data"}`.
fn body(kind: EventType, at: DateTime<Utc>, data: Value) -> String {
    json!({
        "type": kind.as_str(),
        "timestamp": at.to_rfc3339_opts(SecondsFormat::Millis, true),
        "data": data,
    })
    .to_string()
}

/// `value`'s fields, with `app_id` (and `pool_id`) added when known.
fn with_scope(mut value: Value, app_id: Option<Uuid>, pool_id: Option<Uuid>) -> Value {
    if let Value::Object(map) = &mut value {
        map.entry("app_id").or_insert(json!(app_id));
        map.entry("pool_id").or_insert(json!(pool_id));
    }
    value
}

fn user_data(user: &User) -> Value {
    serde_json::to_value(user).unwrap_or_else(|_| json!({ "id": user.id }))
}

fn session_data(session: &Session) -> Value {
    // The token hash is never serialised (`#[serde(skip)]`).
    serde_json::to_value(session).unwrap_or_else(|_| json!({ "id": session.id }))
}

fn passkey_data(c: &Credential) -> Value {
    json!({
        "id": c.id,
        "user_id": c.user_id,
        "name": c.name,
        "created_at": c.created_at,
        "last_used_at": c.last_used_at,
    })
}

fn identity_data(i: &Identity) -> Value {
    // Not the raw profile: it is the provider's, and may carry more than
    // an integrator needs.
    json!({
        "id": i.id,
        "user_id": i.user_id,
        "pool_id": i.pool_id,
        "provider": i.provider,
        "subject": i.subject,
        "email": i.email,
        "email_verified": i.email_verified,
        "created_at": i.created_at,
    })
}

fn api_key_data(k: &ApiKey) -> Value {
    // Not the hint: it is the beginning of the secret.
    json!({
        "id": k.id,
        "name": k.name,
        "scopes": k.scopes,
        "created_at": k.created_at,
        "expires_at": k.expires_at,
        "revoked_at": k.revoked_at,
    })
}

/// The ids an event names, when the object itself is not at hand.
fn ids(audit: &AuditEvent) -> Value {
    let mut map = Map::new();
    if let Some(u) = audit.user_id {
        map.insert("user_id".into(), json!(u));
    }
    if let Some(s) = audit.session_id {
        map.insert("session_id".into(), json!(s));
    }
    Value::Object(map)
}

/// The `data` of a public event of type `kind` about `s`.
fn data(kind: EventType, s: &Subject<'_>, audit: &AuditEvent) -> Value {
    use EventType as T;
    let object = match kind {
        T::UserCreated
        | T::UserUpdated
        | T::UserDeleted
        | T::UserDisabled
        | T::UserEnabled
        | T::EmailVerified
        | T::EmailChanged
        | T::PasswordChanged
        | T::PasswordReset => s.user.map(user_data),
        T::SessionCreated | T::SessionRevoked => s.session.map(session_data),
        T::MfaEnabled | T::MfaDisabled => Some(json!({
            "user_id": audit.user_id,
            "method": "totp",
        })),
        T::PasskeyAdded | T::PasskeyRemoved => s.credential.map(passkey_data),
        T::IdentityLinked | T::IdentityUnlinked => s.identity.map(identity_data),
        T::ApiKeyCreated | T::ApiKeyRevoked => s.api_key.map(api_key_data),
        T::OrganizationCreated
        | T::OrganizationUpdated
        | T::OrganizationDeleted
        | T::MemberAdded
        | T::MemberUpdated
        | T::MemberRemoved
        | T::InvitationCreated
        | T::InvitationAccepted
        | T::InvitationRevoked
        | T::RoleUpdated
        | T::RoleDeleted
        | T::UserRolesChanged
        | T::UserImpersonated
        | T::WebhookTest => None,
    };
    let object = object.unwrap_or_else(|| ids(audit));
    if matches!(kind, T::ApiKeyCreated | T::ApiKeyRevoked) {
        // Install-wide: no app, no pool.
        return object;
    }
    with_scope(object, audit.app_id, audit.pool_id)
}

/// The public events an audit event of `kind` about `s` emits.
pub(crate) fn webhook_events(
    kind: EventKind,
    s: &Subject<'_>,
    audit: &AuditEvent,
) -> Vec<WebhookEvent> {
    kind.webhook_types()
        .iter()
        .map(|&ty| WebhookEvent {
            id: new_id(audit.at),
            kind: ty.as_str().to_owned(),
            pool_id: audit.pool_id,
            app_id: audit.app_id,
            payload: body(ty, audit.at, data(ty, s, audit)),
            at: audit.at,
        })
        .collect()
}

/// A `webhook.test` event for `endpoint`.
pub(crate) fn test_event(endpoint: &WebhookEndpoint, at: DateTime<Utc>) -> WebhookEvent {
    let data = json!({
        "endpoint_id": endpoint.id,
        "app_id": endpoint.app_id,
        "message": "This is a test event from Tessera.",
    });
    WebhookEvent {
        id: new_id(at),
        kind: EventType::WebhookTest.as_str().to_owned(),
        pool_id: endpoint.pool_id,
        app_id: endpoint.app_id,
        payload: body(EventType::WebhookTest, at, data),
        at,
    }
}

/// Check an endpoint's event filters: each is `*`, a type of the catalogue
/// (one emitted or reserved), or `prefix.*` for a prefix of one. Answers
/// them trimmed; an empty list means `*`.
pub(crate) fn check_filters(filters: &[String]) -> crate::Result<Vec<String>> {
    if filters.len() > 64 {
        return Err(crate::Error::invalid("events", "at most 64 event filters"));
    }
    let mut out: Vec<String> = Vec::with_capacity(filters.len());
    for f in filters {
        let f = f.trim();
        let known = f == "*"
            || EventType::parse(f).is_some()
            || f.strip_suffix(".*").is_some_and(|prefix| {
                EventType::ALL
                    .iter()
                    .any(|t| t.as_str().split_once('.').is_some_and(|(p, _)| p == prefix))
            });
        if !known {
            return Err(crate::Error::invalid(
                "events",
                format!(
                    "{f:?} is not an event type, a prefix such as user.* or *; see docs/events.md"
                ),
            ));
        }
        if !out.iter().any(|o| o == f) {
            out.push(f.to_owned());
        }
    }
    if out.is_empty() {
        out.push("*".to_owned());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_emitting_kind_maps_to_emitted_types_and_types_are_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for t in EventType::ALL {
            assert!(seen.insert(t.as_str()), "{t} twice");
            let (prefix, rest) = t.as_str().split_once('.').expect("prefix.name");
            assert!(!prefix.is_empty() && !rest.is_empty());
        }
        for kind in EventKind::ALL {
            for t in kind.webhook_types() {
                assert!(t.is_emitted(), "{kind} emits reserved {t}");
            }
        }
        // Every emitted type but the test event has a kind emitting it.
        for t in EventType::ALL.iter().filter(|t| t.is_emitted()) {
            let emitted = EventKind::ALL.iter().any(|k| k.webhook_types().contains(t));
            assert!(emitted || *t == EventType::WebhookTest, "{t} has no source");
        }
    }

    /// `docs/events.md` names every type, and says which are not emitted yet.
    #[test]
    fn the_catalogue_documents_every_type() {
        let doc = include_str!("../../docs/events.md");
        assert!(doc.contains(&format!("catalogue version {CATALOGUE_VERSION}")));
        let (emitted, reserved) = doc
            .split_once("**not emitted yet**")
            .expect("a reserved section");
        for t in EventType::ALL {
            let named = format!("`{t}`");
            let section = if t.is_emitted() { emitted } else { reserved };
            assert!(section.contains(&named), "{t} missing from docs/events.md");
        }
    }

    #[test]
    fn filters_are_checked_against_the_catalogue() {
        let f = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(check_filters(&[]).unwrap(), ["*"]);
        assert_eq!(
            check_filters(&f(&[" user.* ", "session.created", "user.*"])).unwrap(),
            ["user.*", "session.created"]
        );
        assert!(check_filters(&f(&["organization.*"])).is_ok());
        for bad in ["users.*", "user.nope", "", "user", "*.*"] {
            assert_eq!(
                check_filters(&f(&[bad])).unwrap_err().code(),
                "invalid_input",
                "{bad}"
            );
        }
    }
}
