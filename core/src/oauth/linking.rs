//! Who an external identity is in Tessera: the linked user, an existing
//! account it may join, or a new account; explicit linking by a signed-in
//! user; and unlinking that never strands an account.
//!
//! The rule that matters (account takeover otherwise): an identity joins an
//! existing account by email only when the provider asserts the email is
//! verified, the app allows linking by email, *and* the account's own email is
//! verified. Anything less answers `account_link_required`: the person signs
//! in to the account some other way and links the provider there.

use serde_json::json;

use super::flow::Failure;
use super::profile::ExternalProfile;
use crate::audit::{EventKind, Subject};
use crate::model::{App, ClientInfo, FirstSignIn, Identity, NewEvent, User, UserId};
use crate::validate::{normalize_email, normalize_name};
use crate::{Audit, Error, ErrorKind, Inner, new_id};

type Step<T> = std::result::Result<T, Failure>;

fn storage(e: Error) -> Failure {
    Failure::new("storage", e)
}

/// The provider's email, normalised, if it is a usable address.
fn email_of(profile: &ExternalProfile) -> Option<String> {
    profile
        .email
        .as_deref()
        .and_then(|e| normalize_email(e).ok())
}

fn new_identity(
    app: &App,
    user_id: UserId,
    provider: &str,
    p: &ExternalProfile,
    inner: &Inner,
) -> Identity {
    let now = inner.now();
    Identity {
        id: new_id(now),
        pool_id: app.pool_id,
        user_id,
        provider: provider.to_owned(),
        subject: p.subject.clone(),
        email: email_of(p),
        email_verified: p.email_verified,
        profile: p.raw.clone(),
        created_at: now,
        last_used_at: Some(now),
    }
}

/// The event of linking `identity` to `user` (`how`: `email`, `sign_up`, `explicit`).
fn linked(
    inner: &Inner,
    app: &App,
    user: &User,
    identity: &Identity,
    how: &str,
    client: &ClientInfo,
) -> NewEvent {
    Audit::new(inner).event(
        EventKind::IdentityLinked,
        Subject {
            app: Some(app),
            user: Some(user),
            client: Some(client),
            identity: Some(identity),
            ..Default::default()
        },
        json!({ "provider": identity.provider, "identity_id": identity.id, "how": how }),
    )
}

/// The user an external identity signs in as: the linked one, an existing
/// account joined by verified email, or a new account. `apple_name` is the
/// name Apple sends on the first sign-in only.
pub(crate) async fn resolve_user(
    inner: &Inner,
    app: &App,
    provider: &str,
    profile: &ExternalProfile,
    first_name: Option<String>,
    client: &ClientInfo,
) -> Step<User> {
    let store = &inner.store;
    // Two rounds at most: a concurrent first sign-in of the same identity
    // (or the same email) can win the insert, and then we find its result.
    for _ in 0..2 {
        if let Some(identity) = store
            .identities()
            .find_identity(app.pool_id, provider, &profile.subject)
            .await
            .map_err(storage)?
        {
            let user = store
                .users()
                .get_user(identity.user_id)
                .await
                .map_err(storage)?;
            store
                .identities()
                .touch_identity(identity.id, &profile.raw, inner.now())
                .await
                .map_err(storage)?;
            return Ok(user);
        }
        let Some(email) = email_of(profile) else {
            return Err(Failure::new(
                "no_email",
                Error::with_message(
                    ErrorKind::ProviderError,
                    "The provider did not share an email address, which this app needs.",
                ),
            ));
        };
        if let Some(user) = store
            .users()
            .find_user_by_email(app.pool_id, &email)
            .await
            .map_err(storage)?
        {
            let may_link = profile.email_verified
                && app.settings.link_accounts_by_email
                && user.email_verified;
            if !may_link {
                let reason = if !profile.email_verified {
                    "provider_email_not_verified"
                } else if !app.settings.link_accounts_by_email {
                    "linking_by_email_disabled"
                } else {
                    "account_email_not_verified"
                };
                return Err(Failure::new(
                    reason,
                    Error::new(ErrorKind::AccountLinkRequired),
                ));
            }
            let identity = new_identity(app, user.id, provider, profile, inner);
            let event = linked(inner, app, &user, &identity, "email", client);
            match store
                .identities()
                .insert_identity(&identity, &[event])
                .await
            {
                Ok(()) => return Ok(user),
                Err(e) if *e.kind() == ErrorKind::IdentityTaken => continue,
                Err(e) => return Err(storage(e)),
            }
        }
        // A new account; the email is as verified as the provider says.
        let now = inner.now();
        let name = normalize_name(first_name.as_deref().or(profile.name.as_deref()))
            .ok()
            .flatten();
        let user = User {
            id: new_id(now),
            pool_id: app.pool_id,
            email,
            email_verified: profile.email_verified,
            name,
            metadata: json!({}),
            disabled: false,
            created_at: now,
            updated_at: now,
        };
        let identity = new_identity(app, user.id, provider, profile, inner);
        let events = [
            Audit::new(inner).user_event(
                EventKind::UserSignedUp,
                Some(app),
                &user,
                Some(client),
                json!({ "method": "oauth", "provider": provider }),
            ),
            linked(inner, app, &user, &identity, "sign_up", client),
        ];
        // The account and its identity are one step: a concurrent callback
        // that linked this identity (or took the email) first leaves nothing
        // of ours behind, and we sign in to theirs.
        match store
            .users()
            .create_user(&user, Some(FirstSignIn::Identity(&identity)), &events)
            .await
        {
            Ok(()) => return Ok(user),
            Err(e) if matches!(e.kind(), ErrorKind::EmailTaken | ErrorKind::IdentityTaken) => {
                continue;
            }
            Err(e) => return Err(storage(e)),
        }
    }
    Err(storage(Error::with_message(
        ErrorKind::Conflict,
        "Concurrent sign-ins for this account; try again.",
    )))
}

/// Link an external identity to the signed-in `user_id` (explicit linking).
/// `identity_taken` when it is linked to someone else already.
pub(crate) async fn link_to_user(
    inner: &Inner,
    app: &App,
    provider: &str,
    profile: &ExternalProfile,
    user_id: UserId,
    client: &ClientInfo,
) -> Step<Identity> {
    let store = &inner.store;
    let user = store.users().get_user(user_id).await.map_err(|e| {
        if *e.kind() == ErrorKind::NotFound {
            Failure::new("user_missing", Error::new(ErrorKind::Unauthenticated))
        } else {
            storage(e)
        }
    })?;
    if user.pool_id != app.pool_id {
        return Err(Failure::new("wrong_pool", Error::new(ErrorKind::Forbidden)));
    }
    if let Some(existing) = store
        .identities()
        .find_identity(app.pool_id, provider, &profile.subject)
        .await
        .map_err(storage)?
    {
        if existing.user_id == user.id {
            store
                .identities()
                .touch_identity(existing.id, &profile.raw, inner.now())
                .await
                .map_err(storage)?;
            return Ok(existing);
        }
        return Err(Failure::new(
            "identity_taken",
            Error::new(ErrorKind::IdentityTaken),
        ));
    }
    let identity = new_identity(app, user.id, provider, profile, inner);
    let event = linked(inner, app, &user, &identity, "explicit", client);
    match store
        .identities()
        .insert_identity(&identity, &[event])
        .await
    {
        Ok(()) => {}
        Err(e) if *e.kind() == ErrorKind::IdentityTaken => {
            return Err(Failure::new("identity_taken", e));
        }
        Err(e) => return Err(storage(e)),
    }
    Ok(identity)
}
