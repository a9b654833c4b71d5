//! The engine as the console's port: what server functions reach through Leptos context.

use std::sync::Arc;

use app::error::AppError;
use app::model::{
    Message, Notification, NotificationList, SessionCounts, SessionOverview, SessionPage,
    SessionQuery,
};
use app::port::ConsolePort;

use crate::engine::{Engine, EngineError, Target};

/// Who the console acts as until accounts exist.
pub const CONSOLE_ACTOR: &str = "agent";

/// The newest notifications the bell shows.
const BELL_SIZE: u32 = 30;

pub struct EnginePort {
    engine: Arc<Engine>,
}

impl EnginePort {
    pub fn new(engine: Arc<Engine>) -> Self {
        EnginePort { engine }
    }
}

fn to_app(e: EngineError) -> AppError {
    match e {
        EngineError::NotFound(what) => AppError::NotFound(what.to_string()),
        EngineError::Invalid(message) => AppError::Invalid(message),
        EngineError::Store(e) => {
            tracing::error!(error = %e, "console request failed");
            AppError::Internal
        }
    }
}

#[async_trait::async_trait]
impl ConsolePort for EnginePort {
    async fn bot_ids(&self) -> Result<Vec<String>, AppError> {
        Ok(self.engine.bot_ids())
    }

    async fn bot_name(&self, bot_id: &str) -> Result<String, AppError> {
        Ok(self.engine.bot(bot_id).map_err(to_app)?.name.clone())
    }

    async fn sessions(&self, bot_id: &str, query: SessionQuery) -> Result<SessionPage, AppError> {
        self.engine.sessions(bot_id, &query).await.map_err(to_app)
    }

    async fn session_counts(&self, bot_id: &str) -> Result<SessionCounts, AppError> {
        self.engine.session_counts(bot_id).await.map_err(to_app)
    }

    async fn session(&self, bot_id: &str, session_id: i64) -> Result<SessionOverview, AppError> {
        self.engine
            .session(bot_id, session_id)
            .await
            .map_err(to_app)
    }

    async fn messages(
        &self,
        bot_id: &str,
        session_id: i64,
        before: Option<i64>,
    ) -> Result<Vec<Message>, AppError> {
        self.engine
            .messages(bot_id, session_id, before, 0)
            .await
            .map_err(to_app)
    }

    async fn mark_session_read(
        &self,
        bot_id: &str,
        session_id: i64,
    ) -> Result<SessionOverview, AppError> {
        self.engine
            .mark_session_read(bot_id, session_id)
            .await
            .map_err(to_app)
    }

    async fn set_paused(
        &self,
        bot_id: &str,
        session_id: i64,
        paused: bool,
    ) -> Result<SessionOverview, AppError> {
        self.engine
            .set_paused(bot_id, Target::Id(session_id), paused, CONSOLE_ACTOR, None)
            .await
            .map_err(to_app)
    }

    async fn reply(
        &self,
        bot_id: &str,
        session_id: i64,
        text: String,
    ) -> Result<Message, AppError> {
        self.engine
            .agent_reply(bot_id, session_id, &text, CONSOLE_ACTOR)
            .await
            .map_err(to_app)
    }

    async fn notifications(&self) -> Result<NotificationList, AppError> {
        let page = self
            .engine
            .notifications(false, None, BELL_SIZE)
            .await
            .map_err(to_app)?;
        Ok(NotificationList {
            notifications: page.notifications,
            unread_count: page.unread_count,
        })
    }

    async fn read_notification(&self, id: i64) -> Result<Notification, AppError> {
        self.engine.mark_notification_read(id).await.map_err(to_app)
    }

    async fn read_all_notifications(&self) -> Result<(), AppError> {
        self.engine
            .mark_all_notifications_read()
            .await
            .map(|_| ())
            .map_err(to_app)
    }
}
