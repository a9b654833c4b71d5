//! What an agent does from the console: read, pause or resume, reply.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{Message, SessionOverview};

#[server]
pub async fn mark_session_read(
    bot_id: String,
    session_id: i64,
) -> Result<SessionOverview, AppError> {
    crate::port::port()?
        .mark_session_read(&bot_id, session_id)
        .await
}

#[server]
pub async fn set_paused(
    bot_id: String,
    session_id: i64,
    paused: bool,
) -> Result<SessionOverview, AppError> {
    crate::port::port()?
        .set_paused(&bot_id, session_id, paused)
        .await
}

#[server]
pub async fn send_reply(
    bot_id: String,
    session_id: i64,
    text: String,
) -> Result<Message, AppError> {
    crate::port::port()?.reply(&bot_id, session_id, text).await
}
