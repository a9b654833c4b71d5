//! The seed's example through the real HTTP API: echo, HITL_START, a human takes over, the user
//! cancels, the bot answers again; and while paused, nothing a user sends reaches the bot.

pub mod common;

use common::{spawn_app, spawn_app_with_bots, text, welcome};
use serde_json::{json, Value};

const ADA: &str = "ada";

fn texts(messages: &[Value]) -> Vec<&str> {
    messages
        .iter()
        .map(|m| m["text"].as_str().expect("a message text"))
        .collect()
}

#[tokio::test]
async fn the_seed_scenario_works_end_to_end() {
    let app = spawn_app().await;

    // The bot echoes.
    let hello = app
        .converse(
            ADA,
            json!({ "type": "text", "text": "hello", "user": { "fullName": "Ada Lovelace" } }),
        )
        .await;
    assert_eq!(
        hello["responses"],
        json!([{ "type": "text", "text": "You said: hello" }])
    );
    assert_eq!(hello["paused"], false);
    let id = hello["sessionId"].as_i64().expect("a session id");

    // The user asks for a human: a button to cancel, and the bot pauses.
    let start = app.say(ADA, "HITL_START").await;
    assert_eq!(
        start["responses"],
        json!([{
            "type": "buttons",
            "text": "Bot paused, a human will get in touch very soon.",
            "buttons": [{ "title": "Cancel request", "payload": "HITL_STOP" }]
        }])
    );
    assert_eq!(start["paused"], true);
    assert_eq!(start["sessionId"], id);

    // Agents are alerted by name.
    let notifications = app.get("/api/v1/notifications").await.expect(200);
    let alert = &notifications["notifications"][0];
    assert_eq!(alert["message"], "Ada Lovelace wants to talk to a human");
    assert_eq!(alert["level"], "info");
    assert_eq!(alert["url"], "/modules/hitl");
    assert_eq!(alert["sessionId"], id);
    assert_eq!(alert["read"], false);

    let session = app.session(id).await;
    assert_eq!(session["isPaused"], true);
    assert_eq!(session["pausedBy"], "bot");
    assert_eq!(session["fullName"], "Ada Lovelace");

    // While paused the bot stays quiet, but the message is recorded for the agent.
    let waiting = app.say(ADA, "are you there?").await;
    assert_eq!(waiting["responses"], json!([]));
    assert_eq!(waiting["paused"], true);
    let messages = app.messages(id).await;
    let last = messages.last().expect("messages");
    assert_eq!(last["text"], "are you there?");
    assert_eq!(last["source"], "user");
    assert_eq!(last["direction"], "in");

    // The agent answers.
    let reply = app
        .post(
            &welcome(&format!("/mod/hitl/sessions/{id}/message")),
            json!({ "message": "Hi Ada, I am here." }),
        )
        .await
        .expect(200);
    assert_eq!(reply["source"], "agent");
    assert_eq!(reply["direction"], "out");
    assert_eq!(reply["text"], "Hi Ada, I am here.");
    assert_eq!(reply["sessionId"], id);
    let last = app.messages(id).await.pop().expect("messages");
    assert_eq!(last["id"], reply["id"]);
    assert_eq!(last["source"], "agent");

    // The user clicks "Cancel request": the bot is back.
    let stop = app
        .converse(ADA, json!({ "type": "postback", "payload": "HITL_STOP" }))
        .await;
    assert_eq!(
        stop["responses"],
        json!([{ "type": "text", "text": "Human in the loop disabled. Bot resumed." }])
    );
    assert_eq!(stop["paused"], false);
    assert_eq!(app.session(id).await["isPaused"], false);

    let again = app.say(ADA, "hello again").await;
    assert_eq!(
        again["responses"],
        json!([{ "type": "text", "text": "You said: hello again" }])
    );
    assert_eq!(again["paused"], false);

    // The whole conversation is in the history, in order.
    let history = app.messages(id).await;
    let sources: Vec<&str> = history
        .iter()
        .map(|m| m["source"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts(&history),
        [
            "hello",
            "You said: hello",
            "HITL_START",
            "Bot paused, a human will get in touch very soon.",
            "Paused by bot: user asked for a human",
            "are you there?",
            "Hi Ada, I am here.",
            "HITL_STOP",
            "Human in the loop disabled. Bot resumed.",
            "Resumed by the user: user cancelled the request",
            "hello again",
            "You said: hello again",
        ]
    );
    assert_eq!(
        sources,
        [
            "user", "bot", "user", "bot", "system", "user", "agent", "user", "bot", "system",
            "user", "bot"
        ]
    );
}

#[tokio::test]
async fn typing_hitl_stop_resumes_the_bot_too() {
    let app = spawn_app().await;
    let start = app.say(ADA, "HITL_START").await;
    assert_eq!(start["paused"], true);

    let stop = app.say(ADA, "HITL_STOP").await;
    assert_eq!(
        stop["responses"][0]["text"],
        "Human in the loop disabled. Bot resumed."
    );
    assert_eq!(stop["paused"], false);
    assert_eq!(
        app.say(ADA, "hi").await["responses"][0]["text"],
        "You said: hi"
    );
}

#[tokio::test]
async fn while_paused_no_user_message_kind_reaches_the_welcome_bot() {
    let app = spawn_app().await;
    let id = app.say(ADA, "HITL_START").await["sessionId"]
        .as_i64()
        .unwrap();

    let held = [
        // A quick reply whose text would start a handover again if the bot saw it.
        json!({ "type": "quick_reply", "text": "HITL_START", "payload": "HITL_START" }),
        json!({ "type": "postback", "payload": "MENU", "title": "Menu" }),
        json!({ "type": "image", "url": "https://example.com/cat.png" }),
        text("HITL_START"),
    ];
    for message in &held {
        let answer = app.converse(ADA, message.clone()).await;
        assert_eq!(answer["responses"], json!([]), "held back: {message}");
        assert_eq!(answer["paused"], true);
    }

    let recorded: Vec<(String, String)> = app
        .messages(id)
        .await
        .iter()
        .filter(|m| m["source"] == "user")
        .map(|m| {
            (
                m["type"].as_str().unwrap().into(),
                m["text"].as_str().unwrap().into(),
            )
        })
        .collect();
    let expected = [
        ("text", "HITL_START"),
        ("quick_reply", "HITL_START"),
        ("postback", "Menu"),
        ("image", "[image]"),
        ("text", "HITL_START"),
    ];
    assert_eq!(
        recorded,
        expected.map(|(k, t)| (k.to_string(), t.to_string()))
    );
    // Only the first HITL_START made the bot answer and notify.
    let notifications = app.get("/api/v1/notifications").await.expect(200);
    assert_eq!(notifications["notifications"].as_array().unwrap().len(), 1);
}

/// A bot that answers every kind a user can send, to show that pausing silences each of them.
const PARROT: &str = r#"
name = "Parrot"

[[rules]]
when = [{ kind = "text" }, { kind = "quick_reply" }, { kind = "postback" }, { kind = "image" }, { kind = "file" }]
actions = [{ reply = "Got it" }]
"#;

#[tokio::test]
async fn pausing_holds_back_every_user_message_kind() {
    let app = spawn_app_with_bots(&[("parrot", PARROT)]).await;
    let kinds = [
        text("hello"),
        json!({ "type": "quick_reply", "text": "Yes", "payload": "YES" }),
        json!({ "type": "postback", "payload": "MENU" }),
        json!({ "type": "image", "url": "https://example.com/cat.png" }),
        json!({ "type": "file", "url": "https://example.com/invoice.pdf", "title": "invoice.pdf" }),
    ];
    for message in &kinds {
        let answer = app.converse_with("parrot", "u1", message.clone()).await;
        assert_eq!(
            answer["responses"],
            json!([{ "type": "text", "text": "Got it" }]),
            "not paused: {message}"
        );
    }

    let paused = app
        .post_empty("/api/v1/bots/parrot/mod/hitl/channel/api/user/u1/pause")
        .await
        .expect(200);
    assert_eq!(paused["isPaused"], true);

    for message in &kinds {
        let answer = app.converse_with("parrot", "u1", message.clone()).await;
        assert_eq!(answer["responses"], json!([]), "paused: {message}");
        assert_eq!(answer["paused"], true);
        assert!(
            answer["messageId"].is_i64(),
            "the message is recorded: {answer}"
        );
    }
    let id = paused["id"].as_i64().unwrap();
    let page = app
        .get(&format!(
            "/api/v1/bots/parrot/mod/hitl/sessions/{id}/messages?limit=200"
        ))
        .await
        .expect(200);
    let held: Vec<&str> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .skip_while(|m| m["source"] != "system")
        .filter(|m| m["source"] == "user")
        .map(|m| m["type"].as_str().unwrap())
        .collect();
    assert_eq!(held, ["text", "quick_reply", "postback", "image", "file"]);
}
