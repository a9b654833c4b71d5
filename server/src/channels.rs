//! Channels that carry messages to users outside the Converse API. A channel that pushes (as
//! Messenger does) registers an [`Outbox`]; the engine hands it every bot and agent message of
//! that channel's sessions once it is stored.

pub mod messenger;
pub mod web;

use std::collections::HashMap;
use std::sync::Arc;

use app::model::{Message, SessionOverview};

/// Sends stored messages to users. `deliver` must not wait on the network: it queues.
pub trait Outbox: Send + Sync + 'static {
    fn deliver(&self, session: &SessionOverview, message: &Message);
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

    pub fn deliver(&self, session: &SessionOverview, message: &Message) {
        if let Some(outbox) = self
            .by_bot_channel
            .get(&(session.bot_id.clone(), session.channel.clone()))
        {
            outbox.deliver(session, message);
        }
    }
}
