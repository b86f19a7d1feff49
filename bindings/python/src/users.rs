//! Users of an app's pool: the `User` class and the methods that find, list,
//! change and delete users.

use tessera_bindings_common::users;
use tessera_core::model;

use crate::convert::{Id, Json};
use crate::{AsyncTessera, Tessera};

crate::record! {
    /// A user account.
    pub(crate) struct User(model::User) repr(id, email) {
        /// Unique id (UUIDv7 string; the JWT `sub`).
        id,
        /// The pool the user belongs to.
        pool_id,
        /// Email address, normalised (trimmed, lower case).
        email,
        /// Whether the user proved control of the address.
        email_verified,
        /// Display name.
        name,
        /// Application-defined metadata (a fresh dict on each read).
        metadata,
        /// A disabled user cannot sign in and their sessions do not validate.
        disabled,
        /// When the account was created.
        created_at,
        /// When the account was last changed.
        updated_at,
    }
}

crate::methods! {
    /// A user by id (`NotFound` if there is none).
    fn get_user(user_id: Id)
        [user_id]
        |core| users::get(core, user_id.0);
    /// A user of the app's pool by email, or `None`.
    fn find_user_by_email(email: String, app: Option<String>)
        [email, *, app = None]
        |core| users::find_by_email(core, app.as_deref(), &email);
    /// Users of the app's pool ordered by id; pass the last id of a page as
    /// `after=` for the next. `limit` is at most 1000.
    fn list_users(app: Option<String>, email_contains: Option<String>, after: Option<Id>, limit: u32)
        [*, app = None, email_contains = None, after = None, limit = 100]
        |core| async move {
            let query = model::UserQuery { email_contains, after: after.map(|a| a.0), limit };
            Ok(users::list(core, app.as_deref(), &query).await?.users)
        };
    /// Change a user; only the arguments given change (`name=""` clears the
    /// name). Disabling revokes the user's sessions.
    fn update_user(user_id: Id, email: Option<String>, email_verified: Option<bool>, name: Option<String>, metadata: Option<Json>, disabled: Option<bool>)
        [user_id, *, email = None, email_verified = None, name = None, metadata = None, disabled = None]
        |core| users::update(core, user_id.0, &model::UserPatch {
            email,
            email_verified,
            // "" clears the name (the core normalises it to none).
            name: name.map(Some),
            metadata: metadata.map(|m| m.0),
            disabled,
        });
    /// Delete a user and their sessions and credentials.
    fn delete_user(user_id: Id)
        [user_id]
        |core| users::delete(core, user_id.0);
}
