//! The agents of a bot as a team: the people who work on it (from the accounts) with how many
//! of its conversations each owns (from the engine).

use app::account::Viewer;
use app::model::Assignee;
use app::team::{AgentInfo, AgentList};

use crate::accounts::Accounts;
use crate::engine::{Engine, EngineError, Result};

/// Every active person who works on the bot, by name.
pub async fn agents(accounts: &Accounts, engine: &Engine, bot_id: &str) -> Result<AgentList> {
    engine.bot(bot_id)?;
    let loads = engine.store().handoff_loads(bot_id).await?;
    let load_of = |id: i64| loads.iter().find(|(a, _)| *a == id).map_or(0, |(_, n)| *n);
    let mut agents: Vec<AgentInfo> = accounts
        .store()
        .users()
        .await?
        .into_iter()
        .filter(|u| u.active && u.viewer.may_work_on(bot_id))
        .map(|u| AgentInfo {
            id: u.viewer.id,
            is_admin: u.viewer.is_admin(),
            open_handoffs: load_of(u.viewer.id),
            name: u.viewer.name,
        })
        .collect();
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
