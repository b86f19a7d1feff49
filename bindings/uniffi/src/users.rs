//! Users of an app's pool: the user record, its patch, pages of users.

use std::time::SystemTime;

use tessera_bindings_common::users;
use tessera_core::model;

use crate::Tessera;
use crate::convert::{parse_id, parse_json, parse_opt_id};
use crate::{Result, TesseraError};

crate::mirror! {
    /// An account in a pool.
    #[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
    pub struct User from model::User {
        /// Unique id (UUIDv7; the JWT `sub`).
        pub id: String,
        /// The pool the user belongs to.
        pub pool_id: String,
        /// Email address, normalised (trimmed, lower case); unique per pool.
        pub email: String,
        /// Whether the user proved control of the address.
        pub email_verified: bool,
        /// Display name.
        pub name: Option<String>,
        /// Application-defined metadata, a JSON object as text.
        pub metadata_json: String = metadata,
        /// A disabled user cannot sign in and their sessions do not validate.
        pub disabled: bool,
        /// When the account was created.
        pub created_at: SystemTime,
        /// When the account was last changed.
        pub updated_at: SystemTime,
    }
}

/// A partial update of a user; unset fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct UserPatch {
    /// New email (normalised; `email_verified` becomes false unless also set).
    #[uniffi(default)]
    pub email: Option<String>,
    /// New verified flag.
    #[uniffi(default)]
    pub email_verified: Option<bool>,
    /// New display name.
    #[uniffi(default)]
    pub name: Option<String>,
    /// Clear the display name (wins over `name`).
    #[uniffi(default = false)]
    pub clear_name: bool,
    /// New metadata, a JSON object as text (replaces the old document).
    #[uniffi(default)]
    pub metadata_json: Option<String>,
    /// Disable (revokes every session) or enable.
    #[uniffi(default)]
    pub disabled: Option<bool>,
}

impl TryFrom<UserPatch> for model::UserPatch {
    type Error = TesseraError;

    fn try_from(p: UserPatch) -> Result<Self> {
        Ok(model::UserPatch {
            email: p.email,
            email_verified: p.email_verified,
            name: if p.clear_name {
                Some(None)
            } else {
                p.name.map(Some)
            },
            metadata: p
                .metadata_json
                .map(|m| parse_json("metadata_json", &m))
                .transpose()?,
            disabled: p.disabled,
        })
    }
}

crate::mirror! {
    /// One page of users.
    #[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
    pub struct UserPage from users::Page {
        /// The users, ordered by id.
        pub users: Vec<User>,
        /// Pass as `after` for the next page; `None` when this page was the last.
        pub next_after: Option<String>,
    }
}

/// A page size: 0 means 100; at most 1000.
fn page_size(limit: i32) -> Result<u32> {
    match limit {
        0 => Ok(100),
        1.. => Ok(limit.min(1000).unsigned_abs()),
        _ => Err(TesseraError::invalid("limit", "limit must not be negative")),
    }
}

crate::exports! {
    /// A user by id (`not_found` if missing).
    fn get_user(user_id: String) -> User
        |core| users::get(core, parse_id("user_id", &user_id)?);

    /// A user of the app's pool by email (normalised first); `null` if none.
    fn find_user_by_email(email: String, app: Option<String>) -> Option<User> [app = None]
        |core| users::find_by_email(core, app.as_deref(), &email);

    /// A page of the app's pool's users, ordered by id. Pass the previous
    /// page's `nextAfter` as `after`; `limit` 0 means 100 (at most 1000);
    /// `email_contains` filters.
    fn list_users(after: Option<String>, limit: i32, email_contains: Option<String>, app: Option<String>) -> UserPage
        [after = None, limit = 0, email_contains = None, app = None]
        |core| users::list(core, app.as_deref(), &model::UserQuery {
            email_contains,
            after: parse_opt_id("after", after)?,
            limit: page_size(limit)?,
        });

    /// Apply a patch to a user. Disabling revokes all their sessions.
    ///
    /// Errors: `not_found`, `invalid_email`, `invalid_input`, `email_taken`.
    fn update_user(user_id: String, patch: UserPatch) -> User
        |core| users::update(core, parse_id("user_id", &user_id)?, &patch.try_into()?);

    /// Delete a user and everything keyed to them; the email is free again.
    fn delete_user(user_id: String) -> ()
        |core| users::delete(core, parse_id("user_id", &user_id)?);
}
