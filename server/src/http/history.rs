//! History review for admins and tools: search over every message, transcripts, the audit log,
//! and deleting a conversation on request.

use app::account::{AuditQuery, AuditRecord};
use app::history::{HistoryPage, HistoryQuery, Transcript};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Extension, Router};
use serde::Serialize;

use super::auth::Caller;
use super::extract::{Json, Path, Query};
use super::{ApiError, AppState};

const AUDIT_PAGE: u32 = 100;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/history/search", get(history_search))
        .route("/v1/audit", get(audit_index))
        .route(
            "/v1/bots/{bot_id}/mod/hitl/sessions/{id}/transcript",
            get(sessions_transcript),
        )
        .route(
            "/v1/bots/{bot_id}/mod/hitl/sessions/{id}",
            axum::routing::delete(sessions_delete),
        )
}

/// A search among the bots the caller works on; naming another bot is refused.
async fn history_search(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<HistoryQuery>,
) -> Result<Json<HistoryPage>, ApiError> {
    if let Some(bot) = query.bot_id.as_deref().filter(|b| !b.is_empty()) {
        if !caller.may_work_on(bot) {
            return Err(ApiError::Forbidden(format!("no access to bot {bot}")));
        }
    }
    Ok(Json(state.engine.search(&caller.scope(), query).await?))
}

async fn sessions_transcript(
    State(state): State<AppState>,
    Path((bot_id, id)): Path<(String, i64)>,
) -> Result<Json<Transcript>, ApiError> {
    Ok(Json(state.engine.transcript(&bot_id, id).await?))
}

/// Deleting a conversation is an admin's decision (or a script's with a token for the bot).
async fn sessions_delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((bot_id, id)): Path<(String, i64)>,
) -> Result<StatusCode, ApiError> {
    caller.must_be_admin("delete conversations")?;
    state
        .engine
        .delete_session(&bot_id, id, &caller.audit_name())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AuditPage {
    entries: Vec<AuditRecord>,
    next_cursor: Option<String>,
}

/// The audit log (admins and tokens for every bot), newest first, `cursor` from the last page.
async fn audit_index(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<AuditParams>,
) -> Result<Json<AuditPage>, ApiError> {
    caller.must_be_admin("read the audit log")?;
    if !matches!(caller.scope(), crate::store::BotScope::All) {
        return Err(ApiError::Forbidden(
            "the audit log needs a token for every bot".into(),
        ));
    }
    let before = match query.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => Some(
            c.parse::<i64>()
                .map_err(|_| ApiError::Unprocessable("invalid cursor".into()))?,
        ),
        None => None,
    };
    let audit = AuditQuery {
        before,
        action: query.action,
        actor: query.actor,
        bot_id: query.bot_id,
    };
    let entries = state
        .auth
        .accounts
        .store()
        .audit_log(&audit, AUDIT_PAGE)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let next_cursor = (entries.len() == AUDIT_PAGE as usize)
        .then(|| entries.last().map(|e| e.id.to_string()))
        .flatten();
    Ok(Json(AuditPage {
        entries,
        next_cursor,
    }))
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuditParams {
    #[serde(default)]
    cursor: Option<String>,
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    actor: Option<String>,
    #[serde(default)]
    bot_id: Option<String>,
}
