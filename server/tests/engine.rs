//! Session state the engine keeps for agents, through the API: the user's profile, the unread
//! count, and the bot-wide pause switch.

pub mod common;

use common::{spawn_app, welcome};
use serde_json::{json, Value};

fn profile_message(text: &str, user: Value) -> Value {
    json!({ "type": "text", "text": text, "user": user })
}

// ---- profile ---------------------------------------------------------------------------------

#[tokio::test]
async fn a_newer_profile_updates_the_session_and_an_absent_one_keeps_it() {
    let app = spawn_app().await;
    let first = app
        .converse(
            "u1",
            profile_message(
                "hi",
                json!({ "fullName": "Ada", "avatarUrl": "https://example.com/ada-1.png" }),
            ),
        )
        .await;
    let id = first["sessionId"].as_i64().unwrap();
    let session = app.session(id).await;
    assert_eq!(session["fullName"], "Ada");
    assert_eq!(session["avatarUrl"], "https://example.com/ada-1.png");

    // The channel tells us a new name only: the avatar stays.
    app.converse(
        "u1",
        profile_message("again", json!({ "fullName": "Ada Lovelace" })),
    )
    .await;
    let session = app.session(id).await;
    assert_eq!(session["fullName"], "Ada Lovelace");
    assert_eq!(session["avatarUrl"], "https://example.com/ada-1.png");

    // No profile at all: both stay.
    app.say("u1", "no profile this time").await;
    let session = app.session(id).await;
    assert_eq!(session["fullName"], "Ada Lovelace");
    assert_eq!(session["avatarUrl"], "https://example.com/ada-1.png");

    // A new avatar only.
    app.converse(
        "u1",
        profile_message(
            "new picture",
            json!({ "avatarUrl": "https://example.com/ada-2.png" }),
        ),
    )
    .await;
    let session = app.session(id).await;
    assert_eq!(session["fullName"], "Ada Lovelace");
    assert_eq!(session["avatarUrl"], "https://example.com/ada-2.png");

    // The list shows the same.
    let page = app.get(&welcome("/mod/hitl/sessions")).await.expect(200);
    assert_eq!(page["sessions"][0]["fullName"], "Ada Lovelace");
    assert_eq!(
        page["sessions"][0]["avatarUrl"],
        "https://example.com/ada-2.png"
    );
}

#[tokio::test]
async fn the_bot_greets_a_user_by_the_latest_name() {
    let app = spawn_app().await;
    app.converse(
        "u1",
        profile_message("hi", json!({ "fullName": "Old Name" })),
    )
    .await;
    app.converse(
        "u1",
        profile_message("HITL_START", json!({ "fullName": "New Name" })),
    )
    .await;
    let notifications = app.get("/api/v1/notifications").await.expect(200);
    assert_eq!(
        notifications["notifications"][0]["message"],
        "New Name wants to talk to a human"
    );
}

// ---- unread count ----------------------------------------------------------------------------

#[tokio::test]
async fn unread_count_counts_user_messages_and_resets_on_an_agent_reply() {
    let app = spawn_app().await;
    let id = app.say("u1", "one").await["sessionId"].as_i64().unwrap();
    assert_eq!(
        app.session(id).await["unreadCount"],
        1,
        "the bot's answer is not unread"
    );
    app.say("u1", "two").await;
    app.say("u1", "three").await;
    assert_eq!(app.session(id).await["unreadCount"], 3);

    app.post(
        &welcome(&format!("/mod/hitl/sessions/{id}/message")),
        json!({ "message": "Hello, I am Grace." }),
    )
    .await
    .expect(200);
    let session = app.session(id).await;
    assert_eq!(session["unreadCount"], 0);
    // The agent took over, so the bot no longer answers.
    assert_eq!(session["isPaused"], true);
    assert_eq!(session["pausedBy"], "api");
    assert_eq!(session["pausedReason"], "agent replied");

    let held = app.say("u1", "thanks").await;
    assert_eq!(held["responses"], json!([]));
    assert_eq!(app.session(id).await["unreadCount"], 1);

    let page = app.get(&welcome("/mod/hitl/sessions")).await.expect(200);
    assert_eq!(page["sessions"][0]["unreadCount"], 1);
}

#[tokio::test]
async fn an_empty_agent_reply_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let id = app.say("u1", "one").await["sessionId"].as_i64().unwrap();
    app.post(
        &welcome(&format!("/mod/hitl/sessions/{id}/message")),
        json!({ "message": "  " }),
    )
    .await
    .expect_error(422, "unprocessable");
    let session = app.session(id).await;
    assert_eq!(session["unreadCount"], 1);
    assert_eq!(session["isPaused"], false);
}

// ---- the bot-wide switch ---------------------------------------------------------------------

#[tokio::test]
async fn the_bot_wide_switch_holds_back_every_sessions_messages() {
    let app = spawn_app().await;
    let known = app.say("u1", "hello").await["sessionId"].as_i64().unwrap();

    let answer = app.post_empty(&welcome("/pause")).await;
    assert_eq!(answer.status, 204);

    for (user, words) in [
        ("u1", "hello?"),
        ("u2", "first message"),
        ("u3", "HITL_START"),
    ] {
        let held = app.say(user, words).await;
        assert_eq!(held["responses"], json!([]), "{user}: {words}");
        assert_eq!(held["paused"], true);
        let id = held["sessionId"].as_i64().unwrap();
        let last = app.messages(id).await.pop().unwrap();
        assert_eq!(
            (&last["source"], &last["text"]),
            (&json!("user"), &json!(words)),
            "recorded"
        );
    }
    assert_eq!(app.messages(known).await.len(), 3);
    let notifications = app.get("/api/v1/notifications").await.expect(200);
    assert_eq!(
        notifications["notifications"],
        json!([]),
        "HITL_START did not reach the bot"
    );

    assert_eq!(app.post_empty(&welcome("/unpause")).await.status, 204);
    let answer = app.say("u2", "are you back?").await;
    assert_eq!(
        answer["responses"],
        json!([{ "type": "text", "text": "You said: are you back?" }])
    );
    assert_eq!(answer["paused"], false);
}

#[tokio::test]
async fn the_bot_wide_switch_holds_back_the_users_cancel_button_too() {
    let app = spawn_app().await;
    app.post_empty(&welcome("/pause")).await;

    let answer = app
        .converse("u1", json!({ "type": "postback", "payload": "HITL_STOP" }))
        .await;
    assert_eq!(
        answer["responses"],
        json!([]),
        "the bot must not claim to be back while switched off"
    );
    assert_eq!(answer["paused"], true);
}

#[tokio::test]
async fn the_bot_wide_switch_survives_a_restart() {
    let app = spawn_app().await;
    assert_eq!(app.post_empty(&welcome("/pause")).await.status, 204);

    let app = app.restart().await;
    let held = app.say("u1", "hello").await;
    assert_eq!(held["responses"], json!([]));
    assert_eq!(held["paused"], true);

    assert_eq!(app.post_empty(&welcome("/unpause")).await.status, 204);
    let app = app.restart().await;
    assert_eq!(
        app.say("u1", "hello").await["responses"][0]["text"],
        "You said: hello"
    );
}

#[tokio::test]
async fn the_bot_wide_switch_of_an_unknown_bot_is_not_found() {
    let app = spawn_app().await;
    app.post_empty("/api/v1/bots/no-such-bot/pause")
        .await
        .expect_error(404, "not_found");
}
