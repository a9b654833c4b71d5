//! The Content-Security-Policy of every page, set while it renders (the policy names the nonce
//! Leptos puts on its hydration scripts, so no other inline script can run). The chat page may be
//! framed by any site (that is what the embed script does); the console by none.

use leptos::prelude::*;

pub fn content_policy() {
    let Some(nonce) = leptos::nonce::use_nonce() else {
        return;
    };
    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    let framed_by = match use_context::<http::request::Parts>() {
        Some(parts) if parts.uri.path().starts_with("/chat/") => "*",
        _ => "'none'",
    };
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' https: http: data:; \
         media-src 'self' https: http:; connect-src 'self'; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors {framed_by}"
    );
    if let Ok(value) = http::HeaderValue::from_str(&policy) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}
