//! The JSON shapes only the session routes use (the session views are shared
//! with the admin API: `crate::dto`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::dto::{SessionView, UserView};

/// The caller's session and user.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct CurrentSessionView {
    /// The user.
    pub(crate) user: UserView,
    /// The session.
    pub(crate) session: SessionView,
}

/// `POST /v1/token/refresh`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RefreshRequest {
    /// The refresh token.
    pub(crate) refresh_token: String,
}
