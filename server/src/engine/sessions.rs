//! Conversations as agents read them, and the changes reading brings (unread counts, profiles).

use app::model::{Message, Profile, SessionCounts, SessionOverview, SessionPage, SessionQuery};

use super::clock::Clock;
use super::{steps, Engine, EngineError, Result};
use crate::store::write::{apply, Change, WriteTx};
use crate::store::{ListFor, SessionKey};

impl Engine {
    /// A page of the bot's session list as `viewer` (the person asking, if any) sees it.
    pub async fn sessions(
        &self,
        bot_id: &str,
        query: &SessionQuery,
        viewer: Option<i64>,
    ) -> Result<SessionPage> {
        self.bot(bot_id)?;
        let asking = ListFor {
            viewer,
            closed_since: query.closed_since_or(chrono::Utc::now()),
        };
        Ok(self.store.sessions(bot_id, query, &asking).await?)
    }

    pub async fn session(&self, bot_id: &str, session_id: i64) -> Result<SessionOverview> {
        self.bot(bot_id)?;
        self.store
            .session(bot_id, session_id)
            .await?
            .ok_or(EngineError::NotFound("session"))
    }

    pub async fn session_counts(
        &self,
        bot_id: &str,
        closed_since: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<SessionCounts> {
        self.bot(bot_id)?;
        Ok(self.store.session_counts(bot_id, closed_since).await?)
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

    /// An agent has seen the session's messages: its unread count goes back to zero.
    pub async fn mark_session_read(
        &self,
        bot_id: &str,
        session_id: i64,
    ) -> Result<SessionOverview> {
        let session = self.session(bot_id, session_id).await?;
        let read = apply(self.store(), MarkRead { session_id }).await?;
        Ok(read.unwrap_or(session))
    }

    /// Takes a newer profile (name, picture) the channel gave outside a message.
    pub async fn update_profile(
        &self,
        bot_id: &str,
        session_id: i64,
        profile: &Profile,
    ) -> Result<()> {
        self.session(bot_id, session_id).await?;
        let update = UpdateProfile {
            session_id,
            profile: profile.clone(),
        };
        apply(self.store(), update).await?;
        Ok(())
    }
}

struct MarkRead {
    session_id: i64,
}

#[async_trait::async_trait]
impl Change for MarkRead {
    type Output = Option<SessionOverview>;

    async fn apply(&self, tx: &mut dyn WriteTx) -> crate::store::Result<Self::Output> {
        steps::mark_read(tx, self.session_id, Clock::start().tick()).await
    }
}

struct UpdateProfile {
    session_id: i64,
    profile: Profile,
}

#[async_trait::async_trait]
impl Change for UpdateProfile {
    type Output = Option<SessionOverview>;

    async fn apply(&self, tx: &mut dyn WriteTx) -> crate::store::Result<Self::Output> {
        let at = Clock::start().tick();
        steps::update_profile(tx, self.session_id, &self.profile, at).await
    }
}
