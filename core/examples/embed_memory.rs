//! Run with: `cargo run -p tessera-core --example embed_memory`
//!
//! Link Tessera into a Rust app: an in-memory store, then sign up, sign in,
//! validate the session (by cookie token and by access JWT), refresh, and sign
//! out. Swap `MemoryStore` for a SQLite or Postgres store and nothing else
//! changes.

use std::sync::Arc;

use tessera_core::crypto::KeyRing;
use tessera_core::model::ClientInfo;
use tessera_core::{SignUpOutcome, Tessera};
use tessera_storage_memory::MemoryStore;

#[tokio::main]
async fn main() -> tessera_core::Result<()> {
    let tessera = Tessera::builder()
        .store(Arc::new(MemoryStore::new()))
        // In production the key-encryption key comes from configuration
        // (TESSERA_KEY_ENCRYPTION_KEY); here a fresh one will do.
        .key_encryption_key(KeyRing::from_base64(&KeyRing::generate_base64(), "")?)
        .issuer("http://localhost:8080")
        .build()
        .await?;
    let app = tessera.apps().default_app().await?;
    let client = ClientInfo::parse(Some("127.0.0.1"), Some("embed-example/1.0"));

    let SignUpOutcome::SignedIn(signed_up) = tessera
        .passwords()
        .sign_up(
            &app,
            "ada@example.com",
            "correct horse battery staple",
            Some("Ada"),
            &client,
        )
        .await?
    else {
        unreachable!("the default app signs users in straight away");
    };
    println!("signed up {} ({})", signed_up.user.email, signed_up.user.id);

    let signed_in = tessera
        .passwords()
        .sign_in(
            &app,
            "ADA@example.com",
            "correct horse battery staple",
            &client,
        )
        .await?
        .session()
        .expect("no second factor enrolled");
    println!("signed in: session {}", signed_in.session.id);

    let cookie = signed_in
        .session_token
        .as_deref()
        .expect("issued at sign-in");
    let (session, user) = tessera.sessions().validate(cookie).await?;
    println!(
        "session token valid for {} (session {})",
        user.email, session.id
    );

    let (_, _, claims) = tessera
        .sessions()
        .validate_access_token(&signed_in.access_token, Some(&app.id.to_string()))
        .await?;
    println!(
        "access token valid: sub={} amr={:?}",
        claims.sub, claims.amr
    );

    let refreshed = tessera
        .sessions()
        .refresh(&signed_in.refresh_token, &client)
        .await?;
    println!(
        "refreshed: new refresh token issued, expires in {} s",
        refreshed.expires_in
    );

    tessera
        .sessions()
        .revoke(user.id, session.id, "sign_out")
        .await?;
    let after = tessera.sessions().validate(cookie).await;
    println!(
        "after sign-out the session is rejected: {}",
        after.unwrap_err().code()
    );
    println!("JWKS: {}", tessera.tokens().jwks().await?);
    Ok(())
}
