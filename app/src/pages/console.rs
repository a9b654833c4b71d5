//! The agent console at `/modules/hitl`: top bar, session list, conversation and profile, all kept
//! live by one events socket per console.

use std::time::Duration;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::open_session;
use crate::components::conversation::ConversationPane;
use crate::components::keyboard::use_shortcuts;
use crate::components::profile::ProfilePane;
use crate::components::session_list::SessionPane;
use crate::components::top_bar::{Toasts, TopBar};
use crate::console::Console;
use crate::live;

/// The bot shown when the address names none.
pub const DEFAULT_BOT: &str = "welcome-bot";

#[component]
pub fn ConsolePage() -> impl IntoView {
    let query = use_query_map();
    let bot_id = Memo::new(move |_| {
        query
            .read()
            .get("bot")
            .filter(|b| !b.is_empty())
            .unwrap_or_else(|| DEFAULT_BOT.to_string())
    });
    let selected = Memo::new(move |_| {
        query
            .read()
            .get("session")
            .and_then(|s| s.parse::<i64>().ok())
    });
    let console = Console::new(bot_id, selected);
    provide_context(console);

    // In the browser only: the live socket, the clock and local time, all ended when the agent
    // leaves the page, so nothing calls into it afterwards.
    Effect::new(move |_| {
        console.utc_offset.set(crate::browser::utc_offset_minutes());
        leptos::task::spawn_local(async move {
            if let Ok(viewer) = crate::api::whoami().await {
                // `try_`: the agent may have left the console meanwhile.
                let _ = console.me.try_set(Some(viewer));
            }
        });
        let connection = live::connect(bot_id.get_untracked(), console.status, move |event| {
            console.apply(event)
        });
        let connection = std::sync::Arc::new(connection);
        // The server hears which conversation is open, so colleagues see who is looking.
        Effect::new({
            let connection = connection.clone();
            move |_| connection.show(selected.get())
        });
        let clock = set_interval_with_handle(
            move || console.now.set(chrono::Utc::now()),
            Duration::from_secs(1),
        )
        .ok();
        on_cleanup(move || {
            connection.close();
            if let Some(clock) = clock {
                clock.clear();
            }
        });
    });
    // Opening a session marks it read.
    Effect::new(move |_| {
        if selected.get().is_some() {
            console.mark_read_soon();
        }
    });
    use_shortcuts(console);

    let profile_open = RwSignal::new(true);
    // On narrow windows the profile opens over the conversation, so it starts closed there.
    Effect::new(move |_| {
        if crate::browser::narrow_window() {
            profile_open.set(false);
        }
    });
    // The open session, read by the conversation and the profile.
    let opened = Resource::new(
        move || (bot_id.get(), selected.get(), console.reload.get()),
        |(bot, selected, _)| async move {
            match selected {
                Some(id) => open_session(bot, id).await.map(Some),
                None => Ok(None),
            }
        },
    );
    view! {
        <div
            class="console"
            class:has-selection=move || selected.get().is_some()
            class:profile-closed=move || !profile_open.get()
        >
            <TopBar/>
            <SessionPane/>
            <ConversationPane profile_open opened/>
            <ProfilePane open=profile_open opened/>
            <Toasts/>
        </div>
    }
}
