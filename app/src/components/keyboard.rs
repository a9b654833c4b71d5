//! Keyboard shortcuts: `/` search, ↑/↓ or k/j move through sessions, Enter opens, `p` pauses or
//! resumes, Esc leaves the composer (handled there).

use leptos::prelude::*;

use crate::browser;
use crate::components::conversation::toggle_pause;
use crate::console::Console;

pub fn use_shortcuts(console: Console) {
    {
        let busy = RwSignal::new(false);
        let error = RwSignal::new(None::<String>);
        let handle = window_event_listener(leptos::ev::keydown, move |ev| {
            if ev.ctrl_key() || ev.meta_key() || ev.alt_key() || browser::typing_in_field() {
                return;
            }
            let step = match ev.key().as_str() {
                "/" => {
                    ev.prevent_default();
                    browser::focus_id("session-search");
                    return;
                }
                "p" => {
                    toggle_pause(console, busy, error);
                    return;
                }
                "ArrowDown" | "j" => 1,
                "ArrowUp" | "k" => -1,
                _ => return,
            };
            ev.prevent_default();
            // Moves the focus between rows; Enter then opens the focused row (it is a link).
            let from = browser::focused_id()
                .and_then(|id| id.strip_prefix("session-").and_then(|n| n.parse().ok()))
                .or(console.selected.get_untracked());
            if let Some(next) = console.list.with_untracked(|l| l.neighbour(from, step)) {
                browser::focus_id(&format!("session-{next}"));
            }
        });
        on_cleanup(move || handle.remove());
    }
}
