//! The web chat's public routes: a visitor is created with `POST /v1/bots/{botId}/chat/visitors`
//! and talks over `GET /v1/bots/{botId}/chat/socket` (see `chat_socket`); websites embed the chat
//! with `<script src="/chat/{botId}/embed.js">`. No API token: visitors prove themselves with the
//! secret they were given.

use app::chat::wire::{NewVisitor, VisitorCredentials};
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use super::extract::{Json, OptionalJson, Path};
use super::{chat_socket, ApiError, AppState};

pub fn api_router() -> Router<AppState> {
    Router::new()
        .route("/v1/bots/{bot_id}/chat/visitors", post(create_visitor))
        .route("/v1/bots/{bot_id}/chat/socket", get(chat_socket::open))
}

pub fn embed_router() -> Router<AppState> {
    Router::new().route("/chat/{bot_id}/embed.js", get(embed_script))
}

async fn create_visitor(
    State(state): State<AppState>,
    ConnectInfo(address): ConnectInfo<SocketAddr>,
    Path(bot_id): Path<String>,
    OptionalJson(body): OptionalJson<NewVisitor>,
) -> Result<Response, ApiError> {
    // Anyone may start a chat, but not fill the database with visitors.
    let allowed = state
        .visitor_limit
        .allow(&address.ip().to_string())
        .await
        .map_err(crate::engine::EngineError::from)?;
    if !allowed {
        return Err(ApiError::TooManyRequests(
            "too many new chats from this address; try again later".into(),
        ));
    }
    let name = body.unwrap_or_default().name;
    let (visitor, secret) = state
        .engine
        .create_visitor(&bot_id, name.as_deref())
        .await?;
    let credentials = VisitorCredentials {
        visitor_id: visitor.id,
        secret,
        name: visitor.name,
    };
    Ok((StatusCode::CREATED, Json(credentials)).into_response())
}

const EMBED_TEMPLATE: &str = include_str!("embed.js");

async fn embed_script(
    State(state): State<AppState>,
    Path(bot_id): Path<String>,
) -> Result<Response, ApiError> {
    state.engine.bot(&bot_id)?;
    // A JSON string is a valid JS string literal; `<` is escaped so no `</script>` can appear.
    let literal = serde_json::to_string(&bot_id)
        .expect("strings serialize")
        .replace('<', "\\u003c");
    let script = EMBED_TEMPLATE.replace("__HITL_BOT_ID__", &literal);
    Ok((
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        script,
    )
        .into_response())
}
