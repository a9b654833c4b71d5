//! The live event stream of one bot: `GET /v1/bots/{botId}/mod/hitl/events?since=<seq>` upgrades
//! to a WebSocket of JSON frames. With `since`, what was missed is replayed from the event log
//! first; without it, or when it is too old, the first frame is a `resync` carrying the current
//! `seq`. A subscriber that falls behind the broadcast gets a `resync`, never a silent gap.
//! The socket lives only as long as its caller's access: when that changes (signed out,
//! deactivated, bots taken, token revoked) it checks the caller again and closes with 4401 (the
//! credential no longer holds) or 4403 (still signed in, but not on this bot).
//! A console says over it which conversation it shows (`{"type":"viewing","sessionId":…}`);
//! who has which one open comes as `viewers` events, not logged, all of it after connecting.

use std::sync::Arc;
use std::time::Duration;

use app::account::{CLOSE_NOT_ALLOWED, CLOSE_SIGNED_OUT};
use app::model::{Assignee, ConsoleFrame, Event, EventKind};
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{
    close_code, CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade,
};
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::{Extension, Router};
use futures::SinkExt;
use serde::Deserialize;
use tokio::sync::broadcast::{self, error::RecvError, error::TryRecvError};
use tokio::sync::watch;

use super::auth::{Caller, Credential};
use super::extract::{Path, Query};
use super::{ApiError, AppState, Auth};
use crate::accounts::AccessChange;
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
    /// The log's epoch the client's `since` belongs to.
    epoch: Option<String>,
}

async fn events_socket(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(credential): Extension<Credential>,
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
    let access = Access {
        changes: state.auth.accounts.access_changes(),
        auth: state.auth.clone(),
        credential,
        caller,
    };
    Ok(upgrade
        .read_buffer_size(super::WS_READ_BUFFER)
        // Subscribers only listen; what they send (pings, a close) is tiny.
        .max_message_size(INCOMING_LIMIT)
        .on_upgrade(move |socket| async move {
            let from = Resume {
                since: query.since,
                epoch: query.epoch,
            };
            if let Err(e) = stream(socket, engine, access, stopping, bot_id, from).await {
                tracing::debug!(error = %e, "event stream ended");
            }
        }))
}

/// What keeps a socket open: its caller, checked again with the credential they showed
/// whenever an access change may concern them.
struct Access {
    auth: Arc<Auth>,
    credential: Credential,
    caller: Caller,
    changes: broadcast::Receiver<AccessChange>,
}

impl Access {
    /// `None` while the caller may still follow the bot; otherwise the frame to close with.
    async fn check(&mut self, bot_id: &str) -> Result<Option<CloseFrame>, StreamError> {
        let Some(caller) = self.auth.caller(&self.credential).await? else {
            let reason = match self.credential {
                Credential::Cookie(_) => "you are signed out",
                Credential::Bearer(_) => "this token no longer works",
            };
            return Ok(Some(CloseFrame {
                code: CLOSE_SIGNED_OUT,
                reason: reason.into(),
            }));
        };
        if !caller.may_work_on(bot_id) {
            return Ok(Some(CloseFrame {
                code: CLOSE_NOT_ALLOWED,
                reason: format!("you no longer work on the bot {bot_id}").into(),
            }));
        }
        // Their rights as they are now decide which later changes concern them.
        self.caller = caller;
        Ok(None)
    }

    /// The person the socket is for; `None` for a token of nobody.
    fn person(&self) -> Option<i64> {
        self.caller.person().map(|viewer| viewer.id)
    }

    /// Whether this change (or, when changes were missed, any) may concern the caller.
    fn concerns(&self, change: Result<AccessChange, RecvError>) -> bool {
        match change {
            Ok(change) => self.caller.is_affected_by(change),
            // Missed changes may have been theirs. (`Closed` cannot happen: `auth` keeps the
            // sender alive.)
            Err(_) => true,
        }
    }
}

#[derive(Debug, thiserror::Error)]
enum StreamError {
    #[error("socket: {0}")]
    Socket(#[from] axum::Error),
    #[error("store: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("access: {0}")]
    Access(#[from] ApiError),
}

/// Where a client asks to resume: after `since`, of the log's `epoch`.
struct Resume {
    since: Option<i64>,
    epoch: Option<String>,
}

async fn stream(
    mut socket: WebSocket,
    engine: Arc<Engine>,
    mut access: Access,
    mut stopping: watch::Receiver<bool>,
    bot_id: String,
    from: Resume,
) -> Result<(), StreamError> {
    // The caller was found before `access` listened for changes: check once more, so a change
    // in between is not missed.
    if let Some(frame) = access.check(&bot_id).await? {
        socket.send(WsMessage::Close(Some(frame))).await?;
        return Ok(());
    }
    // While it is open its person counts as there (a token of nobody is nobody).
    let _attendance = match access.caller.person() {
        Some(viewer) => Some(engine.attend(viewer).await.map_err(ApiError::from)?),
        None => None,
    };
    // Which conversation this console shows, as it says (a token of nobody shows none).
    let mut watch = access.caller.person().map(|viewer| {
        let person = Assignee {
            id: viewer.id,
            name: viewer.name.clone(),
        };
        engine.viewing().console(&bot_id, person)
    });
    // Subscribe before reading the log (and who views what), so nothing falls between.
    let mut live = engine.bus().subscribe();
    let mut viewers = engine.viewing().subscribe();
    let (oldest, latest) = engine.store().event_bounds(&bot_id).await?;
    let mut epoch = engine.log_epoch().await?;
    // A `since` of another epoch counts numbers of a history this log no longer has.
    let same_history = from.epoch.as_deref().is_none_or(|e| e == epoch);
    if same_history && from.since.is_some_and(|since| since > latest) {
        // The log's head never goes back, so this console saw numbers the log has lost: the
        // database was restored from a backup under it. New events will take those numbers
        // again; a new epoch makes every console that resumes start over, not only this one.
        tracing::warn!(
            bot_id,
            since = from.since,
            latest,
            "a console has seen events this log does not have (restored from a backup?): \
             the log gets a new epoch"
        );
        epoch = engine.renew_log_epoch(&epoch).await?;
    }
    let mut last = match from.since {
        Some(since) if same_history && since <= latest && since + 1 >= oldest => {
            replay(&mut socket, &engine, &bot_id, access.person(), since).await?
        }
        _ => resync(&mut socket, latest, &epoch).await?,
    };
    send_viewers(&mut socket, &engine, &bot_id, last).await?;
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    loop {
        tokio::select! {
            received = live.recv() => {
                let person = access.person();
                match forward(&mut socket, &mut live, received, &bot_id, person, &mut last).await? {
                    Forwarded::Sent => {}
                    Forwarded::Lagged(missed) => {
                        tracing::warn!(missed, bot_id, "event subscriber fell behind; sending resync");
                        let (_, latest) = engine.store().event_bounds(&bot_id).await?;
                        last = resync(&mut socket, latest, &epoch).await?;
                    }
                    Forwarded::Closed => return Ok(()),
                }
            }
            changed = viewers.recv() => match changed {
                Ok(change) if change.bot_id == bot_id => {
                    let kind = EventKind::Viewers { sessions: vec![change.viewers.clone()], snapshot: false };
                    socket.send(frame_of(&Event { seq: last, kind })).await?;
                }
                Ok(_) => {}
                // Missed changes: all of it again.
                Err(RecvError::Lagged(_)) => send_viewers(&mut socket, &engine, &bot_id, last).await?,
                Err(RecvError::Closed) => return Ok(()),
            },
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(WsMessage::Close(_))) => return Ok(()),
                Some(Ok(WsMessage::Text(text))) => match serde_json::from_str::<ConsoleFrame>(&text) {
                    Ok(ConsoleFrame::Viewing { session_id }) => {
                        if let Some(watch) = watch.as_mut() {
                            watch.show(session_id);
                        }
                    }
                    Err(e) => tracing::debug!(error = %e, "ignored a console frame that did not parse"),
                },
                Some(Ok(_)) => {}
            },
            change = access.changes.recv() => {
                if access.concerns(change) {
                    if let Some(frame) = access.check(&bot_id).await? {
                        socket.send(WsMessage::Close(Some(frame))).await?;
                        return Ok(());
                    }
                }
            }
            _ = ping.tick() => {
                // Also a check of the caller, so nothing can outlive its right unnoticed (a
                // sign-in is kept alive by its open console, not ended under it).
                if let Some(frame) = access.check(&bot_id).await? {
                    socket.send(WsMessage::Close(Some(frame))).await?;
                    return Ok(());
                }
                socket.send(WsMessage::Ping(Default::default())).await?
            }
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
    person: Option<i64>,
    last: &mut i64,
) -> Result<Forwarded, StreamError> {
    let mut received = first;
    let mut queued = false;
    let mut outcome = Forwarded::Sent;
    for _ in 0..MAX_BATCH {
        match received {
            Ok(frame) => {
                if frame.bot_id == bot_id && frame.seq > *last {
                    if frame.event.is_for(person) {
                        socket.feed(WsMessage::Text(frame.json.clone())).await?;
                        queued = true;
                    }
                    *last = frame.seq;
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
    person: Option<i64>,
    since: i64,
) -> Result<i64, StreamError> {
    let mut last = since;
    loop {
        let batch = engine
            .store()
            .events_since(bot_id, last, REPLAY_BATCH)
            .await?;
        for event in &batch {
            if event.is_for(person) {
                socket.feed(frame_of(event)).await?;
            }
            last = event.seq;
        }
        socket.flush().await?;
        if batch.len() < REPLAY_BATCH as usize {
            return Ok(last);
        }
    }
}

/// Who has which conversation of the bot open, all of it, as of the logged event `last`.
async fn send_viewers(
    socket: &mut WebSocket,
    engine: &Engine,
    bot_id: &str,
    last: i64,
) -> Result<(), StreamError> {
    let kind = EventKind::Viewers {
        sessions: engine.viewing().snapshot(bot_id),
        snapshot: true,
    };
    socket.send(frame_of(&Event { seq: last, kind })).await?;
    Ok(())
}

async fn resync(socket: &mut WebSocket, latest: i64, epoch: &str) -> Result<i64, StreamError> {
    let event = Event {
        seq: latest,
        kind: EventKind::Resync {
            epoch: Some(epoch.to_string()),
        },
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
