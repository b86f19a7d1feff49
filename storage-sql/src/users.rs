//! Users, their credentials and their external identities.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{QueryResult, Value};
use tessera_core::model::*;
use tessera_core::store::{CredentialStore, IdentityStore, UserStore};
use tessera_core::{Error, ErrorKind, Result};
use uuid::Uuid;

use crate::SqlStore;
use crate::dialect::{Row, cols, text, text_opt, uuid};
use crate::exec::{db, unique_is};

pub(crate) const USER: &[&str] = &[
    "id",
    "pool_id",
    "email",
    "email_verified",
    "name",
    "metadata",
    "disabled",
    "created_at",
    "updated_at",
];
const CREDENTIAL: &[&str] = &[
    "id",
    "user_id",
    "kind",
    "name",
    "secret",
    "data",
    "created_at",
    "last_used_at",
];
const IDENTITY: &[&str] = &[
    "id",
    "pool_id",
    "user_id",
    "provider",
    "subject",
    "email",
    "email_verified",
    "profile",
    "created_at",
    "last_used_at",
];

fn not_found() -> Error {
    Error::new(ErrorKind::NotFound)
}

fn email_taken(e: sea_orm::DbErr) -> Error {
    unique_is(ErrorKind::EmailTaken)(e)
}

impl SqlStore {
    /// A user read from columns `u_*`.
    pub(crate) fn user(&self, r: &QueryResult) -> Result<User> {
        let r = Row::new(r, self.dialect, "u_");
        Ok(User {
            id: r.uuid("id")?,
            pool_id: r.uuid("pool_id")?,
            email: r.text("email")?,
            email_verified: r.bool("email_verified")?,
            name: r.text_opt("name")?,
            metadata: r.json("metadata")?,
            disabled: r.bool("disabled")?,
            created_at: r.ts("created_at")?,
            updated_at: r.ts("updated_at")?,
        })
    }

    fn credential(&self, r: &QueryResult) -> Result<Credential> {
        let r = Row::new(r, self.dialect, "c_");
        let kind = r.text("kind")?;
        Ok(Credential {
            id: r.uuid("id")?,
            user_id: r.uuid("user_id")?,
            kind: CredentialKind::parse(&kind)
                .ok_or_else(|| Error::internal(format!("unknown credential kind {kind:?}")))?,
            name: r.text_opt("name")?,
            secret: r.text("secret")?,
            data: r.json("data")?,
            created_at: r.ts("created_at")?,
            last_used_at: r.ts_opt("last_used_at")?,
        })
    }

    fn identity(&self, r: &QueryResult) -> Result<Identity> {
        let r = Row::new(r, self.dialect, "i_");
        Ok(Identity {
            id: r.uuid("id")?,
            pool_id: r.uuid("pool_id")?,
            user_id: r.uuid("user_id")?,
            provider: r.text("provider")?,
            subject: r.text("subject")?,
            email: r.text_opt("email")?,
            email_verified: r.bool("email_verified")?,
            profile: r.json("profile")?,
            created_at: r.ts("created_at")?,
            last_used_at: r.ts_opt("last_used_at")?,
        })
    }

    async fn users_where(&self, cond: &str, values: Vec<Value>) -> Result<Vec<User>> {
        let sql = format!("SELECT {} FROM users u {cond}", cols("u", "u_", USER));
        self.all(&sql, values)
            .await?
            .iter()
            .map(|r| self.user(r))
            .collect()
    }

    fn credential_values(&self, c: &Credential) -> Vec<Value> {
        let d = self.dialect;
        vec![
            uuid(c.id),
            uuid(c.user_id),
            text(c.kind.as_str()),
            text_opt(c.name.as_deref()),
            text(&c.secret),
            d.json(&c.data),
            d.ts(c.created_at),
            d.ts_opt(c.last_used_at),
        ]
    }
}

const INSERT_CREDENTIAL: &str = "INSERT INTO credentials \
     (id, user_id, kind, name, secret, data, created_at, last_used_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

#[async_trait]
impl UserStore for SqlStore {
    async fn create_user(&self, user: &User, password: Option<&Credential>) -> Result<()> {
        if password.is_some_and(|c| c.user_id != user.id) {
            return Err(Error::invalid(
                "user_id",
                "the credential belongs to another user",
            ));
        }
        let d = self.dialect;
        let tx = self.begin().await?;
        let r = async {
            // The (pool, email) conflict is the expected one; any other unique
            // violation (a reused id) is `Conflict`, a missing pool `NotFound`.
            let inserted = tx
                .one(
                    "INSERT INTO users (id, pool_id, email, email_verified, name, metadata, \
                     disabled, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                     ON CONFLICT (pool_id, email) DO NOTHING RETURNING id",
                    vec![
                        uuid(user.id),
                        uuid(user.pool_id),
                        text(&user.email),
                        user.email_verified.into(),
                        text_opt(user.name.as_deref()),
                        d.json(&user.metadata),
                        user.disabled.into(),
                        d.ts(user.created_at),
                        d.ts(user.updated_at),
                    ],
                )
                .await?;
            if inserted.is_none() {
                return Err(Error::new(ErrorKind::EmailTaken));
            }
            if let Some(c) = password {
                tx.exec(INSERT_CREDENTIAL, self.credential_values(c))
                    .await?;
            }
            Ok(())
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
            cols("u", "u_", USER),
            cols("c", "c_", CREDENTIAL)
        );
        let Some(row) = self.one(&sql, vec![uuid(pool_id), text(email)]).await? else {
            return Ok(None);
        };
        let user = self.user(&row)?;
        let has_password = Row::new(&row, self.dialect, "c_").uuid_opt("id")?.is_some();
        let password = if has_password {
            Some(self.credential(&row)?)
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

    async fn update_user(&self, id: UserId, patch: &UserPatch, now: DateTime<Utc>) -> Result<User> {
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
            cols("", "u_", USER)
        );
        let rows = self.write_returning(&sql, values, email_taken).await?;
        rows.first()
            .map(|r| self.user(r))
            .unwrap_or_else(|| Err(not_found()))
    }

    async fn delete_sign_in_method(
        &self,
        user_id: UserId,
        target: SignInMethodRef,
        keep_one: bool,
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
            Ok(true)
        }
        .await;
        tx.finish(r).await
    }

    async fn delete_user(&self, id: UserId) -> Result<()> {
        // Credentials, identities, sessions (with their refresh tokens) and
        // one-time tokens go with it: ON DELETE CASCADE. Audit events have no
        // foreign key and stay.
        let n = self
            .write("DELETE FROM users WHERE id = $1", vec![uuid(id)], db)
            .await?;
        if n == 0 {
            return Err(not_found());
        }
        Ok(())
    }
}

#[async_trait]
impl CredentialStore for SqlStore {
    async fn set_password(&self, user_id: UserId, phc: &str, now: DateTime<Utc>) -> Result<()> {
        let d = self.dialect;
        self.write(
            "INSERT INTO credentials (id, user_id, kind, name, secret, data, created_at, last_used_at) \
             VALUES ($1, $2, 'password', NULL, $3, $4, $5, $6) \
             ON CONFLICT (user_id) WHERE kind = 'password' DO UPDATE SET secret = excluded.secret",
            vec![
                uuid(tessera_core::new_id(now)),
                uuid(user_id),
                text(phc),
                d.json(&serde_json::json!({})),
                d.ts(now),
                d.ts_opt(None),
            ],
            db,
        )
        .await?;
        Ok(())
    }

    async fn insert_credential(&self, credential: &Credential) -> Result<()> {
        self.write(INSERT_CREDENTIAL, self.credential_values(credential), db)
            .await?;
        Ok(())
    }

    async fn list_credentials(
        &self,
        user_id: UserId,
        kind: Option<CredentialKind>,
    ) -> Result<Vec<Credential>> {
        let mut values = vec![uuid(user_id)];
        let mut cond = String::from("c.user_id = $1");
        if let Some(k) = kind {
            values.push(text(k.as_str()));
            cond.push_str(" AND c.kind = $2");
        }
        let sql = format!(
            "SELECT {} FROM credentials c WHERE {cond} ORDER BY c.created_at, c.id",
            cols("c", "c_", CREDENTIAL)
        );
        self.all(&sql, values)
            .await?
            .iter()
            .map(|r| self.credential(r))
            .collect()
    }

    async fn update_credential(&self, c: &Credential) -> Result<()> {
        let n = self
            .write(
                "UPDATE credentials SET secret = $3, data = $4, name = $5 \
                 WHERE id = $1 AND user_id = $2",
                vec![
                    uuid(c.id),
                    uuid(c.user_id),
                    text(&c.secret),
                    self.dialect.json(&c.data),
                    text_opt(c.name.as_deref()),
                ],
                db,
            )
            .await?;
        if n == 0 {
            return Err(not_found());
        }
        Ok(())
    }

    async fn touch_credential(&self, id: Uuid, now: DateTime<Utc>) -> Result<()> {
        let n = self
            .write(
                "UPDATE credentials SET last_used_at = $2 WHERE id = $1",
                vec![uuid(id), self.dialect.ts(now)],
                db,
            )
            .await?;
        if n == 0 {
            return Err(not_found());
        }
        Ok(())
    }

    async fn delete_credential(&self, user_id: UserId, id: Uuid) -> Result<bool> {
        let n = self
            .write(
                "DELETE FROM credentials WHERE id = $1 AND user_id = $2",
                vec![uuid(id), uuid(user_id)],
                db,
            )
            .await?;
        Ok(n > 0)
    }

    async fn consume_credential(
        &self,
        user_id: UserId,
        kind: CredentialKind,
        secret: &str,
    ) -> Result<bool> {
        // One DELETE: of racing callers, only one deletes the row.
        let n = self
            .write(
                "DELETE FROM credentials WHERE id IN (SELECT id FROM credentials \
                 WHERE user_id = $1 AND kind = $2 AND secret = $3 ORDER BY created_at, id LIMIT 1)",
                vec![uuid(user_id), text(kind.as_str()), text(secret)],
                db,
            )
            .await?;
        Ok(n > 0)
    }
}

#[async_trait]
impl IdentityStore for SqlStore {
    async fn insert_identity(&self, i: &Identity) -> Result<()> {
        let d = self.dialect;
        let rows = self
            .write_returning(
                "INSERT INTO identities (id, pool_id, user_id, provider, subject, email, \
                 email_verified, profile, created_at, last_used_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (pool_id, provider, subject) DO NOTHING RETURNING id",
                vec![
                    uuid(i.id),
                    uuid(i.pool_id),
                    uuid(i.user_id),
                    text(&i.provider),
                    text(&i.subject),
                    text_opt(i.email.as_deref()),
                    i.email_verified.into(),
                    d.json(&i.profile),
                    d.ts(i.created_at),
                    d.ts_opt(i.last_used_at),
                ],
                db,
            )
            .await?;
        if rows.is_empty() {
            return Err(Error::new(ErrorKind::IdentityTaken));
        }
        Ok(())
    }

    async fn find_identity(
        &self,
        pool_id: PoolId,
        provider: &str,
        subject: &str,
    ) -> Result<Option<Identity>> {
        let sql = format!(
            "SELECT {} FROM identities i WHERE i.pool_id = $1 AND i.provider = $2 AND i.subject = $3",
            cols("i", "i_", IDENTITY)
        );
        self.one(&sql, vec![uuid(pool_id), text(provider), text(subject)])
            .await?
            .map(|r| self.identity(&r))
            .transpose()
    }

    async fn list_identities(&self, user_id: UserId) -> Result<Vec<Identity>> {
        let sql = format!(
            "SELECT {} FROM identities i WHERE i.user_id = $1 ORDER BY i.created_at, i.id",
            cols("i", "i_", IDENTITY)
        );
        self.all(&sql, vec![uuid(user_id)])
            .await?
            .iter()
            .map(|r| self.identity(r))
            .collect()
    }

    async fn touch_identity(
        &self,
        id: Uuid,
        profile: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let d = self.dialect;
        let n = self
            .write(
                "UPDATE identities SET profile = $2, last_used_at = $3 WHERE id = $1",
                vec![uuid(id), d.json(profile), d.ts(now)],
                db,
            )
            .await?;
        if n == 0 {
            return Err(not_found());
        }
        Ok(())
    }

    async fn delete_identity(&self, user_id: UserId, id: Uuid) -> Result<bool> {
        let n = self
            .write(
                "DELETE FROM identities WHERE id = $1 AND user_id = $2",
                vec![uuid(id), uuid(user_id)],
                db,
            )
            .await?;
        Ok(n > 0)
    }
}
