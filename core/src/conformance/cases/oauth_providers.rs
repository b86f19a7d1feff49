//! OAuth provider configurations per app.

use std::sync::Arc;

use serde_json::json;

use super::super::fixtures::*;
use crate::ErrorKind;
use crate::model::{App, OAuthProviderRecord};
use crate::store::Store;

fn provider(app: &App, name: &str) -> OAuthProviderRecord {
    OAuthProviderRecord {
        app_id: app.id,
        name: name.to_owned(),
        kind: "oidc".to_owned(),
        client_id: format!("client-{name}"),
        client_secret_sealed: Some(vec![0, 1, 2, 255, 254]),
        config: json!({
            "issuer": "https://idp.example",
            "scopes": ["openid", "email"],
            "claims": { "id": "data.id", "name": "ü \u{1F600}" },
        }),
        enabled: true,
        created_at: at(0),
        updated_at: at(0),
    }
}

/// A provider round-trips exactly (sealed bytes, JSON config, flags); putting
/// it again replaces every field but keeps the first `created_at`, and a
/// secret can be removed (`None`).
pub async fn oauth_providers_round_trip_and_replace(store: Arc<dyn Store>) {
    let (_, app) = insert_pool_and_app(store.as_ref(), "shop").await;
    let s = store.oauth_providers();
    assert_eq!(s.find_oauth_provider(app.id, "okta").await.unwrap(), None);
    let first = provider(&app, "okta");
    assert_eq!(s.put_oauth_provider(&first, &[]).await.unwrap(), first);
    assert_eq!(
        s.find_oauth_provider(app.id, "okta").await.unwrap(),
        Some(first.clone())
    );
    let mut second = provider(&app, "okta");
    second.kind = "oauth2".into();
    second.client_id = "other".into();
    second.client_secret_sealed = None;
    second.config = json!({ "display_name": "Okta" });
    second.enabled = false;
    second.created_at = at(10);
    second.updated_at = at(10);
    let stored = s.put_oauth_provider(&second, &[]).await.unwrap();
    let mut expected = second.clone();
    expected.created_at = first.created_at;
    assert_eq!(stored, expected);
    assert_eq!(
        s.find_oauth_provider(app.id, "okta").await.unwrap(),
        Some(expected.clone())
    );
    assert_eq!(
        s.list_oauth_providers(app.id).await.unwrap(),
        vec![expected]
    );
}

/// Providers belong to one app: lists are per app and ordered by name (bytes),
/// deleting is scoped to the app and answers whether a row went, and deleting
/// the app removes its providers. An unknown app is `NotFound`.
pub async fn oauth_providers_are_per_app(store: Arc<dyn Store>) {
    let (_, a) = insert_pool_and_app(store.as_ref(), "alpha").await;
    let (_, b) = insert_pool_and_app(store.as_ref(), "beta").await;
    let s = store.oauth_providers();
    for name in ["okta", "a-b", "a_b", "github", "z9"] {
        s.put_oauth_provider(&provider(&a, name), &[])
            .await
            .unwrap();
    }
    s.put_oauth_provider(&provider(&b, "okta"), &[])
        .await
        .unwrap();
    let names: Vec<String> = s
        .list_oauth_providers(a.id)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["a-b", "a_b", "github", "okta", "z9"]);
    assert_eq!(s.list_oauth_providers(b.id).await.unwrap().len(), 1);
    assert!(s.delete_oauth_provider(a.id, "okta", &[]).await.unwrap());
    assert!(!s.delete_oauth_provider(a.id, "okta", &[]).await.unwrap());
    assert!(s.find_oauth_provider(b.id, "okta").await.unwrap().is_some());
    let mut ghost = provider(&a, "x");
    ghost.app_id = crate::new_id(at(0));
    assert_err(s.put_oauth_provider(&ghost, &[]).await, ErrorKind::NotFound);
    store.apps().delete_app(a.id, &[]).await.unwrap();
    assert!(s.list_oauth_providers(a.id).await.unwrap().is_empty());
    assert!(
        s.find_oauth_provider(a.id, "github")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(s.list_oauth_providers(b.id).await.unwrap().len(), 1);
}
