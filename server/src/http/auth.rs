//! Who is calling, and what they may reach. [`identify`] runs on every request: a bearer token
//! (header, or `access_token` in the query for WebSocket clients that cannot set headers) makes
//! the caller a script or bot, or the person the token belongs to; the session cookie makes them
//! a signed-in person. Long-lived connections keep the [`Credential`] to check it again. Then the
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
use crate::accounts::{scope_of, AccessChange, Accounts, Manager};
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

    /// The caller this credential makes now, if it still holds: on every request, and again
    /// on an open socket when the caller's access changed.
    pub async fn caller(&self, credential: &Credential) -> Result<Option<Caller>, ApiError> {
        match credential {
            Credential::Bearer(token) => self.token_caller(token).await,
            Credential::Cookie(token) => {
                let session = self
                    .accounts
                    .session(token)
                    .await
                    .map_err(|e| ApiError::Internal(e.to_string()))?;
                Ok(session.map(|session| Caller::Person {
                    viewer: session.viewer,
                    csrf: session.csrf,
                    token: token.clone(),
                }))
            }
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
                owner: None,
            }));
        }
        let live = self
            .accounts
            .token(token)
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        Ok(live.map(|t| Caller::Token {
            id: Some(t.info.id),
            name: t.info.name,
            bot_id: t.info.bot_id,
            owner: t.owner,
        }))
    }
}

/// What a caller proved who they are with.
#[derive(Debug, Clone)]
pub enum Credential {
    /// An API token's value.
    Bearer(String),
    /// A signed-in browser's session cookie.
    Cookie(String),
}

/// The caller of this request, when they proved who they are.
#[derive(Debug, Clone)]
pub enum Caller {
    /// A script or bot with an API token: API rights on one bot, or on all; or, for a token
    /// that belongs to a person, that person's rights (narrowed to the token's bot, if any).
    Token {
        /// `None` for the `--api-token`, which lives in no table.
        id: Option<i64>,
        name: String,
        bot_id: Option<String>,
        /// The person it acts as, as they are now (active, with their role and bots).
        owner: Option<Viewer>,
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
    /// The person whose rights and name this caller carries: the signed-in person, or the one
    /// a token belongs to.
    pub fn person(&self) -> Option<&Viewer> {
        match self {
            Caller::Person { viewer, .. } => Some(viewer),
            Caller::Token { owner, .. } => owner.as_ref(),
        }
    }

    /// The one bot a token is limited to, if any.
    fn token_bot(&self) -> Option<&str> {
        match self {
            Caller::Token { bot_id, .. } => bot_id.as_deref(),
            Caller::Person { .. } => None,
        }
    }

    /// Who they are on what they do (pause history, replies, the audit log): the person, or
    /// else the token under its own name.
    pub fn actor(&self) -> Actor {
        match self {
            Caller::Person { viewer, .. }
            | Caller::Token {
                owner: Some(viewer),
                ..
            } => viewer.actor(),
            Caller::Token {
                id,
                name,
                owner: None,
                ..
            } => Actor::new(ActorKind::Token, *id, name),
        }
    }

    /// Who did it, in the audit log: a person's email, or the token's name.
    pub fn audit_actor(&self) -> Actor {
        match self.person() {
            Some(viewer) => crate::accounts::by_email(viewer),
            None => self.actor(),
        }
    }

    /// Admins' work: refused to agents, also through their tokens (a token of nobody has API
    /// rights on its bots).
    pub fn must_be_admin(&self, what: &str) -> Result<(), ApiError> {
        match self.person() {
            Some(viewer) if !viewer.is_admin() => {
                Err(ApiError::Forbidden(format!("only admins may {what}")))
            }
            _ => Ok(()),
        }
    }

    /// Managing users and tokens: an admin over every bot (signed in, or with their token
    /// for every bot), or a token of nobody for every bot. Answers who manages.
    pub fn account_manager(&self) -> Result<Manager, ApiError> {
        self.must_be_admin("manage users and tokens")?;
        if self.token_bot().is_some() {
            return Err(ApiError::Forbidden(
                "managing users and tokens needs a token for every bot".into(),
            ));
        }
        Ok(Manager {
            actor: self.audit_actor(),
            account: self.person().map(|viewer| viewer.id),
        })
    }

    /// What the caller reads of the notifications (a token of nobody: those for everyone).
    pub fn reader(&self) -> crate::store::Reader {
        crate::store::Reader {
            bots: self.scope(),
            person: self.person().map(|viewer| viewer.id),
        }
    }

    pub fn scope(&self) -> BotScope {
        let person = self.person().map(scope_of).unwrap_or(BotScope::All);
        match (self.token_bot(), person) {
            (None, person) => person,
            (Some(bot), BotScope::All) => BotScope::Only(vec![bot.to_string()]),
            (Some(bot), BotScope::Only(bots)) => {
                BotScope::Only(bots.into_iter().filter(|b| b == bot).collect())
            }
        }
    }

    pub fn may_work_on(&self, wanted: &str) -> bool {
        self.person()
            .is_none_or(|viewer| viewer.may_work_on(wanted))
            && self.token_bot().is_none_or(|bot| bot == wanted)
    }

    /// Whether this change of access may concern this caller (who must then be checked again).
    pub fn is_affected_by(&self, change: AccessChange) -> bool {
        let token = match self {
            Caller::Token { id, .. } => *id,
            Caller::Person { .. } => None,
        };
        match change {
            AccessChange::User(user) => self.person().is_some_and(|viewer| viewer.id == user),
            AccessChange::Token(changed) => token == Some(changed),
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

/// A bearer token wins over a session cookie.
fn credential(request: &Request) -> Option<Credential> {
    bearer(request).map(Credential::Bearer).or_else(|| {
        cookie(request.headers(), SESSION_COOKIE).map(|c| Credential::Cookie(c.to_string()))
    })
}

/// Finds the caller and puts them (and, for a signed-in person, their [`Viewer`]) in the
/// request, with the credential they showed.
pub async fn identify(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    // The browser bundle is the same for everyone: no session lookup for each of its files.
    if request.uri().path().starts_with("/pkg/") {
        return next.run(request).await;
    }
    let Some(credential) = credential(&request) else {
        return next.run(request).await;
    };
    let caller = match state.auth.caller(&credential).await {
        Ok(caller) => caller,
        Err(e) => return e.into_response(),
    };
    if let Some(caller) = caller {
        if let Caller::Person { viewer, .. } = &caller {
            request.extensions_mut().insert(viewer.clone());
        }
        request.extensions_mut().insert(caller);
        request.extensions_mut().insert(credential);
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
    use app::account::Role;

    fn grace(role: Role, bots: &[&str]) -> Viewer {
        Viewer {
            id: 7,
            email: "grace@test.local".into(),
            name: "Grace".into(),
            role,
            bots: bots.iter().map(|b| b.to_string()).collect(),
        }
    }

    fn token(bot_id: Option<&str>, owner: Option<Viewer>) -> Caller {
        Caller::Token {
            id: Some(3),
            name: "cli".into(),
            bot_id: bot_id.map(str::to_string),
            owner,
        }
    }

    #[test]
    fn a_persons_token_has_their_rights_narrowed_to_its_bot() {
        let hers = token(None, Some(grace(Role::Agent, &["a", "b"])));
        assert!(hers.may_work_on("a") && !hers.may_work_on("c"));
        assert_eq!(hers.scope(), BotScope::Only(vec!["a".into(), "b".into()]));
        assert_eq!(hers.actor(), Actor::new(ActorKind::Agent, Some(7), "Grace"));
        assert!(hers.must_be_admin("x").is_err());
        assert!(hers.account_manager().is_err());

        let narrowed = token(Some("a"), Some(grace(Role::Agent, &["a", "b"])));
        assert!(narrowed.may_work_on("a") && !narrowed.may_work_on("b"));
        let outside = token(Some("c"), Some(grace(Role::Agent, &["a"])));
        assert!(!outside.may_work_on("c"));
        assert_eq!(outside.scope(), BotScope::Only(vec![]));

        let admins = token(None, Some(grace(Role::Admin, &[])));
        let manager = admins.account_manager().expect("an admin's token manages");
        assert_eq!(manager.account, Some(7));
        assert!(token(Some("a"), Some(grace(Role::Admin, &[])))
            .account_manager()
            .is_err());
    }

    #[test]
    fn a_token_of_nobody_acts_under_its_own_name() {
        let full = token(None, None);
        assert_eq!(full.actor(), Actor::new(ActorKind::Token, Some(3), "cli"));
        assert_eq!(full.scope(), BotScope::All);
        assert_eq!(full.account_manager().unwrap().account, None);
        let one = token(Some("a"), None);
        assert!(one.may_work_on("a") && !one.may_work_on("b"));
        assert!(one.account_manager().is_err());
    }

    #[test]
    fn access_changes_concern_the_person_and_the_token_they_name() {
        let hers = token(None, Some(grace(Role::Agent, &["a"])));
        assert!(hers.is_affected_by(AccessChange::User(7)));
        assert!(hers.is_affected_by(AccessChange::Token(3)));
        assert!(!hers.is_affected_by(AccessChange::User(8)));
        assert!(!hers.is_affected_by(AccessChange::Token(4)));
        let full = token(None, None);
        assert!(!full.is_affected_by(AccessChange::User(7)));
        let person = Caller::Person {
            viewer: grace(Role::Agent, &["a"]),
            csrf: String::new(),
            token: String::new(),
        };
        assert!(person.is_affected_by(AccessChange::User(7)));
        assert!(!person.is_affected_by(AccessChange::Token(3)));
    }

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
