//! An agent answers a user in place of the bot.

use app::model::{Content, Message, Source};

use super::{Engine, EngineError, Result};
use crate::store::ActorKind;

/// Why a conversation is paused when an agent answers while the bot still runs it.
pub const AGENT_REPLIED: &str = "agent replied";

impl Engine {
    /// Records the agent's message. If the bot still runs the conversation it is paused first,
    /// so the bot and the agent never both answer.
    pub async fn agent_reply(
        &self,
        bot_id: &str,
        session_id: i64,
        text: &str,
        author: &str,
    ) -> Result<Message> {
        let text = text.trim_end();
        if text.trim().is_empty() {
            return Err(EngineError::Invalid("the message must not be empty".into()));
        }
        let session = self.session(bot_id, session_id).await?;
        if !session.is_paused {
            let actor = (author, ActorKind::Agent);
            self.pause_session(bot_id, session_id, true, actor, Some(AGENT_REPLIED.into()))
                .await?;
        }
        let content = Content::Text {
            text: text.to_string(),
        };
        let r = self
            .store
            .record_outgoing_message(session_id, Source::Agent, Some(author), &content)
            .await?;
        self.deliver(&r.session, &r.message);
        Ok(r.message)
    }
}
