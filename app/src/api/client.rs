//! The client of the console's server functions: the browser's fetch, plus the CSRF token the
//! server wants with every call (the `hitl_csrf` cookie the login set, sent back as a header; a
//! page of another site can neither read the cookie nor set the header).

use std::future::Future;

use leptos::server_fn::client::browser::BrowserClient;
use leptos::server_fn::client::Client;
use leptos::server_fn::error::FromServerFnError;
use leptos::server_fn::request::browser::BrowserRequest;
use leptos::server_fn::response::browser::BrowserResponse;
use leptos::server_fn::Bytes;

pub struct CsrfClient;

impl<E, IS, OS> Client<E, IS, OS> for CsrfClient
where
    E: FromServerFnError,
    IS: FromServerFnError,
    OS: FromServerFnError,
{
    type Request = BrowserRequest;
    type Response = BrowserResponse;

    fn send(req: BrowserRequest) -> impl Future<Output = Result<BrowserResponse, E>> + Send {
        #[cfg(feature = "hydrate")]
        if let Some(token) = csrf_cookie() {
            req.headers().set("x-csrf-token", &token);
        }
        <BrowserClient as Client<E, IS, OS>>::send(req)
    }

    #[allow(clippy::type_complexity)]
    fn open_websocket(
        path: &str,
    ) -> impl Future<
        Output = Result<
            (
                impl futures::Stream<Item = Result<Bytes, Bytes>> + Send + 'static,
                impl futures::Sink<Bytes> + Send + 'static,
            ),
            E,
        >,
    > + Send {
        <BrowserClient as Client<E, IS, OS>>::open_websocket(path)
    }

    fn spawn(future: impl Future<Output = ()> + Send + 'static) {
        <BrowserClient as Client<E, IS, OS>>::spawn(future)
    }
}

/// The CSRF token, for the hidden field of a plain form (logout, change password). On the
/// server it comes from the request's cookie, in the browser from `document.cookie`: both render
/// the same value.
pub fn csrf_token() -> String {
    #[cfg(feature = "ssr")]
    {
        leptos::prelude::use_context::<http::request::Parts>()
            .and_then(|parts| {
                let lines = parts.headers.get_all(http::header::COOKIE);
                let lines = lines.iter().filter_map(|v| v.to_str().ok());
                find_cookie(lines, CSRF_COOKIE).map(str::to_string)
            })
            .unwrap_or_default()
    }
    #[cfg(feature = "hydrate")]
    {
        csrf_cookie().unwrap_or_default()
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    {
        String::new()
    }
}

const CSRF_COOKIE: &str = "hitl_csrf";

#[cfg(feature = "hydrate")]
fn csrf_cookie() -> Option<String> {
    use wasm_bindgen::JsCast;
    let document = leptos::prelude::document()
        .dyn_into::<web_sys::HtmlDocument>()
        .ok()?;
    let cookies = document.cookie().ok()?;
    find_cookie(std::iter::once(cookies.as_str()), CSRF_COOKIE).map(str::to_string)
}

/// The value of cookie `name` in `Cookie` header lines (or `document.cookie`).
pub fn find_cookie<'a>(lines: impl Iterator<Item = &'a str>, name: &str) -> Option<&'a str> {
    lines
        .flat_map(|line| line.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value)
}
