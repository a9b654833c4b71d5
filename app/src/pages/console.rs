//! The agent console at `/modules/hitl`: the session list and the selected conversation, kept live
//! by the events socket.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::{list_messages, list_sessions};
use crate::components::conversation::{Conversation, ConversationHeader};
use crate::components::session_list::SessionList;
use crate::live::{self, LiveStatus};
use crate::model::{EventKind, SessionQuery};

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

    // Bumped by live events; the resources below refetch when they change.
    let sessions_version = RwSignal::new(0u64);
    let messages_version = RwSignal::new(0u64);
    let status = RwSignal::new(LiveStatus::Connecting);

    let sessions = Resource::new(
        move || (bot_id.get(), sessions_version.get()),
        |(bot, _)| list_sessions(bot, SessionQuery::default()),
    );
    let messages = Resource::new(
        move || (bot_id.get(), selected.get(), messages_version.get()),
        |(bot, session, _)| async move {
            match session {
                Some(id) => list_messages(bot, id, None).await.map(Some),
                None => Ok(None),
            }
        },
    );

    // Runs only in the browser, once hydrated.
    Effect::new(move |_| {
        live::connect(bot_id.get_untracked(), status, move |event| {
            match event.kind {
                EventKind::Resync => {
                    sessions_version.update(|v| *v += 1);
                    messages_version.update(|v| *v += 1);
                }
                EventKind::MessageCreated { message } => {
                    if selected.get_untracked() == Some(message.session_id) {
                        messages_version.update(|v| *v += 1);
                    }
                }
                EventKind::SessionCreated { .. } | EventKind::SessionUpdated { .. } => {
                    sessions_version.update(|v| *v += 1);
                }
                EventKind::NotificationCreated { .. } => {}
            }
        });
    });

    view! {
        <div class="console">
            <header class="topbar">
                <h1 class="brand">"hitl"</h1>
                <span class="bot-name">{move || bot_id.get()}</span>
                <span
                    class="live"
                    class:live-on=move || status.get() == LiveStatus::Live
                    role="status"
                    aria-label="Connection"
                >
                    {move || status.get().label()}
                </span>
            </header>
            <nav class="sessions" aria-label="Sessions">
                <Transition fallback=|| view! { <p class="muted">"Loading sessions…"</p> }>
                    {move || Suspend::new(async move {
                        match sessions.await {
                            Ok(page) => view! {
                                <SessionList
                                    sessions=page.sessions
                                    bot_id=bot_id.get_untracked()
                                    selected=selected.get_untracked()
                                />
                            }
                            .into_any(),
                            Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                        }
                    })}
                </Transition>
            </nav>
            <main class="conversation" aria-label="Conversation">
                <Transition fallback=|| view! { <p class="muted">"Loading conversation…"</p> }>
                    {move || Suspend::new(async move {
                        let session = sessions.await.ok().and_then(|page| {
                            page.sessions.into_iter().find(|s| Some(s.id) == selected.get_untracked())
                        });
                        match messages.await {
                            Ok(Some(list)) => view! {
                                {session.map(|s| view! { <ConversationHeader session=s/> })}
                                <Conversation messages=list/>
                            }
                            .into_any(),
                            Ok(None) => view! {
                                <p class="muted empty">"Pick a conversation on the left."</p>
                            }
                            .into_any(),
                            Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                        }
                    })}
                </Transition>
            </main>
        </div>
    }
}
