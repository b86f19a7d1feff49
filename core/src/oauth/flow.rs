//! The provider side of the flow: endpoints (from presets or discovery), the
//! authorization URL, the code exchange, ID token verification and the
//! profile fetch.
//!
//! The `oauth2` crate builds the authorization URL and performs the token
//! request (PKCE S256, client authentication, error answers); the
//! `openidconnect` crate verifies ID tokens (signature against the provider's
//! JWKS with asymmetric algorithms only, `iss`, `aud`, `nonce`, `exp`).
//! Discovery documents and key sets come through the [`Runtime`] cache.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope, StandardRevocableToken,
    StandardTokenResponse, TokenResponse, TokenUrl,
};
use openidconnect::core::{
    CoreGenderClaim, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
};
use openidconnect::{ClaimsVerificationError, IdToken, IssuerUrl, Nonce};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::config::{ProviderKind, Resolved, TokenAuth, check_url};
use super::http::{Runtime, provider_error};
use super::profile::{self, ExternalProfile};
use crate::{Error, ErrorKind, Result};

/// A failed step, with the reason recorded in the audit log.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) error: Error,
    pub(crate) reason: &'static str,
}

impl Failure {
    pub(crate) fn new(reason: &'static str, error: Error) -> Self {
        Failure { error, reason }
    }
}

type Step<T> = std::result::Result<T, Failure>;

/// The token answer, with the ID token kept as text for openidconnect.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub(crate) struct IdTokenField {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
}

impl oauth2::ExtraTokenFields for IdTokenField {}

type TokenAnswer = StandardTokenResponse<IdTokenField, BasicTokenType>;
type OAuthClient = oauth2::Client<
    BasicErrorResponse,
    TokenAnswer,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
>;

/// Every claim of an ID token, beyond the standard ones (`tid`, `xms_edov`, …).
#[derive(Clone, Debug, Deserialize, Serialize)]
struct AllClaims {
    #[serde(flatten)]
    rest: serde_json::Map<String, Value>,
}

impl openidconnect::AdditionalClaims for AllClaims {}

type AnyIdToken =
    IdToken<AllClaims, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>;

/// A provider's endpoints, as the flow uses them.
#[derive(Debug, Clone)]
pub(crate) struct Endpoints {
    pub(crate) authorization: String,
    pub(crate) token: String,
    pub(crate) userinfo: Option<String>,
    /// OIDC: the issuer ID tokens must carry (for Microsoft's multi-tenant
    /// endpoints, a template with `{tenantid}`).
    pub(crate) issuer: Option<String>,
    pub(crate) jwks_uri: Option<String>,
}

fn discovery_url(issuer: &str) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    )
}

fn doc_url(doc: &Value, key: &'static str, rt: &Runtime) -> Result<Option<String>> {
    match doc.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            check_url(key, s, rt.development).map_err(|e| {
                provider_error(format!(
                    "discovery names an unusable {key}: {}",
                    e.message()
                ))
            })?;
            Ok(Some(s.clone()))
        }
        Some(_) => Err(provider_error(format!("discovery has a malformed {key}"))),
    }
}

/// The endpoints of `p`: the preset's, or discovered (cached) for OIDC kinds,
/// with the administrator's overrides on top.
pub(crate) async fn endpoints(rt: &Runtime, p: &Resolved, fresh: bool) -> Result<Endpoints> {
    if !p.kind.is_oidc() {
        let need = |v: &Option<String>, what: &str| {
            v.clone()
                .ok_or_else(|| Error::config(format!("the provider has no {what} endpoint")))
        };
        return Ok(Endpoints {
            authorization: need(&p.authorization_endpoint, "authorization")?,
            token: need(&p.token_endpoint, "token")?,
            userinfo: p.userinfo_endpoint.clone(),
            issuer: None,
            jwks_uri: None,
        });
    }
    let issuer = p
        .issuer
        .clone()
        .ok_or_else(|| Error::config("the provider has no issuer"))?;
    let doc = rt.cached_json(&discovery_url(&issuer), fresh).await?;
    let doc_issuer = doc
        .get("issuer")
        .and_then(Value::as_str)
        .ok_or_else(|| provider_error("discovery has no issuer"))?;
    // The document must describe the issuer it was fetched from (OpenID
    // Connect Discovery 4.3), except Microsoft's multi-tenant endpoints, whose
    // issuer is a template checked per token against its `tid`.
    let template = doc_issuer.contains("{tenantid}");
    if !template && doc_issuer.trim_end_matches('/') != issuer.trim_end_matches('/') {
        return Err(provider_error(format!(
            "discovery issuer {doc_issuer:?} differs from the configured issuer"
        )));
    }
    let pick = |over: &Option<String>, key: &'static str| -> Result<Option<String>> {
        match over {
            Some(v) => Ok(Some(v.clone())),
            None => doc_url(&doc, key, rt),
        }
    };
    Ok(Endpoints {
        authorization: pick(&p.authorization_endpoint, "authorization_endpoint")?
            .ok_or_else(|| provider_error("discovery has no authorization_endpoint"))?,
        token: pick(&p.token_endpoint, "token_endpoint")?
            .ok_or_else(|| provider_error("discovery has no token_endpoint"))?,
        userinfo: pick(&p.userinfo_endpoint, "userinfo_endpoint")?,
        issuer: Some(doc_issuer.to_owned()),
        jwks_uri: Some(
            doc_url(&doc, "jwks_uri", rt)?
                .ok_or_else(|| provider_error("discovery has no jwks_uri"))?,
        ),
    })
}

fn bad_config(e: impl std::fmt::Display) -> Error {
    Error::config(format!("unusable provider URL: {e}"))
}

fn client(p: &Resolved, callback: &str) -> Result<OAuthClient> {
    Ok(OAuthClient::new(ClientId::new(p.client_id.clone()))
        .set_redirect_uri(RedirectUrl::new(callback.to_owned()).map_err(bad_config)?)
        .set_auth_type(match p.token_auth {
            TokenAuth::ClientSecretBasic => AuthType::BasicAuth,
            TokenAuth::ClientSecretPost => AuthType::RequestBody,
        }))
}

/// What the authorization URL carries.
pub(crate) struct AuthorizeParams<'a> {
    pub(crate) callback: &'a str,
    pub(crate) state: &'a str,
    pub(crate) nonce: &'a str,
    pub(crate) pkce_verifier: &'a str,
}

/// The provider's authorization URL for one sign-in.
pub(crate) fn authorization_url(
    p: &Resolved,
    e: &Endpoints,
    a: &AuthorizeParams<'_>,
) -> Result<String> {
    let client = client(p, a.callback)?
        .set_auth_uri(AuthUrl::new(e.authorization.clone()).map_err(bad_config)?);
    let state = a.state.to_owned();
    let challenge = PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(
        a.pkce_verifier.to_owned(),
    ));
    let mut req = client
        .authorize_url(move || CsrfToken::new(state))
        .add_scopes(p.scopes.iter().cloned().map(Scope::new))
        .set_pkce_challenge(challenge);
    if p.kind.is_oidc() {
        req = req.add_extra_param("nonce", a.nonce.to_owned());
    }
    if p.kind == ProviderKind::Apple {
        // Apple requires form_post when scopes are asked for.
        req = req.add_extra_param("response_mode", "form_post");
    }
    Ok(req.url().0.to_string())
}

/// What the token exchange needs.
pub(crate) struct ExchangeParams<'a> {
    pub(crate) callback: &'a str,
    pub(crate) code: &'a str,
    pub(crate) state: &'a str,
    pub(crate) pkce_verifier: &'a str,
    pub(crate) client_secret: Option<String>,
    pub(crate) nonce: &'a str,
    pub(crate) now: DateTime<Utc>,
}

/// Exchange the code, verify what comes back and fetch the profile.
pub(crate) async fn complete(
    rt: &Runtime,
    p: &Resolved,
    e: &Endpoints,
    x: ExchangeParams<'_>,
) -> Step<ExternalProfile> {
    let answer = exchange(rt, p, e, &x).await?;
    let access = answer.access_token().secret().clone();
    if p.kind.is_oidc() {
        let raw = answer.extra_fields().id_token.clone().ok_or_else(|| {
            Failure::new(
                "id_token_missing",
                provider_error("the token answer has no id_token"),
            )
        })?;
        let claims = verify_id_token(rt, p, e, &raw, x.nonce, x.now).await?;
        let claims = complete_from_userinfo(rt, e, claims, &access).await?;
        let made = if p.kind == ProviderKind::Microsoft {
            profile::from_microsoft_claims(claims)
        } else {
            profile::from_oidc_claims(claims)
        };
        return made.map_err(|e| Failure::new("profile_invalid", e));
    }
    let user_url = e.userinfo.as_deref().ok_or_else(|| {
        Failure::new(
            "userinfo_failed",
            Error::config("the provider has no user endpoint"),
        )
    })?;
    let user = rt
        .get_json(user_url, Some(&access))
        .await
        .map_err(|e| Failure::new("userinfo_failed", e))?;
    let made = match p.kind {
        ProviderKind::Github => {
            // The emails endpoint sits beside the user endpoint
            // (`…/user/emails`), also when the user endpoint is overridden.
            let emails_url = format!("{}/emails", user_url.trim_end_matches('/'));
            let emails = rt
                .get_json(&emails_url, Some(&access))
                .await
                .map_err(|e| Failure::new("userinfo_failed", e))?;
            profile::from_github(user, &emails)
        }
        ProviderKind::Kakao => profile::from_kakao(user),
        ProviderKind::Naver => profile::from_naver(user),
        _ => match &p.claims {
            Some(m) => profile::from_mapping(user, m),
            None => Err(Error::config("the provider has no claim mapping")),
        },
    };
    made.map_err(|e| Failure::new("profile_invalid", e))
}

async fn exchange(
    rt: &Runtime,
    p: &Resolved,
    e: &Endpoints,
    x: &ExchangeParams<'_>,
) -> Step<TokenAnswer> {
    let fail = |e: Error| Failure::new("token_exchange_failed", e);
    let mut client = client(p, x.callback)
        .map_err(fail)?
        .set_token_uri(TokenUrl::new(e.token.clone()).map_err(|e| fail(bad_config(e)))?);
    if let Some(secret) = &x.client_secret {
        client = client.set_client_secret(ClientSecret::new(secret.clone()));
    }
    let mut req = client
        .exchange_code(AuthorizationCode::new(x.code.to_owned()))
        .set_pkce_verifier(PkceCodeVerifier::new(x.pkce_verifier.to_owned()));
    if p.kind == ProviderKind::Naver {
        // Naver wants the state again at the token endpoint.
        req = req.add_extra_param("state", x.state.to_owned());
    }
    req.request_async(rt).await.map_err(|e| match e {
        RequestTokenError::ServerResponse(r) => fail(provider_error(format!(
            "the token endpoint refused the code: {}",
            r.error()
        ))),
        RequestTokenError::Request(e) => fail(provider_error(e.to_string())),
        RequestTokenError::Parse(e, _) => fail(provider_error(format!(
            "the token endpoint answered something unusable: {e}"
        ))),
        RequestTokenError::Other(e) => fail(provider_error(e)),
    })
}

fn claims_failure(e: &ClaimsVerificationError) -> Failure {
    let reason = match e {
        ClaimsVerificationError::Expired(_) => "id_token_expired",
        ClaimsVerificationError::InvalidAudience(_) => "audience_mismatch",
        ClaimsVerificationError::InvalidIssuer(_) => "issuer_mismatch",
        ClaimsVerificationError::InvalidNonce(_) => "nonce_mismatch",
        ClaimsVerificationError::SignatureVerification(_) => "id_token_signature_invalid",
        _ => "id_token_invalid",
    };
    Failure::new(
        reason,
        Error::new(ErrorKind::InvalidToken).with_source(super::http::HttpError(e.to_string())),
    )
}

/// Asymmetric algorithms only: never `none`, never HMAC (the client secret
/// is not a verification key).
const ALGS: [CoreJwsSigningAlgorithm; 9] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EdDsa,
];

/// Verify an ID token (signature, `iss`, `aud`, `nonce`, `exp`) and answer
/// its claims. A signature failure refetches the key set once (the provider
/// may have rotated keys since it was cached).
pub(crate) async fn verify_id_token(
    rt: &Runtime,
    p: &Resolved,
    e: &Endpoints,
    raw: &str,
    nonce: &str,
    now: DateTime<Utc>,
) -> Step<Value> {
    let token = AnyIdToken::from_str(raw).map_err(|err| {
        Failure::new(
            "id_token_invalid",
            Error::new(ErrorKind::InvalidToken)
                .with_source(super::http::HttpError(err.to_string())),
        )
    })?;
    let jwks_uri = e.jwks_uri.as_deref().ok_or_else(|| {
        Failure::new(
            "id_token_invalid",
            provider_error("the provider has no jwks_uri"),
        )
    })?;
    let issuer = e.issuer.clone().unwrap_or_default();
    let template = issuer.contains("{tenantid}");
    let mut fresh = false;
    loop {
        let jwks_doc = rt
            .cached_json(jwks_uri, fresh)
            .await
            .map_err(|e| Failure::new("jwks_failed", e))?;
        let jwks: CoreJsonWebKeySet = serde_json::from_value((*jwks_doc).clone()).map_err(|e| {
            Failure::new(
                "jwks_failed",
                provider_error(format!("malformed JWKS: {e}")),
            )
        })?;
        let issuer_url = IssuerUrl::new(if template {
            "https://placeholder.invalid".to_owned()
        } else {
            issuer.clone()
        })
        .map_err(|e| Failure::new("id_token_invalid", bad_config(e)))?;
        let verifier = CoreIdTokenVerifier::new_public_client(
            ClientId::new(p.client_id.clone()),
            issuer_url,
            jwks,
        )
        .set_allowed_algs(ALGS)
        .set_time_fn(move || now)
        .require_issuer_match(!template);
        match token.claims(&verifier, &Nonce::new(nonce.to_owned())) {
            Ok(claims) => {
                let value = serde_json::to_value(claims)
                    .map_err(|e| Failure::new("id_token_invalid", Error::internal(e)))?;
                if template {
                    check_tenant_issuer(&issuer, &value)?;
                }
                return Ok(value);
            }
            Err(ClaimsVerificationError::SignatureVerification(_))
                if !fresh && rt.cached_age(jwks_uri).is_none_or(|a| a.as_secs() >= 30) =>
            {
                fresh = true;
            }
            Err(err) => return Err(claims_failure(&err)),
        }
    }
}

/// Microsoft's multi-tenant issuer: `iss` must be the template with the
/// token's own `tid` filled in.
pub(crate) fn check_tenant_issuer(template: &str, claims: &Value) -> Step<()> {
    let fail = |why: &str| {
        Failure::new(
            "issuer_mismatch",
            Error::new(ErrorKind::InvalidToken).with_source(super::http::HttpError(why.to_owned())),
        )
    };
    let tid = claims
        .get("tid")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .ok_or_else(|| fail("the ID token has no usable tid"))?;
    let expected = template.replace("{tenantid}", tid);
    match claims.get("iss").and_then(Value::as_str) {
        Some(iss) if iss == expected => Ok(()),
        _ => Err(fail("iss does not match the tenant's issuer")),
    }
}

/// Fill in email, email_verified and name from the userinfo endpoint when
/// the ID token lacks an email (many providers put scope claims there only).
async fn complete_from_userinfo(
    rt: &Runtime,
    e: &Endpoints,
    mut claims: Value,
    access_token: &str,
) -> Step<Value> {
    let has_email = claims.get("email").is_some_and(Value::is_string);
    let Some(url) = e.userinfo.as_deref().filter(|_| !has_email) else {
        return Ok(claims);
    };
    let info = rt
        .get_json(url, Some(access_token))
        .await
        .map_err(|e| Failure::new("userinfo_failed", e))?;
    // OpenID Connect Core 5.3.2: the userinfo `sub` must be the ID token's.
    if info.get("sub") != claims.get("sub") {
        return Err(Failure::new(
            "userinfo_subject_mismatch",
            provider_error("userinfo answered for another subject"),
        ));
    }
    if let Some(obj) = claims.as_object_mut() {
        for key in ["email", "email_verified", "name"] {
            if let Some(v) = info.get(key)
                && !obj.contains_key(key)
            {
                obj.insert(key.to_owned(), v.clone());
            }
        }
    }
    Ok(claims)
}
