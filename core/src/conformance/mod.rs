//! The storage conformance suite: one set of behaviours every backend must show.
//!
//! A backend's test crate expands the suite with one line,
//!
//! ```ignore
//! async fn make_store() -> std::sync::Arc<dyn tessera_core::store::Store> { /* a fresh, empty store */ }
//! tessera_core::conformance_tests!(make_store);
//! ```
//!
//! which generates one `#[tokio::test]` per case, so a failure names both the
//! case and the backend. Each case gets a fresh store from the factory and may
//! not depend on any other case. Cases exercise the store traits directly and,
//! where an invariant spans several calls, through the [`crate::Tessera`]
//! facade built by [`tessera`].
//!
//! Test rows come from [`fixtures`]. Where the trait docs leave a detail
//! open, the suite pins one reading so every backend agrees:
//!
//! - anything with an expiry (session, one-time token, code, API key,
//!   published key) is live strictly before it and over at that instant;
//! - cutoffs are strict: sweepers delete rows that ended *before* the cutoff
//!   (a session ends at the earliest of `expires_at`, its idle expiry and
//!   `revoked_at`), and rows ending exactly at the cutoff survive; a throttle
//!   whose last failure is exactly at `reset_before` keeps counting;
//! - a throttle's wait and a rate-limit window are half-open too: an attempt
//!   exactly at `next_attempt_at` proceeds, a hit exactly at a window's end
//!   opens the next window;
//! - the refresh grace window is half-open, `[spent_at, spent_at + grace)`,
//!   so a grace of zero never answers `Repeated`;
//! - a spent refresh token outside the grace window is `Reused` even when its
//!   session was revoked already (the first revocation is kept); `Inactive`
//!   is for live tokens of inactive sessions. So in a race every loser gets
//!   `Reused`, whatever the interleaving;
//! - "oldest first" and "newest first" lists agree with both `created_at` and
//!   the UUIDv7 ids (fixture rows are made one millisecond apart).

pub mod cases;
pub mod fixtures;

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::Tessera;
use crate::clock::ManualClock;
use crate::crypto::{KeyRing, PasswordParams};
use crate::store::Store;

/// The fixed start time of every case's clock (2030-01-01T00:00:00Z).
pub fn start_time() -> DateTime<Utc> {
    DateTime::from_timestamp(1_893_456_000, 0).expect("valid timestamp")
}

/// A Tessera over `store` with a manual clock at [`start_time`] and cheap
/// password hashing, for cases that go through the facade.
pub async fn tessera(store: Arc<dyn Store>) -> (Tessera, ManualClock) {
    let clock = ManualClock::new(start_time());
    let t = Tessera::builder()
        .store(store)
        .clock(Arc::new(clock.clone()))
        .key_encryption_key(KeyRing::new([7; 32], []))
        .issuer("https://auth.conformance.test")
        .password_params(PasswordParams::insecure_fast_for_tests())
        .build()
        .await
        .expect("Tessera builds over a fresh store");
    (t, clock)
}

/// Expand the conformance suite for a store factory: `conformance_tests!(path_to_async_fn)`.
#[macro_export]
macro_rules! conformance_tests {
    ($make:path) => {
        $crate::__conformance_cases!(
            $make;
            default_pool_and_app_exist,
            store_pings_and_names_its_backend,
            pools_round_trip_and_slugs_are_unique,
            apps_round_trip_and_slugs_are_unique,
            update_app_replaces_fields,
            delete_app_removes_its_sessions,
            user_fields_round_trip_exactly,
            email_is_unique_per_pool,
            pools_are_isolated,
            create_user_in_missing_pool_is_not_found,
            create_user_with_taken_email_writes_nothing,
            update_user_applies_patch,
            update_user_to_taken_email_changes_nothing,
            list_users_pages_in_id_order,
            list_users_filters_by_email,
            list_users_cursor_survives_deleting_its_row,
            delete_user_removes_everything_keyed_to_them,
            credentials_round_trip_and_list_by_kind,
            insert_credential_rejects_bad_rows,
            set_password_replaces_the_password,
            update_and_touch_credential,
            delete_credential_is_scoped_to_its_user,
            consume_credential_spends_once,
            identities_round_trip,
            identity_is_unique_per_pool_provider_subject,
            insert_identity_for_missing_user_is_not_found,
            delete_identity_is_scoped_and_frees_the_subject,
            sessions_round_trip_through_every_lookup,
            list_user_sessions_newest_first,
            create_session_for_missing_user_writes_nothing,
            touch_session_moves_last_seen,
            revoke_session_is_idempotent_and_scoped,
            revoke_user_sessions_spares_except,
            refresh_rotation_hands_over_to_the_successor,
            refresh_repeat_within_grace_is_repeated,
            refresh_reuse_after_grace_revokes_the_session,
            refresh_repeat_after_successor_used_is_reuse,
            refresh_with_zero_grace_never_repeats,
            spent_refresh_token_is_reuse_even_after_revocation,
            refresh_of_inactive_session_changes_nothing,
            one_time_tokens_round_trip,
            mail_enqueue_with_token_is_atomic,
            mail_enqueue_replaces_codes,
            mail_claims_lease_retry_and_complete,
            mail_claim_race_gives_each_message_once,
            expired_token_is_deleted_on_consume,
            one_time_token_expires_at_its_expiry_time,
            attempt_code_accepts_the_right_code_once,
            attempt_code_spends_the_code_at_max_attempts,
            attempt_code_after_expiry_is_expired,
            replace_code_invalidates_the_earlier_code,
            delete_user_tokens_by_purpose,
            insert_first_signing_key_keeps_the_first,
            rotate_signing_key_retires_the_active_key,
            delete_unpublished_keys_honours_the_cutoff,
            audit_events_round_trip,
            audit_list_pages_newest_first_and_filters,
            changes_write_their_events_and_deliveries,
            a_failed_event_write_fails_the_change,
            concurrent_changes_are_never_seen_without_their_events,
            webhook_endpoints_round_trip_update_rotate_delete,
            webhook_claims_lease_retry_and_complete,
            webhook_claim_race_gives_each_delivery_once,
            webhook_failures_disable_the_endpoint,
            record_failure_counts_and_resets,
            reserve_attempt_counts_waits_and_resets,
            reserve_attempt_waits_as_the_backoff_says,
            free_attempts_ignore_clock_order,
            hit_counts_in_fixed_windows,
            concurrent_wrong_passwords_past_the_threshold_check_one,
            api_keys_round_trip_revoke_and_touch,
            oauth_providers_round_trip_and_replace,
            oauth_providers_are_per_app,
            refresh_rotation_race_has_one_winner,
            refresh_rotation_race_within_grace_repeats,
            one_time_token_race_has_one_winner,
            recovery_code_race_has_one_winner,
            last_sign_in_method_race_keeps_one,
            code_attempt_race_has_one_winner,
            wrong_code_race_counts_every_attempt,
            sign_up_race_creates_one_user,
            first_signing_key_race_agrees_on_one_key,
            concurrent_user_patches_lose_no_writes,
            concurrent_failures_are_all_counted,
            concurrent_attempts_past_the_free_ones_let_one_through,
            concurrent_hits_never_exceed_the_limit,
            concurrent_audit_appends_are_all_kept,
            delete_ended_sessions_honours_the_cutoff,
            delete_expired_tokens_honours_the_cutoff,
            delete_stale_throttles_honours_the_cutoff,
            delete_ended_windows_honours_the_cutoff,
            sweep_deletes_only_what_has_ended,
            password_flow_end_to_end,
            refresh_through_facade_honours_the_grace_window,
            revoke_through_facade_is_scoped_to_the_user,
            change_password_revokes_other_sessions,
            disabled_user_cannot_sign_in,
            unknown_email_and_wrong_password_look_the_same,
            repeated_failures_are_rate_limited_until_success,
            api_key_lifecycle,
            key_rotation_keeps_old_tokens_verifiable,
            deleted_user_can_sign_up_again,
            stored_emails_are_normalised,
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases {
    ($make:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let store: ::std::sync::Arc<dyn $crate::store::Store> = $make().await;
                $crate::conformance::cases::$case(store).await;
            }
        )*
    };
}
