//! Bots: what answers each bot's users, how many conversations it holds, and the bot-wide switch
//! that holds every user message back from the bot (agents keep seeing and answering them).

use leptos::prelude::*;

use super::error_text;
use crate::account::BotInfo;
use crate::api::{list_bots, set_bot_running, set_retention};

#[component]
pub fn Bots() -> impl IntoView {
    let bots = Resource::new(|| (), |_| list_bots());
    let problem = RwSignal::new(None::<String>);
    let switch = Action::new(move |(id, running): &(String, bool)| {
        let (id, running) = (id.clone(), *running);
        async move { set_bot_running(id, running).await }
    });
    let keep = Action::new(move |(id, days): &(String, Option<u32>)| {
        let (id, days) = (id.clone(), *days);
        async move { set_retention(id, days).await }
    });
    let done = move |result: Option<Result<BotInfo, crate::error::AppError>>| match result {
        Some(Ok(_)) => {
            problem.set(None);
            bots.refetch();
        }
        Some(Err(e)) => problem.set(Some(error_text(&e))),
        None => {}
    };
    Effect::new(move |_| done(switch.value().get()));
    Effect::new(move |_| done(keep.value().get()));
    view! {
        <section class="admin-section" aria-labelledby="bots-title">
            <h2 id="bots-title">"Bots"</h2>
            <p class="muted">
                "Bots are defined by the files in the bots folder. Switching a bot off holds back "
                "every user message from it, in every conversation; agents still see and answer them."
            </p>
            {move || problem.get().map(|p| view! { <p class="form-error" role="alert">{p}</p> })}
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match bots.await {
                        Err(e) => view! { <p class="form-error" role="alert">{error_text(&e)}</p> }.into_any(),
                        Ok(list) => view! {
                            <table class="admin-table">
                                <thead>
                                    <tr><th>"Bot"</th><th>"Answered by"</th><th>"Conversations"</th><th>"Paused now"</th><th>"Keep conversations"</th><th>"Status"</th><th></th></tr>
                                </thead>
                                <tbody>
                                    {list.into_iter().map(|bot| bot_row(bot, switch, keep)).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
    .into_any()
}

type BotAction<T> = Action<(String, T), Result<BotInfo, crate::error::AppError>>;

fn bot_row(bot: BotInfo, switch: BotAction<bool>, keep: BotAction<Option<u32>>) -> impl IntoView {
    let console = format!("/modules/hitl?bot={}", bot.id);
    let chat = format!("/chat/{}", bot.id);
    let (label, action) = if bot.running {
        (format!("Switch {} off", bot.id), "Switch off")
    } else {
        (format!("Switch {} on", bot.id), "Switch on")
    };
    let (id, running) = (bot.id.clone(), bot.running);
    let days = RwSignal::new(
        bot.retention_days
            .map(|d| d.to_string())
            .unwrap_or_default(),
    );
    let keep_id = bot.id.clone();
    let field = format!("retention-{}", bot.id);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let value = days.get_untracked();
        let days = value.trim().parse::<u32>().ok();
        keep.dispatch((keep_id.clone(), days));
    };
    view! {
        <tr>
            <td>
                <strong>{bot.name.clone()}</strong>
                <div class="muted">{bot.id.clone()}</div>
                <div><a href=console>"Console"</a>" · "<a href=chat>"Web chat"</a></div>
            </td>
            <td>{answered_by(&bot.kind)}</td>
            <td>{bot.sessions}</td>
            <td>{bot.paused_sessions}</td>
            <td>
                <form class="retention" on:submit=save>
                    <label for=field.clone()>"Days after the last message (empty: for ever)"</label>
                    <input id=field type="number" min="1" max="36500" inputmode="numeric"
                        prop:value=move || days.get() on:input=move |ev| days.set(event_target_value(&ev))/>
                    <button type="submit">"Save"</button>
                </form>
            </td>
            <td>{if bot.running { "on" } else { "off: messages held back" }}</td>
            <td>
                <button type="button" aria-label=label on:click=move |_| { switch.dispatch((id.clone(), !running)); }>
                    {action}
                </button>
            </td>
        </tr>
    }
}

fn answered_by(kind: &str) -> &'static str {
    match kind {
        "rules" => "rules file",
        "webhook" => "external webhook",
        "rasa" => "Rasa",
        _ => "nobody (records only)",
    }
}
