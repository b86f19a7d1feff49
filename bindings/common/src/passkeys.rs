//! Passkeys (WebAuthn): registration, sign-in, the MFA step, management.
//!
//! Credentials arrive as the W3C JSON (`PublicKeyCredential.toJSON()`),
//! either as a document or as its text; [`credential`] accepts both.

use serde_json::Value;
use tessera_core::model::ClientInfo;
use tessera_core::{AuthSession, Error, PasskeyChallenge, PasskeyInfo, Result, Tessera};
use uuid::Uuid;

use crate::app_of;

/// A credential given as a JSON object or as its text.
///
/// Errors: `invalid_input` (`credential`).
pub fn credential(given: Value) -> Result<Value> {
    match given {
        Value::String(text) => serde_json::from_str(&text).map_err(|e| {
            Error::invalid(
                "credential",
                format!("credential is not valid JSON (PublicKeyCredential.toJSON()): {e}"),
            )
        }),
        v @ Value::Object(_) => Ok(v),
        _ => Err(Error::invalid(
            "credential",
            "credential must be an object (PublicKeyCredential.toJSON()) or its JSON text",
        )),
    }
}

/// Begin registering a passkey for a user.
pub async fn start_registration(
    core: &Tessera,
    app: Option<&str>,
    user: Uuid,
) -> Result<PasskeyChallenge> {
    let user = core.users().get(user).await?;
    let app = app_of(core, app).await?;
    core.passkeys().start_registration(&app, &user).await
}

/// What a ceremony's second half presents: its id and the authenticator's answer.
pub struct Answer {
    /// The ceremony id of the start.
    pub ceremony: String,
    /// The credential, as [`credential`] accepts it.
    pub credential: Value,
}

/// Finish a registration and store the passkey under `name`.
pub async fn finish_registration(
    core: &Tessera,
    app: Option<&str>,
    user: Uuid,
    answer: Answer,
    name: Option<&str>,
    client: &ClientInfo,
) -> Result<PasskeyInfo> {
    let credential = credential(answer.credential)?;
    let user = core.users().get(user).await?;
    let app = app_of(core, app).await?;
    core.passkeys()
        .finish_registration(&app, &user, &answer.ceremony, &credential, name, client)
        .await
}

/// Begin a passkey sign-in (discoverable without `email`).
pub async fn start_sign_in(
    core: &Tessera,
    app: Option<&str>,
    email: Option<&str>,
) -> Result<PasskeyChallenge> {
    let app = app_of(core, app).await?;
    core.passkeys().start_sign_in(&app, email).await
}

/// Finish a passkey sign-in.
pub async fn finish_sign_in(
    core: &Tessera,
    app: Option<&str>,
    answer: Answer,
    client: &ClientInfo,
) -> Result<AuthSession> {
    let credential = credential(answer.credential)?;
    let app = app_of(core, app).await?;
    core.passkeys()
        .finish_sign_in(&app, &answer.ceremony, &credential, client)
        .await
}

/// Begin the MFA step with a passkey.
pub async fn start_mfa(
    core: &Tessera,
    app: Option<&str>,
    mfa_token: &str,
) -> Result<PasskeyChallenge> {
    let app = app_of(core, app).await?;
    core.passkeys().start_mfa(&app, mfa_token).await
}

/// Finish the MFA step with a passkey assertion.
pub async fn finish_mfa(
    core: &Tessera,
    app: Option<&str>,
    mfa_token: &str,
    answer: Answer,
    client: &ClientInfo,
) -> Result<AuthSession> {
    let credential = credential(answer.credential)?;
    let app = app_of(core, app).await?;
    core.passkeys()
        .finish_mfa(&app, mfa_token, &answer.ceremony, &credential, client)
        .await
}

/// A user's passkeys, oldest first.
pub async fn list(core: &Tessera, user: Uuid) -> Result<Vec<PasskeyInfo>> {
    core.passkeys().list(user).await
}

/// Rename one of a user's passkeys.
pub async fn rename(core: &Tessera, user: Uuid, passkey: Uuid, name: &str) -> Result<PasskeyInfo> {
    core.passkeys().rename(user, passkey, name).await
}

/// Delete one of a user's passkeys (not their last way to sign in).
pub async fn delete(core: &Tessera, user: Uuid, passkey: Uuid) -> Result<()> {
    core.passkeys().delete(user, passkey).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_is_an_object_or_its_text() {
        let object = serde_json::json!({"id": "x"});
        assert_eq!(credential(object.clone()).unwrap(), object);
        assert_eq!(
            credential(Value::String(object.to_string())).unwrap(),
            object
        );
        for bad in [Value::String("{".into()), Value::Bool(true)] {
            let e = credential(bad).unwrap_err();
            assert_eq!(e.code(), "invalid_input");
        }
    }
}
