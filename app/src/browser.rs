//! Small wrappers over browser APIs (desktop notifications, sound, scrolling, focus). They do
//! nothing on the server, so components can call them unconditionally.

/// Whether the tab is in the background.
pub fn tab_hidden() -> bool {
    #[cfg(feature = "hydrate")]
    {
        leptos::prelude::document().hidden()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        false
    }
}

/// The browser's offset from UTC in minutes (east positive), for showing local times.
pub fn utc_offset_minutes() -> i32 {
    #[cfg(feature = "hydrate")]
    {
        -(js_sys::Date::new_0().get_timezone_offset() as i32)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        0
    }
}

/// Whether desktop notifications are allowed, denied or not asked yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub enum DesktopPermission {
    Granted,
    Denied,
    Default,
    Unsupported,
}

pub fn desktop_permission() -> DesktopPermission {
    #[cfg(feature = "hydrate")]
    {
        use web_sys::NotificationPermission;
        if js_sys::Reflect::has(&leptos::prelude::window(), &"Notification".into()) != Ok(true) {
            return DesktopPermission::Unsupported;
        }
        match web_sys::Notification::permission() {
            NotificationPermission::Granted => DesktopPermission::Granted,
            NotificationPermission::Denied => DesktopPermission::Denied,
            _ => DesktopPermission::Default,
        }
    }
    #[cfg(not(feature = "hydrate"))]
    {
        DesktopPermission::Unsupported
    }
}

/// Asks for permission to show desktop notifications; `done` gets the answer.
pub fn ask_desktop_permission(done: impl Fn(DesktopPermission) + 'static) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::closure::Closure;
        use wasm_bindgen::JsValue;
        if let Ok(promise) = web_sys::Notification::request_permission() {
            let then = Closure::once(move |_: JsValue| done(desktop_permission()));
            let _ = promise.then(&then);
            then.forget();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = done;
    }
}

/// Raises a desktop notification when allowed.
pub fn desktop_notify(title: &str, body: &str) {
    #[cfg(feature = "hydrate")]
    if desktop_permission() == DesktopPermission::Granted {
        let options = web_sys::NotificationOptions::new();
        options.set_body(body);
        options.set_icon("/favicon.svg");
        let _ = web_sys::Notification::new_with_options(title, &options);
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (title, body);
    }
}

/// Plays the notification chime (`public/notify.wav`).
pub fn play_chime() {
    #[cfg(feature = "hydrate")]
    if let Ok(audio) = web_sys::HtmlAudioElement::new_with_src("/notify.wav") {
        // Browsers refuse sound before the user interacted with the page; that is fine.
        let _ = audio.play();
    }
}

/// Focuses the element with this id, if any.
pub fn focus_id(id: &str) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        if let Some(el) = leptos::prelude::document()
            .get_element_by_id(id)
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = el.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = id;
    }
}

/// The id of the element that has the focus.
pub fn focused_id() -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        leptos::prelude::document().active_element().map(|e| e.id())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        None
    }
}

/// Whether the user is typing in a field (then single-key shortcuts must not fire).
pub fn typing_in_field() -> bool {
    #[cfg(feature = "hydrate")]
    {
        leptos::prelude::document()
            .active_element()
            .map(|e| matches!(e.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"))
            .unwrap_or(false)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        false
    }
}

/// Goes to another page of the app with a full load (used to switch bots).
pub fn go_to(url: &str) {
    #[cfg(feature = "hydrate")]
    {
        let _ = leptos::prelude::window().location().set_href(url);
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = url;
    }
}

/// Whether the window is too narrow for the profile beside the conversation.
pub fn narrow_window() -> bool {
    #[cfg(feature = "hydrate")]
    {
        leptos::prelude::window()
            .inner_width()
            .ok()
            .and_then(|w| w.as_f64())
            .is_some_and(|w| w < 1100.0)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        false
    }
}

/// Opens the browser's print dialog.
pub fn print() {
    #[cfg(feature = "hydrate")]
    {
        let _ = leptos::prelude::window().print();
    }
}
