//! The email flows: verification, password reset, sign-in codes, magic
//! links and address changes. Mail leaves through the outbox (SMTP when
//! `OpenOptions.smtpUrl` is set, else the log).

use tessera_bindings_common::emails;

use crate::Tessera;
use crate::convert::parse_id;
use crate::sessions::{AuthSession, ClientInfo, client_info};
use crate::users::User;

crate::exports! {
    /// Queue a verification link for the user (nothing if already verified).
    fn send_verification(user_id: String, app: Option<String>) -> () [app = None]
        |core| emails::send_verification(core, app.as_deref(), parse_id("user_id", &user_id)?);

    /// Verify an address with the token of a verification link.
    ///
    /// Errors: `invalid_token`, `token_expired`.
    fn verify_email(token: String) -> User
        |core| emails::verify_email(core, &token);

    /// Queue a password-reset link, if the address has an account (the same
    /// answer either way).
    fn send_password_reset(email: String, app: Option<String>, client: Option<ClientInfo>) -> ()
        [app = None, client = None]
        |core| emails::send_password_reset(core, app.as_deref(), &email, &client_info(client));

    /// Set a new password with a reset token; every session is revoked.
    ///
    /// Errors: `invalid_token`, `token_expired`, `weak_password`.
    fn reset_password(token: String, new_password: String, client: Option<ClientInfo>) -> ()
        [client = None]
        |core| emails::reset_password(core, &token, &new_password, &client_info(client));

    /// Queue a six-digit sign-in code, if the address has an account.
    fn send_sign_in_code(email: String, app: Option<String>, client: Option<ClientInfo>) -> ()
        [app = None, client = None]
        |core| emails::send_sign_in_code(core, app.as_deref(), &email, &client_info(client));

    /// Sign in with an emailed code (once, 10 minutes, 5 wrong tries).
    ///
    /// Errors: `invalid_credentials` for every failure.
    fn sign_in_with_code(email: String, code: String, app: Option<String>, client: Option<ClientInfo>) -> AuthSession
        [app = None, client = None]
        |core| emails::sign_in_with_code(core, app.as_deref(), &email, &code, &client_info(client));

    /// Queue a magic sign-in link, if the address has an account; with a
    /// registered `redirect_uri` the link goes there with `?token=`.
    fn send_magic_link(email: String, redirect_uri: Option<String>, app: Option<String>, client: Option<ClientInfo>) -> ()
        [redirect_uri = None, app = None, client = None]
        |core| emails::send_magic_link(
            core, app.as_deref(), &email, redirect_uri.as_deref(), &client_info(client),
        );

    /// Sign in with the token of a magic link.
    ///
    /// Errors: `invalid_token`, `token_expired`, `user_disabled`.
    fn sign_in_with_magic_link(token: String, client: Option<ClientInfo>) -> AuthSession
        [client = None]
        |core| emails::sign_in_with_magic_link(core, &token, &client_info(client));

    /// Ask to change a user's address; confirmed from the new address.
    fn request_email_change(user_id: String, new_email: String, app: Option<String>, client: Option<ClientInfo>) -> ()
        [app = None, client = None]
        |core| emails::request_email_change(
            core, app.as_deref(), parse_id("user_id", &user_id)?, &new_email, &client_info(client),
        );

    /// Confirm an address change with the token sent to the new address.
    ///
    /// Errors: `invalid_token`, `token_expired`, `email_taken`.
    fn confirm_email_change(token: String, client: Option<ClientInfo>) -> User [client = None]
        |core| emails::confirm_email_change(core, &token, &client_info(client));
}
