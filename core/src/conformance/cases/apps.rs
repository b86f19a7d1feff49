//! Pools and apps.

use std::sync::Arc;

use super::super::fixtures::*;
use crate::ErrorKind;
use crate::model::{AppSettings, SignInMethod};
use crate::new_id;
use crate::store::Store;

/// A fresh store, once Tessera is built over it, has the `default` pool and app.
pub async fn default_pool_and_app_exist(store: Arc<dyn Store>) {
    let (t, _clock) = super::super::tessera(store.clone()).await;
    let app = t.apps().default_app().await.unwrap();
    let pool = t.apps().default_pool().await.unwrap();
    assert_eq!(app.pool_id, pool.id);
    assert_eq!(app.slug, "default");
    // Building again over the same store does not duplicate them.
    let (t2, _) = super::super::tessera(store).await;
    assert_eq!(t2.apps().list(None).await.unwrap().len(), 1);
    assert_eq!(t2.apps().list_pools().await.unwrap().len(), 1);
}

/// Pools round-trip through `get_pool`, `find_pool_by_slug` and `list_pools`
/// (oldest first); a taken slug is `Conflict`, a missing id `NotFound`.
pub async fn pools_round_trip_and_slugs_are_unique(store: Arc<dyn Store>) {
    let apps = store.apps();
    assert!(apps.list_pools().await.unwrap().is_empty());
    let mut a = pool("alpha");
    a.name = ADVERSARIAL[0].to_owned();
    a.created_at = earliest();
    let mut b = pool("beta");
    b.name = ADVERSARIAL[5].to_owned();
    b.created_at = latest();
    apps.create_pool(&a, &[]).await.unwrap();
    assert_eq!(apps.get_pool(a.id).await.unwrap(), a);
    assert_eq!(
        apps.find_pool_by_slug("alpha").await.unwrap(),
        Some(a.clone())
    );
    apps.create_pool(&b, &[]).await.unwrap();
    assert_eq!(apps.get_pool(b.id).await.unwrap(), b);
    assert_eq!(apps.list_pools().await.unwrap(), vec![a.clone(), b.clone()]);

    let mut dup = pool("alpha");
    dup.name = "another".into();
    assert_err(apps.create_pool(&dup, &[]).await, ErrorKind::Conflict);
    assert_err(apps.get_pool(dup.id).await, ErrorKind::NotFound);
    assert_eq!(apps.find_pool_by_slug("gamma").await.unwrap(), None);
    assert_eq!(apps.list_pools().await.unwrap().len(), 2);
}

/// Apps round-trip with their settings; slugs are unique across pools
/// (`Conflict`), a missing pool is `NotFound` and nothing is written.
pub async fn apps_round_trip_and_slugs_are_unique(store: Arc<dyn Store>) {
    let apps = store.apps();
    let p1 = pool("p1");
    let p2 = pool("p2");
    apps.create_pool(&p1, &[]).await.unwrap();
    apps.create_pool(&p2, &[]).await.unwrap();
    let mut a1 = app(&p1, "web");
    a1.name = ADVERSARIAL[1].to_owned();
    a1.settings = AppSettings {
        sign_in_methods: vec![SignInMethod::Passkey, SignInMethod::Password],
        session_idle_timeout_secs: 3600,
        session_lifetime_secs: 86_400,
        access_token_ttl_secs: 300,
        refresh_reuse_grace_secs: 0,
        redirect_uris: vec![
            "https://app.example/cb?q='\"`;--".into(),
            "com.example.app://callback/😀".into(),
        ],
        cors_origins: vec!["https://app.example".into()],
        min_password_score: 4,
        require_verified_email: true,
        mail_templates: [(
            "sign_in_code".to_owned(),
            crate::model::MailTemplate {
                subject: "{{code}} — 😀".into(),
                text: ADVERSARIAL[2].into(),
                html: "<b>{{code}}</b>".into(),
            },
        )]
        .into_iter()
        .collect(),
        notify_unknown_addresses: true,
        mfa: crate::model::MfaPolicy::Required,
        link_accounts_by_email: false,
        webauthn_rp_id: Some("app.example".into()),
        webauthn_origins: vec!["https://app.example".into()],
    };
    let a2 = app(&p1, "mobile");
    let a3 = app(&p2, "admin");
    for a in [&a1, &a2, &a3] {
        apps.create_app(a, &[]).await.unwrap();
        assert_eq!(&apps.get_app(a.id).await.unwrap(), a);
    }
    assert_eq!(
        apps.find_app_by_slug("web").await.unwrap(),
        Some(a1.clone())
    );
    assert_eq!(apps.find_app_by_slug("nope").await.unwrap(), None);
    assert_eq!(
        apps.list_apps(None).await.unwrap(),
        vec![a1.clone(), a2.clone(), a3.clone()]
    );
    assert_eq!(
        apps.list_apps(Some(p1.id)).await.unwrap(),
        vec![a1.clone(), a2.clone()]
    );
    assert_eq!(apps.list_apps(Some(p2.id)).await.unwrap(), vec![a3.clone()]);

    // Slugs are unique install-wide, not per pool.
    let dup = app(&p2, "web");
    assert_err(apps.create_app(&dup, &[]).await, ErrorKind::Conflict);
    assert_err(apps.get_app(dup.id).await, ErrorKind::NotFound);

    let orphan_pool = pool("ghost");
    let orphan = app(&orphan_pool, "orphan");
    assert_err(apps.create_app(&orphan, &[]).await, ErrorKind::NotFound);
    assert_eq!(apps.find_app_by_slug("orphan").await.unwrap(), None);
    assert_eq!(apps.list_apps(None).await.unwrap().len(), 3);
}

/// `update_app` replaces slug, name, settings and `updated_at` (and nothing
/// else); a taken slug is `Conflict` and leaves the app as it was; a missing
/// app is `NotFound`.
pub async fn update_app_replaces_fields(store: Arc<dyn Store>) {
    let apps = store.apps();
    let (p, a) = insert_pool_and_app(store.as_ref(), "one").await;
    let other = app(&p, "two");
    apps.create_app(&other, &[]).await.unwrap();

    let mut changed = a.clone();
    changed.slug = "renamed".into();
    changed.name = ADVERSARIAL[6].to_owned();
    changed.settings.redirect_uris = vec!["https://x.example/\\back".into()];
    changed.settings.refresh_reuse_grace_secs = 3;
    changed.updated_at = latest();
    apps.update_app(&changed, &[]).await.unwrap();
    assert_eq!(apps.get_app(a.id).await.unwrap(), changed);
    assert_eq!(apps.find_app_by_slug("one").await.unwrap(), None);
    assert_eq!(
        apps.find_app_by_slug("renamed").await.unwrap(),
        Some(changed.clone())
    );

    let mut clash = changed.clone();
    clash.slug = "two".into();
    clash.name = "clash".into();
    assert_err(apps.update_app(&clash, &[]).await, ErrorKind::Conflict);
    assert_eq!(apps.get_app(a.id).await.unwrap(), changed);
    assert_eq!(apps.find_app_by_slug("two").await.unwrap(), Some(other));

    let mut missing = app(&p, "missing");
    missing.id = new_id(stamp());
    assert_err(apps.update_app(&missing, &[]).await, ErrorKind::NotFound);
    assert_eq!(apps.find_app_by_slug("missing").await.unwrap(), None);
}

/// `delete_app` removes the app and its sessions (their refresh tokens stop
/// working) but not other apps' sessions or the pool's users; a second
/// delete is `NotFound`.
pub async fn delete_app_removes_its_sessions(store: Arc<dyn Store>) {
    let (p, doomed) = insert_pool_and_app(store.as_ref(), "doomed").await;
    let kept = app(&p, "kept");
    store.apps().create_app(&kept, &[]).await.unwrap();
    let u = insert_user(store.as_ref(), &p, "ada@example.com").await;
    let s1 = insert_session(store.as_ref(), &doomed, &u).await;
    let s2 = insert_session(store.as_ref(), &kept, &u).await;

    store.apps().delete_app(doomed.id, &[]).await.unwrap();
    assert_err(store.apps().get_app(doomed.id).await, ErrorKind::NotFound);
    assert_eq!(store.apps().find_app_by_slug("doomed").await.unwrap(), None);
    assert_eq!(
        store.apps().list_apps(Some(p.id)).await.unwrap(),
        vec![kept]
    );
    let sessions = store.sessions();
    assert_eq!(sessions.find_session(s1.session.id).await.unwrap(), None);
    assert!(
        sessions
            .find_session_by_token(&s1.session.token_hash)
            .await
            .unwrap()
            .is_none()
    );
    let now = at(60);
    assert_eq!(
        sessions
            .rotate_refresh_token(&rotation(&s1.refresh_token, now, 0), &|_| Vec::new())
            .await
            .unwrap(),
        crate::model::RotationOutcome::NotFound
    );
    assert_eq!(
        sessions.find_session(s2.session.id).await.unwrap(),
        Some((s2.session.clone(), u.clone()))
    );
    assert_eq!(
        sessions.list_user_sessions(u.id).await.unwrap(),
        vec![s2.session]
    );
    assert_eq!(store.users().get_user(u.id).await.unwrap(), u);
    assert_err(
        store.apps().delete_app(doomed.id, &[]).await,
        ErrorKind::NotFound,
    );
    // The slug is free again.
    let again = app(&p, "doomed");
    store.apps().create_app(&again, &[]).await.unwrap();
}

/// The store answers `ping` and names its backend with a short lower-case word.
pub async fn store_pings_and_names_its_backend(store: Arc<dyn Store>) {
    store.ping().await.unwrap();
    let name = store.backend();
    assert!(
        !name.is_empty()
            && name.len() <= 16
            && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
        "{name:?}"
    );
}
