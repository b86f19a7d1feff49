//! Checks recorded webhook deliveries with this SDK's `verify_webhook`: the
//! end-to-end tests (e2e/webhooks) record what a real `tessera serve` sent
//! and run this over it, so the Rust SDK is proven against real deliveries,
//! not only against its own signer.
//!
//! Reads the JSON file named by `TESSERA_WEBHOOK_DELIVERIES`:
//! `{"secrets": [...], "deliveries": [{"headers": {...}, "body": "..."}]}`;
//! prints for each delivery, for each secret, `"ok"` or the error code
//! (`[["ok", "invalid_signature"], ...]`) as JSON on stdout.

use std::process::ExitCode;

use serde_json::Value;
use tessera_sdk::http::{HeaderMap, HeaderName, HeaderValue};
use tessera_sdk::verify_webhook;

fn main() -> ExitCode {
    match run() {
        Ok(out) => {
            println!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("check_deliveries: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<Value, Box<dyn std::error::Error>> {
    let path = std::env::var("TESSERA_WEBHOOK_DELIVERIES")?;
    let input: Value = serde_json::from_slice(&std::fs::read(path)?)?;
    let secrets: Vec<&str> = input["secrets"]
        .as_array()
        .ok_or("no secrets")?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let mut results = Vec::new();
    for delivery in input["deliveries"].as_array().ok_or("no deliveries")? {
        let mut headers = HeaderMap::new();
        for (name, value) in delivery["headers"].as_object().ok_or("no headers")? {
            headers.insert(
                HeaderName::from_bytes(name.as_bytes())?,
                HeaderValue::from_str(value.as_str().ok_or("header not a string")?)?,
            );
        }
        let body = delivery["body"].as_str().ok_or("body not a string")?;
        let verdicts: Vec<Value> = secrets
            .iter()
            .map(
                |secret| match verify_webhook(secret, &headers, body.as_bytes()) {
                    Ok(()) => "ok".into(),
                    Err(e) => e.code().into(),
                },
            )
            .collect();
        results.push(Value::Array(verdicts));
    }
    Ok(Value::Array(results))
}
