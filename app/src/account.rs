//! Who is signed in to the console, as the browser and the server both see it.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Manages bots, users, tokens and settings, and works on every bot.
    Admin,
    /// Works on the conversations of the bots an admin gave them.
    Agent,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Agent => "agent",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "agent" => Some(Role::Agent),
            _ => None,
        }
    }
}

/// The signed-in person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Viewer {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// The bots an agent works on; empty for admins, who work on all.
    pub bots: Vec<String>,
}

impl Viewer {
    /// The person as the actor of what they do.
    pub fn actor(&self) -> crate::model::Actor {
        crate::model::Actor::new(crate::model::ActorKind::Agent, Some(self.id), &self.name)
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// May this person see and act on the bot's conversations?
    pub fn may_work_on(&self, bot_id: &str) -> bool {
        self.is_admin() || self.bots.iter().any(|b| b == bot_id)
    }
}

/// The close code of a live socket whose credential no longer holds (signed out, deactivated,
/// token revoked): the console goes to the sign-in page.
pub const CLOSE_SIGNED_OUT: u16 = 4401;
/// The close code of a live socket whose caller is still signed in but no longer works on its
/// bot: the console shows the reason.
pub const CLOSE_NOT_ALLOWED: u16 = 4403;

/// Shortest password accepted for an account.
pub const PASSWORD_MIN_CHARS: usize = 10;

/// An API token as admins see it (never its value, which is shown once when it is made).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    /// The one bot it may act on; every bot when `None`.
    pub bot_id: Option<String>,
    /// The person it acts as (with their role and bots), when it belongs to one.
    #[serde(default)]
    pub user_id: Option<i64>,
    pub created_by: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub last_used_at: Option<chrono::DateTime<chrono::Utc>>,
    pub revoked: bool,
}

/// A token just made: its value, shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedToken {
    pub info: TokenInfo,
    pub token: String,
}

/// A user as admins see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserInfo {
    pub viewer: Viewer,
    pub active: bool,
}

/// A user just made or whose password was reset: the temporary password, shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserWithPassword {
    pub user: UserInfo,
    pub temporary_password: String,
}

/// One line of the audit log: security (sign-ins, users, tokens) and conversations (pauses,
/// agent replies, exports, deletions, settings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    pub id: i64,
    pub ts: chrono::DateTime<chrono::Utc>,
    pub actor: Option<String>,
    /// The kind and account or token id of who did it, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_kind: Option<crate::model::ActorKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_id: Option<i64>,
    pub action: String,
    pub detail: String,
    pub address: Option<String>,
    #[serde(default)]
    pub bot_id: Option<String>,
    #[serde(default)]
    pub session_id: Option<i64>,
}

/// Which audit lines to show, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditQuery {
    /// Lines older than this id (the cursor of the previous page).
    #[serde(default)]
    pub before: Option<i64>,
    /// An action, or its group with a trailing dot ("session." for pauses and resumes).
    #[serde(default)]
    pub action: Option<String>,
    /// Who, by the name shown.
    #[serde(default)]
    pub actor: Option<String>,
    /// Who, by kind (`agent`, `token`, `bot`, `user`, `system`, `retention`) and id.
    #[serde(default)]
    pub actor_kind: Option<crate::model::ActorKind>,
    #[serde(default)]
    pub actor_id: Option<i64>,
    #[serde(default)]
    pub bot_id: Option<String>,
}

/// A bot as admins see it on the Bots page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BotInfo {
    pub id: String,
    pub name: String,
    /// What answers its users: "rules", "webhook", "rasa", or "none" (it only records).
    pub kind: String,
    /// False while the bot-wide switch is off: no user message reaches the bot.
    pub running: bool,
    pub sessions: i64,
    pub paused_sessions: i64,
    /// Conversations idle for longer are deleted; `None` keeps them for ever.
    #[serde(default)]
    pub retention_days: Option<u32>,
}
