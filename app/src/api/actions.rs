//! What an agent does from the console: read, pause or resume, claim or hand over, reply.

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
    last_seen: Option<i64>,
) -> Result<Message, AppError> {
    let (port, viewer) = crate::port::signed_in()?;
    port.reply(&viewer, &bot_id, session_id, text, last_seen)
        .await
}

#[server(prefix = "/fn", client = CsrfClient, endpoint = "claim_session")]
pub async fn claim_session(bot_id: String, session_id: i64) -> Result<SessionOverview, AppError> {
    let (port, viewer) = crate::port::signed_in()?;
    port.claim(&viewer, &bot_id, session_id).await
}

#[server(prefix = "/fn", client = CsrfClient, endpoint = "assign_session")]
pub async fn assign_session(
    bot_id: String,
    session_id: i64,
    user_id: i64,
    note: Option<String>,
) -> Result<SessionOverview, AppError> {
    let (port, viewer) = crate::port::signed_in()?;
    port.assign(&viewer, &bot_id, session_id, user_id, note)
        .await
}

#[server(prefix = "/fn", client = CsrfClient, endpoint = "take_over_session")]
pub async fn take_over_session(
    bot_id: String,
    session_id: i64,
) -> Result<SessionOverview, AppError> {
    let (port, viewer) = crate::port::signed_in()?;
    port.take_over(&viewer, &bot_id, session_id).await
}

#[server(prefix = "/fn", client = CsrfClient, endpoint = "keep_session")]
pub async fn keep_session(bot_id: String, session_id: i64) -> Result<SessionOverview, AppError> {
    let (port, viewer) = crate::port::signed_in()?;
    port.keep(&viewer, &bot_id, session_id).await
}

#[server(prefix = "/fn", client = CsrfClient, endpoint = "close_session")]
pub async fn close_session(
    bot_id: String,
    session_id: i64,
    resolved: bool,
    message: Option<String>,
) -> Result<SessionOverview, AppError> {
    let (port, viewer) = crate::port::signed_in()?;
    port.close(&viewer, &bot_id, session_id, resolved, message)
        .await
}

#[server(prefix = "/fn", client = CsrfClient, endpoint = "my_agent_info")]
pub async fn my_agent_info(bot_id: String) -> Result<crate::team::AgentInfo, AppError> {
    let (port, viewer) = crate::port::signed_in()?;
    port.me_as_agent(&viewer, &bot_id).await
}

#[server(prefix = "/fn", client = CsrfClient, endpoint = "set_my_status")]
pub async fn set_my_status(status: crate::team::AgentStatus) -> Result<(), AppError> {
    let (port, viewer) = crate::port::signed_in()?;
    port.choose_status(&viewer, status).await
}

#[server(prefix = "/fn", client = CsrfClient, endpoint = "bot_agents")]
pub async fn bot_agents(bot_id: String) -> Result<crate::team::AgentList, AppError> {
    let (port, viewer) = crate::port::signed_in()?;
    port.agents(&viewer, &bot_id).await
}
