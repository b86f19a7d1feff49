//! Sessions and their refresh tokens ([`SessionStore`]).
//!
//! Atomic here: a session is created with its first refresh token (both or
//! neither), validating a session token is one indexed query that also
//! returns the user, and rotating a refresh token is one transaction that
//! locks the presented token and its session: it hands over to the successor
//! once, answers a repeat within the grace window, or detects reuse and
//! revokes the session, whatever the interleaving of racing callers. Each
//! change and its events are one transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::Value;
use tessera_core::crypto::TokenHash;
use tessera_core::model::*;
use tessera_core::store::{EventsOf, RotationEvents, SessionStore};
use tessera_core::{Error, Result};

use crate::SqlStore;
use crate::dialect::{Row, hash, hash_opt, text, uuid};
use crate::exec::db;
use crate::rows::{FromRow, found, not_found, table_row};

table_row!(Session, table "sessions", prefix "s_", [
    id, pool_id, app_id, user_id, token_hash, amr, user_agent, ip, created_at, last_seen_at,
    idle_timeout_secs, expires_at, revoked_at, revoke_reason,
]);

impl SqlStore {
    /// Sessions joined with their users; `cond` filters `s` and `u`.
    fn session_user_sql(&self, cond: &str) -> String {
        format!(
            "SELECT {}, {} FROM sessions s JOIN users u ON u.id = s.user_id {cond}",
            Session::columns("s"),
            User::columns("u")
        )
    }

    async fn session_with_user(
        &self,
        cond: &str,
        values: Vec<Value>,
    ) -> Result<Option<(Session, User)>> {
        let Some(r) = self.one(&self.session_user_sql(cond), values).await? else {
            return Ok(None);
        };
        Ok(Some((self.read(&r)?, self.read(&r)?)))
    }
}

#[async_trait]
impl SessionStore for SqlStore {
    async fn create_session(
        &self,
        session: &Session,
        refresh: &RefreshToken,
        events: &[NewEvent],
    ) -> Result<()> {
        if refresh.session_id != session.id {
            return Err(Error::invalid(
                "session_id",
                "the refresh token belongs to another session",
            ));
        }
        let d = self.dialect;
        let tx = self.begin().await?;
        let r = async {
            // A missing user or app (deleted mid-sign-in) fails the foreign key:
            // `NotFound`, and the transaction leaves nothing behind.
            tx.insert_row(session).await?;
            tx.exec(
                "INSERT INTO refresh_tokens (hash, session_id, created_at, spent_at, replaced_by) \
                 VALUES ($1, $2, $3, $4, $5)",
                vec![
                    hash(&refresh.hash),
                    uuid(refresh.session_id),
                    d.ts(refresh.created_at),
                    d.ts_opt(refresh.spent_at),
                    hash_opt(refresh.replaced_by.as_ref()),
                ],
            )
            .await?;
            tx.append_events(events).await
        }
        .await;
        tx.finish(r).await
    }

    async fn find_session_by_token(
        &self,
        token_hash: &TokenHash,
    ) -> Result<Option<(Session, User)>> {
        // The hot path: one query on the unique index of sessions.token_hash.
        self.session_with_user("WHERE s.token_hash = $1", vec![hash(token_hash)])
            .await
    }

    async fn find_session(&self, id: SessionId) -> Result<Option<(Session, User)>> {
        self.session_with_user("WHERE s.id = $1", vec![uuid(id)])
            .await
    }

    async fn list_user_sessions(&self, user_id: UserId) -> Result<Vec<Session>> {
        let sql = format!(
            "SELECT {} FROM sessions s WHERE s.user_id = $1 AND s.revoked_at IS NULL \
             ORDER BY s.created_at DESC, s.id DESC",
            Session::columns("s")
        );
        self.select(&sql, vec![uuid(user_id)]).await
    }

    async fn touch_session(&self, id: SessionId, now: DateTime<Utc>) -> Result<()> {
        let n = self
            .write(
                "UPDATE sessions SET last_seen_at = CASE WHEN last_seen_at < $2 THEN $2 \
                 ELSE last_seen_at END WHERE id = $1",
                vec![uuid(id), self.dialect.ts(now)],
                db,
            )
            .await?;
        found(n)
    }

    async fn revoke_session(
        &self,
        id: SessionId,
        user_id: Option<UserId>,
        now: DateTime<Utc>,
        reason: &str,
        events: EventsOf<'_, Session>,
    ) -> Result<bool> {
        let mut values = vec![uuid(id), self.dialect.ts(now), text(reason)];
        let mut scope = String::new();
        if let Some(u) = user_id {
            values.push(uuid(u));
            scope.push_str(" AND user_id = $4");
        }
        let sql = format!(
            "UPDATE sessions SET revoked_at = $2, revoke_reason = $3 \
             WHERE id = $1{scope} AND revoked_at IS NULL RETURNING {}",
            Session::columns("")
        );
        let tx = self.begin().await?;
        let r = async {
            if let Some(row) = tx.all(&sql, values.clone()).await?.first() {
                let session: Session = self.read(row)?;
                tx.append_events(&events(&session)).await?;
                return Ok(true);
            }
            // Nothing revoked: either revoked already (keep the first time and
            // reason) or no such session for this user.
            values.drain(1..3);
            let scope = scope.replace("$4", "$2");
            let exists = tx
                .one(
                    &format!("SELECT 1 AS one FROM sessions WHERE id = $1{scope}"),
                    values,
                )
                .await?;
            match exists {
                Some(_) => Ok(false),
                None => Err(not_found()),
            }
        }
        .await;
        tx.finish(r).await
    }

    async fn revoke_user_sessions(
        &self,
        user_id: UserId,
        except: Option<SessionId>,
        now: DateTime<Utc>,
        reason: &str,
        events: EventsOf<'_, Vec<Session>>,
    ) -> Result<u64> {
        let mut values = vec![uuid(user_id), self.dialect.ts(now), text(reason)];
        let mut sql = String::from(
            "UPDATE sessions SET revoked_at = $2, revoke_reason = $3 \
             WHERE user_id = $1 AND revoked_at IS NULL",
        );
        if let Some(e) = except {
            values.push(uuid(e));
            sql.push_str(" AND id <> $4");
        }
        sql.push_str(&format!(" RETURNING {}", Session::columns("")));
        let tx = self.begin().await?;
        let r = async {
            let mut revoked: Vec<Session> = self.read_all(&tx.all(&sql, values).await?)?;
            revoked.sort_by_key(|s| (s.created_at, s.id));
            tx.append_events(&events(&revoked)).await?;
            Ok(revoked.len() as u64)
        }
        .await;
        tx.finish(r).await
    }

    async fn rotate_refresh_token(
        &self,
        rot: &RefreshRotation,
        events: RotationEvents<'_>,
    ) -> Result<RotationOutcome> {
        let d = self.dialect;
        let tx = self.begin().await?;
        let r = async {
            // Lock the presented token and its session: racing rotations of
            // one token queue here and each sees the previous one's result.
            let sql = format!(
                "SELECT r.spent_at AS r_spent_at, r.replaced_by AS r_replaced_by, {}, {} \
                 FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id \
                 JOIN users u ON u.id = s.user_id WHERE r.hash = $1{}",
                Session::columns("s"),
                User::columns("u"),
                d.for_update("r, s")
            );
            let Some(row) = tx.one(&sql, vec![hash(&rot.presented)]).await? else {
                return Ok((RotationOutcome::NotFound, Vec::new()));
            };
            let mut session: Session = self.read(&row)?;
            let user: User = self.read(&row)?;
            let token = Row::new(&row, d, "r_");
            let spent_at = token.ts_opt("spent_at")?;
            let replaced_by = token.hash_opt("replaced_by")?;

            let done = |outcome: RotationOutcome, session: &Session, revoked: bool| {
                let events = events(&RotationChange {
                    outcome: &outcome,
                    session,
                    user: &user,
                    revoked,
                });
                (outcome, events)
            };
            let Some(spent_at) = spent_at else {
                if !session.is_active(rot.now) {
                    return Ok(done(RotationOutcome::Inactive, &session, false));
                }
                let spent = tx
                    .exec(
                        "UPDATE refresh_tokens SET spent_at = $2, replaced_by = $3 \
                         WHERE hash = $1 AND spent_at IS NULL",
                        vec![hash(&rot.presented), d.ts(rot.now), hash(&rot.successor)],
                    )
                    .await?;
                if spent != 1 {
                    return Err(Error::internal("locked refresh token changed under us"));
                }
                tx.exec(
                    "INSERT INTO refresh_tokens (hash, session_id, created_at, spent_at, \
                     replaced_by) VALUES ($1, $2, $3, NULL, NULL)",
                    vec![hash(&rot.successor), uuid(session.id), d.ts(rot.now)],
                )
                .await?;
                tx.exec(
                    "UPDATE sessions SET last_seen_at = $2 WHERE id = $1 AND last_seen_at < $2",
                    vec![uuid(session.id), d.ts(rot.now)],
                )
                .await?;
                if rot.now > session.last_seen_at {
                    session.last_seen_at = rot.now;
                }
                let rotated = RotationOutcome::Rotated(Box::new((session.clone(), user.clone())));
                return Ok(done(rotated, &session, false));
            };

            // Spent already: the same successor again within the grace window
            // while that successor is unspent; otherwise reuse.
            let mut repeat = session.is_active(rot.now)
                && replaced_by == Some(rot.successor)
                && rot.now - spent_at < rot.grace;
            if repeat {
                let successor = tx
                    .one(
                        "SELECT spent_at AS r_spent_at FROM refresh_tokens WHERE hash = $1",
                        vec![hash(&rot.successor)],
                    )
                    .await?;
                repeat = match successor {
                    Some(row) => Row::new(&row, d, "r_").ts_opt("spent_at")?.is_none(),
                    None => false,
                };
            }
            if repeat {
                let repeated =
                    RotationOutcome::Repeated(Box::new((session.clone(), user.clone())), spent_at);
                return Ok(done(repeated, &session, false));
            }
            let revoked = tx
                .exec(
                    "UPDATE sessions SET revoked_at = $2, revoke_reason = 'refresh_token_reused' \
                     WHERE id = $1 AND revoked_at IS NULL",
                    vec![uuid(session.id), d.ts(rot.now)],
                )
                .await?
                > 0;
            if revoked {
                session.revoked_at = Some(rot.now);
                session.revoke_reason = Some("refresh_token_reused".into());
            }
            let reused = RotationOutcome::Reused {
                session_id: session.id,
            };
            Ok(done(reused, &session, revoked))
        }
        .await;
        let r = match r {
            Ok((outcome, events)) => tx.append_events(&events).await.map(|()| outcome),
            Err(e) => Err(e),
        };
        tx.finish(r).await
    }

    async fn delete_ended_sessions(&self, cutoff: DateTime<Utc>) -> Result<u64> {
        // Refresh tokens go with their sessions: ON DELETE CASCADE.
        let idle = self.dialect.plus_secs("last_seen_at", "idle_timeout_secs");
        let sql = format!(
            "DELETE FROM sessions WHERE expires_at < $1 OR {idle} < $1 \
             OR (revoked_at IS NOT NULL AND revoked_at < $1)"
        );
        self.write(&sql, vec![self.dialect.ts(cutoff)], db).await
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectOptions, Database};

    use super::*;

    /// Validating a session token is one query, and every table it touches
    /// is reached through an index (no scan).
    #[tokio::test]
    async fn session_lookup_is_one_indexed_query() {
        let mut options = ConnectOptions::new("sqlite::memory:");
        options.max_connections(1).min_connections(1);
        let store = SqlStore::new(Database::connect(options).await.unwrap()).unwrap();
        store.migrate().await.unwrap();
        let sql = store.session_user_sql("WHERE s.token_hash = $1");
        let plan = store
            .all(
                &format!("EXPLAIN QUERY PLAN {sql}"),
                vec![hash(&TokenHash::of("tss_x"))],
            )
            .await
            .unwrap();
        let steps: Vec<String> = plan
            .iter()
            .map(|r| r.try_get_by::<String, _>("detail").unwrap())
            .collect();
        assert_eq!(steps.len(), 2, "{steps:?}");
        for step in &steps {
            assert!(step.starts_with("SEARCH"), "{steps:?}");
            assert!(step.contains("INDEX"), "{steps:?}");
        }
    }
}
