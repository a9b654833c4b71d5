//! Users: who may sign in, as what, on which bots; add one, change one, reset a password.

use leptos::prelude::*;

use super::{error_text, BotPicker, ShowOnce};
use crate::account::{Role, UserInfo};
use crate::api::{admin_bots, create_user, list_users, reset_password, update_user};

#[component]
pub fn Users(me: i64) -> impl IntoView {
    let users = Resource::new(|| (), |_| list_users());
    let bots = Resource::new(|| (), |_| admin_bots());
    // The temporary password of the user just made or reset.
    let secret = RwSignal::new(None::<(String, String)>);
    let problem = RwSignal::new(None::<String>);
    view! {
        <section class="admin-section" aria-labelledby="users-title">
            <h2 id="users-title">"Users"</h2>
            {move || secret.get().map(|(label, value)| view! { <ShowOnce label value/> })}
            {move || problem.get().map(|p| view! { <p class="form-error" role="alert">{p}</p> })}
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let all_bots = bots.await.unwrap_or_default();
                    match users.await {
                        Err(e) => view! { <p class="form-error" role="alert">{error_text(&e)}</p> }.into_any(),
                        Ok(list) => view! {
                            <table class="admin-table">
                                <thead>
                                    <tr><th>"Name"</th><th>"Email"</th><th>"Role"</th><th>"Bots"</th><th>"Status"</th><th>"Change"</th></tr>
                                </thead>
                                <tbody>
                                    {list.into_iter().map(|u| view! {
                                        <UserRow user=u all_bots=all_bots.clone() me secret problem users/>
                                    }).collect_view()}
                                </tbody>
                            </table>
                            <NewUser all_bots secret problem users/>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
    .into_any()
}

type UsersResource = Resource<Result<Vec<UserInfo>, crate::error::AppError>>;

#[component]
fn UserRow(
    user: UserInfo,
    all_bots: Vec<String>,
    me: i64,
    secret: RwSignal<Option<(String, String)>>,
    problem: RwSignal<Option<String>>,
    users: UsersResource,
) -> impl IntoView {
    let id = user.viewer.id;
    let email = user.viewer.email.clone();
    let role = RwSignal::new(user.viewer.role);
    let chosen = RwSignal::new(user.viewer.bots.clone());
    let active = RwSignal::new(user.active);
    let editing = RwSignal::new(false);
    let save = Action::new(move |_: &()| async move {
        update_user(
            id,
            role.get_untracked(),
            chosen.get_untracked(),
            active.get_untracked(),
        )
        .await
    });
    Effect::new(move |_| match save.value().get() {
        Some(Ok(_)) => {
            problem.set(None);
            editing.set(false);
            users.refetch();
        }
        Some(Err(e)) => problem.set(Some(error_text(&e))),
        None => {}
    });
    let reset = Action::new(move |_: &()| async move { reset_password(id).await });
    Effect::new(move |_| match reset.value().get() {
        Some(Ok(done)) => secret.set(Some((
            format!("Temporary password for {}:", done.user.viewer.email),
            done.temporary_password,
        ))),
        Some(Err(e)) => problem.set(Some(error_text(&e))),
        None => {}
    });
    let bots_text = if user.viewer.role == Role::Admin {
        "all".to_string()
    } else if user.viewer.bots.is_empty() {
        "none".to_string()
    } else {
        user.viewer.bots.join(", ")
    };
    let legend = format!("Bots of {email}");
    view! {
        <tr>
            <td>{user.viewer.name.clone()}</td>
            <td>{email.clone()}</td>
            <td>{user.viewer.role.as_str()}</td>
            <td>{bots_text}</td>
            <td>{if user.active { "active" } else { "deactivated" }}</td>
            <td>
                <Show
                    when=move || editing.get()
                    fallback=move || view! {
                        <button type="button" on:click=move |_| editing.set(true) aria-label=format!("Change {}", email.clone())>"Change"</button>
                        <button type="button" on:click=move |_| { reset.dispatch(()); } disabled=id == me>"Reset password"</button>
                    }
                >
                    <div class="user-edit">
                        <label>
                            "Role "
                            <select on:change=move |ev| role.set(Role::parse(&event_target_value(&ev)).unwrap_or(Role::Agent))>
                                <option value="agent" selected=move || role.get() == Role::Agent>"agent"</option>
                                <option value="admin" selected=move || role.get() == Role::Admin>"admin"</option>
                            </select>
                        </label>
                        <BotPicker all=all_bots.clone() chosen legend=legend.clone()/>
                        <label>
                            <input type="checkbox" prop:checked=move || active.get() on:change=move |ev| active.set(event_target_checked(&ev))/>
                            " may sign in"
                        </label>
                        <button type="button" class="primary" on:click=move |_| { save.dispatch(()); }>"Save"</button>
                        <button type="button" on:click=move |_| editing.set(false)>"Cancel"</button>
                    </div>
                </Show>
            </td>
        </tr>
    }
    .into_any()
}

#[component]
fn NewUser(
    all_bots: Vec<String>,
    secret: RwSignal<Option<(String, String)>>,
    problem: RwSignal<Option<String>>,
    users: UsersResource,
) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Agent);
    let chosen = RwSignal::new(Vec::<String>::new());
    let add = Action::new(move |_: &()| async move {
        create_user(
            email.get_untracked(),
            name.get_untracked(),
            role.get_untracked(),
            chosen.get_untracked(),
        )
        .await
    });
    Effect::new(move |_| match add.value().get() {
        Some(Ok(done)) => {
            problem.set(None);
            secret.set(Some((
                format!("Temporary password for {}:", done.user.viewer.email),
                done.temporary_password,
            )));
            email.set(String::new());
            name.set(String::new());
            chosen.set(Vec::new());
            users.refetch();
        }
        Some(Err(e)) => problem.set(Some(error_text(&e))),
        None => {}
    });
    view! {
        <form class="admin-form" on:submit=move |ev| { ev.prevent_default(); add.dispatch(()); }>
            <h3>"Add a user"</h3>
            <label for="new-user-email">"Email"</label>
            <input id="new-user-email" type="email" required prop:value=move || email.get() on:input=move |ev| email.set(event_target_value(&ev))/>
            <label for="new-user-name">"Name (shown on what they do)"</label>
            <input id="new-user-name" type="text" required prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
            <label for="new-user-role">"Role"</label>
            <select id="new-user-role" on:change=move |ev| role.set(Role::parse(&event_target_value(&ev)).unwrap_or(Role::Agent))>
                <option value="agent">"agent"</option>
                <option value="admin">"admin"</option>
            </select>
            <BotPicker all=all_bots chosen legend="Bots they work on".to_string()/>
            <button type="submit" class="primary">"Add user"</button>
        </form>
    }
    .into_any()
}
