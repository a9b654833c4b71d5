//! An agent answers a user in place of the bot.

use app::model::{Actor, Content, Message, Source};

use std::sync::Arc;

use super::clock::Clock;
use super::outbox;
use super::steps::{self, PauseChange, Recorded};
use super::{Engine, EngineError, Result};
use crate::channels::Outboxes;
use crate::store::write::{apply, Change, WriteTx};

/// Why a conversation is paused when an agent answers while the bot still runs it.
pub const AGENT_REPLIED: &str = "agent replied";

impl Engine {
    /// Records the agent's message. If the bot still runs the conversation it is paused in the
    /// same write, so the bot and the agent never both answer.
    pub async fn agent_reply(
        &self,
        bot_id: &str,
        session_id: i64,
        text: &str,
        author: &Actor,
    ) -> Result<Message> {
        let text = text.trim_end();
        if text.trim().is_empty() {
            return Err(EngineError::Invalid("the message must not be empty".into()));
        }
        self.session(bot_id, session_id).await?;
        let reply = AgentReply {
            outboxes: self.outboxes(),
            session_id,
            author: author.clone(),
            content: Content::Text {
                text: text.to_string(),
            },
        };
        let r = apply(self.store(), reply).await?;
        self.wake_sender();
        Ok(r.message)
    }
}

struct AgentReply {
    outboxes: Arc<Outboxes>,
    session_id: i64,
    author: Actor,
    content: Content,
}

#[async_trait::async_trait]
impl Change for AgentReply {
    type Output = Recorded;

    async fn apply(&self, tx: &mut dyn WriteTx) -> crate::store::Result<Recorded> {
        let mut clock = Clock::start();
        let pause = PauseChange::new(true, self.author.clone(), Some(AGENT_REPLIED.into()));
        steps::set_paused(tx, self.session_id, &pause, clock.tick()).await?;
        let (id, author, content) = (self.session_id, &self.author, &self.content);
        let r =
            steps::outgoing_message(tx, id, Source::Agent, author, content, clock.tick()).await?;
        outbox::queue(tx, &self.outboxes, &r.session, &r.message, content).await?;
        Ok(r)
    }
}
