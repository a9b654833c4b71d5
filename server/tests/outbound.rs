//! Bots and backends reaching users outside a conversation turn: sending to a channel user, and a
//! Converse client fetching the answers that came later (an agent's replies).

pub mod common;

use common::{spawn_app, welcome};
use serde_json::json;

#[tokio::test]
async fn a_bot_message_sent_by_rest_is_recorded_as_the_bots() {
    let app = spawn_app().await;
    let id = app.say("u1", "hello").await["sessionId"].as_i64().unwrap();
    let sent = app
        .post(
            &welcome("/mod/hitl/channel/api/user/u1/messages"),
            json!({ "type": "buttons", "text": "Rate us", "buttons": [{ "title": "5", "payload": "RATE_5" }] }),
        )
        .await
        .expect(201);
    assert_eq!(sent["source"], "bot");
    assert_eq!(sent["type"], "buttons");
    let last = app.messages(id).await.pop().unwrap();
    assert_eq!(
        (last["id"].clone(), last["text"].clone()),
        (sent["id"].clone(), json!("Rate us"))
    );
}

#[tokio::test]
async fn sending_to_an_unknown_user_or_a_user_only_kind_is_refused() {
    let app = spawn_app().await;
    app.say("u1", "hello").await;
    app.post(
        &welcome("/mod/hitl/channel/api/user/ghost/messages"),
        json!({ "type": "text", "text": "hi" }),
    )
    .await
    .expect_error(404, "not_found");
    app.post(
        &welcome("/mod/hitl/channel/api/user/u1/messages"),
        json!({ "type": "postback", "payload": "X" }),
    )
    .await
    .expect_error(422, "unprocessable");
    app.post(
        &welcome("/mod/hitl/channel/api/user/u1/messages"),
        json!({ "type": "text", "text": " " }),
    )
    .await
    .expect_error(422, "unprocessable");
    app.post_raw(&welcome("/mod/hitl/channel/api/user/u1/messages"), "{oops")
        .await
        .expect_error(400, "bad_request");
}

#[tokio::test]
async fn a_converse_client_fetches_the_agents_replies_that_came_later() {
    let app = spawn_app().await;
    let first = app.say("u1", "HITL_START").await;
    let id = first["sessionId"].as_i64().unwrap();
    let asked = first["messageId"].as_i64().unwrap();
    app.post(
        &welcome(&format!("/mod/hitl/sessions/{id}/message")),
        json!({ "message": "Hi, I am Bob" }),
    )
    .await
    .expect(200);

    let later = app
        .get(&welcome(&format!("/converse/u1/messages?after={asked}")))
        .await
        .expect(200);
    let seen: Vec<(String, String)> = later["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["source"].as_str().unwrap().into(),
                m["text"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (
                "bot".to_string(),
                "Bot paused, a human will get in touch very soon.".to_string()
            ),
            (
                "system".to_string(),
                "Paused by bot: user asked for a human".to_string()
            ),
            ("agent".to_string(), "Hi, I am Bob".to_string()),
        ]
    );
    let last_id = later["messages"][2]["id"].as_i64().unwrap();
    let none = app
        .get(&welcome(&format!("/converse/u1/messages?after={last_id}")))
        .await
        .expect(200);
    assert_eq!(none["messages"], json!([]));
    app.get(&welcome("/converse/nobody/messages"))
        .await
        .expect_error(404, "not_found");
}
