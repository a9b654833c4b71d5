//! Who owns the open conversation, under its header: "Queued 03:12 (#2)" or "Assigned to Bea ·
//! 2/5" (what she owns of what she may),
//! with what the viewer may do about it: Claim, Take over (admins), Assign… or Transfer…, Return
//! to bot… (with a last message, or closed as resolved), and while it runs, the countdown to its
//! return to the bot with Keep.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use crate::api::{
    assign_session, bot_agents, claim_session, close_session, keep_session, take_over_session,
};
use crate::console::{use_console, Console};
use crate::error::AppError;
use crate::format::stopwatch;
use crate::model::{Handoff, HandoffState, SessionOverview};
use crate::team::AgentInfo;

/// The ownership line: shown while a handoff is open.
#[component]
pub fn HandoffBar() -> impl IntoView {
    let console = use_console();
    let open = move || {
        console
            .current
            .with(|s| s.as_ref().is_some_and(|s| s.handoff.is_some()))
    };
    // Its state is made inside the `Show`, so it lives exactly as long as what shows it.
    view! {
        <Show when=open>
            <HandoffLine/>
        </Show>
    }
}

#[component]
fn HandoffLine() -> impl IntoView {
    let console = use_console();
    let handoff = move || console.current.get().and_then(|s| s.handoff);
    let me = move || console.me.with(|m| m.as_ref().map(|v| v.id));
    let mine = move || handoff().is_some_and(|h| h.owner_id().is_some() && h.owner_id() == me());
    let queued = move || handoff().is_some_and(|h| h.state == HandoffState::Queued);
    let other = move || console.other_owner();

    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let picking = RwSignal::new(false);
    let closing = RwSignal::new(false);
    let claim = move |_| {
        run(console, busy, error, "Could not claim it", |bot, id| {
            claim_session(bot, id)
        })
    };
    let take_over = move |_| {
        run(console, busy, error, "Could not take it over", |bot, id| {
            take_over_session(bot, id)
        })
    };
    let keep = move |_| {
        run(console, busy, error, "Could not keep it", |bot, id| {
            keep_session(bot, id)
        })
    };
    let may_hand_over = move || mine() || console.is_admin();
    // The owner's capacity, from the team (fetched again when the team moves); their load is
    // live from the counts every event brings.
    let owner_id = Memo::new(move |_| handoff().and_then(|h| h.owner_id()));
    let capacity = LocalResource::new(move || {
        let (bot, owner, _) = (console.bot_id.get(), owner_id.get(), console.team_due.get());
        async move {
            let owner = owner?;
            let team = bot_agents(bot).await.ok()?;
            team.agents
                .into_iter()
                .find(|a| a.id == owner)
                .map(|a| a.capacity)
        }
    });
    let load = move || {
        let owner = owner_id.get()?;
        let capacity = capacity.get().flatten()?;
        let open = console.counts.with(|c| c.owned_by(Some(owner)));
        Some(format!("· {open}/{capacity}"))
    };
    let returns_at = move || handoff().and_then(|h| h.returns_at);
    view! {
            <div class="handoff-bar" role="group" aria-label="Ownership">
                <span
                    class="handoff-state"
                    class:queued=queued
                    class:mine=mine
                    role="status"
                >
                    {move || handoff().map(|h| chip(&h, me(), console.now.get()))}
                </span>
                <Show when=move || load().is_some()>
                    <span class="handoff-load" aria-label="Owner's load">{load}</span>
                </Show>
 <Show when=move || returns_at().is_some()>
                    <span class="handoff-timer" role="timer" aria-label="Back to the bot">
                        {move || {
                            returns_at()
                                .map(|at| format!("Back to the bot in {}", stopwatch(at, console.now.get())))
                        }}
                    </span>
                    <Show when=may_hand_over>
                        <button class="keep" disabled=move || busy.get() on:click=keep>
                            "Keep"
                        </button>
                    </Show>
                </Show>
                <Show when=queued>
                    <button class="claim" disabled=move || busy.get() on:click=claim>
                        "Claim"
                    </button>
                </Show>
                <Show when=move || console.is_admin() && other().is_some()>
                    <button class="take-over" disabled=move || busy.get() on:click=take_over>
                        {move || format!("Take over from {}", other().map(|o| o.name).unwrap_or_default())}
                    </button>
                </Show>
                <Show when=may_hand_over>
                    <button
                        class="hand-over"
                        aria-expanded=move || picking.get().to_string()
                        on:click=move |_| picking.update(|p| *p = !*p)
                    >
                        {move || if mine() { "Transfer…" } else { "Assign…" }}
                    </button>
                </Show>
                <Show when=move || picking.get()>
                    <AssignForm picking busy error transfer=Signal::derive(mine)/>
                </Show>
                <Show when=move || may_hand_over() || (queued() && other().is_none())>
                    <button
                        class="close-handoff"
                        aria-expanded=move || closing.get().to_string()
                        on:click=move |_| closing.update(|c| *c = !*c)
                    >
                        "Return to bot…"
                    </button>
                </Show>
                <Show when=move || closing.get()>
                    <CloseForm closing busy error/>
                </Show>
                <Show when=move || error.get().is_some()>
                    <p class="error" role="alert">{move || error.get()}</p>
                </Show>
            </div>
    }
    .into_any()
}

/// What the ownership chip says.
fn chip(handoff: &Handoff, me: Option<i64>, now: DateTime<Utc>) -> String {
    match (&handoff.state, &handoff.assignee) {
        (HandoffState::Queued, _) | (_, None) => {
            let place = handoff
                .position
                .map(|p| format!(" (#{p})"))
                .unwrap_or_default();
            format!("Queued {}{place}", stopwatch(now, handoff.queued_at))
        }
        (HandoffState::Assigned, Some(a)) if Some(a.id) == me => "Assigned to you".into(),
        (HandoffState::Assigned, Some(a)) => format!("Assigned to {}", a.name),
    }
}

/// Runs an ownership change on the open conversation and shows its answer.
fn run<F, Fut>(
    console: Console,
    busy: RwSignal<bool>,
    error: RwSignal<Option<String>>,
    failed: &'static str,
    call: F,
) where
    F: FnOnce(String, i64) -> Fut + 'static,
    Fut: std::future::Future<Output = Result<SessionOverview, AppError>> + 'static,
{
    let Some(id) = console.current.get_untracked().map(|s| s.id) else {
        return;
    };
    busy.set(true);
    let bot = console.bot_id.get_untracked();
    leptos::task::spawn_local(async move {
        let answer = call(bot, id).await;
        if console.is_left() {
            return;
        }
        // `try_`: the bar may be gone by now (another conversation opened).
        match answer {
            Ok(session) => {
                let _ = error.try_set(None);
                console.apply_session(session);
            }
            Err(e) => {
                // A lost race: show who has it now (its event may still be on its way).
                if let AppError::Taken(handoff) = &e {
                    if let Some(mut session) = console.current.get_untracked() {
                        session.handoff = Some((**handoff).clone());
                        console.set_current(session);
                    }
                }
                let _ = error.try_set(Some(format!("{failed}: {e}")));
            }
        }
        let _ = busy.try_set(false);
    });
}

/// Ending the handoff: a last message to the user (optional), then back to the bot, or closed
/// as resolved.
#[component]
fn CloseForm(
    closing: RwSignal<bool>,
    busy: RwSignal<bool>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let console = use_console();
    let message = RwSignal::new(String::new());
    let end = move |resolved: bool| {
        let text = message.get_untracked();
        let message = Some(text).filter(|m| !m.trim().is_empty());
        let failed = if resolved {
            "Could not close it"
        } else {
            "Could not give it back"
        };
        run(console, busy, error, failed, move |bot, id| {
            close_session(bot, id, resolved, message)
        });
        closing.set(false);
    };
    view! {
        <form class="close-form" on:submit=move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            end(false);
        }>
            <textarea
                aria-label="Last message to the user"
                placeholder="Last message to the user (optional)"
                maxlength="4000"
                rows="2"
                prop:value=move || message.get()
                on:input=move |ev| message.set(event_target_value(&ev))
            ></textarea>
            <button type="submit" disabled=move || busy.get()>"Give back to the bot"</button>
            <button type="button" disabled=move || busy.get() on:click=move |_| end(true)>
                "Close as resolved"
            </button>
            <button type="button" class="secondary" on:click=move |_| closing.set(false)>
                "Cancel"
            </button>
        </form>
    }
    .into_any()
}

/// Choosing who gets the conversation, with a note for them.
#[component]
fn AssignForm(
    picking: RwSignal<bool>,
    busy: RwSignal<bool>,
    error: RwSignal<Option<String>>,
    transfer: Signal<bool>,
) -> impl IntoView {
    let console = use_console();
    let agents = RwSignal::new(None::<Vec<AgentInfo>>);
    let chosen = RwSignal::new(String::new());
    let note = RwSignal::new(String::new());
    let bot = console.bot_id.get_untracked();
    leptos::task::spawn_local(async move {
        let list = bot_agents(bot).await;
        if console.is_left() {
            return;
        }
        match list {
            Ok(list) => {
                let owner = console
                    .current
                    .get_untracked()
                    .and_then(|s| s.handoff)
                    .and_then(|h| h.owner_id());
                let others: Vec<AgentInfo> = list
                    .agents
                    .into_iter()
                    .filter(|a| Some(a.id) != owner)
                    .collect();
                if let Some(first) = others.first() {
                    chosen.set(first.id.to_string());
                }
                let _ = agents.try_set(Some(others));
            }
            Err(e) => {
                let _ = error.try_set(Some(format!("Could not list the agents: {e}")));
            }
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Ok(user_id) = chosen.get_untracked().parse::<i64>() else {
            return;
        };
        let text = note.get_untracked();
        let note = Some(text).filter(|n| !n.trim().is_empty());
        let failed = if transfer.get_untracked() {
            "Could not transfer it"
        } else {
            "Could not assign it"
        };
        run(console, busy, error, failed, move |bot, id| {
            assign_session(bot, id, user_id, note)
        });
        picking.set(false);
    };
    view! {
        <form class="assign-form" on:submit=submit>
            {move || match agents.get() {
                None => view! { <span class="muted">"Loading agents…"</span> }.into_any(),
                Some(list) if list.is_empty() => {
                    view! { <span class="muted">"Nobody else works on this bot."</span> }.into_any()
                }
                Some(list) => view! {
                    <select
                        aria-label="Agent"
                        prop:value=move || chosen.get()
                        on:change=move |ev| chosen.set(event_target_value(&ev))
                    >
                        {list
                            .into_iter()
                            .map(|a| {
                                let label = format!("{} ({} open)", a.name, a.open_handoffs);
                                view! { <option value=a.id.to_string()>{label}</option> }
                            })
                            .collect_view()}
                    </select>
                    <input
                        type="text"
                        aria-label="Note for them"
                        placeholder="Note (optional)"
                        maxlength="500"
                        prop:value=move || note.get()
                        on:input=move |ev| note.set(event_target_value(&ev))
                    />
                    <button type="submit" disabled=move || busy.get()>
                        {move || if transfer.get() { "Transfer" } else { "Assign" }}
                    </button>
                }
                .into_any(),
            }}
            <button type="button" class="secondary" on:click=move |_| picking.set(false)>
                "Cancel"
            </button>
        </form>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Assignee;

    fn handoff(state: HandoffState, assignee: Option<(i64, &str)>) -> Handoff {
        Handoff {
            id: 1,
            state,
            assignee: assignee.map(|(id, name)| Assignee {
                id,
                name: name.into(),
            }),
            position: Some(2),
            queued_at: DateTime::from_timestamp(1_000_000, 0).unwrap(),
            assigned_at: None,
            version: 1,
            returns_at: None,
        }
    }

    #[test]
    fn the_chip_says_how_long_it_waits_and_where_or_who_has_it() {
        let now = DateTime::from_timestamp(1_000_192, 0).unwrap();
        let queued = handoff(HandoffState::Queued, None);
        assert_eq!(chip(&queued, Some(7), now), "Queued 03:12 (#2)");
        let bea = handoff(HandoffState::Assigned, Some((8, "Bea")));
        assert_eq!(chip(&bea, Some(7), now), "Assigned to Bea");
        assert_eq!(chip(&bea, Some(8), now), "Assigned to you");
        assert_eq!(chip(&bea, None, now), "Assigned to Bea");
    }
}
