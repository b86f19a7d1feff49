//! Finding the access token in a request.

use http::HeaderMap;
use http::header::{AUTHORIZATION, COOKIE};

/// The cookie that carries the access JWT for server-rendered apps.
pub const ACCESS_TOKEN_COOKIE: &str = "tessera_at";

/// The access token of a request: the `Authorization: Bearer …` value first,
/// then the `tessera_at` cookie; `None` when there is neither.
pub fn token_from_headers(headers: &HeaderMap) -> Option<&str> {
    bearer(headers).or_else(|| cookie(headers, ACCESS_TOKEN_COOKIE))
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"'))
        .filter(|v| !v.is_empty())
}
