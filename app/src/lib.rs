//! The hitl web UI (Leptos) and the types and server functions the browser and the server share.

// Leptos views are deeply nested types; the console's exceed the default limit.
#![recursion_limit = "256"]

pub mod account;
pub mod analytics;
pub mod api;
pub mod chat;
pub mod error;
pub mod format;
pub mod history;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod port;
mod routes;
pub mod state;
pub mod team;

mod browser;
mod components;
mod console;
mod live;
#[cfg(feature = "ssr")]
mod security;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Redirect, Route, Router, Routes};
use leptos_router::{path, Lazy, SsrMode};

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    #[cfg(feature = "ssr")]
    security::content_policy();
    view! {
        <Stylesheet id="leptos" href="/pkg/hitl.css"/>
        <Title text="hitl"/>
        <Router>
            <Routes fallback=pages::not_found::NotFound>
                <Route path=path!("/") view=|| view! { <Redirect path="/modules/hitl"/> }/>
                <Route path=path!("/modules/hitl") view=pages::console::ConsolePage/>
                <Route path=path!("/login") view=pages::login::LoginPage/>
                <Route path=path!("/account") view=pages::account::AccountPage/>
                <Route path=path!("/admin") view={Lazy::<routes::AdminRoute>::new()}/>
                <Route path=path!("/history") view={Lazy::<routes::HistoryRoute>::new()}/>
                <Route path=path!("/analytics") view={Lazy::<routes::AnalyticsRoute>::new()}/>
                <Route
                    path=path!("/history/:bot_id/:session_id")
                    view={Lazy::<routes::TranscriptRoute>::new()}
                />
                <Route
                    path=path!("/chat/:bot_id")
                    view=chat::page::ChatPage
                    ssr=SsrMode::Async
                />
            </Routes>
        </Router>
    }
}

/// Entry point of the browser build: take over the server-rendered page, once the chunks of its
/// lazily loaded route are in.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_lazy(App);
}
