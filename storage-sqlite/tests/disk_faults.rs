//! The SQLite store when the disk refuses writes (issue 14, item 1).
//!
//! A full or read-only disk makes SQLite fail a COMMIT with an I/O error.
//! Such a failure must stay one failed write: later writes fail fast with a
//! `Storage` error while the disk refuses them, work again by themselves once
//! it accepts them (no restart), and every write that was acknowledged is in
//! the file afterwards. Before the fix a connection whose COMMIT failed went
//! back to the pool still "inside" its transaction, so it kept the write lock
//! ("database is locked" for every other connection, forever) and the writes it
//! later acknowledged were savepoints of a transaction that never committed.
//!
//! The fault: the process's file-size limit (`RLIMIT_FSIZE`) is lowered to 0
//! with `prlimit`, so every `write(2)` to a file fails with `EFBIG` (SIGXFSZ is
//! caught, so it does not kill the process); raising the limit again is the
//! disk coming back. No root is needed. Because the limit holds for the whole
//! process, this is a test binary of its own, with one test.

#![cfg(target_os = "linux")]

use std::process::Command;

use sea_orm::ConnectionTrait;
use tessera_core::ErrorKind;
use tessera_core::conformance::fixtures::{
    STRONG_PASSWORD, at, credential, insert_pool_and_app, rotation, session, successor, user,
};
use tessera_core::model::{CredentialKind, FirstSignIn, RotationOutcome};
use tessera_core::store::Store;
use tessera_storage_sql::{checks, sea_orm};
use tessera_storage_sqlite::{SqliteOptions, SqliteStore};
use tokio::signal::unix::{SignalKind, signal};

/// `SIGXFSZ` on Linux (x86, Arm, RISC-V).
const SIGXFSZ: i32 = 25;

/// Sets this process's soft file-size limit, and puts it back when dropped
/// (also when the test panics, so the harness can write its report).
struct FileSizeLimit;

impl FileSizeLimit {
    fn set(bytes: &str) -> FileSizeLimit {
        let pid = std::process::id().to_string();
        let status = Command::new("prlimit")
            .args(["--pid", &pid, &format!("--fsize={bytes}:unlimited")])
            .status()
            .expect("prlimit (util-linux) runs");
        assert!(status.success(), "prlimit failed: {status}");
        FileSizeLimit
    }
}

impl Drop for FileSizeLimit {
    fn drop(&mut self) {
        let pid = std::process::id().to_string();
        let _ = Command::new("prlimit")
            .args(["--pid", &pid, "--fsize=unlimited:unlimited"])
            .status();
    }
}

/// What one round of writes acknowledged.
#[derive(Default)]
struct Acked {
    users: Vec<tessera_core::model::User>,
    sessions: Vec<tessera_core::conformance::fixtures::NewSession>,
    rotated: Vec<String>,
    throttles: u32,
}

/// One of each kind of write: a user with a password and a session (both
/// transactions), a refresh rotation (read-then-write transaction) and a
/// throttle count (one statement). Records what succeeded; every failure
/// must be a `Storage` error.
async fn write_round(
    store: &SqliteStore,
    app: &tessera_core::model::App,
    pool: &tessera_core::model::Pool,
    tag: &str,
    acked: &mut Acked,
) -> usize {
    let mut failures = 0;
    let mut check = |r: &tessera_core::Result<()>| {
        if let Err(e) = r {
            assert_eq!(e.kind(), &ErrorKind::Storage, "{e:?}");
            failures += 1;
        }
    };
    let u = user(pool, &format!("{tag}@example.com"));
    let pw = credential(&u, CredentialKind::Password, STRONG_PASSWORD);
    let r = store
        .users()
        .create_user(&u, Some(FirstSignIn::Password(&pw)), &[])
        .await;
    check(&r);
    if r.is_ok() {
        acked.users.push(u.clone());
        let s = session(app, &u);
        let r = store
            .sessions()
            .create_session(&s.session, &s.refresh, &[])
            .await;
        check(&r);
        if r.is_ok() {
            acked.sessions.push(s.clone());
            let r = store
                .sessions()
                .rotate_refresh_token(&rotation(&s.refresh_token, at(60), 0), &|_| Vec::new())
                .await
                .map(|o| assert!(matches!(o, RotationOutcome::Rotated(_)), "{o:?}"));
            check(&r);
            if r.is_ok() {
                acked.rotated.push(successor(&s.refresh_token));
            }
        }
    }
    let now = chrono::Utc::now();
    let r = store
        .throttles()
        .record_failure("disk", now, now - chrono::Duration::hours(1))
        .await
        .map(|_| ());
    check(&r);
    if r.is_ok() {
        acked.throttles += 1;
    }
    failures
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_fail_while_the_disk_refuses_them_and_recover_without_a_restart() {
    // Catching SIGXFSZ turns "killed" into a failing write(2).
    let _xfsz = signal(SignalKind::from_raw(SIGXFSZ)).expect("catch SIGXFSZ");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db").to_str().unwrap().to_owned();
    let store = SqliteStore::open(&path, SqliteOptions::default())
        .await
        .unwrap();
    let sample = checks::write_sample(&store).await;
    let (pool, app) = insert_pool_and_app(&store, "disk").await;
    let mut acked = Acked::default();
    assert_eq!(
        write_round(&store, &app, &pool, "before", &mut acked).await,
        0
    );

    // The disk refuses every write: each kind of write fails, as a Storage
    // error, however often it is tried.
    {
        let _limit = FileSizeLimit::set("0");
        for i in 0..9 {
            let failed = write_round(&store, &app, &pool, &format!("during{i}"), &mut acked).await;
            // Nothing is acknowledged: the user (and so what hangs on it) and
            // the throttle count both fail.
            assert_eq!(failed, 2, "round {i}: a write succeeded with no disk");
        }
        // Reads still work.
        let first = &acked.users[0];
        assert_eq!(&store.users().get_user(first.id).await.unwrap(), first);
    }

    // The disk is back: writes work again, at once, on the same store.
    for i in 0..9 {
        let failed = write_round(&store, &app, &pool, &format!("after{i}"), &mut acked).await;
        assert_eq!(failed, 0, "round {i} after the disk came back");
    }

    // Everything acknowledged is in the file.
    store.close().await.unwrap();
    let store = SqliteStore::open(&path, SqliteOptions::default())
        .await
        .unwrap();
    checks::check_sample(&store, &sample).await;
    for u in &acked.users {
        assert_eq!(&store.users().get_user(u.id).await.unwrap(), u);
    }
    for s in &acked.sessions {
        let found = store
            .sessions()
            .find_session_by_token(&s.session.token_hash)
            .await
            .unwrap();
        assert!(
            found.is_some(),
            "acknowledged session {} lost",
            s.session.id
        );
    }
    for token in &acked.rotated {
        // The acknowledged successor is live: it rotates in turn.
        let outcome = store
            .sessions()
            .rotate_refresh_token(&rotation(token, at(120), 0), &|_| Vec::new())
            .await
            .unwrap();
        assert!(
            matches!(outcome, RotationOutcome::Rotated(_)),
            "acknowledged refresh token lost: {outcome:?}"
        );
    }
    let throttle = store.throttles().find_throttle("disk").await.unwrap();
    assert_eq!(throttle.map(|t| t.failures), Some(acked.throttles));
    let row = store
        .sql()
        .connection()
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Sqlite,
            "PRAGMA integrity_check",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.try_get_by_index::<String>(0).unwrap(), "ok");
}
