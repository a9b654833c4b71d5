//! The signed-in person's own page: who they are, and changing their password (a plain form
//! posted to `/account/password`; the other browsers they signed in with are signed out).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::account::PASSWORD_MIN_CHARS;
use crate::api::client::csrf_token;
use crate::api::whoami;

#[component]
pub fn AccountPage() -> impl IntoView {
    let query = use_query_map().read_untracked().clone();
    let note = if query.get("changed").is_some() {
        Some((
            "form-note",
            "Your password is changed. Your other browsers are signed out.",
        ))
    } else {
        query.get("error").map(|e| {
            let text = match e.as_str() {
                "current" => "The current password is not right.",
                "mismatch" => "The new password and its confirmation differ.",
                _ => "The new password is too short.",
            };
            ("form-error", text)
        })
    };
    let me = Resource::new(|| (), |_| whoami());
    let min = PASSWORD_MIN_CHARS.to_string();
    view! {
        <Title text="Your account · hitl"/>
        <main class="login">
            <div class="login-card">
                <p><a href="/modules/hitl">"← Back to the console"</a></p>
                <h1>"Your account"</h1>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        me.await.ok().map(|v| view! {
                            <dl class="account-facts">
                                <dt>"Name"</dt><dd>{v.name}</dd>
                                <dt>"Email"</dt><dd>{v.email}</dd>
                                <dt>"Role"</dt><dd>{v.role.as_str()}</dd>
                            </dl>
                        })
                    })}
                </Suspense>
                <form method="post" action="/account/password" class="stacked">
                    <h2>"Change your password"</h2>
                    {note.map(|(class, text)| view! { <p class=class role="status">{text}</p> })}
                    <input type="hidden" name="csrf" value=csrf_token()/>
                    <label for="pw-current">"Current password"</label>
                    <input id="pw-current" type="password" name="current" autocomplete="current-password" required/>
                    <label for="pw-new">{format!("New password (at least {min} characters)")}</label>
                    <input id="pw-new" type="password" name="new" autocomplete="new-password" minlength=min.clone() required/>
                    <label for="pw-confirm">"New password again"</label>
                    <input id="pw-confirm" type="password" name="confirm" autocomplete="new-password" minlength=min.clone() required/>
                    <button type="submit" class="primary">"Change password"</button>
                </form>
            </div>
        </main>
    }
}
