//! The history part of the storage port: search over every message, whole transcripts, and
//! deleting a conversation with everything that held its data.

use app::history::{HistoryPage, HistoryQuery};
use app::model::{Event, Message};

use super::{BotScope, Result};

/// A search with its `from`/`to` already read as unix milliseconds.
#[derive(Debug, Clone, Default)]
pub struct Search {
    pub query: HistoryQuery,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
}

#[async_trait::async_trait]
pub trait HistoryStore: Send + Sync + 'static {
    /// Messages matching the search among the bots of `scope`: by relevance when there are
    /// words, else newest first; paged by cursor.
    async fn search(&self, scope: &BotScope, search: &Search) -> Result<HistoryPage>;

    /// The conversation's messages from its start, oldest first, at most `limit`.
    async fn transcript_messages(&self, session_id: i64, limit: u32) -> Result<Vec<Message>>;

    /// Deletes the conversation, its messages, pause history, notifications, the event log's
    /// copies of them and its web chat visitor, with an audit line naming `actor`. Answers the
    /// `session.deleted` event to publish.
    async fn delete_session(&self, session_id: i64, actor: &str) -> Result<Vec<Event>>;
}
