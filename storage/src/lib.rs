//! Open a Tessera store from a URL.
//!
//! One `open(url)` picks the backend by URL scheme among the backends compiled
//! in (cargo features), so the server, the bindings and embedding apps share
//! one way to configure storage and an unknown scheme is a clear error rather
//! than a surprise. (NOTE for the storage engineer: add the `sqlite` and
//! `postgres` features and arms here.)

use std::sync::Arc;

use tessera_core::store::Store;
use tessera_core::{Error, Result};

/// Options for [`open`] that apply across backends.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// Run migrations on open (default true).
    pub migrate: bool,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions { migrate: true }
    }
}

/// The URL schemes this build understands.
pub fn schemes() -> Vec<&'static str> {
    let mut s = Vec::new();
    if cfg!(feature = "memory") {
        s.push("memory://");
    }
    s
}

/// Open the store `url` names.
pub async fn open(url: &str, options: OpenOptions) -> Result<Arc<dyn Store>> {
    let _ = &options;
    #[cfg(feature = "memory")]
    if url == "memory://" || url == "memory:" {
        return Ok(Arc::new(tessera_storage_memory::MemoryStore::new()));
    }
    Err(Error::config(format!(
        "unsupported database URL scheme in {:?}; this build supports {}",
        url.split_once(':').map_or(url, |(s, _)| s),
        schemes().join(", ")
    )))
}
