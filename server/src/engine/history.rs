//! History review: search, transcripts, and deleting a conversation on request.

use app::history::{pause_mark, time_range, Handoffs, HistoryPage, HistoryQuery, Transcript};
use futures::StreamExt;

use app::model::Actor;

use super::clock::Clock;
use super::{steps, Engine, EngineError, Result};
use crate::store::history::{ExportMessage, Search};
use crate::store::write::{apply, Change, WriteTx};
use crate::store::BotScope;

/// One message of an export, with its conversation and where it stands in the handoffs.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportRow {
    pub session_id: i64,
    pub bot_id: String,
    pub channel: String,
    pub user_id: String,
    pub full_name: Option<String>,
    pub message_id: i64,
    pub ts: chrono::DateTime<chrono::Utc>,
    pub source: String,
    pub author: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    pub text: String,
    /// The message's payload, as JSON text.
    pub payload: String,
    /// "bot" or "human": who was answering when it was written.
    pub segment: String,
    /// "paused" on the line that handed the conversation to a human, "resumed" on the one that
    /// gave it back; empty otherwise.
    pub handoff: String,
}

impl ExportRow {
    /// The next message of a conversation whose handoffs `handoffs` follows.
    fn new(m: ExportMessage, handoffs: &mut Handoffs) -> Self {
        let mark = pause_mark(&m.message);
        let handoff = match mark {
            Some(true) => "paused",
            Some(false) => "resumed",
            None => "",
        };
        let message = m.message;
        ExportRow {
            session_id: message.session_id,
            bot_id: m.bot_id,
            channel: m.channel,
            user_id: m.user_id,
            full_name: m.full_name,
            message_id: message.id,
            ts: message.ts,
            source: message.source.as_str().to_string(),
            author: message.author,
            kind: message.kind,
            text: message.text,
            payload: message.payload.to_string(),
            segment: handoffs.segment_of(mark).as_str().to_string(),
            handoff: handoff.to_string(),
        }
    }
}

/// Export rows, one conversation after another.
pub type ExportRows = futures::stream::BoxStream<'static, crate::store::Result<ExportRow>>;

/// A transcript holds at most this many messages (a longer conversation is exported instead).
pub const TRANSCRIPT_LIMIT: u32 = 5_000;

impl Engine {
    /// Reads `from`/`to` of a query; a bad one is the caller's mistake.
    pub fn search_of(&self, query: HistoryQuery) -> Result<Search> {
        let (from_ms, to_ms) =
            time_range(query.from.as_deref(), query.to.as_deref()).map_err(EngineError::Invalid)?;
        if let Some(bot) = query.bot_id.as_deref().filter(|b| !b.is_empty()) {
            self.bot(bot)?;
        }
        Ok(Search {
            query,
            from_ms,
            to_ms,
        })
    }

    pub async fn search(&self, scope: &BotScope, query: HistoryQuery) -> Result<HistoryPage> {
        let search = self.search_of(query)?;
        Ok(self.store.search(scope, &search).await?)
    }

    /// Every conversation matching the search, streamed for an export, each message marked
    /// with the handoff segment it belongs to.
    pub fn export(&self, scope: &BotScope, query: HistoryQuery) -> Result<ExportRows> {
        let search = self.search_of(query)?;
        let mut following: Option<(i64, Handoffs)> = None;
        let rows = self.store.export(scope, &search).map(move |item| {
            item.map(|m| {
                let session = m.message.session_id;
                let handoffs = match &mut following {
                    Some((id, handoffs)) if *id == session => handoffs,
                    _ => &mut following.insert((session, Handoffs::default())).1,
                };
                ExportRow::new(m, handoffs)
            })
        });
        Ok(rows.boxed())
    }

    /// The bot's handoff figures over whole UTC days (the last 30 by default).
    pub async fn analytics(
        &self,
        bot_id: &str,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<app::analytics::Analytics> {
        self.bot(bot_id)?;
        let today = chrono::Utc::now().date_naive();
        let (from, to) =
            app::analytics::day_range(from, to, today).map_err(EngineError::Invalid)?;
        let (from_ms, to_ms) = super::analytics::range_ms(from, to);
        let facts = self.store.activity(bot_id, from_ms, to_ms).await?;
        Ok(super::analytics::figures(bot_id, from, to, facts))
    }

    pub async fn transcript(&self, bot_id: &str, session_id: i64) -> Result<Transcript> {
        let session = self.session(bot_id, session_id).await?;
        let mut messages = self
            .store
            .transcript_messages(session_id, TRANSCRIPT_LIMIT + 1)
            .await?;
        let truncated = messages.len() > TRANSCRIPT_LIMIT as usize;
        messages.truncate(TRANSCRIPT_LIMIT as usize);
        Ok(Transcript {
            session,
            messages,
            truncated,
        })
    }

    /// Deletes a conversation and all it held; consoles drop it live.
    pub async fn delete_session(&self, bot_id: &str, session_id: i64, actor: &Actor) -> Result<()> {
        self.session(bot_id, session_id).await?;
        let delete = DeleteSession {
            session_id,
            actor: actor.clone(),
        };
        apply(self.store(), delete).await?;
        Ok(())
    }
}

struct DeleteSession {
    session_id: i64,
    actor: Actor,
}

#[async_trait::async_trait]
impl Change for DeleteSession {
    type Output = String;

    async fn apply(&self, tx: &mut dyn WriteTx) -> crate::store::Result<String> {
        let at = Clock::start().tick();
        steps::delete_session(tx, self.session_id, &self.actor, at).await
    }
}
