//! The typed event broadcast. Events are serialized once and shared by every subscriber.

use std::sync::Arc;

use app::model::Event;
use axum::extract::ws::Utf8Bytes;
use tokio::sync::broadcast;

/// An event as it goes out: the bot it belongs to, its sequence number, the event itself (for
/// subscribers that filter, such as a visitor's chat) and its JSON frame, which every socket
/// sends without copying.
#[derive(Debug)]
pub struct Frame {
    pub bot_id: String,
    pub seq: i64,
    pub event: Event,
    pub json: Utf8Bytes,
}

impl Frame {
    pub fn new(bot_id: &str, event: &Event) -> Self {
        Frame {
            bot_id: bot_id.to_string(),
            seq: event.seq,
            event: event.clone(),
            json: serde_json::to_string(event)
                .expect("events always serialize")
                .into(),
        }
    }
}

#[derive(Clone)]
pub struct Bus {
    tx: broadcast::Sender<Arc<Frame>>,
}

impl Bus {
    /// `capacity` bounds how far a slow subscriber may fall behind before it is told to resync.
    pub fn new(capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(capacity);
        Bus { tx }
    }

    pub fn publish(&self, bot_id: &str, events: &[Event]) {
        for event in events {
            // No subscriber is not an error: the event is in the log for whoever comes later.
            let _ = self.tx.send(Arc::new(Frame::new(bot_id, event)));
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Frame>> {
        self.tx.subscribe()
    }
}
