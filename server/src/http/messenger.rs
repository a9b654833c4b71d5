//! Messenger's webhook for one bot: `GET` answers Facebook's verification, `POST` takes user
//! messages (signed with the app secret). Public: Facebook calls it without our token.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use serde_json::json;

use super::extract::{Path, Query};
use super::{ApiError, AppState};
use crate::channels::messenger::{self, Messenger, CHANNEL};
use crate::engine::{Engine, Incoming};
use crate::store::SessionKey;

/// The bots that have a Messenger page, by bot id.
pub type Messengers = Arc<HashMap<String, Arc<Messenger>>>;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/v1/bots/{bot_id}/mod/channel-messenger/webhook",
        get(webhook_verify).post(webhook_receive),
    )
}

fn messenger_of(state: &AppState, bot_id: &str) -> Result<Arc<Messenger>, ApiError> {
    state.engine.bot(bot_id)?;
    state
        .messengers
        .get(bot_id)
        .cloned()
        .ok_or(ApiError::NotFound("messenger channel"))
}

#[derive(Deserialize)]
struct Verify {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    verify_token: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
}

async fn webhook_verify(
    State(state): State<AppState>,
    Path(bot_id): Path<String>,
    Query(query): Query<Verify>,
) -> Result<Response, ApiError> {
    let messenger = messenger_of(&state, &bot_id)?;
    let subscribed = query.mode.as_deref() == Some("subscribe")
        && query.verify_token.as_deref() == Some(messenger.settings.verify_token.as_str());
    match (subscribed, query.challenge) {
        (true, Some(challenge)) => Ok(challenge.into_response()),
        _ => Err(ApiError::Forbidden("verify token does not match".into())),
    }
}

async fn webhook_receive(
    State(state): State<AppState>,
    Path(bot_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let messenger = messenger_of(&state, &bot_id)?;
    let signature = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    if !messenger::signature_valid(&messenger.settings.app_secret, &body, signature) {
        return Err(ApiError::Forbidden(
            "missing or wrong X-Hub-Signature-256".into(),
        ));
    }
    let value: serde_json::Value =
        serde_json::from_slice(&body).map_err(ApiError::from_json_error)?;
    for inbound in messenger::parse(&value) {
        let delivery = format!("messenger:{bot_id}:{}", inbound.key);
        let key = SessionKey {
            bot_id: bot_id.clone(),
            channel: CHANNEL.into(),
            user_id: inbound.sender.clone(),
            thread_id: None,
        };
        let incoming = Incoming {
            key,
            profile: Default::default(),
            content: inbound.content,
        };
        let Some(outcome) = state.engine.receive_once(incoming, delivery).await? else {
            continue;
        };
        if outcome.session.full_name.is_none() || messenger.profile_stale(&inbound.sender) {
            tokio::spawn(refresh_profile(
                state.engine.clone(),
                messenger.clone(),
                bot_id.clone(),
                outcome.session.id,
                inbound.sender,
            ));
        }
    }
    Ok((StatusCode::OK, axum::Json(json!({ "status": "ok" }))).into_response())
}

/// Looks the user's name and picture up without holding the webhook's answer.
async fn refresh_profile(
    engine: Arc<Engine>,
    messenger: Arc<Messenger>,
    bot_id: String,
    session_id: i64,
    psid: String,
) {
    let Ok(Some(profile)) =
        tokio::time::timeout(Duration::from_secs(15), messenger.profile(&psid)).await
    else {
        return;
    };
    messenger.profile_fetched(&psid);
    if let Err(e) = engine.update_profile(&bot_id, session_id, &profile).await {
        tracing::warn!(error = %e, "could not store a messenger profile");
    }
}
