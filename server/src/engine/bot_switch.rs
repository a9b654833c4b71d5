//! The bot-wide switch: while a bot is off, no user message reaches it.

use app::model::{Actor, EventKind};

use super::clock::now_ms;
use super::{Engine, Result};
use crate::store::accounts::AuditEntry;
use crate::store::write::{apply, Change, WriteTx};
use crate::store::StoreError;

impl Engine {
    /// Turns the bot-wide pause switch on or off, with an audit line naming who did it.
    pub async fn set_bot_paused(&self, bot_id: &str, paused: bool, actor: &Actor) -> Result<()> {
        self.bot(bot_id)?;
        let switch = BotSwitch {
            bot_id: bot_id.to_string(),
            paused,
            actor: actor.clone(),
        };
        // The flag follows from the commit's `bot.updated` event (see `Engine::new`).
        apply(self.store(), switch).await?;
        Ok(())
    }
}

struct BotSwitch {
    bot_id: String,
    paused: bool,
    actor: Actor,
}

#[async_trait::async_trait]
impl Change for BotSwitch {
    type Output = ();

    async fn apply(&self, tx: &mut dyn WriteTx) -> crate::store::Result<()> {
        tx.set_bot_paused(&self.bot_id, self.paused)
            .await?
            .ok_or(StoreError::NotFound("bot"))?;
        let action = if self.paused {
            "bot.paused"
        } else {
            "bot.resumed"
        };
        let at = now_ms();
        let audit = AuditEntry::about_bot(&self.actor, action, &self.bot_id, self.bot_id.clone());
        tx.append_audit(&audit, at).await?;
        let switched = EventKind::BotUpdated {
            paused: self.paused,
        };
        tx.append_events(&self.bot_id, vec![switched], at).await
    }
}
