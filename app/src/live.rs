//! The console's live connection: the bot's events WebSocket, reconnecting with backoff and resuming
//! from the last `seq` it saw, so no event is lost across a reconnect or a server restart.

use leptos::prelude::*;

use crate::model::Event;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveStatus {
    Connecting,
    Live,
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    Reconnecting,
}

impl LiveStatus {
    pub fn label(self) -> &'static str {
        match self {
            LiveStatus::Connecting => "Connecting…",
            LiveStatus::Live => "Live",
            LiveStatus::Reconnecting => "Reconnecting…",
        }
    }
}

/// Opens the events socket of `bot_id` once the page is hydrated and calls `on_event` for every
/// event, in `seq` order, without duplicates. A `resync` event means: fetch your state again.
#[cfg(feature = "hydrate")]
pub fn connect(bot_id: String, status: RwSignal<LiveStatus>, on_event: impl Fn(Event) + 'static) {
    use std::rc::Rc;
    socket::open(Rc::new(socket::Inner::new(
        bot_id,
        status,
        Box::new(on_event),
    )));
}

#[cfg(not(feature = "hydrate"))]
pub fn connect(
    _bot_id: String,
    _status: RwSignal<LiveStatus>,
    _on_event: impl Fn(Event) + 'static,
) {
}

#[cfg(feature = "hydrate")]
mod socket {
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;
    use std::time::Duration;

    use leptos::prelude::*;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::{JsCast, JsValue};
    use web_sys::{MessageEvent, WebSocket};

    use super::LiveStatus;
    use crate::model::{Event, EventKind};

    type Handler = Closure<dyn FnMut(JsValue)>;

    pub struct Inner {
        bot_id: String,
        status: RwSignal<LiveStatus>,
        on_event: Box<dyn Fn(Event)>,
        last_seq: Cell<Option<i64>>,
        failures: Cell<u32>,
        // The handlers of the current socket; replaced (and so freed) on every reconnect.
        handlers: RefCell<Vec<Handler>>,
    }

    impl Inner {
        pub fn new(
            bot_id: String,
            status: RwSignal<LiveStatus>,
            on_event: Box<dyn Fn(Event)>,
        ) -> Self {
            Inner {
                bot_id,
                status,
                on_event,
                last_seq: Cell::new(None),
                failures: Cell::new(0),
                handlers: RefCell::new(Vec::new()),
            }
        }

        fn url(&self) -> Option<String> {
            let location = window().location();
            let scheme = if location.protocol().ok()? == "https:" {
                "wss"
            } else {
                "ws"
            };
            let host = location.host().ok()?;
            let bot = String::from(js_sys::encode_uri_component(&self.bot_id));
            let mut url = format!("{scheme}://{host}/api/v1/bots/{bot}/mod/hitl/events");
            if let Some(seq) = self.last_seq.get() {
                url.push_str(&format!("?since={seq}"));
            }
            Some(url)
        }

        fn receive(&self, frame: &str) {
            let Ok(event) = serde_json::from_str::<Event>(frame) else {
                leptos::logging::warn!("hitl: ignored an event frame that did not parse");
                return;
            };
            let is_resync = matches!(event.kind, EventKind::Resync);
            // A resync restarts the count where the server stands; anything else must be new.
            if !is_resync && self.last_seq.get().is_some_and(|last| event.seq <= last) {
                return;
            }
            self.last_seq.set(Some(event.seq));
            (self.on_event)(event);
        }
    }

    pub fn open(inner: Rc<Inner>) {
        inner.handlers.borrow_mut().clear();
        let Some(url) = inner.url() else { return };
        let ws = match WebSocket::new(&url) {
            Ok(ws) => ws,
            Err(_) => return retry(inner),
        };

        let on_open = {
            let inner = inner.clone();
            Handler::new(move |_| {
                inner.failures.set(0);
                inner.status.set(LiveStatus::Live);
            })
        };
        let on_message = {
            let inner = inner.clone();
            Handler::new(move |e: JsValue| {
                if let Some(text) = e
                    .dyn_ref::<MessageEvent>()
                    .and_then(|m| m.data().as_string())
                {
                    inner.receive(&text);
                }
            })
        };
        let on_close = {
            let inner = inner.clone();
            Handler::new(move |_| retry(inner.clone()))
        };
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        inner
            .handlers
            .borrow_mut()
            .extend([on_open, on_message, on_close]);
    }

    /// Reconnects after a growing pause (0.5 s doubling up to 10 s), outside the failing handler.
    fn retry(inner: Rc<Inner>) {
        inner.status.set(LiveStatus::Reconnecting);
        let failures = inner.failures.get();
        inner.failures.set(failures + 1);
        let delay = Duration::from_millis((500u64 << failures.min(5)).min(10_000));
        set_timeout(move || open(inner), delay);
    }
}
