//! The agents of a bot as a team: who they are and how many conversations each owns.

use serde::{Deserialize, Serialize};

/// One agent of a bot, as the Assign menu and the team view show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentInfo {
    pub id: i64,
    pub name: String,
    pub is_admin: bool,
    /// Conversations of the bot they own now.
    pub open_handoffs: i64,
}

/// The agents of a bot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentList {
    pub agents: Vec<AgentInfo>,
}
