//! Sessions for agents and tools: list, show, history, agent reply.
//! Under `/v1/bots/{botId}/mod/hitl/sessions`.

use app::model::{Message, SessionCounts, SessionOverview, SessionPage, SessionQuery};
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde::{Deserialize, Serialize};

use super::auth::Caller;
use super::extract::{Json, Path, Query};
use super::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/bots/{bot_id}/mod/hitl/sessions", get(sessions_index))
        .route(
            "/v1/bots/{bot_id}/mod/hitl/sessions/counts",
            get(sessions_counts),
        )
        .route(
            "/v1/bots/{bot_id}/mod/hitl/sessions/{id}/read",
            post(sessions_read),
        )
        .route(
            "/v1/bots/{bot_id}/mod/hitl/sessions/{id}",
            get(sessions_show),
        )
        .route(
            "/v1/bots/{bot_id}/mod/hitl/sessions/{id}/messages",
            get(sessions_messages),
        )
        .route(
            "/v1/bots/{bot_id}/mod/hitl/sessions/{id}/message",
            post(sessions_reply),
        )
}

async fn sessions_index(
    State(state): State<AppState>,
    Path(bot_id): Path<String>,
    Query(query): Query<SessionQuery>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<SessionPage>, ApiError> {
    let viewer = caller.person().map(|p| p.id);
    Ok(Json(state.engine.sessions(&bot_id, &query, viewer).await?))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CountsQuery {
    closed_since: Option<chrono::DateTime<chrono::Utc>>,
}

async fn sessions_counts(
    State(state): State<AppState>,
    Path(bot_id): Path<String>,
    Query(query): Query<CountsQuery>,
) -> Result<Json<SessionCounts>, ApiError> {
    Ok(Json(
        state
            .engine
            .session_counts(&bot_id, query.closed_since)
            .await?,
    ))
}

async fn sessions_read(
    State(state): State<AppState>,
    Path((bot_id, id)): Path<(String, i64)>,
) -> Result<Json<SessionOverview>, ApiError> {
    Ok(Json(state.engine.mark_session_read(&bot_id, id).await?))
}

async fn sessions_show(
    State(state): State<AppState>,
    Path((bot_id, id)): Path<(String, i64)>,
) -> Result<Json<SessionOverview>, ApiError> {
    Ok(Json(state.engine.session(&bot_id, id).await?))
}

#[derive(Deserialize)]
struct MessagesQuery {
    before: Option<i64>,
    limit: Option<u32>,
}

#[derive(Serialize)]
struct MessagesPage {
    messages: Vec<Message>,
}

async fn sessions_messages(
    State(state): State<AppState>,
    Path((bot_id, id)): Path<(String, i64)>,
    Query(query): Query<MessagesQuery>,
) -> Result<Json<MessagesPage>, ApiError> {
    let messages = state
        .engine
        .messages(&bot_id, id, query.before, query.limit.unwrap_or(0))
        .await?;
    Ok(Json(MessagesPage { messages }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReplyRequest {
    message: String,
    /// The last message the agent saw: a reply is refused when the user or another agent wrote
    /// since.
    last_seen_message_id: Option<i64>,
}

async fn sessions_reply(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((bot_id, id)): Path<(String, i64)>,
    Json(request): Json<ReplyRequest>,
) -> Result<Json<Message>, ApiError> {
    Ok(Json(
        state
            .engine
            .agent_reply(
                &bot_id,
                id,
                &request.message,
                &caller.actor(),
                request.last_seen_message_id,
            )
            .await?,
    ))
}
