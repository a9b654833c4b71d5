//! The team: each person's status (`PUT /v1/me/status`), an agent's capacity (admins), and the
//! agents of a bot with their status, load and capacity.

use app::team::{AgentList, AgentStatus};
use axum::extract::State;
use axum::routing::{get, put};
use axum::{Extension, Router};
use serde::{Deserialize, Serialize};

use super::auth::Caller;
use super::extract::{Json, Path};
use super::{ApiError, AppState};
use crate::team;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/me/status", put(me_status))
        .route("/v1/agents/{user_id}/capacity", put(agent_capacity))
        .route("/v1/bots/{bot_id}/agents", get(bot_agents))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusBody {
    status: AgentStatus,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StatusAnswer {
    status: AgentStatus,
}

async fn me_status(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Json(body): Json<StatusBody>,
) -> Result<Json<StatusAnswer>, ApiError> {
    let viewer = caller.person().ok_or_else(|| {
        ApiError::Forbidden("only a person has a status (this token belongs to nobody)".into())
    })?;
    state.engine.choose_status(viewer, body.status).await?;
    Ok(Json(StatusAnswer {
        status: body.status,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CapacityBody {
    /// `null`: the bot's capacity.
    capacity: Option<i64>,
}

#[derive(Serialize)]
struct CapacityAnswer {
    capacity: Option<i64>,
}

async fn agent_capacity(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(user_id): Path<i64>,
    Json(body): Json<CapacityBody>,
) -> Result<Json<CapacityAnswer>, ApiError> {
    let manager = caller.account_manager()?;
    let user = state
        .auth
        .accounts
        .store()
        .user(user_id)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .ok_or(ApiError::NotFound("user"))?;
    state
        .engine
        .set_capacity(&manager.actor, &user.viewer, body.capacity)
        .await?;
    Ok(Json(CapacityAnswer {
        capacity: body.capacity,
    }))
}

async fn bot_agents(
    State(state): State<AppState>,
    Path(bot_id): Path<String>,
) -> Result<Json<AgentList>, ApiError> {
    Ok(Json(
        team::agents(&state.auth.accounts, &state.engine, &bot_id).await?,
    ))
}
