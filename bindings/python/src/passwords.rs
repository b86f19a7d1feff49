//! Password sign-up, sign-in (with the device token) and change.

use tessera_bindings_common::passwords::{self, Change};

use crate::convert::{Id, ToPy, client};
use crate::{AsyncTessera, Tessera};

/// A password sign-in: its session carries the device token issued; a
/// sign-in that needs a second factor raises `MfaRequired` carrying it.
impl ToPy for tessera_core::PasswordSignIn {
    fn to_py(self, py: pyo3::Python<'_>) -> pyo3::PyResult<pyo3::Py<pyo3::PyAny>> {
        crate::sessions::signed_in(py, self.outcome, Some(self.device_token))
    }
}

crate::methods! {
    /// Create an account with a password and sign it in. Returns the
    /// `AuthSession`, or `None` when the app requires a verified email first.
    fn sign_up(email: String, password: String, name: Option<String>, app: Option<String>, ip: Option<String>, user_agent: Option<String>)
        [email, password, name = None, *, app = None, ip = None, user_agent = None]
        |core| passwords::sign_up(core, app.as_deref(), &email, &password, name.as_deref(), &client(ip, user_agent));
    /// Sign in with email and password. Raises `MfaRequired` (with
    /// `.mfa_token`, `.methods` and `.device_token`) when a second factor is
    /// needed. Pass the `device_token` of this device's last sign-in: failures
    /// from elsewhere never throttle it; the answer carries a fresh one.
    fn sign_in_password(email: String, password: String, device_token: Option<String>, app: Option<String>, ip: Option<String>, user_agent: Option<String>)
        [email, password, *, device_token = None, app = None, ip = None, user_agent = None]
        |core| passwords::sign_in(core, app.as_deref(), &email, &password, device_token.as_deref(), &client(ip, user_agent));
    /// Change a user's password after checking the current one; every other
    /// session of the user (all but `keep_session`) is revoked.
    fn change_password(user_id: Id, current_password: String, new_password: String, keep_session: Option<Id>, app: Option<String>, ip: Option<String>, user_agent: Option<String>)
        [user_id, current_password, new_password, *, keep_session = None, app = None, ip = None, user_agent = None]
        |core| passwords::change(
            core, app.as_deref(), user_id.0, keep_session.map(|s| s.0),
            Change { current: &current_password, new: &new_password },
            &client(ip, user_agent),
        );
}
