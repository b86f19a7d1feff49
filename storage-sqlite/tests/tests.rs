//! The SQLite store: the conformance suite on a file and in memory,
//! durability across reopening, and bad input that must not half-write.

use std::sync::Arc;

use tessera_core::store::Store;
use tessera_storage_sqlite::{MEMORY, SqliteOptions, SqliteStore};

/// The conformance suite on a fresh database file per case.
mod file {
    use super::*;

    async fn make_store() -> Arc<dyn Store> {
        // The directory lives as long as the test process; each case gets its own.
        let dir = tempfile::tempdir().expect("temp dir").keep();
        let path = dir.join("tessera.db");
        Arc::new(
            SqliteStore::open(path.to_str().expect("utf-8 path"), SqliteOptions::default())
                .await
                .expect("open SQLite file"),
        )
    }

    tessera_core::conformance_tests!(make_store);
}

/// The conformance suite on `:memory:`.
mod memory {
    use super::*;

    async fn make_store() -> Arc<dyn Store> {
        Arc::new(
            SqliteStore::open(MEMORY, SqliteOptions::default())
                .await
                .expect("open SQLite in memory"),
        )
    }

    tessera_core::conformance_tests!(make_store);
}

/// Durability and schema checks on files.
mod file_lifecycle {
    use super::*;
    use tessera_core::ErrorKind;
    use tessera_storage_sql::checks;

    fn temp_db() -> (tempfile::TempDir, String) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir
            .path()
            .join("nested.db")
            .to_str()
            .expect("utf-8")
            .to_owned();
        (dir, path)
    }

    /// Written, dropped, reopened from the same file: everything is there.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn data_survives_reopening_the_file() {
        let (_dir, path) = temp_db();
        let store = SqliteStore::open(&path, SqliteOptions::default())
            .await
            .unwrap();
        let sample = checks::write_sample(&store).await;
        drop(store);
        let store = SqliteStore::open(&path, SqliteOptions::default())
            .await
            .unwrap();
        checks::check_sample(&store, &sample).await;
        store.close().await.unwrap();
        // Opening without migrating accepts the migrated file.
        let store = SqliteStore::open(
            &path,
            SqliteOptions {
                migrate: false,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(store.backend(), "sqlite");
        store.ping().await.unwrap();
    }

    /// A file migrated by a newer Tessera is refused with a `Config` error
    /// that says so; an unmigrated file opened without migrating is refused too.
    #[tokio::test]
    async fn newer_or_unmigrated_schema_is_refused() {
        let (_dir, path) = temp_db();
        let store = SqliteStore::open(&path, SqliteOptions::default())
            .await
            .unwrap();
        store
            .sql()
            .connection()
            .execute_unprepared(
                "INSERT INTO tessera_migrations (version, applied_at) \
                 VALUES ('m29990101_000001_from_the_future', 0)",
            )
            .await
            .unwrap();
        store.close().await.unwrap();
        let err = SqliteStore::open(&path, SqliteOptions::default())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Config, "{err:?}");
        assert!(err.message().contains("newer"), "{}", err.message());
        assert!(err.message().contains("m29990101_000001_from_the_future"));

        let (_dir2, fresh) = temp_db();
        let err = SqliteStore::open(
            &fresh,
            SqliteOptions {
                migrate: false,
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Config, "{err:?}");
    }

    /// Pragmas are set on every connection.
    #[tokio::test]
    async fn pragmas_are_set() {
        let (_dir, path) = temp_db();
        let store = SqliteStore::open(&path, SqliteOptions::default())
            .await
            .unwrap();
        let db = store.sql().connection();
        for (pragma, want) in [
            ("journal_mode", "wal"),
            ("foreign_keys", "1"),
            ("synchronous", "2"),
            ("busy_timeout", "5000"),
        ] {
            let row = db
                .query_one_raw(Statement::from_string(
                    DbBackend::Sqlite,
                    format!("PRAGMA {pragma}"),
                ))
                .await
                .unwrap()
                .unwrap();
            let got = row
                .try_get_by_index::<String>(0)
                .or_else(|_| row.try_get_by_index::<i64>(0).map(|n| n.to_string()))
                .unwrap();
            assert_eq!(got, want, "{pragma}");
        }
    }

    /// Two stores (two pools of connections) on one file: writers meeting a
    /// busy database wait and retry instead of failing.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn two_processes_worth_of_writers_share_a_file() {
        let (_dir, path) = temp_db();
        let a = Arc::new(
            SqliteStore::open(&path, SqliteOptions::default())
                .await
                .unwrap(),
        );
        let b = Arc::new(
            SqliteStore::open(&path, SqliteOptions::default())
                .await
                .unwrap(),
        );
        let mut tasks = Vec::new();
        for i in 0..64 {
            let store: Arc<dyn Store> = if i % 2 == 0 { a.clone() } else { b.clone() };
            tasks.push(tokio::spawn(async move {
                let now = chrono::Utc::now();
                store
                    .throttles()
                    .record_failure("shared", now, now - chrono::Duration::hours(1))
                    .await
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let t = a
            .throttles()
            .find_throttle("shared")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(t.failures, 64);

        // Read-then-write transactions across the two pools: one rotation wins.
        use tessera_core::conformance::fixtures::{
            at, insert_pool_and_app, insert_session, insert_user, rotation,
        };
        use tessera_core::model::RotationOutcome;
        let (p, app) = insert_pool_and_app(a.as_ref(), "shared").await;
        let u = insert_user(a.as_ref(), &p, "ada@example.com").await;
        let s = insert_session(a.as_ref(), &app, &u).await;
        let r = rotation(&s.refresh_token, at(60), 0);
        let mut tasks = Vec::new();
        for i in 0..16 {
            let store: Arc<dyn Store> = if i % 2 == 0 { a.clone() } else { b.clone() };
            let r = r.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .sessions()
                    .rotate_refresh_token(&r, &|_| Vec::new())
                    .await
            }));
        }
        let mut rotated = 0;
        for t in tasks {
            match t.await.unwrap().unwrap() {
                RotationOutcome::Rotated(_) => rotated += 1,
                RotationOutcome::Reused { .. } => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(rotated, 1);
    }

    /// Issue 14, item 3, as reported: two instances on one file, five wrong
    /// passwords and the one-second wait, then ten wrong passwords at once
    /// (five to each instance): one is checked, nine are refused. And the
    /// shared limits hold across them: 16 hits for a limit of 10, 10 allowed.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn two_instances_on_one_file_share_backoff_and_limits() {
        let (_dir, path) = temp_db();
        let mut instances = Vec::new();
        for _ in 0..2 {
            let store = SqliteStore::open(&path, SqliteOptions::default())
                .await
                .unwrap();
            instances.push(tessera_core::conformance::tessera(Arc::new(store)).await);
        }
        let (a, _) = &instances[0];
        let app = a.apps().default_app().await.unwrap();
        let client = tessera_core::model::ClientInfo::parse(Some("192.0.2.9"), Some("test"));
        let pw = tessera_core::conformance::fixtures::STRONG_PASSWORD;
        let wrong = tessera_core::conformance::fixtures::OTHER_PASSWORD;
        a.passwords()
            .sign_up(&app, "ada@example.com", pw, None, &client)
            .await
            .unwrap();
        for _ in 0..5 {
            let e = a
                .passwords()
                .sign_in(&app, "ada@example.com", wrong, &client)
                .await
                .unwrap_err();
            assert_eq!(e.code(), "invalid_credentials");
        }
        for (_, clock) in &instances {
            clock.advance(chrono::Duration::seconds(1));
        }
        let mut tasks = Vec::new();
        for i in 0..10 {
            let t = instances[i % 2].0.clone();
            let (app, client) = (app.clone(), client.clone());
            tasks.push(tokio::spawn(async move {
                t.passwords()
                    .sign_in(&app, "ada@example.com", wrong, &client)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.code())
            }));
        }
        let mut outcomes = Vec::new();
        for t in tasks {
            outcomes.push(t.await.unwrap());
        }
        let checked = outcomes
            .iter()
            .filter(|o| **o == Err("invalid_credentials"))
            .count();
        let refused = outcomes
            .iter()
            .filter(|o| **o == Err("rate_limited"))
            .count();
        assert_eq!((checked, refused), (1, 9), "{outcomes:?}");

        let mut tasks = Vec::new();
        for i in 0..16 {
            let t = instances[i % 2].0.clone();
            let client = client.clone();
            tasks.push(tokio::spawn(async move {
                t.limits().sign_up_ip(&client).await.is_ok()
            }));
        }
        let mut allowed = 0;
        for t in tasks {
            allowed += usize::from(t.await.unwrap());
        }
        assert_eq!(allowed, 10);
    }

    /// Instances opening one fresh file at once all succeed: one migrates,
    /// the others wait for its write lock and find nothing left to do.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_first_opens_migrate_once() {
        let (_dir, path) = temp_db();
        let opens: Vec<_> = (0..4)
            .map(|_| {
                let path = path.clone();
                tokio::spawn(
                    async move { SqliteStore::open(&path, SqliteOptions::default()).await },
                )
            })
            .collect();
        for o in opens {
            o.await.unwrap().unwrap().ping().await.unwrap();
        }
    }

    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    use tessera_storage_sql::sea_orm;
}

/// Bad input reaching storage gives a typed error and leaves no partial rows.
mod bad_input {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.db");
        let store = SqliteStore::open(path.to_str().unwrap(), SqliteOptions::default())
            .await
            .unwrap();
        tessera_storage_sql::checks::bad_input_leaves_no_partial_rows(Arc::new(store)).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn memory() {
        let store = SqliteStore::open(MEMORY, SqliteOptions::default())
            .await
            .unwrap();
        tessera_storage_sql::checks::bad_input_leaves_no_partial_rows(Arc::new(store)).await;
    }
}
