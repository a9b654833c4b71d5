//! Reading sessions and their messages for the console.

use leptos::prelude::*;

use super::client::CsrfClient;
use crate::error::AppError;
use crate::model::{Message, SessionCounts, SessionPage, SessionQuery};

#[server(prefix = "/fn", client = CsrfClient, endpoint = "bot_ids")]
pub async fn bot_ids() -> Result<Vec<String>, AppError> {
    let (port, viewer) = crate::port::signed_in()?;
    port.bot_ids(&viewer).await
}

#[server(prefix = "/fn", client = CsrfClient, endpoint = "list_sessions")]
pub async fn list_sessions(bot_id: String, query: SessionQuery) -> Result<SessionPage, AppError> {
    let (port, viewer) = crate::port::signed_in()?;
    port.sessions(&viewer, &bot_id, query).await
}

#[server(prefix = "/fn", client = CsrfClient, endpoint = "count_sessions")]
pub async fn count_sessions(
    bot_id: String,
    closed_since: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<SessionCounts, AppError> {
    let (port, viewer) = crate::port::signed_in()?;
    port.session_counts(&viewer, &bot_id, closed_since).await
}

#[server(prefix = "/fn", client = CsrfClient, endpoint = "list_messages")]
pub async fn list_messages(
    bot_id: String,
    session_id: i64,
    before: Option<i64>,
) -> Result<Vec<Message>, AppError> {
    let (port, viewer) = crate::port::signed_in()?;
    port.messages(&viewer, &bot_id, session_id, before).await
}

/// A session and its newest messages, for opening it in the console.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OpenedSession {
    pub session: crate::model::SessionOverview,
    pub messages: Vec<Message>,
}

#[server(prefix = "/fn", client = CsrfClient, endpoint = "open_session")]
pub async fn open_session(bot_id: String, session_id: i64) -> Result<OpenedSession, AppError> {
    let (port, viewer) = crate::port::signed_in()?;
    let session = port.session(&viewer, &bot_id, session_id).await?;
    let messages = port.messages(&viewer, &bot_id, session_id, None).await?;
    Ok(OpenedSession { session, messages })
}
