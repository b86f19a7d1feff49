//! Users of an app's pool.

use tessera_core::model::{User, UserPatch, UserQuery};
use tessera_core::{Result, Tessera};
use uuid::Uuid;

use crate::app_of;

/// A page of users and where the next one starts.
pub struct Page {
    /// The users, ordered by id.
    pub users: Vec<User>,
    /// Pass as `after` for the next page; `None` when this page was not full.
    pub next_after: Option<Uuid>,
}

/// A user by id.
pub async fn get(core: &Tessera, user: Uuid) -> Result<User> {
    core.users().get(user).await
}

/// A user of the app's pool by email.
pub async fn find_by_email(core: &Tessera, app: Option<&str>, email: &str) -> Result<Option<User>> {
    let app = app_of(core, app).await?;
    core.users().find_by_email(app.pool_id, email).await
}

/// A page of the app's pool's users.
pub async fn list(core: &Tessera, app: Option<&str>, query: &UserQuery) -> Result<Page> {
    let app = app_of(core, app).await?;
    let users = core.users().list(app.pool_id, query).await?;
    let full = users.len() == query.limit as usize;
    let next_after = users.last().filter(|_| full).map(|u| u.id);
    Ok(Page { users, next_after })
}

/// Apply a patch to a user.
pub async fn update(core: &Tessera, user: Uuid, patch: &UserPatch) -> Result<User> {
    core.users().update(user, patch).await
}

/// Delete a user and everything keyed to them.
pub async fn delete(core: &Tessera, user: Uuid) -> Result<()> {
    core.users().delete(user).await
}
