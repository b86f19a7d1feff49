//! The cases of the conformance suite; each takes a fresh store.

use std::sync::Arc;

use crate::store::Store;

/// A fresh store, once Tessera is built over it, has the `default` pool and app.
pub async fn default_pool_and_app_exist(store: Arc<dyn Store>) {
    let (t, _clock) = super::tessera(store.clone()).await;
    let app = t.apps().default_app().await.unwrap();
    let pool = t.apps().default_pool().await.unwrap();
    assert_eq!(app.pool_id, pool.id);
    assert_eq!(app.slug, "default");
    // Building again over the same store does not duplicate them.
    let (t2, _) = super::tessera(store).await;
    assert_eq!(t2.apps().list(None).await.unwrap().len(), 1);
    assert_eq!(t2.apps().list_pools().await.unwrap().len(), 1);
}
