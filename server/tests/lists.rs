//! The console's lists by owner over REST: the queue oldest first with its cursor, Mine and
//! Others as the asking person sees them, Closed since a time, and the counts of each.

pub mod common;

use common::{add_agent, spawn_app, token_for, welcome, TestApp};
use serde_json::{json, Value};

async fn call_as(app: &TestApp, token: &str, method: reqwest::Method, path: &str) -> Value {
    let response = app
        .client
        .request(method, app.url(path))
        .bearer_auth(token)
        .json(&json!({ "reason": "resolved" }))
        .send()
        .await
        .expect("the server answers");
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.expect("a JSON answer")
}

async fn list_as(app: &TestApp, token: &str, query: &str) -> (Vec<String>, Value) {
    let page = call_as(
        app,
        token,
        reqwest::Method::GET,
        &welcome(&format!("/mod/hitl/sessions?{query}")),
    )
    .await;
    let users = page["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["userId"].as_str().unwrap().to_string())
        .collect();
    (users, page)
}

async fn paused(app: &TestApp, user: &str) -> i64 {
    let id = app.say(user, "hello").await["sessionId"].as_i64().unwrap();
    app.post_empty(&welcome(&format!("/mod/hitl/sessions/{id}/pause")))
        .await
        .expect(200);
    id
}

#[tokio::test]
async fn queue_mine_others_and_closed_list_what_each_agent_should_see() {
    let app = spawn_app().await;
    add_agent(&app, "ann@example.com", &[common::WELCOME_BOT]).await;
    add_agent(&app, "bea@example.com", &[common::WELCOME_BOT]).await;
    let (ann, ann_token) = token_for(&app, "ann@example.com").await;
    let (bea, bea_token) = token_for(&app, "bea@example.com").await;
    let first = paused(&app, "q1").await;
    let second = paused(&app, "q2").await;
    let third = paused(&app, "q3").await;
    app.say("q-running", "the bot has this one").await;
    // The first in line writes again: newest activity, still first in the queue.
    app.say("q1", "anyone?").await;

    let (queue, _) = list_as(&app, &ann_token, "filter=queue").await;
    assert_eq!(queue, ["q1", "q2", "q3"]);
    let (page_one, page) = list_as(&app, &ann_token, "filter=queue&limit=2").await;
    assert_eq!(page_one, ["q1", "q2"]);
    let cursor = page["nextCursor"]
        .as_str()
        .expect("a next page")
        .to_string();
    let (page_two, page) = list_as(
        &app,
        &ann_token,
        &format!("filter=queue&limit=2&cursor={cursor}"),
    )
    .await;
    assert_eq!(page_two, ["q3"]);
    assert_eq!(page["nextCursor"], Value::Null);

    let claim = |id: i64| welcome(&format!("/mod/hitl/sessions/{id}/claim"));
    call_as(&app, &ann_token, reqwest::Method::POST, &claim(second)).await;
    call_as(&app, &bea_token, reqwest::Method::POST, &claim(third)).await;

    assert_eq!(list_as(&app, &ann_token, "filter=queue").await.0, ["q1"]);
    assert_eq!(list_as(&app, &ann_token, "filter=mine").await.0, ["q2"]);
    assert_eq!(list_as(&app, &ann_token, "filter=others").await.0, ["q3"]);
    assert_eq!(list_as(&app, &bea_token, "filter=mine").await.0, ["q3"]);
    assert_eq!(list_as(&app, &bea_token, "filter=others").await.0, ["q2"]);
    let counts = app
        .get(&welcome("/mod/hitl/sessions/counts"))
        .await
        .expect(200);
    assert_eq!(counts["queued"], 1);
    let mut owners = counts["owners"].as_array().unwrap().clone();
    owners.sort_by_key(|o| o["userId"].as_i64());
    assert_eq!(
        owners,
        [
            json!({ "userId": ann, "open": 1 }),
            json!({ "userId": bea, "open": 1 })
        ]
    );
    assert!(
        counts.get("closed").is_none(),
        "asked without closedSince: {counts}"
    );

    // Ann resolves hers: it is closed today, with why, and no longer hers.
    call_as(
        &app,
        &ann_token,
        reqwest::Method::POST,
        &welcome(&format!("/mod/hitl/sessions/{second}/close")),
    )
    .await;
    assert!(list_as(&app, &ann_token, "filter=mine").await.0.is_empty());
    let (closed, page) = list_as(&app, &ann_token, "filter=closed").await;
    assert_eq!(closed, ["q2"]);
    assert_eq!(page["sessions"][0]["lastClosed"]["reason"], "resolved");
    assert_eq!(page["sessions"][0]["handoff"], Value::Null);
    let since =
        |at: chrono::DateTime<chrono::Utc>| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let hour_ago = since(chrono::Utc::now() - chrono::Duration::hours(1));
    let in_an_hour = since(chrono::Utc::now() + chrono::Duration::hours(1));
    let counts = app
        .get(&welcome(&format!(
            "/mod/hitl/sessions/counts?closedSince={hour_ago}"
        )))
        .await
        .expect(200);
    assert_eq!(counts["closed"], 1, "{counts}");
    assert_eq!(counts["owners"], json!([{ "userId": bea, "open": 1 }]));
    let later = app
        .get(&welcome(&format!(
            "/mod/hitl/sessions/counts?closedSince={in_an_hour}"
        )))
        .await
        .expect(200);
    assert_eq!(later["closed"], 0);
    assert!(list_as(
        &app,
        &ann_token,
        &format!("filter=closed&closedSince={in_an_hour}")
    )
    .await
    .0
    .is_empty());

    // Handed over again, it leaves the closed list for the queue.
    app.post_empty(&welcome(&format!("/mod/hitl/sessions/{second}/pause")))
        .await
        .expect(200);
    assert!(list_as(&app, &ann_token, "filter=closed")
        .await
        .0
        .is_empty());
    assert_eq!(
        list_as(&app, &ann_token, "filter=queue").await.0,
        ["q1", "q2"]
    );
    let _ = first;
}

#[tokio::test]
async fn an_unknown_filter_or_time_is_a_clear_error() {
    let app = spawn_app().await;
    app.get(&welcome("/mod/hitl/sessions?filter=everything"))
        .await
        .expect_error(400, "bad_request");
    app.get(&welcome("/mod/hitl/sessions/counts?closedSince=yesterday"))
        .await
        .expect_error(400, "bad_request");
}
