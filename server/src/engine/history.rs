//! History review: search, transcripts, and deleting a conversation on request.

use app::history::{time_range, HistoryPage, HistoryQuery, Transcript};

use app::model::Actor;

use super::clock::Clock;
use super::{steps, Engine, EngineError, Result};
use crate::store::history::{ExportStream, Search};
use crate::store::write::{apply, Change, WriteTx};
use crate::store::BotScope;

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

    /// Every conversation matching the search, streamed for an export.
    pub fn export(&self, scope: &BotScope, query: HistoryQuery) -> Result<ExportStream> {
        let search = self.search_of(query)?;
        Ok(self.store.export(scope, &search))
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
        Ok(self.store.analytics(bot_id, from, to).await?)
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
