//! Channels that carry messages to users outside the Converse API. A channel that pushes (as
//! Messenger does) registers an [`Outbox`]; the engine queues every bot and agent message of
//! that channel's sessions in the outbox table with the message, and its sender hands them to
//! the channel's outbox, again after a failure or a restart, until the provider accepts them.

pub mod messenger;
pub mod web;

use std::collections::HashMap;
use std::sync::Arc;

use crate::store::Delivery;

/// Why a send did not go through.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// It may work later (the provider is down, busy or slow).
    #[error("{0}")]
    Retry(String),
    /// The provider refused it for good (a bad recipient, a malformed message).
    #[error("{0}")]
    Refused(String),
}

/// Sends one stored message to its user.
#[async_trait::async_trait]
pub trait Outbox: Send + Sync + 'static {
    async fn send(&self, delivery: &Delivery) -> Result<(), SendError>;
    /// The channel's name as agents read it ("Messenger").
    fn label(&self) -> &'static str;
}

/// The outboxes of every (bot, channel).
#[derive(Default, Clone)]
pub struct Outboxes {
    by_bot_channel: HashMap<(String, String), Arc<dyn Outbox>>,
}

impl Outboxes {
    pub fn insert(&mut self, bot_id: &str, channel: &str, outbox: Arc<dyn Outbox>) {
        self.by_bot_channel
            .insert((bot_id.to_string(), channel.to_string()), outbox);
    }

    pub fn get(&self, bot_id: &str, channel: &str) -> Option<&Arc<dyn Outbox>> {
        self.by_bot_channel
            .get(&(bot_id.to_string(), channel.to_string()))
    }
}
