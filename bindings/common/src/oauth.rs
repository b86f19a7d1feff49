//! External sign-in (OAuth 2.0 / OpenID Connect): providers per app, the
//! start, the callback and the exchange of its code, linked identities.
//!
//! The bindings run the API flow: the callback (served by whoever owns
//! `{issuer}/v1/sign-in/oauth/{provider}/callback`) ends at the app's
//! registered `redirect_uri` with `?code=`, `?error=` or `?linked=`;
//! [`callback`] works out that address once for both bindings.

use tessera_core::model::{ClientInfo, Identity};
use tessera_core::{
    Authorization, CallbackParams, CallbackResult, Error, ProviderInput, ProviderView, Result,
    SignInOutcome, StartOptions, Tessera,
};
use uuid::Uuid;

use crate::app_of;

/// Configure (create or replace) a provider of the app.
pub async fn put_provider(
    core: &Tessera,
    app: Option<&str>,
    provider: &str,
    input: &ProviderInput,
) -> Result<ProviderView> {
    let app = app_of(core, app).await?;
    core.oauth().put_provider(&app, provider, input).await
}

/// A configured provider.
pub async fn get_provider(
    core: &Tessera,
    app: Option<&str>,
    provider: &str,
) -> Result<ProviderView> {
    let app = app_of(core, app).await?;
    core.oauth().get_provider(&app, provider).await
}

/// The app's providers, by name.
pub async fn list_providers(core: &Tessera, app: Option<&str>) -> Result<Vec<ProviderView>> {
    let app = app_of(core, app).await?;
    core.oauth().list_providers(&app).await
}

/// Remove a provider.
pub async fn delete_provider(core: &Tessera, app: Option<&str>, provider: &str) -> Result<()> {
    let app = app_of(core, app).await?;
    core.oauth().delete_provider(&app, provider).await
}

/// How a sign-in through a provider starts (API flow).
pub struct Start {
    /// The registered URI the flow ends at.
    pub redirect_uri: String,
    /// An S256 PKCE challenge binding the exchange to the caller's verifier.
    pub code_challenge: Option<String>,
    /// Link the provider to this user instead of signing in.
    pub link_user: Option<Uuid>,
}

/// Start signing in through `provider`: the authorization URL.
pub async fn start(
    core: &Tessera,
    app: Option<&str>,
    provider: &str,
    start: Start,
    client: &ClientInfo,
) -> Result<Authorization> {
    let app = app_of(core, app).await?;
    let options = StartOptions {
        redirect_uri: Some(start.redirect_uri),
        hosted: false,
        code_challenge: start.code_challenge,
        link_user: start.link_user,
    };
    core.oauth().start(&app, provider, &options, client).await
}

/// How a callback whose state was accepted ended.
pub enum CallbackEnd {
    /// A one-time exchange code (`tso_…`).
    Code(String),
    /// The sign-in failed after the state was accepted.
    Failed(Error),
    /// The provider was linked to the user (link mode).
    Linked(Identity),
    /// A hosted-page flow signed in (or needs a second factor).
    SignedIn(SignInOutcome),
}

/// Where a callback ends: the browser goes to `redirect_to`.
pub struct Callback {
    /// The app the flow was for.
    pub app_id: String,
    /// The provider name.
    pub provider: String,
    /// The registered URI the flow ends at, if any.
    pub redirect_uri: Option<String>,
    /// `redirect_uri` with `?code=`, `?error=` or `?linked=` (unchanged for
    /// a hosted sign-in).
    pub redirect_to: Option<String>,
    /// How it ended.
    pub end: CallbackEnd,
}

/// Handle the provider's return to the callback URL.
///
/// Errors: `invalid_token` / `token_expired` (state unknown, spent or
/// expired); later failures are in [`CallbackEnd::Failed`].
pub async fn callback(
    core: &Tessera,
    provider: &str,
    params: &CallbackParams,
    client: &ClientInfo,
) -> Result<Callback> {
    let outcome = core.oauth().callback(provider, params, client).await?;
    let uri = outcome.redirect_uri.as_deref();
    let (redirect_to, end) = match outcome.result {
        Err(e) => (
            uri.map(|u| with_query(u, "error", e.code())),
            CallbackEnd::Failed(e),
        ),
        Ok(CallbackResult::Code(code)) => (
            uri.map(|u| with_query(u, "code", &code)),
            CallbackEnd::Code(code),
        ),
        Ok(CallbackResult::Linked(identity)) => (
            uri.map(|u| with_query(u, "linked", &identity.provider)),
            CallbackEnd::Linked(identity),
        ),
        Ok(CallbackResult::SignedIn(outcome)) => {
            (uri.map(str::to_owned), CallbackEnd::SignedIn(outcome))
        }
    };
    Ok(Callback {
        app_id: outcome.app.id.to_string(),
        provider: outcome.provider,
        redirect_uri: outcome.redirect_uri,
        redirect_to,
        end,
    })
}

/// Exchange a callback's one-time code for the sign-in.
pub async fn exchange(
    core: &Tessera,
    code: &str,
    code_verifier: Option<&str>,
) -> Result<SignInOutcome> {
    let (_app, outcome) = core.oauth().exchange(code, code_verifier).await?;
    Ok(outcome)
}

/// A user's linked identities, oldest first.
pub async fn identities(core: &Tessera, user: Uuid) -> Result<Vec<Identity>> {
    core.oauth().identities(user).await
}

/// Unlink one of a user's identities (not their last way to sign in).
pub async fn unlink(
    core: &Tessera,
    app: Option<&str>,
    user: Uuid,
    identity: Uuid,
    client: &ClientInfo,
) -> Result<()> {
    let app = app_of(core, app).await?;
    core.oauth().unlink(&app, user, identity, client).await
}

fn with_query(uri: &str, key: &str, value: &str) -> String {
    let sep = if uri.contains('?') { '&' } else { '?' };
    let mut pair = url_encode(key);
    pair.push('=');
    pair.push_str(&url_encode(value));
    format!("{uri}{sep}{pair}")
}

/// `application/x-www-form-urlencoded` escaping of one key or value.
fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::with_query;

    #[test]
    fn query_is_appended_and_escaped() {
        assert_eq!(
            with_query("https://a.example/cb", "code", "tso_x"),
            "https://a.example/cb?code=tso_x"
        );
        assert_eq!(
            with_query("https://a.example/cb?x=1", "error", "a b&c"),
            "https://a.example/cb?x=1&error=a+b%26c"
        );
    }
}
