//! What the console relies on besides the seed's routes: filter counts, the "waiting" filter,
//! marking a session read, and marking every notification read.

pub mod common;

use common::{spawn_app, welcome, TestApp};
use serde_json::json;

async fn session_of(app: &TestApp, user: &str, words: &str) -> i64 {
    app.say(user, words).await["sessionId"]
        .as_i64()
        .expect("a session id")
}

fn user_ids(page: &serde_json::Value) -> Vec<&str> {
    page["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .map(|s| s["userId"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn waiting_sessions_are_paused_ones_whose_user_spoke_after_the_agent() {
    let app = spawn_app().await;
    session_of(&app, "running", "hello").await;
    let answered = session_of(&app, "answered", "HITL_START").await;
    session_of(&app, "waiting", "HITL_START").await;
    app.post(
        &welcome(&format!("/mod/hitl/sessions/{answered}/message")),
        json!({ "message": "hi" }),
    )
    .await
    .expect(200);

    let counts = app
        .get(&welcome("/mod/hitl/sessions/counts"))
        .await
        .expect(200);
    assert_eq!(
        counts,
        json!({ "all": 3, "paused": 2, "waiting": 1, "queued": 2, "owners": [] })
    );
    let waiting = app
        .get(&welcome("/mod/hitl/sessions?filter=waiting"))
        .await
        .expect(200);
    assert_eq!(user_ids(&waiting), ["waiting"]);
    assert_eq!(waiting["sessions"][0]["waiting"], true);

    // The user speaks again: the answered session waits too.
    app.say("answered", "still there?").await;
    let waiting = app
        .get(&welcome("/mod/hitl/sessions?filter=waiting"))
        .await
        .expect(200);
    assert_eq!(user_ids(&waiting), ["answered", "waiting"]);
}

#[tokio::test]
async fn opening_a_session_clears_its_unread_count() {
    let app = spawn_app().await;
    let id = session_of(&app, "u1", "one").await;
    app.say("u1", "two").await;
    assert_eq!(app.session(id).await["unreadCount"], 2);
    let read = app
        .post_empty(&welcome(&format!("/mod/hitl/sessions/{id}/read")))
        .await
        .expect(200);
    assert_eq!(read["unreadCount"], 0);
    assert_eq!(app.session(id).await["unreadCount"], 0);
    app.post_empty(&welcome("/mod/hitl/sessions/999/read"))
        .await
        .expect_error(404, "not_found");
}

#[tokio::test]
async fn mark_all_read_clears_every_unread_notification() {
    let app = spawn_app().await;
    for i in 0..3 {
        app.post(
            &welcome("/notifications"),
            json!({ "message": format!("n{i}") }),
        )
        .await
        .expect(201);
    }
    let done = app
        .post_empty("/api/v1/notifications/read")
        .await
        .expect(200);
    assert_eq!(done["markedRead"], 3);
    let list = app
        .get("/api/v1/notifications?unread=true")
        .await
        .expect(200);
    assert_eq!(list["unreadCount"], 0);
    assert_eq!(list["notifications"].as_array().unwrap().len(), 0);
}
