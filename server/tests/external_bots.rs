//! External bots against fakes on loopback: a Rasa REST channel, a webhook bot that pauses, and
//! bots that fail or time out (the user gets the fallback, the agents a system line and a
//! notification, and the user's message is kept).

pub mod common;

use std::time::Duration;

use axum::routing::post;
use axum::{Json, Router};
use common::{bot_path, spawn_app_with_bots, TestApp};
use serde_json::{json, Value};

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

async fn converse(app: &TestApp, bot: &str, user: &str, text: &str) -> Value {
    app.post(
        &bot_path(bot, &format!("/converse/{user}")),
        json!({ "type": "text", "text": text }),
    )
    .await
    .expect(200)
}

#[tokio::test]
async fn a_rasa_bot_answers_through_its_rest_channel() {
    let rasa = serve(Router::new().route(
        "/webhooks/rest/webhook",
        post(|Json(body): Json<Value>| async move {
            Json(json!([
                { "recipient_id": body["sender"], "text": format!("Rasa heard: {}", body["message"].as_str().unwrap()) },
                { "recipient_id": body["sender"], "text": "Anything else?", "buttons": [{ "title": "No", "payload": "/deny" }] }
            ]))
        }),
    ))
    .await;
    let app = spawn_app_with_bots(&[(
        "rasa-bot",
        &format!("[external]\nkind = \"rasa\"\nurl = \"{rasa}\"\n"),
    )])
    .await;
    let answer = converse(&app, "rasa-bot", "u1", "hello").await;
    assert_eq!(
        answer["responses"][0],
        json!({ "type": "text", "text": "Rasa heard: hello" })
    );
    assert_eq!(answer["responses"][1]["type"], "buttons");
    assert_eq!(answer["responses"][1]["buttons"][0]["payload"], "/deny");
}

#[tokio::test]
async fn a_webhook_bot_can_answer_and_pause_the_conversation() {
    let bot = serve(Router::new().route(
        "/bot",
        post(|Json(body): Json<Value>| async move {
            assert_eq!(body["message"]["type"], "text");
            Json(json!({
                "messages": [{ "type": "text", "text": format!("Hi {}", body["userId"].as_str().unwrap()) }],
                "actions": [{ "type": "pause", "reason": "wants a person" }, { "type": "notify", "message": "take over please", "level": "warning" }]
            }))
        }),
    ))
    .await;
    let app = spawn_app_with_bots(&[(
        "hook-bot",
        &format!("[external]\nkind = \"webhook\"\nurl = \"{bot}/bot\"\n"),
    )])
    .await;
    let answer = converse(&app, "hook-bot", "ada", "I want a person").await;
    assert_eq!(
        answer["responses"],
        json!([{ "type": "text", "text": "Hi ada" }])
    );
    assert_eq!(answer["paused"], true);
    let session = app
        .get(&bot_path(
            "hook-bot",
            &format!("/mod/hitl/sessions/{}", answer["sessionId"]),
        ))
        .await
        .expect(200);
    assert_eq!(session["pausedReason"], "wants a person");
    // While paused the external bot is not asked.
    let held = converse(&app, "hook-bot", "ada", "hello?").await;
    assert_eq!(held["responses"], json!([]));
}

async fn assert_failure_reported(app: &TestApp, bot: &str, answer: &Value, reason_part: &str) {
    assert_eq!(
        answer["responses"],
        json!([{ "type": "text", "text": "Sorry, I cannot answer right now. A person will get back to you." }])
    );
    let id = answer["sessionId"].as_i64().unwrap();
    let texts = app.texts(bot, id).await;
    assert_eq!(texts[0], "hello", "the user's message is kept");
    assert!(
        texts[1].starts_with("The bot did not answer: ") && texts[1].contains(reason_part),
        "{texts:?}"
    );
    let notes = app.get("/api/v1/notifications").await.expect(200);
    let note = &notes["notifications"][0];
    assert_eq!(note["level"], "error");
    assert_eq!(note["sessionId"], id);
}

#[tokio::test]
async fn a_failing_bot_gives_the_fallback_and_tells_the_agents() {
    let bot = serve(Router::new().route(
        "/bot",
        post(|| async { (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "boom") }),
    ))
    .await;
    let app = spawn_app_with_bots(&[(
        "broken-bot",
        &format!("[external]\nkind = \"webhook\"\nurl = \"{bot}/bot\"\nretries = 2\n"),
    )])
    .await;
    let answer = converse(&app, "broken-bot", "u1", "hello").await;
    assert_failure_reported(&app, "broken-bot", &answer, "500").await;
}

#[tokio::test]
async fn a_bot_that_does_not_answer_in_time_gives_the_fallback() {
    // The fake bot is slow on purpose: it answers long after hitl's time-out.
    let bot = serve(Router::new().route(
        "/bot",
        post(|| async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Json(json!({ "messages": [] }))
        }),
    ))
    .await;
    let app = spawn_app_with_bots(&[(
        "slow-bot",
        &format!(
            "[external]\nkind = \"webhook\"\nurl = \"{bot}/bot\"\ntimeout_ms = 200\nretries = 0\n"
        ),
    )])
    .await;
    let answer = converse(&app, "slow-bot", "u1", "hello").await;
    assert_failure_reported(&app, "slow-bot", &answer, "no answer within 200 ms").await;
}

#[tokio::test]
async fn a_bot_that_answers_after_an_agent_took_over_sends_nothing() {
    // The fake bot tells the test it was asked, then answers only when the test lets it.
    let (asked_tx, mut asked) = tokio::sync::mpsc::unbounded_channel::<()>();
    let (go_tx, go) = tokio::sync::watch::channel(false);
    let bot = serve(Router::new().route(
        "/bot",
        post(move || {
            let (asked_tx, mut go) = (asked_tx.clone(), go.clone());
            async move {
                let _ = asked_tx.send(());
                let _ = go.wait_for(|released| *released).await;
                Json(json!({
                    "messages": [{ "type": "text", "text": "a late bot answer" }],
                    "actions": [{ "type": "unpause" }]
                }))
            }
        }),
    ))
    .await;
    let app = spawn_app_with_bots(&[(
        "late-bot",
        &format!("[external]\nkind = \"webhook\"\nurl = \"{bot}/bot\"\ntimeout_ms = 20000\n"),
    )])
    .await;
    let user_says = {
        let (client, url) = (
            reqwest::Client::new(),
            app.url(&bot_path("late-bot", "/converse/u1")),
        );
        tokio::spawn(async move {
            client
                .post(url)
                .bearer_auth(common::TOKEN)
                .json(&json!({ "type": "text", "text": "anyone there?" }))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        })
    };
    asked.recv().await.expect("the bot was asked");
    app.post(
        &bot_path("late-bot", "/mod/hitl/channel/api/user/u1/pause"),
        json!({ "reason": "taking this one" }),
    )
    .await
    .expect(200);
    go_tx.send(true).unwrap();
    let answer = user_says.await.unwrap();
    assert_eq!(answer["responses"], json!([]), "nothing reaches the user");
    assert_eq!(
        answer["paused"], true,
        "the bot's unpause does not undo the agent's"
    );
    let id = answer["sessionId"].as_i64().unwrap();
    let texts = app.texts("late-bot", id).await;
    assert_eq!(
        texts,
        [
            "anyone there?",
            "Paused by api: taking this one",
            "The bot's answer was not sent: an agent had taken over"
        ]
    );
    let session = app
        .get(&bot_path("late-bot", &format!("/mod/hitl/sessions/{id}")))
        .await
        .expect(200);
    assert_eq!(session["isPaused"], true);
    assert_eq!(session["pausedByKind"], "token");
}

#[tokio::test]
async fn a_bot_that_answers_after_the_bot_was_switched_off_elsewhere_sends_nothing() {
    let (asked_tx, mut asked) = tokio::sync::mpsc::unbounded_channel::<()>();
    let (go_tx, go) = tokio::sync::watch::channel(false);
    let bot = serve(Router::new().route(
        "/bot",
        post(move || {
            let (asked_tx, mut go) = (asked_tx.clone(), go.clone());
            async move {
                let _ = asked_tx.send(());
                let _ = go.wait_for(|released| *released).await;
                Json(json!({ "messages": [{ "type": "text", "text": "a late bot answer" }] }))
            }
        }),
    ))
    .await;
    let app = spawn_app_with_bots(&[(
        "late-bot",
        &format!("[external]\nkind = \"webhook\"\nurl = \"{bot}/bot\"\ntimeout_ms = 20000\n"),
    )])
    .await;
    let user_says = {
        let (client, url) = (
            reqwest::Client::new(),
            app.url(&bot_path("late-bot", "/converse/u1")),
        );
        tokio::spawn(async move {
            client
                .post(url)
                .bearer_auth(common::TOKEN)
                .json(&json!({ "type": "text", "text": "anyone there?" }))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        })
    };
    asked.recv().await.expect("the bot was asked");
    // Another instance turns the switch: this one has not heard of it when the answer comes.
    let on = if app.on_postgres() { "true" } else { "1" };
    app.sql(&format!(
        "update bots set paused = {on} where id = 'late-bot'"
    ))
    .await;
    go_tx.send(true).unwrap();
    let answer = user_says.await.unwrap();
    assert_eq!(answer["responses"], json!([]), "nothing reaches the user");
    let id = answer["sessionId"].as_i64().unwrap();
    assert_eq!(
        app.texts("late-bot", id).await,
        [
            "anyone there?",
            "The bot's answer was not sent: the bot was switched off"
        ]
    );
}
