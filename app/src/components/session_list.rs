//! The session list: search, the filters (All, Queue, Mine, Others, Waiting, Closed today) with
//! live counts, rows newest first (the queue longest waiting first, with its waiting time and
//! Claim), more rows by cursor as the agent scrolls.

use std::time::Duration;

use leptos::prelude::*;

use crate::api::{claim_session, count_sessions, list_sessions};
use crate::components::avatar::Avatar;
use crate::console::{use_console, Console};
use crate::format::{local_midnight, relative_time, stopwatch};
use crate::model::{Handoff, HandoffState, SessionOverview, SessionQuery, Source};
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
        closed_since: (view.filter == Filter::Closed).then_some(view.closed_since),
    }
}

#[component]
pub fn SessionPane() -> impl IntoView {
    let console = use_console();
    let view_signal = console.view;
    // Who looks and where their day starts, kept in the view (changed only when they change).
    let midnight = Memo::new(move |_| local_midnight(console.now.get(), console.utc_offset.get()));
    Effect::new(move |_| {
        let viewer = console.me.with(|m| m.as_ref().map(|v| v.id));
        let since = midnight.get();
        if view_signal.with_untracked(|v| v.viewer != viewer || v.closed_since != since) {
            view_signal.update(|v| {
                v.viewer = viewer;
                v.closed_since = since;
            });
        }
    });
    // Only what the server is asked refetches the list (not who looks).
    let query = Memo::new(move |_| view_signal.with(|v| query_for(v, None)));
    let first_page = Resource::new(
        move || (console.bot_id.get(), query.get(), console.reload.get()),
        |(bot, query, _)| list_sessions(bot, query),
    );
    let counts = Resource::new(
        move || {
            (
                console.bot_id.get(),
                console.counts_due.get(),
                console.reload.get(),
                midnight.get(),
            )
        },
        |(bot, _, _, since)| count_sessions(bot, Some(since)),
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
                            Filter::SHOWN
                        .into_iter()
                        .map(|filter| {
                            let count = move || {
                                let viewer = view_signal.with(|v| v.viewer);
                                console
                                    .counts
                                    .with(|c| filter.count(c, viewer))
                                    .map(|n| n.to_string())
                                    .unwrap_or_default()
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
    let queued_at = handoff
        .as_ref()
        .filter(|h| h.state == HandoffState::Queued)
        .map(|h| h.queued_at);
    let owner = move || {
        let me = console.me.with(|m| m.as_ref().map(|v| v.id));
        handoff.as_ref().map(|h| owner_label(h, me))
    };
    let closed = session
        .last_closed
        .as_ref()
        .filter(|_| session.handoff.is_none())
        .map(|c| closed_label(&c.reason));
    let in_closed_view = move || console.view.with(|v| v.filter == Filter::Closed);
    let claiming = RwSignal::new(false);
    let claim_error = RwSignal::new(None::<String>);
    let navigate = leptos_router::hooks::use_navigate();
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
                        {move || {
                            let others = console.others_viewing(id);
                            (!others.is_empty()).then(|| view! {
                                <span class="session-viewers" aria-label="Viewing">
                                    {format!("Viewing: {}", crate::format::names_list(&others))}
                                </span>
                            })
                        }}
                        {closed.map(|c| view! {
                            <Show when=in_closed_view>
                                <span class="session-closed">{c.clone()}</span>
                            </Show>
                        })}
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
            {queued_at.map(|at| view! {
                <div class="row-actions">
                    "Waiting "
                    <span class="session-waited" role="timer" aria-label="Waiting">
                        {move || stopwatch(console.now.get(), at)}
                    </span>
                    <button
                        class="row-claim"
                        aria-label=format!("Claim {}", session.display_name())
                        disabled=move || claiming.get()
                        on:click={
                            let navigate = navigate.clone();
                            move |_| claim_row(console, id, claiming, claim_error, navigate.clone())
                        }
                    >
                        "Claim"
                    </button>
                </div>
            })}
            <Show when=move || claim_error.get().is_some()>
                <p class="row-error" role="alert">{move || claim_error.get()}</p>
            </Show>
        </li>
    }
}

/// Claims a queued conversation from its row and opens it; a lost race says who has it.
fn claim_row(
    console: Console,
    id: i64,
    claiming: RwSignal<bool>,
    error: RwSignal<Option<String>>,
    navigate: impl Fn(&str, leptos_router::NavigateOptions) + 'static,
) {
    claiming.set(true);
    error.set(None);
    let bot = console.bot_id.get_untracked();
    leptos::task::spawn_local(async move {
        match claim_session(bot, id).await {
            Ok(session) => {
                console.apply_session(session);
                navigate(&console.session_href(id), Default::default());
            }
            Err(e) => {
                let _ = error.try_set(Some(format!("Could not claim it: {e}")));
            }
        }
        let _ = claiming.try_set(false);
    });
}

/// Why a conversation went back to the bot, on its row in "Closed today".
fn closed_label(reason: &str) -> String {
    match reason {
        "resolved" => "Resolved".into(),
        "returned_to_bot" => "Back to the bot".into(),
        "inactivity" => "Closed: no reply".into(),
        "queue_timeout" => "Closed: waited too long".into(),
        "agent_offline" => "Closed: agent offline".into(),
        other => format!("Closed: {}", other.replace('_', " ")),
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
