//! The page for an unknown address.

use leptos::prelude::*;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <main class="not-found">
            <h1>"Page not found"</h1>
            <p><a href="/modules/hitl">"Open the hitl console"</a></p>
        </main>
    }
}
