//! The bot-wide switch: while a bot is off, no user message reaches it.

use app::model::Actor;

use super::clock::now_ms;
use super::{Engine, Result};
use crate::store::accounts::AuditEntry;
use crate::store::write::{apply, Change, WriteTx};
use crate::store::StoreError;

impl Engine {
    /// Turns the bot-wide pause switch on or off, with an audit line naming who did it.
    pub async fn set_bot_paused(&self, bot_id: &str, paused: bool, actor: &Actor) -> Result<()> {
        let bot = self.bot(bot_id)?;
        let switch = BotSwitch {
            bot_id: bot_id.to_string(),
            paused,
            actor: actor.clone(),
        };
        apply(self.store(), switch).await?;
        bot.set_paused(paused);
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
        let audit = AuditEntry::about_bot(&self.actor, action, &self.bot_id, self.bot_id.clone());
        tx.append_audit(&audit, now_ms()).await
    }
}
