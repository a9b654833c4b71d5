//! The admin pages at `/admin`: bots, users, API tokens and the security audit log. The server refuses
//! every one of their calls to non-admins; the page says so instead of showing the tables.

mod audit;
mod bots;
mod tokens;
mod users;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::whoami;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tab {
    Bots,
    Users,
    Tokens,
    Audit,
}

#[component]
pub fn AdminPage() -> impl IntoView {
    let tab = match use_query_map()
        .read_untracked()
        .get("tab")
        .as_deref()
        .unwrap_or("users")
    {
        "bots" => Tab::Bots,
        "tokens" => Tab::Tokens,
        "audit" => Tab::Audit,
        _ => Tab::Users,
    };
    let me = Resource::new(|| (), |_| whoami());
    let link = move |t: Tab, href: &'static str, label: &'static str| {
        view! { <a href=href aria-current=(tab == t).then_some("page")>{label}</a> }
    };
    view! {
        <Title text="Admin · hitl"/>
        <main class="admin">
            <header class="admin-head">
                <a href="/modules/hitl">"← Console"</a>
                <h1>"Admin"</h1>
                <nav class="admin-tabs" aria-label="Admin sections">
                    {link(Tab::Users, "/admin?tab=users", "Users")}
                    {link(Tab::Bots, "/admin?tab=bots", "Bots")}
                    {link(Tab::Tokens, "/admin?tab=tokens", "API tokens")}
                    {link(Tab::Audit, "/admin?tab=audit", "Audit log")}
                </nav>
            </header>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match me.await {
                        Ok(viewer) if viewer.is_admin() => match tab {
                            Tab::Users => view! { <users::Users me=viewer.id/> }.into_any(),
                            Tab::Bots => view! { <bots::Bots/> }.into_any(),
                            Tab::Tokens => view! { <tokens::Tokens/> }.into_any(),
                            Tab::Audit => view! { <audit::Audit/> }.into_any(),
                        },
                        _ => view! {
                            <p class="form-error" role="alert">"Only admins may see this page."</p>
                        }
                        .into_any(),
                    }
                })}
            </Suspense>
        </main>
    }
    .into_any()
}

/// A value shown once (a temporary password, a new token), with a hint to copy it now.
#[component]
fn ShowOnce(label: String, value: String) -> impl IntoView {
    view! {
        <div class="show-once" role="status">
            <p>{label}</p>
            <code>{value}</code>
            <p class="muted">"It is shown only this once: copy it now."</p>
        </div>
    }
    .into_any()
}

/// Bot checkboxes, reporting the chosen ones.
#[component]
fn BotPicker(all: Vec<String>, chosen: RwSignal<Vec<String>>, legend: String) -> impl IntoView {
    view! {
        <fieldset class="bot-picker">
            <legend>{legend}</legend>
            {all
                .into_iter()
                .map(|bot| {
                    let id = bot.clone();
                    let checked = move || chosen.with(|c| c.contains(&id));
                    let toggle_id = bot.clone();
                    view! {
                        <label>
                            <input
                                type="checkbox"
                                prop:checked=checked
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    chosen.update(|c| {
                                        c.retain(|b| b != &toggle_id);
                                        if on {
                                            c.push(toggle_id.clone());
                                        }
                                    });
                                }
                            />
                            {bot}
                        </label>
                    }
                })
                .collect_view()}
        </fieldset>
    }
    .into_any()
}

fn error_text(e: &crate::error::AppError) -> String {
    e.to_string()
}
