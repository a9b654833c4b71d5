//! What an agent does from the console: read, pause or resume, reply.

use leptos::prelude::*;

use super::client::CsrfClient;
use crate::error::AppError;
use crate::model::{Message, SessionOverview};

#[server(prefix = "/fn", client = CsrfClient, endpoint = "mark_session_read")]
pub async fn mark_session_read(
    bot_id: String,
    session_id: i64,
) -> Result<SessionOverview, AppError> {
    let (port, viewer) = crate::port::signed_in()?;
    port.mark_session_read(&viewer, &bot_id, session_id).await
}

#[server(prefix = "/fn", client = CsrfClient, endpoint = "set_paused")]
pub async fn set_paused(
    bot_id: String,
    session_id: i64,
    paused: bool,
) -> Result<SessionOverview, AppError> {
    let (port, viewer) = crate::port::signed_in()?;
    port.set_paused(&viewer, &bot_id, session_id, paused).await
}

#[server(prefix = "/fn", client = CsrfClient, endpoint = "send_reply")]
pub async fn send_reply(
    bot_id: String,
    session_id: i64,
    text: String,
) -> Result<Message, AppError> {
    let (port, viewer) = crate::port::signed_in()?;
    port.reply(&viewer, &bot_id, session_id, text).await
}
