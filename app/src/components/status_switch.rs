//! The agent's status in the top bar: Online, Busy, Away or Offline, as they choose it; the
//! server keeps it, and it follows live when it changes in another tab.

use leptos::prelude::*;

use crate::api::{my_agent_info, set_my_status};
use crate::console::use_console;
use crate::team::AgentStatus;

#[component]
pub fn StatusSwitch() -> impl IntoView {
    let console = use_console();
    let error = RwSignal::new(None::<String>);
    // What the server says now, once it said it.
    Effect::new(move |_| {
        let bot = console.bot_id.get();
        leptos::task::spawn_local(async move {
            if let Ok(me) = my_agent_info(bot).await {
                let _ = console.my_status.try_set(Some(me.chosen_status));
            }
        });
    });
    let choose = move |ev: leptos::ev::Event| {
        let Some(status) = AgentStatus::parse(&event_target_value(&ev)) else {
            return;
        };
        let before = console.my_status.get_untracked();
        console.my_status.set(Some(status));
        leptos::task::spawn_local(async move {
            match set_my_status(status).await {
                Ok(()) => {
                    let _ = error.try_set(None);
                }
                Err(e) => {
                    let _ = console.my_status.try_set(before);
                    let _ = error.try_set(Some(format!("Your status did not change: {e}")));
                }
            }
        });
    };
    view! {
        <label class="status-switch" data-status=move || console.my_status.get().map(|s| s.as_str())>
            <span class="visually-hidden">"Your status"</span>
            <select
                aria-label="Your status"
                disabled=move || console.my_status.get().is_none()
                prop:value=move || console.my_status.get().map(|s| s.as_str()).unwrap_or("online")
                on:change=choose
            >
                {AgentStatus::ALL
                    .into_iter()
                    .map(|s| view! { <option value=s.as_str()>{s.label()}</option> })
                    .collect_view()}
            </select>
        </label>
        <Show when=move || error.get().is_some()>
            <span class="error" role="alert">{move || error.get()}</span>
        </Show>
    }
}
