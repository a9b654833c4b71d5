//! The HITL engine: the single path for every change. Channels, REST handlers, server functions
//! and bot rules all call it; only it writes to the store and publishes events, after the commit.

mod history;
mod ingest;
mod notify;
mod pause;
mod reply;
pub mod retention;
#[cfg(test)]
mod tests;
mod visitors;

use std::sync::Arc;

use app::model::{Message, SessionCounts, SessionOverview, SessionPage, SessionQuery};

use crate::bots::{BotEntry, Bots};
use crate::bus::Bus;
use crate::channels::Outboxes;
use crate::store::{SessionKey, Store, StoreError};

pub use ingest::{validate as validate_user_content, Incoming, Outcome};
pub use pause::Target;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Invalid(String),
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

pub type Result<T, E = EngineError> = std::result::Result<T, E>;

pub struct Engine {
    store: Arc<dyn Store>,
    bus: Bus,
    bots: Bots,
    outboxes: std::sync::RwLock<Outboxes>,
}

impl Engine {
    /// The store's writes are published on `bus` as they commit, in commit (`seq`) order.
    pub fn new(store: Arc<dyn Store>, bus: Bus, bots: Bots) -> Self {
        let publisher = bus.clone();
        store.on_commit(Arc::new(move |bot_id, events| {
            publisher.publish(bot_id, events)
        }));
        Engine {
            store,
            bus,
            bots,
            outboxes: Default::default(),
        }
    }

    /// Connects the channels that push messages to users (set once at start).
    pub fn set_outboxes(&self, outboxes: Outboxes) {
        *self.outboxes.write().unwrap_or_else(|e| e.into_inner()) = outboxes;
    }

    /// Hands a stored bot or agent message to its channel, if that channel pushes.
    fn deliver(&self, session: &SessionOverview, message: &Message) {
        self.outboxes
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .deliver(session, message);
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

    pub async fn sessions(&self, bot_id: &str, query: &SessionQuery) -> Result<SessionPage> {
        self.bot(bot_id)?;
        Ok(self.store.sessions(bot_id, query).await?)
    }

    pub async fn session(&self, bot_id: &str, session_id: i64) -> Result<SessionOverview> {
        self.bot(bot_id)?;
        self.store
            .session(bot_id, session_id)
            .await?
            .ok_or(EngineError::NotFound("session"))
    }

    pub async fn session_counts(&self, bot_id: &str) -> Result<SessionCounts> {
        self.bot(bot_id)?;
        Ok(self.store.session_counts(bot_id).await?)
    }

    /// An agent has seen the session's messages: its unread count goes back to zero.
    pub async fn mark_session_read(
        &self,
        bot_id: &str,
        session_id: i64,
    ) -> Result<SessionOverview> {
        self.session(bot_id, session_id).await?;
        self.store.mark_session_read(session_id).await?;
        self.session(bot_id, session_id).await
    }

    pub async fn session_by_key(&self, key: &SessionKey) -> Result<SessionOverview> {
        self.bot(&key.bot_id)?;
        self.store
            .session_by_key(key)
            .await?
            .ok_or(EngineError::NotFound("session"))
    }

    pub async fn messages(
        &self,
        bot_id: &str,
        session_id: i64,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<Message>> {
        self.session(bot_id, session_id).await?;
        Ok(self.store.messages(session_id, before, limit).await?)
    }

    /// True the first time a channel delivers this key (for dropping redeliveries).
    pub async fn first_sighting(&self, key: &str) -> Result<bool> {
        Ok(self.store.first_sighting(key).await?)
    }

    /// Takes a newer profile (name, picture) the channel gave outside a message.
    pub async fn update_profile(
        &self,
        bot_id: &str,
        session_id: i64,
        profile: &app::model::Profile,
    ) -> Result<()> {
        self.bot(bot_id)?;
        self.store.update_profile(session_id, profile).await?;
        Ok(())
    }

    /// Turns the bot-wide pause switch on or off: while on, no user message reaches the bot.
    pub async fn set_bot_paused(&self, bot_id: &str, paused: bool, actor: &str) -> Result<()> {
        let bot = self.bot(bot_id)?;
        self.store.set_bot_paused(bot_id, paused, actor).await?;
        bot.set_paused(paused);
        Ok(())
    }
}
