//! `tessera serve`: the HTTP server (JSON API, hosted pages, admin API).

use crate::config::RawConfig;
use crate::server;

/// Validate the configuration, start logging and serve until a signal.
pub(crate) async fn run(raw: RawConfig) -> tessera_core::Result<()> {
    let config = raw.validate()?;
    config.check_serving()?;
    server::init_logs(config.log_format);
    server::serve(config).await
}
