//! Password sign-up, sign-in (with the device token) and change.

use tessera_core::model::ClientInfo;
use tessera_core::{AuthSession, PasswordSignIn, Result, SignUpOutcome, Tessera};
use uuid::Uuid;

use crate::app_of;

/// Create an account with a password and sign it in; `None` when the app
/// requires a verified email first.
pub async fn sign_up(
    core: &Tessera,
    app: Option<&str>,
    email: &str,
    password: &str,
    name: Option<&str>,
    client: &ClientInfo,
) -> Result<Option<AuthSession>> {
    let app = app_of(core, app).await?;
    let outcome = core
        .passwords()
        .sign_up(&app, email, password, name, client)
        .await?;
    Ok(match outcome {
        SignUpOutcome::SignedIn(s) => Some(*s),
        SignUpOutcome::VerificationRequired => None,
    })
}

/// Sign in with email and password, presenting the device token of this
/// device's last sign-in, if it has one; the answer carries a fresh one.
pub async fn sign_in(
    core: &Tessera,
    app: Option<&str>,
    email: &str,
    password: &str,
    device_token: Option<&str>,
    client: &ClientInfo,
) -> Result<PasswordSignIn> {
    let app = app_of(core, app).await?;
    core.passwords()
        .sign_in_with_device(&app, email, password, device_token, client)
        .await
}

/// The password parts of a change: the current one, checked, and the new one.
pub struct Change<'a> {
    /// The current password.
    pub current: &'a str,
    /// The new password.
    pub new: &'a str,
}

/// Change a user's password; every other session (all but `keep`) is revoked.
pub async fn change(
    core: &Tessera,
    app: Option<&str>,
    user: Uuid,
    keep: Option<Uuid>,
    passwords: Change<'_>,
    client: &ClientInfo,
) -> Result<()> {
    let app = app_of(core, app).await?;
    core.passwords()
        .change(&app, user, keep, passwords.current, passwords.new, client)
        .await
}
