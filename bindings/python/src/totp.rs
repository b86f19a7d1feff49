//! TOTP and recovery codes of a signed-in user: `TotpEnrollment`, `MfaStatus`
//! and the methods that enrol, confirm, disable and regenerate.

use pyo3::prelude::*;
use pyo3::types::PyDict;
use tessera_bindings_common::totp::{self, Reauth};

use crate::convert::{Id, ToPy, client};
use crate::{AsyncTessera, Tessera};

/// A started TOTP enrolment: what the user's authenticator app needs. The
/// secret is inactive until confirmed with a first code.
#[pyclass(frozen, module = "tessera")]
pub(crate) struct TotpEnrollment {
    /// The secret, base32 without padding (for typing it in by hand).
    #[pyo3(get)]
    secret: String,
    /// The `otpauth://totp/…` URI (issuer = the app's name, account = the email).
    #[pyo3(get)]
    otpauth_uri: String,
    /// The URI as a QR code: an `<svg>` element, ready to inline in HTML.
    #[pyo3(get)]
    qr_svg: String,
}

#[pymethods]
impl TotpEnrollment {
    /// The HTTP API's shape: `secret`, `otpauth_uri`, `qr_svg`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("secret", &self.secret)?;
        d.set_item("otpauth_uri", &self.otpauth_uri)?;
        d.set_item("qr_svg", &self.qr_svg)?;
        Ok(d)
    }
    fn __repr__(&self) -> &'static str {
        "TotpEnrollment(...)"
    }
}

impl ToPy for tessera_core::TotpEnrollment {
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let value = TotpEnrollment {
            secret: self.secret,
            otpauth_uri: self.otpauth_uri,
            qr_svg: self.qr_svg,
        };
        Ok(Py::new(py, value)?.into_any())
    }
}

crate::record! {
    /// A user's second factors, as an account page shows them.
    pub(crate) struct MfaStatus(tessera_core::MfaStatus) repr(totp_enabled, recovery_codes_left, passkeys) {
        /// TOTP is confirmed and asked for at sign-in.
        totp_enabled,
        /// A TOTP enrolment was started but not confirmed.
        totp_pending,
        /// Unspent recovery codes.
        recovery_codes_left,
        /// Registered passkeys.
        passkeys,
        /// Whether the app requires a second factor of everyone.
        required_by_app,
        /// Whether the user has a password (re-authentication asks for it;
        /// otherwise for a TOTP code).
        has_password,
    }
}

crate::methods! {
    /// Start TOTP enrolment for a signed-in user: a `TotpEnrollment` (secret,
    /// `otpauth://` URI, QR code). Inactive until `confirm_totp`.
    fn enroll_totp(user_id: Id, app: Option<String>, ip: Option<String>, user_agent: Option<String>)
        [user_id, *, app = None, ip = None, user_agent = None]
        |core| totp::enroll(core, app.as_deref(), user_id.0, &client(ip, user_agent));
    /// The started, unconfirmed `TotpEnrollment` shown again, or `None`.
    fn pending_totp_enrollment(user_id: Id, app: Option<String>)
        [user_id, *, app = None]
        |core| totp::pending(core, app.as_deref(), user_id.0);
    /// Confirm a started enrolment with a first code: TOTP becomes active;
    /// returns 10 recovery codes, shown this once.
    fn confirm_totp(user_id: Id, code: String, app: Option<String>, ip: Option<String>, user_agent: Option<String>)
        [user_id, code, *, app = None, ip = None, user_agent = None]
        |core| totp::confirm(core, app.as_deref(), user_id.0, &code, &client(ip, user_agent));
    /// Turn TOTP off and delete the recovery codes. Re-authentication:
    /// `password=` when the user has one, else `code=` (a current TOTP code).
    fn disable_totp(user_id: Id, password: Option<String>, code: Option<String>, app: Option<String>, ip: Option<String>, user_agent: Option<String>)
        [user_id, *, password = None, code = None, app = None, ip = None, user_agent = None]
        |core| totp::disable(
            core, app.as_deref(), user_id.0,
            Reauth { password: password.as_deref(), code: code.as_deref() },
            &client(ip, user_agent),
        );
    /// Replace the recovery codes with a new set (returned, shown once);
    /// re-authentication as for `disable_totp`.
    fn regenerate_recovery_codes(user_id: Id, password: Option<String>, code: Option<String>, app: Option<String>, ip: Option<String>, user_agent: Option<String>)
        [user_id, *, password = None, code = None, app = None, ip = None, user_agent = None]
        |core| totp::regenerate_recovery_codes(
            core, app.as_deref(), user_id.0,
            Reauth { password: password.as_deref(), code: code.as_deref() },
            &client(ip, user_agent),
        );
    /// The user's second factors: an `MfaStatus`.
    fn mfa_status(user_id: Id, app: Option<String>)
        [user_id, *, app = None]
        |core| totp::status(core, app.as_deref(), user_id.0);
}
