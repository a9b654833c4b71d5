//! Pausing and resuming a conversation by REST: by session id, by channel and user, and through
//! the old module's aliases; each change is stored before the answer and is idempotent.

pub mod common;

use common::{spawn_app, welcome, TestApp};
use serde_json::{json, Value};

/// Starts a conversation and answers its session id.
async fn conversation(app: &TestApp, user: &str) -> i64 {
    app.say(user, "hello").await["sessionId"]
        .as_i64()
        .expect("a session id")
}

fn system_lines(messages: &[Value]) -> Vec<&str> {
    messages
        .iter()
        .filter(|m| m["source"] == "system")
        .map(|m| m["text"].as_str().expect("a text"))
        .collect()
}

#[tokio::test]
async fn pausing_by_session_id_is_stored_with_who_and_why() {
    let app = spawn_app().await;
    let id = conversation(&app, "u1").await;

    let answer = app
        .post(
            &welcome(&format!("/mod/hitl/sessions/{id}/pause")),
            json!({ "reason": "angry customer" }),
        )
        .await
        .expect(200);
    assert_eq!(answer["id"], id);
    assert_eq!(answer["isPaused"], true);
    assert_eq!(answer["pausedBy"], "api");
    assert_eq!(answer["pausedReason"], "angry customer");
    assert!(answer["pausedAt"].is_string(), "pausedAt is set: {answer}");

    let stored = app.session(id).await;
    assert_eq!(stored["isPaused"], true);
    assert_eq!(stored["pausedBy"], "api");
    assert_eq!(stored["pausedReason"], "angry customer");

    let held = app.say("u1", "anyone?").await;
    assert_eq!(held["responses"], json!([]));
    assert_eq!(held["paused"], true);
}

#[tokio::test]
async fn unpausing_by_session_id_gives_the_conversation_back_to_the_bot() {
    let app = spawn_app().await;
    let id = conversation(&app, "u1").await;
    app.post_empty(&welcome(&format!("/mod/hitl/sessions/{id}/pause")))
        .await
        .expect(200);

    let answer = app
        .post_empty(&welcome(&format!("/mod/hitl/sessions/{id}/unpause")))
        .await
        .expect(200);
    assert_eq!(answer["isPaused"], false);
    assert_eq!(answer["pausedBy"], Value::Null);
    assert_eq!(answer["pausedReason"], Value::Null);
    assert_eq!(app.session(id).await["isPaused"], false);

    let echoed = app.say("u1", "back?").await;
    assert_eq!(
        echoed["responses"],
        json!([{ "type": "text", "text": "You said: back?" }])
    );
    assert_eq!(echoed["paused"], false);
    assert_eq!(
        system_lines(&app.messages(id).await),
        ["Paused by api", "Resumed by api"]
    );
}

#[tokio::test]
async fn pausing_by_channel_and_user_finds_the_users_session() {
    let app = spawn_app().await;
    let other = conversation(&app, "someone-else").await;
    let id = conversation(&app, "user-42").await;

    let answer = app
        .post(
            &welcome("/mod/hitl/channel/api/user/user-42/pause"),
            json!({ "reason": "VIP" }),
        )
        .await
        .expect(200);
    assert_eq!(answer["id"], id);
    assert_eq!(answer["userId"], "user-42");
    assert_eq!(answer["isPaused"], true);
    assert_eq!(answer["pausedBy"], "api");
    assert_eq!(answer["pausedReason"], "VIP");
    assert_eq!(app.session(id).await["isPaused"], true);
    assert_eq!(
        app.session(other).await["isPaused"],
        false,
        "only that user's conversation pauses"
    );

    let answer = app
        .post_empty(&welcome("/mod/hitl/channel/api/user/user-42/unpause"))
        .await
        .expect(200);
    assert_eq!(answer["isPaused"], false);
    assert_eq!(app.session(id).await["isPaused"], false);
}

#[tokio::test]
async fn the_old_modules_pause_paths_still_work() {
    let app = spawn_app().await;
    let id = conversation(&app, "u1").await;

    let answer = app
        .post(
            &format!("/api/botpress-hitl/sessions/{id}/pause"),
            json!({ "reason": "legacy tool" }),
        )
        .await
        .expect(200);
    assert_eq!(answer["isPaused"], true);
    assert_eq!(answer["pausedBy"], "api");
    assert_eq!(answer["pausedReason"], "legacy tool");
    assert_eq!(app.session(id).await["isPaused"], true);

    let answer = app
        .post_empty(&format!("/api/botpress-hitl/sessions/{id}/unpause"))
        .await
        .expect(200);
    assert_eq!(answer["isPaused"], false);
    assert_eq!(app.session(id).await["isPaused"], false);
}

#[tokio::test]
async fn pausing_twice_writes_one_system_line() {
    let app = spawn_app().await;
    let id = conversation(&app, "u1").await;
    let path = welcome(&format!("/mod/hitl/sessions/{id}/pause"));

    let first = app
        .post(&path, json!({ "reason": "checking an order" }))
        .await
        .expect(200);
    let second = app
        .post(&path, json!({ "reason": "checking an order" }))
        .await
        .expect(200);
    assert_eq!(second["isPaused"], true);
    assert_eq!(
        second["pausedAt"], first["pausedAt"],
        "the second call changes nothing"
    );

    assert_eq!(
        system_lines(&app.messages(id).await),
        ["Paused by api: checking an order"]
    );
}

#[tokio::test]
async fn resuming_a_conversation_that_runs_changes_nothing() {
    let app = spawn_app().await;
    let id = conversation(&app, "u1").await;

    let answer = app
        .post_empty(&welcome(&format!("/mod/hitl/sessions/{id}/unpause")))
        .await
        .expect(200);
    assert_eq!(answer["isPaused"], false);
    assert!(system_lines(&app.messages(id).await).is_empty());
}

#[tokio::test]
async fn pausing_an_unknown_session_or_user_is_not_found() {
    let app = spawn_app().await;
    conversation(&app, "u1").await;

    for path in [
        welcome("/mod/hitl/sessions/999/pause"),
        welcome("/mod/hitl/sessions/999/unpause"),
        welcome("/mod/hitl/channel/api/user/nobody/pause"),
        welcome("/mod/hitl/channel/web/user/u1/pause"),
        "/api/botpress-hitl/sessions/999/pause".to_string(),
        "/api/v1/bots/no-such-bot/mod/hitl/sessions/1/pause".to_string(),
    ] {
        let answer = app.post_empty(&path).await;
        assert_eq!(answer.status, 404, "{path}");
        answer.expect_error(404, "not_found");
    }
}

#[tokio::test]
async fn a_session_of_another_bot_cannot_be_paused_through_this_bot() {
    let app = common::spawn_app_with_bots(&[("other", "name = \"Other\"")]).await;
    let id = app.converse_with("other", "u1", common::text("hi")).await["sessionId"]
        .as_i64()
        .unwrap();

    app.post_empty(&welcome(&format!("/mod/hitl/sessions/{id}/pause")))
        .await
        .expect_error(404, "not_found");
    let other = app
        .get(&format!("/api/v1/bots/other/mod/hitl/sessions/{id}"))
        .await
        .expect(200);
    assert_eq!(other["isPaused"], false);
}
