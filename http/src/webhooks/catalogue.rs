//! The event catalogue in the OpenAPI document: OpenAPI 3.1's top-level
//! `webhooks` map holds one entry per event type Tessera sends (the core's
//! `EventType`, the same list as `docs/events.md`), each a `POST` to the
//! receiver with the Standard Webhooks headers and the event body, so a
//! client generator sees what a receiver gets. utoipa has no field for it;
//! it rides in the document's extensions, which serialise at the top level.

use serde_json::{Value, json};
use tessera_core::{CATALOGUE_VERSION, EventType};
use utoipa::openapi::extensions::Extensions;

/// What `data` holds for events of `t` (by its prefix; `docs/events.md` has
/// the fields).
fn data_kind(t: EventType) -> &'static str {
    match t.as_str().split('.').next().unwrap_or_default() {
        "user" | "email" | "password" => "the user after the change",
        "session" => "the session",
        "mfa" => "the second factor",
        "passkey" => "the passkey (never its public key material)",
        "identity" => "the linked identity",
        "api_key" => "the admin API key (never the key or its hint)",
        _ => "`endpoint_id`, `app_id` and `message`",
    }
}

/// The request a receiver gets for events of `t`.
fn operation(t: EventType) -> Value {
    let header = |name: &str, description: &str| {
        json!({ "name": name, "in": "header", "required": true,
                "description": description, "schema": { "type": "string" } })
    };
    json!({
        "post": {
            "tags": ["webhooks"],
            "summary": format!("`{}` (docs/events.md)", t.as_str()),
            "description": format!(
                "Delivered to endpoints whose filter matches `{}`; `data` is {}. \
                 At least once: deduplicate by `webhook-id`.",
                t.as_str(), data_kind(t)),
            "parameters": [
                header("webhook-id", "The event's id, the same on every retry"),
                header("webhook-timestamp", "Seconds since the epoch when this attempt was signed"),
                header("webhook-signature", "Space-separated `v1,<base64 HMAC-SHA256>` (and `v1a,<base64 Ed25519>` for asymmetric endpoints)"),
            ],
            "requestBody": {
                "required": true,
                "content": { "application/json": { "schema": {
                    "type": "object",
                    "required": ["type", "timestamp", "data"],
                    "properties": {
                        "type": { "type": "string", "const": t.as_str() },
                        "timestamp": { "type": "string", "format": "date-time" },
                        "data": { "type": "object", "description": data_kind(t) },
                    },
                } } },
            },
            "responses": {
                "2XX": { "description": "Received" },
                "410": { "description": "Gone: the endpoint is disabled" },
                "default": { "description": "Retried on the schedule (a `Retry-After` is honoured)" },
            },
        }
    })
}

/// The `webhooks` map (every type Tessera sends) and the catalogue's version.
pub(crate) fn openapi_extensions() -> Extensions {
    let webhooks: serde_json::Map<String, Value> = EventType::ALL
        .iter()
        .filter(|t| t.is_emitted())
        .map(|&t| (t.as_str().to_owned(), operation(t)))
        .collect();
    Extensions::from_iter([
        ("webhooks", Value::Object(webhooks)),
        (
            "x-tessera-event-catalogue-version",
            json!(CATALOGUE_VERSION),
        ),
    ])
}
