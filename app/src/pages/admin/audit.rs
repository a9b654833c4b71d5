//! The audit log: sign-ins and failures, user, role and token changes, and what was done to
//! conversations (pauses, agent replies, exports, deletions, settings); newest first, filtered
//! by a plain GET form.

use leptos::prelude::*;

use super::error_text;
use crate::account::{AuditQuery, AuditRecord};
use crate::api::audit_log;

#[component]
pub fn Audit() -> impl IntoView {
    let params = leptos_router::hooks::use_query_map()
        .read_untracked()
        .clone();
    let text = |name: &str| params.get(name).filter(|v| !v.trim().is_empty());
    let (action, actor, bot_id) = (text("action"), text("actor"), text("botId"));
    let before = RwSignal::new(None::<i64>);
    let filters = AuditQuery {
        before: None,
        action: action.clone(),
        actor: actor.clone(),
        actor_kind: None,
        actor_id: None,
        bot_id: bot_id.clone(),
    };
    let page = Resource::new(
        move || before.get(),
        move |before| {
            audit_log(AuditQuery {
                before,
                ..filters.clone()
            })
        },
    );
    let groups = [
        ("", "everything"),
        ("login", "sign-ins"),
        ("login.failed", "failed sign-ins"),
        ("user.", "users"),
        ("token.", "API tokens"),
        ("session.", "pauses, resumes, deletions"),
        ("message.agent", "agent replies"),
        ("history.exported", "exports"),
        ("setting.changed", "settings"),
        ("bot.", "bots switched off and on"),
    ];
    let chosen = action.clone().unwrap_or_default();
    let rows = |list: Vec<AuditRecord>| {
        list.into_iter()
            .map(|r| {
                let exact = r.ts.to_rfc3339();
                view! {
                    <tr>
                        <td><time datetime=exact.clone()>{r.ts.format("%Y-%m-%d %H:%M:%S UTC").to_string()}</time></td>
                        <td>{r.actor.unwrap_or_default()}</td>
                        <td>{r.action}</td>
                        <td>{r.detail}</td>
                        <td>{r.bot_id.clone().map(|bot| match r.session_id {
                            Some(id) => view! { <a href=crate::pages::history::transcript_href(&bot, id)>{format!("{bot} #{id}")}</a> }.into_any(),
                            None => bot.into_any(),
                        })}</td>
                        <td>{r.address.unwrap_or_default()}</td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <section class="admin-section" aria-labelledby="audit-title">
            <h2 id="audit-title">"Audit log"</h2>
            <form class="history-search" method="get" action="/admin">
                <input type="hidden" name="tab" value="audit"/>
                <div class="filters">
                    <label>"What"
                        <select name="action">
                            {groups.into_iter().map(|(value, label)| {
                                let selected = value == chosen;
                                view! { <option value=value selected=selected>{label}</option> }
                            }).collect_view()}
                        </select>
                    </label>
                    <label>"Who" <input type="text" name="actor" value=actor.unwrap_or_default() placeholder="email, name, token …"/></label>
                    <label>"Bot" <input type="text" name="botId" value=bot_id.unwrap_or_default()/></label>
                    <button type="submit" class="primary">"Filter"</button>
                </div>
            </form>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Err(e) => view! { <p class="form-error">{error_text(&e)}</p> }.into_any(),
                        Ok(list) => {
                            let oldest = list.last().map(|r| r.id);
                            let full = list.len() >= 100;
                            view! {
                                <table class="admin-table">
                                    <thead>
                                        <tr><th>"When"</th><th>"Who"</th><th>"What"</th><th>"Detail"</th><th>"Conversation"</th><th>"Address"</th></tr>
                                    </thead>
                                    <tbody>{rows(list)}</tbody>
                                </table>
                                {(full && oldest.is_some()).then(|| view! {
                                    <button type="button" on:click=move |_| before.set(oldest)>"Older entries"</button>
                                })}
                            }
                            .into_any()
                        }
                    }
                })}
            </Suspense>
        </section>
    }
    .into_any()
}
