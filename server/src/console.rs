//! The engine as the console's port: what server functions reach through Leptos context.

use std::sync::Arc;

use app::error::AppError;
use app::model::{Message, SessionOverview, SessionPage, SessionQuery};
use app::port::ConsolePort;

use crate::engine::{Engine, EngineError};

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

    async fn sessions(&self, bot_id: &str, query: SessionQuery) -> Result<SessionPage, AppError> {
        self.engine.sessions(bot_id, &query).await.map_err(to_app)
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
}
