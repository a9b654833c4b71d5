//! The open conversation: header with the pause toggle and who owns it, messages grouped by day
//! with scroll-back, the "new messages" pill, and the composer.

use leptos::html::Div;
use leptos::prelude::*;

use crate::api::{claim_session, list_messages, set_paused, OpenedSession};
use crate::components::composer::Composer;
use crate::components::handoff_bar::HandoffBar;
use crate::components::message_view::{MessageView, PendingView};
use crate::console::{use_console, Console, PAGE};
use crate::error::AppError;
use crate::format::{day_label, duration_words};
use crate::model::{Message, SessionOverview};

/// The open session and its newest messages, as loaded for the address's `session`.
pub type Opened = Resource<Result<Option<OpenedSession>, AppError>>;

#[component]
pub fn ConversationPane(profile_open: RwSignal<bool>, opened: Opened) -> impl IntoView {
    let console = use_console();
    view! {
        <section class="conversation" aria-label="Conversation">
            <Transition fallback=|| view! { <p class="muted empty">"Loading conversation…"</p> }>
                {move || Suspend::new(async move {
                    match opened.await {
                        Ok(Some(o)) => {
                            let id = o.session.id;
                            console.set_current(o.session);
                            console.convo.update(|c| c.load(id, o.messages, PAGE));
                            console.new_below.set(0);
                            console.at_bottom.set(true);
                            view! {
                                <ConversationHeader profile_open/>
                                <HandoffBar/>
                                <MessageList/>
                                <Composer/>
                            }
                            .into_any()
                        }
                        Ok(None) => view! {
                            <p class="muted empty pick">"Pick a conversation on the left."</p>
                        }
                        .into_any(),
                        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
    .into_any()
}

/// Who the conversation is with, and the pause toggle with who paused it, why and how long ago.
#[component]
fn ConversationHeader(profile_open: RwSignal<bool>) -> impl IntoView {
    let console = use_console();
    let session = move || console.current.get();
    let paused = move || session().is_some_and(|s| s.is_paused);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let toggle = move |_| toggle_pause(console, busy, error);
    view! {
        <header class="conversation-header">
            <a class="back" href=move || format!("/modules/hitl?bot={}", crate::format::url_escape(&console.bot_id.get()))>
                "‹ Sessions"
            </a>
            <h2>{move || session().map(|s| s.display_name().to_string())}</h2>
            <span class="session-channel">{move || session().map(|s| s.channel)}</span>
            <Show when=paused>
                <span class="badge paused" role="status">"Paused"</span>
                <span class="pause-detail">{move || session().map(|s| pause_detail(&s, console))}</span>
            </Show>
            <span class="header-actions">
                <button
                    class="pause-toggle"
                    class:resume=paused
                    aria-pressed=move || paused().to_string()
                    aria-keyshortcuts="p"
                    disabled=move || busy.get()
                    on:click=toggle
                >
                    {move || if paused() { "Return to bot" } else { "Take over" }}
                </button>
                <button
                    class="profile-toggle"
                    aria-expanded=move || profile_open.get().to_string()
                    aria-controls="profile"
                    on:click=move |_| profile_open.update(|o| *o = !*o)
                >
                    "Profile"
                </button>
            </span>
            <Show when=move || error.get().is_some()>
                <p class="error" role="alert">{move || error.get()}</p>
            </Show>
        </header>
        {move || {
            let others = session().map(|s| console.others_viewing(s.id)).unwrap_or_default();
            (!others.is_empty()).then(|| {
                let verb = if others.len() == 1 { "is" } else { "are" };
                let text = format!("{} {verb} viewing too", crate::format::names_list(&others));
                let title = text.clone();
                view! {
                    <p class="viewing-too" role="note" aria-label="Also viewing" title=title>
                        {text}
                    </p>
                }
            })
        }}
    }
    .into_any()
}

/// Takes a running conversation from the bot (the agent owns it then) or hands a paused one
/// back to the bot.
pub fn toggle_pause(console: Console, busy: RwSignal<bool>, error: RwSignal<Option<String>>) {
    let Some(session) = console.current.get_untracked() else {
        return;
    };
    busy.set(true);
    let bot = console.bot_id.get_untracked();
    leptos::task::spawn_local(async move {
        let answer = if session.is_paused {
            set_paused(bot, session.id, false).await
        } else {
            claim_session(bot, session.id).await
        };
        match answer {
            Ok(updated) => {
                error.set(None);
                console.apply_session(updated);
            }
            Err(e) => error.set(Some(format!("Could not change the pause: {e}"))),
        }
        busy.set(false);
    });
}

fn pause_detail(s: &SessionOverview, console: Console) -> String {
    let by = s.paused_by.clone().unwrap_or_else(|| "someone".into());
    let why = s
        .paused_reason
        .as_ref()
        .map(|r| format!(": {r}"))
        .unwrap_or_default();
    let since = s
        .paused_at
        .map(|at| format!(" · for {}", duration_words(console.now.get(), at)))
        .unwrap_or_default();
    format!("by {by}{why}{since}")
}

/// One row of the message list: a day heading or a message.
#[derive(Clone, PartialEq)]
enum Row {
    Day(String, String),
    Message(Message),
}

fn rows(messages: &[Message], today: chrono::NaiveDate, offset_minutes: i32) -> Vec<Row> {
    let offset = chrono::Duration::minutes(offset_minutes as i64);
    let mut out = Vec::with_capacity(messages.len() + 4);
    let mut last_day = None;
    for m in messages {
        let day = (m.ts + offset).date_naive();
        if last_day != Some(day) {
            out.push(Row::Day(day.to_string(), day_label(today, day)));
            last_day = Some(day);
        }
        out.push(Row::Message(m.clone()));
    }
    out
}

#[component]
fn MessageList() -> impl IntoView {
    let console = use_console();
    let scroller = NodeRef::<Div>::new();
    let loading_older = RwSignal::new(false);

    // Scroll to the newest message when asked, or when another conversation opens; not on every
    // change of the messages (loading older ones must keep the agent's place).
    let open_id = Memo::new(move |_| console.convo.with(|c| c.session_id));
    Effect::new(move |_| {
        console.scroll_to_end.track();
        open_id.track();
        if let Some(el) = scroller.get() {
            request_animation_frame(move || el.set_scroll_top(el.scroll_height()));
        }
    });

    let load_older = move || {
        let (Some(session_id), Some(before)) = console
            .convo
            .with_untracked(|c| (c.session_id, c.oldest_id()))
        else {
            return;
        };
        if loading_older.get_untracked() || !console.convo.with_untracked(|c| c.has_older) {
            return;
        }
        loading_older.set(true);
        let bot = console.bot_id.get_untracked();
        leptos::task::spawn_local(async move {
            if let Ok(older) = list_messages(bot, session_id, Some(before)).await {
                // Keep the agent's place: what was on screen stays where it was.
                // `try_`: the agent may have left the console while it loaded.
                let height_before = scroller
                    .try_get_untracked()
                    .flatten()
                    .map(|el| el.scroll_height())
                    .unwrap_or(0);
                console.convo.update(|c| c.add_older(older, PAGE));
                if let Some(el) = scroller.try_get_untracked().flatten() {
                    request_animation_frame(move || {
                        el.set_scroll_top(el.scroll_top() + el.scroll_height() - height_before);
                    });
                }
            }
            loading_older.set(false);
        });
    };

    let on_scroll = move |_| {
        let Some(el) = scroller.get_untracked() else {
            return;
        };
        let at_bottom = el.scroll_top() + el.client_height() + 40 >= el.scroll_height();
        console.at_bottom.set(at_bottom);
        if at_bottom {
            console.new_below.set(0);
        }
        if el.scroll_top() < 80 {
            load_older();
        }
    };

    let today = move || {
        (console.now.get() + chrono::Duration::minutes(console.utc_offset.get() as i64))
            .date_naive()
    };
    view! {
        <div class="message-scroll" node_ref=scroller on:scroll=on_scroll>
            <Show when=move || console.convo.read().has_older>
                <button class="load-older" on:click=move |_| load_older() disabled=move || loading_older.get()>
                    "Load older messages"
                </button>
            </Show>
            <ol class="messages" aria-label="Messages">
                <For
                    each=move || rows(&console.convo.read().messages, today(), console.utc_offset.get())
                    key=|row| match row {
                        Row::Day(key, label) => format!("d{key}{label}"),
                        Row::Message(m) => format!("m{}", m.id),
                    }
                    let:row
                >
                    {match row {
                        Row::Day(_, label) => view! { <li class="day" role="separator">{label}</li> }.into_any(),
                        Row::Message(m) => view! { <MessageView message=m/> }.into_any(),
                    }}
                </For>
                <For each=move || console.convo.get().pending key=|p| (p.local_id, p.error.clone()) let:pending>
                    <PendingView pending/>
                </For>
            </ol>
        </div>
        <Show when=move || { console.new_below.get() > 0 }>
            <button
                class="new-pill"
                on:click=move |_| {
                    console.new_below.set(0);
                    console.scroll_to_end.update(|n| *n += 1);
                }
            >
                {move || match console.new_below.get() {
                    1 => "1 new message".to_string(),
                    n => format!("{n} new messages"),
                }}
            </button>
        </Show>
    }
    .into_any()
}
