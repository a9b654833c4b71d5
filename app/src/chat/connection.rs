//! The chat's connection. In the browser it finds the visitor's credentials (kept in
//! localStorage, created on the first visit), keeps one WebSocket open, says hello with the last
//! item it holds so the server replays only what was missed, and sends again what was never
//! confirmed. On the server it does nothing: the page is rendered empty and comes alive here.

use leptos::prelude::*;

use super::lines::Transcript;
use super::ChatStatus;
use crate::model::Content;

/// What the connection changes on the page.
#[derive(Clone, Copy)]
pub struct ChatSignals {
    pub transcript: RwSignal<Transcript>,
    pub status: RwSignal<ChatStatus>,
    pub name: RwSignal<Option<String>>,
    /// The last thing the server refused, in words for the visitor.
    pub problem: RwSignal<Option<String>>,
    /// Their place in line while they wait for a person.
    pub place: RwSignal<Option<i64>>,
}

impl ChatSignals {
    pub fn new() -> Self {
        ChatSignals {
            transcript: RwSignal::new(Transcript::default()),
            status: RwSignal::new(ChatStatus::Connecting),
            name: RwSignal::new(None),
            problem: RwSignal::new(None),
            place: RwSignal::new(None),
        }
    }
}

impl Default for ChatSignals {
    fn default() -> Self {
        Self::new()
    }
}

/// A handle the page's event handlers use; cheap to copy.
#[derive(Clone, Copy)]
pub struct Connection {
    #[cfg(feature = "hydrate")]
    inner: StoredValue<std::rc::Rc<browser::Inner>, LocalStorage>,
}

impl Connection {
    #[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
    pub fn new(bot_id: String, signals: ChatSignals) -> Self {
        Connection {
            #[cfg(feature = "hydrate")]
            inner: StoredValue::new_local(std::rc::Rc::new(browser::Inner::new(bot_id, signals))),
        }
    }

    /// Starts connecting (call it from an effect: it only runs in the browser).
    pub fn begin(&self) {
        #[cfg(feature = "hydrate")]
        self.inner.with_value(|inner| browser::begin(inner.clone()));
    }

    /// Shows the message at once as "sending" and sends it when the socket is ready.
    #[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
    pub fn send(&self, content: Content) {
        #[cfg(feature = "hydrate")]
        self.inner.with_value(|inner| inner.send(content));
    }

    #[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
    pub fn retry(&self, client_id: &str) {
        #[cfg(feature = "hydrate")]
        self.inner.with_value(|inner| inner.retry(client_id));
    }

    #[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
    pub fn set_name(&self, name: String) {
        #[cfg(feature = "hydrate")]
        self.inner.with_value(|inner| inner.set_name(name));
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;
    use std::time::Duration;

    use leptos::prelude::*;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{MessageEvent, WebSocket};

    use super::ChatSignals;
    use crate::chat::wire::{ClientFrame, ServerFrame, VisitorCredentials};
    use crate::chat::ChatStatus;
    use crate::model::Content;

    type Handler = Closure<dyn FnMut(JsValue)>;

    pub struct Inner {
        bot_id: String,
        signals: ChatSignals,
        credentials: RefCell<Option<VisitorCredentials>>,
        socket: RefCell<Option<WebSocket>>,
        /// The server replayed what we missed; frames may be sent.
        ready: Cell<bool>,
        failures: Cell<u32>,
        sent: Cell<u32>,
        // The handlers of the current socket; replaced (and so freed) on every reconnect.
        handlers: RefCell<Vec<Handler>>,
    }

    impl Inner {
        pub fn new(bot_id: String, signals: ChatSignals) -> Self {
            Inner {
                bot_id,
                signals,
                credentials: RefCell::new(None),
                socket: RefCell::new(None),
                ready: Cell::new(false),
                failures: Cell::new(0),
                sent: Cell::new(0),
                handlers: RefCell::new(Vec::new()),
            }
        }

        fn storage_key(&self) -> String {
            format!("hitl.chat.{}", self.bot_id)
        }

        fn bot_path(&self) -> String {
            let bot = String::from(js_sys::encode_uri_component(&self.bot_id));
            format!("/api/v1/bots/{bot}/chat")
        }

        pub fn send(&self, content: Content) {
            self.sent.set(self.sent.get() + 1);
            // Unique per visitor: the server stores a message once per client id.
            let client_id = format!(
                "{}-{}-{}",
                js_sys::Date::now() as u64,
                self.sent.get(),
                (js_sys::Math::random() * 1e9) as u64
            );
            self.signals
                .transcript
                .update(|t| t.sending(client_id.clone(), content.clone()));
            self.frame(&ClientFrame::Send { client_id, content });
        }

        pub fn retry(&self, client_id: &str) {
            let mut content = None;
            self.signals
                .transcript
                .update(|t| content = t.retry(client_id));
            if let Some(content) = content {
                self.frame(&ClientFrame::Send {
                    client_id: client_id.to_string(),
                    content,
                });
            }
        }

        pub fn set_name(&self, name: String) {
            self.frame(&ClientFrame::Name { name });
        }

        /// Sends when the socket is ready; otherwise what matters is sent on the next `ready`.
        fn frame(&self, frame: &ClientFrame) {
            if !self.ready.get() {
                return;
            }
            if let Some(ws) = self.socket.borrow().as_ref() {
                let json = serde_json::to_string(frame).expect("frames serialize");
                let _ = ws.send_with_str(&json);
            }
        }

        fn receive(&self, text: &str) {
            let Ok(frame) = serde_json::from_str::<ServerFrame>(text) else {
                leptos::logging::warn!("hitl chat: ignored a frame that did not parse");
                return;
            };
            let s = self.signals;
            match frame {
                ServerFrame::Item { item } => s.transcript.update(|t| t.add(item)),
                ServerFrame::Ready { name } => {
                    self.ready.set(true);
                    self.failures.set(0);
                    s.status.set(ChatStatus::Online);
                    s.name.set(name);
                    // What was typed while offline, or never confirmed, goes (again) now.
                    for pending in s.transcript.with_untracked(|t| t.unconfirmed()) {
                        if !pending.failed {
                            self.frame(&ClientFrame::Send {
                                client_id: pending.client_id,
                                content: pending.content,
                            });
                        }
                    }
                }
                ServerFrame::Ack { client_id, item } => {
                    s.transcript.update(|t| t.ack(&client_id, item));
                }
                ServerFrame::Named { name } => s.name.set(name),
                ServerFrame::Queue { position } => s.place.set(position),
                ServerFrame::Error { client_id, error } => {
                    if let Some(client_id) = client_id {
                        s.transcript.update(|t| t.fail(&client_id));
                    } else if !self.ready.get() {
                        // The hello was refused: these credentials are no good any more
                        // (say, a new database). Start again as a new visitor.
                        self.forget_credentials();
                    }
                    s.problem.set(Some(error));
                }
            }
        }

        fn forget_credentials(&self) {
            *self.credentials.borrow_mut() = None;
            if let Some(storage) = storage() {
                let _ = storage.remove_item(&self.storage_key());
            }
        }

        fn hello(&self) -> Option<String> {
            let credentials = self.credentials.borrow();
            let credentials = credentials.as_ref()?;
            let since = self.signals.transcript.with_untracked(|t| t.last_id());
            let hello = ClientFrame::Hello {
                visitor_id: credentials.visitor_id.clone(),
                secret: credentials.secret.clone(),
                since,
            };
            Some(serde_json::to_string(&hello).expect("frames serialize"))
        }
    }

    fn storage() -> Option<web_sys::Storage> {
        window().local_storage().ok().flatten()
    }

    /// Finds or creates the visitor, then connects.
    pub fn begin(inner: Rc<Inner>) {
        leptos::task::spawn_local(async move {
            if inner.credentials.borrow().is_none() {
                let stored = storage()
                    .and_then(|s| s.get_item(&inner.storage_key()).ok().flatten())
                    .and_then(|json| serde_json::from_str::<VisitorCredentials>(&json).ok());
                let credentials = match stored {
                    Some(c) => c,
                    None => match create_visitor(&inner.bot_path()).await {
                        Ok(c) => {
                            if let (Some(storage), Ok(json)) =
                                (storage(), serde_json::to_string(&c))
                            {
                                let _ = storage.set_item(&inner.storage_key(), &json);
                            }
                            c
                        }
                        Err(e) => {
                            leptos::logging::warn!("hitl chat: {e}");
                            return retry(inner);
                        }
                    },
                };
                *inner.credentials.borrow_mut() = Some(credentials);
            }
            open(inner);
        });
    }

    async fn create_visitor(bot_path: &str) -> Result<VisitorCredentials, String> {
        let fail = |e: JsValue| format!("could not start a chat: {e:?}");
        let init = web_sys::RequestInit::new();
        init.set_method("POST");
        init.set_body(&JsValue::from_str("{}"));
        let headers = web_sys::Headers::new().map_err(fail)?;
        headers
            .set("content-type", "application/json")
            .map_err(fail)?;
        init.set_headers(&headers);
        let url = format!("{bot_path}/visitors");
        let response = JsFuture::from(window().fetch_with_str_and_init(&url, &init))
            .await
            .map_err(fail)?;
        let response: web_sys::Response = response.dyn_into().map_err(fail)?;
        if !response.ok() {
            return Err(format!(
                "could not start a chat: HTTP {}",
                response.status()
            ));
        }
        let text = JsFuture::from(response.text().map_err(fail)?)
            .await
            .map_err(fail)?;
        serde_json::from_str(&text.as_string().unwrap_or_default())
            .map_err(|e| format!("could not start a chat: {e}"))
    }

    fn open(inner: Rc<Inner>) {
        inner.handlers.borrow_mut().clear();
        inner.ready.set(false);
        let location = window().location();
        let scheme = if location.protocol().ok().as_deref() == Some("https:") {
            "wss"
        } else {
            "ws"
        };
        let Ok(host) = location.host() else { return };
        let url = format!("{scheme}://{host}{}/socket", inner.bot_path());
        let ws = match WebSocket::new(&url) {
            Ok(ws) => ws,
            Err(_) => return retry(inner),
        };
        let on_open = {
            let inner = inner.clone();
            Handler::new(move |_| {
                let hello = inner.hello();
                if let (Some(ws), Some(hello)) = (inner.socket.borrow().as_ref(), hello) {
                    let _ = ws.send_with_str(&hello);
                }
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
        *inner.socket.borrow_mut() = Some(ws);
        inner
            .handlers
            .borrow_mut()
            .extend([on_open, on_message, on_close]);
    }

    /// Connects again after a growing pause (0.5 s doubling up to 10 s).
    fn retry(inner: Rc<Inner>) {
        inner.ready.set(false);
        inner.signals.status.set(ChatStatus::Reconnecting);
        let failures = inner.failures.get();
        inner.failures.set(failures + 1);
        let delay = Duration::from_millis((500u64 << failures.min(5)).min(10_000));
        set_timeout(move || begin(inner), delay);
    }
}
