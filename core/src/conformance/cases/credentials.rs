//! Credentials (password, passkeys, TOTP, recovery codes): round-trips,
//! one password per user, scoped updates, spending a credential once.

use std::sync::Arc;

use serde_json::json;

use super::super::fixtures::*;
use crate::ErrorKind;
use crate::model::CredentialKind;
use crate::new_id;
use crate::store::Store;

/// Credentials round-trip exactly and list oldest first, filtered by kind.
pub async fn credentials_round_trip_and_list_by_kind(store: Arc<dyn Store>) {
    let (p, _) = insert_pool_and_app(store.as_ref(), "main").await;
    let u = insert_user(store.as_ref(), &p, "ada@example.com").await;
    let other = insert_user(store.as_ref(), &p, "bob@example.com").await;
    let creds = store.credentials();
    let mut passkey = credential(&u, CredentialKind::Passkey, ADVERSARIAL[2]);
    passkey.name = Some(max_name());
    passkey.data = max_metadata();
    passkey.created_at = earliest();
    passkey.last_used_at = Some(latest());
    let mut totp = credential(&u, CredentialKind::Totp, ADVERSARIAL[4]);
    totp.created_at = at(1);
    let mut rc1 = credential(&u, CredentialKind::RecoveryCode, "rc-1");
    rc1.created_at = at(2);
    let mut rc2 = credential(&u, CredentialKind::RecoveryCode, "rc-2");
    rc2.created_at = at(3);
    let mut pw = credential(
        &u,
        CredentialKind::Password,
        "$argon2id$v=19$m=19456,t=2,p=1$x$y",
    );
    pw.created_at = at(4);
    for c in [&passkey, &totp, &rc1, &rc2, &pw] {
        creds.insert_credential(c, &[]).await.unwrap();
    }
    creds
        .insert_credential(
            &credential(&other, CredentialKind::RecoveryCode, "rc-1"),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        creds.list_credentials(u.id, None).await.unwrap(),
        vec![
            passkey.clone(),
            totp.clone(),
            rc1.clone(),
            rc2.clone(),
            pw.clone()
        ]
    );
    assert_eq!(
        creds
            .list_credentials(u.id, Some(CredentialKind::RecoveryCode))
            .await
            .unwrap(),
        vec![rc1, rc2]
    );
    assert_eq!(
        creds
            .list_credentials(u.id, Some(CredentialKind::Passkey))
            .await
            .unwrap(),
        vec![passkey]
    );
    assert_eq!(
        store
            .users()
            .find_user_with_password(p.id, "ada@example.com")
            .await
            .unwrap(),
        Some((u, Some(pw)))
    );
}

/// `insert_credential` is `NotFound` for a missing user and `Conflict` for a
/// duplicate id or a second password; nothing is written by a failure.
pub async fn insert_credential_rejects_bad_rows(store: Arc<dyn Store>) {
    let (p, _) = insert_pool_and_app(store.as_ref(), "main").await;
    let u = insert_user(store.as_ref(), &p, "ada@example.com").await;
    let creds = store.credentials();
    let ghost = user(&p, "ghost@example.com");
    assert_err(
        creds
            .insert_credential(&credential(&ghost, CredentialKind::Totp, "s"), &[])
            .await,
        ErrorKind::NotFound,
    );
    assert!(
        creds
            .list_credentials(ghost.id, None)
            .await
            .unwrap()
            .is_empty()
    );

    let pw = credential(&u, CredentialKind::Password, "$argon2id$one");
    creds.insert_credential(&pw, &[]).await.unwrap();
    let second = credential(&u, CredentialKind::Password, "$argon2id$two");
    assert_err(
        creds.insert_credential(&second, &[]).await,
        ErrorKind::Conflict,
    );
    let mut same_id = credential(&u, CredentialKind::Totp, "s");
    same_id.id = pw.id;
    assert_err(
        creds.insert_credential(&same_id, &[]).await,
        ErrorKind::Conflict,
    );
    assert_eq!(creds.list_credentials(u.id, None).await.unwrap(), vec![pw]);
}

/// `set_password` creates or replaces the single password credential (sign-in
/// sees the new hash at once); `NotFound` for a missing user.
pub async fn set_password_replaces_the_password(store: Arc<dyn Store>) {
    let (p, _) = insert_pool_and_app(store.as_ref(), "main").await;
    let u = insert_user(store.as_ref(), &p, "ada@example.com").await;
    let creds = store.credentials();
    creds
        .set_password(u.id, "$argon2id$first", at(1), &[])
        .await
        .unwrap();
    creds
        .set_password(u.id, "$argon2id$second'\"\\", at(2), &[])
        .await
        .unwrap();
    let pws = creds
        .list_credentials(u.id, Some(CredentialKind::Password))
        .await
        .unwrap();
    assert_eq!(pws.len(), 1);
    assert_eq!(pws[0].secret, "$argon2id$second'\"\\");
    assert_eq!(pws[0].user_id, u.id);
    let (_, found) = store
        .users()
        .find_user_with_password(p.id, &u.email)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        found.map(|c| c.secret),
        Some("$argon2id$second'\"\\".into())
    );
    assert_err(
        creds
            .set_password(new_id(stamp()), "$argon2id$x", at(3), &[])
            .await,
        ErrorKind::NotFound,
    );
}

/// `update_credential` replaces secret, data and name of the user's own
/// credential; for another user's credential it is `NotFound` and changes
/// nothing. `touch_credential` sets `last_used_at`.
pub async fn update_and_touch_credential(store: Arc<dyn Store>) {
    let (p, _) = insert_pool_and_app(store.as_ref(), "main").await;
    let u = insert_user(store.as_ref(), &p, "ada@example.com").await;
    let mallory = insert_user(store.as_ref(), &p, "mallory@example.com").await;
    let creds = store.credentials();
    let mut c = credential(&u, CredentialKind::Passkey, "pk");
    creds.insert_credential(&c, &[]).await.unwrap();

    c.secret = ADVERSARIAL[0].into();
    c.data = json!({ "counter": 7, "note": ADVERSARIAL[6] });
    c.name = Some("YubiKey 😀".into());
    creds.update_credential(&c, &[]).await.unwrap();
    assert_eq!(
        creds.list_credentials(u.id, None).await.unwrap(),
        vec![c.clone()]
    );

    let mut hijack = c.clone();
    hijack.user_id = mallory.id;
    hijack.secret = "stolen".into();
    assert_err(
        creds.update_credential(&hijack, &[]).await,
        ErrorKind::NotFound,
    );
    let mut missing = credential(&u, CredentialKind::Passkey, "x");
    missing.id = new_id(stamp());
    assert_err(
        creds.update_credential(&missing, &[]).await,
        ErrorKind::NotFound,
    );
    assert_eq!(
        creds.list_credentials(u.id, None).await.unwrap(),
        vec![c.clone()]
    );
    assert!(
        creds
            .list_credentials(mallory.id, None)
            .await
            .unwrap()
            .is_empty()
    );

    let used = at(30) + micro();
    creds.touch_credential(c.id, used).await.unwrap();
    c.last_used_at = Some(used);
    assert_eq!(creds.list_credentials(u.id, None).await.unwrap(), vec![c]);
}

/// `delete_credential` deletes only the user's own credential and answers
/// `false` when there is none (already deleted, or someone else's).
pub async fn delete_credential_is_scoped_to_its_user(store: Arc<dyn Store>) {
    let (p, _) = insert_pool_and_app(store.as_ref(), "main").await;
    let u = insert_user(store.as_ref(), &p, "ada@example.com").await;
    let mallory = insert_user(store.as_ref(), &p, "mallory@example.com").await;
    let creds = store.credentials();
    let c = credential(&u, CredentialKind::Totp, "t");
    let keep = credential(&u, CredentialKind::Passkey, "k");
    creds.insert_credential(&c, &[]).await.unwrap();
    creds.insert_credential(&keep, &[]).await.unwrap();
    assert!(
        !creds
            .delete_credential(mallory.id, c.id, &[])
            .await
            .unwrap()
    );
    assert_eq!(creds.list_credentials(u.id, None).await.unwrap().len(), 2);
    assert!(creds.delete_credential(u.id, c.id, &[]).await.unwrap());
    assert!(!creds.delete_credential(u.id, c.id, &[]).await.unwrap());
    assert_eq!(
        creds.list_credentials(u.id, None).await.unwrap(),
        vec![keep]
    );
}

/// `consume_credential` spends a matching credential once; wrong secret, kind
/// or user answer `false` and spend nothing.
pub async fn consume_credential_spends_once(store: Arc<dyn Store>) {
    let (p, _) = insert_pool_and_app(store.as_ref(), "main").await;
    let u = insert_user(store.as_ref(), &p, "ada@example.com").await;
    let mallory = insert_user(store.as_ref(), &p, "mallory@example.com").await;
    let creds = store.credentials();
    let rc = CredentialKind::RecoveryCode;
    let a = credential(&u, rc, "code-a");
    let b = credential(&u, rc, "code-b");
    creds.insert_credential(&a, &[]).await.unwrap();
    creds.insert_credential(&b, &[]).await.unwrap();
    assert!(
        !creds
            .consume_credential(u.id, rc, "code-c", &[])
            .await
            .unwrap()
    );
    assert!(
        !creds
            .consume_credential(mallory.id, rc, "code-a", &[])
            .await
            .unwrap()
    );
    assert!(
        !creds
            .consume_credential(u.id, CredentialKind::Totp, "code-a", &[])
            .await
            .unwrap()
    );
    assert!(
        !creds
            .consume_credential(u.id, rc, "CODE-A", &[])
            .await
            .unwrap()
    );
    assert_eq!(
        creds.list_credentials(u.id, Some(rc)).await.unwrap().len(),
        2
    );
    assert!(
        creds
            .consume_credential(u.id, rc, "code-a", &[])
            .await
            .unwrap()
    );
    assert!(
        !creds
            .consume_credential(u.id, rc, "code-a", &[])
            .await
            .unwrap()
    );
    assert_eq!(
        creds.list_credentials(u.id, Some(rc)).await.unwrap(),
        vec![b]
    );
}
