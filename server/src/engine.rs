//! The HITL engine: the single path for every change. Channels, REST handlers, server functions
//! and bot rules all call it; only it writes to the store and publishes events, after the commit.

mod analytics;
mod bot_switch;
pub mod clock;
pub mod close;
pub mod dispatch;
mod handoffs;
mod history;
mod ingest;
mod notify;
pub mod offline;
pub mod outbox;
mod pause;
pub mod presence;
mod reply;
pub mod retention;
mod sessions;
pub mod steps;
#[cfg(test)]
mod tests;
pub mod timers;
pub mod viewing;
mod visitors;

use std::sync::Arc;

use crate::bots::{BotEntry, Bots};
use crate::bus::Bus;
use crate::channels::Outboxes;
use crate::store::{Store, StoreError};

pub use handoffs::AssignRight;
pub use history::ExportRow;
pub use ingest::{validate as validate_user_content, Incoming, Outcome, ANSWER_NOT_SENT};
pub use pause::Target;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Invalid(String),
    /// Not theirs to do.
    #[error("{0}")]
    Forbidden(String),
    /// Someone else owns the conversation: its handoff as it is now.
    #[error("the conversation is taken")]
    Taken(Box<app::model::Handoff>),
    /// A reply by someone who does not own the conversation: its handoff.
    #[error("the conversation is handled by someone else")]
    NotAssignee(Box<app::model::Handoff>),
    /// A reply written before these messages came in.
    #[error("new messages came in since")]
    Stale(Vec<app::model::Message>),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for EngineError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => EngineError::NotFound(what),
            StoreError::BadCursor => EngineError::Invalid("invalid cursor".into()),
            other => EngineError::Store(other),
        }
    }
}

/// The setting that holds the log's epoch.
const LOG_EPOCH: &str = "log_epoch";

fn new_epoch() -> String {
    format!("{:016x}", rand::random::<u64>())
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;

pub struct Engine {
    store: Arc<dyn Store>,
    bus: Bus,
    bots: Arc<Bots>,
    outboxes: std::sync::OnceLock<Arc<Outboxes>>,
    sender_wake: tokio::sync::Notify,
    presence: presence::Presence,
    viewing: Arc<viewing::Viewing>,
}

impl Engine {
    /// The store's writes are published on `bus` as they commit, in commit (`seq`) order.
    pub fn new(store: Arc<dyn Store>, bus: Bus, bots: Bots) -> Self {
        let publisher = bus.clone();
        let bots = Arc::new(bots);
        let switches = bots.clone();
        let presence = presence::Presence::new(presence::DEFAULT_GRACE);
        let hear_status = presence.hearer();
        store.on_commit(Arc::new(move |bot_id, events| {
            // Whichever instance turned the switch, every instance follows it from the log.
            for event in events {
                if let (app::model::EventKind::BotUpdated { paused }, Some(bot)) =
                    (&event.kind, switches.get(bot_id))
                {
                    bot.set_paused(*paused);
                }
                // Before the dispatchers hear of it: they look at who is there.
                hear_status(bot_id, &event.kind);
            }
            publisher.publish(bot_id, events)
        }));
        Engine {
            store,
            bus,
            bots,
            outboxes: Default::default(),
            sender_wake: tokio::sync::Notify::new(),
            presence,
            viewing: Default::default(),
        }
    }

    /// The name of the event log's history (see `EventKind::Resync`): made on first use. Read
    /// from the store each time (a socket opening), not kept: another instance started with
    /// `--new-log-epoch` changes it under this one.
    pub async fn log_epoch(&self) -> crate::store::Result<String> {
        self.store.setting_or_insert(LOG_EPOCH, &new_epoch).await
    }

    /// Gives the log a new epoch (after a restore from a backup): every console that resumes
    /// starts over with a resync instead of trusting numbers it saw before.
    pub async fn new_log_epoch(&self) -> crate::store::Result<String> {
        let epoch = new_epoch();
        self.store.replace_setting(LOG_EPOCH, &epoch).await?;
        Ok(epoch)
    }

    /// Gives the log a new epoch in place of `seen`, unless a socket or an instance did so
    /// first (many consoles that come back to a restored log find it at once): answers the
    /// epoch there is now.
    pub async fn renew_log_epoch(&self, seen: &str) -> crate::store::Result<String> {
        self.store.swap_setting(LOG_EPOCH, seen, &new_epoch()).await
    }

    /// Who has which conversation open.
    pub fn viewing(&self) -> &Arc<viewing::Viewing> {
        &self.viewing
    }

    /// How long a person without an open console still counts as there (set once at start).
    pub fn with_presence_grace(mut self, grace: std::time::Duration) -> Self {
        self.presence = self.presence.with_grace(grace);
        self
    }

    /// Connects the channels that push messages to users (set once at start; later calls are
    /// ignored).
    pub fn set_outboxes(&self, outboxes: Outboxes) {
        let _ = self.outboxes.set(Arc::new(outboxes));
    }

    /// The channels that push, for the changes that queue messages for them.
    fn outboxes(&self) -> Arc<Outboxes> {
        self.outboxes.get().cloned().unwrap_or_default()
    }

    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    pub fn bot_ids(&self) -> Vec<String> {
        self.bots.ids()
    }

    pub fn bot(&self, bot_id: &str) -> Result<&BotEntry> {
        self.bots.get(bot_id).ok_or(EngineError::NotFound("bot"))
    }
}
