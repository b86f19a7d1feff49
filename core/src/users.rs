//! Users: look up, list, update, disable and delete accounts.
//!
//! Updates are patches applied atomically by the store, so two writers
//! changing different fields never undo each other. Disabling a user revokes
//! all their sessions in the same call.

use serde_json::json;

use crate::audit::{EventKind, Subject};
use crate::model::{
    App, NewEvent, PoolId, SignInMethod, SignInMethodRef, User, UserId, UserPatch, UserQuery,
};
use crate::validate::{check_metadata, normalize_email, normalize_name};
use crate::{Audit, Error, ErrorKind, Inner, Result};

/// Users; see [`crate::Tessera::users`].
pub struct Users<'a> {
    inner: &'a Inner,
}

impl<'a> Users<'a> {
    pub(crate) fn new(inner: &'a Inner) -> Self {
        Users { inner }
    }

    /// A user by id (`not_found` if missing).
    pub async fn get(&self, id: UserId) -> Result<User> {
        self.inner.store.users().get_user(id).await
    }

    /// A user of `pool` by email (normalised first); `None` if there is none or
    /// the address is malformed.
    pub async fn find_by_email(&self, pool: PoolId, email: &str) -> Result<Option<User>> {
        let Ok(email) = normalize_email(email) else {
            return Ok(None);
        };
        self.inner
            .store
            .users()
            .find_user_by_email(pool, &email)
            .await
    }

    /// Users of `pool` ordered by id; pass the last id of a page as
    /// `query.after` for the next. `limit` 0 means 100; at most 1000.
    pub async fn list(&self, pool: PoolId, query: &UserQuery) -> Result<Vec<User>> {
        let mut q = query.clone();
        q.limit = if q.limit == 0 { 100 } else { q.limit.min(1000) };
        q.email_contains = q
            .email_contains
            .map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty());
        if q.email_contains
            .as_ref()
            .is_some_and(|s| s.len() > crate::model::MAX_EMAIL_LEN)
        {
            return Ok(Vec::new());
        }
        self.inner.store.users().list_users(pool, &q).await
    }

    /// Apply a validated patch. Disabling revokes the user's sessions; changing
    /// the email through this admin path sets `email_verified` to the patch's
    /// value, or `false` when the patch does not say.
    pub async fn update(&self, id: UserId, patch: &UserPatch) -> Result<User> {
        let mut patch = patch.clone();
        if let Some(email) = &patch.email {
            patch.email = Some(normalize_email(email)?);
            patch.email_verified.get_or_insert(false);
        }
        if let Some(name) = &patch.name {
            patch.name = Some(normalize_name(name.as_deref())?);
        }
        if let Some(metadata) = &patch.metadata {
            check_metadata(metadata)?;
        }
        let now = self.inner.now();
        // The profile fields changed; disabling and enabling are events of
        // their own (`user.disabled`, `user.enabled`).
        let fields: Vec<&str> = [
            ("email", patch.email.is_some()),
            ("email_verified", patch.email_verified.is_some()),
            ("name", patch.name.is_some()),
            ("metadata", patch.metadata.is_some()),
        ]
        .into_iter()
        .filter_map(|(f, set)| set.then_some(f))
        .collect();
        let audit = Audit::new(self.inner);
        let events = |user: &User| {
            let subject = Subject {
                user: Some(user),
                ..Default::default()
            };
            let mut events: Vec<NewEvent> = Vec::new();
            if !fields.is_empty() || patch.disabled.is_none() {
                events.push(audit.event(
                    EventKind::UserUpdated,
                    subject,
                    json!({ "fields": fields, "disabled": user.disabled }),
                ));
            }
            match patch.disabled {
                Some(true) => events.push(audit.event(EventKind::UserDisabled, subject, json!({}))),
                Some(false) => events.push(audit.event(EventKind::UserEnabled, subject, json!({}))),
                None => {}
            }
            events
        };
        let user = self
            .inner
            .store
            .users()
            .update_user(id, &patch, now, &events)
            .await?;
        if patch.disabled == Some(true) {
            crate::sessions::revoke_user_sessions(self.inner, id, None, "user_disabled").await?;
        }
        Ok(user)
    }

    /// Delete a user and everything keyed to them (sessions, credentials,
    /// identities, pending tokens); the email is free again. Audit events stay.
    pub async fn delete(&self, id: UserId) -> Result<()> {
        let user = self.get(id).await?;
        let event =
            Audit::new(self.inner).user_event(EventKind::UserDeleted, None, &user, None, json!({}));
        self.inner.store.users().delete_user(id, &[event]).await
    }
}

/// Delete one of `user`'s ways to sign in (a passkey or a linked identity),
/// refusing with `last_sign_in_method` when it is the last one: no password,
/// passkey or identity would be left and — when `app` is known — the app does
/// not let the user sign in by email code or magic link with a verified
/// address. The check, the deletion and `event` are one atomic store step.
/// `not_found` when the user has no such credential or identity.
pub(crate) async fn delete_sign_in_method(
    inner: &Inner,
    app: Option<&App>,
    user: &User,
    target: SignInMethodRef,
    event: NewEvent,
) -> Result<()> {
    let by_email = app.is_some_and(|app| {
        user.email_verified
            && (app.settings.allows(SignInMethod::EmailCode)
                || app.settings.allows(SignInMethod::MagicLink))
    });
    if inner
        .store
        .users()
        .delete_sign_in_method(user.id, target, !by_email, &[event])
        .await?
    {
        Ok(())
    } else {
        Err(Error::new(ErrorKind::NotFound))
    }
}
