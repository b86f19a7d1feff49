//! Users: round-trips, uniqueness per pool, patches, paging, deletion.

use std::sync::Arc;

use serde_json::json;

use super::super::fixtures::*;
use crate::ErrorKind;
use crate::crypto::TokenHash;
use crate::model::{CredentialKind, FirstSignIn, RotationOutcome, User, UserPatch, UserQuery};
use crate::new_id;
use crate::store::Store;

/// Read `user` back through every lookup path and check each answer equals it.
async fn assert_user_everywhere(store: &dyn Store, user: &User) {
    let users = store.users();
    assert_eq!(&users.get_user(user.id).await.unwrap(), user, "get_user");
    assert_eq!(
        users
            .find_user_by_email(user.pool_id, &user.email)
            .await
            .unwrap()
            .as_ref(),
        Some(user),
        "find_user_by_email"
    );
    let (found, _) = users
        .find_user_with_password(user.pool_id, &user.email)
        .await
        .unwrap()
        .expect("find_user_with_password");
    assert_eq!(&found, user, "find_user_with_password");
    let listed = users
        .list_users(
            user.pool_id,
            &UserQuery {
                limit: 1000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        listed.iter().find(|u| u.id == user.id),
        Some(user),
        "list_users"
    );
}

/// Users with maximal adversarial fields (254-byte email, 200-character name,
/// 16 KiB metadata, extreme timestamps) and their password credential read
/// back exactly, through every lookup.
pub async fn user_fields_round_trip_exactly(store: Arc<dyn Store>) {
    let (p, _) = insert_pool_and_app(store.as_ref(), "main").await;
    let mut u = user(&p, &max_email("a"));
    u.name = Some(max_name());
    u.metadata = max_metadata();
    u.email_verified = true;
    u.disabled = true;
    u.created_at = earliest();
    u.updated_at = latest();
    let mut pw = credential(&u, CredentialKind::Password, ADVERSARIAL[3]);
    pw.data = json!({ "params": ADVERSARIAL[9], "v": 19 });
    pw.created_at = earliest();
    pw.last_used_at = Some(latest());
    store
        .users()
        .create_user(&u, Some(FirstSignIn::Password(&pw)), &[])
        .await
        .unwrap();
    assert_user_everywhere(store.as_ref(), &u).await;
    let (_, found_pw) = store
        .users()
        .find_user_with_password(p.id, &u.email)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found_pw, Some(pw.clone()));
    assert_eq!(
        store
            .credentials()
            .list_credentials(u.id, None)
            .await
            .unwrap(),
        vec![pw]
    );

    // Each adversarial string as a name (where names allow it) and as
    // metadata, one user per string.
    for (i, s) in ADVERSARIAL.iter().enumerate() {
        let mut v = user(&p, &format!("user{i}@example.com"));
        if !s.chars().any(char::is_control) {
            v.name = Some((*s).to_owned());
        }
        v.metadata = json!({ *s: s, "i": i });
        v.updated_at = v.created_at + chrono::Duration::microseconds(123_457);
        store.users().create_user(&v, None, &[]).await.unwrap();
        assert_user_everywhere(store.as_ref(), &v).await;
        let (_, none) = store
            .users()
            .find_user_with_password(p.id, &v.email)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(none, None, "a user without a password has no credential");
    }
}

/// The same email may exist once per pool: a second user with it in the same
/// pool is `EmailTaken`, in another pool it is a different user.
pub async fn email_is_unique_per_pool(store: Arc<dyn Store>) {
    let (a, _) = insert_pool_and_app(store.as_ref(), "a").await;
    let (b, _) = insert_pool_and_app(store.as_ref(), "b").await;
    let first = insert_user(store.as_ref(), &a, "ada@example.com").await;
    let clash = user(&a, "ada@example.com");
    assert_err(
        store.users().create_user(&clash, None, &[]).await,
        ErrorKind::EmailTaken,
    );
    assert_err(store.users().get_user(clash.id).await, ErrorKind::NotFound);
    let other = insert_user(store.as_ref(), &b, "ada@example.com").await;
    assert_ne!(first.id, other.id);
    assert_user_everywhere(store.as_ref(), &first).await;
    assert_user_everywhere(store.as_ref(), &other).await;
}

/// Pools are isolated: lookups and lists in one pool never return another
/// pool's users, even with the same email.
pub async fn pools_are_isolated(store: Arc<dyn Store>) {
    let (a, _) = insert_pool_and_app(store.as_ref(), "a").await;
    let (b, _) = insert_pool_and_app(store.as_ref(), "b").await;
    let ua = insert_user(store.as_ref(), &a, "same@example.com").await;
    let ub = insert_user(store.as_ref(), &b, "same@example.com").await;
    let only_b = insert_user(store.as_ref(), &b, "only-b@example.com").await;
    let users = store.users();
    assert_eq!(
        users
            .find_user_by_email(a.id, "same@example.com")
            .await
            .unwrap(),
        Some(ua.clone())
    );
    assert_eq!(
        users
            .find_user_by_email(b.id, "same@example.com")
            .await
            .unwrap(),
        Some(ub.clone())
    );
    assert_eq!(
        users
            .find_user_by_email(a.id, "only-b@example.com")
            .await
            .unwrap(),
        None
    );
    assert!(
        users
            .find_user_with_password(a.id, "only-b@example.com")
            .await
            .unwrap()
            .is_none()
    );
    let q = UserQuery {
        limit: 100,
        ..Default::default()
    };
    assert_eq!(users.list_users(a.id, &q).await.unwrap(), vec![ua]);
    let mut expected = vec![ub, only_b];
    expected.sort_by_key(|u| u.id);
    assert_eq!(users.list_users(b.id, &q).await.unwrap(), expected);
    let unknown_pool = new_id(stamp());
    assert!(users.list_users(unknown_pool, &q).await.unwrap().is_empty());
}

/// Creating a user in a pool that does not exist is `NotFound` and writes nothing.
pub async fn create_user_in_missing_pool_is_not_found(store: Arc<dyn Store>) {
    let ghost = pool("ghost");
    let u = user(&ghost, "ada@example.com");
    let pw = credential(&u, CredentialKind::Password, "$argon2id$x");
    assert_err(
        store
            .users()
            .create_user(&u, Some(FirstSignIn::Password(&pw)), &[])
            .await,
        ErrorKind::NotFound,
    );
    assert_err(store.users().get_user(u.id).await, ErrorKind::NotFound);
    assert!(
        store
            .credentials()
            .list_credentials(u.id, None)
            .await
            .unwrap()
            .is_empty()
    );
}

/// A sign-up with a taken email is `EmailTaken` and leaves no trace: no user
/// and no credential under the new id, and the first user's password intact.
pub async fn create_user_with_taken_email_writes_nothing(store: Arc<dyn Store>) {
    let (p, _) = insert_pool_and_app(store.as_ref(), "main").await;
    let first = user(&p, "ada@example.com");
    let first_pw = credential(&first, CredentialKind::Password, "$argon2id$first");
    store
        .users()
        .create_user(&first, Some(FirstSignIn::Password(&first_pw)), &[])
        .await
        .unwrap();
    let second = user(&p, "ada@example.com");
    let second_pw = credential(&second, CredentialKind::Password, "$argon2id$second");
    assert_err(
        store
            .users()
            .create_user(&second, Some(FirstSignIn::Password(&second_pw)), &[])
            .await,
        ErrorKind::EmailTaken,
    );
    assert_err(store.users().get_user(second.id).await, ErrorKind::NotFound);
    assert!(
        store
            .credentials()
            .list_credentials(second.id, None)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .users()
            .find_user_with_password(p.id, "ada@example.com")
            .await
            .unwrap(),
        Some((first.clone(), Some(first_pw.clone())))
    );
    assert_eq!(
        store
            .credentials()
            .list_credentials(first.id, None)
            .await
            .unwrap(),
        vec![first_pw]
    );
}

/// `update_user` applies each patch field (and `updated_at`), returns the new
/// user, and every lookup sees it at once; `Some(None)` clears the name; the
/// old email no longer finds the user.
pub async fn update_user_applies_patch(store: Arc<dyn Store>) {
    let (p, _) = insert_pool_and_app(store.as_ref(), "main").await;
    let mut u = insert_user(store.as_ref(), &p, "ada@example.com").await;
    let users = store.users();

    let patch = UserPatch {
        email: Some(max_email("x")),
        email_verified: Some(true),
        name: Some(Some(max_name())),
        metadata: Some(max_metadata()),
        disabled: Some(true),
    };
    let now = at(10) + chrono::Duration::microseconds(999_999);
    let updated = users
        .update_user(u.id, &patch, now, &|_| Vec::new())
        .await
        .unwrap();
    patch.apply(&mut u, now);
    assert_eq!(updated, u);
    assert_user_everywhere(store.as_ref(), &u).await;
    assert_eq!(
        users
            .find_user_by_email(p.id, "ada@example.com")
            .await
            .unwrap(),
        None
    );
    assert!(
        users
            .find_user_with_password(p.id, "ada@example.com")
            .await
            .unwrap()
            .is_none()
    );

    // Clearing the name and touching one field leaves the others alone.
    let patch = UserPatch {
        name: Some(None),
        disabled: Some(false),
        ..Default::default()
    };
    let now = latest();
    let updated = users
        .update_user(u.id, &patch, now, &|_| Vec::new())
        .await
        .unwrap();
    patch.apply(&mut u, now);
    assert_eq!(updated, u);
    assert_eq!(updated.name, None);
    assert!(updated.email_verified);
    assert_user_everywhere(store.as_ref(), &u).await;

    assert_err(
        users
            .update_user(new_id(stamp()), &UserPatch::default(), at(20), &|_| {
                Vec::new()
            })
            .await,
        ErrorKind::NotFound,
    );
}

/// Changing a user's email to one taken in the pool is `EmailTaken` and the
/// user is left exactly as it was (no field of the patch applied); an email
/// taken only in another pool is fine.
pub async fn update_user_to_taken_email_changes_nothing(store: Arc<dyn Store>) {
    let (p, _) = insert_pool_and_app(store.as_ref(), "main").await;
    let (q, _) = insert_pool_and_app(store.as_ref(), "other").await;
    let ada = insert_user(store.as_ref(), &p, "ada@example.com").await;
    let bob = insert_user(store.as_ref(), &p, "bob@example.com").await;
    insert_user(store.as_ref(), &q, "carol@example.com").await;
    let patch = UserPatch {
        email: Some("ada@example.com".into()),
        name: Some(Some("Bob".into())),
        disabled: Some(true),
        ..Default::default()
    };
    assert_err(
        store
            .users()
            .update_user(bob.id, &patch, at(5), &|_| Vec::new())
            .await,
        ErrorKind::EmailTaken,
    );
    assert_user_everywhere(store.as_ref(), &bob).await;
    assert_user_everywhere(store.as_ref(), &ada).await;

    let patch = UserPatch {
        email: Some("carol@example.com".into()),
        ..Default::default()
    };
    let moved = store
        .users()
        .update_user(bob.id, &patch, at(6), &|_| Vec::new())
        .await
        .unwrap();
    assert_eq!(moved.email, "carol@example.com");
    assert_user_everywhere(store.as_ref(), &moved).await;
    // Bob's old address is free for someone else now.
    insert_user(store.as_ref(), &p, "bob@example.com").await;

    // Setting a user's email to their own address is no conflict.
    let same = UserPatch {
        email: Some("ada@example.com".into()),
        email_verified: Some(true),
        ..Default::default()
    };
    let again = store
        .users()
        .update_user(ada.id, &same, at(7), &|_| Vec::new())
        .await
        .unwrap();
    assert_eq!(again.email, "ada@example.com");
    assert!(again.email_verified);
    assert_user_everywhere(store.as_ref(), &again).await;
}

/// Paging with `after` = the last id of each page returns every user exactly
/// once, in id order, in pages of `limit`, and then an empty page.
pub async fn list_users_pages_in_id_order(store: Arc<dyn Store>) {
    let (p, _) = insert_pool_and_app(store.as_ref(), "main").await;
    let (q, _) = insert_pool_and_app(store.as_ref(), "other").await;
    let mut expected = Vec::new();
    for i in 0..25 {
        expected.push(insert_user(store.as_ref(), &p, &format!("user{i:02}@example.com")).await);
        insert_user(store.as_ref(), &q, &format!("user{i:02}@example.com")).await;
    }
    expected.sort_by_key(|u| u.id);
    let mut seen = Vec::new();
    let mut after = None;
    let mut sizes = Vec::new();
    loop {
        let page = store
            .users()
            .list_users(
                p.id,
                &UserQuery {
                    email_contains: None,
                    after,
                    limit: 7,
                },
            )
            .await
            .unwrap();
        sizes.push(page.len());
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        seen.extend(page);
        assert!(sizes.len() < 10, "paging does not end");
    }
    assert_eq!(sizes, vec![7, 7, 7, 4, 0]);
    assert_eq!(seen, expected);
}

/// `email_contains` matches a literal substring (no `LIKE` wildcards), and
/// combines with paging.
pub async fn list_users_filters_by_email(store: Arc<dyn Store>) {
    let (p, _) = insert_pool_and_app(store.as_ref(), "main").await;
    let mut team = Vec::new();
    for i in 0..9 {
        team.push(insert_user(store.as_ref(), &p, &format!("m{i}@team.example")).await);
        insert_user(store.as_ref(), &p, &format!("m{i}@solo.example")).await;
    }
    let pct = insert_user(store.as_ref(), &p, "100%_sure@odd.example").await;
    let under = insert_user(store.as_ref(), &p, "a_b@odd.example").await;
    team.sort_by_key(|u| u.id);
    let list = |contains: &str, after, limit| {
        let store = store.clone();
        let q = UserQuery {
            email_contains: Some(contains.to_owned()),
            after,
            limit,
        };
        async move { store.users().list_users(p.id, &q).await.unwrap() }
    };
    assert_eq!(list("@team.", None, 100).await, team);
    let first = list("team", None, 4).await;
    assert_eq!(first, team[..4]);
    let rest = list("team", Some(first[3].id), 100).await;
    assert_eq!(rest, team[4..]);
    assert_eq!(list("%", None, 100).await, vec![pct.clone()]);
    let mut underscores = vec![pct, under];
    underscores.sort_by_key(|u| u.id);
    assert_eq!(list("_", None, 100).await, underscores);
    assert!(list("nobody", None, 100).await.is_empty());
    assert!(list("'; drop table users; --", None, 100).await.is_empty());
}

/// Deleting a user removes their credentials, identities, sessions, refresh
/// tokens and one-time tokens, and nothing of anyone else's; the email is
/// free again; audit events about them stay; a second delete is `NotFound`.
pub async fn delete_user_removes_everything_keyed_to_them(store: Arc<dyn Store>) {
    let (p, a) = insert_pool_and_app(store.as_ref(), "main").await;
    let doomed = insert_user(store.as_ref(), &p, "doomed@example.com").await;
    let other = insert_user(store.as_ref(), &p, "other@example.com").await;
    let mut rows = Vec::new();
    for u in [&doomed, &other] {
        store
            .credentials()
            .set_password(u.id, "$argon2id$pw", at(1), &[])
            .await
            .unwrap();
        let totp = credential(u, CredentialKind::Totp, "sealed");
        store
            .credentials()
            .insert_credential(&totp, &[])
            .await
            .unwrap();
        let rc = credential(u, CredentialKind::RecoveryCode, "rc-1");
        store
            .credentials()
            .insert_credential(&rc, &[])
            .await
            .unwrap();
        let id = identity(u, "github", &format!("gh-{}", u.email));
        store.identities().insert_identity(&id, &[]).await.unwrap();
        let s1 = insert_session(store.as_ref(), &a, u).await;
        let s2 = insert_session(store.as_ref(), &a, u).await;
        let (secret, tok) = one_time_token(&p, "password_reset", Some(u), at(3600));
        store.tokens().insert_token(&tok).await.unwrap();
        let mut ev = audit_event("user.updated", stamp());
        ev.user_id = Some(u.id);
        store.audit().append_event(&ev).await.unwrap();
        rows.push((id, s1, s2, secret, tok, ev));
    }
    store.users().delete_user(doomed.id, &[]).await.unwrap();

    let now = at(60);
    // The deleted user's rows are gone.
    let (id, s1, s2, secret, _, ev) = &rows[0];
    assert_err(store.users().get_user(doomed.id).await, ErrorKind::NotFound);
    assert_eq!(
        store
            .users()
            .find_user_by_email(p.id, "doomed@example.com")
            .await
            .unwrap(),
        None
    );
    assert!(
        store
            .credentials()
            .list_credentials(doomed.id, None)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        !store
            .credentials()
            .consume_credential(doomed.id, CredentialKind::RecoveryCode, "rc-1", &[])
            .await
            .unwrap()
    );
    assert!(
        store
            .identities()
            .list_identities(doomed.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .identities()
            .find_identity(p.id, "github", &id.subject)
            .await
            .unwrap(),
        None
    );
    for s in [s1, s2] {
        assert_eq!(
            store.sessions().find_session(s.session.id).await.unwrap(),
            None
        );
        assert!(
            store
                .sessions()
                .find_session_by_token(&s.session.token_hash)
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(
            store
                .sessions()
                .rotate_refresh_token(&rotation(&s.refresh_token, now, 10), &|_| Vec::new())
                .await
                .unwrap(),
            RotationOutcome::NotFound
        );
    }
    assert!(
        store
            .sessions()
            .list_user_sessions(doomed.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_err(
        store
            .tokens()
            .consume_token("password_reset", &TokenHash::of(secret), now)
            .await,
        ErrorKind::InvalidToken,
    );
    // Audit events stay.
    let kept = store
        .audit()
        .list_events(&crate::model::AuditQuery {
            user_id: Some(doomed.id),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(kept, vec![ev.clone()]);

    // The other user's rows are all still there.
    let (id, s1, s2, secret, tok, _) = &rows[1];
    assert_eq!(store.users().get_user(other.id).await.unwrap(), other);
    assert_eq!(
        store
            .credentials()
            .list_credentials(other.id, None)
            .await
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        store
            .identities()
            .find_identity(p.id, "github", &id.subject)
            .await
            .unwrap(),
        Some(id.clone())
    );
    assert_eq!(
        store.sessions().list_user_sessions(other.id).await.unwrap(),
        vec![s2.session.clone(), s1.session.clone()]
    );
    assert!(matches!(
        store
            .sessions()
            .rotate_refresh_token(&rotation(&s1.refresh_token, now, 10), &|_| Vec::new())
            .await
            .unwrap(),
        RotationOutcome::Rotated(_)
    ));
    assert_eq!(
        store
            .tokens()
            .consume_token("password_reset", &TokenHash::of(secret), now)
            .await
            .unwrap(),
        tok.clone()
    );

    // The email is free again; deleting twice is NotFound.
    insert_user(store.as_ref(), &p, "doomed@example.com").await;
    assert_err(
        store.users().delete_user(doomed.id, &[]).await,
        ErrorKind::NotFound,
    );
}

/// A page cursor stays valid when the user it names is deleted between
/// pages: the next page starts right after it, skipping and repeating no one.
pub async fn list_users_cursor_survives_deleting_its_row(store: Arc<dyn Store>) {
    let (p, _) = insert_pool_and_app(store.as_ref(), "main").await;
    let mut all = Vec::new();
    for i in 0..10 {
        all.push(insert_user(store.as_ref(), &p, &format!("u{i}@example.com")).await);
    }
    all.sort_by_key(|u| u.id);
    let page = |after| {
        let store = store.clone();
        let q = UserQuery {
            email_contains: None,
            after,
            limit: 4,
        };
        async move { store.users().list_users(p.id, &q).await.unwrap() }
    };
    let first = page(None).await;
    assert_eq!(first, all[..4]);
    store.users().delete_user(first[3].id, &[]).await.unwrap();
    assert_eq!(page(Some(first[3].id)).await, all[4..8]);
}
