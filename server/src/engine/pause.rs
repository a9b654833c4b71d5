//! Pausing and resuming the bot for one conversation.

use app::model::SessionOverview;

use super::{Engine, Result};
use crate::store::{ActorKind, PauseChange, SessionKey};

/// Which session a pause or resume is for.
#[derive(Debug, Clone)]
pub enum Target {
    Id(i64),
    User(SessionKey),
}

impl Engine {
    /// Pauses (`paused = true`) or resumes a session; idempotent. Answers with the session as
    /// stored after the change.
    pub async fn set_paused(
        &self,
        bot_id: &str,
        target: Target,
        paused: bool,
        actor: (&str, ActorKind),
        reason: Option<String>,
    ) -> Result<SessionOverview> {
        let session_id = match target {
            Target::Id(id) => self.session(bot_id, id).await?.id,
            Target::User(key) => self.session_by_key(&key).await?.id,
        };
        self.pause_session(bot_id, session_id, paused, actor, reason)
            .await
    }

    pub(super) async fn pause_session(
        &self,
        bot_id: &str,
        session_id: i64,
        paused: bool,
        (actor, kind): (&str, ActorKind),
        reason: Option<String>,
    ) -> Result<SessionOverview> {
        let change = pause_change(paused, (actor, kind), reason);
        self.bot(bot_id)?;
        Ok(self.store.set_paused(session_id, &change).await?.session)
    }
}

/// A pause or resume as stored: a blank reason is no reason.
pub(super) fn pause_change(
    paused: bool,
    (actor, kind): (&str, ActorKind),
    reason: Option<String>,
) -> PauseChange {
    PauseChange {
        paused,
        actor: actor.to_string(),
        kind,
        reason: reason
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty()),
    }
}
