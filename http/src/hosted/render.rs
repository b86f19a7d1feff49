//! Rendering: a template as an HTML answer, the message page, and the one
//! mapping from an error to what a page answers (its status, and
//! `Retry-After` for a rate limit, set as the JSON API sets it).

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tessera_core::Error;

use crate::error::{ApiError, set_retry_after, status_of};

/// `t` rendered as an HTML answer with `status` (never cached).
pub(crate) fn html(status: StatusCode, t: &impl Template) -> Response {
    match t.render() {
        Ok(body) => {
            let mut res = (status, body).into_response();
            res.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(e) => server_error(Error::internal(e)),
    }
}

#[derive(Template)]
#[template(path = "hosted/message.html")]
struct MessagePage<'a> {
    app_name: &'a str,
    heading: &'a str,
    message: &'a str,
    link: Option<String>,
}

/// A page with a heading, one sentence and an optional "Continue" link.
pub(crate) fn message(
    status: StatusCode,
    app_name: &str,
    heading: &str,
    text: &str,
    link: Option<String>,
) -> Response {
    html(
        status,
        &MessagePage {
            app_name,
            heading,
            message: text,
            link,
        },
    )
}

/// The message page answering the error `e`: its status and, for a rate
/// limit, `Retry-After`.
pub(crate) fn error_message(
    e: &Error,
    app_name: &str,
    heading: &str,
    text: &str,
    link: Option<String>,
) -> Response {
    with_retry_after(
        e,
        message(status_of(e.kind()), app_name, heading, text, link),
    )
}

/// `res` (a page showing the error `e`) with `Retry-After` when `e` is a
/// rate limit.
pub(crate) fn with_retry_after(e: &Error, mut res: Response) -> Response {
    set_retry_after(&mut res, e);
    res
}

/// A server-side failure (storage, a bug): the JSON envelope, which says
/// little and logs the rest, as every other answer of the router does.
pub(crate) fn server_error(e: Error) -> Response {
    ApiError(e).into_response()
}
