//! `/history/{botId}/{sessionId}`: one conversation from its start, read-only, in bot and human
//! segments with the handoffs between them marked; print-friendly.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::history::speaker;
use crate::api::{delete_conversation, load_transcript, whoami};
use crate::format::url_escape;
use crate::history::{pause_mark, segments, Segment, Transcript};
use crate::model::{Message, Source};

#[component]
pub fn TranscriptPage() -> impl IntoView {
    let params = use_params_map();
    let key = move || {
        let p = params.read();
        let bot = p.get("bot_id").unwrap_or_default();
        let id = p.get("session_id").and_then(|s| s.parse::<i64>().ok());
        (bot, id)
    };
    let loaded = Resource::new(key, |(bot, id)| async move {
        match id {
            Some(id) => load_transcript(bot, id).await.map(Some),
            None => Ok(None),
        }
    });
    let me = Resource::new(|| (), |_| whoami());
    view! {
        <Title text="Transcript · hitl"/>
        <main class="admin transcript">
            <header class="admin-head no-print">
                <a href="/history">"← History"</a>
                <h1>"Transcript"</h1>
            </header>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let is_admin = me.await.map(|v| v.is_admin()).unwrap_or(false);
                    match loaded.await {
                        Ok(Some(t)) => transcript_view(t, is_admin).into_any(),
                        Ok(None) => view! { <p class="form-error" role="alert">"There is no such conversation."</p> }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </main>
    }
    .into_any()
}

fn transcript_view(t: Transcript, is_admin: bool) -> impl IntoView {
    let s = &t.session;
    let name = s.display_name().to_string();
    let console = format!(
        "/modules/hitl?bot={}&session={}",
        url_escape(&s.bot_id),
        s.id
    );
    let export =
        |format: &str| format!("/api/v1/history/export?format={format}&sessionId={}", s.id);
    let started = t
        .messages
        .first()
        .map(|m| m.ts.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default();
    let status = if s.is_paused {
        "paused (a human answers)"
    } else {
        "bot answers"
    };
    view! {
        <section class="transcript-head">
            <h2>{name.clone()}</h2>
            <dl>
                <dt>"Bot"</dt><dd>{s.bot_id.clone()}</dd>
                <dt>"Channel"</dt><dd>{s.channel.clone()}</dd>
                <dt>"User id"</dt><dd>{s.user_id.clone()}</dd>
                <dt>"Started"</dt><dd>{started}</dd>
                <dt>"Last activity"</dt><dd>{s.last_event_on.format("%Y-%m-%d %H:%M UTC").to_string()}</dd>
                <dt>"Now"</dt><dd>{status}</dd>
            </dl>
            <p class="no-print transcript-actions">
                <a href=console>"Open in the console"</a>
                {is_admin.then(|| view! {
                    " · Export: "
                    <a href=export("jsonl") download>"JSON Lines"</a>
                    " · "
                    <a href=export("csv") download>"CSV"</a>
                })}
                " · "
                <button type="button" on:click=|_| crate::browser::print()>"Print"</button>
            </p>
            {is_admin.then(|| view! { <DeleteConversation bot_id=s.bot_id.clone() session_id=s.id/> })}
            {t.truncated.then(|| view! {
                <p class="muted">"Only the first messages are shown here; the export holds them all."</p>
            })}
        </section>
        {segment_views(&t.messages, &name)}
    }
}

/// Consecutive messages of one segment, with the handoff line that opened or closed it.
fn segment_views(messages: &[Message], user: &str) -> impl IntoView {
    let marks = segments(messages);
    let mut blocks: Vec<(Segment, Vec<Message>)> = Vec::new();
    for (m, seg) in messages.iter().zip(marks) {
        let handoff = pause_mark(m).is_some();
        match blocks.last_mut() {
            Some((s, list)) if *s == seg && !handoff => list.push(m.clone()),
            _ => blocks.push((seg, vec![m.clone()])),
        }
    }
    blocks
        .into_iter()
        .map(|(seg, list)| {
            let label = match seg {
                Segment::Bot => "Bot",
                Segment::Human => "Human",
            };
            view! {
                <section class=format!("segment segment-{}", seg.as_str()) aria-label=format!("{label} part")>
                    <ol class="transcript-lines">
                        {list.iter().map(|m| line(m, user)).collect_view()}
                    </ol>
                </section>
            }
        })
        .collect_view()
}

fn line(m: &Message, user: &str) -> impl IntoView {
    let id = format!("m{}", m.id);
    let time = m.ts.format("%Y-%m-%d %H:%M").to_string();
    let exact = m.ts.to_rfc3339();
    if let Some(paused) = pause_mark(m) {
        let class = if paused {
            "handoff to-human"
        } else {
            "handoff to-bot"
        };
        let label = if paused {
            "Handed to a human"
        } else {
            "Returned to the bot"
        };
        return view! {
            <li class=class id=id>
                <strong>{label}</strong>" · "{m.text.clone()}
                " "<time datetime=exact>{time}</time>
            </li>
        }
        .into_any();
    }
    let text = if m.text.is_empty() {
        format!("[{}]", m.kind)
    } else {
        m.text.clone()
    };
    view! {
        <li class=format!("line from-{}", m.source.as_str()) id=id>
            <span class="who">{speaker(m.source, m.author.as_deref(), user)}</span>
            <time datetime=exact>{time}</time>
            <p>{text}</p>
            {(m.source == Source::User && m.kind != "text").then(|| view! { <span class="muted">{m.kind.clone()}</span> })}
        </li>
    }
    .into_any()
}

/// Deletes the conversation (a user's data on request) after a second, explicit click.
#[component]
fn DeleteConversation(bot_id: String, session_id: i64) -> impl IntoView {
    let asking = RwSignal::new(false);
    let problem = RwSignal::new(None::<String>);
    let delete = Action::new(move |_: &()| {
        let bot_id = bot_id.clone();
        async move { delete_conversation(bot_id, session_id).await }
    });
    Effect::new(move |_| match delete.value().get() {
        Some(Ok(())) => crate::browser::go_to("/history?deleted=1"),
        Some(Err(e)) => problem.set(Some(e.to_string())),
        None => {}
    });
    view! {
        <div class="no-print danger-zone">
            <Show
                when=move || asking.get()
                fallback=move || view! {
                    <button type="button" class="danger" on:click=move |_| asking.set(true)>"Delete this conversation…"</button>
                }
            >
                <p role="alert">"Delete every message of this conversation, for good? It is gone from search and exports too."</p>
                <button type="button" class="danger" on:click=move |_| { delete.dispatch(()); }>"Delete for good"</button>
                <button type="button" on:click=move |_| asking.set(false)>"Keep it"</button>
            </Show>
            {move || problem.get().map(|p| view! { <p class="form-error" role="alert">{p}</p> })}
        </div>
    }
}
