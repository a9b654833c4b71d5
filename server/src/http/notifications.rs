//! Notifications: bots create them, agents list them and mark them read.

use app::model::{Level, Notification};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde::{Deserialize, Serialize};

use super::auth::Caller;
use super::extract::{Json, Path, Query};
use super::{ApiError, AppState};
use crate::store::NewNotification;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/bots/{bot_id}/notifications",
            post(notifications_create),
        )
        .route("/v1/notifications", get(notifications_index))
        .route("/v1/notifications/{id}/read", post(notifications_read))
        .route("/v1/notifications/read", post(notifications_read_all))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateRequest {
    message: String,
    #[serde(default = "default_level")]
    level: Level,
    url: Option<String>,
    session_id: Option<i64>,
}

fn default_level() -> Level {
    Level::Info
}

async fn notifications_create(
    State(state): State<AppState>,
    Path(bot_id): Path<String>,
    Json(request): Json<CreateRequest>,
) -> Result<(StatusCode, Json<Notification>), ApiError> {
    if let Some(session_id) = request.session_id {
        state.engine.session(&bot_id, session_id).await?;
    }
    let new = NewNotification {
        message: request.message,
        level: request.level,
        url: request.url,
        session_id: request.session_id,
        recipient_id: None,
    };
    let notification = state.engine.notify(&bot_id, new).await?;
    Ok((StatusCode::CREATED, Json(notification)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IndexQuery {
    #[serde(default)]
    unread: bool,
    cursor: Option<i64>,
    limit: Option<u32>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct IndexResponse {
    notifications: Vec<Notification>,
    next_cursor: Option<i64>,
    unread_count: i64,
}

async fn notifications_index(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<IndexQuery>,
) -> Result<Json<IndexResponse>, ApiError> {
    let page = state
        .engine
        .notifications(
            &caller.reader(),
            query.unread,
            query.cursor,
            query.limit.unwrap_or(50),
        )
        .await?;
    Ok(Json(IndexResponse {
        notifications: page.notifications,
        next_cursor: page.next_cursor,
        unread_count: page.unread_count,
    }))
}

async fn notifications_read(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
) -> Result<Json<Notification>, ApiError> {
    Ok(Json(
        state
            .engine
            .mark_notification_read(&caller.reader(), id)
            .await?,
    ))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReadAllResponse {
    marked_read: u64,
}

async fn notifications_read_all(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<ReadAllResponse>, ApiError> {
    let marked_read = state
        .engine
        .mark_all_notifications_read(&caller.reader())
        .await?;
    Ok(Json(ReadAllResponse { marked_read }))
}
