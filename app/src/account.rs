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
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// May this person see and act on the bot's conversations?
    pub fn may_work_on(&self, bot_id: &str) -> bool {
        self.is_admin() || self.bots.iter().any(|b| b == bot_id)
    }
}

/// Shortest password accepted for an account.
pub const PASSWORD_MIN_CHARS: usize = 10;
