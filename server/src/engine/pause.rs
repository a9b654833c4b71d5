//! Pausing and resuming the bot for one conversation.

use app::model::{Actor, SessionOverview};

use super::clock::Clock;
use super::steps::{self, PauseChange};
use super::{Engine, Result};
use crate::store::write::{apply, Change, WriteTx};
use crate::store::SessionKey;

/// Which session a pause or resume is for.
#[derive(Debug, Clone)]
pub enum Target {
    Id(i64),
    User(SessionKey),
}

impl Engine {
    /// Pauses (`paused = true`) or resumes a session; idempotent. Answers with the session as
    /// stored after the change.
    pub async fn set_paused(
        &self,
        bot_id: &str,
        target: Target,
        paused: bool,
        actor: &Actor,
        reason: Option<String>,
    ) -> Result<SessionOverview> {
        let session_id = match target {
            Target::Id(id) => self.session(bot_id, id).await?.id,
            Target::User(key) => self.session_by_key(&key).await?.id,
        };
        let change = PauseChange::new(paused, actor.clone(), reason);
        Ok(apply(self.store(), Pause { session_id, change }).await?)
    }
}

struct Pause {
    session_id: i64,
    change: PauseChange,
}

#[async_trait::async_trait]
impl Change for Pause {
    type Output = SessionOverview;

    async fn apply(&self, tx: &mut dyn WriteTx) -> crate::store::Result<SessionOverview> {
        let at = Clock::start().tick();
        Ok(steps::set_paused(tx, self.session_id, &self.change, at)
            .await?
            .0)
    }
}
