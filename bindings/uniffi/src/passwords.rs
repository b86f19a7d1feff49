//! Password sign-up, sign-in (with the device token) and change.

use tessera_bindings_common::passwords::{self, Change};

use crate::Tessera;
use crate::convert::{FromCore, parse_id, parse_opt_id};
use crate::sessions::{AuthSession, ClientInfo, client_info};
use crate::{Result, TesseraError};

/// A password sign-in: the session with the device token to keep, or
/// `MfaRequired` carrying both the challenge and the device token.
impl FromCore<tessera_core::PasswordSignIn> for AuthSession {
    fn from_core(done: tessera_core::PasswordSignIn) -> Result<Self> {
        match done.outcome {
            tessera_core::SignInOutcome::Complete(session) => Ok(AuthSession {
                device_token: Some(done.device_token),
                ..AuthSession::from_core(*session)?
            }),
            tessera_core::SignInOutcome::MfaRequired(challenge) => Err(TesseraError::mfa_required(
                challenge,
                Some(done.device_token),
            )),
        }
    }
}

crate::exports! {
    /// Create an account with a password and sign it in. Returns `null` when
    /// the app requires a verified email first (the same answer whether or not
    /// the address was already registered).
    ///
    /// Errors: `invalid_email`, `weak_password`, `invalid_input`, `email_taken`.
    fn sign_up(email: String, password: String, name: Option<String>, app: Option<String>, client: Option<ClientInfo>) -> Option<AuthSession>
        [name = None, app = None, client = None]
        |core| passwords::sign_up(
            core, app.as_deref(), &email, &password, name.as_deref(), &client_info(client),
        );

    /// Sign in with email and password. `device_token` is the `deviceToken`
    /// of this device's last password sign-in, if any: with it, failures
    /// from other devices never throttle this one. The answer carries a
    /// fresh device token (also on `MfaRequired`).
    ///
    /// Errors: `invalid_credentials` (wrong password or no such account),
    /// `rate_limited`, `user_disabled`, `email_not_verified`,
    /// `method_disabled`, `mfa_required`.
    fn sign_in_password(email: String, password: String, app: Option<String>, client: Option<ClientInfo>, device_token: Option<String>) -> AuthSession
        [app = None, client = None, device_token = None]
        |core| passwords::sign_in(
            core, app.as_deref(), &email, &password, device_token.as_deref(), &client_info(client),
        );

    /// Change a user's password after checking the current one; every other
    /// session of the user is revoked (`keep_session_id` stays signed in).
    ///
    /// Errors: `invalid_credentials`, `weak_password`, `rate_limited`, `not_found`.
    fn change_password(user_id: String, current_password: String, new_password: String, keep_session_id: Option<String>, app: Option<String>, client: Option<ClientInfo>) -> ()
        [keep_session_id = None, app = None, client = None]
        |core| passwords::change(
            core,
            app.as_deref(),
            parse_id("user_id", &user_id)?,
            parse_opt_id("keep_session_id", keep_session_id)?,
            Change { current: &current_password, new: &new_password },
            &client_info(client),
        );
}
