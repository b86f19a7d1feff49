//! Passkeys (WebAuthn): the challenge and passkey records, and the methods
//! of registration, sign-in, the MFA step and management. Options and
//! credentials cross as the W3C JSON text (`PublicKeyCredential.toJSON()`,
//! Credential Manager's `requestJson` / `registrationResponseJson`).

use std::time::SystemTime;

use serde_json::Value;
use tessera_bindings_common::passkeys::{self, Answer};

use crate::Tessera;
use crate::convert::parse_id;
use crate::sessions::{AuthSession, ClientInfo, client_info};

crate::mirror! {
    /// The first half of a WebAuthn ceremony: options for the browser or
    /// authenticator, and the ceremony id to send back with its answer.
    #[derive(Clone, PartialEq, Eq, uniffi::Record)]
    #[uniffi::export(Debug)]
    pub struct PasskeyChallenge from tessera_core::PasskeyChallenge {
        /// The ceremony id (`tsw_…`, single use, valid for 5 minutes).
        pub ceremony: String,
        /// The W3C JSON options as text (`PublicKeyCredentialCreationOptionsJSON`
        /// or `…RequestOptionsJSON`, buffers base64url): what
        /// `PublicKeyCredential.parseCreationOptionsFromJSON` /
        /// `parseRequestOptionsFromJSON` take, or Android Credential Manager's
        /// `CreatePublicKeyCredentialRequest` / `GetPublicKeyCredentialOption` `requestJson`.
        pub public_key_json: String = public_key,
    }
}

impl std::fmt::Debug for PasskeyChallenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasskeyChallenge")
            .field("public_key_json", &self.public_key_json)
            .finish_non_exhaustive()
    }
}

crate::mirror! {
    /// A registered passkey, as its owner sees it (no key material).
    #[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
    pub struct PasskeyInfo from tessera_core::PasskeyInfo {
        /// Id of the stored passkey (for rename and delete).
        pub id: String,
        /// The name the user gave it.
        pub name: String,
        /// The WebAuthn credential id, base64url.
        pub credential_id: String,
        /// The authenticator model's AAGUID, when it reported a non-zero one.
        pub aaguid: Option<String>,
        /// Whether the key may be synced to other devices (a "synced passkey").
        pub backup_eligible: bool,
        /// Whether it was backed up or synced at its last use.
        pub backup_state: bool,
        /// The authenticator's signature counter at its last use.
        pub sign_count: i64,
        /// Transports the authenticator said it can use (`internal`, `usb`, `hybrid`, …).
        pub transports: Vec<String>,
        /// When it was registered.
        pub created_at: SystemTime,
        /// When it last signed the user in.
        pub last_used_at: Option<SystemTime>,
    }
}

/// A ceremony's answer as Kotlin gives it: JSON text.
fn answer(ceremony: String, credential_json: String) -> Answer {
    Answer {
        ceremony,
        credential: Value::String(credential_json),
    }
}

crate::exports! {
    /// Begin registering a passkey for a signed-in user (discoverable, user
    /// verification required; the user's passkeys are excluded).
    ///
    /// Errors: `method_disabled` (passkeys off for the app), `invalid_input`
    /// (`passkeys`: too many), `not_found`, `config_error` (relying party).
    fn start_passkey_registration(user_id: String, app: Option<String>) -> PasskeyChallenge
        [app = None]
        |core| passkeys::start_registration(core, app.as_deref(), parse_id("user_id", &user_id)?);

    /// Finish a registration with the authenticator's answer
    /// (`PublicKeyCredential.toJSON()` of `navigator.credentials.create()`, as
    /// JSON text) and store the passkey under `name` (default "Passkey").
    ///
    /// Errors: `invalid_token` / `token_expired` (ceremony unknown, spent,
    /// expired, or another user's), `invalid_input` (`credential`: malformed
    /// or does not verify; `name`), `conflict` (already registered).
    fn finish_passkey_registration(user_id: String, ceremony: String, credential_json: String, name: Option<String>, app: Option<String>, client: Option<ClientInfo>) -> PasskeyInfo
        [name = None, app = None, client = None]
        |core| passkeys::finish_registration(
            core,
            app.as_deref(),
            parse_id("user_id", &user_id)?,
            answer(ceremony, credential_json),
            name.as_deref(),
            &client_info(client),
        );

    /// Begin a passkey sign-in: without `email`, for a discoverable
    /// credential (no email typed); with one, listing that account's
    /// passkeys. Same answer shape whether or not the account exists.
    ///
    /// Errors: `method_disabled`, `config_error`.
    fn start_passkey_sign_in(email: Option<String>, app: Option<String>) -> PasskeyChallenge
        [email = None, app = None]
        |core| passkeys::start_sign_in(core, app.as_deref(), email.as_deref());

    /// Finish a passkey sign-in with the authenticator's assertion (JSON
    /// text). A passkey is multi-factor by itself: `amr` is `hwk` or `swk`,
    /// plus `mfa`.
    ///
    /// Errors: `invalid_token` / `token_expired` (ceremony), `invalid_input`
    /// (`credential` malformed), `invalid_credentials` (does not verify, or
    /// not a passkey of the expected user), `user_disabled`,
    /// `email_not_verified`, `method_disabled`.
    fn finish_passkey_sign_in(ceremony: String, credential_json: String, app: Option<String>, client: Option<ClientInfo>) -> AuthSession
        [app = None, client = None]
        |core| passkeys::finish_sign_in(
            core, app.as_deref(), answer(ceremony, credential_json), &client_info(client),
        );

    /// Begin finishing a sign-in that answered `MfaRequired` (with
    /// `passkey` among its methods) with one of the user's passkeys.
    ///
    /// Errors: `invalid_token`, `method_disabled` (no passkey), `user_disabled`.
    fn start_passkey_mfa(mfa_token: String, app: Option<String>) -> PasskeyChallenge [app = None]
        |core| passkeys::start_mfa(core, app.as_deref(), &mfa_token);

    /// Finish the MFA step with a passkey assertion (JSON text): the session,
    /// `amr` = the first factor's plus `hwk`/`swk` and `mfa`.
    ///
    /// Errors: `invalid_token`, `invalid_credentials` (counts as a failed
    /// attempt), `rate_limited`, `invalid_input` (`credential`).
    fn finish_passkey_mfa(mfa_token: String, ceremony: String, credential_json: String, app: Option<String>, client: Option<ClientInfo>) -> AuthSession
        [app = None, client = None]
        |core| passkeys::finish_mfa(
            core, app.as_deref(), &mfa_token, answer(ceremony, credential_json), &client_info(client),
        );

    /// The user's passkeys, oldest first.
    fn list_passkeys(user_id: String) -> Vec<PasskeyInfo>
        |core| passkeys::list(core, parse_id("user_id", &user_id)?);

    /// Rename one of the user's passkeys.
    ///
    /// Errors: `not_found` (not a passkey of this user), `invalid_input` (`name`).
    fn rename_passkey(user_id: String, passkey_id: String, name: String) -> PasskeyInfo
        |core| passkeys::rename(
            core, parse_id("user_id", &user_id)?, parse_id("passkey_id", &passkey_id)?, &name,
        );

    /// Delete one of the user's passkeys, unless it is their last way to
    /// sign in.
    ///
    /// Errors: `not_found`, `last_sign_in_method`.
    fn delete_passkey(user_id: String, passkey_id: String) -> ()
        |core| passkeys::delete(
            core, parse_id("user_id", &user_id)?, parse_id("passkey_id", &passkey_id)?,
        );
}
