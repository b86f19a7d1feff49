//! TOTP, recovery codes and multi-factor sign-in on the memory store, with a
//! manual clock: window edges, replay (also concurrent), single-use recovery
//! codes, MFA after every first factor, forced enrolment, expiry, attempts.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Duration};
use tessera_core::clock::{Clock, ManualClock};
use tessera_core::crypto::{KeyRing, PasswordParams};
use tessera_core::mail::{Mail, Mailer};
use tessera_core::model::{App, AppSettings, AuditQuery, ClientInfo, CredentialKind, MfaPolicy};
use tessera_core::{
    AuthSession, MfaChallenge, MfaMethod, SignInOutcome, SignUpOutcome, Tessera, TotpEnrollment,
};
use tessera_storage_memory::MemoryStore;

const PW: &str = "correct horse battery staple";

#[derive(Default, Clone)]
struct Inbox(Arc<Mutex<Vec<Mail>>>);

#[async_trait]
impl Mailer for Inbox {
    async fn send(&self, mail: &Mail) -> tessera_core::Result<()> {
        self.0.lock().unwrap().push(mail.clone());
        Ok(())
    }
}

struct Env {
    t: Tessera,
    clock: ManualClock,
    app: App,
    client: ClientInfo,
    inbox: Inbox,
}

async fn env() -> Env {
    // 15 s into a 30 s step, so ±1 step is unambiguous.
    let clock = ManualClock::new(DateTime::from_timestamp(1_900_000_005, 0).unwrap());
    let t = Tessera::builder()
        .store(Arc::new(MemoryStore::new()))
        .clock(Arc::new(clock.clone()))
        .key_encryption_key(KeyRing::new([9; 32], []))
        .issuer("https://auth.example.test")
        .password_params(PasswordParams::insecure_fast_for_tests())
        .build()
        .await
        .unwrap();
    let app = t.apps().default_app().await.unwrap();
    Env {
        t,
        clock,
        app,
        client: ClientInfo::parse(Some("192.0.2.7"), Some("mfa-test")),
        inbox: Inbox::default(),
    }
}

/// The code an independent authenticator shows at Unix time `at`.
fn code_at(secret_b32: &str, at: i64) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret_b32).unwrap();
    totp_rs::Builder::new()
        .with_secret(secret)
        .build()
        .unwrap()
        .generate(at as u64)
        .to_string()
}

impl Env {
    fn now(&self) -> i64 {
        self.clock.now().timestamp()
    }

    fn code(&self, secret: &str, steps: i64) -> String {
        code_at(secret, self.now() + 30 * steps)
    }

    async fn sign_up(&self, email: &str) -> AuthSession {
        match self
            .t
            .passwords()
            .sign_up(&self.app, email, PW, None, &self.client)
            .await
            .unwrap()
        {
            SignUpOutcome::SignedIn(s) => *s,
            SignUpOutcome::VerificationRequired => panic!("signs in straight away"),
        }
    }

    async fn sign_in(&self, email: &str) -> SignInOutcome {
        self.t
            .passwords()
            .sign_in(&self.app, email, PW, &self.client)
            .await
            .unwrap()
    }

    async fn challenge(&self, email: &str) -> MfaChallenge {
        match self.sign_in(email).await {
            SignInOutcome::MfaRequired(c) => c,
            SignInOutcome::Complete(_) => panic!("expected an MFA challenge"),
        }
    }

    /// A user with confirmed TOTP; answers the secret and recovery codes.
    /// Moves the clock a step on, so the confirming code is out of the way.
    async fn with_totp(&self, email: &str) -> (AuthSession, String, Vec<String>) {
        let s = self.sign_up(email).await;
        let e: TotpEnrollment = self
            .t
            .totp()
            .enroll(&self.app, s.user.id, &self.client)
            .await
            .unwrap();
        let codes = self
            .t
            .totp()
            .confirm(&self.app, s.user.id, &self.code(&e.secret, 0), &self.client)
            .await
            .unwrap();
        self.clock.advance(Duration::seconds(120));
        (s, e.secret, codes)
    }

    async fn set_policy(&mut self, mfa: MfaPolicy) {
        let settings = AppSettings {
            mfa,
            ..self.app.settings.clone()
        };
        self.app = self
            .t
            .apps()
            .update(self.app.id, None, None, Some(settings))
            .await
            .unwrap();
    }

    async fn deliver(&self) -> Vec<Mail> {
        self.t
            .emails()
            .deliver_pending(&self.inbox, 100)
            .await
            .unwrap();
        std::mem::take(&mut *self.inbox.0.lock().unwrap())
    }
}

#[tokio::test]
async fn enrolment_gives_uri_qr_and_a_sealed_secret_active_only_once_confirmed() {
    let e = env().await;
    let s = e.sign_up("enrol@example.com").await;
    let totp = e.t.totp();
    let en = totp.enroll(&e.app, s.user.id, &e.client).await.unwrap();
    assert_eq!(en.secret.len(), 32, "160 bits in base32");
    assert!(
        en.otpauth_uri
            .starts_with("otpauth://totp/Default:enrol%40example.com?"),
        "{}",
        en.otpauth_uri
    );
    assert!(en.otpauth_uri.contains(&format!("secret={}", en.secret)));
    assert!(en.otpauth_uri.contains("issuer=Default"));
    assert!(en.qr_svg.starts_with("<svg") && en.qr_svg.ends_with("</svg>"));

    // Stored sealed, not in the clear, and inactive.
    let stored =
        e.t.store()
            .credentials()
            .list_credentials(s.user.id, Some(CredentialKind::Totp))
            .await
            .unwrap();
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].secret.contains(&en.secret));
    assert_eq!(stored[0].data["confirmed"], false);
    let status = totp.status(&e.app, s.user.id).await.unwrap();
    assert!(status.totp_pending && !status.totp_enabled);

    // Unconfirmed TOTP is not asked for at sign-in.
    assert!(matches!(
        e.sign_in("enrol@example.com").await,
        SignInOutcome::Complete(_)
    ));

    // Enrolling again replaces the unconfirmed secret: the old one's code no longer confirms.
    let en2 = totp.enroll(&e.app, s.user.id, &e.client).await.unwrap();
    assert_ne!(en.secret, en2.secret);
    let err = totp
        .confirm(&e.app, s.user.id, &e.code(&en.secret, 0), &e.client)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_credentials");
    let codes = totp
        .confirm(&e.app, s.user.id, &e.code(&en2.secret, 0), &e.client)
        .await
        .unwrap();
    assert_eq!(codes.len(), 10);
    assert!(
        codes
            .iter()
            .all(|c| c.len() == 19 && c.split('-').all(|g| g.len() == 4))
    );
    let unique: std::collections::HashSet<_> = codes.iter().collect();
    assert_eq!(unique.len(), 10);
    // Only digests are stored.
    let stored =
        e.t.store()
            .credentials()
            .list_credentials(s.user.id, Some(CredentialKind::RecoveryCode))
            .await
            .unwrap();
    assert_eq!(stored.len(), 10);
    assert!(
        stored
            .iter()
            .all(|c| codes.iter().all(|code| !c.secret.contains(code.as_str())))
    );
    let status = totp.status(&e.app, s.user.id).await.unwrap();
    assert!(status.totp_enabled && !status.totp_pending);
    assert_eq!(status.recovery_codes_left, 10);

    // A confirmed TOTP must be disabled before enrolling again.
    let err = totp.enroll(&e.app, s.user.id, &e.client).await.unwrap_err();
    assert_eq!(err.code(), "conflict");
    let err = totp
        .confirm(&e.app, s.user.id, &e.code(&en2.secret, 1), &e.client)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "conflict");

    let events =
        e.t.audit()
            .list(&AuditQuery {
                user_id: Some(s.user.id),
                ..Default::default()
            })
            .await
            .unwrap();
    let kinds: Vec<_> = events.iter().map(|e| e.kind.as_str()).collect();
    for k in [
        "totp.enrollment_started",
        "totp.enabled",
        "mfa.recovery_codes_generated",
        "mfa.failed",
    ] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
}

#[tokio::test]
async fn password_sign_in_asks_for_totp_within_one_step_either_side() {
    let e = env().await;
    let (s, secret, _) = e.with_totp("window@example.com").await;
    let mfa = e.t.mfa();
    for (steps, accepted) in [(-1, true), (0, true), (1, true), (-2, false), (2, false)] {
        let ch = e.challenge("window@example.com").await;
        assert_eq!(ch.methods, [MfaMethod::Totp, MfaMethod::RecoveryCode]);
        assert!(ch.mfa_token.starts_with("tsf_"));
        let r = mfa
            .verify_totp(&e.app, &ch.mfa_token, &e.code(&secret, steps), &e.client)
            .await;
        match r {
            Ok(done) => {
                assert!(accepted, "step {steps} must be refused");
                assert_eq!(done.user.id, s.user.id);
                assert_eq!(done.session.amr, ["pwd", "otp", "mfa"]);
                let claims = e.t.tokens().verify(&done.access_token, None).await.unwrap();
                assert_eq!(claims.amr, ["pwd", "otp", "mfa"]);
            }
            Err(err) => {
                assert!(!accepted, "step {steps} must be accepted: {err:?}");
                assert_eq!(err.code(), "invalid_credentials");
            }
        }
    }
}

#[tokio::test]
async fn a_code_is_accepted_once() {
    let e = env().await;
    let (_, secret, _) = e.with_totp("replay@example.com").await;
    let mfa = e.t.mfa();
    let code = e.code(&secret, 0);
    let ch = e.challenge("replay@example.com").await;
    mfa.verify_totp(&e.app, &ch.mfa_token, &code, &e.client)
        .await
        .unwrap();
    // The same code, on a new challenge, within its window: refused.
    let ch = e.challenge("replay@example.com").await;
    let err = mfa
        .verify_totp(&e.app, &ch.mfa_token, &code, &e.client)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_credentials");
    // A spent challenge does not work again either.
    e.clock.advance(Duration::seconds(30));
    let next = e.code(&secret, 0);
    mfa.verify_totp(&e.app, &ch.mfa_token, &next, &e.client)
        .await
        .unwrap();
    let err = mfa
        .verify_totp(&e.app, &ch.mfa_token, &next, &e.client)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_sixteen_concurrent_uses_of_one_code_exactly_one_wins() {
    let e = env().await;
    let (_, secret, _) = e.with_totp("race@example.com").await;
    let code = e.code(&secret, 0);
    let mut challenges = Vec::new();
    for _ in 0..16 {
        challenges.push(e.challenge("race@example.com").await.mfa_token);
    }
    let mut tasks = tokio::task::JoinSet::new();
    for token in challenges {
        let (t, app, client, code) = (e.t.clone(), e.app.clone(), e.client.clone(), code.clone());
        tasks.spawn(async move { t.mfa().verify_totp(&app, &token, &code, &client).await });
    }
    let mut wins = 0;
    while let Some(r) = tasks.join_next().await {
        match r.unwrap() {
            Ok(_) => wins += 1,
            Err(err) => assert!(
                matches!(err.code(), "invalid_credentials" | "rate_limited"),
                "{err:?}"
            ),
        }
    }
    assert_eq!(wins, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_sixteen_concurrent_completions_of_one_challenge_exactly_one_wins() {
    let e = env().await;
    let (_, secret, codes) = e.with_totp("race2@example.com").await;
    let ch = e.challenge("race2@example.com").await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..16 {
        let (t, app, client, token) = (
            e.t.clone(),
            e.app.clone(),
            e.client.clone(),
            ch.mfa_token.clone(),
        );
        // Different factors, each valid on its own.
        let (code, recovery) = if i < 3 {
            (Some(code_at(&secret, e.now() + 30 * (i - 1))), None)
        } else {
            (None, Some(codes[(i % 10) as usize].clone()))
        };
        tasks.spawn(async move {
            match (code, recovery) {
                (Some(c), _) => t.mfa().verify_totp(&app, &token, &c, &client).await,
                (_, Some(r)) => {
                    t.mfa()
                        .verify_recovery_code(&app, &token, &r, &client)
                        .await
                }
                _ => unreachable!(),
            }
        });
    }
    let mut wins = 0;
    while let Some(r) = tasks.join_next().await {
        if r.unwrap().is_ok() {
            wins += 1;
        }
    }
    assert_eq!(wins, 1);
}

#[tokio::test]
async fn recovery_codes_work_once_and_regenerating_replaces_them() {
    let e = env().await;
    let (s, secret, codes) = e.with_totp("recover@example.com").await;
    let mfa = e.t.mfa();
    let ch = e.challenge("recover@example.com").await;
    // Typed loosely: upper case, spaces instead of the dash.
    let typed = codes[0].to_uppercase().replace('-', " ");
    let done = mfa
        .verify_recovery_code(&e.app, &ch.mfa_token, &typed, &e.client)
        .await
        .unwrap();
    assert_eq!(done.session.amr, ["pwd", "mfa"]);
    let ch = e.challenge("recover@example.com").await;
    let err = mfa
        .verify_recovery_code(&e.app, &ch.mfa_token, &codes[0], &e.client)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_credentials");
    assert_eq!(
        e.t.totp()
            .status(&e.app, s.user.id)
            .await
            .unwrap()
            .recovery_codes_left,
        9
    );

    // Regenerating needs re-authentication, and invalidates the old set.
    let totp = e.t.totp();
    let err = totp
        .regenerate_recovery_codes(&e.app, s.user.id, None, None, &e.client)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "reauthentication_required");
    let err = totp
        .regenerate_recovery_codes(&e.app, s.user.id, Some("wrong password"), None, &e.client)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_credentials");
    let fresh = totp
        .regenerate_recovery_codes(&e.app, s.user.id, Some(PW), None, &e.client)
        .await
        .unwrap();
    assert_eq!(fresh.len(), 10);
    let ch = e.challenge("recover@example.com").await;
    let err = mfa
        .verify_recovery_code(&e.app, &ch.mfa_token, &codes[1], &e.client)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_credentials");
    mfa.verify_recovery_code(&e.app, &ch.mfa_token, &fresh[1], &e.client)
        .await
        .unwrap();
    // TOTP still works alongside.
    let ch = e.challenge("recover@example.com").await;
    mfa.verify_totp(&e.app, &ch.mfa_token, &e.code(&secret, 0), &e.client)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_recovery_code_is_spent_once_under_concurrency() {
    let e = env().await;
    let (_, _, codes) = e.with_totp("rc-race@example.com").await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let token = e.challenge("rc-race@example.com").await.mfa_token;
        let (t, app, client, code) = (
            e.t.clone(),
            e.app.clone(),
            e.client.clone(),
            codes[3].clone(),
        );
        tasks.spawn(async move {
            t.mfa()
                .verify_recovery_code(&app, &token, &code, &client)
                .await
        });
    }
    let mut wins = 0;
    while let Some(r) = tasks.join_next().await {
        if r.unwrap().is_ok() {
            wins += 1;
        }
    }
    assert_eq!(wins, 1);
}

#[tokio::test]
async fn email_code_and_magic_link_sign_ins_ask_for_the_second_factor() {
    let e = env().await;
    let (_, secret, _) = e.with_totp("mail@example.com").await;
    e.deliver().await;
    let emails = e.t.emails();
    let mfa = e.t.mfa();

    emails
        .send_sign_in_code(&e.app, "mail@example.com", &e.client)
        .await
        .unwrap();
    let code = e.deliver().await[0].subject[..6].to_owned();
    let out = emails
        .sign_in_with_code(&e.app, "mail@example.com", &code, &e.client)
        .await
        .unwrap();
    let SignInOutcome::MfaRequired(ch) = out else {
        panic!("expected MFA after an email code");
    };
    let done = mfa
        .verify_totp(&e.app, &ch.mfa_token, &e.code(&secret, 0), &e.client)
        .await
        .unwrap();
    assert_eq!(done.session.amr, ["otp", "mfa"]);

    emails
        .send_magic_link(&e.app, "mail@example.com", None, &e.client)
        .await
        .unwrap();
    let mail = e.deliver().await.remove(0);
    let start = mail.text.find("token=").unwrap() + 6;
    let token: String = mail.text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    let link = emails
        .sign_in_with_magic_link(&token, &e.client)
        .await
        .unwrap();
    let SignInOutcome::MfaRequired(ch) = link.outcome else {
        panic!("expected MFA after a magic link");
    };
    e.clock.advance(Duration::seconds(30));
    let done = mfa
        .verify_totp(&e.app, &ch.mfa_token, &e.code(&secret, 0), &e.client)
        .await
        .unwrap();
    assert_eq!(done.session.amr, ["otp", "mfa"]);
}

#[tokio::test]
async fn an_app_requiring_mfa_forces_enrolment_with_the_mfa_token() {
    let mut e = env().await;
    e.sign_up("forced@example.com").await;
    e.set_policy(MfaPolicy::Required).await;
    let mfa = e.t.mfa();
    let ch = e.challenge("forced@example.com").await;
    assert_eq!(ch.methods, [MfaMethod::TotpEnroll]);
    // The token cannot complete the sign-in without enrolling.
    let err = mfa
        .verify_totp(&e.app, &ch.mfa_token, "123456", &e.client)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_input");
    let pending = mfa.take_challenge(&e.app, &ch.mfa_token).await.unwrap();
    assert_eq!(pending.method, "password");
    assert_eq!(pending.amr, ["pwd"]);

    let en = mfa
        .enroll_totp(&e.app, &ch.mfa_token, &e.client)
        .await
        .unwrap();
    let err = mfa
        .confirm_totp(&e.app, &ch.mfa_token, &e.code(&en.secret, 3), &e.client)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_credentials");
    let done = mfa
        .confirm_totp(&e.app, &ch.mfa_token, &e.code(&en.secret, 0), &e.client)
        .await
        .unwrap();
    assert_eq!(done.recovery_codes.len(), 10);
    assert_eq!(done.session.session.amr, ["pwd", "otp", "mfa"]);
    // The token is spent.
    assert_eq!(
        mfa.take_challenge(&e.app, &ch.mfa_token)
            .await
            .unwrap_err()
            .code(),
        "invalid_token"
    );
    // From now on the user is asked for TOTP.
    let ch = e.challenge("forced@example.com").await;
    assert_eq!(ch.methods, [MfaMethod::Totp, MfaMethod::RecoveryCode]);

    // A user with only an optional policy and no factor signs straight in.
    e.set_policy(MfaPolicy::Optional).await;
    e.sign_up("free@example.com").await;
    assert!(matches!(
        e.sign_in("free@example.com").await,
        SignInOutcome::Complete(_)
    ));
}

#[tokio::test]
async fn mfa_tokens_expire_and_are_spent_after_five_wrong_codes() {
    let e = env().await;
    let (_, secret, _) = e.with_totp("limits@example.com").await;
    let mfa = e.t.mfa();

    let ch = e.challenge("limits@example.com").await;
    e.clock.advance(Duration::seconds(301));
    let err = mfa
        .verify_totp(&e.app, &ch.mfa_token, &e.code(&secret, 0), &e.client)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_token");
    for bad in [
        "",
        "tsf_short",
        "tss_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        let err = mfa.take_challenge(&e.app, bad).await.unwrap_err();
        assert_eq!(err.code(), "invalid_token");
    }

    let ch = e.challenge("limits@example.com").await;
    let wrong = if e.code(&secret, 0) == "000000" {
        "111111"
    } else {
        "000000"
    };
    for i in 0..5 {
        let err = mfa
            .verify_totp(&e.app, &ch.mfa_token, wrong, &e.client)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "invalid_credentials", "attempt {i}");
    }
    // Spent: even the right code no longer works.
    let err = mfa
        .verify_totp(&e.app, &ch.mfa_token, &e.code(&secret, 0), &e.client)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_token");

    // Five more on a second challenge, and the user is throttled across challenges.
    let ch = e.challenge("limits@example.com").await;
    for _ in 0..5 {
        let err = mfa
            .verify_totp(&e.app, &ch.mfa_token, wrong, &e.client)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "invalid_credentials");
    }
    let ch = e.challenge("limits@example.com").await;
    let err = mfa
        .verify_totp(&e.app, &ch.mfa_token, &e.code(&secret, 0), &e.client)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "rate_limited");
    e.clock.advance(Duration::seconds(2));
    mfa.verify_totp(&e.app, &ch.mfa_token, &e.code(&secret, 0), &e.client)
        .await
        .unwrap();

    // A challenge is for the app that issued it.
    let other =
        e.t.apps()
            .create(tessera_core::NewApp {
                slug: "other".into(),
                name: "Other".into(),
                pool_id: Some(e.app.pool_id),
                settings: None,
            })
            .await
            .unwrap();
    let ch = e.challenge("limits@example.com").await;
    let err = mfa.take_challenge(&other, &ch.mfa_token).await.unwrap_err();
    assert_eq!(err.code(), "invalid_token");
}

#[tokio::test]
async fn disabling_totp_needs_the_password_and_removes_recovery_codes() {
    let e = env().await;
    let (s, secret, codes) = e.with_totp("off@example.com").await;
    let totp = e.t.totp();
    let err = totp
        .disable(
            &e.app,
            s.user.id,
            None,
            Some(&e.code(&secret, 0)),
            &e.client,
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "reauthentication_required");
    let err = totp
        .disable(&e.app, s.user.id, Some("not it"), None, &e.client)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_credentials");
    totp.disable(&e.app, s.user.id, Some(PW), None, &e.client)
        .await
        .unwrap();
    let status = totp.status(&e.app, s.user.id).await.unwrap();
    assert!(!status.totp_enabled && !status.totp_pending);
    assert_eq!(status.recovery_codes_left, 0);
    assert!(matches!(
        e.sign_in("off@example.com").await,
        SignInOutcome::Complete(_)
    ));
    assert_eq!(
        totp.disable(&e.app, s.user.id, Some(PW), None, &e.client)
            .await
            .unwrap_err()
            .code(),
        "not_found"
    );
    let _ = codes;
}
