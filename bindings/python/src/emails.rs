//! The email flows: verification, password reset, sign-in codes, magic links
//! and address changes (no classes of their own: they answer `User`,
//! `AuthSession` or nothing).

use tessera_bindings_common::emails;

use crate::convert::{Id, client};
use crate::{AsyncTessera, Tessera};

crate::methods! {
    /// Queue a verification link for the user (nothing if already verified).
    fn send_verification(user_id: Id, app: Option<String>)
        [user_id, *, app = None]
        |core| emails::send_verification(core, app.as_deref(), user_id.0);
    /// Verify an address with the token of a verification link: the `User`.
    fn verify_email(token: String)
        [token]
        |core| emails::verify_email(core, &token);
    /// Queue a password-reset link, if the address has an account (the
    /// answer is the same either way).
    fn send_password_reset(email: String, app: Option<String>, ip: Option<String>, user_agent: Option<String>)
        [email, *, app = None, ip = None, user_agent = None]
        |core| emails::send_password_reset(core, app.as_deref(), &email, &client(ip, user_agent));
    /// Set a new password with a reset token; every session is revoked.
    fn reset_password(token: String, new_password: String, ip: Option<String>, user_agent: Option<String>)
        [token, new_password, *, ip = None, user_agent = None]
        |core| emails::reset_password(core, &token, &new_password, &client(ip, user_agent));
    /// Queue a six-digit sign-in code, if the address has an account.
    fn send_sign_in_code(email: String, app: Option<String>, ip: Option<String>, user_agent: Option<String>)
        [email, *, app = None, ip = None, user_agent = None]
        |core| emails::send_sign_in_code(core, app.as_deref(), &email, &client(ip, user_agent));
    /// Sign in with an emailed code (once, 10 minutes, 5 wrong tries).
    fn sign_in_with_code(email: String, code: String, app: Option<String>, ip: Option<String>, user_agent: Option<String>)
        [email, code, *, app = None, ip = None, user_agent = None]
        |core| emails::sign_in_with_code(core, app.as_deref(), &email, &code, &client(ip, user_agent));
    /// Queue a magic sign-in link, if the address has an account; with
    /// `redirect_uri` (registered) the link goes there with `?token=`.
    fn send_magic_link(email: String, redirect_uri: Option<String>, app: Option<String>, ip: Option<String>, user_agent: Option<String>)
        [email, *, redirect_uri = None, app = None, ip = None, user_agent = None]
        |core| emails::send_magic_link(core, app.as_deref(), &email, redirect_uri.as_deref(), &client(ip, user_agent));
    /// Sign in with the token of a magic link.
    fn sign_in_with_magic_link(token: String, ip: Option<String>, user_agent: Option<String>)
        [token, *, ip = None, user_agent = None]
        |core| emails::sign_in_with_magic_link(core, &token, &client(ip, user_agent));
    /// Ask to change a user's address; confirmed from the new address.
    fn request_email_change(user_id: Id, new_email: String, app: Option<String>, ip: Option<String>, user_agent: Option<String>)
        [user_id, new_email, *, app = None, ip = None, user_agent = None]
        |core| emails::request_email_change(core, app.as_deref(), user_id.0, &new_email, &client(ip, user_agent));
    /// Confirm an address change with the token sent to the new address: the `User`.
    fn confirm_email_change(token: String, ip: Option<String>, user_agent: Option<String>)
        [token, *, ip = None, user_agent = None]
        |core| emails::confirm_email_change(core, &token, &client(ip, user_agent));
}
