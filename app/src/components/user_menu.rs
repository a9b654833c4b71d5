//! Who is signed in, with their account page and "Log out" (a plain form: it works before the
//! page's scripts load).

use leptos::prelude::*;

use crate::api::client::csrf_token;
use crate::api::whoami;

#[component]
pub fn UserMenu() -> impl IntoView {
    let me = Resource::new(|| (), |_| whoami());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                me.await.ok().map(|viewer| {
                    let label = format!("{} ({})", viewer.name, viewer.role.as_str());
                    view! {
                        <nav class="user-menu" aria-label="Account">
                            <a href="/account" class="user-name" title=viewer.email.clone()>{label}</a>
                            <a href="/history">"History"</a>
                            <a href="/analytics">"Analytics"</a>
                            {viewer.is_admin().then(|| view! { <a href="/admin">"Admin"</a> })}
                            <form method="post" action="/logout" class="logout">
                                <input type="hidden" name="csrf" value=csrf_token()/>
                                <button type="submit">"Log out"</button>
                            </form>
                        </nav>
                    }
                })
            })}
        </Suspense>
    }
}
