//! Provider configuration: the kinds Tessera knows, their presets (endpoints,
//! scopes, quirks), validation of what an administrator submits, and the
//! resolved form the flow runs on.
//!
//! Everything kind-specific is stored as one JSON document
//! ([`ProviderSettings`]) beside the sealed client secret, so adding a setting
//! needs no migration. Endpoints must be `https`, except on loopback hosts when
//! Tessera runs in development mode (local test providers).

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The kinds of provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    /// Google (OpenID Connect).
    Google,
    /// Sign in with Apple (OpenID Connect; ES256 client-secret JWT, `form_post`).
    Apple,
    /// Microsoft Entra ID (OpenID Connect; multi-tenant issuer).
    Microsoft,
    /// GitHub (OAuth 2.0; user and email endpoints).
    Github,
    /// Kakao (OAuth 2.0 profile).
    Kakao,
    /// Naver (OAuth 2.0 profile).
    Naver,
    /// Any OpenID Connect provider, by discovery from its issuer.
    Oidc,
    /// Any OAuth 2.0 provider, by explicit endpoints and a claim mapping.
    Oauth2,
}

impl ProviderKind {
    /// Every kind.
    pub const ALL: [ProviderKind; 8] = [
        ProviderKind::Google,
        ProviderKind::Apple,
        ProviderKind::Microsoft,
        ProviderKind::Github,
        ProviderKind::Kakao,
        ProviderKind::Naver,
        ProviderKind::Oidc,
        ProviderKind::Oauth2,
    ];

    /// The stable name (`google`, …, `oauth2`).
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Google => "google",
            ProviderKind::Apple => "apple",
            ProviderKind::Microsoft => "microsoft",
            ProviderKind::Github => "github",
            ProviderKind::Kakao => "kakao",
            ProviderKind::Naver => "naver",
            ProviderKind::Oidc => "oidc",
            ProviderKind::Oauth2 => "oauth2",
        }
    }

    /// Parse a stable name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether the provider speaks OpenID Connect (an ID token is verified).
    pub fn is_oidc(self) -> bool {
        matches!(
            self,
            ProviderKind::Google
                | ProviderKind::Apple
                | ProviderKind::Microsoft
                | ProviderKind::Oidc
        )
    }

    fn default_name(self) -> &'static str {
        match self {
            ProviderKind::Google => "Google",
            ProviderKind::Apple => "Apple",
            ProviderKind::Microsoft => "Microsoft",
            ProviderKind::Github => "GitHub",
            ProviderKind::Kakao => "Kakao",
            ProviderKind::Naver => "Naver",
            ProviderKind::Oidc => "OpenID Connect",
            ProviderKind::Oauth2 => "OAuth",
        }
    }
}

/// Where an OAuth 2.0 provider's user endpoint keeps the fields Tessera
/// needs: dotted paths into its JSON (`id`, `data.user.id`, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ClaimMapping {
    /// The stable user id (a string or a number). Required.
    pub id: String,
    /// The email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Whether the provider verified the email (`true` or `"true"`); absent:
    /// the provider never asserts it, so its emails count as unverified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<String>,
    /// The display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// How the client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TokenAuth {
    /// HTTP Basic (RFC 6749 2.3.1; the default).
    #[default]
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body.
    ClientSecretPost,
}

/// The kind-specific settings of a provider (stored as JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ProviderSettings {
    /// Issuer URL (OIDC discovery: `{issuer}/.well-known/openid-configuration`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Authorization endpoint (overrides discovery or the preset).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_endpoint: Option<String>,
    /// Token endpoint (overrides discovery or the preset).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_endpoint: Option<String>,
    /// User info endpoint (overrides discovery or the preset).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub userinfo_endpoint: Option<String>,
    /// Scopes asked for (the preset's otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    /// Claim mapping (`oauth2`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claims: Option<ClaimMapping>,
    /// Label on the sign-in button.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Apple developer team id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team_id: Option<String>,
    /// Apple key id (of the private key given as the client secret).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// Microsoft tenant (`common`, `organizations`, `consumers` or a tenant id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// Client authentication at the token endpoint (`oidc`, `oauth2`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth: Option<TokenAuth>,
}

/// What an administrator submits to configure a provider (the body of
/// `PUT /v1/admin/apps/{app}/oauth-providers/{provider}`). Unknown fields are
/// refused.
#[derive(Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ProviderInput {
    /// The kind (`google`, `apple`, `microsoft`, `github`, `kakao`, `naver`, `oidc`, `oauth2`).
    pub kind: String,
    /// The OAuth client id.
    pub client_id: String,
    /// The client secret (Apple: the `.p8` private key, PEM). `None` on an
    /// update keeps the stored one; on a new provider it makes a public client.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// Whether the provider is offered (default true).
    #[serde(default)]
    pub enabled: Option<bool>,
    /// See [`ProviderSettings::issuer`].
    #[serde(default)]
    pub issuer: Option<String>,
    /// See [`ProviderSettings::authorization_endpoint`].
    #[serde(default)]
    pub authorization_endpoint: Option<String>,
    /// See [`ProviderSettings::token_endpoint`].
    #[serde(default)]
    pub token_endpoint: Option<String>,
    /// See [`ProviderSettings::userinfo_endpoint`].
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
    /// See [`ProviderSettings::scopes`].
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    /// See [`ProviderSettings::claims`].
    #[serde(default)]
    pub claims: Option<ClaimMapping>,
    /// See [`ProviderSettings::display_name`].
    #[serde(default)]
    pub display_name: Option<String>,
    /// See [`ProviderSettings::team_id`].
    #[serde(default)]
    pub team_id: Option<String>,
    /// See [`ProviderSettings::key_id`].
    #[serde(default)]
    pub key_id: Option<String>,
    /// See [`ProviderSettings::tenant`].
    #[serde(default)]
    pub tenant: Option<String>,
    /// See [`ProviderSettings::token_endpoint_auth`].
    #[serde(default)]
    pub token_endpoint_auth: Option<TokenAuth>,
}

impl ProviderInput {
    /// The kind-specific settings of this input.
    pub fn settings(&self) -> ProviderSettings {
        ProviderSettings {
            issuer: self.issuer.clone(),
            authorization_endpoint: self.authorization_endpoint.clone(),
            token_endpoint: self.token_endpoint.clone(),
            userinfo_endpoint: self.userinfo_endpoint.clone(),
            scopes: self.scopes.clone(),
            claims: self.claims.clone(),
            display_name: self.display_name.clone(),
            team_id: self.team_id.clone(),
            key_id: self.key_id.clone(),
            tenant: self.tenant.clone(),
            token_endpoint_auth: self.token_endpoint_auth,
        }
    }
}

impl std::fmt::Debug for ProviderInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        f.debug_struct("ProviderInput")
            .field("kind", &self.kind)
            .field("client_id", &self.client_id)
            .field("client_secret_set", &self.client_secret.is_some())
            .field("enabled", &self.enabled)
            .field("settings", &self.settings())
            .finish()
    }
}

/// Well-known endpoints of the presets.
pub(crate) mod preset {
    pub(crate) const GOOGLE_ISSUER: &str = "https://accounts.google.com";
    pub(crate) const APPLE_ISSUER: &str = "https://appleid.apple.com";
    pub(crate) const MICROSOFT_ISSUER: &str = "https://login.microsoftonline.com/{tenant}/v2.0";
    pub(crate) const GITHUB_AUTHORIZE: &str = "https://github.com/login/oauth/authorize";
    pub(crate) const GITHUB_TOKEN: &str = "https://github.com/login/oauth/access_token";
    pub(crate) const GITHUB_USER: &str = "https://api.github.com/user";
    pub(crate) const KAKAO_AUTHORIZE: &str = "https://kauth.kakao.com/oauth/authorize";
    pub(crate) const KAKAO_TOKEN: &str = "https://kauth.kakao.com/oauth/token";
    pub(crate) const KAKAO_USER: &str = "https://kapi.kakao.com/v2/user/me";
    pub(crate) const NAVER_AUTHORIZE: &str = "https://nid.naver.com/oauth2.0/authorize";
    pub(crate) const NAVER_TOKEN: &str = "https://nid.naver.com/oauth2.0/token";
    pub(crate) const NAVER_USER: &str = "https://openapi.naver.com/v1/nid/me";
}

/// A provider ready for the flow: presets applied, everything checked.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    pub(crate) kind: ProviderKind,
    pub(crate) client_id: String,
    /// OIDC: the issuer whose discovery document describes the provider.
    pub(crate) issuer: Option<String>,
    pub(crate) authorization_endpoint: Option<String>,
    pub(crate) token_endpoint: Option<String>,
    pub(crate) userinfo_endpoint: Option<String>,
    pub(crate) scopes: Vec<String>,
    pub(crate) claims: Option<ClaimMapping>,
    pub(crate) token_auth: TokenAuth,
    pub(crate) settings: ProviderSettings,
}

/// Check a provider name: 1 to 64 characters of `a-z`, `0-9`, `-` and `_`.
pub(crate) fn check_provider_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "provider",
            "a provider name is 1 to 64 characters of a-z, 0-9, '-' and '_'",
        ))
    }
}

/// Whether `host` is a loopback host (`localhost`, `*.localhost`, 127.0.0.0/8, `::1`).
pub(crate) fn is_loopback_host(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    }
}

/// Check an endpoint or issuer URL: absolute, `https` (or `http` on a
/// loopback host in development mode), no credentials, no fragment.
pub(crate) fn check_url(field: &'static str, value: &str, development: bool) -> Result<()> {
    let bad = |msg: &'static str| Err(Error::invalid(field, msg));
    if value.len() > 2048 {
        return bad("the URL is too long");
    }
    let Ok(url) = url::Url::parse(value) else {
        return bad("must be an absolute https URL");
    };
    if url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return bad("the URL may not carry credentials or a fragment");
    }
    let Some(host) = url.host() else {
        return bad("must be an absolute https URL");
    };
    match url.scheme() {
        "https" => Ok(()),
        "http" if development && is_loopback_host(&host) => Ok(()),
        "http" if is_loopback_host(&host) => {
            bad("plain http is allowed only on loopback hosts in development mode (TESSERA_DEV)")
        }
        _ => bad("must be an https URL"),
    }
}

fn check_text(field: &'static str, value: &str, max: usize) -> Result<()> {
    if value.trim().is_empty() || value.len() > max || value.chars().any(char::is_control) {
        return Err(Error::invalid(
            field,
            "must be non-empty, without control characters, and not too long",
        ));
    }
    Ok(())
}

fn check_path(value: &str) -> Result<()> {
    if value.is_empty()
        || value.len() > 200
        || value.split('.').any(str::is_empty)
        || value.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(Error::invalid(
            "claims",
            "each claim path is a dotted path like `id` or `data.user.email`",
        ));
    }
    Ok(())
}

/// Validate what an administrator submitted. `secret_after` is the client
/// secret the provider will have (the new one, or the stored one on an
/// update without a secret).
pub(crate) fn validate(
    input: &ProviderInput,
    secret_after: Option<&str>,
    development: bool,
) -> Result<ProviderKind> {
    let kind = ProviderKind::parse(&input.kind).ok_or_else(|| {
        Error::invalid(
            "kind",
            "kind must be one of google, apple, microsoft, github, kakao, naver, oidc, oauth2",
        )
    })?;
    check_text("client_id", &input.client_id, 512)?;
    if let Some(secret) = &input.client_secret
        && (secret.is_empty() || secret.len() > 8192)
    {
        return Err(Error::invalid(
            "client_secret",
            "the client secret must be 1 to 8192 bytes",
        ));
    }
    let settings = input.settings();
    let s = &settings;
    for (field, value) in [
        ("issuer", &s.issuer),
        ("authorization_endpoint", &s.authorization_endpoint),
        ("token_endpoint", &s.token_endpoint),
        ("userinfo_endpoint", &s.userinfo_endpoint),
    ] {
        if let Some(v) = value {
            check_url(field, v, development)?;
        }
    }
    if let Some(scopes) = &s.scopes
        && (scopes.len() > 30
            || scopes.iter().any(|x| {
                x.is_empty()
                    || x.len() > 200
                    || x.chars().any(|c| c.is_whitespace() || c.is_control())
            }))
    {
        return Err(Error::invalid(
            "scopes",
            "scopes are at most 30 non-empty names without spaces",
        ));
    }
    if let Some(d) = &s.display_name {
        check_text("display_name", d, 100)?;
    }
    if let Some(c) = &s.claims {
        check_path(&c.id)?;
        for p in [&c.email, &c.email_verified, &c.name].into_iter().flatten() {
            check_path(p)?;
        }
    }
    let only = |field: &'static str, present: bool, allowed: bool| -> Result<()> {
        if present && !allowed {
            Err(Error::invalid(
                field,
                "this setting does not apply to this kind",
            ))
        } else {
            Ok(())
        }
    };
    only("team_id", s.team_id.is_some(), kind == ProviderKind::Apple)?;
    only("key_id", s.key_id.is_some(), kind == ProviderKind::Apple)?;
    only(
        "tenant",
        s.tenant.is_some(),
        kind == ProviderKind::Microsoft,
    )?;
    only("claims", s.claims.is_some(), kind == ProviderKind::Oauth2)?;
    only(
        "token_endpoint_auth",
        s.token_endpoint_auth.is_some(),
        matches!(kind, ProviderKind::Oidc | ProviderKind::Oauth2),
    )?;
    match kind {
        ProviderKind::Oidc if s.issuer.is_none() => {
            return Err(Error::invalid(
                "issuer",
                "an oidc provider needs its issuer URL",
            ));
        }
        ProviderKind::Oauth2 => {
            for (field, v) in [
                ("authorization_endpoint", &s.authorization_endpoint),
                ("token_endpoint", &s.token_endpoint),
                ("userinfo_endpoint", &s.userinfo_endpoint),
            ] {
                if v.is_none() {
                    return Err(Error::invalid(
                        field,
                        "an oauth2 provider needs this endpoint",
                    ));
                }
            }
            if s.claims.is_none() {
                return Err(Error::invalid(
                    "claims",
                    "an oauth2 provider needs a claim mapping with at least `id`",
                ));
            }
        }
        ProviderKind::Apple => {
            let team = s.team_id.as_deref().unwrap_or_default();
            let key = s.key_id.as_deref().unwrap_or_default();
            check_text("team_id", team, 64)?;
            check_text("key_id", key, 64)?;
            let Some(pem) = secret_after else {
                return Err(Error::invalid(
                    "client_secret",
                    "apple needs the private key (.p8, PEM) as the client secret",
                ));
            };
            super::apple::check_private_key(pem)?;
        }
        ProviderKind::Microsoft => {
            if let Some(t) = &s.tenant {
                let ok = !t.is_empty()
                    && t.len() <= 64
                    && t.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
                if !ok {
                    return Err(Error::invalid(
                        "tenant",
                        "tenant is common, organizations, consumers or a tenant id or domain",
                    ));
                }
            }
        }
        _ => {}
    }
    Ok(kind)
}

fn scopes(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

impl Resolved {
    /// Apply the preset of `kind` under the stored settings.
    pub(crate) fn new(kind: ProviderKind, client_id: &str, settings: ProviderSettings) -> Resolved {
        let s = &settings;
        let or = |v: &Option<String>, d: &str| Some(v.clone().unwrap_or_else(|| d.to_owned()));
        let (issuer, auth, token, user, default_scopes, token_auth) = match kind {
            ProviderKind::Google => (
                or(&s.issuer, preset::GOOGLE_ISSUER),
                s.authorization_endpoint.clone(),
                s.token_endpoint.clone(),
                s.userinfo_endpoint.clone(),
                scopes(&["openid", "email", "profile"]),
                TokenAuth::ClientSecretPost,
            ),
            ProviderKind::Apple => (
                or(&s.issuer, preset::APPLE_ISSUER),
                s.authorization_endpoint.clone(),
                s.token_endpoint.clone(),
                s.userinfo_endpoint.clone(),
                scopes(&["openid", "name", "email"]),
                TokenAuth::ClientSecretPost,
            ),
            ProviderKind::Microsoft => {
                let tenant = s.tenant.as_deref().unwrap_or("common");
                (
                    or(
                        &s.issuer,
                        &preset::MICROSOFT_ISSUER.replace("{tenant}", tenant),
                    ),
                    s.authorization_endpoint.clone(),
                    s.token_endpoint.clone(),
                    s.userinfo_endpoint.clone(),
                    scopes(&["openid", "email", "profile"]),
                    TokenAuth::ClientSecretPost,
                )
            }
            ProviderKind::Github => (
                None,
                or(&s.authorization_endpoint, preset::GITHUB_AUTHORIZE),
                or(&s.token_endpoint, preset::GITHUB_TOKEN),
                or(&s.userinfo_endpoint, preset::GITHUB_USER),
                scopes(&["read:user", "user:email"]),
                TokenAuth::ClientSecretPost,
            ),
            ProviderKind::Kakao => (
                None,
                or(&s.authorization_endpoint, preset::KAKAO_AUTHORIZE),
                or(&s.token_endpoint, preset::KAKAO_TOKEN),
                or(&s.userinfo_endpoint, preset::KAKAO_USER),
                scopes(&["account_email", "profile_nickname"]),
                TokenAuth::ClientSecretPost,
            ),
            ProviderKind::Naver => (
                None,
                or(&s.authorization_endpoint, preset::NAVER_AUTHORIZE),
                or(&s.token_endpoint, preset::NAVER_TOKEN),
                or(&s.userinfo_endpoint, preset::NAVER_USER),
                Vec::new(),
                TokenAuth::ClientSecretPost,
            ),
            ProviderKind::Oidc => (
                s.issuer.clone(),
                s.authorization_endpoint.clone(),
                s.token_endpoint.clone(),
                s.userinfo_endpoint.clone(),
                scopes(&["openid", "email", "profile"]),
                s.token_endpoint_auth.unwrap_or_default(),
            ),
            ProviderKind::Oauth2 => (
                None,
                s.authorization_endpoint.clone(),
                s.token_endpoint.clone(),
                s.userinfo_endpoint.clone(),
                Vec::new(),
                s.token_endpoint_auth.unwrap_or_default(),
            ),
        };
        Resolved {
            kind,
            client_id: client_id.to_owned(),
            issuer,
            authorization_endpoint: auth,
            token_endpoint: token,
            userinfo_endpoint: user,
            scopes: s.scopes.clone().unwrap_or(default_scopes),
            claims: s.claims.clone(),
            token_auth,
            settings,
        }
    }

    /// The label of the sign-in button.
    pub(crate) fn display_name(&self) -> String {
        self.settings
            .display_name
            .clone()
            .unwrap_or_else(|| self.kind.default_name().to_owned())
    }
}
