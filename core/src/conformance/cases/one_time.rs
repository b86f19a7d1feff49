//! One-time tokens and codes.

use std::sync::Arc;

use serde_json::json;

use super::super::fixtures::*;
use crate::ErrorKind;
use crate::crypto::TokenHash;
use crate::model::CodeAttempt;
use crate::store::Store;

/// Tokens round-trip exactly (extreme times, adversarial data and subject)
/// through `find_token`, which does not spend them, and `consume_token`,
/// which does; a duplicate hash is `Conflict`.
pub async fn one_time_tokens_round_trip(store: Arc<dyn Store>) {
    let (p, a) = insert_pool_and_app(store.as_ref(), "main").await;
    let u = insert_user(store.as_ref(), &p, "ada@example.com").await;
    let tokens = store.tokens();
    let (secret, mut tok) = one_time_token(&p, "magic_link", Some(&u), latest());
    tok.app_id = Some(a.id);
    tok.subject = Some(max_email("s"));
    tok.data = max_metadata();
    tok.attempts = 3;
    tok.created_at = earliest();
    tokens.insert_token(&tok).await.unwrap();
    let hash = TokenHash::of(&secret);
    for _ in 0..2 {
        assert_eq!(
            tokens.find_token("magic_link", &hash, at(1)).await.unwrap(),
            Some(tok.clone())
        );
    }
    assert_eq!(
        tokens
            .find_token("password_reset", &hash, at(1))
            .await
            .unwrap(),
        None
    );
    let mut dup = tok.clone();
    dup.purpose = "other".into();
    assert_err(tokens.insert_token(&dup).await, ErrorKind::Conflict);

    // A wrong purpose neither spends nor reveals it.
    assert_err(
        tokens.consume_token("password_reset", &hash, at(2)).await,
        ErrorKind::InvalidToken,
    );
    assert_eq!(
        tokens
            .consume_token("magic_link", &hash, at(2))
            .await
            .unwrap(),
        tok
    );
    assert_err(
        tokens.consume_token("magic_link", &hash, at(3)).await,
        ErrorKind::InvalidToken,
    );
    assert_eq!(
        tokens.find_token("magic_link", &hash, at(3)).await.unwrap(),
        None
    );

    // The earliest time round-trips too (for a token found before it).
    let (secret, mut old) = one_time_token(&p, "verify_email", None, earliest());
    old.created_at = earliest();
    tokens.insert_token(&old).await.unwrap();
    assert_eq!(
        tokens
            .find_token(
                "verify_email",
                &TokenHash::of(&secret),
                earliest() - micro()
            )
            .await
            .unwrap(),
        Some(old)
    );
}

/// An expired token is not found, and consuming it is `TokenExpired` and
/// deletes it (a second try is `InvalidToken`).
pub async fn expired_token_is_deleted_on_consume(store: Arc<dyn Store>) {
    let (p, _) = insert_pool_and_app(store.as_ref(), "main").await;
    let tokens = store.tokens();
    let (secret, tok) = one_time_token(&p, "password_reset", None, at(600));
    tokens.insert_token(&tok).await.unwrap();
    let hash = TokenHash::of(&secret);
    assert_eq!(
        tokens
            .find_token("password_reset", &hash, at(600) - micro())
            .await
            .unwrap(),
        Some(tok.clone())
    );
    let late = at(600) + micro();
    assert_eq!(
        tokens
            .find_token("password_reset", &hash, late)
            .await
            .unwrap(),
        None
    );
    assert_err(
        tokens.consume_token("password_reset", &hash, late).await,
        ErrorKind::TokenExpired,
    );
    assert_err(
        tokens.consume_token("password_reset", &hash, at(1)).await,
        ErrorKind::InvalidToken,
    );
    assert_eq!(
        tokens
            .find_token("password_reset", &hash, at(1))
            .await
            .unwrap(),
        None
    );
}

/// `attempt_code`: a wrong guess counts (attempts left go down), the right
/// one is `Accepted` with the stored token and spends it; afterwards the
/// subject has no code (`NotFound`).
pub async fn attempt_code_accepts_the_right_code_once(store: Arc<dyn Store>) {
    let (p, _) = insert_pool_and_app(store.as_ref(), "main").await;
    let tokens = store.tokens();
    let subject = "o'brien@example.com";
    let c = code(&p, "email_code", subject, "123456", at(600));
    tokens.replace_code(&c).await.unwrap();
    let wrong = code_hash(subject, "000000");
    let right = code_hash(subject, "123456");
    assert_eq!(
        tokens
            .attempt_code("email_code", p.id, subject, &wrong, 5, at(1))
            .await
            .unwrap(),
        CodeAttempt::Rejected { attempts_left: 4 }
    );
    assert_eq!(
        tokens
            .attempt_code("email_code", p.id, subject, &wrong, 5, at(2))
            .await
            .unwrap(),
        CodeAttempt::Rejected { attempts_left: 3 }
    );
    let mut expected = c.clone();
    expected.attempts = 2;
    assert_eq!(
        tokens
            .attempt_code("email_code", p.id, subject, &right, 5, at(3))
            .await
            .unwrap(),
        CodeAttempt::Accepted(Box::new(expected))
    );
    assert_eq!(
        tokens
            .attempt_code("email_code", p.id, subject, &right, 5, at(4))
            .await
            .unwrap(),
        CodeAttempt::NotFound
    );
}

/// At `max_attempts` wrong guesses the code is spent (`attempts_left: 0`):
/// even the right code is `NotFound` afterwards.
pub async fn attempt_code_spends_the_code_at_max_attempts(store: Arc<dyn Store>) {
    let (p, _) = insert_pool_and_app(store.as_ref(), "main").await;
    let tokens = store.tokens();
    let subject = "ada@example.com";
    tokens
        .replace_code(&code(&p, "email_code", subject, "424242", at(600)))
        .await
        .unwrap();
    let wrong = code_hash(subject, "000000");
    for left in (0..3).rev() {
        assert_eq!(
            tokens
                .attempt_code("email_code", p.id, subject, &wrong, 3, at(1))
                .await
                .unwrap(),
            CodeAttempt::Rejected {
                attempts_left: left
            }
        );
    }
    assert_eq!(
        tokens
            .attempt_code(
                "email_code",
                p.id,
                subject,
                &code_hash(subject, "424242"),
                3,
                at(2)
            )
            .await
            .unwrap(),
        CodeAttempt::NotFound
    );
}

/// An expired code answers `Expired` (right or wrong guess) and is deleted.
pub async fn attempt_code_after_expiry_is_expired(store: Arc<dyn Store>) {
    let (p, _) = insert_pool_and_app(store.as_ref(), "main").await;
    let tokens = store.tokens();
    let subject = "ada@example.com";
    tokens
        .replace_code(&code(&p, "email_code", subject, "111111", at(600)))
        .await
        .unwrap();
    let right = code_hash(subject, "111111");
    assert_eq!(
        tokens
            .attempt_code("email_code", p.id, subject, &right, 5, at(600) + micro())
            .await
            .unwrap(),
        CodeAttempt::Expired
    );
    assert_eq!(
        tokens
            .attempt_code("email_code", p.id, subject, &right, 5, at(1))
            .await
            .unwrap(),
        CodeAttempt::NotFound
    );
}

/// `replace_code` invalidates the earlier code for the same purpose, pool and
/// subject (and resets the count), but not codes of other subjects, pools or
/// purposes.
pub async fn replace_code_invalidates_the_earlier_code(store: Arc<dyn Store>) {
    let (p, _) = insert_pool_and_app(store.as_ref(), "main").await;
    let (q, _) = insert_pool_and_app(store.as_ref(), "other").await;
    let tokens = store.tokens();
    let s = "ada@example.com";
    let first = code(&p, "email_code", s, "111111", at(600));
    tokens.replace_code(&first).await.unwrap();
    assert_eq!(
        tokens
            .attempt_code("email_code", p.id, s, &code_hash(s, "999999"), 5, at(1))
            .await
            .unwrap(),
        CodeAttempt::Rejected { attempts_left: 4 }
    );
    // (Codes are stored by hash, and hashes are unique store-wide, so the
    // neighbours get codes of their own.)
    let neighbours = [
        ("email_code", &q, s, "333333"),
        ("email_code", &p, "bob@example.com", "444444"),
        ("sign_up_code", &p, s, "555555"),
    ];
    for (purpose, pool, subject, c) in neighbours {
        tokens
            .replace_code(&code(pool, purpose, subject, c, at(600)))
            .await
            .unwrap();
    }
    let mut second = code(&p, "email_code", s, "222222", at(900));
    second.data = json!({ "second": true });
    tokens.replace_code(&second).await.unwrap();

    // The old code is now just a wrong guess at the new one, whose count
    // starts afresh.
    assert_eq!(
        tokens
            .attempt_code("email_code", p.id, s, &code_hash(s, "111111"), 5, at(2))
            .await
            .unwrap(),
        CodeAttempt::Rejected { attempts_left: 4 }
    );
    let mut expected = second.clone();
    expected.attempts = 1;
    assert_eq!(
        tokens
            .attempt_code("email_code", p.id, s, &code_hash(s, "222222"), 5, at(3))
            .await
            .unwrap(),
        CodeAttempt::Accepted(Box::new(expected))
    );
    // The others are untouched.
    for (purpose, pool, subject, c) in neighbours {
        assert!(matches!(
            tokens
                .attempt_code(purpose, pool.id, subject, &code_hash(subject, c), 5, at(4))
                .await
                .unwrap(),
            CodeAttempt::Accepted(_)
        ));
    }
}

/// `delete_user_tokens` deletes the user's tokens of one purpose and counts
/// them; other purposes and other users' tokens stay.
pub async fn delete_user_tokens_by_purpose(store: Arc<dyn Store>) {
    let (p, _) = insert_pool_and_app(store.as_ref(), "main").await;
    let ada = insert_user(store.as_ref(), &p, "ada@example.com").await;
    let bob = insert_user(store.as_ref(), &p, "bob@example.com").await;
    let tokens = store.tokens();
    let mut kept = Vec::new();
    let mut gone = Vec::new();
    for (u, purpose) in [
        (&ada, "password_reset"),
        (&ada, "password_reset"),
        (&ada, "verify_email"),
        (&bob, "password_reset"),
    ] {
        let (secret, tok) = one_time_token(&p, purpose, Some(u), at(600));
        tokens.insert_token(&tok).await.unwrap();
        if u.id == ada.id && purpose == "password_reset" {
            gone.push((purpose, secret));
        } else {
            kept.push((purpose, secret, tok));
        }
    }
    assert_eq!(
        tokens
            .delete_user_tokens(ada.id, "password_reset")
            .await
            .unwrap(),
        2
    );
    for (purpose, secret) in gone {
        assert_eq!(
            tokens
                .find_token(purpose, &TokenHash::of(&secret), at(1))
                .await
                .unwrap(),
            None
        );
    }
    for (purpose, secret, tok) in kept {
        assert_eq!(
            tokens
                .find_token(purpose, &TokenHash::of(&secret), at(1))
                .await
                .unwrap(),
            Some(tok)
        );
    }
    assert_eq!(
        tokens
            .delete_user_tokens(ada.id, "password_reset")
            .await
            .unwrap(),
        0
    );
}

/// A token or code is live strictly before its `expires_at` (like sessions,
/// API keys and published signing keys): at that very instant `find_token`
/// answers `None`, `consume_token` is `TokenExpired` and `attempt_code` is
/// `Expired`.
pub async fn one_time_token_expires_at_its_expiry_time(store: Arc<dyn Store>) {
    let (p, _) = insert_pool_and_app(store.as_ref(), "main").await;
    let tokens = store.tokens();
    let expiry = at(600) + micro();
    let (secret, tok) = one_time_token(&p, "magic_link", None, expiry);
    tokens.insert_token(&tok).await.unwrap();
    let hash = TokenHash::of(&secret);
    assert_eq!(
        tokens
            .find_token("magic_link", &hash, expiry - micro())
            .await
            .unwrap(),
        Some(tok)
    );
    assert_eq!(
        tokens
            .find_token("magic_link", &hash, expiry)
            .await
            .unwrap(),
        None
    );
    assert_err(
        tokens.consume_token("magic_link", &hash, expiry).await,
        ErrorKind::TokenExpired,
    );
    let subject = "ada@example.com";
    tokens
        .replace_code(&code(&p, "email_code", subject, "777777", expiry))
        .await
        .unwrap();
    assert_eq!(
        tokens
            .attempt_code(
                "email_code",
                p.id,
                subject,
                &code_hash(subject, "777777"),
                5,
                expiry
            )
            .await
            .unwrap(),
        CodeAttempt::Expired
    );
}
