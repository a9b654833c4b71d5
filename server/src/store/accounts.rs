//! The storage port for accounts: users, the bots agents work on, signed-in browsers and the
//! security audit log. Kept apart from [`super::Store`], which holds the conversations.

use app::account::{AuditQuery, AuditRecord, Role, TokenInfo, UserInfo, Viewer};
use app::model::{Actor, ActorKind};

use super::Result;

/// A stored user: who they are, their password hash and whether they may sign in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub viewer: Viewer,
    pub password_hash: String,
    pub active: bool,
}

impl From<User> for UserInfo {
    fn from(user: User) -> Self {
        UserInfo {
            viewer: user.viewer,
            active: user.active,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub role: Role,
    pub bots: Vec<String>,
}

/// A signed-in browser and its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginSession {
    pub user: User,
    pub csrf_token: String,
    pub last_seen_at: i64,
}

/// One line of the security audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Who did it (an email, a token's name), when known.
    pub actor: Option<String>,
    /// Their kind and account or token id, when known: filters use these, never the name.
    pub actor_kind: Option<ActorKind>,
    pub actor_id: Option<i64>,
    pub action: &'static str,
    pub detail: String,
    pub address: Option<String>,
    /// The conversation it is about, if any.
    pub bot_id: Option<String>,
    pub session_id: Option<i64>,
}

impl AuditEntry {
    /// A line about something `actor` did, about no conversation.
    pub fn by(actor: &Actor, action: &'static str, detail: impl Into<String>) -> Self {
        AuditEntry {
            actor: Some(actor.name.clone()),
            actor_kind: Some(actor.kind),
            actor_id: actor.id,
            action,
            detail: detail.into(),
            address: None,
            bot_id: None,
            session_id: None,
        }
    }

    /// A line about something `actor` did to a whole bot.
    pub fn about_bot(
        actor: &Actor,
        action: &'static str,
        bot_id: &str,
        detail: impl Into<String>,
    ) -> Self {
        AuditEntry {
            bot_id: Some(bot_id.to_string()),
            ..AuditEntry::by(actor, action, detail)
        }
    }

    /// A line about something `actor` did to a conversation.
    pub fn about_session(
        actor: &Actor,
        action: &'static str,
        bot_id: &str,
        session_id: i64,
        detail: impl Into<String>,
    ) -> Self {
        AuditEntry {
            session_id: Some(session_id),
            ..AuditEntry::about_bot(actor, action, bot_id, detail)
        }
    }
}

#[async_trait::async_trait]
pub trait AccountStore: Send + Sync + 'static {
    async fn user_count(&self) -> Result<i64>;
    /// Fails with `Conflict` when the email is taken.
    async fn create_user(&self, new: &NewUser) -> Result<User>;
    async fn user_by_email(&self, email: &str) -> Result<Option<User>>;
    async fn user(&self, id: i64) -> Result<Option<User>>;
    async fn set_password(&self, user_id: i64, password_hash: &str) -> Result<()>;

    async fn create_login_session(
        &self,
        token_hash: &str,
        user_id: i64,
        csrf_token: &str,
    ) -> Result<()>;
    async fn login_session(&self, token_hash: &str) -> Result<Option<LoginSession>>;
    async fn touch_login_session(&self, token_hash: &str) -> Result<()>;
    async fn delete_login_session(&self, token_hash: &str) -> Result<()>;
    /// Signs the user out everywhere except, when given, the browser with `keep`.
    async fn delete_login_sessions_of(&self, user_id: i64, keep: Option<&str>) -> Result<()>;

    async fn audit(&self, entry: &AuditEntry) -> Result<()>;
    /// Newest first, before the entry `before` when given.
    async fn audit_log(&self, query: &AuditQuery, limit: u32) -> Result<Vec<AuditRecord>>;

    async fn users(&self) -> Result<Vec<UserInfo>>;
    /// Changes a user's name, role, bots and whether they may sign in.
    async fn update_user(&self, id: i64, update: &UserUpdate) -> Result<User>;

    /// API tokens. `token_by_hash` finds revoked ones too (the caller refuses them).
    async fn create_token(&self, new: &NewToken) -> Result<TokenInfo>;
    async fn token_by_hash(&self, token_hash: &str) -> Result<Option<TokenInfo>>;
    async fn tokens(&self) -> Result<Vec<TokenInfo>>;
    async fn revoke_token(&self, id: i64) -> Result<Option<TokenInfo>>;
    async fn touch_token(&self, id: i64) -> Result<()>;

    /// How many attempts under `key` were recorded at `since` (unix ms) or later.
    async fn attempts_since(&self, key: &str, since: i64) -> Result<i64>;
    /// Records an attempt under each of `keys` at `at`, and forgets every attempt before
    /// `forget_before`.
    async fn record_attempt(&self, keys: &[String], at: i64, forget_before: i64) -> Result<()>;
    /// Forgets the attempts under `key`.
    async fn clear_attempts(&self, key: &str) -> Result<()>;
}

/// A user's account as it is to be after a change: every field, also those that stay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserUpdate {
    pub name: String,
    pub role: Role,
    pub bots: Vec<String>,
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    pub name: String,
    pub token_hash: String,
    pub bot_id: Option<String>,
    /// The person it acts as, if any.
    pub user_id: Option<i64>,
    pub created_by: Option<String>,
}
