//! Accounts in SQLite: users, their bots, login sessions and the audit log.

use app::account::{AuditQuery, AuditRecord, Role, TokenInfo, UserInfo, Viewer};
use app::model::ActorKind;
use chrono::{DateTime, Utc};
use sqlx::{SqliteConnection, SqlitePool};

use super::SqliteStore;
use crate::sql_rows::now_ms;
use crate::store::accounts::{
    AccountStore, AuditEntry, LoginSession, NewToken, NewUser, User, UserUpdate,
};
use crate::store::{Result, StoreError};

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    email: String,
    name: String,
    password_hash: String,
    role: String,
    active: bool,
}

const USER_COLUMNS: &str = "u.id, u.email, u.name, u.password_hash, u.role, u.active";

async fn into_user(pool: &SqlitePool, row: UserRow) -> Result<User> {
    let role = Role::parse(&row.role)
        .ok_or_else(|| StoreError::Corrupt(format!("user {} has role {}", row.id, row.role)))?;
    let bots = if role == Role::Admin {
        Vec::new()
    } else {
        sqlx::query_scalar("select bot_id from user_bots where user_id = ?1 order by bot_id")
            .bind(row.id)
            .fetch_all(pool)
            .await?
    };
    Ok(User {
        viewer: Viewer {
            id: row.id,
            email: row.email,
            name: row.name,
            role,
            bots,
        },
        password_hash: row.password_hash,
        active: row.active,
    })
}

async fn user_where(pool: &SqlitePool, condition: &str, value: &str) -> Result<Option<User>> {
    let row = sqlx::query_as::<_, UserRow>(&format!(
        "select {USER_COLUMNS} from users u where {condition}"
    ))
    .bind(value)
    .fetch_optional(pool)
    .await?;
    match row {
        Some(row) => Ok(Some(into_user(pool, row).await?)),
        None => Ok(None),
    }
}

/// Gives the user these bots (on top of those they have).
async fn add_bots(conn: &mut SqliteConnection, user_id: i64, bots: &[String]) -> Result<()> {
    for bot in bots {
        sqlx::query("insert or ignore into user_bots (user_id, bot_id) values (?1, ?2)")
            .bind(user_id)
            .bind(bot)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: i64,
    created_at: i64,
    actor: Option<String>,
    actor_kind: Option<String>,
    actor_id: Option<i64>,
    action: String,
    detail: String,
    address: Option<String>,
    bot_id: Option<String>,
    session_id: Option<i64>,
}

impl AuditRow {
    fn into_record(self) -> AuditRecord {
        AuditRecord {
            id: self.id,
            ts: ts(self.created_at),
            actor: self.actor,
            actor_kind: self.actor_kind.as_deref().and_then(ActorKind::parse),
            actor_id: self.actor_id,
            action: self.action,
            detail: self.detail,
            address: self.address,
            bot_id: self.bot_id,
            session_id: self.session_id,
        }
    }
}

/// Writes one audit line on `conn`, so a change and its audit line can share a transaction.
pub(super) async fn append_audit(conn: &mut SqliteConnection, entry: &AuditEntry) -> Result<()> {
    sqlx::query(
        "insert into audit_log (created_at, actor, action, detail, address, bot_id, session_id, \
                                actor_kind, actor_id) \
         values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )
    .bind(now_ms())
    .bind(&entry.actor)
    .bind(entry.action)
    .bind(&entry.detail)
    .bind(&entry.address)
    .bind(&entry.bot_id)
    .bind(entry.session_id)
    .bind(entry.actor_kind.map(ActorKind::as_str))
    .bind(entry.actor_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn ts(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: i64,
    name: String,
    bot_id: Option<String>,
    user_id: Option<i64>,
    created_by: Option<String>,
    created_at: i64,
    last_used_at: Option<i64>,
    revoked_at: Option<i64>,
}

impl From<TokenRow> for TokenInfo {
    fn from(r: TokenRow) -> Self {
        TokenInfo {
            id: r.id,
            name: r.name,
            bot_id: r.bot_id,
            user_id: r.user_id,
            created_by: r.created_by,
            created_at: ts(r.created_at),
            last_used_at: r.last_used_at.map(ts),
            revoked: r.revoked_at.is_some(),
        }
    }
}

const TOKEN_COLUMNS: &str =
    "id, name, bot_id, user_id, created_by, created_at, last_used_at, revoked_at";

#[async_trait::async_trait]
impl AccountStore for SqliteStore {
    async fn user_count(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("select count(*) from users")
            .fetch_one(&self.pool)
            .await?)
    }

    async fn create_user(&self, new: &NewUser) -> Result<User> {
        let mut tx = self.pool.begin().await?;
        let id: Option<i64> = sqlx::query_scalar(
            "insert into users (email, name, password_hash, role, created_at) \
             values (?1, ?2, ?3, ?4, ?5) on conflict(email) do nothing returning id",
        )
        .bind(&new.email)
        .bind(&new.name)
        .bind(&new.password_hash)
        .bind(new.role.as_str())
        .bind(now_ms())
        .fetch_optional(&mut *tx)
        .await?;
        let id = id.ok_or(StoreError::Conflict("a user with this email"))?;
        add_bots(&mut tx, id, &new.bots).await?;
        tx.commit().await?;
        self.user(id).await?.ok_or(StoreError::NotFound("user"))
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        user_where(&self.pool, "u.email = ?1", email.trim()).await
    }

    async fn user(&self, id: i64) -> Result<Option<User>> {
        user_where(&self.pool, "u.id = ?1", &id.to_string()).await
    }

    async fn set_password(&self, user_id: i64, password_hash: &str) -> Result<()> {
        let done = sqlx::query("update users set password_hash = ?2 where id = ?1")
            .bind(user_id)
            .bind(password_hash)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("user"));
        }
        Ok(())
    }

    async fn create_login_session(
        &self,
        token_hash: &str,
        user_id: i64,
        csrf_token: &str,
    ) -> Result<()> {
        let now = now_ms();
        sqlx::query(
            "insert into login_sessions (token_hash, user_id, csrf_token, created_at, last_seen_at) \
             values (?1, ?2, ?3, ?4, ?4)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(csrf_token)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn login_session(&self, token_hash: &str) -> Result<Option<LoginSession>> {
        let row = sqlx::query_as::<_, (i64, String, i64)>(
            "select user_id, csrf_token, last_seen_at from login_sessions where token_hash = ?1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some((user_id, csrf_token, last_seen_at)) = row else {
            return Ok(None);
        };
        Ok(self.user(user_id).await?.map(|user| LoginSession {
            user,
            csrf_token,
            last_seen_at,
        }))
    }

    async fn touch_login_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("update login_sessions set last_seen_at = ?2 where token_hash = ?1")
            .bind(token_hash)
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_login_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("delete from login_sessions where token_hash = ?1")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_login_sessions_of(&self, user_id: i64, keep: Option<&str>) -> Result<()> {
        sqlx::query(
            "delete from login_sessions where user_id = ?1 and token_hash is not coalesce(?2, '')",
        )
        .bind(user_id)
        .bind(keep)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn audit(&self, entry: &AuditEntry) -> Result<()> {
        let mut conn = self.pool.acquire().await?;
        append_audit(&mut conn, entry).await
    }

    async fn audit_log(&self, query: &AuditQuery, limit: u32) -> Result<Vec<AuditRecord>> {
        // A trailing dot asks for a group of actions ("session." → session.paused, …).
        let (action, group) = match query.action.as_deref().filter(|a| !a.is_empty()) {
            Some(a) if a.ends_with('.') => (None, Some(format!("{a}%"))),
            Some(a) => (Some(a.to_string()), None),
            None => (None, None),
        };
        let rows = sqlx::query_as::<_, AuditRow>(
            "select id, created_at, actor, actor_kind, actor_id, action, detail, address, bot_id, \
                    session_id \
             from audit_log \
             where (?1 is null or id < ?1) and (?2 is null or action = ?2) \
               and (?3 is null or action like ?3) and (?4 is null or actor = ?4) \
               and (?5 is null or bot_id = ?5) and (?7 is null or actor_kind = ?7) \
               and (?8 is null or actor_id = ?8) \
             order by id desc limit ?6",
        )
        .bind(query.before)
        .bind(action)
        .bind(group)
        .bind(query.actor.as_deref().filter(|a| !a.is_empty()))
        .bind(query.bot_id.as_deref().filter(|b| !b.is_empty()))
        .bind(limit.clamp(1, 500))
        .bind(query.actor_kind.map(ActorKind::as_str))
        .bind(query.actor_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(AuditRow::into_record).collect())
    }

    async fn users(&self) -> Result<Vec<UserInfo>> {
        let rows = sqlx::query_as::<_, UserRow>(&format!(
            "select {USER_COLUMNS} from users u order by u.email"
        ))
        .fetch_all(&self.pool)
        .await?;
        let mut users = Vec::with_capacity(rows.len());
        for row in rows {
            users.push(into_user(&self.pool, row).await?.into());
        }
        Ok(users)
    }

    async fn update_user(&self, id: i64, update: &UserUpdate) -> Result<User> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("update users set name = ?2, role = ?3, active = ?4 where id = ?1")
            .bind(id)
            .bind(&update.name)
            .bind(update.role.as_str())
            .bind(update.active)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("user"));
        }
        sqlx::query("delete from user_bots where user_id = ?1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        add_bots(&mut tx, id, &update.bots).await?;
        tx.commit().await?;
        self.user(id).await?.ok_or(StoreError::NotFound("user"))
    }

    async fn create_token(&self, new: &NewToken) -> Result<TokenInfo> {
        let row = sqlx::query_as::<_, TokenRow>(&format!(
            "insert into api_tokens (name, token_hash, bot_id, created_by, created_at, user_id) \
             values (?1, ?2, ?3, ?4, ?5, ?6) on conflict(token_hash) do nothing \
             returning {TOKEN_COLUMNS}"
        ))
        .bind(&new.name)
        .bind(&new.token_hash)
        .bind(&new.bot_id)
        .bind(&new.created_by)
        .bind(now_ms())
        .bind(new.user_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(TokenInfo::from)
            .ok_or(StoreError::Conflict("this token"))
    }

    async fn token_by_hash(&self, token_hash: &str) -> Result<Option<TokenInfo>> {
        let row = sqlx::query_as::<_, TokenRow>(&format!(
            "select {TOKEN_COLUMNS} from api_tokens where token_hash = ?1"
        ))
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(TokenInfo::from))
    }

    async fn tokens(&self) -> Result<Vec<TokenInfo>> {
        let rows = sqlx::query_as::<_, TokenRow>(&format!(
            "select {TOKEN_COLUMNS} from api_tokens order by id"
        ))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(TokenInfo::from).collect())
    }

    async fn revoke_token(&self, id: i64) -> Result<Option<TokenInfo>> {
        let row = sqlx::query_as::<_, TokenRow>(&format!(
            "update api_tokens set revoked_at = coalesce(revoked_at, ?2) where id = ?1 \
             returning {TOKEN_COLUMNS}"
        ))
        .bind(id)
        .bind(now_ms())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(TokenInfo::from))
    }

    async fn touch_token(&self, id: i64) -> Result<()> {
        sqlx::query("update api_tokens set last_used_at = ?2 where id = ?1")
            .bind(id)
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn attempts_since(&self, key: &str, since: i64) -> Result<i64> {
        Ok(
            sqlx::query_scalar("select count(*) from attempts where key = ?1 and at >= ?2")
                .bind(key)
                .bind(since)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    async fn record_attempt(&self, keys: &[String], at: i64, forget_before: i64) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("delete from attempts where at < ?1")
            .bind(forget_before)
            .execute(&mut *tx)
            .await?;
        for key in keys {
            sqlx::query("insert into attempts (key, at) values (?1, ?2)")
                .bind(key)
                .bind(at)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn clear_attempts(&self, key: &str) -> Result<()> {
        sqlx::query("delete from attempts where key = ?1")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
