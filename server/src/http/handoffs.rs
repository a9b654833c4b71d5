//! Owning a conversation: claim it, assign it to an agent of the bot, or take it over (admins).

use app::model::SessionOverview;
use axum::extract::State;
use axum::routing::post;
use axum::{Extension, Router};
use serde::Deserialize;

use super::auth::Caller;
use super::extract::{Json, Path};
use super::{ApiError, AppState};
use crate::engine::close::Ending;
use crate::engine::AssignRight;
use crate::team;

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
        .route(
            "/v1/bots/{bot_id}/mod/hitl/sessions/{id}/takeover",
            post(sessions_take_over),
        )
        .route(
            "/v1/bots/{bot_id}/mod/hitl/sessions/{id}/keep",
            post(sessions_keep),
        )
        .route(
            "/v1/bots/{bot_id}/mod/hitl/sessions/{id}/close",
            post(sessions_close),
        )
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum CloseReason {
    #[default]
    ReturnedToBot,
    Resolved,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CloseRequest {
    #[serde(default)]
    reason: CloseReason,
    message: Option<String>,
}

async fn sessions_close(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((bot_id, id)): Path<(String, i64)>,
    Json(body): Json<CloseRequest>,
) -> Result<Json<SessionOverview>, ApiError> {
    let ending = match body.reason {
        CloseReason::ReturnedToBot => Ending::ReturnToBot,
        CloseReason::Resolved => Ending::Resolved,
    };
    let right = right_of(&caller);
    Ok(Json(
        state
            .engine
            .close_handoff(&bot_id, id, &caller.actor(), right, ending, body.message)
            .await?,
    ))
}

/// Admins may act on anything; a person on what they own; a token of nobody acts as today's
/// full-rights token.
fn right_of(caller: &Caller) -> AssignRight {
    match caller.person() {
        Some(viewer) if !viewer.is_admin() => AssignRight::OwnerOnly,
        _ => AssignRight::Admin,
    }
}

async fn sessions_keep(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((bot_id, id)): Path<(String, i64)>,
) -> Result<Json<SessionOverview>, ApiError> {
    let right = right_of(&caller);
    Ok(Json(
        state
            .engine
            .keep(&bot_id, id, &caller.actor(), right)
            .await?,
    ))
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
    let to = team::assignee(&state.auth.accounts, &bot_id, body.user_id).await?;
    let right = right_of(&caller);
    Ok(Json(
        state
            .engine
            .assign(&bot_id, id, to, &caller.actor(), right, body.note)
            .await?,
    ))
}

async fn sessions_take_over(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((bot_id, id)): Path<(String, i64)>,
) -> Result<Json<SessionOverview>, ApiError> {
    match caller.person() {
        Some(viewer) if viewer.is_admin() => {}
        Some(_) => {
            return Err(ApiError::Forbidden(
                "only an admin may take a conversation over".into(),
            ))
        }
        None => {
            return Err(ApiError::Forbidden(
                "only a person can take a conversation (this token belongs to nobody)".into(),
            ))
        }
    }
    Ok(Json(
        state.engine.take_over(&bot_id, id, &caller.actor()).await?,
    ))
}
