//! The Converse API: a plain HTTP channel with synchronous replies.
//! `POST /v1/bots/{botId}/converse/{userId}` sends; `GET …/messages?after=` fetches later answers.

use app::model::{Content, Message, Profile};
use axum::extract::State;
use axum::routing::{get, post};
use axum::Router;
use serde::{Deserialize, Serialize};

use super::extract::{Json, Path, Query};
use super::{ApiError, AppState};
use crate::engine::Incoming;
use crate::store::SessionKey;

/// The channel name of sessions started through the Converse API.
pub const CHANNEL: &str = "api";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/bots/{bot_id}/converse/{user_id}", post(converse_send))
        .route(
            "/v1/bots/{bot_id}/converse/{user_id}/messages",
            get(converse_messages),
        )
}

#[derive(Deserialize)]
struct ConverseRequest {
    #[serde(flatten)]
    content: Content,
    #[serde(default)]
    user: Option<Profile>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConverseResponse {
    responses: Vec<Content>,
    paused: bool,
    session_id: i64,
    message_id: i64,
    /// Who has the conversation: `null` while the bot runs it.
    handoff: Option<app::model::Handoff>,
}

async fn converse_send(
    State(state): State<AppState>,
    Path((bot_id, user_id)): Path<(String, String)>,
    Json(request): Json<ConverseRequest>,
) -> Result<Json<ConverseResponse>, ApiError> {
    if user_id.trim().is_empty() || user_id.len() > 256 {
        return Err(ApiError::Unprocessable(
            "userId must be 1 to 256 characters".into(),
        ));
    }
    let outcome = state
        .engine
        .receive(Incoming {
            key: SessionKey {
                bot_id,
                channel: CHANNEL.into(),
                user_id,
                thread_id: None,
            },
            profile: request.user.unwrap_or_default(),
            content: request.content,
        })
        .await?;
    Ok(Json(ConverseResponse {
        responses: outcome.responses,
        paused: outcome.paused,
        session_id: outcome.session.id,
        message_id: outcome.message.id,
        handoff: outcome.session.handoff,
    }))
}

#[derive(Deserialize)]
struct AfterQuery {
    #[serde(default)]
    after: i64,
    limit: Option<u32>,
}

#[derive(Serialize)]
struct MessageList {
    messages: Vec<Message>,
}

/// What was sent to a Converse user after the message `after`: answers that came later, such as
/// an agent's replies.
async fn converse_messages(
    State(state): State<AppState>,
    Path((bot_id, user_id)): Path<(String, String)>,
    Query(query): Query<AfterQuery>,
) -> Result<Json<MessageList>, ApiError> {
    let key = SessionKey {
        bot_id,
        channel: CHANNEL.into(),
        user_id,
        thread_id: None,
    };
    let messages = state
        .engine
        .outgoing_after(&key, query.after, query.limit.unwrap_or(0))
        .await?;
    Ok(Json(MessageList { messages }))
}
