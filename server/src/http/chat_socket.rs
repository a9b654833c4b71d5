//! The web chat's WebSocket. The first frame proves the visitor (`hello` with id and secret) and
//! says the last item they hold; the server replays the rest of their conversation, then follows
//! it live and takes their messages. A message sent again after a reconnect (same `clientId`) is
//! stored once.

use std::sync::Arc;
use std::time::Duration;

use app::chat::wire::{ClientFrame, ServerFrame, TEXT_MAX_CHARS};
use app::model::{Content, EventKind, Profile};
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{
    close_code, CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade,
};
use axum::extract::State;
use axum::response::Response;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{mpsc, watch};

use super::extract::Path;
use super::{ApiError, AppState};
use crate::channels::web;
use crate::engine::{Engine, EngineError, Incoming, Outcome};
use crate::store::Visitor;

const HELLO_WITHIN: Duration = Duration::from_secs(10);
const PING_EVERY: Duration = Duration::from_secs(25);
const FRAME_LIMIT: usize = 64 * 1024;
/// How much of an old conversation a fresh page gets.
const FIRST_REPLAY: u32 = 200;
const REPLAY_BATCH: u32 = 500;
/// A person types far slower than this; a script flooding the bot is refused.
const MESSAGES_PER_WINDOW: usize = 20;
const MESSAGE_WINDOW: Duration = Duration::from_secs(10);

pub async fn open(
    State(state): State<AppState>,
    Path(bot_id): Path<String>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    state.engine.bot(&bot_id)?;
    let upgrade = upgrade.map_err(ApiError::from_upgrade_rejection)?;
    let engine = state.engine.clone();
    let stopping = state.stopping.clone();
    Ok(upgrade
        .max_message_size(FRAME_LIMIT)
        .read_buffer_size(super::WS_READ_BUFFER)
        .on_upgrade(move |socket| async move {
            let chat = Chat {
                socket,
                engine,
                bot_id,
                session_id: None,
                last: 0,
                recent: Default::default(),
                place_told: None,
            };
            if let Err(e) = chat.run(stopping).await {
                tracing::debug!(error = %e, "chat socket ended");
            }
        }))
}

#[derive(Debug, thiserror::Error)]
enum ChatError {
    #[error("socket: {0}")]
    Socket(#[from] axum::Error),
    #[error("engine: {0}")]
    Engine(#[from] EngineError),
    #[error("store: {0}")]
    Store(#[from] crate::store::StoreError),
}

struct Chat {
    socket: WebSocket,
    engine: Arc<Engine>,
    bot_id: String,
    /// Unknown until the visitor's first message creates the conversation.
    session_id: Option<i64>,
    /// The id of the last message sent to the visitor.
    last: i64,
    /// When the visitor's latest messages came, to refuse a flood.
    recent: std::collections::VecDeque<std::time::Instant>,
    /// The place in line the visitor was last told (`None`: not in line, as a chat starts).
    place_told: Option<i64>,
}

/// What became of a message the visitor sent.
struct Sent {
    client_id: String,
    result: Result<Option<Outcome>, EngineError>,
}

impl Chat {
    async fn run(mut self, mut stopping: watch::Receiver<bool>) -> Result<(), ChatError> {
        let Some((mut visitor, since)) = self.hello().await? else {
            return Ok(());
        };
        // Subscribe before reading the conversation, so nothing falls between the two.
        let mut live = self.engine.bus().subscribe();
        let key = web::session_key(&self.bot_id, &visitor.id);
        self.session_id = self
            .engine
            .store()
            .session_by_key(&key)
            .await?
            .map(|s| s.id);
        self.replay(since).await?;
        self.send(&ServerFrame::Ready {
            name: visitor.name.clone(),
        })
        .await?;
        if let Some(session_id) = self.session_id {
            if let Some(session) = self
                .engine
                .store()
                .session(&self.bot_id, session_id)
                .await?
            {
                self.tell_place(&session).await?;
            }
        }

        let (sent_tx, mut sent_rx) = mpsc::channel::<Sent>(16);
        let work = spawn_worker(self.engine.clone(), sent_tx);
        let mut ping = tokio::time::interval(PING_EVERY);
        ping.tick().await;
        loop {
            tokio::select! {
                received = live.recv() => match received {
                    Ok(frame) => self.follow(&frame.event, &key).await?,
                    Err(RecvError::Lagged(_)) => self.replay(Some(self.last)).await?,
                    Err(RecvError::Closed) => return Ok(()),
                },
                incoming = self.socket.recv() => match incoming {
                    None | Some(Err(_)) | Some(Ok(WsMessage::Close(_))) => return Ok(()),
                    Some(Ok(WsMessage::Text(text))) => {
                        self.take(text.as_str(), &mut visitor, &work).await?;
                    }
                    Some(Ok(WsMessage::Binary(_))) => {
                        self.refuse(None, "frames must be JSON text").await?;
                    }
                    Some(Ok(_)) => {}
                },
                Some(sent) = sent_rx.recv() => self.acknowledge(sent).await?,
                _ = ping.tick() => self.socket.send(WsMessage::Ping(Default::default())).await?,
                Ok(()) = stopping.changed() => {
                    return self.close(close_code::AWAY, "server is stopping").await;
                }
            }
        }
    }

    /// Waits for the visitor's `hello`; answers `None` (after closing) when it is missing or wrong.
    async fn hello(&mut self) -> Result<Option<(Visitor, Option<i64>)>, ChatError> {
        let first = tokio::time::timeout(HELLO_WITHIN, self.socket.recv()).await;
        let text = match first {
            Ok(Some(Ok(WsMessage::Text(text)))) => text,
            Ok(Some(Ok(_))) => {
                self.refuse(None, "the first frame must be a hello").await?;
                self.close(close_code::POLICY, "hello expected").await?;
                return Ok(None);
            }
            Ok(None | Some(Err(_))) => return Ok(None),
            Err(_) => {
                self.close(close_code::POLICY, "no hello in time").await?;
                return Ok(None);
            }
        };
        let Ok(ClientFrame::Hello {
            visitor_id,
            secret,
            since,
        }) = serde_json::from_str::<ClientFrame>(text.as_str())
        else {
            self.refuse(None, "the first frame must be a hello").await?;
            self.close(close_code::POLICY, "hello expected").await?;
            return Ok(None);
        };
        let visitor = self
            .engine
            .authenticate_visitor(&self.bot_id, &visitor_id, &secret)
            .await?;
        match visitor {
            Some(visitor) => Ok(Some((visitor, since))),
            None => {
                self.refuse(None, "unknown visitor or wrong secret").await?;
                self.close(close_code::POLICY, "forbidden").await?;
                Ok(None)
            }
        }
    }

    /// Sends the conversation after `since` (or its newest part when `since` is `None`).
    async fn replay(&mut self, since: Option<i64>) -> Result<(), ChatError> {
        let Some(session_id) = self.session_id else {
            return Ok(());
        };
        let engine = self.engine.clone();
        let store = engine.store();
        let mut batch = match since {
            Some(since) => {
                store
                    .messages_after(session_id, since, false, REPLAY_BATCH)
                    .await?
            }
            None => store.messages(session_id, None, FIRST_REPLAY).await?,
        };
        loop {
            let full = since.is_some() && batch.len() == REPLAY_BATCH as usize;
            for message in &batch {
                self.message(message).await?;
            }
            if !full {
                return Ok(());
            }
            batch = store
                .messages_after(session_id, self.last, false, REPLAY_BATCH)
                .await?;
        }
    }

    /// Passes on what the bus says about this visitor's conversation.
    async fn follow(
        &mut self,
        event: &app::model::Event,
        key: &crate::store::SessionKey,
    ) -> Result<(), ChatError> {
        match &event.kind {
            EventKind::SessionCreated { session, .. }
                if session.bot_id == key.bot_id
                    && session.channel == key.channel
                    && session.user_id == key.user_id =>
            {
                self.session_id = Some(session.id);
            }
            EventKind::MessageCreated { message }
                if Some(message.session_id) == self.session_id =>
            {
                self.message(message).await?;
            }
            EventKind::SessionUpdated { session, .. } if Some(session.id) == self.session_id => {
                self.tell_place(session).await?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Tells the visitor their place in line when it changed since they were last told.
    async fn tell_place(&mut self, session: &app::model::SessionOverview) -> Result<(), ChatError> {
        let place = session
            .handoff
            .as_ref()
            .filter(|h| h.state == app::model::HandoffState::Queued)
            .and_then(|h| h.position);
        if self.place_told == place {
            return Ok(());
        }
        self.place_told = place;
        self.send(&ServerFrame::Queue { position: place }).await
    }

    async fn message(&mut self, message: &app::model::Message) -> Result<(), ChatError> {
        if message.id <= self.last {
            return Ok(());
        }
        self.last = message.id;
        match web::chat_item(message) {
            Some(item) => self.send(&ServerFrame::Item { item }).await,
            None => Ok(()),
        }
    }

    /// A frame from the visitor after the hello.
    async fn take(
        &mut self,
        text: &str,
        visitor: &mut Visitor,
        work: &mpsc::Sender<Work>,
    ) -> Result<(), ChatError> {
        match serde_json::from_str::<ClientFrame>(text) {
            Ok(ClientFrame::Send { client_id, content }) => {
                if let Err(error) = check(&content) {
                    return self.refuse(Some(client_id), &error).await;
                }
                if !self.within_rate() {
                    let error = "too many messages at once; wait a moment and send again";
                    return self.refuse(Some(client_id), error).await;
                }
                let visitor = visitor.clone();
                // The worker only stops after the socket loop, which is still running.
                let _ = work
                    .send(Work {
                        visitor,
                        client_id,
                        content,
                    })
                    .await;
                Ok(())
            }
            Ok(ClientFrame::Name { name }) => {
                match self.engine.rename_visitor(visitor, &name).await {
                    Ok(name) => {
                        visitor.name = name.clone();
                        self.send(&ServerFrame::Named { name }).await
                    }
                    Err(EngineError::Invalid(error)) => self.refuse(None, &error).await,
                    Err(e) => Err(e.into()),
                }
            }
            Ok(ClientFrame::Hello { .. }) => self.refuse(None, "already said hello").await,
            Err(e) => self.refuse(None, &format!("invalid frame: {e}")).await,
        }
    }

    async fn acknowledge(&mut self, sent: Sent) -> Result<(), ChatError> {
        match sent.result {
            Ok(outcome) => {
                let item = match outcome {
                    Some(outcome) => {
                        self.session_id = Some(outcome.session.id);
                        web::chat_item(&outcome.message)
                    }
                    None => None,
                };
                self.send(&ServerFrame::Ack {
                    client_id: sent.client_id,
                    item,
                })
                .await
            }
            Err(EngineError::Invalid(error)) => self.refuse(Some(sent.client_id), &error).await,
            Err(e) => {
                tracing::error!(error = %e, "a web chat message could not be stored");
                self.refuse(
                    Some(sent.client_id),
                    "the message could not be stored; try again",
                )
                .await
            }
        }
    }

    /// At most [`MESSAGES_PER_WINDOW`] messages per [`MESSAGE_WINDOW`] from one socket.
    fn within_rate(&mut self) -> bool {
        let now = std::time::Instant::now();
        while self
            .recent
            .front()
            .is_some_and(|t| now.duration_since(*t) > MESSAGE_WINDOW)
        {
            self.recent.pop_front();
        }
        if self.recent.len() >= MESSAGES_PER_WINDOW {
            return false;
        }
        self.recent.push_back(now);
        true
    }

    async fn refuse(&mut self, client_id: Option<String>, error: &str) -> Result<(), ChatError> {
        self.send(&ServerFrame::Error {
            client_id,
            error: error.to_string(),
        })
        .await
    }

    async fn send(&mut self, frame: &ServerFrame) -> Result<(), ChatError> {
        let json = serde_json::to_string(frame).expect("frames always serialize");
        self.socket.send(WsMessage::Text(json.into())).await?;
        Ok(())
    }

    async fn close(&mut self, code: u16, reason: &'static str) -> Result<(), ChatError> {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        self.socket.send(WsMessage::Close(Some(frame))).await?;
        Ok(())
    }
}

/// A message of the visitor's, waiting its turn.
struct Work {
    visitor: Visitor,
    client_id: String,
    content: Content,
}

/// Takes the visitor's messages one at a time, in the order sent, in the background: the bot may
/// take its time (an external bot) while the stream keeps flowing. A message whose socket closed
/// meanwhile is still stored (the page sends it again and gets an `ack` for the repeat).
fn spawn_worker(engine: Arc<Engine>, sent: mpsc::Sender<Sent>) -> mpsc::Sender<Work> {
    let (work_tx, mut work_rx) = mpsc::channel::<Work>(32);
    tokio::spawn(async move {
        while let Some(work) = work_rx.recv().await {
            let result = receive(&engine, &work.visitor, &work.client_id, work.content).await;
            let _ = sent
                .send(Sent {
                    client_id: work.client_id,
                    result,
                })
                .await;
        }
    });
    work_tx
}

/// Stores the visitor's message and runs the bot; `None` when `client_id` was stored before.
async fn receive(
    engine: &Engine,
    visitor: &Visitor,
    client_id: &str,
    content: Content,
) -> Result<Option<Outcome>, EngineError> {
    let delivery = format!("web:{}:{}", visitor.id, client_id);
    let incoming = Incoming {
        key: web::session_key(&visitor.bot_id, &visitor.id),
        profile: Profile {
            full_name: visitor.name.clone(),
            avatar_url: None,
        },
        content,
    };
    engine.receive_once(incoming, delivery).await
}

/// What a visitor may send: what the chat offers (text, a button, a quick reply), not empty and
/// of a sane size.
fn check(content: &Content) -> Result<(), String> {
    let offered = matches!(
        content,
        Content::Text { .. } | Content::Postback { .. } | Content::QuickReply { .. }
    );
    if !offered {
        return Err(format!(
            "a visitor cannot send a message of type {}",
            content.kind()
        ));
    }
    crate::engine::validate_user_content(content).map_err(|e| e.to_string())?;
    if content.preview().chars().count() > TEXT_MAX_CHARS {
        return Err(format!(
            "a message must not be longer than {TEXT_MAX_CHARS} characters"
        ));
    }
    Ok(())
}
