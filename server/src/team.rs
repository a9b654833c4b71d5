//! The agents of a bot as a team: the people who work on it (from the accounts) as the engine
//! sees them (status, load, capacity).

use app::account::Viewer;
use app::model::Assignee;
use app::team::AgentList;

use crate::accounts::Accounts;
use crate::engine::{Engine, EngineError, Result};

/// Every active person who works on the bot, by name, with their status, load and capacity.
pub async fn agents(accounts: &Accounts, engine: &Engine, bot_id: &str) -> Result<AgentList> {
    engine.bot(bot_id)?;
    let mut agents = Vec::new();
    for user in accounts.store().users().await? {
        if user.active && user.viewer.may_work_on(bot_id) {
            agents.push(engine.agent_info(bot_id, &user.viewer).await?);
        }
    }
    agents.sort_by_key(|a| a.name.to_lowercase());
    Ok(AgentList { agents })
}

/// The person `user_id` as the owner of a conversation of the bot: they must be active and
/// work on it.
pub async fn assignee(accounts: &Accounts, bot_id: &str, user_id: i64) -> Result<Assignee> {
    let viewer: Viewer = accounts
        .store()
        .user(user_id)
        .await?
        .filter(|u| u.active)
        .ok_or(EngineError::NotFound("user"))?
        .viewer;
    if !viewer.may_work_on(bot_id) {
        return Err(EngineError::Invalid(format!(
            "{} does not work on the bot {bot_id}",
            viewer.name
        )));
    }
    Ok(Assignee {
        id: viewer.id,
        name: viewer.name,
    })
}
