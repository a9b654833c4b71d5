//! An agent answers a user in place of the bot.

use app::model::{Actor, Content, Handoff, Message, Source};

use std::sync::Arc;

use super::clock::Clock;
use super::handoffs::assignee_of;
use super::outbox;
use super::steps::{self, PauseChange, Recorded};
use super::{Engine, EngineError, Result};
use crate::channels::Outboxes;
use crate::store::write::{apply, Change, WriteTx};
use crate::store::StoreError;

/// Why a conversation is paused when an agent answers while the bot still runs it.
pub const AGENT_REPLIED: &str = "agent replied";

impl Engine {
    /// Records the agent's message. If the bot still runs the conversation it is paused in the
    /// same write, so the bot and the agent never both answer. One owner writes: a person's
    /// reply to a conversation someone else owns is refused, and a person answering an unowned
    /// one takes it. With `last_seen` (the last message the agent saw), a reply is refused when
    /// the user or another agent wrote since, so nobody answers twice.
    pub async fn agent_reply(
        &self,
        bot_id: &str,
        session_id: i64,
        text: &str,
        author: &Actor,
        last_seen: Option<i64>,
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
            last_seen,
        };
        let replied = apply(self.store(), reply).await?;
        match replied {
            Replied::Sent(r) => {
                self.wake_sender();
                Ok(r.message)
            }
            Replied::NotOwner(handoff) => Err(EngineError::NotAssignee(handoff)),
            Replied::Stale(messages) => Err(EngineError::Stale(messages)),
        }
    }
}

/// The most newer messages a refused stale reply names.
const STALE_LIMIT: u32 = 50;

struct AgentReply {
    outboxes: Arc<Outboxes>,
    session_id: i64,
    author: Actor,
    content: Content,
    last_seen: Option<i64>,
}

enum Replied {
    Sent(Box<Recorded>),
    /// Someone else owns the conversation.
    NotOwner(Box<Handoff>),
    /// The user or another agent wrote after what the agent saw.
    Stale(Vec<Message>),
}

impl AgentReply {
    /// Whether `m` is news to the author: the user's or another agent's words.
    fn is_news(&self, m: &Message) -> bool {
        match m.source {
            Source::User => true,
            Source::Agent => {
                !(m.author_kind == Some(self.author.kind)
                    && m.author_id.is_some()
                    && m.author_id == self.author.id)
            }
            Source::Bot | Source::System => false,
        }
    }
}

#[async_trait::async_trait]
impl Change for AgentReply {
    type Output = Replied;

    async fn apply(&self, tx: &mut dyn WriteTx) -> crate::store::Result<Replied> {
        let mut clock = Clock::start();
        let id = self.session_id;
        let current = tx
            .session(id)
            .await?
            .ok_or(StoreError::NotFound("session"))?;
        let person = assignee_of(&self.author).ok();
        if let (Some(person), Some(handoff)) = (&person, &current.handoff) {
            if handoff.owner_id().is_some_and(|owner| owner != person.id) {
                return Ok(Replied::NotOwner(Box::new(handoff.clone())));
            }
        }
        if let Some(seen) = self.last_seen {
            let newer: Vec<Message> = tx
                .messages_after(id, seen, STALE_LIMIT)
                .await?
                .into_iter()
                .filter(|m| self.is_news(m))
                .collect();
            if !newer.is_empty() {
                return Ok(Replied::Stale(newer));
            }
        }
        let pause = PauseChange::new(true, self.author.clone(), Some(AGENT_REPLIED.into()));
        let (session, _) = steps::set_paused(tx, id, &pause, clock.tick()).await?;
        // A person answering a conversation nobody owns takes it.
        let unowned = session
            .handoff
            .as_ref()
            .is_some_and(|h| h.owner_id().is_none());
        if let (Some(person), true) = (&person, unowned) {
            let at = clock.tick();
            if let Err(handoff) =
                steps::assign(tx, &session, person, &self.author, None, at).await?
            {
                return Ok(Replied::NotOwner(Box::new(handoff)));
            }
        }
        let (author, content) = (&self.author, &self.content);
        let r =
            steps::outgoing_message(tx, id, Source::Agent, author, content, clock.tick()).await?;
        outbox::queue(tx, &self.outboxes, &r.session, &r.message, content).await?;
        Ok(Replied::Sent(Box::new(r)))
    }
}
