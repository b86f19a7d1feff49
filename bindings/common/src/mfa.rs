//! The MFA step of a sign-in that answered `mfa_required`.

use tessera_core::model::ClientInfo;
use tessera_core::{AuthSession, EnrolledSignIn, Result, Tessera, TotpEnrollment};

use crate::app_of;

/// Finish with a TOTP code.
pub async fn verify_totp(
    core: &Tessera,
    app: Option<&str>,
    mfa_token: &str,
    code: &str,
    client: &ClientInfo,
) -> Result<AuthSession> {
    let app = app_of(core, app).await?;
    core.mfa().verify_totp(&app, mfa_token, code, client).await
}

/// Finish with a recovery code (spent).
pub async fn verify_recovery_code(
    core: &Tessera,
    app: Option<&str>,
    mfa_token: &str,
    recovery_code: &str,
    client: &ClientInfo,
) -> Result<AuthSession> {
    let app = app_of(core, app).await?;
    core.mfa()
        .verify_recovery_code(&app, mfa_token, recovery_code, client)
        .await
}

/// Start TOTP enrolment with the MFA token (the app requires a factor the
/// user lacks).
pub async fn enroll_totp(
    core: &Tessera,
    app: Option<&str>,
    mfa_token: &str,
    client: &ClientInfo,
) -> Result<TotpEnrollment> {
    let app = app_of(core, app).await?;
    core.mfa().enroll_totp(&app, mfa_token, client).await
}

/// Confirm that enrolment and finish the sign-in.
pub async fn confirm_totp(
    core: &Tessera,
    app: Option<&str>,
    mfa_token: &str,
    code: &str,
    client: &ClientInfo,
) -> Result<EnrolledSignIn> {
    let app = app_of(core, app).await?;
    core.mfa().confirm_totp(&app, mfa_token, code, client).await
}
