//! The team view in the top bar (admins): each agent of the bot with their status, how many
//! conversations they own of how many they may, and when a console of theirs was last open.
//! While open it follows every change of the queue and of the agents.

use leptos::prelude::*;

use crate::api::bot_agents;
use crate::console::use_console;
use crate::format::relative_time;
use crate::team::{AgentInfo, AgentStatus};

#[component]
pub fn TeamPanel() -> impl IntoView {
    let console = use_console();
    let open = RwSignal::new(false);
    let agents = RwSignal::new(None::<Vec<AgentInfo>>);
    let error = RwSignal::new(None::<String>);
    // Fetched when opened, and again (at most twice a second) when the team or the queue moved.
    Effect::new(move |_| {
        console.team_due.track();
        if !open.get() {
            return;
        }
        let bot = console.bot_id.get_untracked();
        leptos::task::spawn_local(async move {
            match bot_agents(bot).await {
                Ok(list) => {
                    let _ = agents.try_set(Some(list.agents));
                    let _ = error.try_set(None);
                }
                Err(e) => {
                    let _ = error.try_set(Some(format!("Could not list the team: {e}")));
                }
            }
        });
    });
    view! {
        <Show when=move || console.is_admin()>
            <div class="team">
                <button
                    class="team-button"
                    aria-expanded=move || open.get().to_string()
                    aria-controls="team-panel"
                    on:click=move |_| open.update(|o| *o = !*o)
                >
                    "Team"
                </button>
                <div id="team-panel" class="team-panel" role="region" aria-label="Team" hidden=move || !open.get()>
                    <Show when=move || error.get().is_some()>
                        <p class="error" role="alert">{move || error.get()}</p>
                    </Show>
                    <table>
                        <thead>
                            <tr><th>"Agent"</th><th>"Status"</th><th>"Open"</th><th>"Last seen"</th></tr>
                        </thead>
                        <tbody>
                            <For
                                each=move || agents.get().unwrap_or_default()
                                key=|a| (a.id, a.status, a.open_handoffs, a.capacity, a.consoles, a.last_seen_at)
                                let:agent
                            >
                                <AgentRow agent/>
                            </For>
                        </tbody>
                    </table>
                </div>
            </div>
        </Show>
    }
}

#[component]
fn AgentRow(agent: AgentInfo) -> impl IntoView {
    let console = use_console();
    let seen = agent.last_seen_at;
    let last_seen = move || match (agent.consoles, seen) {
        (n, _) if n > 0 => "now".to_string(),
        (_, Some(at)) => relative_time(console.now.get(), at),
        (_, None) => "never".to_string(),
    };
    let chosen = (agent.status != agent.chosen_status && agent.status == AgentStatus::Offline)
        .then(|| format!(" (chose {})", agent.chosen_status.label()));
    view! {
        <tr>
            <td>{agent.name.clone()}</td>
            <td class=format!("agent-status {}", agent.status.as_str())>
                {agent.status.label()}{chosen}
            </td>
            <td>{format!("{}/{}", agent.open_handoffs, agent.capacity)}</td>
            <td>{last_seen}</td>
        </tr>
    }
}
