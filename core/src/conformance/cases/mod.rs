//! The cases of the conformance suite; each takes a fresh store.
//!
//! Grouped by aggregate (one module per store trait) plus races, sweepers and
//! end-to-end facade flows. Every case is re-exported here so the
//! [`conformance_tests!`](crate::conformance_tests) macro can name it as
//! `conformance::cases::<name>`.

mod api_keys;
mod apps;
mod audit;
mod credentials;
mod events;
mod flows;
mod identities;
mod keys;
mod mail;
mod oauth_providers;
mod one_time;
mod races;
mod sessions;
mod sweeps;
mod throttles;
mod users;
mod webhook_deliveries;
mod webhook_endpoints;

pub use api_keys::*;
pub use apps::*;
pub use audit::*;
pub use credentials::*;
pub use events::*;
pub use flows::*;
pub use identities::*;
pub use keys::*;
pub use mail::*;
pub use oauth_providers::*;
pub use one_time::*;
pub use races::*;
pub use sessions::*;
pub use sweeps::*;
pub use throttles::*;
pub use users::*;
pub use webhook_deliveries::*;
pub use webhook_endpoints::*;
