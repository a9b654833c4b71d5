//! Outbound messages from bots and backends to a user on any channel, outside a conversation
//! turn: `POST /v1/bots/{botId}/mod/hitl/channel/{channel}/user/{userId}/messages`.

use app::model::{Content, Message};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use serde::Deserialize;

use super::extract::{Json, Path, Query};
use super::{ApiError, AppState};
use crate::store::SessionKey;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/v1/bots/{bot_id}/mod/hitl/channel/{channel}/user/{user_id}/messages",
        post(users_message),
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ThreadQuery {
    thread_id: Option<String>,
}

/// A bot or backend sends a message to a user on any channel (recorded as `source: bot`).
async fn users_message(
    State(state): State<AppState>,
    Path((bot_id, channel, user_id)): Path<(String, String, String)>,
    Query(query): Query<ThreadQuery>,
    Json(content): Json<Content>,
) -> Result<(StatusCode, Json<Message>), ApiError> {
    let key = SessionKey {
        bot_id,
        channel,
        user_id,
        thread_id: query.thread_id.filter(|t| !t.is_empty()),
    };
    let message = state.engine.bot_sends(&key, content).await?;
    Ok((StatusCode::CREATED, Json(message)))
}
