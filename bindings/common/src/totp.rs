//! TOTP and recovery codes of a signed-in user.

use tessera_core::model::ClientInfo;
use tessera_core::{MfaStatus, Result, Tessera, TotpEnrollment};
use uuid::Uuid;

use crate::app_of;

/// Fresh proof for turning a factor off: the password, or a TOTP code for
/// accounts without one.
#[derive(Default)]
pub struct Reauth<'a> {
    /// The user's password.
    pub password: Option<&'a str>,
    /// A current TOTP code.
    pub code: Option<&'a str>,
}

/// Start TOTP enrolment.
pub async fn enroll(
    core: &Tessera,
    app: Option<&str>,
    user: Uuid,
    client: &ClientInfo,
) -> Result<TotpEnrollment> {
    let app = app_of(core, app).await?;
    core.totp().enroll(&app, user, client).await
}

/// The started, unconfirmed enrolment, if any.
pub async fn pending(
    core: &Tessera,
    app: Option<&str>,
    user: Uuid,
) -> Result<Option<TotpEnrollment>> {
    let app = app_of(core, app).await?;
    core.totp().pending_enrollment(&app, user).await
}

/// Confirm an enrolment with a first code: the recovery codes.
pub async fn confirm(
    core: &Tessera,
    app: Option<&str>,
    user: Uuid,
    code: &str,
    client: &ClientInfo,
) -> Result<Vec<String>> {
    let app = app_of(core, app).await?;
    core.totp().confirm(&app, user, code, client).await
}

/// Turn TOTP off and delete the recovery codes.
pub async fn disable(
    core: &Tessera,
    app: Option<&str>,
    user: Uuid,
    proof: Reauth<'_>,
    client: &ClientInfo,
) -> Result<()> {
    let app = app_of(core, app).await?;
    core.totp()
        .disable(&app, user, proof.password, proof.code, client)
        .await
}

/// Replace the recovery codes: the new ones.
pub async fn regenerate_recovery_codes(
    core: &Tessera,
    app: Option<&str>,
    user: Uuid,
    proof: Reauth<'_>,
    client: &ClientInfo,
) -> Result<Vec<String>> {
    let app = app_of(core, app).await?;
    core.totp()
        .regenerate_recovery_codes(&app, user, proof.password, proof.code, client)
        .await
}

/// The user's second factors.
pub async fn status(core: &Tessera, app: Option<&str>, user: Uuid) -> Result<MfaStatus> {
    let app = app_of(core, app).await?;
    core.totp().status(&app, user).await
}
