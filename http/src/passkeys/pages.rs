//! Hosted passkey pages: the "Sign in with a passkey" button of the sign-in
//! page and the "Use a passkey" button of the MFA step, the signed-in user's
//! passkey management page, the hosted finishes, and the one script all of
//! them use (`/assets/passkeys.js`).
//!
//! Passkeys are the one hosted feature that needs JavaScript (WebAuthn is a
//! browser API). The script is a same-origin file, so the strict CSP
//! (`script-src 'self'`, no inline scripts) stays as it is; its URL carries
//! a hash of its content, so it can be cached for a year and still change
//! with a release. The page's own JSON calls go to the `/v1` API with the
//! session cookie, which the router accepts from this origin (the `Origin`
//! check of cookie-authenticated requests); the sign-in finish is a hosted
//! endpoint that checks the page's CSRF token, then sets the session cookies
//! like every other hosted sign-in and says where to go next (the account
//! page or the app's registered redirect URI).

use std::sync::OnceLock;

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tessera_core::crypto::TokenHash;
use tessera_core::model::{App, SignInMethod};
use tessera_core::{AuthSession, Error, MfaMethod, PasskeyInfo};
use utoipa_axum::router::OpenApiRouter;

use crate::error::{ApiError, ErrorEnvelope};
use crate::extract::Client;
use crate::hosted::{
    Page, PageJson, PageParams, csrf_forms, html, next_location, server_error, signed_in_jar,
    signed_in_user,
};
use crate::openapi::handlers;
use crate::state::AppState;

/// Routes of this module.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    handlers![passkeys_page; passkey_sign_in; passkey_mfa; script]
}

/// The script, embedded in the binary.
const SCRIPT: &str = include_str!("../../assets/passkeys.js");

/// The script's URL relative to a page, versioned by its content hash.
pub(crate) fn script_href() -> &'static str {
    static HREF: OnceLock<String> = OnceLock::new();
    HREF.get_or_init(|| {
        let hash = TokenHash::of(SCRIPT).to_hex();
        format!("assets/passkeys.js?v={}", &hash[..16])
    })
}

/// What the sign-in page needs for its passkey button.
pub(crate) struct SignInButton {
    /// JSON route that starts the ceremony (relative).
    pub(crate) start: &'static str,
    /// Hosted finish endpoint, with the page's `?app=&redirect_uri=`.
    pub(crate) finish: String,
    /// App id, sent as `X-Tessera-App`.
    pub(crate) app: String,
    /// The page's CSRF token.
    pub(crate) csrf: String,
    /// The script URL.
    pub(crate) script: &'static str,
}

impl SignInButton {
    /// The button for `app`'s sign-in page, if the app allows passkeys.
    pub(crate) fn for_app(app: &App, p: &PageParams, csrf: &str) -> Option<Self> {
        app.settings
            .allows(SignInMethod::Passkey)
            .then(|| SignInButton {
                start: "v1/sign-in/passkey/start",
                finish: format!("sign-in/passkey{}", p.query()),
                app: app.id.to_string(),
                csrf: csrf.to_owned(),
                script: script_href(),
            })
    }
}

/// What an MFA step page needs for a "Use a passkey" button (`#passkey-mfa`,
/// driven by the same script): render it when the challenge's methods
/// include `passkey`.
pub(crate) struct MfaButton {
    /// JSON route that starts the ceremony (relative).
    pub(crate) start: &'static str,
    /// Hosted finish endpoint, with the page's `?app=&redirect_uri=`.
    pub(crate) finish: String,
    /// App id, sent as `X-Tessera-App`.
    pub(crate) app: String,
    /// The page's CSRF token.
    pub(crate) csrf: String,
    /// The MFA token of the challenge.
    pub(crate) mfa_token: String,
    /// The script URL.
    pub(crate) script: &'static str,
}

impl MfaButton {
    /// The button for an MFA challenge offering `methods`, if `passkey` is one.
    pub(crate) fn for_challenge(
        app: &App,
        p: &PageParams,
        csrf: &str,
        mfa_token: &str,
        methods: &[MfaMethod],
    ) -> Option<Self> {
        methods.contains(&MfaMethod::Passkey).then(|| MfaButton {
            start: "v1/sign-in/mfa/passkey/start",
            finish: format!("sign-in/mfa/passkey{}", p.query()),
            app: app.id.to_string(),
            csrf: csrf.to_owned(),
            mfa_token: mfa_token.to_owned(),
            script: script_href(),
        })
    }
}

/// A passkey row of the management page.
struct Row {
    id: String,
    name: String,
    created: String,
    last_used: Option<String>,
    synced: bool,
    href: String,
}

impl From<PasskeyInfo> for Row {
    fn from(p: PasskeyInfo) -> Self {
        let day = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d").to_string();
        Row {
            id: p.id.to_string(),
            href: format!("v1/passkeys/{}", p.id),
            name: p.name,
            created: day(p.created_at),
            last_used: p.last_used_at.map(day),
            synced: p.backup_state,
        }
    }
}

#[derive(Template)]
#[template(path = "passkeys/passkeys.html")]
struct PasskeysPage<'a> {
    app_name: &'a str,
    email: &'a str,
    passkeys: Vec<Row>,
    register_start: &'static str,
    register_finish: &'static str,
    account_href: String,
    script: &'static str,
}

/// The signed-in user's passkeys: list, add, rename, delete.
#[utoipa::path(get, path = "/passkeys", tag = "pages", params(PageParams),
    responses((status = 200, description = "Passkey management page", content_type = "text/html"),
              (status = 303, description = "Not signed in: to the sign-in page")))]
async fn passkeys_page(State(state): State<AppState>, page: Page) -> Response {
    let user = match signed_in_user(&state, &page).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let passkeys = match state.tessera.passkeys().list(user.id).await {
        Ok(list) => list.into_iter().map(Row::from).collect(),
        Err(e) => return server_error(e),
    };
    let res = html(
        StatusCode::OK,
        &PasskeysPage {
            app_name: &page.app.name,
            email: &user.email,
            passkeys,
            register_start: "v1/passkeys/register/start",
            register_finish: "v1/passkeys/register/finish",
            account_href: page.params.href("account"),
            script: script_href(),
        },
    );
    (page.jar, res).into_response()
}

/// The hosted passkey sign-in finish.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct PasskeySignInForm {
    /// The page's CSRF token.
    csrf: String,
    /// The ceremony id from `POST /v1/sign-in/passkey/start`.
    ceremony: String,
    /// `PublicKeyCredential.toJSON()` of `navigator.credentials.get()`.
    #[schema(value_type = Object)]
    credential: Value,
}

/// Where the page goes after a hosted passkey sign-in.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct NextView {
    /// The app's registered redirect URI, or the account page (relative).
    redirect: String,
}

/// The hosted MFA step finished with a passkey.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct PasskeyMfaForm {
    /// The page's CSRF token.
    csrf: String,
    /// The MFA token of the challenge.
    mfa_token: String,
    /// The ceremony id from `POST /v1/sign-in/mfa/passkey/start`.
    ceremony: String,
    /// `PublicKeyCredential.toJSON()` of `navigator.credentials.get()`.
    #[schema(value_type = Object)]
    credential: Value,
}

csrf_forms!(PasskeySignInForm, PasskeyMfaForm);

/// A hosted passkey finish: rate limited as a sign-in, then `call`; answers
/// the session cookies and where the page goes next, or the error in the JSON
/// envelope (the page's script shows it).
async fn finished(
    (state, client): (&AppState, &Client),
    (jar, params): (CookieJar, &PageParams),
    method: &'static str,
    call: impl Future<Output = Result<AuthSession, Error>>,
) -> Response {
    match state.sign_in(method, &client.0, None, call).await {
        Ok(session) => {
            let jar = signed_in_jar(state, jar, &session);
            let next = NextView {
                redirect: next_location(params),
            };
            (jar, axum::Json(next)).into_response()
        }
        Err(e) => ApiError(e).into_response(),
    }
}

/// Finish a passkey sign-in from the hosted page: sets the session cookies
/// and answers where to go (the account page, or the validated redirect URI).
#[utoipa::path(post, path = "/sign-in/passkey", tag = "pages", params(PageParams),
    request_body = PasskeySignInForm,
    responses((status = 200, description = "Signed in: session cookies set", body = NextView),
              (status = 401, description = "Invalid credentials or ceremony", body = ErrorEnvelope),
              (status = 403, description = "CSRF check failed", body = ErrorEnvelope),
              (status = 429, description = "Rate limited", body = ErrorEnvelope)))]
async fn passkey_sign_in(
    State(state): State<AppState>,
    client: Client,
    PageJson { page, body }: PageJson<PasskeySignInForm>,
) -> Response {
    let Page {
        app, params, jar, ..
    } = page;
    let passkeys = state.tessera.passkeys();
    let call = passkeys.finish_sign_in(&app, &body.ceremony, &body.credential, &client.0);
    finished((&state, &client), (jar, &params), "passkey", call).await
}

/// Complete an MFA challenge with a passkey from a hosted page: sets the
/// session cookies and answers where to go.
#[utoipa::path(post, path = "/sign-in/mfa/passkey", tag = "pages", params(PageParams),
    request_body = PasskeyMfaForm,
    responses((status = 200, description = "Signed in: session cookies set", body = NextView),
              (status = 401, description = "Invalid credentials, token or ceremony", body = ErrorEnvelope),
              (status = 403, description = "CSRF check failed", body = ErrorEnvelope),
              (status = 429, description = "Rate limited", body = ErrorEnvelope)))]
async fn passkey_mfa(
    State(state): State<AppState>,
    client: Client,
    PageJson { page, body }: PageJson<PasskeyMfaForm>,
) -> Response {
    let Page {
        app, params, jar, ..
    } = page;
    let passkeys = state.tessera.passkeys();
    let call = passkeys.finish_mfa(
        &app,
        &body.mfa_token,
        &body.ceremony,
        &body.credential,
        &client.0,
    );
    finished((&state, &client), (jar, &params), "mfa_passkey", call).await
}

/// The passkey script of the hosted pages.
#[utoipa::path(get, path = "/assets/passkeys.js", tag = "pages",
    responses((status = 200, description = "Script", content_type = "text/javascript")))]
async fn script() -> Response {
    let mut res = SCRIPT.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    // The pages reference it with a content hash (`?v=`), so a year is safe.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_url_changes_with_its_content() {
        let href = script_href();
        assert!(href.starts_with("assets/passkeys.js?v="));
        assert_eq!(href.len(), "assets/passkeys.js?v=".len() + 16);
    }
}
