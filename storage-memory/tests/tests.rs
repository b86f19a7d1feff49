//! The conformance suite on the in-memory store.

use std::sync::Arc;

use tessera_core::store::Store;
use tessera_storage_memory::MemoryStore;

async fn make_store() -> Arc<dyn Store> {
    Arc::new(MemoryStore::new())
}

tessera_core::conformance_tests!(make_store);
