//! API tokens: for scripts and bots, scoped to one bot or all, shown once, revocable.

use leptos::prelude::*;

use super::{error_text, ShowOnce};
use crate::api::{admin_bots, create_token, list_tokens, revoke_token};
use crate::format::relative_time;

#[component]
pub fn Tokens() -> impl IntoView {
    let tokens = Resource::new(|| (), |_| list_tokens());
    let bots = Resource::new(|| (), |_| admin_bots());
    let secret = RwSignal::new(None::<(String, String)>);
    let problem = RwSignal::new(None::<String>);
    let name = RwSignal::new(String::new());
    let scope = RwSignal::new(String::new());
    let add = Action::new(move |_: &()| async move {
        let bot = Some(scope.get_untracked()).filter(|s| !s.is_empty());
        create_token(name.get_untracked(), bot).await
    });
    Effect::new(move |_| match add.value().get() {
        Some(Ok(made)) => {
            problem.set(None);
            secret.set(Some((
                format!("The token \"{}\":", made.info.name),
                made.token,
            )));
            name.set(String::new());
            tokens.refetch();
        }
        Some(Err(e)) => problem.set(Some(error_text(&e))),
        None => {}
    });
    let revoke = Action::new(move |id: &i64| {
        let id = *id;
        async move { revoke_token(id).await }
    });
    Effect::new(move |_| match revoke.value().get() {
        Some(Ok(_)) => tokens.refetch(),
        Some(Err(e)) => problem.set(Some(error_text(&e))),
        None => {}
    });
    let now = chrono::Utc::now();
    view! {
        <section class="admin-section" aria-labelledby="tokens-title">
            <h2 id="tokens-title">"API tokens"</h2>
            {move || secret.get().map(|(label, value)| view! { <ShowOnce label value/> })}
            {move || problem.get().map(|p| view! { <p class="form-error" role="alert">{p}</p> })}
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let all_bots = bots.await.unwrap_or_default();
                    let list = match tokens.await {
                        Ok(list) => list,
                        Err(e) => return view! { <p class="form-error">{error_text(&e)}</p> }.into_any(),
                    };
                    view! {
                        <table class="admin-table">
                            <thead>
                                <tr><th>"Name"</th><th>"Bot"</th><th>"Made by"</th><th>"Made"</th><th>"Last used"</th><th>"Status"</th><th></th></tr>
                            </thead>
                            <tbody>
                                {list.into_iter().map(|t| {
                                    let id = t.id;
                                    let label = format!("Revoke {}", t.name);
                                    view! {
                                        <tr>
                                            <td>{t.name.clone()}</td>
                                            <td>{t.bot_id.clone().unwrap_or_else(|| "every bot".into())}</td>
                                            <td>{t.created_by.clone().unwrap_or_default()}</td>
                                            <td>{relative_time(now, t.created_at)}</td>
                                            <td>{t.last_used_at.map(|at| relative_time(now, at)).unwrap_or_else(|| "never".into())}</td>
                                            <td>{if t.revoked { "revoked" } else { "active" }}</td>
                                            <td>
                                                {(!t.revoked).then(|| view! {
                                                    <button type="button" aria-label=label on:click=move |_| { revoke.dispatch(id); }>"Revoke"</button>
                                                })}
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                        <form class="admin-form" on:submit=move |ev| { ev.prevent_default(); add.dispatch(()); }>
                            <h3>"Make a token"</h3>
                            <label for="new-token-name">"Name (what uses it)"</label>
                            <input id="new-token-name" type="text" required prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                            <label for="new-token-bot">"Bot"</label>
                            <select id="new-token-bot" on:change=move |ev| scope.set(event_target_value(&ev))>
                                <option value="">"every bot"</option>
                                {all_bots.into_iter().map(|b| view! { <option value=b.clone()>{b.clone()}</option> }).collect_view()}
                            </select>
                            <button type="submit" class="primary">"Make token"</button>
                        </form>
                    }
                    .into_any()
                })}
            </Suspense>
        </section>
    }
    .into_any()
}
