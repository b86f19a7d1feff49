//! The MFA step of a sign-in: the challenge `MfaRequired` carries, the
//! enrolled sign-in record, and the methods that finish the sign-in.

use tessera_bindings_common::mfa;

use crate::Tessera;
use crate::sessions::{AuthSession, ClientInfo, client_info};
use crate::totp::TotpEnrollment;

/// A sign-in that needs a second factor: carried by
/// `TesseraException.MfaRequired` (`e.mfaToken`, `e.methods` in Kotlin).
/// `toString()` shows no token.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Debug)]
pub struct MfaChallenge {
    /// Short-lived token (`tsf_…`, 5 minutes) to present with the second factor.
    pub mfa_token: String,
    /// How it can be completed: `totp`, `recovery_code`, `passkey`, or
    /// `totp_enroll` (the app requires a second factor the user lacks).
    pub methods: Vec<String>,
    /// For a password sign-in, the device token the right password earned
    /// (see `AuthSession.deviceToken`); `null` otherwise.
    #[uniffi(default)]
    pub device_token: Option<String>,
}

impl std::fmt::Debug for MfaChallenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MfaChallenge")
            .field("methods", &self.methods)
            .finish_non_exhaustive()
    }
}

crate::mirror! {
    /// A sign-in finished by enrolling TOTP (the app requires a second factor):
    /// the session, and the recovery codes to show the user this once.
    /// `toString()` shows neither the codes nor the tokens.
    #[derive(Clone, PartialEq, Eq, uniffi::Record)]
    #[uniffi::export(Debug)]
    pub struct EnrolledSignIn from tessera_core::EnrolledSignIn {
        /// The new recovery codes (10, single use).
        pub recovery_codes: Vec<String>,
        /// The session.
        pub session: AuthSession,
    }
}

impl std::fmt::Debug for EnrolledSignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrolledSignIn")
            .field("recovery_codes", &self.recovery_codes.len())
            .field("session", &self.session)
            .finish()
    }
}

crate::exports! {
    /// Finish a sign-in that answered `MfaRequired` with a TOTP code
    /// (`amr` gains `otp` and `mfa`). A code is accepted once.
    ///
    /// Errors: `invalid_credentials` (wrong or reused code; after 5 the
    /// challenge is spent), `invalid_token` (unknown, spent or expired
    /// `mfa_token`, or another app's), `invalid_input` (`method`: the
    /// challenge does not accept TOTP), `rate_limited`, `user_disabled`.
    fn complete_mfa_with_totp(mfa_token: String, code: String, app: Option<String>, client: Option<ClientInfo>) -> AuthSession
        [app = None, client = None]
        |core| mfa::verify_totp(core, app.as_deref(), &mfa_token, &code, &client_info(client));

    /// Finish a sign-in that answered `MfaRequired` with a recovery code,
    /// which is spent (`amr` gains `mfa`).
    ///
    /// Errors: as `completeMfaWithTotp`.
    fn complete_mfa_with_recovery_code(mfa_token: String, recovery_code: String, app: Option<String>, client: Option<ClientInfo>) -> AuthSession
        [app = None, client = None]
        |core| mfa::verify_recovery_code(
            core, app.as_deref(), &mfa_token, &recovery_code, &client_info(client),
        );

    /// When the app requires a second factor the user lacks (`methods` =
    /// `["totp_enroll"]`): start TOTP enrolment with the `mfa_token` standing
    /// in for a session. Finish with `confirmTotpForMfa`.
    ///
    /// Errors: `invalid_token`, `invalid_input` (not an enrolment challenge), `conflict`.
    fn enroll_totp_for_mfa(mfa_token: String, app: Option<String>, client: Option<ClientInfo>) -> TotpEnrollment
        [app = None, client = None]
        |core| mfa::enroll_totp(core, app.as_deref(), &mfa_token, &client_info(client));

    /// Confirm the enrolment of `enrollTotpForMfa` with a first code and
    /// finish the sign-in: the session and the new recovery codes.
    ///
    /// Errors: as `completeMfaWithTotp`, and `not_found` (no enrolment started).
    fn confirm_totp_for_mfa(mfa_token: String, code: String, app: Option<String>, client: Option<ClientInfo>) -> EnrolledSignIn
        [app = None, client = None]
        |core| mfa::confirm_totp(core, app.as_deref(), &mfa_token, &code, &client_info(client));
}
