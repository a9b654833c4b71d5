//! The chat page at `/chat/{botId}`: a header with the bot's name and the connection state, the
//! conversation (a live log for screen readers), and a composer. With `?embed=1` it sits in the
//! embed script's frame and offers a close button.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::connection::{ChatSignals, Connection};
use super::lines::{Delivery, Line, Who};
use super::wire::{NAME_MAX_CHARS, TEXT_MAX_CHARS};
use crate::api::chat_bot_name;
use crate::components::message_view::{is_web_url, linked};
use crate::model::Content;

#[component]
pub fn ChatPage() -> impl IntoView {
    let bot_id = use_params_map()
        .read_untracked()
        .get("bot_id")
        .unwrap_or_default();
    let embedded = use_query_map().read_untracked().get("embed").is_some();
    let name = Resource::new(
        {
            let bot_id = bot_id.clone();
            move || bot_id.clone()
        },
        chat_bot_name,
    );
    view! {
        <Suspense fallback=|| view! { <p class="chat-loading">"Loading the chat…"</p> }>
            {move || {
                let bot_id = bot_id.clone();
                Suspend::new(async move {
                    match name.await {
                        Ok(bot_name) => {
                            view! { <ChatWindow bot_id bot_name embedded/> }.into_any()
                        }
                        Err(_) => view! { <ChatUnavailable/> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
fn ChatUnavailable() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <main class="chat-unavailable">
            <h1>"This chat is not available"</h1>
            <p>"Check the address, or try again later."</p>
        </main>
    }
}

#[component]
fn ChatWindow(bot_id: String, bot_name: String, embedded: bool) -> impl IntoView {
    let signals = ChatSignals::new();
    let connection = Connection::new(bot_id, signals);
    Effect::new(move |_| connection.begin());

    let log = NodeRef::<leptos::html::Div>::new();
    // Keep the newest line in view as lines arrive.
    Effect::new(move |_| {
        signals.transcript.track();
        if let Some(log) = log.get() {
            request_animation_frame(move || log.set_scroll_top(log.scroll_height()));
        }
    });

    // In a frame, Escape hands the visitor back to the page, like closing any dialog.
    if embedded {
        let handle = window_event_listener(leptos::ev::keydown, |ev| {
            if ev.key() == "Escape" {
                close_frame();
            }
        });
        on_cleanup(move || handle.remove());
    }

    let status = move || signals.status.get();
    let title = format!("Chat with {bot_name}");
    view! {
        <Title text=title/>
        <div class="chat" class:embedded=embedded>
            <header class="chat-head">
                <div class="chat-title">
                    <h1>{bot_name}</h1>
                    <p class="chat-status" class:online=move || status() == super::ChatStatus::Online>
                        {move || status().label()}
                    </p>
                </div>
                <NameEditor signals connection/>
                {embedded.then(|| view! {
                    <button type="button" class="chat-close" aria-label="Close chat" on:click=|_| close_frame()>
                        "×"
                    </button>
                })}
            </header>
            <div class="chat-log" role="log" aria-live="polite" aria-label="Conversation" node_ref=log>
                <Show when=move || signals.transcript.with(|t| t.is_empty())>
                    <p class="chat-empty">"Ask us anything. A bot answers first, and a person can join when you need one."</p>
                </Show>
                <For each=move || keyed(signals.transcript.with(|t| t.lines())) key=|(key, _, _)| key.clone() let:entry>
                    {line_view(entry.1, entry.2, connection)}
                </For>
            </div>
            {move || signals.place.get().map(|n| view! {
                <p class="chat-queue" role="status">{format!("You are #{n} in line. A person will be with you soon.")}</p>
            })}
            {move || signals.problem.get().map(|p| view! { <p class="chat-problem" role="alert">{p}</p> })}
            <Composer connection/>
        </div>
    }
    .into_any()
}

/// Lines with a key that changes whenever the line's look does, and whether to name the sender
/// (only when it differs from the line before).
fn keyed(lines: Vec<Line>) -> Vec<(String, Line, bool)> {
    let mut previous: Option<Who> = None;
    lines
        .into_iter()
        .map(|line| {
            let (key, show_who) = match &line {
                Line::Said {
                    key,
                    who,
                    delivery,
                    latest,
                    ..
                } => {
                    let show = previous.as_ref() != Some(who);
                    previous = Some(who.clone());
                    (format!("{key}:{delivery:?}:{latest}:{show}"), show)
                }
                Line::Notice { key, .. } => {
                    previous = None;
                    (key.clone(), false)
                }
            };
            (key, line, show_who)
        })
        .collect()
}

fn line_view(line: Line, show_who: bool, connection: Connection) -> AnyView {
    let (key, who, content, ts, delivery, latest) = match line {
        Line::Notice { text, .. } => {
            return view! { <p class="chat-notice">{text}</p> }.into_any();
        }
        Line::Said {
            key,
            who,
            content,
            ts,
            delivery,
            latest,
        } => (key, who, content, ts, delivery, latest),
    };
    let (class, caption) = match &who {
        Who::Visitor => ("chat-line from-visitor", None),
        Who::Bot => ("chat-line from-bot", Some("Bot".to_string())),
        Who::Person(name) => (
            "chat-line from-person",
            Some(match name {
                Some(name) => format!("{name} · Support team"),
                None => "Support team".to_string(),
            }),
        ),
    };
    let is_person = matches!(who, Who::Person(_));
    let time = ts.map(|ts| ts.to_rfc3339());
    let body = match who {
        Who::Visitor => visitor_content(content),
        _ => bot_content(content, latest, connection),
    };
    view! {
        <div class=class>
            {(show_who && caption.is_some()).then(|| view! {
                <p class="chat-who">
                    {is_person.then(|| view! { <span class="chat-badge">"Person"</span> })}
                    {caption}
                </p>
            })}
            <div class="chat-bubble" title=time>{body}</div>
            {match delivery {
                Delivery::Stored => None,
                Delivery::Sending => Some(view! { <p class="chat-delivery">"Sending…"</p> }.into_any()),
                Delivery::Failed => Some(view! {
                    <p class="chat-delivery failed">
                        "Not sent. "
                        <button type="button" class="chat-link" on:click=move |_| connection.retry(&key)>"Try again"</button>
                    </p>
                }.into_any()),
            }}
        </div>
    }
    .into_any()
}

fn visitor_content(content: Content) -> AnyView {
    let text = match content {
        Content::Postback { title, payload } => title.unwrap_or(payload),
        other => other.preview(),
    };
    view! { <p>{text}</p> }.into_any()
}

/// What the bot or a person sent. Buttons stay usable; quick replies only on the newest line.
fn bot_content(content: Content, latest: bool, connection: Connection) -> AnyView {
    match content {
        Content::Text { text } => view! { <p>{linked(&text)}</p> }.into_any(),
        Content::Buttons { text, buttons } => view! {
            <p>{linked(&text)}</p>
            <div class="chat-actions">
                {buttons.into_iter().map(|b| match (b.url, b.payload) {
                    (Some(url), _) if is_web_url(&url) => view! {
                        <a class="chat-action" href=url target="_blank" rel="noopener noreferrer">{b.title}</a>
                    }.into_any(),
                    (_, payload) => {
                        let title = b.title.clone();
                        let payload = payload.unwrap_or_else(|| b.title.clone());
                        view! {
                            <button type="button" class="chat-action" on:click=move |_| {
                                connection.send(Content::Postback { payload: payload.clone(), title: Some(title.clone()) })
                            }>{b.title}</button>
                        }.into_any()
                    }
                }).collect_view()}
            </div>
        }
        .into_any(),
        Content::QuickReplies {
            text,
            quick_replies,
        } => view! {
            <p>{linked(&text)}</p>
            {latest.then(|| view! {
                <div class="chat-actions quick">
                    {quick_replies.into_iter().map(|q| {
                        let title = q.title.clone();
                        view! {
                            <button type="button" class="chat-action" on:click=move |_| {
                                connection.send(Content::QuickReply { text: title.clone(), payload: q.payload.clone() })
                            }>{q.title}</button>
                        }
                    }).collect_view()}
                </div>
            })}
        }
        .into_any(),
        Content::Image { url, title } if is_web_url(&url) => {
            let alt = title.unwrap_or_else(|| "Image".into());
            view! { <img class="chat-image" src=url alt=alt on:load=keep_newest_in_view/> }.into_any()
        }
        Content::File { url, title } if is_web_url(&url) => {
            let name = title.unwrap_or_else(|| "Download the file".into());
            view! { <a href=url target="_blank" rel="noopener noreferrer">{name}</a> }.into_any()
        }
        Content::Audio { url } if is_web_url(&url) => view! { <audio controls src=url></audio> }.into_any(),
        Content::Video { url } if is_web_url(&url) => {
            view! { <video class="chat-image" controls src=url></video> }.into_any()
        }
        other => view! { <p>{other.preview()}</p> }.into_any(),
    }
}

#[component]
fn Composer(connection: Connection) -> impl IntoView {
    let draft = RwSignal::new(String::new());
    let send = move || {
        let text = draft.get_untracked().trim().to_string();
        if !text.is_empty() {
            connection.send(Content::Text { text });
            draft.set(String::new());
        }
    };
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        send();
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        // Enter sends; Shift+Enter starts a new line.
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
            ev.prevent_default();
            send();
        }
    };
    view! {
        <form class="chat-composer" on:submit=on_submit>
            <label for="chat-input" class="visually-hidden">"Your message"</label>
            <textarea
                id="chat-input"
                rows="1"
                placeholder="Type a message…"
                maxlength=TEXT_MAX_CHARS.to_string()
                prop:value=move || draft.get()
                on:input=move |ev| draft.set(event_target_value(&ev))
                on:keydown=on_keydown
            ></textarea>
            <button type="submit" class="chat-send">"Send"</button>
        </form>
    }
}

/// "Your name": shows the name the agents see and lets the visitor change it.
#[component]
fn NameEditor(signals: ChatSignals, connection: Connection) -> impl IntoView {
    let editing = RwSignal::new(false);
    let draft = RwSignal::new(String::new());
    let open = move |_| {
        draft.set(signals.name.get_untracked().unwrap_or_default());
        editing.set(true);
    };
    let save = move |ev: SubmitEvent| {
        ev.prevent_default();
        connection.set_name(draft.get_untracked());
        editing.set(false);
    };
    view! {
        <Show
            when=move || editing.get()
            fallback=move || view! {
                <button type="button" class="chat-name" on:click=open>
                    {move || signals.name.get().unwrap_or_else(|| "Add your name".into())}
                </button>
            }
        >
            <form class="chat-name-form" on:submit=save>
                <label for="chat-name-input" class="visually-hidden">"Your name"</label>
                <input
                    id="chat-name-input"
                    type="text"
                    autocomplete="name"
                    placeholder="Your name"
                    maxlength=NAME_MAX_CHARS.to_string()
                    prop:value=move || draft.get()
                    on:input=move |ev| draft.set(event_target_value(&ev))
                />
                <button type="submit" class="chat-send">"Save"</button>
            </form>
        </Show>
    }
}

/// An image that finished loading grew the log: scroll it back to the newest line.
fn keep_newest_in_view(ev: leptos::ev::Event) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let log = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|img| img.closest(".chat-log").ok().flatten());
        if let Some(log) = log {
            log.set_scroll_top(log.scroll_height());
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = ev;
}

/// Asks the embedding page to hide the chat (the embed script listens).
fn close_frame() {
    #[cfg(feature = "hydrate")]
    if let Ok(Some(parent)) = window().parent() {
        let _ = parent.post_message(&wasm_bindgen::JsValue::from_str("hitl:close"), "*");
    }
}
