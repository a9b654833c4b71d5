//! The agents of a bot as a team: who they are, whether they are there to take conversations,
//! and how many each owns.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What an agent says of themselves; with no console open for a while they count as offline
/// whatever they chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AgentStatus {
    /// Takes conversations, and is given them when the bot assigns automatically.
    #[default]
    Online,
    /// Takes conversations, but is given none.
    Busy,
    Away,
    Offline,
}

impl AgentStatus {
    pub const ALL: [AgentStatus; 4] = [
        AgentStatus::Online,
        AgentStatus::Busy,
        AgentStatus::Away,
        AgentStatus::Offline,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AgentStatus::Online => "online",
            AgentStatus::Busy => "busy",
            AgentStatus::Away => "away",
            AgentStatus::Offline => "offline",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == s)
    }

    /// As the status switcher and the team list say it.
    pub fn label(self) -> &'static str {
        match self {
            AgentStatus::Online => "Online",
            AgentStatus::Busy => "Busy",
            AgentStatus::Away => "Away",
            AgentStatus::Offline => "Offline",
        }
    }
}

/// One agent of a bot, as the Assign menu and the team view show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentInfo {
    pub id: i64,
    pub name: String,
    pub is_admin: bool,
    /// Whether they are there: what they chose, or offline when no console of theirs is open
    /// (after a grace period).
    pub status: AgentStatus,
    /// What they chose.
    pub chosen_status: AgentStatus,
    /// How many of their consoles are open now.
    pub consoles: u32,
    /// When an instance last saw a console of theirs open (`None`: never).
    pub last_seen_at: Option<DateTime<Utc>>,
    /// Conversations of the bot they own now.
    pub open_handoffs: i64,
    /// How many they may own at once before automatic assignment passes them over.
    pub capacity: i64,
}

/// The agents of a bot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentList {
    pub agents: Vec<AgentInfo>,
}
