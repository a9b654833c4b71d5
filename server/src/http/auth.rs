//! Who is calling, and what they may reach. [`identify`] runs on every request: a bearer token
//! (header, or `access_token` in the query for WebSocket clients that cannot set headers) makes
//! the caller a script or bot; the session cookie makes them a signed-in person. Then the
//! guards: the API wants a caller (401), a person's changes must carry the CSRF token (403), a
//! person's WebSocket must come from our own origin (403), an agent only reaches the bots they
//! were given (403), and console pages send strangers to the login page.

use std::net::SocketAddr;
use std::sync::Arc;

use app::account::Viewer;
use app::model::{Actor, ActorKind};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{AUTHORIZATION, COOKIE, HOST, ORIGIN};
use axum::http::StatusCode;
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::{ApiError, AppState};
use crate::accounts::{scope_of, Accounts};
use crate::secret::{same, sha256_hex};
use crate::store::BotScope;

pub const SESSION_COOKIE: &str = "hitl_session";
/// The name shown for what the `--api-token` does.
pub const BOOTSTRAP_TOKEN_NAME: &str = "api";
/// Readable by the page's scripts, which send it back in [`CSRF_HEADER`].
pub const CSRF_COOKIE: &str = "hitl_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

pub struct Auth {
    /// The hash of `--api-token`, which has full rights and lives in no table.
    bootstrap_hash: Option<String>,
    pub accounts: Arc<Accounts>,
    /// Cookies get `Secure` (also set when a proxy says the request came over HTTPS).
    pub secure_cookies: bool,
}

impl Auth {
    pub fn new(
        bootstrap_hash: Option<String>,
        accounts: Arc<Accounts>,
        secure_cookies: bool,
    ) -> Self {
        Auth {
            bootstrap_hash,
            accounts,
            secure_cookies,
        }
    }

    /// The caller a bearer token makes, if it is a live token.
    async fn token_caller(&self, token: &str) -> Result<Option<Caller>, ApiError> {
        let bootstrap = self.bootstrap_hash.as_deref();
        if bootstrap.is_some_and(|hash| same(hash, &sha256_hex(token))) {
            return Ok(Some(Caller::Token {
                id: None,
                name: BOOTSTRAP_TOKEN_NAME.into(),
                bot_id: None,
            }));
        }
        let info = self
            .accounts
            .token(token)
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        Ok(info.map(|t| Caller::Token {
            id: Some(t.id),
            name: t.name,
            bot_id: t.bot_id,
        }))
    }
}

/// The caller of this request, when they proved who they are.
#[derive(Debug, Clone)]
pub enum Caller {
    /// A script or bot with an API token: API rights on one bot, or on all.
    Token {
        /// `None` for the `--api-token`, which lives in no table.
        id: Option<i64>,
        name: String,
        bot_id: Option<String>,
    },
    /// A signed-in person.
    Person {
        viewer: Viewer,
        csrf: String,
        /// The session cookie's value (to sign out this browser).
        token: String,
    },
}

impl Caller {
    /// Who they are on what they do (pause history, replies, the audit log).
    pub fn actor(&self) -> Actor {
        match self {
            Caller::Token { id, name, .. } => Actor::new(ActorKind::Token, *id, name),
            Caller::Person { viewer, .. } => viewer.actor(),
        }
    }

    /// Who did it, in the audit log: a person's email, or the token's name.
    pub fn audit_actor(&self) -> Actor {
        match self {
            Caller::Token { .. } => self.actor(),
            Caller::Person { viewer, .. } => crate::accounts::by_email(viewer),
        }
    }

    /// Admins' work: refused to agents (tokens have API rights on their bots).
    pub fn must_be_admin(&self, what: &str) -> Result<(), ApiError> {
        match self {
            Caller::Person { viewer, .. } if !viewer.is_admin() => {
                Err(ApiError::Forbidden(format!("only admins may {what}")))
            }
            _ => Ok(()),
        }
    }

    pub fn scope(&self) -> BotScope {
        match self {
            Caller::Token { bot_id: None, .. } => BotScope::All,
            Caller::Token {
                bot_id: Some(bot), ..
            } => BotScope::Only(vec![bot.clone()]),
            Caller::Person { viewer, .. } => scope_of(viewer),
        }
    }

    pub fn may_work_on(&self, wanted: &str) -> bool {
        match self {
            Caller::Token { bot_id, .. } => bot_id.as_deref().is_none_or(|b| b == wanted),
            Caller::Person { viewer, .. } => viewer.may_work_on(wanted),
        }
    }
}

/// The client's address as our socket saw it (tests without connect info have none).
pub fn client_address(request: &Request) -> Option<String> {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string())
}

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let lines = headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok());
    app::api::client::find_cookie(lines, name)
}

fn bearer(request: &Request) -> Option<String> {
    let header = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string());
    header.or_else(|| query_param(request.uri().query(), "access_token"))
}

/// Finds the caller and puts them (and, for a person, their [`Viewer`]) in the request.
pub async fn identify(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    // The browser bundle is the same for everyone: no session lookup for each of its files.
    if request.uri().path().starts_with("/pkg/") {
        return next.run(request).await;
    }
    let caller = if let Some(token) = bearer(&request) {
        match state.auth.token_caller(&token).await {
            Ok(caller) => caller,
            Err(e) => return e.into_response(),
        }
    } else if let Some(token) = cookie(request.headers(), SESSION_COOKIE).map(str::to_string) {
        match state.auth.accounts.session(&token).await {
            Ok(Some(session)) => Some(Caller::Person {
                viewer: session.viewer,
                csrf: session.csrf,
                token,
            }),
            Ok(None) => None,
            Err(e) => return ApiError::Internal(e.to_string()).into_response(),
        }
    } else {
        None
    };
    if let Some(caller) = caller {
        if let Caller::Person { viewer, .. } = &caller {
            request.extensions_mut().insert(viewer.clone());
        }
        request.extensions_mut().insert(caller);
    }
    next.run(request).await
}

fn is_change(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// A person's request must show the CSRF token when it changes something, and a person's
/// WebSocket must be opened by a page of ours.
fn check_person(request: &Request, csrf: &str) -> Result<(), ApiError> {
    let headers = request.headers();
    if is_change(request.method()) {
        check_csrf(headers, csrf, None)?;
    }
    if headers.contains_key("upgrade") && !same_origin(headers) {
        return Err(ApiError::Forbidden(
            "this WebSocket must be opened from the console's own address".into(),
        ));
    }
    Ok(())
}

/// The session's CSRF token must come back: in the header (scripts), or as the `csrf` field of
/// a plain form.
pub fn check_csrf(
    headers: &HeaderMap,
    expected: &str,
    field: Option<&str>,
) -> Result<(), ApiError> {
    let header = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
    if field.or(header).is_some_and(|sent| same(sent, expected)) {
        Ok(())
    } else {
        Err(ApiError::Forbidden("missing or wrong CSRF token".into()))
    }
}

fn same_origin(headers: &HeaderMap) -> bool {
    let origin = headers.get(ORIGIN).and_then(|v| v.to_str().ok());
    let host = headers.get(HOST).and_then(|v| v.to_str().ok());
    match (origin, host) {
        // Not a browser (browsers always send Origin on WebSockets).
        (None, _) => true,
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(host)),
        (Some(_), None) => false,
    }
}

/// The bot a REST path is about (`/v1/bots/{botId}/…`), percent-decoded.
fn bot_of_path(path: &str) -> Option<String> {
    let rest = path.strip_prefix("/v1/bots/")?;
    let raw = rest.split('/').next()?;
    percent_decode_str(raw)
        .decode_utf8()
        .ok()
        .map(|b| b.into_owned())
}

/// The REST API and its WebSockets: a caller is required, and a person acts only on their bots.
pub async fn require_caller(request: Request, next: Next) -> Result<Response, ApiError> {
    let caller = request
        .extensions()
        .get::<Caller>()
        .cloned()
        .ok_or(ApiError::Unauthorized)?;
    if let Caller::Person { csrf, .. } = &caller {
        check_person(&request, csrf)?;
    }
    if let Some(bot_id) = bot_of_path(request.uri().path()) {
        if !caller.may_work_on(&bot_id) {
            return Err(ApiError::Forbidden(format!(
                "you do not work on the bot {bot_id}"
            )));
        }
    }
    Ok(next.run(request).await)
}

/// Pages and server functions. Console pages send strangers to the login page; the console's
/// server functions (under `/fn/`) want a signed-in person and the CSRF token.
pub async fn guard_pages(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let person = match request.extensions().get::<Caller>() {
        Some(Caller::Person { viewer, csrf, .. }) => Some((viewer, csrf)),
        _ => None,
    };
    if path.starts_with("/fn/") {
        let checked = match person {
            None => Err(ApiError::Unauthorized),
            Some((_, csrf)) => check_person(&request, csrf),
        };
        if let Err(e) = checked {
            return e.into_response();
        }
    } else if is_console_page(path) && person.is_none() {
        let wanted = request
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/modules/hitl");
        return Redirect::to(&format!("/login?next={}", encode_component(wanted))).into_response();
    } else if let (Some((viewer, _)), "/modules/hitl") = (person, path) {
        let asked = query_param(request.uri().query(), "bot");
        let bot = asked.as_deref().unwrap_or(crate::bots::WELCOME_BOT);
        if !viewer.may_work_on(bot) {
            // The console opens on the demo bot by default; an agent without it starts on theirs.
            if let (None, Some(first)) = (&asked, viewer.bots.first()) {
                let to = format!("/modules/hitl?bot={}", encode_component(first));
                return Redirect::to(&to).into_response();
            }
            let why = if viewer.bots.is_empty() {
                "You do not work on any bot yet: ask an admin to give you one."
            } else {
                "You do not work on this bot."
            };
            let page = format!(
                "<!DOCTYPE html><html lang=\"en\"><title>Not your bot · hitl</title>\
                 <main><h1>{why}</h1><p><a href=\"/modules/hitl\">Open your console</a> · \
                 <a href=\"/account\">Your account</a></p></main></html>"
            );
            return (StatusCode::FORBIDDEN, Html(page)).into_response();
        }
    }
    next.run(request).await
}

/// One query parameter, percent-decoded (`+` as a space).
fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

pub fn is_console_page(path: &str) -> bool {
    [
        "/modules/hitl",
        "/admin",
        "/account",
        "/history",
        "/analytics",
    ]
    .iter()
    .any(|page| path.starts_with(page))
}

/// What a query parameter's value escapes: all but unreserved characters, and `/` stays readable.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

/// Percent-encodes for a query parameter.
pub fn encode_component(s: &str) -> String {
    utf8_percent_encode(s, COMPONENT).to_string()
}

/// Where to go after signing in: only a path on this site (never `//other.host`).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/modules/hitl".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bot_of_a_rest_path_is_found_and_decoded() {
        assert_eq!(
            bot_of_path("/v1/bots/welcome-bot/mod/hitl/sessions").as_deref(),
            Some("welcome-bot")
        );
        assert_eq!(
            bot_of_path("/v1/bots/a%20b/converse/u").as_deref(),
            Some("a b")
        );
        assert_eq!(bot_of_path("/v1/notifications"), None);
    }

    #[test]
    fn only_local_paths_are_followed_after_login() {
        assert_eq!(
            safe_next(Some("/modules/hitl?session=3")),
            "/modules/hitl?session=3"
        );
        assert_eq!(safe_next(Some("//evil.example/x")), "/modules/hitl");
        assert_eq!(safe_next(Some("https://evil.example")), "/modules/hitl");
        assert_eq!(safe_next(Some("/\\evil.example")), "/modules/hitl");
        assert_eq!(safe_next(None), "/modules/hitl");
    }

    #[test]
    fn a_websocket_origin_must_match_the_host() {
        let mut h = HeaderMap::new();
        h.insert(HOST, "127.0.0.1:3000".parse().unwrap());
        h.insert(ORIGIN, "http://127.0.0.1:3000".parse().unwrap());
        assert!(same_origin(&h));
        h.insert(ORIGIN, "http://evil.example".parse().unwrap());
        assert!(!same_origin(&h));
    }
}
