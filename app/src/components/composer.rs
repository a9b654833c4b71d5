//! The agent's composer: Enter sends, Shift+Enter adds a line, Esc leaves. The message shows at
//! once and is confirmed when stored; when sending fails the error shows and the text is kept.
//! A reply names the newest message the agent saw: when the user or a colleague wrote since,
//! the server refuses it, the new messages show and the text waits for a second look. While
//! someone else owns the conversation the composer is locked and says who.

use leptos::html::Textarea;
use leptos::prelude::*;

use crate::api::send_reply;
use crate::console::use_console;
use crate::error::AppError;
use crate::state::Pending;

#[component]
pub fn Composer() -> impl IntoView {
    let console = use_console();
    let field = NodeRef::<Textarea>::new();
    let next_local = StoredValue::new(0u64);
    let error = RwSignal::new(None::<String>);
    let running = move || console.current.get().is_some_and(|s| !s.is_paused);
    let owner = move || console.other_owner();
    let locked = move || owner().is_some();

    let send = move || {
        let Some(area) = field.get_untracked() else {
            return;
        };
        let text = area.value();
        if text.trim().is_empty() || locked() {
            return;
        }
        let (Some(session_id), bot) = (
            console.selected.get_untracked(),
            console.bot_id.get_untracked(),
        ) else {
            return;
        };
        let last_seen = console.convo.with_untracked(|c| c.newest_id());
        next_local.update_value(|n| *n += 1);
        let local_id = next_local.get_value();
        console.convo.update(|c| {
            c.pending.push(Pending {
                local_id,
                text: text.clone(),
                error: None,
            })
        });
        console.scroll_to_end.update(|n| *n += 1);
        area.set_value("");
        error.set(None);
        leptos::task::spawn_local(async move {
            let answer = send_reply(bot, session_id, text.clone(), last_seen).await;
            if console.is_left() {
                return;
            }
            match answer {
                Ok(stored) => console.convo.update(|c| c.confirm(local_id, stored)),
                Err(AppError::Stale(newer)) => {
                    console.convo.update(|c| {
                        c.refused_as_stale(local_id, newer);
                    });
                    console.scroll_to_end.update(|n| *n += 1);
                    let _ = error.try_set(Some(
                        "Not sent: new messages arrived while you wrote. Read them, then send again."
                            .into(),
                    ));
                    if let Some(area) = field.try_get_untracked().flatten() {
                        if area.value().is_empty() {
                            area.set_value(&text);
                        }
                    }
                }
                Err(e) => {
                    let message = format!("Not sent: {e}");
                    console.convo.update(|c| c.fail(local_id, message.clone()));
                    let _ = error.try_set(Some(message));
                    // `try_`: the agent may have left the console while it was sent.
                    if let Some(area) = field.try_get_untracked().flatten() {
                        if area.value().is_empty() {
                            area.set_value(&text);
                        }
                    }
                }
            }
        });
    };

    let on_key = move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
        "Enter" if !ev.shift_key() && !ev.is_composing() => {
            ev.prevent_default();
            send();
        }
        "Escape" => {
            if let Some(area) = field.get_untracked() {
                let _ = area.blur();
            }
        }
        _ => {}
    };

    view! {
        <form
            class="composer"
            on:submit=move |ev| {
                ev.prevent_default();
                send();
            }
        >
            <Show when=running>
                <p class="composer-hint">"Sending pauses the bot for this conversation."</p>
            </Show>
            <Show when=locked>
                <p class="composer-lock" role="status">
                    {move || owner().map(|o| format!("{} is handling this conversation.", o.name))}
                </p>
            </Show>
            <Show when=move || error.get().is_some()>
                <p class="error" role="alert">{move || error.get()}</p>
            </Show>
            <div class="composer-row">
                <textarea
                    id="composer"
                    node_ref=field
                    rows="2"
                    aria-label="Reply to the user"
                    placeholder="Write a reply… (Enter sends, Shift+Enter for a new line)"
                    disabled=locked
                    on:keydown=on_key
                ></textarea>
                <button type="submit" disabled=locked>"Send"</button>
            </div>
        </form>
    }
    .into_any()
}
