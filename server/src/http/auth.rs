//! Who may call the API: a bearer token (header, or `access_token` in the query for WebSocket
//! clients that cannot set headers), or the console's cookie.

use std::collections::HashSet;

use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use sha2::{Digest, Sha256};

use super::{ApiError, AppState};

const CONSOLE_COOKIE: &str = "hitl_console";

pub struct Auth {
    token_hashes: HashSet<String>,
    console_key: String,
}

impl Auth {
    /// `token_hashes`: SHA-256 (hex) of every accepted token. `console_key`: the value of the
    /// cookie the console pages hand to the browser so its live socket may connect.
    pub fn new(token_hashes: impl IntoIterator<Item = String>, console_key: String) -> Self {
        Auth {
            token_hashes: token_hashes.into_iter().collect(),
            console_key,
        }
    }

    pub fn hash(token: &str) -> String {
        hex::encode(Sha256::digest(token.as_bytes()))
    }

    fn accepts_token(&self, token: &str) -> bool {
        self.token_hashes.contains(&Self::hash(token))
    }

    fn accepts(&self, request: &Request) -> bool {
        let headers = request.headers();
        let bearer = headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if let Some(token) = bearer {
            return self.accepts_token(token.trim());
        }
        let query_token = request.uri().query().and_then(|q| {
            q.split('&')
                .filter_map(|pair| pair.split_once('='))
                .find(|(k, _)| *k == "access_token")
                .map(|(_, v)| v.to_string())
        });
        if let Some(token) = query_token {
            return self.accepts_token(&token);
        }
        headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|c| c.trim().split_once('='))
            .any(|(name, value)| name == CONSOLE_COOKIE && value == self.console_key)
    }
}

pub async fn require_token(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if state.auth.accepts(&request) {
        Ok(next.run(request).await)
    } else {
        Err(ApiError::Unauthorized)
    }
}

/// Gives every console page the cookie its live socket authenticates with. Until accounts exist
/// the console is open to whoever reaches the address (hitl listens on loopback by default).
/// Other pages (the web chat) never get it: a visitor must not read other conversations.
pub async fn console_cookie(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let is_console = request.uri().path().starts_with("/modules/hitl");
    let mut response = next.run(request).await;
    if !is_console {
        return response;
    }
    let cookie = format!(
        "{CONSOLE_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict",
        state.auth.console_key
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(SET_COOKIE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    fn auth() -> Auth {
        Auth::new([Auth::hash("secret")], "console-key".into())
    }

    fn request(
        build: impl FnOnce(axum::http::request::Builder) -> axum::http::request::Builder,
        uri: &str,
    ) -> Request {
        build(Request::builder().uri(uri))
            .body(Body::empty())
            .unwrap()
    }

    #[test]
    fn a_known_bearer_token_is_accepted_and_others_are_not() {
        let a = auth();
        assert!(a.accepts(&request(
            |b| b.header("authorization", "Bearer secret"),
            "/x"
        )));
        assert!(!a.accepts(&request(|b| b.header("authorization", "Bearer nope"), "/x")));
        assert!(!a.accepts(&request(|b| b, "/x")));
    }

    #[test]
    fn websocket_clients_may_pass_the_token_in_the_query() {
        assert!(auth().accepts(&request(|b| b, "/events?since=1&access_token=secret")));
    }

    #[test]
    fn the_console_cookie_is_accepted_only_with_the_right_key() {
        let a = auth();
        assert!(a.accepts(&request(
            |b| b.header("cookie", "x=1; hitl_console=console-key"),
            "/x"
        )));
        assert!(!a.accepts(&request(|b| b.header("cookie", "hitl_console=guess"), "/x")));
    }
}
