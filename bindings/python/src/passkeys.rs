//! Passkeys (WebAuthn): `PasskeyChallenge`, `PasskeyInfo` and the methods of
//! registration, sign-in, the MFA step and management. Credentials arrive as
//! the W3C JSON (`PublicKeyCredential.toJSON()`), a dict or its text.

use pyo3::prelude::*;
use pyo3::types::PyDict;
use tessera_bindings_common::passkeys::{self, Answer};

use crate::convert::{Id, Json, ToPy, client, json_to_py};
use crate::{AsyncTessera, Tessera};

/// The first half of a WebAuthn ceremony: options for the browser and the
/// ceremony id to send back with its answer.
#[pyclass(frozen, module = "tessera")]
pub(crate) struct PasskeyChallenge {
    /// The ceremony id (`tsw_…`, single use, 5 minutes).
    #[pyo3(get)]
    ceremony: String,
    public_key: serde_json::Value,
}

#[pymethods]
impl PasskeyChallenge {
    /// The W3C JSON options (`PublicKeyCredentialCreationOptionsJSON` or
    /// `…RequestOptionsJSON`, buffers base64url), as a dict: what
    /// `PublicKeyCredential.parseCreationOptionsFromJSON` /
    /// `parseRequestOptionsFromJSON` take.
    #[getter]
    fn public_key<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, &self.public_key)
    }
    /// The HTTP API's shape: `{"ceremony": …, "publicKey": {…}}`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("ceremony", &self.ceremony)?;
        d.set_item("publicKey", json_to_py(py, &self.public_key)?)?;
        Ok(d)
    }
    fn __repr__(&self) -> &'static str {
        "PasskeyChallenge(...)"
    }
}

impl ToPy for tessera_core::PasskeyChallenge {
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let value = PasskeyChallenge {
            ceremony: self.ceremony,
            public_key: self.public_key,
        };
        Ok(Py::new(py, value)?.into_any())
    }
}

crate::record! {
    /// A registered passkey, as its owner sees it (no key material).
    pub(crate) struct PasskeyInfo(tessera_core::PasskeyInfo) repr(id, name) {
        /// Id of the stored passkey (for rename and delete).
        id,
        /// The name the user gave it.
        name,
        /// The WebAuthn credential id, base64url.
        credential_id,
        /// The authenticator model's AAGUID, when it reported a non-zero one.
        aaguid,
        /// Whether the key may be synced to other devices.
        backup_eligible,
        /// Whether it was backed up or synced at its last use.
        backup_state,
        /// The authenticator's signature counter at its last use.
        sign_count,
        /// Transports the authenticator said it can use.
        transports,
        /// When it was registered.
        created_at,
        /// When it last signed the user in.
        last_used_at,
    }
}

crate::methods! {
    /// Begin registering a passkey for a signed-in user: a `PasskeyChallenge`.
    fn start_passkey_registration(user_id: Id, app: Option<String>)
        [user_id, *, app = None]
        |core| passkeys::start_registration(core, app.as_deref(), user_id.0);
    /// Finish a registration with the authenticator's answer
    /// (`PublicKeyCredential.toJSON()`, a dict or its JSON text): `PasskeyInfo`.
    fn finish_passkey_registration(user_id: Id, ceremony: String, credential: Json, name: Option<String>, app: Option<String>, ip: Option<String>, user_agent: Option<String>)
        [user_id, ceremony, credential, *, name = None, app = None, ip = None, user_agent = None]
        |core| passkeys::finish_registration(
            core, app.as_deref(), user_id.0,
            Answer { ceremony, credential: credential.0 },
            name.as_deref(), &client(ip, user_agent),
        );
    /// Begin a passkey sign-in: discoverable without `email=`, else listing
    /// that account's passkeys (the same shape whether or not it exists).
    fn start_passkey_sign_in(email: Option<String>, app: Option<String>)
        [*, email = None, app = None]
        |core| passkeys::start_sign_in(core, app.as_deref(), email.as_deref());
    /// Finish a passkey sign-in with the assertion: the `AuthSession`
    /// (`amr` `hwk` or `swk`, plus `mfa`).
    fn finish_passkey_sign_in(ceremony: String, credential: Json, app: Option<String>, ip: Option<String>, user_agent: Option<String>)
        [ceremony, credential, *, app = None, ip = None, user_agent = None]
        |core| passkeys::finish_sign_in(
            core, app.as_deref(), Answer { ceremony, credential: credential.0 }, &client(ip, user_agent),
        );
    /// Begin finishing a sign-in that raised `MfaRequired` with a passkey.
    fn start_passkey_mfa(mfa_token: String, app: Option<String>)
        [mfa_token, *, app = None]
        |core| passkeys::start_mfa(core, app.as_deref(), &mfa_token);
    /// Finish the MFA step with a passkey assertion: the `AuthSession`.
    fn finish_passkey_mfa(mfa_token: String, ceremony: String, credential: Json, app: Option<String>, ip: Option<String>, user_agent: Option<String>)
        [mfa_token, ceremony, credential, *, app = None, ip = None, user_agent = None]
        |core| passkeys::finish_mfa(
            core, app.as_deref(), &mfa_token, Answer { ceremony, credential: credential.0 }, &client(ip, user_agent),
        );
    /// The user's passkeys (`PasskeyInfo`), oldest first.
    fn list_passkeys(user_id: Id)
        [user_id]
        |core| passkeys::list(core, user_id.0);
    /// Rename one of the user's passkeys.
    fn rename_passkey(user_id: Id, passkey_id: Id, name: String)
        [user_id, passkey_id, name]
        |core| passkeys::rename(core, user_id.0, passkey_id.0, &name);
    /// Delete one of the user's passkeys (not their last way to sign in).
    fn delete_passkey(user_id: Id, passkey_id: Id)
        [user_id, passkey_id]
        |core| passkeys::delete(core, user_id.0, passkey_id.0);
}
