//! The sign-in page: a plain form posted to `/login` (no script needed). Errors come back in
//! the query (`?error=credentials|throttled|unavailable`) and are said in words.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map().read_untracked().clone();
    let next = query.get("next").unwrap_or_else(|| "/modules/hitl".into());
    let problem = query.get("error").map(|e| match e.as_str() {
        "throttled" => "Too many failed sign-ins. Wait a few minutes, then try again.",
        "credentials" => "Wrong email or password.",
        _ => "Signing in is not possible right now. Try again later.",
    });
    let signed_out = query.get("signed_out").is_some();
    view! {
        <Title text="Sign in · hitl"/>
        <main class="login">
            <form method="post" action="/login" class="login-card">
                <h1>"Sign in to hitl"</h1>
                {problem.map(|p| view! { <p class="form-error" role="alert">{p}</p> })}
                {signed_out.then(|| view! { <p class="form-note" role="status">"You are signed out."</p> })}
                <label for="login-email">"Email"</label>
                <input id="login-email" type="email" name="email" autocomplete="username" required autofocus/>
                <label for="login-password">"Password"</label>
                <input id="login-password" type="password" name="password" autocomplete="current-password" required/>
                <input type="hidden" name="next" value=next/>
                <button type="submit" class="primary">"Sign in"</button>
            </form>
        </main>
    }
}
