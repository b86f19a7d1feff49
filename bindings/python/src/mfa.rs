//! The MFA step of a sign-in that raised `MfaRequired`: finishing it with a
//! TOTP or recovery code, or enrolling TOTP when the app requires it
//! (`EnrolledSignIn`).

use pyo3::prelude::*;
use tessera_bindings_common::mfa;

use crate::convert::{ToPy, client};
use crate::{AsyncTessera, Tessera};

/// A sign-in finished by enrolling TOTP (the app requires a second factor):
/// the session and the recovery codes to show the user this once.
#[pyclass(frozen, module = "tessera")]
pub(crate) struct EnrolledSignIn {
    /// The new recovery codes (10, single use).
    #[pyo3(get)]
    recovery_codes: Vec<String>,
    /// The session (an `AuthSession`).
    #[pyo3(get)]
    session: Py<PyAny>,
}

#[pymethods]
impl EnrolledSignIn {
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "EnrolledSignIn(recovery_codes=<{}>, session={})",
            self.recovery_codes.len(),
            self.session.bind(py).repr()?
        ))
    }
}

impl ToPy for tessera_core::EnrolledSignIn {
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let value = EnrolledSignIn {
            recovery_codes: self.recovery_codes,
            session: self.session.to_py(py)?,
        };
        Ok(Py::new(py, value)?.into_any())
    }
}

crate::methods! {
    /// Finish a sign-in that raised `MfaRequired` with a TOTP code (accepted
    /// once): the `AuthSession`.
    fn complete_mfa_with_totp(mfa_token: String, code: String, app: Option<String>, ip: Option<String>, user_agent: Option<String>)
        [mfa_token, code, *, app = None, ip = None, user_agent = None]
        |core| mfa::verify_totp(core, app.as_deref(), &mfa_token, &code, &client(ip, user_agent));
    /// Finish a sign-in that raised `MfaRequired` with a recovery code (spent).
    fn complete_mfa_with_recovery_code(mfa_token: String, recovery_code: String, app: Option<String>, ip: Option<String>, user_agent: Option<String>)
        [mfa_token, recovery_code, *, app = None, ip = None, user_agent = None]
        |core| mfa::verify_recovery_code(core, app.as_deref(), &mfa_token, &recovery_code, &client(ip, user_agent));
    /// When the app requires a second factor the user lacks (`methods ==
    /// ["totp_enroll"]`): start TOTP enrolment with the `mfa_token`.
    fn enroll_totp_for_mfa(mfa_token: String, app: Option<String>, ip: Option<String>, user_agent: Option<String>)
        [mfa_token, *, app = None, ip = None, user_agent = None]
        |core| mfa::enroll_totp(core, app.as_deref(), &mfa_token, &client(ip, user_agent));
    /// Confirm `enroll_totp_for_mfa` with a first code and finish the
    /// sign-in: an `EnrolledSignIn` (session and recovery codes).
    fn confirm_totp_for_mfa(mfa_token: String, code: String, app: Option<String>, ip: Option<String>, user_agent: Option<String>)
        [mfa_token, code, *, app = None, ip = None, user_agent = None]
        |core| mfa::confirm_totp(core, app.as_deref(), &mfa_token, &code, &client(ip, user_agent));
}
