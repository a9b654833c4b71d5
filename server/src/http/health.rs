//! `GET /healthz`: 200 when the database answers.

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};

use super::extract::Json;
use super::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(health_show))
}

async fn health_show(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    state
        .engine
        .store()
        .ping()
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(json!({ "status": "ok" })))
}
