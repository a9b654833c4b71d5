//! Reading sessions and their messages for the console.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{Message, SessionPage, SessionQuery};

#[server]
pub async fn bot_ids() -> Result<Vec<String>, AppError> {
    crate::port::port()?.bot_ids().await
}

#[server]
pub async fn list_sessions(bot_id: String, query: SessionQuery) -> Result<SessionPage, AppError> {
    crate::port::port()?.sessions(&bot_id, query).await
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
