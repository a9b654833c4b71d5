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
        "update pause_history set created_at = {paused_at} where session_id = {session} and paused = true"
    ))
    .await;
    app.sql(&format!(
        "update pause_history set created_at = {} where session_id = {session} and paused = false",
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

#[tokio::test]
async fn handoffs_as_owned_give_time_in_queue_first_replies_per_agent_and_close_reasons() {
    let app = spawn_app().await;
    let mut agents = Vec::new();
    for email in ["ann@test.local", "bea@test.local"] {
        common::add_agent(&app, email, &[common::WELCOME_BOT]).await;
        agents.push(common::token_for(&app, email).await.1);
    }
    let as_agent = |token: &str, path: String, body: Value| {
        let request = app
            .client
            .post(app.url(&welcome(&path)))
            .bearer_auth(token)
            .json(&body);
        async move {
            let response = request.send().await.expect("the server answers");
            assert_eq!(response.status(), 200, "{path}");
        }
    };
    // Carla is claimed by Ann after 2 minutes, answered 30 s later, and resolved; Dan is
    // claimed by Bea after 4 minutes, answered 90 s later, and given back to the bot.
    let mut sessions = Vec::new();
    for (user, token, waited, answered) in [
        ("carla", &agents[0], 2 * MINUTE, MINUTE / 2),
        ("dan", &agents[1], 4 * MINUTE, 3 * MINUTE / 2),
    ] {
        let id = app.say(user, "hello").await["sessionId"].as_i64().unwrap();
        app.post_empty(&welcome(&format!("/mod/hitl/sessions/{id}/pause")))
            .await
            .expect(200);
        as_agent(token, format!("/mod/hitl/sessions/{id}/claim"), json!({})).await;
        let reply = json!({ "message": "hello, how can I help?" });
        as_agent(token, format!("/mod/hitl/sessions/{id}/message"), reply).await;
        let assigned = T0 + waited;
        app.sql(&format!(
            "update handoffs set queued_at = {T0}, assigned_at = {assigned} where session_id = {id}"
        ))
        .await;
        app.sql(&format!(
            "update messages set created_at = {} where session_id = {id} and source = 'agent'",
            assigned + answered
        ))
        .await;
        sessions.push((id, token));
    }
    let (carla, ann) = sessions[0];
    let close = json!({ "reason": "resolved" });
    as_agent(ann, format!("/mod/hitl/sessions/{carla}/close"), close).await;
    let dan = sessions[1].0;
    app.post_empty(&welcome(&format!("/mod/hitl/sessions/{dan}/unpause")))
        .await
        .expect(200);
    // Both closed after their replies.
    app.sql(&format!(
        "update handoffs set closed_at = {} where closed_at is not null",
        T0 + 10 * MINUTE
    ))
    .await;

    let figures = app
        .get(&welcome("/analytics?from=2026-03-02&to=2026-03-02"))
        .await
        .expect(200);
    assert_eq!(figures["queueTime"]["count"], 2, "{figures}");
    assert_eq!(figures["queueTime"]["medianSeconds"], 180.0);
    assert_eq!(figures["queueTime"]["p90Seconds"], 240.0);
    assert_eq!(figures["firstReplyAfterAssignment"]["medianSeconds"], 60.0);
    let per_agent: Vec<(String, i64, f64)> = figures["perAgent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap().to_string(),
                a["handoffs"].as_i64().unwrap(),
                a["firstReply"]["medianSeconds"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        per_agent,
        [
            ("Agent ann@test.local".to_string(), 1, 30.0),
            ("Agent bea@test.local".to_string(), 1, 90.0)
        ]
    );
    assert_eq!(
        figures["closeReasons"],
        json!([{ "reason": "resolved", "count": 1 }, { "reason": "returned_to_bot", "count": 1 }])
    );
}
