//! The JSON bodies of the account routes.

use serde::Deserialize;
use utoipa::ToSchema;

/// `PATCH /v1/me`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MePatch {
    /// New display name (`null` clears it).
    #[serde(default, with = "crate::dto::double_option")]
    #[schema(value_type = Option<String>)]
    pub(crate) name: Option<Option<String>>,
}
