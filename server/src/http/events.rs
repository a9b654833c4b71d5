//! The live event stream of one bot: `GET /v1/bots/{botId}/mod/hitl/events?since=<seq>` upgrades
//! to a WebSocket of JSON frames. With `since`, what was missed is replayed from the event log
//! first; without it, or when it is too old, the first frame is a `resync` carrying the current
//! `seq`. A subscriber that falls behind the broadcast gets a `resync`, never a silent gap.

use std::sync::Arc;
use std::time::Duration;

use app::model::{Event, EventKind};
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{
    close_code, CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade,
};
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use futures::SinkExt;
use serde::Deserialize;
use tokio::sync::broadcast::{self, error::RecvError, error::TryRecvError};
use tokio::sync::watch;

use super::extract::{Path, Query};
use super::{ApiError, AppState};
use crate::bus::Frame;
use crate::engine::Engine;

const REPLAY_BATCH: u32 = 500;
const INCOMING_LIMIT: usize = 4 * 1024;
/// Frames written to a socket before one flush.
const MAX_BATCH: usize = 64;
const PING_EVERY: Duration = Duration::from_secs(25);

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/bots/{bot_id}/mod/hitl/events", get(events_socket))
}

#[derive(Deserialize)]
struct EventsQuery {
    since: Option<i64>,
}

async fn events_socket(
    State(state): State<AppState>,
    Path(bot_id): Path<String>,
    Query(query): Query<EventsQuery>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    state.engine.bot(&bot_id)?;
    let upgrade = upgrade.map_err(ApiError::from_upgrade_rejection)?;
    if query.since.is_some_and(|s| s < 0) {
        return Err(ApiError::BadRequest("since must not be negative".into()));
    }
    let engine = state.engine.clone();
    let stopping = state.stopping.clone();
    Ok(upgrade
        .read_buffer_size(super::WS_READ_BUFFER)
        // Subscribers only listen; what they send (pings, a close) is tiny.
        .max_message_size(INCOMING_LIMIT)
        .on_upgrade(move |socket| async move {
            if let Err(e) = stream(socket, engine, stopping, bot_id, query.since).await {
                tracing::debug!(error = %e, "event stream ended");
            }
        }))
}

#[derive(Debug, thiserror::Error)]
enum StreamError {
    #[error("socket: {0}")]
    Socket(#[from] axum::Error),
    #[error("store: {0}")]
    Store(#[from] crate::store::StoreError),
}

async fn stream(
    mut socket: WebSocket,
    engine: Arc<Engine>,
    mut stopping: watch::Receiver<bool>,
    bot_id: String,
    since: Option<i64>,
) -> Result<(), StreamError> {
    // Subscribe before reading the log, so nothing falls between the two.
    let mut live = engine.bus().subscribe();
    let (oldest, latest) = engine.store().event_bounds().await?;
    let mut last = match since {
        Some(since) if since <= latest && since + 1 >= oldest => {
            replay(&mut socket, &engine, &bot_id, since).await?
        }
        _ => resync(&mut socket, latest).await?,
    };
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    loop {
        tokio::select! {
            received = live.recv() => {
                match forward(&mut socket, &mut live, received, &bot_id, &mut last).await? {
                    Forwarded::Sent => {}
                    Forwarded::Lagged(missed) => {
                        tracing::warn!(missed, bot_id, "event subscriber fell behind; sending resync");
                        let (_, latest) = engine.store().event_bounds().await?;
                        last = resync(&mut socket, latest).await?;
                    }
                    Forwarded::Closed => return Ok(()),
                }
            }
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(WsMessage::Close(_))) => return Ok(()),
                Some(Ok(_)) => {}
            },
            _ = ping.tick() => socket.send(WsMessage::Ping(Default::default())).await?,
            Ok(()) = stopping.changed() => {
                // "Going away": the client reconnects with `since` and misses nothing.
                let frame = CloseFrame { code: close_code::AWAY, reason: "server is stopping".into() };
                socket.send(WsMessage::Close(Some(frame))).await?;
                return Ok(());
            }
        }
    }
}

enum Forwarded {
    Sent,
    Lagged(u64),
    Closed,
}

/// Writes the received frame and every further one already waiting (up to `MAX_BATCH`) with one
/// flush: the events of one commit arrive together, and a flush per frame cost a syscall per
/// frame per subscriber.
async fn forward(
    socket: &mut WebSocket,
    live: &mut broadcast::Receiver<Arc<Frame>>,
    first: Result<Arc<Frame>, RecvError>,
    bot_id: &str,
    last: &mut i64,
) -> Result<Forwarded, StreamError> {
    let mut received = first;
    let mut queued = false;
    let mut outcome = Forwarded::Sent;
    for _ in 0..MAX_BATCH {
        match received {
            Ok(frame) => {
                if frame.bot_id == bot_id && frame.seq > *last {
                    socket.feed(WsMessage::Text(frame.json.clone())).await?;
                    *last = frame.seq;
                    queued = true;
                }
            }
            Err(RecvError::Lagged(missed)) => {
                outcome = Forwarded::Lagged(missed);
                break;
            }
            Err(RecvError::Closed) => {
                outcome = Forwarded::Closed;
                break;
            }
        }
        received = match live.try_recv() {
            Ok(frame) => Ok(frame),
            Err(TryRecvError::Empty) => break,
            Err(TryRecvError::Lagged(missed)) => Err(RecvError::Lagged(missed)),
            Err(TryRecvError::Closed) => Err(RecvError::Closed),
        };
    }
    if queued {
        socket.flush().await?;
    }
    Ok(outcome)
}

/// Sends every logged event of the bot after `since`; answers the last `seq` covered.
async fn replay(
    socket: &mut WebSocket,
    engine: &Engine,
    bot_id: &str,
    since: i64,
) -> Result<i64, StreamError> {
    let mut last = since;
    loop {
        let batch = engine
            .store()
            .events_since(bot_id, last, REPLAY_BATCH)
            .await?;
        for event in &batch {
            socket.feed(frame_of(event)).await?;
            last = event.seq;
        }
        socket.flush().await?;
        if batch.len() < REPLAY_BATCH as usize {
            return Ok(last);
        }
    }
}

async fn resync(socket: &mut WebSocket, latest: i64) -> Result<i64, StreamError> {
    let event = Event {
        seq: latest,
        kind: EventKind::Resync,
    };
    socket.send(frame_of(&event)).await?;
    Ok(latest)
}

/// An event the bus did not serialize (a replayed or a `resync` one) as a frame.
fn frame_of(event: &Event) -> WsMessage {
    WsMessage::Text(
        serde_json::to_string(event)
            .expect("events always serialize")
            .into(),
    )
}
