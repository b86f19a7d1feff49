//! Sessions and their refresh tokens ([`SessionStore`]), and the session
//! lookups and removal the other trait files share.
//!
//! Atomic here (under the store's one mutex): a session is created with its
//! first refresh token (both or neither), and a refresh token rotates once:
//! handed over to its successor, answered as a repeat within the grace
//! window, or detected as reused, which revokes the session. Each change
//! writes its events with it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tessera_core::crypto::TokenHash;
use tessera_core::model::*;
use tessera_core::store::{EventsOf, RotationEvents, SessionStore};
use tessera_core::{Error, ErrorKind, Result};
use uuid::Uuid;

use crate::MemoryStore;
use crate::state::{State, not_found};

impl State {
    /// Session `id` with its user, if both exist.
    pub(crate) fn session_with_user(&self, id: Uuid) -> Option<(Session, User)> {
        let s = self.sessions.get(&id)?;
        let u = self.users.get(&s.user_id)?;
        Some((s.clone(), u.clone()))
    }

    /// Remove the sessions matching `pred`, with their token index entries
    /// and refresh tokens; how many were removed.
    pub(crate) fn remove_sessions(&mut self, pred: impl Fn(&Session) -> bool) -> u64 {
        let ids: Vec<Uuid> = self
            .sessions
            .values()
            .filter(|s| pred(s))
            .map(|s| s.id)
            .collect();
        for id in &ids {
            if let Some(s) = self.sessions.remove(id) {
                self.session_tokens.remove(&s.token_hash);
            }
        }
        self.refresh_tokens
            .retain(|_, r| !ids.contains(&r.session_id));
        ids.len() as u64
    }
}

#[async_trait]
impl SessionStore for MemoryStore {
    async fn create_session(
        &self,
        session: &Session,
        refresh: &RefreshToken,
        events: &[NewEvent],
    ) -> Result<()> {
        let mut s = self.lock();
        s.user_row(session.user_id)?;
        if !s.apps.contains_key(&session.app_id) {
            return Err(not_found());
        }
        if s.sessions.contains_key(&session.id)
            || s.session_tokens.contains_key(&session.token_hash)
            || s.refresh_tokens.contains_key(&refresh.hash)
        {
            return Err(Error::new(ErrorKind::Conflict));
        }
        if refresh.session_id != session.id {
            return Err(Error::invalid(
                "session_id",
                "the refresh token belongs to another session",
            ));
        }
        s.check_events(events)?;
        s.write_events(events);
        s.session_tokens.insert(session.token_hash, session.id);
        s.sessions.insert(session.id, session.clone());
        s.refresh_tokens.insert(refresh.hash, refresh.clone());
        Ok(())
    }

    async fn find_session_by_token(
        &self,
        token_hash: &TokenHash,
    ) -> Result<Option<(Session, User)>> {
        let s = self.lock();
        Ok(s.session_tokens
            .get(token_hash)
            .and_then(|id| s.session_with_user(*id)))
    }

    async fn find_session(&self, id: SessionId) -> Result<Option<(Session, User)>> {
        Ok(self.lock().session_with_user(id))
    }

    async fn list_user_sessions(&self, user_id: UserId) -> Result<Vec<Session>> {
        let mut out: Vec<Session> = self
            .lock()
            .sessions
            .values()
            .filter(|x| x.user_id == user_id && x.revoked_at.is_none())
            .cloned()
            .collect();
        out.sort_by_key(|x| std::cmp::Reverse((x.created_at, x.id)));
        Ok(out)
    }

    async fn touch_session(&self, id: SessionId, now: DateTime<Utc>) -> Result<()> {
        let mut s = self.lock();
        let row = s.sessions.get_mut(&id).ok_or_else(not_found)?;
        if now > row.last_seen_at {
            row.last_seen_at = now;
        }
        Ok(())
    }

    async fn revoke_session(
        &self,
        id: SessionId,
        user_id: Option<UserId>,
        now: DateTime<Utc>,
        reason: &str,
        events: EventsOf<'_, Session>,
    ) -> Result<bool> {
        let mut s = self.lock();
        let mut row = s
            .sessions
            .get(&id)
            .filter(|x| user_id.is_none_or(|u| x.user_id == u))
            .ok_or_else(not_found)?
            .clone();
        if row.revoked_at.is_some() {
            return Ok(false);
        }
        row.revoked_at = Some(now);
        row.revoke_reason = Some(reason.to_owned());
        let events = events(&row);
        s.check_events(&events)?;
        s.write_events(&events);
        s.sessions.insert(id, row);
        Ok(true)
    }

    async fn revoke_user_sessions(
        &self,
        user_id: UserId,
        except: Option<SessionId>,
        now: DateTime<Utc>,
        reason: &str,
        events: EventsOf<'_, Vec<Session>>,
    ) -> Result<u64> {
        let mut s = self.lock();
        let mut revoked: Vec<Session> = s
            .sessions
            .values()
            .filter(|x| x.user_id == user_id && x.revoked_at.is_none() && Some(x.id) != except)
            .cloned()
            .collect();
        revoked.sort_by_key(|x| (x.created_at, x.id));
        for row in &mut revoked {
            row.revoked_at = Some(now);
            row.revoke_reason = Some(reason.to_owned());
        }
        let events = events(&revoked);
        s.check_events(&events)?;
        s.write_events(&events);
        let n = revoked.len() as u64;
        for row in revoked {
            s.sessions.insert(row.id, row);
        }
        Ok(n)
    }

    async fn rotate_refresh_token(
        &self,
        r: &RefreshRotation,
        events: RotationEvents<'_>,
    ) -> Result<RotationOutcome> {
        let mut s = self.lock();
        let Some(token) = s.refresh_tokens.get(&r.presented).cloned() else {
            return Ok(RotationOutcome::NotFound);
        };
        let Some((mut session, user)) = s.session_with_user(token.session_id) else {
            return Ok(RotationOutcome::NotFound);
        };
        // Decide without changing anything, then check the events, then apply.
        let mut revoked = false;
        let outcome = match token.spent_at {
            None if !session.is_active(r.now) => RotationOutcome::Inactive,
            None => {
                if s.refresh_tokens.contains_key(&r.successor) {
                    return Err(Error::new(ErrorKind::Conflict));
                }
                if r.now > session.last_seen_at {
                    session.last_seen_at = r.now;
                }
                RotationOutcome::Rotated(Box::new((session.clone(), user.clone())))
            }
            Some(spent_at) => {
                let successor_unspent = token.replaced_by == Some(r.successor)
                    && s.refresh_tokens
                        .get(&r.successor)
                        .is_some_and(|t| t.spent_at.is_none());
                if successor_unspent && r.now - spent_at < r.grace && session.is_active(r.now) {
                    RotationOutcome::Repeated(Box::new((session.clone(), user.clone())), spent_at)
                } else {
                    if session.revoked_at.is_none() {
                        session.revoked_at = Some(r.now);
                        session.revoke_reason = Some("refresh_token_reused".into());
                        revoked = true;
                    }
                    RotationOutcome::Reused {
                        session_id: session.id,
                    }
                }
            }
        };
        let events = events(&RotationChange {
            outcome: &outcome,
            session: &session,
            user: &user,
            revoked,
        });
        s.check_events(&events)?;
        s.write_events(&events);
        match &outcome {
            RotationOutcome::Rotated(_) => {
                let t = s.refresh_tokens.get_mut(&r.presented).expect("read above");
                t.spent_at = Some(r.now);
                t.replaced_by = Some(r.successor);
                s.refresh_tokens.insert(
                    r.successor,
                    RefreshToken {
                        hash: r.successor,
                        session_id: session.id,
                        created_at: r.now,
                        spent_at: None,
                        replaced_by: None,
                    },
                );
                s.sessions.insert(session.id, session);
            }
            RotationOutcome::Reused { .. } => {
                s.sessions.insert(session.id, session);
            }
            _ => {}
        }
        Ok(outcome)
    }

    async fn delete_ended_sessions(&self, cutoff: DateTime<Utc>) -> Result<u64> {
        let mut s = self.lock();
        Ok(s.remove_sessions(|x| {
            x.expires_at < cutoff
                || x.idle_expires_at() < cutoff
                || x.revoked_at.is_some_and(|r| r < cutoff)
        }))
    }
}
