//! Passkey ceremonies end to end through the core, against a real software
//! authenticator (`webauthn-authenticator-rs`'s `SoftPasskey`, which signs
//! with real P-256 keys and builds real client data).
//!
//! `SoftPasskey` cannot store resident keys and never returns a user handle,
//! so [`Device`] adds what a discoverable authenticator does around it: it
//! remembers the user handle of each credential it created, answers an empty
//! `allowCredentials` with its own credential for the RP, and returns the user
//! handle with the assertion (the user handle is not signed, so nothing the
//! server verifies is faked).

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::DateTime;
use serde_json::{Value, json};
use tessera_core::clock::ManualClock;
use tessera_core::crypto::{KeyRing, PasswordParams};
use tessera_core::model::{AuditQuery, ClientInfo, CredentialKind, SignInMethod};
use tessera_core::{
    AuthSession, MfaMethod, PasskeyChallenge, SignInOutcome, SignUpOutcome, Tessera,
};
use tessera_storage_memory::MemoryStore;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::prelude::{
    CreationChallengeResponse, RequestChallengeResponse, Url,
};
use webauthn_authenticator_rs::softpasskey::SoftPasskey;

const PW: &str = "correct horse battery staple";
const ORIGIN: &str = "https://auth.example.test";

async fn setup() -> Tessera {
    let clock = ManualClock::new(DateTime::from_timestamp(1_900_000_000, 0).unwrap());
    Tessera::builder()
        .store(Arc::new(MemoryStore::new()))
        .clock(Arc::new(clock))
        .key_encryption_key(KeyRing::new([3; 32], []))
        .issuer(ORIGIN)
        .password_params(PasswordParams::insecure_fast_for_tests())
        .build()
        .await
        .unwrap()
}

fn client() -> ClientInfo {
    ClientInfo::parse(Some("192.0.2.1"), Some("test"))
}

async fn signed_up(t: &Tessera, email: &str) -> AuthSession {
    let app = t.apps().default_app().await.unwrap();
    match t
        .passwords()
        .sign_up(&app, email, PW, None, &client())
        .await
        .unwrap()
    {
        SignUpOutcome::SignedIn(s) => *s,
        SignUpOutcome::VerificationRequired => panic!("default app signs in at once"),
    }
}

/// A discoverable authenticator in a browser at `origin`.
struct Device {
    soft: SoftPasskey,
    origin: Url,
    /// (credential id, user handle) of every credential created.
    creds: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Device {
    fn new() -> Self {
        Device::at(ORIGIN)
    }

    fn at(origin: &str) -> Self {
        Device {
            // `true`: report user verification (as a platform authenticator
            // with a PIN or biometric does).
            soft: SoftPasskey::new(true),
            origin: Url::parse(origin).unwrap(),
            creds: Vec::new(),
        }
    }

    /// `navigator.credentials.create()` + `toJSON()`.
    fn create(&mut self, challenge: &PasskeyChallenge) -> Value {
        let mut pk = challenge.public_key.clone();
        // Storage of the resident key is this wrapper's job (see module docs).
        pk["authenticatorSelection"]["requireResidentKey"] = json!(false);
        pk["authenticatorSelection"]["residentKey"] = json!("discouraged");
        let ccr: CreationChallengeResponse =
            serde_json::from_value(json!({ "publicKey": pk })).unwrap();
        let reg = self.soft.do_registration(self.origin.clone(), ccr).unwrap();
        let handle = URL_SAFE_NO_PAD
            .decode(challenge.public_key["user"]["id"].as_str().unwrap())
            .unwrap();
        self.creds.push((reg.raw_id.clone(), handle));
        serde_json::to_value(&reg).unwrap()
    }

    /// `navigator.credentials.get()` + `toJSON()`, using credential `which`
    /// when the RP lists none (discoverable) or when forced.
    fn get_with(&mut self, challenge: &PasskeyChallenge, force: Option<usize>) -> Value {
        let mut pk = challenge.public_key.clone();
        let listed: Vec<Vec<u8>> = pk["allowCredentials"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| URL_SAFE_NO_PAD.decode(c["id"].as_str().unwrap()).unwrap())
            .collect();
        let (id, handle) = match force {
            Some(i) => self.creds[i].clone(),
            None if listed.is_empty() => self.creds[0].clone(),
            None => self
                .creds
                .iter()
                .find(|(id, _)| listed.contains(id))
                .cloned()
                .expect("the device holds none of the listed credentials"),
        };
        pk["allowCredentials"] =
            json!([{ "type": "public-key", "id": URL_SAFE_NO_PAD.encode(&id) }]);
        let rcr: RequestChallengeResponse =
            serde_json::from_value(json!({ "publicKey": pk })).unwrap();
        let mut assertion = self
            .soft
            .do_authentication(self.origin.clone(), rcr)
            .unwrap();
        assertion.response.user_handle = Some(handle);
        serde_json::to_value(&assertion).unwrap()
    }

    fn get(&mut self, challenge: &PasskeyChallenge) -> Value {
        self.get_with(challenge, None)
    }
}

/// Sign up `email` and register a passkey for them on `device`.
async fn with_passkey(t: &Tessera, email: &str, device: &mut Device) -> AuthSession {
    let s = signed_up(t, email).await;
    let app = t.apps().default_app().await.unwrap();
    let challenge = t
        .passkeys()
        .start_registration(&app, &s.user)
        .await
        .unwrap();
    let credential = device.create(&challenge);
    t.passkeys()
        .finish_registration(
            &app,
            &s.user,
            &challenge.ceremony,
            &credential,
            Some("Laptop"),
            &client(),
        )
        .await
        .unwrap();
    s
}

#[tokio::test]
async fn register_then_sign_in_without_typing_an_email() {
    let t = setup().await;
    let app = t.apps().default_app().await.unwrap();
    let s = signed_up(&t, "ada@example.com").await;
    let challenge = t
        .passkeys()
        .start_registration(&app, &s.user)
        .await
        .unwrap();
    // The W3C JSON form: base64url buffers, a discoverable key with user
    // verification, the user handle is the user id.
    let pk = &challenge.public_key;
    assert!(challenge.ceremony.starts_with("tsw_"));
    assert_eq!(pk["rp"]["id"], "auth.example.test");
    assert_eq!(
        pk["user"]["id"],
        URL_SAFE_NO_PAD.encode(s.user.id.as_bytes())
    );
    assert_eq!(pk["user"]["name"], "ada@example.com");
    assert!(
        URL_SAFE_NO_PAD
            .decode(pk["challenge"].as_str().unwrap())
            .unwrap()
            .len()
            >= 16
    );
    assert_eq!(pk["authenticatorSelection"]["residentKey"], "required");
    assert_eq!(pk["authenticatorSelection"]["userVerification"], "required");

    let mut device = Device::new();
    let credential = device.create(&challenge);
    let info = t
        .passkeys()
        .finish_registration(
            &app,
            &s.user,
            &challenge.ceremony,
            &credential,
            Some("Laptop"),
            &client(),
        )
        .await
        .unwrap();
    assert_eq!(info.name, "Laptop");
    assert_eq!(
        info.credential_id,
        URL_SAFE_NO_PAD.encode(&device.creds[0].0)
    );
    assert_eq!(
        t.passkeys().list(s.user.id).await.unwrap(),
        vec![info.clone()]
    );

    let challenge = t.passkeys().start_sign_in(&app, None).await.unwrap();
    assert_eq!(challenge.public_key["allowCredentials"], json!([]));
    assert_eq!(challenge.public_key["userVerification"], "required");
    let assertion = device.get(&challenge);
    let session = t
        .passkeys()
        .finish_sign_in(&app, &challenge.ceremony, &assertion, &client())
        .await
        .unwrap();
    assert_eq!(session.user.id, s.user.id);
    assert_eq!(session.session.amr, ["hwk", "mfa"]);
    let claims = t
        .tokens()
        .verify(&session.access_token, None)
        .await
        .unwrap();
    assert_eq!(claims.amr, ["hwk", "mfa"]);

    let events = t
        .audit()
        .list(&AuditQuery {
            user_id: Some(s.user.id),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(events.iter().any(|e| e.kind == "passkey.registered"));
    assert!(
        events
            .iter()
            .any(|e| e.kind == "sign_in.succeeded" && e.data["method"] == "passkey")
    );
}

#[tokio::test]
async fn sign_in_for_an_email_lists_its_passkeys_and_reveals_nothing_for_unknown_ones() {
    let t = setup().await;
    let app = t.apps().default_app().await.unwrap();
    let mut device = Device::new();
    let s = with_passkey(&t, "bob@example.com", &mut device).await;
    let challenge = t
        .passkeys()
        .start_sign_in(&app, Some("  Bob@Example.com "))
        .await
        .unwrap();
    assert_eq!(
        challenge.public_key["allowCredentials"],
        json!([{ "type": "public-key", "id": URL_SAFE_NO_PAD.encode(&device.creds[0].0) }])
    );
    let assertion = device.get(&challenge);
    let session = t
        .passkeys()
        .finish_sign_in(&app, &challenge.ceremony, &assertion, &client())
        .await
        .unwrap();
    assert_eq!(session.user.id, s.user.id);

    // Unknown address, and an account without passkeys: the same shape,
    // stable fake ids, no transports.
    let unknown = t
        .passkeys()
        .start_sign_in(&app, Some("nobody@example.com"))
        .await
        .unwrap();
    let again = t
        .passkeys()
        .start_sign_in(&app, Some("nobody@example.com"))
        .await
        .unwrap();
    signed_up(&t, "nopasskey@example.com").await;
    let bare = t
        .passkeys()
        .start_sign_in(&app, Some("nopasskey@example.com"))
        .await
        .unwrap();
    for c in [&unknown, &bare] {
        let keys = |v: &Value| {
            let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
            k.sort();
            k
        };
        assert_eq!(keys(&c.public_key), keys(&challenge.public_key));
        let allow = c.public_key["allowCredentials"].as_array().unwrap();
        assert!(!allow.is_empty());
        for entry in allow {
            assert_eq!(keys(entry), ["id", "type"]);
        }
    }
    assert_eq!(
        unknown.public_key["allowCredentials"],
        again.public_key["allowCredentials"]
    );
    assert_ne!(
        unknown.public_key["allowCredentials"],
        bare.public_key["allowCredentials"]
    );
    // Never an empty list (which only an address without passkeys could get).
    for i in 0..40 {
        let c = t
            .passkeys()
            .start_sign_in(&app, Some(&format!("ghost{i}@example.com")))
            .await
            .unwrap();
        assert!(
            !c.public_key["allowCredentials"]
                .as_array()
                .unwrap()
                .is_empty(),
            "ghost{i}"
        );
    }
    // Finishing the unknown address's ceremony with a real passkey fails like
    // any wrong credential.
    let forced = device.get_with(&unknown, Some(0));
    let err = t
        .passkeys()
        .finish_sign_in(&app, &unknown.ceremony, &forced, &client())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_credentials");
}

#[tokio::test]
async fn a_ceremony_is_spent_by_its_first_finish() {
    let t = setup().await;
    let app = t.apps().default_app().await.unwrap();
    let mut device = Device::new();
    with_passkey(&t, "rep@example.com", &mut device).await;
    let challenge = t.passkeys().start_sign_in(&app, None).await.unwrap();
    let assertion = device.get(&challenge);
    t.passkeys()
        .finish_sign_in(&app, &challenge.ceremony, &assertion, &client())
        .await
        .unwrap();
    let err = t
        .passkeys()
        .finish_sign_in(&app, &challenge.ceremony, &assertion, &client())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_token");

    // A failed finish spends it too.
    let challenge = t.passkeys().start_sign_in(&app, None).await.unwrap();
    let good = device.get(&challenge);
    let mut bad = good.clone();
    bad["response"]["signature"] = json!(URL_SAFE_NO_PAD.encode([0u8; 70]));
    let err = t
        .passkeys()
        .finish_sign_in(&app, &challenge.ceremony, &bad, &client())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_credentials");
    let err = t
        .passkeys()
        .finish_sign_in(&app, &challenge.ceremony, &good, &client())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_token");

    // Garbage ceremony ids and bodies are errors, not panics.
    for ceremony in [
        "",
        "tsw_short",
        "tss_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        let err = t
            .passkeys()
            .finish_sign_in(&app, ceremony, &good, &client())
            .await
            .unwrap_err();
        assert_eq!(err.code(), "invalid_token");
    }
    let challenge = t.passkeys().start_sign_in(&app, None).await.unwrap();
    let err = t
        .passkeys()
        .finish_sign_in(&app, &challenge.ceremony, &json!({"id": 3}), &client())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_input");
}

#[tokio::test]
async fn a_ceremony_for_one_user_cannot_be_finished_by_another() {
    let t = setup().await;
    let app = t.apps().default_app().await.unwrap();
    let mut device_a = Device::new();
    let mut device_b = Device::new();
    let a = with_passkey(&t, "a@example.com", &mut device_a).await;
    let b = with_passkey(&t, "b@example.com", &mut device_b).await;

    // Sign-in started for A's email, answered with B's (valid) passkey.
    let challenge = t
        .passkeys()
        .start_sign_in(&app, Some("a@example.com"))
        .await
        .unwrap();
    let assertion = device_b.get_with(&challenge, Some(0));
    let err = t
        .passkeys()
        .finish_sign_in(&app, &challenge.ceremony, &assertion, &client())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_credentials");
    let events = t
        .audit()
        .list(&AuditQuery {
            kind: Some("sign_in.failed".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(events[0].data["reason"], "user_mismatch");

    // B's passkey claiming to be A (user handle swapped): not A's credential.
    let challenge = t.passkeys().start_sign_in(&app, None).await.unwrap();
    let mut assertion = device_b.get(&challenge);
    assertion["response"]["userHandle"] = json!(URL_SAFE_NO_PAD.encode(a.user.id.as_bytes()));
    let err = t
        .passkeys()
        .finish_sign_in(&app, &challenge.ceremony, &assertion, &client())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_credentials");

    // A registration ceremony of A finished by B.
    let challenge = t
        .passkeys()
        .start_registration(&app, &a.user)
        .await
        .unwrap();
    let credential = Device::new().create(&challenge);
    let err = t
        .passkeys()
        .finish_registration(
            &app,
            &b.user,
            &challenge.ceremony,
            &credential,
            None,
            &client(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_token");
    assert_eq!(t.passkeys().list(b.user.id).await.unwrap().len(), 1);
}

#[tokio::test]
async fn answers_from_another_origin_are_refused() {
    let t = setup().await;
    let app = t.apps().default_app().await.unwrap();
    let s = signed_up(&t, "origin@example.com").await;
    // A page on a subdomain may use the RP id, but is not an allowed origin.
    let mut evil = Device::at("https://evil.auth.example.test");
    let challenge = t
        .passkeys()
        .start_registration(&app, &s.user)
        .await
        .unwrap();
    let credential = evil.create(&challenge);
    let err = t
        .passkeys()
        .finish_registration(
            &app,
            &s.user,
            &challenge.ceremony,
            &credential,
            None,
            &client(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_input");
    assert!(t.passkeys().list(s.user.id).await.unwrap().is_empty());

    let mut device = Device::new();
    let challenge = t
        .passkeys()
        .start_registration(&app, &s.user)
        .await
        .unwrap();
    let credential = device.create(&challenge);
    t.passkeys()
        .finish_registration(
            &app,
            &s.user,
            &challenge.ceremony,
            &credential,
            None,
            &client(),
        )
        .await
        .unwrap();
    // The same key, used from the other origin.
    evil.creds = device.creds.clone();
    evil.soft = std::mem::replace(&mut device.soft, SoftPasskey::new(true));
    let challenge = t.passkeys().start_sign_in(&app, None).await.unwrap();
    let assertion = evil.get(&challenge);
    let err = t
        .passkeys()
        .finish_sign_in(&app, &challenge.ceremony, &assertion, &client())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_credentials");
    let failed = t
        .audit()
        .list(&AuditQuery {
            kind: Some("sign_in.failed".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(failed[0].data["reason"], "wrong_origin");

    // An app may allow that origin explicitly.
    let mut settings = app.settings.clone();
    settings.webauthn_rp_id = Some("auth.example.test".into());
    settings.webauthn_origins = vec![ORIGIN.into(), "https://evil.auth.example.test".into()];
    let app = t
        .apps()
        .update(app.id, None, None, Some(settings))
        .await
        .unwrap();
    let challenge = t.passkeys().start_sign_in(&app, None).await.unwrap();
    let assertion = evil.get(&challenge);
    t.passkeys()
        .finish_sign_in(&app, &challenge.ceremony, &assertion, &client())
        .await
        .unwrap();
}

#[tokio::test]
async fn counter_and_backup_flags_are_kept_and_a_counter_going_back_is_refused() {
    let t = setup().await;
    let app = t.apps().default_app().await.unwrap();
    let mut device = Device::new();
    let s = with_passkey(&t, "count@example.com", &mut device).await;
    let before = t.passkeys().list(s.user.id).await.unwrap().remove(0);
    assert!(before.last_used_at.is_none());
    assert!(!before.backup_eligible && !before.backup_state);

    let mut counts = Vec::new();
    for _ in 0..2 {
        let challenge = t.passkeys().start_sign_in(&app, None).await.unwrap();
        let assertion = device.get(&challenge);
        t.passkeys()
            .finish_sign_in(&app, &challenge.ceremony, &assertion, &client())
            .await
            .unwrap();
        let info = t.passkeys().list(s.user.id).await.unwrap().remove(0);
        assert!(info.last_used_at.is_some());
        counts.push(info.sign_count);
    }
    assert!(counts[0] > 0 && counts[1] > counts[0], "{counts:?}");
    let stored = t
        .store()
        .credentials()
        .list_credentials(s.user.id, Some(CredentialKind::Passkey))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(stored.data["sign_count"], json!(counts[1]));
    assert_eq!(stored.data["passkey"]["cred"]["counter"], json!(counts[1]));
    assert_eq!(stored.data["backup_eligible"], json!(false));
    assert_eq!(stored.data["backup_state"], json!(false));

    // A clone of the authenticator would present an older counter.
    let mut cloned = stored.clone();
    cloned.data["passkey"]["cred"]["counter"] = json!(1_000_000);
    t.store()
        .credentials()
        .update_credential(&cloned, &[])
        .await
        .unwrap();
    let challenge = t.passkeys().start_sign_in(&app, None).await.unwrap();
    let assertion = device.get(&challenge);
    let err = t
        .passkeys()
        .finish_sign_in(&app, &challenge.ceremony, &assertion, &client())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_credentials");
    let failed = t
        .audit()
        .list(&AuditQuery {
            kind: Some("sign_in.failed".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(failed[0].data["reason"], "counter_regressed");
}

#[tokio::test]
async fn rename_and_delete_but_never_the_last_way_in() {
    let t = setup().await;
    let app = t.apps().default_app().await.unwrap();
    let mut device = Device::new();
    let s = with_passkey(&t, "del@example.com", &mut device).await;
    let pk = t.passkeys().list(s.user.id).await.unwrap().remove(0);
    let renamed = t
        .passkeys()
        .rename(s.user.id, pk.id, "  Phone ")
        .await
        .unwrap();
    assert_eq!(renamed.name, "Phone");
    assert_eq!(t.passkeys().list(s.user.id).await.unwrap()[0].name, "Phone");
    assert_eq!(
        t.passkeys()
            .rename(s.user.id, pk.id, &"x".repeat(100))
            .await
            .unwrap_err()
            .code(),
        "invalid_input"
    );
    let other = signed_up(&t, "other@example.com").await;
    assert_eq!(
        t.passkeys()
            .rename(other.user.id, pk.id, "mine")
            .await
            .unwrap_err()
            .code(),
        "not_found"
    );
    assert_eq!(
        t.passkeys()
            .delete(other.user.id, pk.id)
            .await
            .unwrap_err()
            .code(),
        "not_found"
    );

    // Without the password, the passkey is the last way in.
    let password = t
        .store()
        .credentials()
        .list_credentials(s.user.id, Some(CredentialKind::Password))
        .await
        .unwrap()
        .remove(0);
    assert!(
        t.store()
            .credentials()
            .delete_credential(s.user.id, password.id, &[])
            .await
            .unwrap()
    );
    assert_eq!(
        t.passkeys()
            .delete(s.user.id, pk.id)
            .await
            .unwrap_err()
            .code(),
        "last_sign_in_method"
    );
    // A second passkey makes the first deletable, then that one is the last.
    let challenge = t
        .passkeys()
        .start_registration(&app, &s.user)
        .await
        .unwrap();
    // The first key is excluded from the new registration.
    assert_eq!(
        challenge.public_key["excludeCredentials"][0]["id"],
        json!(pk.credential_id)
    );
    let mut second = Device::new();
    let credential = second.create(&challenge);
    let pk2 = t
        .passkeys()
        .finish_registration(
            &app,
            &s.user,
            &challenge.ceremony,
            &credential,
            None,
            &client(),
        )
        .await
        .unwrap();
    assert_eq!(pk2.name, "Passkey");
    t.passkeys().delete(s.user.id, pk.id).await.unwrap();
    assert_eq!(
        t.passkeys()
            .delete(s.user.id, pk2.id)
            .await
            .unwrap_err()
            .code(),
        "last_sign_in_method"
    );
    assert_eq!(t.passkeys().list(s.user.id).await.unwrap(), vec![pk2]);
    // The deleted passkey no longer signs in.
    let challenge = t.passkeys().start_sign_in(&app, None).await.unwrap();
    let assertion = device.get(&challenge);
    assert_eq!(
        t.passkeys()
            .finish_sign_in(&app, &challenge.ceremony, &assertion, &client())
            .await
            .unwrap_err()
            .code(),
        "invalid_credentials"
    );
}

#[tokio::test]
async fn apps_without_passkeys_refuse_them() {
    let t = setup().await;
    let app = t.apps().default_app().await.unwrap();
    let s = signed_up(&t, "off@example.com").await;
    let mut settings = app.settings.clone();
    settings
        .sign_in_methods
        .retain(|m| *m != SignInMethod::Passkey);
    let app = t
        .apps()
        .update(app.id, None, None, Some(settings))
        .await
        .unwrap();
    for err in [
        t.passkeys().start_sign_in(&app, None).await.unwrap_err(),
        t.passkeys()
            .start_sign_in(&app, Some("off@example.com"))
            .await
            .unwrap_err(),
        t.passkeys()
            .start_registration(&app, &s.user)
            .await
            .unwrap_err(),
    ] {
        assert_eq!(err.code(), "method_disabled");
    }
}

#[tokio::test]
async fn a_passkey_completes_an_mfa_challenge() {
    let t = setup().await;
    let app = t.apps().default_app().await.unwrap();
    let mut device = Device::new();
    let s = with_passkey(&t, "mfa@example.com", &mut device).await;
    let outcome = t
        .passwords()
        .sign_in(&app, "mfa@example.com", PW, &client())
        .await
        .unwrap();
    let SignInOutcome::MfaRequired(challenge) = outcome else {
        panic!("a user with a passkey is asked for it after a password");
    };
    assert!(challenge.methods.contains(&MfaMethod::Passkey));
    let mfa_token = challenge.mfa_token;

    let ceremony = t.passkeys().start_mfa(&app, &mfa_token).await.unwrap();
    assert_eq!(
        ceremony.public_key["allowCredentials"][0]["id"],
        json!(URL_SAFE_NO_PAD.encode(&device.creds[0].0))
    );
    // A ceremony is bound to its MFA token.
    let other = t
        .passwords()
        .sign_in(&app, "mfa@example.com", PW, &client())
        .await
        .unwrap();
    let SignInOutcome::MfaRequired(other) = other else {
        panic!()
    };
    let assertion = device.get(&ceremony);
    let err = t
        .passkeys()
        .finish_mfa(
            &app,
            &other.mfa_token,
            &ceremony.ceremony,
            &assertion,
            &client(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_token");

    let ceremony = t.passkeys().start_mfa(&app, &mfa_token).await.unwrap();
    let assertion = device.get(&ceremony);
    let session = t
        .passkeys()
        .finish_mfa(&app, &mfa_token, &ceremony.ceremony, &assertion, &client())
        .await
        .unwrap();
    assert_eq!(session.user.id, s.user.id);
    assert_eq!(session.session.amr, ["pwd", "hwk", "mfa"]);
    // The challenge is spent.
    assert_eq!(
        t.passkeys()
            .start_mfa(&app, &mfa_token)
            .await
            .unwrap_err()
            .code(),
        "invalid_token"
    );
}
