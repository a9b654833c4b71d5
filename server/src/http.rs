//! The HTTP surface: the REST API (one router per resource), the events WebSocket, health, and
//! the Leptos console with its server functions.

mod auth;
mod chat;
mod chat_socket;
mod converse;
mod error;
mod events;
mod export;
mod extract;
mod handoffs;
mod health;
mod history;
mod login;
mod messenger;
mod notifications;
mod outbound;
mod pause;
mod sessions;
mod team;
mod tokens;
mod users;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, FromRef};
use axum::{middleware, Router};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;

pub use auth::{Auth, Caller};
pub use error::ApiError;
pub use messenger::Messengers;

use crate::engine::Engine;

/// Request bodies larger than this are refused with 413.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// A WebSocket's read buffer. tungstenite zeroes all of it before every read, and its default
/// is 128 KiB: with 1,000 event subscribers that memset was a third of the server's CPU time and
/// most of its memory. Clients send small frames (pings, a visitor's message); longer messages
/// still arrive, over several reads.
pub const WS_READ_BUFFER: usize = 4 * 1024;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub engine: Arc<Engine>,
    pub auth: Arc<Auth>,
    pub messengers: messenger::Messengers,
    /// New web chat visitors per address (a public route).
    pub visitor_limit: Arc<crate::accounts::throttle::Throttle>,
    pub leptos_options: LeptosOptions,
    /// Turns true when the server begins to stop; open event streams then close.
    pub stopping: tokio::sync::watch::Receiver<bool>,
}

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .merge(converse::router())
        .merge(sessions::router())
        .merge(pause::router())
        .merge(handoffs::router())
        .merge(team::router())
        .merge(notifications::router())
        .merge(outbound::router())
        .merge(events::router())
        .merge(history::router())
        .merge(users::router())
        .merge(tokens::router())
        .fallback(|| async { ApiError::NotFound("route") })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(middleware::from_fn(auth::require_caller))
        // Channels prove who calls them their own way (signatures, visitor secrets), not with our
        // token.
        .merge(messenger::router())
        .merge(chat::api_router());

    let port: app::port::Port = Arc::new(crate::console::EnginePort::new(
        state.engine.clone(),
        state.auth.accounts.clone(),
    ));
    let admin: app::port::Admin = Arc::new(crate::admin::AdminService::new(
        state.auth.accounts.clone(),
        state.engine.clone(),
    ));
    let context = move || {
        provide_context(port.clone());
        provide_context(admin.clone());
    };
    let routes = generate_route_list(app::App);
    let pages = Router::new()
        .leptos_routes_with_context(&state, routes, context, {
            let options = state.leptos_options.clone();
            move || app::shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(
            app::shell,
        ))
        .layer(middleware::from_fn(auth::guard_pages))
        // The browser bundle shrinks to about a third: it matters to a visitor on a phone.
        .layer(CompressionLayer::new());

    Router::new()
        .merge(health::router())
        .merge(chat::embed_router())
        .merge(login::router())
        .nest("/api", api)
        .merge(pages)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::identify,
        ))
        .layer(middleware::from_fn(security_headers))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(CatchPanicLayer::custom(error::panic_response))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Headers every response carries: no MIME sniffing, no referrer to other sites, and no framing
/// except for the web chat (pages add their Content-Security-Policy as they render).
async fn security_headers(
    request: axum::extract::Request,
    next: middleware::Next,
) -> axum::response::Response {
    use axum::http::{header, HeaderValue};
    let framable = request.uri().path().starts_with("/chat/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !framable {
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    response
}
