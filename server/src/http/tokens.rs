//! API tokens over REST, for admins and their tools: `GET|POST /v1/tokens`,
//! `DELETE /v1/tokens/{id}`. A token's value is answered once, when it is made.

use app::account::{CreatedToken, TokenInfo};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Extension, Router};
use serde::{Deserialize, Serialize};

use super::auth::Caller;
use super::extract::{Json, Path};
use super::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/tokens", get(tokens_index).post(tokens_create))
        .route("/v1/tokens/{id}", delete(tokens_revoke))
}

#[derive(Serialize)]
struct TokenList {
    tokens: Vec<TokenInfo>,
}

async fn tokens_index(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<TokenList>, ApiError> {
    caller.account_manager()?;
    let tokens = state
        .auth
        .accounts
        .store()
        .tokens()
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(TokenList { tokens }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewTokenBody {
    name: String,
    /// The one bot it may act on; every bot without it.
    #[serde(default)]
    bot_id: Option<String>,
    /// The person it acts as, with their role and bots.
    #[serde(default)]
    user_id: Option<i64>,
}

async fn tokens_create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Json(body): Json<NewTokenBody>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    let by = caller.account_manager()?;
    let created = state
        .auth
        .accounts
        .create_token(
            &by,
            &body.name,
            body.bot_id,
            body.user_id,
            &state.engine.bot_ids(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

async fn tokens_revoke(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    let by = caller.account_manager()?;
    state.auth.accounts.revoke_token(&by, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
