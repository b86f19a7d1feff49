//! TOTP and recovery codes of a signed-in user: the enrolment and status
//! records and the methods that enrol, confirm, disable and regenerate.

use tessera_bindings_common::totp::{self, Reauth};

use crate::Tessera;
use crate::convert::parse_id;
use crate::sessions::{ClientInfo, client_info};

crate::mirror! {
    /// A started TOTP enrolment: what the user's authenticator app needs. The
    /// secret is inactive until confirmed with a first code. `toString()` shows
    /// none of it.
    #[derive(Clone, PartialEq, Eq, uniffi::Record)]
    #[uniffi::export(Debug)]
    pub struct TotpEnrollment from tessera_core::TotpEnrollment {
        /// The secret, base32 without padding (for typing it in by hand).
        pub secret: String,
        /// The `otpauth://totp/…` URI (issuer = the app's name, account = the email).
        pub otpauth_uri: String,
        /// The URI as a QR code: an `<svg>` element, ready to inline in HTML.
        pub qr_svg: String,
    }
}

impl std::fmt::Debug for TotpEnrollment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpEnrollment").finish_non_exhaustive()
    }
}

crate::mirror! {
    /// A user's second factors, as an account page shows them.
    #[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
    pub struct MfaStatus from tessera_core::MfaStatus {
        /// TOTP is confirmed and asked for at sign-in.
        pub totp_enabled: bool,
        /// A TOTP enrolment was started but not confirmed.
        pub totp_pending: bool,
        /// Unspent recovery codes.
        pub recovery_codes_left: i32,
        /// Registered passkeys.
        pub passkeys: i32,
        /// Whether the app requires a second factor of everyone.
        pub required_by_app: bool,
        /// Whether the user has a password (re-authentication then asks for it;
        /// otherwise for a TOTP code).
        pub has_password: bool,
    }
}

crate::exports! {
    /// Start TOTP enrolment for a signed-in user: a new secret, its
    /// `otpauth://` URI and QR code. Inactive until `confirmTotp`; enrolling
    /// again replaces an unconfirmed secret.
    ///
    /// Errors: `conflict` (TOTP already enabled), `not_found`, `user_disabled`.
    fn enroll_totp(user_id: String, app: Option<String>, client: Option<ClientInfo>) -> TotpEnrollment
        [app = None, client = None]
        |core| totp::enroll(core, app.as_deref(), parse_id("user_id", &user_id)?, &client_info(client));

    /// The started, unconfirmed enrolment shown again; `null` if none.
    fn pending_totp_enrollment(user_id: String, app: Option<String>) -> Option<TotpEnrollment>
        [app = None]
        |core| totp::pending(core, app.as_deref(), parse_id("user_id", &user_id)?);

    /// Confirm a started enrolment with a first code: TOTP becomes active and
    /// the answer is a fresh set of 10 recovery codes, shown this once.
    ///
    /// Errors: `invalid_credentials` (wrong or reused code), `not_found` (no
    /// enrolment started), `conflict` (already enabled), `rate_limited`.
    fn confirm_totp(user_id: String, code: String, app: Option<String>, client: Option<ClientInfo>) -> Vec<String>
        [app = None, client = None]
        |core| totp::confirm(
            core, app.as_deref(), parse_id("user_id", &user_id)?, &code, &client_info(client),
        );

    /// Turn TOTP off (or cancel an unconfirmed enrolment) and delete the
    /// recovery codes. Re-authentication: `password` when the user has one,
    /// otherwise `code` (a current TOTP code).
    ///
    /// Errors: `reauthentication_required` (proof missing),
    /// `invalid_credentials` (proof wrong), `not_found` (no TOTP), `rate_limited`.
    fn disable_totp(user_id: String, password: Option<String>, code: Option<String>, app: Option<String>, client: Option<ClientInfo>) -> ()
        [password = None, code = None, app = None, client = None]
        |core| totp::disable(
            core,
            app.as_deref(),
            parse_id("user_id", &user_id)?,
            Reauth { password: password.as_deref(), code: code.as_deref() },
            &client_info(client),
        );

    /// Replace the user's recovery codes with a new set (the old ones stop
    /// working), shown this once. Re-authentication as for `disableTotp`.
    ///
    /// Errors: as `disableTotp`, and `conflict` (no second factor enabled).
    fn regenerate_recovery_codes(user_id: String, password: Option<String>, code: Option<String>, app: Option<String>, client: Option<ClientInfo>) -> Vec<String>
        [password = None, code = None, app = None, client = None]
        |core| totp::regenerate_recovery_codes(
            core,
            app.as_deref(),
            parse_id("user_id", &user_id)?,
            Reauth { password: password.as_deref(), code: code.as_deref() },
            &client_info(client),
        );

    /// The user's second factors (TOTP, recovery codes left, passkeys).
    fn mfa_status(user_id: String, app: Option<String>) -> MfaStatus [app = None]
        |core| totp::status(core, app.as_deref(), parse_id("user_id", &user_id)?);
}
