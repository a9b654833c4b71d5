//! The top bar (product, bot switcher, live indicator, notifications) and the toasts.

use leptos::prelude::*;

use crate::api::bot_ids;
use crate::browser;
use crate::components::bell::NotificationBell;
use crate::components::status_switch::StatusSwitch;
use crate::components::team_panel::TeamPanel;
use crate::components::user_menu::UserMenu;
use crate::console::use_console;
use crate::format::url_escape;
use crate::live::LiveStatus;

#[component]
pub fn TopBar() -> impl IntoView {
    let console = use_console();
    let bots = Resource::new(|| (), |_| bot_ids());
    let status = console.status;
    view! {
        <header class="topbar">
            <h1 class="brand">"hitl"</h1>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let ids = bots.await.unwrap_or_default();
                    let current = console.bot_id.get_untracked();
                    if ids.len() < 2 {
                        return view! { <span class="bot-name">{current}</span> }.into_any();
                    }
                    view! {
                        <label class="bot-switch">
                            <span class="visually-hidden">"Bot"</span>
                            <select
                                aria-label="Bot"
                                on:change=move |ev| {
                                    let bot = event_target_value(&ev);
                                    browser::go_to(&format!("/modules/hitl?bot={}", url_escape(&bot)));
                                }
                            >
                                {ids
                                    .into_iter()
                                    .map(|id| {
                                        let chosen = id == current;
                                        view! { <option value=id.clone() selected=chosen>{id.clone()}</option> }
                                    })
                                    .collect_view()}
                            </select>
                        </label>
                    }
                    .into_any()
                })}
            </Suspense>
            <span
                class="live"
                class:live-on=move || status.get() == LiveStatus::Live
                class:live-refused=move || matches!(status.get(), LiveStatus::Refused(_))
                role="status"
                aria-label="Connection"
            >
                {move || status.get().label()}
            </span>
            <StatusSwitch/>
            <TeamPanel/>
            <NotificationBell/>
            <UserMenu/>
        </header>
    }
    .into_any()
}

/// New notifications, shown for a few seconds in the corner.
#[component]
pub fn Toasts() -> impl IntoView {
    let console = use_console();
    view! {
        <div class="toasts" role="log" aria-live="polite" aria-label="New notifications">
            <For each=move || console.toasts.get() key=|n| n.id let:n>
                <div class=format!("toast level-{}", n.level.as_str())>
                    <span>{n.message.clone()}</span>
                    {n.session_id.map(|id| {
                        view! { <a href=console.session_href(id)>"Open"</a> }
                    })}
                </div>
            </For>
        </div>
    }
    .into_any()
}
