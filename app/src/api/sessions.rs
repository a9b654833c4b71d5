//! Reading sessions and their messages for the console.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{Message, SessionCounts, SessionPage, SessionQuery};

#[server]
pub async fn bot_ids() -> Result<Vec<String>, AppError> {
    crate::port::port()?.bot_ids().await
}

#[server]
pub async fn list_sessions(bot_id: String, query: SessionQuery) -> Result<SessionPage, AppError> {
    crate::port::port()?.sessions(&bot_id, query).await
}

#[server]
pub async fn count_sessions(bot_id: String) -> Result<SessionCounts, AppError> {
    crate::port::port()?.session_counts(&bot_id).await
}

#[server]
pub async fn list_messages(
    bot_id: String,
    session_id: i64,
    before: Option<i64>,
) -> Result<Vec<Message>, AppError> {
    crate::port::port()?
        .messages(&bot_id, session_id, before)
        .await
}

/// A session and its newest messages, for opening it in the console.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OpenedSession {
    pub session: crate::model::SessionOverview,
    pub messages: Vec<Message>,
}

#[server]
pub async fn open_session(bot_id: String, session_id: i64) -> Result<OpenedSession, AppError> {
    let port = crate::port::port()?;
    let session = port.session(&bot_id, session_id).await?;
    let messages = port.messages(&bot_id, session_id, None).await?;
    Ok(OpenedSession { session, messages })
}
