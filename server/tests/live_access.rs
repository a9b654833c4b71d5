//! Live access follows rights: an open events socket closes within a second when its caller's
//! access ends, with 4401 when the credential no longer holds (signed out, deactivated, password
//! reset, token revoked) and 4403 when the person is still signed in but no longer works on the
//! bot; sockets whose access still holds keep streaming.

pub mod common;

use std::time::Duration;

use common::browser::Browser;
use common::{spawn_app_with_bots, text, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD, TOKEN, WELCOME_BOT};
use futures::StreamExt;
use reqwest::Method;
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderValue, Request};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

const OTHER_BOT: &str = "other-bot";
/// The promise: a socket closes within this long of the change being answered.
const WITHIN: Duration = Duration::from_secs(1);

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn app_with_two_bots() -> TestApp {
    spawn_app_with_bots(&[(OTHER_BOT, "name = \"Other Bot\"\n")]).await
}

/// A request as an admin's tool makes it, with the `--api-token`; answers the status and body.
async fn admin(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut request = app.client.request(method, app.url(path)).bearer_auth(TOKEN);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

/// Adds an agent through the API; answers their id, password and a browser signed in as them.
async fn signed_in_agent(app: &TestApp, email: &str, bots: &[&str]) -> (i64, String, Browser) {
    let (status, made) = admin(
        app,
        Method::POST,
        "/api/v1/users",
        Some(json!({ "email": email, "name": "Grace", "role": "agent", "bots": bots })),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    let password = made["temporaryPassword"].as_str().unwrap().to_string();
    let browser = Browser::signed_in(app, email, &password).await;
    let id = made["user"]["viewer"]["id"].as_i64().unwrap();
    (id, password, browser)
}

async fn change_user(app: &TestApp, id: i64, change: Value) {
    let (status, body) = admin(
        app,
        Method::PATCH,
        &format!("/api/v1/users/{id}"),
        Some(change),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

/// Opens a bot's event socket with this request and waits for its first frame (the resync),
/// so the stream is running when the test changes something.
async fn open(request: Request<()>) -> Socket {
    let (mut ws, response) = tokio_tungstenite::connect_async(request)
        .await
        .expect("the event socket opens");
    assert_eq!(response.status(), 101);
    assert_eq!(next_event(&mut ws).await["type"], "resync");
    ws
}

/// The socket of a signed-in browser, opened from the console's own page.
async fn browser_socket(app: &TestApp, browser: &Browser, bot_id: &str) -> Socket {
    let mut request = app.events_url(bot_id, "").into_client_request().unwrap();
    let cookie = format!("hitl_session={}", browser.cookie("hitl_session").unwrap());
    let origin = format!("http://{}", app.addr);
    let headers = request.headers_mut();
    headers.insert("cookie", HeaderValue::from_str(&cookie).unwrap());
    headers.insert("origin", HeaderValue::from_str(&origin).unwrap());
    open(request).await
}

async fn token_socket(app: &TestApp, token: &str, bot_id: &str) -> Socket {
    let mut request = app.events_url(bot_id, "").into_client_request().unwrap();
    let bearer = HeaderValue::from_str(&format!("Bearer {token}")).unwrap();
    request.headers_mut().insert("authorization", bearer);
    open(request).await
}

/// The next logged event frame (pings and who-views-what skipped); fails if the socket closes or
/// nothing comes in time.
async fn next_event(ws: &mut Socket) -> Value {
    loop {
        let frame = tokio::time::timeout(common::PATIENCE, ws.next())
            .await
            .expect("an event in time")
            .expect("the socket stays open")
            .expect("a readable frame");
        match frame {
            WsMessage::Text(text) => {
                let event: Value = serde_json::from_str(text.as_str()).unwrap();
                if event["type"] != "viewers" {
                    return event;
                }
            }
            WsMessage::Ping(_) | WsMessage::Pong(_) => continue,
            other => panic!("the socket should stay open, got {other:?}"),
        }
    }
}

/// The close frame's code and reason; fails unless the server closes the socket within
/// [`WITHIN`]. Frames sent before it (events, pings) are passed over.
async fn closed(ws: &mut Socket) -> (u16, String) {
    let closing = async {
        while let Some(frame) = ws.next().await {
            match frame.expect("a readable frame") {
                WsMessage::Close(Some(frame)) => {
                    return (u16::from(frame.code), frame.reason.to_string());
                }
                WsMessage::Close(None) => panic!("closed without a code"),
                _ => continue,
            }
        }
        panic!("the socket ended without a close frame");
    };
    tokio::time::timeout(WITHIN, closing)
        .await
        .expect("the server closes the socket within a second")
}

#[tokio::test]
async fn a_deactivated_agents_socket_closes_with_4401() {
    let app = app_with_two_bots().await;
    let (id, _, grace) = signed_in_agent(&app, "grace@test.local", &[WELCOME_BOT]).await;
    let mut socket = browser_socket(&app, &grace, WELCOME_BOT).await;

    change_user(&app, id, json!({ "active": false })).await;
    let (code, reason) = closed(&mut socket).await;
    assert_eq!(code, 4401);
    assert_eq!(reason, "you are signed out");
}

#[tokio::test]
async fn logging_out_closes_that_browsers_socket_and_no_other() {
    let app = app_with_two_bots().await;
    let (_, password, mut here) = signed_in_agent(&app, "grace@test.local", &[WELCOME_BOT]).await;
    let there = Browser::signed_in(&app, "grace@test.local", &password).await;
    let mut leaving = browser_socket(&app, &here, WELCOME_BOT).await;
    let mut staying = browser_socket(&app, &there, WELCOME_BOT).await;

    let csrf = here.csrf();
    let out = here.form("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, 303);
    assert_eq!(closed(&mut leaving).await.0, 4401);

    app.say("u1", "still there?").await;
    let event = next_event(&mut staying).await;
    assert_eq!(event["type"], "session.created", "{event}");
}

/// Resets the user's password on the admin page; answers the new one.
async fn reset_password(app: &TestApp, id: i64) -> String {
    let id = id.to_string();
    let mut boss = Browser::signed_in(app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let reset = boss
        .form_with_csrf("/fn/admin/reset_password", &[("id", &id)])
        .await;
    assert_eq!(reset.status, 200, "{}", reset.body);
    let reset: Value = serde_json::from_str(&reset.body).unwrap();
    reset["temporaryPassword"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_password_reset_or_change_closes_the_other_browsers_sockets() {
    let app = app_with_two_bots().await;
    let (id, _, grace) = signed_in_agent(&app, "grace@test.local", &[WELCOME_BOT]).await;
    let mut socket = browser_socket(&app, &grace, WELCOME_BOT).await;
    let password = reset_password(&app, id).await;
    assert_eq!(
        closed(&mut socket).await.0,
        4401,
        "a reset signs out everywhere"
    );

    // Her own change keeps the browser she made it in, and closes the others.
    let mut here = Browser::signed_in(&app, "grace@test.local", &password).await;
    let there = Browser::signed_in(&app, "grace@test.local", &password).await;
    let mut kept = browser_socket(&app, &here, WELCOME_BOT).await;
    let mut ended = browser_socket(&app, &there, WELCOME_BOT).await;
    let csrf = here.csrf();
    let done = here
        .form(
            "/account/password",
            &[
                ("csrf", &csrf),
                ("current", &password),
                ("new", "a-new-password-1"),
                ("confirm", "a-new-password-1"),
            ],
        )
        .await;
    assert_eq!(done.location.as_deref(), Some("/account?changed=1"));
    assert_eq!(closed(&mut ended).await.0, 4401);
    app.say("u1", "hello").await;
    assert_eq!(next_event(&mut kept).await["type"], "session.created");
}

#[tokio::test]
async fn a_revoked_tokens_socket_closes_with_4401() {
    let app = app_with_two_bots().await;
    let (status, made) = admin(
        &app,
        Method::POST,
        "/api/v1/tokens",
        Some(json!({ "name": "dashboard" })),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    let token = made["token"].as_str().unwrap();
    let id = made["info"]["id"].as_i64().unwrap();
    let mut socket = token_socket(&app, token, WELCOME_BOT).await;
    let mut bootstrap = token_socket(&app, TOKEN, WELCOME_BOT).await;

    let (status, _) = admin(&app, Method::DELETE, &format!("/api/v1/tokens/{id}"), None).await;
    assert_eq!(status, 204);
    let (code, reason) = closed(&mut socket).await;
    assert_eq!(code, 4401);
    assert_eq!(reason, "this token no longer works");

    app.say("u1", "hello").await;
    assert_eq!(
        next_event(&mut bootstrap).await["type"],
        "session.created",
        "other tokens keep streaming"
    );
}

#[tokio::test]
async fn taking_a_bot_from_an_agent_closes_that_bots_socket_with_4403_only() {
    let app = app_with_two_bots().await;
    let (id, _, grace) = signed_in_agent(&app, "grace@test.local", &[WELCOME_BOT, OTHER_BOT]).await;
    let mut taken = browser_socket(&app, &grace, WELCOME_BOT).await;
    let mut kept = browser_socket(&app, &grace, OTHER_BOT).await;

    change_user(&app, id, json!({ "bots": [OTHER_BOT] })).await;
    let (code, reason) = closed(&mut taken).await;
    assert_eq!(code, 4403);
    assert_eq!(reason, "you no longer work on the bot welcome-bot");

    app.converse_with(OTHER_BOT, "u1", text("hi")).await;
    let events = [next_event(&mut kept).await, next_event(&mut kept).await];
    assert_eq!(events[0]["type"], "session.created", "{events:?}");
    assert_eq!(events[1]["type"], "message.created", "{events:?}");
    assert_eq!(events[1]["message"]["text"], "hi");
}

#[tokio::test]
async fn a_persons_token_socket_follows_that_persons_rights() {
    let app = app_with_two_bots().await;
    let (id, _, _) = signed_in_agent(&app, "grace@test.local", &[WELCOME_BOT]).await;
    let (status, made) = admin(
        &app,
        Method::POST,
        "/api/v1/tokens",
        Some(json!({ "name": "grace-cli", "userId": id })),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    let token = made["token"].as_str().unwrap();

    let mut socket = token_socket(&app, token, WELCOME_BOT).await;
    change_user(&app, id, json!({ "role": "agent", "bots": [OTHER_BOT] })).await;
    assert_eq!(closed(&mut socket).await.0, 4403, "she lost the bot");

    let mut socket = token_socket(&app, token, OTHER_BOT).await;
    change_user(&app, id, json!({ "active": false })).await;
    assert_eq!(closed(&mut socket).await.0, 4401, "she was deactivated");
}
