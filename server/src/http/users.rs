//! People's accounts over REST, for admins and their tools: `GET|POST /v1/users`,
//! `PATCH /v1/users/{id}`. The rules are those of the admin page (`accounts::manage`).

use app::account::{Role, UserInfo};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, patch};
use axum::{Extension, Router};
use serde::{Deserialize, Serialize};

use super::auth::Caller;
use super::extract::{Json, Path};
use super::{ApiError, AppState};
use crate::accounts::{AccountChange, NewAccount};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/users", get(users_index).post(users_create))
        .route("/v1/users/{id}", patch(users_update))
}

#[derive(Serialize)]
struct UserList {
    users: Vec<UserInfo>,
}

async fn users_index(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<UserList>, ApiError> {
    caller.account_manager()?;
    let users = state
        .auth
        .accounts
        .store()
        .users()
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(UserList { users }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewUserBody {
    email: String,
    name: String,
    role: Role,
    #[serde(default)]
    bots: Vec<String>,
    /// Without it, a temporary password is made and answered once.
    #[serde(default)]
    password: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreatedUser {
    user: UserInfo,
    #[serde(skip_serializing_if = "Option::is_none")]
    temporary_password: Option<String>,
}

async fn users_create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Json(body): Json<NewUserBody>,
) -> Result<(StatusCode, Json<CreatedUser>), ApiError> {
    let by = caller.account_manager()?;
    let accounts = &state.auth.accounts;
    let known = state.engine.bot_ids();
    let new = NewAccount {
        email: body.email,
        name: body.name,
        role: body.role,
        bots: body.bots,
    };
    let created = match body.password {
        Some(password) => CreatedUser {
            user: accounts
                .create_user_with_password(&by, new, &password, &known)
                .await?,
            temporary_password: None,
        },
        None => {
            let made = accounts.create_user(&by, new, &known).await?;
            CreatedUser {
                user: made.user,
                temporary_password: Some(made.temporary_password),
            }
        }
    };
    Ok((StatusCode::CREATED, Json(created)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct UserPatch {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    role: Option<Role>,
    #[serde(default)]
    bots: Option<Vec<String>>,
    #[serde(default)]
    active: Option<bool>,
}

async fn users_update(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    Json(patch): Json<UserPatch>,
) -> Result<Json<UserInfo>, ApiError> {
    let by = caller.account_manager()?;
    let change = AccountChange {
        name: patch.name,
        role: patch.role,
        bots: patch.bots,
        active: patch.active,
    };
    let user = state
        .auth
        .accounts
        .update_user(&by, id, change, &state.engine.bot_ids())
        .await?;
    Ok(Json(user))
}
