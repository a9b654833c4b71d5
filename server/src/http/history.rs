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
use super::export;
use super::extract::{Json, Path, Query};
use super::{ApiError, AppState};

const AUDIT_PAGE: u32 = 100;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/history/search", get(history_search))
        .route("/v1/history/export", get(history_export))
        .route("/v1/audit", get(audit_index))
        .route(
            "/v1/bots/{bot_id}/settings",
            get(settings_show).put(settings_update),
        )
        .route("/v1/retention/run", axum::routing::post(retention_run))
        .route("/v1/bots/{bot_id}/analytics", get(bots_analytics))
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
        .delete_session(&bot_id, id, &caller.audit_actor())
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
        actor_kind: query.actor_kind,
        actor_id: query.actor_id,
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
    actor_kind: Option<app::model::ActorKind>,
    #[serde(default)]
    actor_id: Option<i64>,
    #[serde(default)]
    bot_id: Option<String>,
}

/// What an export is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
enum Format {
    Jsonl,
    Csv,
}

#[derive(serde::Deserialize)]
struct ExportFormat {
    format: Format,
}

/// Streams every conversation matching the filters (or `sessionId`) as JSON Lines or CSV, one
/// message a line, with its segment and handoff marks. Admins only; written to the audit log.
async fn history_export(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(ExportFormat { format }): Query<ExportFormat>,
    Query(query): Query<HistoryQuery>,
) -> Result<axum::response::Response, ApiError> {
    use axum::http::header;
    use futures::StreamExt;

    caller.must_be_admin("export the history")?;
    if let Some(bot) = query.bot_id.as_deref().filter(|b| !b.is_empty()) {
        if !caller.may_work_on(bot) {
            return Err(ApiError::Forbidden(format!("no access to bot {bot}")));
        }
    }
    let detail = serde_json::to_string(&query).unwrap_or_default();
    let rows = state.engine.export(&caller.scope(), query)?;
    state
        .auth
        .accounts
        .audit(
            Some(&caller.audit_actor()),
            "history.exported",
            detail,
            None,
        )
        .await;
    let (content_type, extension, head) = match format {
        Format::Jsonl => ("application/x-ndjson", "jsonl", None),
        Format::Csv => ("text/csv; charset=utf-8", "csv", Some(export::csv_header())),
    };
    let lines = rows.map(move |row| match row {
        Ok(row) => Ok(match format {
            Format::Jsonl => export::jsonl_line(&row),
            Format::Csv => export::csv_line(&row),
        }),
        Err(e) => {
            // The client sees a cut-off file; the log says why.
            tracing::error!(error = %e, "export failed");
            Err(std::io::Error::other("export failed"))
        }
    });
    let body = futures::stream::iter(head.map(Ok)).chain(lines);
    let name = format!(
        "attachment; filename=\"hitl-history-{}.{extension}\"",
        chrono::Utc::now().format("%Y%m%d-%H%M%S")
    );
    axum::response::Response::builder()
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CONTENT_DISPOSITION, name)
        .body(axum::body::Body::from_stream(body))
        .map_err(|e| ApiError::Internal(e.to_string()))
}

#[derive(Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct BotSettings {
    /// Conversations idle for longer are deleted; `null` keeps them for ever.
    retention_days: Option<u32>,
}

async fn settings_show(
    State(state): State<AppState>,
    Path(bot_id): Path<String>,
) -> Result<Json<BotSettings>, ApiError> {
    let retention_days = state.engine.retention_days(&bot_id).await?;
    Ok(Json(BotSettings { retention_days }))
}

async fn settings_update(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(bot_id): Path<String>,
    Json(settings): Json<BotSettings>,
) -> Result<Json<BotSettings>, ApiError> {
    caller.must_be_admin("change a bot's settings")?;
    state
        .engine
        .set_retention_days(&bot_id, settings.retention_days, &caller.audit_actor())
        .await?;
    settings_show(State(state), Path(bot_id)).await
}

#[derive(Serialize)]
struct RetentionRun {
    deleted: usize,
}

/// Applies every bot's retention now (it also runs on its own every hour).
async fn retention_run(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<RetentionRun>, ApiError> {
    caller.must_be_admin("run the retention")?;
    if !matches!(caller.scope(), crate::store::BotScope::All) {
        return Err(ApiError::Forbidden(
            "retention needs a token for every bot".into(),
        ));
    }
    let now = chrono::Utc::now().timestamp_millis();
    let deleted = state.engine.apply_retention(now).await?;
    Ok(Json(RetentionRun { deleted }))
}

#[derive(serde::Deserialize)]
struct Range {
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
}

/// Per day and in all: conversations, messages by source, handoffs, time to the first agent
/// reply and to the return, who returned them.
async fn bots_analytics(
    State(state): State<AppState>,
    Path(bot_id): Path<String>,
    Query(range): Query<Range>,
) -> Result<Json<app::analytics::Analytics>, ApiError> {
    let figures = state
        .engine
        .analytics(&bot_id, range.from.as_deref(), range.to.as_deref())
        .await?;
    Ok(Json(figures))
}
