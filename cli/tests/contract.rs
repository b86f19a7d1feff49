/// Every stable configuration name (the README's configuration table) is a
/// flag of `tessera serve` with its environment variable.
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
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    for name in design.iter().chain(&["PORT"]) {
        assert!(
            help.contains(&format!("env: {name}")),
            "`tessera serve` has no flag for {name}"
        );
    }
}
