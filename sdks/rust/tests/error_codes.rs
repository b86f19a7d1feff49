//! The server-API error codes this SDK names are exactly the server's, as
//! listed in sdks/testdata/error-codes.json (generated from the server).

use std::collections::BTreeSet;

use tessera_sdk::api_code;

use crate::support::testdata;

#[test]
fn api_codes_match_the_server_table() {
    let table = testdata("error-codes.json");
    let server: BTreeSet<&str> = ["codes", "http_only"]
        .iter()
        .flat_map(|list| table[*list].as_array().unwrap())
        .map(|row| row["code"].as_str().unwrap())
        .collect();
    assert!(server.len() >= 30, "read {} codes", server.len());
    let ours: BTreeSet<&str> = api_code::ALL.iter().copied().collect();
    assert_eq!(ours.len(), api_code::ALL.len(), "a code is listed twice");
    let missing: Vec<_> = server.difference(&ours).collect();
    assert!(missing.is_empty(), "api_code lacks {missing:?}");
    let unknown: Vec<_> = ours.difference(&server).collect();
    assert!(
        unknown.is_empty(),
        "api_code has codes the server never answers: {unknown:?}"
    );
    assert_eq!(api_code::EMAIL_TAKEN, "email_taken");
}
