//! The history part of the storage port: search over every message, whole transcripts, exports,
//! the handoff figures and what retention reads.

use app::history::{HistoryPage, HistoryQuery};
use app::model::{ActorKind, Message, Source};

use super::{BotScope, Result};

/// A search with its `from`/`to` already read as unix milliseconds.
#[derive(Debug, Clone, Default)]
pub struct Search {
    pub query: HistoryQuery,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
}

/// One message of an export, with its conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportMessage {
    pub bot_id: String,
    pub channel: String,
    pub user_id: String,
    pub full_name: Option<String>,
    pub message: Message,
}

/// A UTC day as days since 1970-01-01.
pub type DayNumber = i64;

/// What the handoff figures are made of, over a range of whole UTC days; the engine turns
/// them into figures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActivityFacts {
    /// Messages per day and source.
    pub messages: Vec<(DayNumber, Source, i64)>,
    /// Conversations with a message, per day.
    pub conversations_per_day: Vec<(DayNumber, i64)>,
    /// Conversations with a message in the whole range.
    pub conversations: i64,
    /// Every handoff that began in the range.
    pub handoffs: Vec<HandoffFacts>,
    /// The same handoffs as owned: queued, given to an agent, answered, closed.
    pub owned: Vec<OwnedFacts>,
}

/// One handoff as owned (unix milliseconds): when it was queued and (last) given to an agent,
/// that agent, their first message after it (before it closed), and how it closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedFacts {
    pub queued_at: i64,
    pub assigned_at: Option<i64>,
    pub assignee: Option<(i64, String)>,
    pub first_reply: Option<i64>,
    pub close_reason: Option<String>,
}

/// One handoff: when it began (unix milliseconds), the first agent message at or after that,
/// and the first resume after it, with who resumed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandoffFacts {
    pub paused_at: i64,
    pub first_agent_message: Option<i64>,
    pub resumed: Option<(i64, Option<ActorKind>)>,
}

/// Messages as the database yields them, one conversation after another, each oldest first.
pub type ExportStream = futures::stream::BoxStream<'static, Result<ExportMessage>>;

#[async_trait::async_trait]
pub trait HistoryStore: Send + Sync + 'static {
    /// Messages matching the search among the bots of `scope`: by relevance when there are
    /// words, else newest first; paged by cursor.
    async fn search(&self, scope: &BotScope, search: &Search) -> Result<HistoryPage>;

    /// The conversation's messages from its start, oldest first, at most `limit`.
    async fn transcript_messages(&self, session_id: i64, limit: u32) -> Result<Vec<Message>>;

    /// Every message of every conversation that has a message matching the search (or of the
    /// one `session_id`), conversation by conversation, oldest first: streamed, so memory stays
    /// flat however much there is.
    fn export(&self, scope: &BotScope, search: &Search) -> ExportStream;

    /// What the bot's handoff figures are made of, for the unix milliseconds `from_ms` (the
    /// start of a UTC day) up to `to_ms` (the start of the day after the last).
    async fn activity(&self, bot_id: &str, from_ms: i64, to_ms: i64) -> Result<ActivityFacts>;

    /// How many days the bot's conversations are kept after their last activity (`None`:
    /// for ever).
    async fn retention_days(&self, bot_id: &str) -> Result<Option<u32>>;
    /// Ids of the bot's conversations whose last activity is before `cutoff_ms`, at most
    /// `limit`, oldest first.
    async fn sessions_idle_since(
        &self,
        bot_id: &str,
        cutoff_ms: i64,
        limit: u32,
    ) -> Result<Vec<i64>>;
}
