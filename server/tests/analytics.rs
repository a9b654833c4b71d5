//! Handoff analytics over the REST API: the figures of a scripted scenario with known timings.

pub mod common;

use common::{spawn_app, welcome, TestApp};
use serde_json::{json, Value};

/// 2026-03-02T10:00:00Z
const T0: i64 = 1_772_445_600_000;
const MINUTE: i64 = 60_000;

async fn at(app: &TestApp, session: i64, paused_at: i64, reply_after: i64, resumed_after: i64) {
    app.sql(&format!(
        "update messages set created_at = {paused_at} where session_id = {session}"
    ))
    .await;
    app.sql(&format!(
        "update messages set created_at = {} where session_id = {session} and source = 'agent'",
        paused_at + reply_after
    ))
    .await;
    app.sql(&format!(
        "update pause_history set created_at = {paused_at} where session_id = {session} and paused = 1"
    ))
    .await;
    app.sql(&format!(
        "update pause_history set created_at = {} where session_id = {session} and paused = 0",
        paused_at + resumed_after
    ))
    .await;
}

#[tokio::test]
async fn the_figures_of_a_scripted_day_are_exact() {
    let app = spawn_app().await;
    // Ada asks for a human, an agent answers after 1 minute, Ada cancels after 5.
    let ada = app.say("ada", "hello").await["sessionId"].as_i64().unwrap();
    app.say("ada", "HITL_START").await;
    let reply = |id: i64, text: &str| {
        let app = &app;
        let body = json!({ "message": text });
        async move {
            app.post(&welcome(&format!("/mod/hitl/sessions/{id}/message")), body)
                .await
                .expect(200);
        }
    };
    reply(ada, "hi Ada").await;
    app.converse("ada", json!({ "type": "postback", "payload": "HITL_STOP" }))
        .await;
    at(&app, ada, T0, MINUTE, 5 * MINUTE).await;
    // Bob is paused by the API, answered after 2 minutes, resumed by the API after 10.
    let bob = app.say("bob", "hello").await["sessionId"].as_i64().unwrap();
    app.post_empty(&welcome(&format!("/mod/hitl/sessions/{bob}/pause")))
        .await
        .expect(200);
    reply(bob, "hi Bob").await;
    app.post_empty(&welcome(&format!("/mod/hitl/sessions/{bob}/unpause")))
        .await
        .expect(200);
    at(&app, bob, T0 + 60 * MINUTE, 2 * MINUTE, 10 * MINUTE).await;
    // Cy asks for a human the next day and is still waiting.
    let cy = app.say("cy", "HITL_START").await["sessionId"]
        .as_i64()
        .unwrap();
    at(&app, cy, T0 + 24 * 60 * MINUTE, 0, 0).await;

    let figures = app
        .get(&welcome("/analytics?from=2026-03-01&to=2026-03-03"))
        .await
        .expect(200);
    let day = |i: usize| figures["days"][i].clone();
    assert_eq!(figures["days"].as_array().unwrap().len(), 3);
    assert_eq!(
        day(0),
        json!({ "day": "2026-03-01", "conversations": 0, "handoffs": 0,
                "messages": { "user": 0, "bot": 0, "agent": 0, "system": 0 } })
    );
    assert_eq!(
        day(1),
        json!({ "day": "2026-03-02", "conversations": 2, "handoffs": 2,
                "messages": { "user": 4, "bot": 4, "agent": 2, "system": 4 } })
    );
    assert_eq!(
        day(2),
        json!({ "day": "2026-03-03", "conversations": 1, "handoffs": 1,
                "messages": { "user": 1, "bot": 1, "agent": 0, "system": 1 } })
    );
    assert_eq!(figures["conversations"], 3);
    assert_eq!(figures["handoffs"], 3);
    assert_eq!(
        figures["messages"],
        json!({ "user": 5, "bot": 5, "agent": 2, "system": 5 })
    );
    assert_eq!(
        figures["firstReply"],
        json!({ "count": 2, "medianSeconds": 90.0, "p90Seconds": 120.0 })
    );
    assert_eq!(
        figures["handoffDuration"],
        json!({ "count": 2, "medianSeconds": 450.0, "p90Seconds": 600.0 })
    );
    assert_eq!(
        figures["returnedBy"],
        json!({ "user": 1, "agent": 0, "api": 1, "other": 0, "stillPaused": 1 })
    );

    // A day with nothing, and bad ranges.
    let empty: Value = app
        .get(&welcome("/analytics?from=2026-03-04&to=2026-03-04"))
        .await
        .expect(200);
    assert_eq!(empty["handoffs"], 0);
    assert_eq!(empty["firstReply"]["medianSeconds"], Value::Null);
    app.get(&welcome("/analytics?from=2026-03-05&to=2026-03-04"))
        .await
        .expect_error(422, "unprocessable");
    app.get("/api/v1/bots/nope/analytics")
        .await
        .expect_error(404, "not_found");
}
