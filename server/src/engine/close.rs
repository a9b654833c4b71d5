//! Ending a handoff by hand: its owner (or an admin) gives the conversation back to the bot or
//! closes it as resolved, with an optional last message to the user, in one write.

use std::sync::Arc;

use app::model::{Actor, Content, Handoff, SessionOverview, Source};

use super::clock::Clock;
use super::outbox;
use super::steps::{self, PauseChange, RETURNED_TO_BOT};
use super::{AssignRight, Engine, EngineError, Result};
use crate::channels::Outboxes;
use crate::store::write::{apply, Change, WriteTx};
use crate::store::StoreError;

/// Why a handoff closed when its agent said the matter was settled.
pub const RESOLVED: &str = "resolved";

/// How an agent ends a handoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The bot takes the conversation on.
    ReturnToBot,
    /// The matter is settled (the bot takes the conversation on too).
    Resolved,
}

impl Engine {
    /// `by` ends the open handoff of the conversation; `message` reaches the user first. Only
    /// its owner or an admin (`right`) may end one somebody owns.
    pub async fn close_handoff(
        &self,
        bot_id: &str,
        session_id: i64,
        by: &Actor,
        right: AssignRight,
        ending: Ending,
        message: Option<String>,
    ) -> Result<SessionOverview> {
        self.session(bot_id, session_id).await?;
        let message = message.filter(|m| !m.trim().is_empty());
        if message.as_ref().is_some_and(|m| m.len() > 4000) {
            return Err(EngineError::Invalid(
                "the message must be at most 4000 bytes".into(),
            ));
        }
        let change = Close {
            outboxes: self.outboxes(),
            session_id,
            by: by.clone(),
            right,
            ending,
            message,
        };
        let closed = apply(self.store(), change).await?;
        match closed {
            Closed::Done(session) => {
                self.wake_sender();
                Ok(*session)
            }
            Closed::NotOwner(handoff) => Err(EngineError::NotAssignee(handoff)),
            Closed::NotOpen => Err(EngineError::NotFound("open handoff")),
        }
    }
}

enum Closed {
    Done(Box<SessionOverview>),
    NotOwner(Box<Handoff>),
    /// The bot runs it already.
    NotOpen,
}

struct Close {
    outboxes: Arc<Outboxes>,
    session_id: i64,
    by: Actor,
    right: AssignRight,
    ending: Ending,
    message: Option<String>,
}

#[async_trait::async_trait]
impl Change for Close {
    type Output = Closed;

    async fn apply(&self, tx: &mut dyn WriteTx) -> crate::store::Result<Closed> {
        let mut clock = Clock::start();
        let session = tx
            .session(self.session_id)
            .await?
            .ok_or(StoreError::NotFound("session"))?;
        let Some(handoff) = &session.handoff else {
            return Ok(Closed::NotOpen);
        };
        let owner = handoff.owner_id();
        if self.right == AssignRight::OwnerOnly && owner.is_some() && owner != self.by.id {
            return Ok(Closed::NotOwner(Box::new(handoff.clone())));
        }
        if let Some(text) = &self.message {
            let content = Content::Text { text: text.clone() };
            let (id, by) = (self.session_id, &self.by);
            let r =
                steps::outgoing_message(tx, id, Source::Agent, by, &content, clock.tick()).await?;
            outbox::queue(tx, &self.outboxes, &r.session, &r.message, &content).await?;
        }
        let (reason, closes_as) = match self.ending {
            Ending::ReturnToBot => (None, RETURNED_TO_BOT),
            Ending::Resolved => (Some("resolved".to_string()), RESOLVED),
        };
        let resume = PauseChange::new(false, self.by.clone(), reason).closing_as(closes_as);
        let (session, _) = steps::set_paused(tx, self.session_id, &resume, clock.tick()).await?;
        Ok(Closed::Done(Box::new(session)))
    }
}
