//! The console's live connection: the bot's events WebSocket, reconnecting with backoff and resuming
//! from the last `seq` it saw, so no event is lost across a reconnect or a server restart.

use leptos::prelude::*;

use crate::model::Event;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveStatus {
    Connecting,
    Live,
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    Reconnecting,
    /// The server closed the socket for good: the agent no longer works on this bot.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    Refused(String),
}

impl LiveStatus {
    pub fn label(&self) -> String {
        match self {
            LiveStatus::Connecting => "Connecting…".into(),
            LiveStatus::Live => "Live".into(),
            LiveStatus::Reconnecting => "Reconnecting…".into(),
            LiveStatus::Refused(reason) => format!("Stopped: {reason}"),
        }
    }
}

/// What the console does when the server closes its socket with `code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub enum OnClose {
    /// The credential no longer holds: go to the sign-in page.
    SignIn,
    /// Still signed in, but not on this bot: stop and show the reason.
    Stop,
    /// Anything else (a restart, a network drop): connect again.
    Reconnect,
}

#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
impl OnClose {
    pub fn for_code(code: u16) -> OnClose {
        match code {
            crate::account::CLOSE_SIGNED_OUT => OnClose::SignIn,
            crate::account::CLOSE_NOT_ALLOWED => OnClose::Stop,
            _ => OnClose::Reconnect,
        }
    }
}

/// The sign-in page that brings the agent back to `here` (a path with its query).
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub fn sign_in_href(here: &str) -> String {
    format!(
        "/login?signed_out=1&next={}",
        crate::format::url_escape(here)
    )
}

/// The open live connection of a console page; `close` ends it for good, with no reconnect and
/// no later call into the page.
pub struct LiveConnection {
    #[cfg(feature = "hydrate")]
    inner: send_wrapper::SendWrapper<std::rc::Rc<socket::Inner>>,
}

impl LiveConnection {
    pub fn close(&self) {
        #[cfg(feature = "hydrate")]
        socket::close(&self.inner);
    }

    /// Tells the server which conversation the console shows (again after every reconnect).
    pub fn show(&self, session_id: Option<i64>) {
        #[cfg(feature = "hydrate")]
        socket::show(&self.inner, session_id);
        #[cfg(not(feature = "hydrate"))]
        let _ = session_id;
    }
}

/// Opens the events socket of `bot_id` once the page is hydrated and calls `on_event` for every
/// event, in `seq` order, without duplicates. A `resync` event means: fetch your state again.
#[cfg(feature = "hydrate")]
pub fn connect(
    bot_id: String,
    status: RwSignal<LiveStatus>,
    on_event: impl Fn(Event) + 'static,
) -> LiveConnection {
    use std::rc::Rc;
    let inner = Rc::new(socket::Inner::new(bot_id, status, Box::new(on_event)));
    socket::start(inner.clone());
    LiveConnection {
        inner: send_wrapper::SendWrapper::new(inner),
    }
}

#[cfg(not(feature = "hydrate"))]
pub fn connect(
    _bot_id: String,
    _status: RwSignal<LiveStatus>,
    _on_event: impl Fn(Event) + 'static,
) -> LiveConnection {
    LiveConnection {}
}

#[cfg(feature = "hydrate")]
mod socket {
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;
    use std::time::Duration;

    use leptos::prelude::*;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::{JsCast, JsValue};
    use web_sys::{CloseEvent, MessageEvent, WebSocket};

    use super::{sign_in_href, LiveStatus, OnClose};

    /// A small request that needs a signed-in person: 401 says the sign-in is gone.
    const SIGNED_IN_PROBE: &str = "/api/v1/notifications?limit=1";
    use crate::model::{Event, EventKind};

    type Handler = Closure<dyn FnMut(JsValue)>;

    pub struct Inner {
        bot_id: String,
        status: RwSignal<LiveStatus>,
        on_event: Box<dyn Fn(Event)>,
        last_seq: Cell<Option<i64>>,
        // The log's epoch the last resync named; sent back with `since`.
        epoch: RefCell<Option<String>>,
        failures: Cell<u32>,
        // Set when the page is left or the server refused: no reconnect, no more events.
        closed: Cell<bool>,
        // Whether the current socket opened: one refused at the upgrade closes unopened.
        opened: Cell<bool>,
        socket: RefCell<Option<WebSocket>>,
        // The conversation the console shows, said on every socket it opens.
        showing: Cell<Option<i64>>,
        // Set when the page starts to leave (the sign-out form, a reload; also a download,
        // after which the page stays), so a 4401 that comes meanwhile does not send the browser
        // to the sign-in page instead of where it was going: it is then only said.
        leaving: Cell<bool>,
        on_leave: RefCell<Option<Handler>>,
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
                epoch: RefCell::new(None),
                failures: Cell::new(0),
                closed: Cell::new(false),
                opened: Cell::new(false),
                socket: RefCell::new(None),
                showing: Cell::new(None),
                leaving: Cell::new(false),
                on_leave: RefCell::new(None),
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
                if let Some(epoch) = self.epoch.borrow().as_deref() {
                    let epoch = String::from(js_sys::encode_uri_component(epoch));
                    url.push_str(&format!("&epoch={epoch}"));
                }
            }
            Some(url)
        }

        fn receive(&self, frame: &str) {
            if self.closed.get() {
                return;
            }
            let Ok(event) = serde_json::from_str::<Event>(frame) else {
                leptos::logging::warn!("hitl: ignored an event frame that did not parse");
                return;
            };
            // Said as it is now: no `seq` of its own, so none to check or keep.
            if event.kind.is_ephemeral() {
                (self.on_event)(event);
                return;
            }
            let is_resync = matches!(event.kind, EventKind::Resync { .. });
            if let EventKind::Resync { epoch: Some(epoch) } = &event.kind {
                *self.epoch.borrow_mut() = Some(epoch.clone());
            }
            // A resync restarts the count where the server stands; anything else must be new.
            if !is_resync && self.last_seq.get().is_some_and(|last| event.seq <= last) {
                return;
            }
            self.last_seq.set(Some(event.seq));
            (self.on_event)(event);
        }
    }

    /// Starts the connection: its first socket, and the listener that ends it when the page
    /// is left.
    pub fn start(inner: Rc<Inner>) {
        let on_leave = {
            let inner = inner.clone();
            Handler::new(move |_| inner.leaving.set(true))
        };
        let _ = window()
            .add_event_listener_with_callback("beforeunload", on_leave.as_ref().unchecked_ref());
        *inner.on_leave.borrow_mut() = Some(on_leave);
        open(inner);
    }

    fn open(inner: Rc<Inner>) {
        if inner.closed.get() {
            return;
        }
        inner.handlers.borrow_mut().clear();
        inner.opened.set(false);
        let Some(url) = inner.url() else { return };
        let ws = match WebSocket::new(&url) {
            Ok(ws) => ws,
            Err(_) => return retry(inner),
        };

        let on_open = {
            let inner = inner.clone();
            Handler::new(move |_| {
                inner.failures.set(0);
                inner.opened.set(true);
                inner.status.set(LiveStatus::Live);
                say_showing(&inner);
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
            Handler::new(move |e: JsValue| {
                let (code, reason) = e
                    .dyn_ref::<CloseEvent>()
                    .map(|c| (c.code(), c.reason()))
                    .unwrap_or_default();
                closed_by_server(inner.clone(), code, reason)
            })
        };
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        inner
            .handlers
            .borrow_mut()
            .extend([on_open, on_message, on_close]);
        *inner.socket.borrow_mut() = Some(ws);
    }

    pub fn show(inner: &Inner, session_id: Option<i64>) {
        if inner.showing.replace(session_id) != session_id {
            say_showing(inner);
        }
    }

    /// Tells the open socket, if any, which conversation is shown.
    fn say_showing(inner: &Inner) {
        let frame = crate::model::ConsoleFrame::Viewing {
            session_id: inner.showing.get(),
        };
        let Ok(text) = serde_json::to_string(&frame) else {
            return;
        };
        if let Some(ws) = inner.socket.borrow().as_ref() {
            if ws.ready_state() == WebSocket::OPEN {
                let _ = ws.send_with_str(&text);
            }
        }
    }

    fn closed_by_server(inner: Rc<Inner>, code: u16, reason: String) {
        if inner.closed.get() {
            return;
        }
        match OnClose::for_code(code) {
            // Refused before it opened: perhaps no longer signed in (a sign-in that expired
            // while the computer slept), which the browser does not tell a socket.
            OnClose::Reconnect if !inner.opened.get() => {
                leptos::task::spawn_local(async move {
                    if still_signed_in().await {
                        retry(inner);
                    } else if !inner.closed.get() {
                        go_to_sign_in(&inner, "you are signed out".into());
                    }
                });
            }
            OnClose::Reconnect => retry(inner),
            OnClose::Stop => {
                inner.closed.set(true);
                inner.status.set(LiveStatus::Refused(reason));
            }
            OnClose::SignIn => go_to_sign_in(&inner, reason),
        }
    }

    fn go_to_sign_in(inner: &Inner, reason: String) {
        inner.closed.set(true);
        if inner.leaving.get() {
            inner.status.set(LiveStatus::Refused(reason));
            return;
        }
        let location = window().location();
        let here = format!(
            "{}{}",
            location.pathname().unwrap_or_default(),
            location.search().unwrap_or_default()
        );
        let _ = location.set_href(&sign_in_href(&here));
    }

    /// Asks the server whether this browser is still signed in; anything but a clear "no"
    /// (the server down, the network gone) counts as yes, so the console keeps reconnecting.
    async fn still_signed_in() -> bool {
        use wasm_bindgen_futures::JsFuture;
        let Ok(answer) = JsFuture::from(window().fetch_with_str(SIGNED_IN_PROBE)).await else {
            return true;
        };
        answer
            .dyn_into::<web_sys::Response>()
            .map_or(true, |r| r.status() != 401)
    }

    /// Ends the connection for good: the socket is closed without its handlers, so nothing
    /// reconnects and no event reaches the page being left.
    pub fn close(inner: &Rc<Inner>) {
        inner.closed.set(true);
        if let Some(on_leave) = inner.on_leave.borrow_mut().take() {
            let _ = window().remove_event_listener_with_callback(
                "beforeunload",
                on_leave.as_ref().unchecked_ref(),
            );
        }
        if let Some(ws) = inner.socket.borrow_mut().take() {
            ws.set_onopen(None);
            ws.set_onmessage(None);
            ws.set_onclose(None);
            let _ = ws.close();
        }
        inner.handlers.borrow_mut().clear();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_close_codes_of_lost_rights_stop_the_console() {
        assert_eq!(OnClose::for_code(4401), OnClose::SignIn);
        assert_eq!(OnClose::for_code(4403), OnClose::Stop);
        assert_eq!(OnClose::for_code(1001), OnClose::Reconnect);
        assert_eq!(OnClose::for_code(1006), OnClose::Reconnect);
    }

    #[test]
    fn the_sign_in_page_leads_back_to_the_console() {
        assert_eq!(
            sign_in_href("/modules/hitl?bot=welcome-bot&session=3"),
            "/login?signed_out=1&next=%2Fmodules%2Fhitl%3Fbot%3Dwelcome-bot%26session%3D3"
        );
    }
}
