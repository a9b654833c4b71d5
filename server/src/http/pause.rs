//! Pausing and resuming the bot: per session, per channel user, the old module's aliases, and
//! the bot-wide switch. Each answers after the change is stored.

use app::model::SessionOverview;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Extension, Router};
use serde::Deserialize;

use super::auth::Caller;
use super::extract::{Json, OptionalJson, Path, Query};
use super::{ApiError, AppState};
use crate::bots::WELCOME_BOT;
use crate::engine::Target;
use crate::store::SessionKey;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/bots/{bot_id}/mod/hitl/sessions/{id}/pause",
            post(sessions_pause),
        )
        .route(
            "/v1/bots/{bot_id}/mod/hitl/sessions/{id}/unpause",
            post(sessions_unpause),
        )
        .route(
            "/v1/bots/{bot_id}/mod/hitl/channel/{channel}/user/{user_id}/pause",
            post(users_pause),
        )
        .route(
            "/v1/bots/{bot_id}/mod/hitl/channel/{channel}/user/{user_id}/unpause",
            post(users_unpause),
        )
        .route("/botpress-hitl/sessions/{id}/pause", post(legacy_pause))
        .route("/botpress-hitl/sessions/{id}/unpause", post(legacy_unpause))
        .route("/v1/bots/{bot_id}/pause", post(bots_pause))
        .route("/v1/bots/{bot_id}/unpause", post(bots_unpause))
}

#[derive(Deserialize, Default)]
struct PauseRequest {
    reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ThreadQuery {
    thread_id: Option<String>,
}

async fn change(
    state: &AppState,
    caller: &Caller,
    bot_id: &str,
    target: Target,
    paused: bool,
    body: OptionalJson<PauseRequest>,
) -> Result<Json<SessionOverview>, ApiError> {
    let reason = body.0.unwrap_or_default().reason;
    Ok(Json(
        state
            .engine
            .set_paused(bot_id, target, paused, &caller.actor(), reason)
            .await?,
    ))
}

async fn sessions_pause(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((bot_id, id)): Path<(String, i64)>,
    body: OptionalJson<PauseRequest>,
) -> Result<Json<SessionOverview>, ApiError> {
    change(&state, &caller, &bot_id, Target::Id(id), true, body).await
}

async fn sessions_unpause(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((bot_id, id)): Path<(String, i64)>,
    body: OptionalJson<PauseRequest>,
) -> Result<Json<SessionOverview>, ApiError> {
    change(&state, &caller, &bot_id, Target::Id(id), false, body).await
}

fn user_target(bot_id: &str, channel: String, user_id: String, query: ThreadQuery) -> Target {
    Target::User(SessionKey {
        bot_id: bot_id.to_string(),
        channel,
        user_id,
        thread_id: query.thread_id.filter(|t| !t.is_empty()),
    })
}

async fn users_pause(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((bot_id, channel, user_id)): Path<(String, String, String)>,
    Query(query): Query<ThreadQuery>,
    body: OptionalJson<PauseRequest>,
) -> Result<Json<SessionOverview>, ApiError> {
    let target = user_target(&bot_id, channel, user_id, query);
    change(&state, &caller, &bot_id, target, true, body).await
}

async fn users_unpause(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((bot_id, channel, user_id)): Path<(String, String, String)>,
    Query(query): Query<ThreadQuery>,
    body: OptionalJson<PauseRequest>,
) -> Result<Json<SessionOverview>, ApiError> {
    let target = user_target(&bot_id, channel, user_id, query);
    change(&state, &caller, &bot_id, target, false, body).await
}

/// `/api/botpress-hitl/...`: the oldest module's paths, which knew one bot.
async fn legacy_pause(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    body: OptionalJson<PauseRequest>,
) -> Result<Json<SessionOverview>, ApiError> {
    legacy(&state, &caller, id, true, body).await
}

async fn legacy_unpause(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    body: OptionalJson<PauseRequest>,
) -> Result<Json<SessionOverview>, ApiError> {
    legacy(&state, &caller, id, false, body).await
}

/// The legacy paths name no bot, so the usual check on the path cannot see it: check here.
async fn legacy(
    state: &AppState,
    caller: &Caller,
    id: i64,
    paused: bool,
    body: OptionalJson<PauseRequest>,
) -> Result<Json<SessionOverview>, ApiError> {
    if !caller.may_work_on(WELCOME_BOT) {
        return Err(ApiError::Forbidden(format!(
            "you do not work on the bot {WELCOME_BOT}"
        )));
    }
    change(state, caller, WELCOME_BOT, Target::Id(id), paused, body).await
}

/// Switching a whole bot off is managing the bot: admins and API tokens of no person only.
fn may_manage_bots(caller: &Caller) -> Result<(), ApiError> {
    caller.must_be_admin("switch a whole bot on or off")
}

async fn bots_pause(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(bot_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    may_manage_bots(&caller)?;
    state
        .engine
        .set_bot_paused(&bot_id, true, &caller.actor())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn bots_unpause(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(bot_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    may_manage_bots(&caller)?;
    state
        .engine
        .set_bot_paused(&bot_id, false, &caller.actor())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
