//! What Tessera learns about a person from a provider, and how each
//! provider's answer maps onto it.
//!
//! Pure functions over the providers' JSON, so each preset's quirks are
//! unit-tested against recorded answers: GitHub's primary *verified* email
//! from `/user/emails`, Kakao's `kakao_account`, Naver's `response` wrapper,
//! Microsoft's unverifiable `email`, and the dotted-path mapping of generic
//! OAuth 2.0 providers.

use serde_json::Value;

use super::config::ClaimMapping;
use super::http::provider_error;
use crate::Result;

/// A person as a provider describes them.
#[derive(Debug, Clone, PartialEq)]
pub struct ExternalProfile {
    /// The provider's stable id for the person (`sub`).
    pub subject: String,
    /// Their email, if shared.
    pub email: Option<String>,
    /// Whether the provider asserts the email is verified.
    pub email_verified: bool,
    /// Display name, if shared.
    pub name: Option<String>,
    /// The raw claims (kept on the identity; never tokens).
    pub raw: Value,
}

/// The value at a dotted `path` in `v`.
pub(crate) fn at<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(v, |cur, key| match cur {
        Value::Object(m) => m.get(key),
        Value::Array(a) => key.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    })
}

/// A string or number as text (ids are numbers at GitHub and Kakao).
fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `true` or `"true"` (Apple sends strings).
fn truthy(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

fn require_subject(subject: Option<String>) -> Result<String> {
    subject
        .filter(|s| s.len() <= 255 && !s.chars().any(char::is_control))
        .ok_or_else(|| provider_error("the provider's answer has no usable user id"))
}

/// From OpenID Connect claims (ID token, possibly completed by userinfo).
pub(crate) fn from_oidc_claims(claims: Value) -> Result<ExternalProfile> {
    Ok(ExternalProfile {
        subject: require_subject(text(claims.get("sub")))?,
        email: text(claims.get("email")),
        email_verified: truthy(claims.get("email_verified")),
        name: text(claims.get("name")),
        raw: claims,
    })
}

/// From Microsoft's ID token claims. Entra ID does not verify `email` (any
/// tenant admin can set it), so it counts as verified only with the optional
/// `xms_edov` claim ("email domain owner verified").
pub(crate) fn from_microsoft_claims(claims: Value) -> Result<ExternalProfile> {
    let mut p = from_oidc_claims(claims)?;
    p.email_verified = truthy(p.raw.get("xms_edov"));
    if p.email.is_none() {
        p.email = text(p.raw.get("preferred_username")).filter(|u| u.contains('@'));
    }
    Ok(p)
}

/// From GitHub's `GET /user` and `GET /user/emails`: the primary email when
/// it is verified, else any verified one; otherwise the profile email,
/// unverified.
pub(crate) fn from_github(user: Value, emails: &Value) -> Result<ExternalProfile> {
    let list = emails.as_array().map(Vec::as_slice).unwrap_or_default();
    let verified = |e: &&Value| truthy(e.get("verified"));
    let chosen = list
        .iter()
        .filter(verified)
        .find(|e| truthy(e.get("primary")))
        .or_else(|| list.iter().find(verified))
        .and_then(|e| text(e.get("email")));
    let (email, email_verified) = match chosen {
        Some(e) => (Some(e), true),
        None => (text(user.get("email")), false),
    };
    Ok(ExternalProfile {
        subject: require_subject(text(user.get("id")))?,
        email,
        email_verified,
        name: text(user.get("name")).or_else(|| text(user.get("login"))),
        raw: user,
    })
}

/// From Kakao's `GET /v2/user/me`: `id`, `kakao_account.email`, verified when
/// `is_email_verified` (and not marked invalid by `is_email_valid: false`).
pub(crate) fn from_kakao(v: Value) -> Result<ExternalProfile> {
    let account = v.get("kakao_account");
    let email = account.and_then(|a| text(a.get("email")));
    let verified = account.is_some_and(|a| {
        truthy(a.get("is_email_verified")) && a.get("is_email_valid") != Some(&Value::Bool(false))
    });
    let name = account
        .and_then(|a| text(at(a, "profile.nickname")))
        .or_else(|| text(at(&v, "properties.nickname")));
    Ok(ExternalProfile {
        subject: require_subject(text(v.get("id")))?,
        email_verified: verified && email.is_some(),
        email,
        name,
        raw: v,
    })
}

/// From Naver's `GET /v1/nid/me`: `{"resultcode": "00", "response": {id,
/// email, name, nickname}}`. Naver does not assert verification, so its
/// emails count as unverified.
pub(crate) fn from_naver(v: Value) -> Result<ExternalProfile> {
    if let Some(code) = text(v.get("resultcode"))
        && code != "00"
    {
        return Err(provider_error(format!("naver answered resultcode {code}")));
    }
    let r = v
        .get("response")
        .ok_or_else(|| provider_error("naver's answer has no `response`"))?;
    Ok(ExternalProfile {
        subject: require_subject(text(r.get("id")))?,
        email: text(r.get("email")),
        email_verified: false,
        name: text(r.get("name")).or_else(|| text(r.get("nickname"))),
        raw: v,
    })
}

/// From a generic OAuth 2.0 user endpoint, through the claim mapping.
pub(crate) fn from_mapping(v: Value, m: &ClaimMapping) -> Result<ExternalProfile> {
    let get = |p: &Option<String>| p.as_deref().and_then(|p| text(at(&v, p)));
    let email = get(&m.email);
    let verified = m
        .email_verified
        .as_deref()
        .is_some_and(|p| truthy(at(&v, p)));
    Ok(ExternalProfile {
        subject: require_subject(text(at(&v, &m.id)))?,
        email_verified: verified && email.is_some(),
        email,
        name: get(&m.name),
        raw: v,
    })
}
