//! The configuration names of docs/contract.md (section 7) against the
//! binary's flags.

/// `--help` of `tessera ARGS`.
fn help(args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(args)
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?} --help");
    String::from_utf8(out.stdout).unwrap()
}

/// Every stable configuration name is a flag of `tessera serve` with its
/// environment variable, and docs/contract.md lists no name the binary lacks.
#[test]
fn configuration_names_match_the_design() {
    let design = [
        "TESSERA_DATABASE_URL",
        "TESSERA_LISTEN",
        "TESSERA_BASE_URL",
        "TESSERA_KEY_ENCRYPTION_KEY",
        "TESSERA_KEY_ENCRYPTION_KEY_OLD",
        "TESSERA_SMTP_URL",
        "TESSERA_MAIL_FROM",
        "TESSERA_ADMIN_API_KEY",
        "TESSERA_LOG_FORMAT",
        "TESSERA_DEV",
        "TESSERA_RATE_LIMITS",
        "TESSERA_WEBAUTHN_RP_ID",
        "TESSERA_WEBAUTHN_ORIGIN",
    ];
    let serve = help(&["serve"]);
    for name in design.iter().chain(&["PORT"]) {
        assert!(
            serve.contains(&format!("env: {name}")),
            "`tessera serve` has no flag for {name}"
        );
    }
    let contract =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/contract.md"))
            .unwrap();
    let section = contract
        .split("## 7. Configuration names")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("docs/contract.md has its configuration section");
    let put = help(&["admin", "oauth-providers", "put"]);
    let documented: Vec<&str> = section
        .split('`')
        .filter(|w| w.starts_with("TESSERA_") || *w == "PORT")
        .collect();
    assert!(documented.len() > design.len(), "{documented:?}");
    for name in design {
        assert!(documented.contains(&name), "docs/contract.md lacks {name}");
    }
    for name in documented {
        let flags = if name == "TESSERA_OAUTH_CLIENT_SECRET" {
            &put
        } else {
            &serve
        };
        assert!(
            flags.contains(&format!("env: {name}")),
            "docs/contract.md names {name}, which the binary does not read"
        );
    }
}
