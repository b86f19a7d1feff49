//! The email flows: verification, password reset, sign-in codes, magic
//! links and address changes.

use tessera_core::model::{ClientInfo, User};
use tessera_core::{Result, SignInOutcome, Tessera};
use uuid::Uuid;

use crate::app_of;

/// Queue a verification link (nothing if already verified).
pub async fn send_verification(core: &Tessera, app: Option<&str>, user: Uuid) -> Result<()> {
    let app = app_of(core, app).await?;
    core.emails().send_verification(&app, user).await
}

/// Verify an address with a link's token.
pub async fn verify_email(core: &Tessera, token: &str) -> Result<User> {
    core.emails().verify_email(token).await
}

/// Queue a password-reset link, if the address has an account.
pub async fn send_password_reset(
    core: &Tessera,
    app: Option<&str>,
    email: &str,
    client: &ClientInfo,
) -> Result<()> {
    let app = app_of(core, app).await?;
    core.emails().send_password_reset(&app, email, client).await
}

/// Set a new password with a reset token.
pub async fn reset_password(
    core: &Tessera,
    token: &str,
    new_password: &str,
    client: &ClientInfo,
) -> Result<()> {
    core.emails()
        .reset_password(token, new_password, client)
        .await
}

/// Queue a sign-in code, if the address has an account.
pub async fn send_sign_in_code(
    core: &Tessera,
    app: Option<&str>,
    email: &str,
    client: &ClientInfo,
) -> Result<()> {
    let app = app_of(core, app).await?;
    core.emails().send_sign_in_code(&app, email, client).await
}

/// Sign in with an emailed code.
pub async fn sign_in_with_code(
    core: &Tessera,
    app: Option<&str>,
    email: &str,
    code: &str,
    client: &ClientInfo,
) -> Result<SignInOutcome> {
    let app = app_of(core, app).await?;
    core.emails()
        .sign_in_with_code(&app, email, code, client)
        .await
}

/// Queue a magic link, if the address has an account.
pub async fn send_magic_link(
    core: &Tessera,
    app: Option<&str>,
    email: &str,
    redirect_uri: Option<&str>,
    client: &ClientInfo,
) -> Result<()> {
    let app = app_of(core, app).await?;
    core.emails()
        .send_magic_link(&app, email, redirect_uri, client)
        .await
}

/// Sign in with a magic link's token.
pub async fn sign_in_with_magic_link(
    core: &Tessera,
    token: &str,
    client: &ClientInfo,
) -> Result<SignInOutcome> {
    let done = core.emails().sign_in_with_magic_link(token, client).await?;
    Ok(done.outcome)
}

/// Ask to change a user's address (confirmed from the new one).
pub async fn request_email_change(
    core: &Tessera,
    app: Option<&str>,
    user: Uuid,
    new_email: &str,
    client: &ClientInfo,
) -> Result<()> {
    let app = app_of(core, app).await?;
    core.emails()
        .request_email_change(&app, user, new_email, client)
        .await
}

/// Confirm an address change with the token sent to the new address.
pub async fn confirm_email_change(
    core: &Tessera,
    token: &str,
    client: &ClientInfo,
) -> Result<User> {
    core.emails().confirm_email_change(token, client).await
}
