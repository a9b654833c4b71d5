//! The session list: search, All / Paused / Waiting filters with counts, rows newest first, more
//! rows by cursor as the agent scrolls.

use std::time::Duration;

use leptos::prelude::*;

use crate::api::{count_sessions, list_sessions};
use crate::components::avatar::Avatar;
use crate::console::use_console;
use crate::format::relative_time;
use crate::model::{Handoff, SessionOverview, SessionQuery, Source};
use crate::state::{Filter, ListView};

/// Where the search box's text goes after the agent stops typing.
const SEARCH_DELAY: Duration = Duration::from_millis(250);

fn query_for(view: &ListView, cursor: Option<String>) -> SessionQuery {
    SessionQuery {
        paused_only: false,
        filter: Some(view.filter),
        search_text: Some(view.search.clone()).filter(|s| !s.trim().is_empty()),
        cursor,
        limit: None,
    }
}

#[component]
pub fn SessionPane() -> impl IntoView {
    let console = use_console();
    let view_signal = console.view;
    let first_page = Resource::new(
        move || {
            (
                console.bot_id.get(),
                view_signal.get(),
                console.reload.get(),
            )
        },
        |(bot, view, _)| list_sessions(bot, query_for(&view, None)),
    );
    let counts = Resource::new(
        move || {
            (
                console.bot_id.get(),
                console.counts_due.get(),
                console.reload.get(),
            )
        },
        |(bot, _, _)| count_sessions(bot),
    );
    let loading_more = RwSignal::new(false);
    let load_more = move || {
        let Some(cursor) = console.list.read_untracked().next_cursor.clone() else {
            return;
        };
        if loading_more.get_untracked() {
            return;
        }
        loading_more.set(true);
        let (bot, view) = (console.bot_id.get_untracked(), view_signal.get_untracked());
        leptos::task::spawn_local(async move {
            if let Ok(page) = list_sessions(bot, query_for(&view, Some(cursor))).await {
                console
                    .list
                    .update(|l| l.add_page(page.sessions, page.next_cursor));
            }
            loading_more.set(false);
        });
    };

    // A new search or filter starts at the top of the list (not at the bottom, which would
    // load page after page of the new results).
    let scroller = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |previous: Option<()>| {
        view_signal.track();
        if previous.is_some() {
            if let Some(el) = scroller.get_untracked() {
                el.set_scroll_top(0);
            }
        }
    });

    // Debounced search: only the last keystroke's text is searched.
    let typed = RwSignal::new(0u64);
    let on_search = move |ev: leptos::ev::Event| {
        let text = event_target_value(&ev);
        let generation = typed.get_untracked() + 1;
        typed.set(generation);
        set_timeout(
            move || {
                // `try_`: the agent may have left the console within the delay.
                if typed.try_get_untracked() == Some(generation) {
                    view_signal.update(|v| v.search = text);
                }
            },
            SEARCH_DELAY,
        );
    };

    view! {
        <nav class="sessions" aria-label="Sessions">
            <div class="list-tools">
                <input
                    id="session-search"
                    type="search"
                    placeholder="Search by name or user id  ( / )"
                    aria-label="Search sessions"
                    autocomplete="off"
                    on:input=on_search
                />
                <div class="filters" role="group" aria-label="Filter sessions">
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            if let Ok(c) = counts.await {
                                console.counts.set(c);
                            }
                            Filter::ALL
                        .into_iter()
                        .map(|filter| {
                            let count = move || {
                                let c = console.counts.get();
                                match filter {
                                    Filter::All => c.all,
                                    Filter::Paused => c.paused,
                                    Filter::Waiting => c.waiting,
                                }
                            };
                            view! {
                                <button
                                    class="filter"
                                    aria-pressed=move || (view_signal.read().filter == filter).to_string()
                                    on:click=move |_| view_signal.update(|v| v.filter = filter)
                                >
                                    {filter.label()}
                                    " "
                                    <span class="filter-count">{count}</span>
                                </button>
                            }
                        })
                        .collect_view()
                        })}
                    </Suspense>
                </div>
            </div>
            <div
                class="session-scroll"
                node_ref=scroller
                on:scroll=move |ev| {
                    let el = event_target::<leptos::web_sys::Element>(&ev);
                    if el.scroll_top() + el.client_height() + 200 >= el.scroll_height() {
                        load_more();
                    }
                }
            >
                <Transition fallback=|| view! { <p class="muted empty">"Loading sessions…"</p> }>
                    {move || Suspend::new(async move {
                        match first_page.await {
                            Ok(page) => {
                                let view = view_signal.get_untracked();
                                console.list.update(|l| l.load_first_page(page.sessions, page.next_cursor, &view));
                                view! {
                                    <SessionRows/>
                                    <Show when=move || console.list.read().next_cursor.is_some()>
                                        <button class="load-more" on:click=move |_| load_more() disabled=move || loading_more.get()>
                                            "Load more sessions"
                                        </button>
                                    </Show>
                                }
                                .into_any()
                            }
                            Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                        }
                    })}
                </Transition>
            </div>
        </nav>
    }
    .into_any()
}

#[component]
fn SessionRows() -> impl IntoView {
    let console = use_console();
    let empty = move || console.list.read().sessions.is_empty();
    view! {
        <Show when=empty fallback=|| ()>
            <p class="muted empty">"No conversations here."</p>
        </Show>
        <ul class="session-list">
            <For each=move || console.list.get().sessions key=|s| (s.id, s.last_event_on, s.unread_count, s.is_paused, s.full_name.clone(), s.handoff.as_ref().map(|h| (h.version, h.position))) let:session>
                <SessionRow session/>
            </For>
        </ul>
    }
}

#[component]
fn SessionRow(session: SessionOverview) -> impl IntoView {
    let console = use_console();
    let id = session.id;
    let is_selected = move || console.selected.get() == Some(id);
    let name = session.display_name().to_string();
    let preview = session
        .last_message
        .as_ref()
        .map(|m| format!("{}{}", prefix(m.source), m.text))
        .unwrap_or_default();
    let unread = session.unread_count;
    let last = session.last_event_on;
    let handoff = session.handoff.clone();
    let owner = move || {
        let me = console.me.with(|m| m.as_ref().map(|v| v.id));
        handoff.as_ref().map(|h| owner_label(h, me))
    };
    view! {
        <li class="session-row" class:selected=is_selected class:paused=session.is_paused>
            <a id=format!("session-{id}") href=console.session_href(id) aria-current=move || is_selected().then_some("page")>
                <Avatar name=name.clone() url=session.avatar_url.clone()/>
                <span class="session-main">
                    <span class="session-top">
                        <span class="session-name">{name}</span>
                        <time class="session-time" datetime=last.to_rfc3339()>
                            {move || relative_time(console.now.get(), last)}
                        </time>
                    </span>
                    <span class="session-channel">
                        {session.channel.clone()}
                        {move || owner().map(|o| view! { <span class="session-owner">{o}</span> })}
                    </span>
                    <span class="session-preview">{preview}</span>
                </span>
                <span class="session-badges">
                    {session.is_paused.then(|| view! { <span class="badge paused">"Paused"</span> })}
                    {(unread > 0).then(|| view! {
                        <span class="badge unread" aria-label=format!("{unread} unread")>{unread}</span>
                    })}
                </span>
            </a>
        </li>
    }
}

/// Who has a conversation, on its row: its place in the queue, or its owner.
fn owner_label(handoff: &Handoff, me: Option<i64>) -> String {
    match &handoff.assignee {
        Some(a) if Some(a.id) == me => "Yours".into(),
        Some(a) => a.name.clone(),
        None => match handoff.position {
            Some(p) => format!("Queued #{p}"),
            None => "Queued".into(),
        },
    }
}

fn prefix(source: Source) -> &'static str {
    match source {
        Source::User => "User: ",
        Source::Bot => "Bot: ",
        Source::Agent => "Agent: ",
        Source::System => "",
    }
}
