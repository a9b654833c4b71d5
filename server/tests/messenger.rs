//! The Messenger channel against a fake Graph API on loopback that checks what the real one
//! would (the page token, the message shape): webhook verification, signatures, redeliveries,
//! replies through the Send API (retried on 5xx), agent replies as plain text, profiles, and a
//! queued user told their place in line.

pub mod common;

use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use common::{bot_path, spawn_app_with_bots, TestApp};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use tokio::sync::mpsc;

const PAGE_TOKEN: &str = "page-token";
const APP_SECRET: &str = "app-secret";
const VERIFY: &str = "verify-me";

#[derive(Clone)]
struct Graph {
    sent: mpsc::UnboundedSender<Value>,
    failures_left: Arc<Mutex<u32>>,
}

async fn send_api(
    State(graph): State<Graph>,
    Query(query): Query<std::collections::HashMap<String, String>>,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    if query.get("access_token").map(String::as_str) != Some(PAGE_TOKEN) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "error": "bad token" })),
        );
    }
    if body["recipient"]["id"].as_str().is_none() || !body["message"].is_object() {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "bad shape" })),
        );
    }
    {
        let mut left = graph.failures_left.lock().unwrap();
        if *left > 0 {
            *left -= 1;
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "error": "try later" })),
            );
        }
    }
    graph.sent.send(body).unwrap();
    (StatusCode::OK, Json(json!({ "message_id": "mid.out" })))
}

async fn profile_api(
    Path(psid): Path<String>,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> (StatusCode, Json<Value>) {
    if query.get("access_token").map(String::as_str) != Some(PAGE_TOKEN) {
        return (StatusCode::UNAUTHORIZED, Json(json!({})));
    }
    (
        StatusCode::OK,
        Json(
            json!({ "id": psid, "first_name": "Mark", "last_name": "Messenger", "profile_pic": "https://example.com/p.png" }),
        ),
    )
}

/// Starts the fake Graph API; answers its base URL and the stream of accepted Send API calls.
async fn fake_graph(failures: u32) -> (String, mpsc::UnboundedReceiver<Value>) {
    let (sent, received) = mpsc::unbounded_channel();
    let graph = Graph {
        sent,
        failures_left: Arc::new(Mutex::new(failures)),
    };
    let app = Router::new()
        .route("/me/messages", post(send_api))
        .route("/{psid}", get(profile_api))
        .with_state(graph);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), received)
}

async fn app_with_messenger(graph_url: &str) -> TestApp {
    app_with_messenger_and(graph_url, "").await
}

/// The same, with more of the bot's file (a table after `[messenger]`).
async fn app_with_messenger_and(graph_url: &str, more: &str) -> TestApp {
    let rules = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../bots/welcome-bot.toml"
    ))
    .unwrap();
    let file = format!(
        "{rules}\n[messenger]\npage_access_token = \"{PAGE_TOKEN}\"\napp_secret = \"{APP_SECRET}\"\nverify_token = \"{VERIFY}\"\ngraph_api_url = \"{graph_url}\"\n{more}"
    );
    spawn_app_with_bots(&[("fb-bot", &file)]).await
}

fn webhook() -> String {
    bot_path("fb-bot", "/mod/channel-messenger/webhook")
}

fn sign(body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(APP_SECRET.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn text_event(psid: &str, mid: &str, text: &str) -> String {
    json!({ "object": "page", "entry": [{ "id": "page", "time": 1, "messaging": [
        { "sender": { "id": psid }, "recipient": { "id": "page" }, "timestamp": 1, "message": { "mid": mid, "text": text } }
    ]}]})
    .to_string()
}

async fn deliver(app: &TestApp, body: &str, signature: Option<String>) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url(&webhook()))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(signature) = signature {
        request = request.header("x-hub-signature-256", signature);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn the_webhook_answers_the_challenge_only_for_the_right_verify_token() {
    let (graph, _sent) = fake_graph(0).await;
    let app = app_with_messenger(&graph).await;
    let ok = app
        .client
        .get(app.url(&format!(
            "{}?hub.mode=subscribe&hub.verify_token={VERIFY}&hub.challenge=12345",
            webhook()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "12345");
    let wrong = app
        .client
        .get(app.url(&format!(
            "{}?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=12345",
            webhook()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 403);
}

#[tokio::test]
async fn unsigned_or_badly_signed_deliveries_are_refused_and_store_nothing() {
    let (graph, _sent) = fake_graph(0).await;
    let app = app_with_messenger(&graph).await;
    let body = text_event("psid-1", "m.1", "hello");
    assert_eq!(deliver(&app, &body, None).await.status(), 403);
    assert_eq!(
        deliver(&app, &body, Some("sha256=00".into()))
            .await
            .status(),
        403
    );
    let sessions = app
        .get(&bot_path("fb-bot", "/mod/hitl/sessions"))
        .await
        .expect(200);
    assert_eq!(sessions["sessions"], json!([]));
}

#[tokio::test]
async fn a_message_is_answered_through_the_send_api_once_even_when_redelivered() {
    // The first Send API call fails with 503: the answer still arrives, retried.
    let (graph, mut sent) = fake_graph(1).await;
    let app = app_with_messenger(&graph).await;
    let body = text_event("psid-1", "m.1", "hello");
    assert_eq!(deliver(&app, &body, Some(sign(&body))).await.status(), 200);
    assert_eq!(
        deliver(&app, &body, Some(sign(&body))).await.status(),
        200,
        "a redelivery is acknowledged"
    );

    let reply = sent.recv().await.unwrap();
    assert_eq!(reply["recipient"]["id"], "psid-1");
    assert_eq!(reply["message"], json!({ "text": "You said: hello" }));

    let sessions = app
        .get(&bot_path("fb-bot", "/mod/hitl/sessions"))
        .await
        .expect(200);
    let session = &sessions["sessions"][0];
    assert_eq!(session["channel"], "messenger");
    let id = session["id"].as_i64().unwrap();
    let texts = app.texts("fb-bot", id).await;
    assert_eq!(
        texts,
        ["hello", "You said: hello"],
        "the redelivery was dropped"
    );
}

#[tokio::test]
async fn a_delivery_that_could_not_be_stored_is_taken_when_redelivered() {
    let (graph, mut sent) = fake_graph(0).await;
    let app = app_with_messenger(&graph).await;
    // The database refuses the message for a while (as a full disk would).
    if app.on_postgres() {
        app.sql(
            "create function refuse() returns trigger language plpgsql as $$ begin \
             if new.text = 'parcel broken' then raise exception 'refused by the test'; end if; \
             return new; end $$",
        )
        .await;
        app.sql("create trigger refuse before insert on messages for each row execute function refuse()")
            .await;
    } else {
        app.sql(
            "create trigger refuse before insert on messages when new.text = 'parcel broken' \
             begin select raise(abort, 'refused by the test'); end",
        )
        .await;
    }
    let body = text_event("psid-9", "m.9", "parcel broken");
    let refused = deliver(&app, &body, Some(sign(&body))).await;
    assert_eq!(refused.status(), 500, "Meta is told to deliver it again");
    app.sql(if app.on_postgres() {
        "drop trigger refuse on messages"
    } else {
        "drop trigger refuse"
    })
    .await;
    assert_eq!(deliver(&app, &body, Some(sign(&body))).await.status(), 200);
    let reply = sent.recv().await.unwrap();
    assert_eq!(
        reply["message"],
        json!({ "text": "You said: parcel broken" })
    );
    let sessions = app
        .get(&bot_path("fb-bot", "/mod/hitl/sessions"))
        .await
        .expect(200);
    let id = sessions["sessions"][0]["id"].as_i64().unwrap();
    assert_eq!(
        app.texts("fb-bot", id).await,
        ["parcel broken", "You said: parcel broken"],
        "the redelivery was stored once"
    );
}

#[tokio::test]
async fn hitl_start_sends_a_button_template_and_the_agent_reply_is_plain_text() {
    let (graph, mut sent) = fake_graph(0).await;
    let app = app_with_messenger(&graph).await;
    let mut events = app.events("fb-bot", None).await;
    let body = text_event("psid-2", "m.2", "HITL_START");
    assert_eq!(deliver(&app, &body, Some(sign(&body))).await.status(), 200);
    let template = sent.recv().await.unwrap();
    assert_eq!(
        template["message"]["attachment"]["payload"]["template_type"],
        "button"
    );
    assert_eq!(
        template["message"]["attachment"]["payload"]["buttons"][0]["payload"],
        "HITL_STOP"
    );

    let sessions = app
        .get(&bot_path("fb-bot", "/mod/hitl/sessions"))
        .await
        .expect(200);
    let id = sessions["sessions"][0]["id"].as_i64().unwrap();
    app.post(
        &bot_path("fb-bot", &format!("/mod/hitl/sessions/{id}/message")),
        json!({ "message": "Hi, I am Bob" }),
    )
    .await
    .expect(200);
    let agent = sent.recv().await.unwrap();
    assert_eq!(
        agent,
        json!({ "recipient": { "id": "psid-2" }, "messaging_type": "RESPONSE", "message": { "text": "Hi, I am Bob" } })
    );

    // The user's profile was looked up and stored (announced live like any change).
    let seen = events
        .until(|e| e["type"] == "session.updated" && e["session"]["fullName"] == "Mark Messenger")
        .await;
    let named = seen.last().unwrap();
    assert_eq!(named["session"]["avatarUrl"], "https://example.com/p.png");
    let session = app
        .get(&bot_path("fb-bot", &format!("/mod/hitl/sessions/{id}")))
        .await
        .expect(200);
    assert_eq!(session["fullName"], "Mark Messenger");
}

/// The next text the Send API took for `psid` (calls for others passed over).
async fn next_text_to(sent: &mut mpsc::UnboundedReceiver<Value>, psid: &str) -> String {
    loop {
        let call = tokio::time::timeout(common::PATIENCE, sent.recv())
            .await
            .expect("a Send API call in time")
            .expect("the fake Graph API runs");
        if call["recipient"]["id"] == psid {
            if let Some(text) = call["message"]["text"].as_str() {
                return text.to_string();
            }
        }
    }
}

#[tokio::test]
async fn a_queued_user_is_told_their_place_at_once_and_again_when_it_moves_not_more_often() {
    let (graph, mut sent) = fake_graph(0).await;
    let handoffs = "[handoffs]\nqueue_message = \"You are #{position} in line.\"\nqueue_message_every_secs = 1\n";
    let app = app_with_messenger_and(&graph, handoffs).await;
    for (psid, mid) in [("psid-a", "m.a"), ("psid-b", "m.b")] {
        let body = text_event(psid, mid, "HITL_START");
        assert_eq!(deliver(&app, &body, Some(sign(&body))).await.status(), 200);
    }
    assert_eq!(
        next_text_to(&mut sent, "psid-a").await,
        "You are #1 in line."
    );
    assert_eq!(
        next_text_to(&mut sent, "psid-b").await,
        "You are #2 in line."
    );
    let told_b = std::time::Instant::now();

    // The first goes back to the bot: the second moves up and hears it, a second after the last.
    let sessions = app
        .get(&bot_path("fb-bot", "/mod/hitl/sessions?filter=queue"))
        .await
        .expect(200);
    let id_of = |psid: &str| {
        sessions["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["userId"] == psid)
            .map(|s| s["id"].as_i64().unwrap())
            .unwrap()
    };
    let (a, b) = (id_of("psid-a"), id_of("psid-b"));
    app.post_empty(&bot_path(
        "fb-bot",
        &format!("/mod/hitl/sessions/{a}/unpause"),
    ))
    .await
    .expect(200);
    assert_eq!(
        next_text_to(&mut sent, "psid-b").await,
        "You are #1 in line."
    );
    assert!(
        told_b.elapsed() >= std::time::Duration::from_millis(900),
        "not within the interval: {:?}",
        told_b.elapsed()
    );

    // Nothing more while the place stays: the next thing the user gets is the agent's reply.
    app.post(
        &bot_path("fb-bot", &format!("/mod/hitl/sessions/{b}/message")),
        json!({ "message": "Hi, Bob here" }),
    )
    .await
    .expect(200);
    assert_eq!(next_text_to(&mut sent, "psid-b").await, "Hi, Bob here");
    // The notices are in the conversation, as the bot's.
    let texts = app.texts("fb-bot", b).await;
    assert_eq!(
        texts.iter().filter(|t| t.contains("in line")).count(),
        2,
        "{texts:?}"
    );
}
