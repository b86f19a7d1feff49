//! Users ([`UserStore`]), and the user row other files read alongside their
//! own (a session with its user).
//!
//! Atomic here: one user per (pool, email) (an upsert that does nothing on
//! the unique pair: `EmailTaken`), a sign-up writes its user and first
//! sign-in method together or neither, a patch sets only the fields it names
//! in one `UPDATE`, and deleting a sign-in method never leaves a user with
//! none (the user row is locked while the remaining methods are counted).
//! Each change and its events are one transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::Value;
use tessera_core::model::*;
use tessera_core::store::{EventsOf, UserStore};
use tessera_core::{Error, ErrorKind, Result};

use crate::SqlStore;
use crate::dialect::{Row, text, text_opt, uuid};
use crate::exec::{db, unique_is};
use crate::rows::{FromRow, ToRow, found, not_found, table_row};

table_row!(User, table "users", prefix "u_", [
    id, pool_id, email, email_verified, name, metadata, disabled, created_at, updated_at,
]);

fn email_taken(e: sea_orm::DbErr) -> Error {
    unique_is(ErrorKind::EmailTaken)(e)
}

impl SqlStore {
    async fn users_where(&self, cond: &str, values: Vec<Value>) -> Result<Vec<User>> {
        let sql = format!("SELECT {} FROM users u {cond}", User::columns("u"));
        self.select(&sql, values).await
    }
}

#[async_trait]
impl UserStore for SqlStore {
    async fn create_user(
        &self,
        user: &User,
        first: Option<FirstSignIn<'_>>,
        events: &[NewEvent],
    ) -> Result<()> {
        match first {
            Some(FirstSignIn::Password(c)) if c.user_id != user.id => {
                return Err(Error::invalid(
                    "user_id",
                    "the credential belongs to another user",
                ));
            }
            Some(FirstSignIn::Identity(i)) if i.user_id != user.id || i.pool_id != user.pool_id => {
                return Err(Error::invalid(
                    "user_id",
                    "the identity belongs to another user or pool",
                ));
            }
            _ => {}
        }
        let d = self.dialect;
        let tx = self.begin().await?;
        let r = async {
            // The (pool, email) conflict is the expected one; any other unique
            // violation (a reused id) is `Conflict`, a missing pool `NotFound`.
            let inserted = tx
                .one(
                    &format!(
                        "{} ON CONFLICT (pool_id, email) DO NOTHING RETURNING id",
                        User::insert_sql()
                    ),
                    user.values(d)?,
                )
                .await?;
            if inserted.is_none() {
                return Err(Error::new(ErrorKind::EmailTaken));
            }
            match first {
                Some(FirstSignIn::Password(c)) => tx.insert_row(c).await?,
                Some(FirstSignIn::Identity(i)) => tx.insert_identity(i).await?,
                None => {}
            }
            tx.append_events(events).await
        }
        .await;
        tx.finish(r).await
    }

    async fn get_user(&self, id: UserId) -> Result<User> {
        self.users_where("WHERE u.id = $1", vec![uuid(id)])
            .await?
            .pop()
            .ok_or_else(not_found)
    }

    async fn find_user_by_email(&self, pool_id: PoolId, email: &str) -> Result<Option<User>> {
        Ok(self
            .users_where(
                "WHERE u.pool_id = $1 AND u.email = $2",
                vec![uuid(pool_id), text(email)],
            )
            .await?
            .pop())
    }

    async fn find_user_with_password(
        &self,
        pool_id: PoolId,
        email: &str,
    ) -> Result<Option<(User, Option<Credential>)>> {
        let sql = format!(
            "SELECT {}, {} FROM users u \
             LEFT JOIN credentials c ON c.user_id = u.id AND c.kind = 'password' \
             WHERE u.pool_id = $1 AND u.email = $2",
            User::columns("u"),
            Credential::columns("c")
        );
        let Some(row) = self.one(&sql, vec![uuid(pool_id), text(email)]).await? else {
            return Ok(None);
        };
        let user = self.read(&row)?;
        let has_password = Row::new(&row, self.dialect, Credential::PREFIX)
            .uuid_opt("id")?
            .is_some();
        let password = if has_password {
            Some(self.read(&row)?)
        } else {
            None
        };
        Ok(Some((user, password)))
    }

    async fn list_users(&self, pool_id: PoolId, query: &UserQuery) -> Result<Vec<User>> {
        let mut cond = String::from("WHERE u.pool_id = $1");
        let mut values = vec![uuid(pool_id)];
        if let Some(after) = query.after {
            values.push(uuid(after));
            cond.push_str(&format!(" AND u.id > ${}", values.len()));
        }
        if let Some(contains) = &query.email_contains {
            values.push(text(contains));
            let param = format!("${}", values.len());
            cond.push_str(" AND ");
            cond.push_str(&self.dialect.contains("u.email", &param));
        }
        values.push(i64::from(query.limit).into());
        cond.push_str(&format!(" ORDER BY u.id LIMIT ${}", values.len()));
        self.users_where(&cond, values).await
    }

    async fn update_user(
        &self,
        id: UserId,
        patch: &UserPatch,
        now: DateTime<Utc>,
        events: EventsOf<'_, User>,
    ) -> Result<User> {
        // One UPDATE setting only the patched columns: fields not in the patch
        // keep whatever a concurrent writer put there.
        let d = self.dialect;
        let mut values = vec![uuid(id), d.ts(now)];
        let mut sets = vec!["updated_at = $2".to_owned()];
        let mut set = |col: &str, v: Value| {
            values.push(v);
            sets.push(format!("{col} = ${}", values.len()));
        };
        if let Some(email) = &patch.email {
            set("email", text(email));
        }
        if let Some(v) = patch.email_verified {
            set("email_verified", v.into());
        }
        if let Some(name) = &patch.name {
            set("name", text_opt(name.as_deref()));
        }
        if let Some(metadata) = &patch.metadata {
            set("metadata", d.json(metadata));
        }
        if let Some(v) = patch.disabled {
            set("disabled", v.into());
        }
        let sql = format!(
            "UPDATE users SET {} WHERE id = $1 RETURNING {}",
            sets.join(", "),
            User::columns("")
        );
        let tx = self.begin().await?;
        let r = async {
            let rows = tx.all_map(&sql, values, email_taken).await?;
            let user: User = rows
                .first()
                .map(|r| self.read(r))
                .unwrap_or_else(|| Err(not_found()))?;
            tx.append_events(&events(&user)).await?;
            Ok(user)
        }
        .await;
        tx.finish(r).await
    }

    async fn delete_sign_in_method(
        &self,
        user_id: UserId,
        target: SignInMethodRef,
        keep_one: bool,
        events: &[NewEvent],
    ) -> Result<bool> {
        let d = self.dialect;
        let (table, id) = match target {
            SignInMethodRef::Credential(id) => ("credentials", id),
            SignInMethodRef::Identity(id) => ("identities", id),
        };
        let tx = self.begin().await?;
        let r = async {
            // Lock the user: concurrent deletions of one user's ways to sign
            // in queue here, so each counts what the previous one left.
            let lock = format!(
                "SELECT u.id FROM users u WHERE u.id = $1{}",
                d.for_update("u")
            );
            if tx.one(&lock, vec![uuid(user_id)]).await?.is_none() {
                return Ok(false);
            }
            let deleted = tx
                .exec(
                    &format!("DELETE FROM {table} WHERE id = $1 AND user_id = $2"),
                    vec![uuid(id), uuid(user_id)],
                )
                .await?;
            if deleted == 0 {
                return Ok(false);
            }
            if keep_one {
                let row = tx
                    .one(
                        "SELECT (SELECT COUNT(*) FROM credentials WHERE user_id = $1 \
                         AND kind IN ('password', 'passkey')) \
                         + (SELECT COUNT(*) FROM identities WHERE user_id = $1) AS n",
                        vec![uuid(user_id)],
                    )
                    .await?
                    .ok_or_else(|| Error::internal("count returned no row"))?;
                let left: i64 = row.try_get("", "n").map_err(db)?;
                if left == 0 {
                    // Rolled back by `finish`.
                    return Err(Error::new(ErrorKind::LastSignInMethod));
                }
            }
            tx.append_events(events).await?;
            Ok(true)
        }
        .await;
        tx.finish(r).await
    }

    async fn delete_user(&self, id: UserId, events: &[NewEvent]) -> Result<()> {
        // Credentials, identities, sessions (with their refresh tokens) and
        // one-time tokens go with it: ON DELETE CASCADE. Audit events have no
        // foreign key and stay.
        let tx = self.begin().await?;
        let r = async {
            found(
                tx.exec("DELETE FROM users WHERE id = $1", vec![uuid(id)])
                    .await?,
            )?;
            tx.append_events(events).await
        }
        .await;
        tx.finish(r).await
    }
}
