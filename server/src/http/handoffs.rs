//! Owning a conversation: claim it, or assign it to an agent of the bot.

use app::model::{Assignee, SessionOverview};
use axum::extract::State;
use axum::routing::post;
use axum::{Extension, Router};
use serde::Deserialize;

use super::auth::Caller;
use super::extract::{Json, Path};
use super::{ApiError, AppState};
use crate::engine::AssignRight;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/bots/{bot_id}/mod/hitl/sessions/{id}/claim",
            post(sessions_claim),
        )
        .route(
            "/v1/bots/{bot_id}/mod/hitl/sessions/{id}/assign",
            post(sessions_assign),
        )
}

async fn sessions_claim(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((bot_id, id)): Path<(String, i64)>,
) -> Result<Json<SessionOverview>, ApiError> {
    Ok(Json(
        state.engine.claim(&bot_id, id, &caller.actor()).await?,
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AssignRequest {
    user_id: i64,
    note: Option<String>,
}

async fn sessions_assign(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((bot_id, id)): Path<(String, i64)>,
    Json(body): Json<AssignRequest>,
) -> Result<Json<SessionOverview>, ApiError> {
    let user = state
        .auth
        .accounts
        .store()
        .user(body.user_id)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .filter(|u| u.active)
        .ok_or(ApiError::NotFound("user"))?;
    if !user.viewer.may_work_on(&bot_id) {
        return Err(ApiError::Unprocessable(format!(
            "{} does not work on the bot {bot_id}",
            user.viewer.name
        )));
    }
    // Admins assign anything; a person hands over what they own; a token of nobody acts as
    // today's full-rights token.
    let right = match caller.person() {
        Some(viewer) if !viewer.is_admin() => AssignRight::OwnerOnly,
        _ => AssignRight::Admin,
    };
    let to = Assignee {
        id: user.viewer.id,
        name: user.viewer.name.clone(),
    };
    Ok(Json(
        state
            .engine
            .assign(&bot_id, id, to, &caller.actor(), right, body.note)
            .await?,
    ))
}
