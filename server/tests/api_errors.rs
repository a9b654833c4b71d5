//! What the REST API answers to requests it cannot serve (always a JSON error with the right
//! status), and how the session list and history are searched and paged.

pub mod common;

use common::{spawn_app, text, welcome, TestApp};
use serde_json::{json, Value};

// ---- errors ----------------------------------------------------------------------------------

#[tokio::test]
async fn a_request_without_a_token_is_unauthorized() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url(&welcome("/converse/u1")))
        .json(&text("hi"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.expect("a JSON error body");
    assert_eq!(body["error"]["code"], "unauthorized");

    let sessions = app
        .client
        .get(app.url(&welcome("/mod/hitl/sessions")))
        .send()
        .await
        .unwrap();
    assert_eq!(sessions.status(), 401);
}

#[tokio::test]
async fn a_wrong_token_is_unauthorized() {
    let mut app = spawn_app().await;
    app.token = "not-the-token".into();
    app.get(&welcome("/mod/hitl/sessions"))
        .await
        .expect_error(401, "unauthorized");
    app.post(&welcome("/converse/u1"), text("hi"))
        .await
        .expect_error(401, "unauthorized");
}

#[tokio::test]
async fn nothing_is_recorded_for_an_unauthorized_request() {
    let mut app = spawn_app().await;
    let token = std::mem::replace(&mut app.token, "wrong".into());
    app.post(&welcome("/converse/u1"), text("hi"))
        .await
        .expect_error(401, "unauthorized");
    app.token = token;
    let page = app.get(&welcome("/mod/hitl/sessions")).await.expect(200);
    assert_eq!(page["sessions"], json!([]));
}

#[tokio::test]
async fn an_unknown_bot_is_not_found() {
    let app = spawn_app().await;
    app.post("/api/v1/bots/no-such-bot/converse/u1", text("hi"))
        .await
        .expect_error(404, "not_found");
    app.get("/api/v1/bots/no-such-bot/mod/hitl/sessions")
        .await
        .expect_error(404, "not_found");
}

#[tokio::test]
async fn a_session_id_that_is_not_a_number_or_unknown_is_not_found() {
    let app = spawn_app().await;
    app.say("u1", "hello").await;
    app.get(&welcome("/mod/hitl/sessions/abc"))
        .await
        .expect_error(404, "not_found");
    app.get(&welcome("/mod/hitl/sessions/abc/messages"))
        .await
        .expect_error(404, "not_found");
    app.get(&welcome("/mod/hitl/sessions/424242"))
        .await
        .expect_error(404, "not_found");
    app.post(
        &welcome("/mod/hitl/sessions/424242/message"),
        json!({ "message": "hi" }),
    )
    .await
    .expect_error(404, "not_found");
}

#[tokio::test]
async fn malformed_json_is_a_bad_request() {
    let app = spawn_app().await;
    app.post_raw(&welcome("/converse/u1"), r#"{"type":"text","text":"#)
        .await
        .expect_error(400, "bad_request");
    app.post_raw(&welcome("/converse/u1"), "not json at all")
        .await
        .expect_error(400, "bad_request");
}

#[tokio::test]
async fn json_of_the_wrong_shape_is_unprocessable() {
    let app = spawn_app().await;
    for body in [
        json!({ "type": "nope" }),
        json!({ "type": "text" }),
        json!({ "type": "text", "text": 5 }),
        json!({ "text": "no type" }),
        // Kinds only the bot or hitl may send.
        json!({ "type": "system", "text": "Paused by admin" }),
        json!({ "type": "buttons", "text": "Pick", "buttons": [] }),
        // Empty content.
        json!({ "type": "text", "text": "   " }),
    ] {
        let answer = app.post(&welcome("/converse/u1"), body.clone()).await;
        assert_eq!(answer.status, 422, "{body} answered {}", answer.body);
        answer.expect_error(422, "unprocessable");
    }
    app.post(
        &welcome("/mod/hitl/sessions/1/message"),
        json!({ "text": "wrong field" }),
    )
    .await
    .expect_error(422, "unprocessable");
    let page = app.get(&welcome("/mod/hitl/sessions")).await.expect(200);
    assert_eq!(page["sessions"], json!([]), "nothing was recorded");
}

#[tokio::test]
async fn a_body_over_the_limit_is_too_large() {
    let app = spawn_app().await;
    let huge = format!(
        r#"{{"type":"text","text":"{}"}}"#,
        "a".repeat(2 * 1024 * 1024)
    );
    app.post_raw(&welcome("/converse/u1"), huge)
        .await
        .expect_error(413, "payload_too_large");
}

#[tokio::test]
async fn an_unknown_api_route_is_a_json_not_found() {
    let app = spawn_app().await;
    app.get("/api/v1/nothing-here")
        .await
        .expect_error(404, "not_found");
    app.post("/api/v1/bots/welcome-bot/teleport", json!({}))
        .await
        .expect_error(404, "not_found");
}

#[tokio::test]
async fn a_wrong_method_on_a_known_route_is_a_json_method_not_allowed() {
    let app = spawn_app().await;
    app.get("/api/v1/bots/welcome-bot/converse/u1")
        .await
        .expect_error(405, "method_not_allowed");
}

#[tokio::test]
async fn health_answers_without_a_token() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}

// ---- the session list ------------------------------------------------------------------------

/// Starts a conversation for `user` with a profile name; answers its session id.
async fn conversation(app: &TestApp, user: &str, name: &str) -> i64 {
    app.converse(
        user,
        json!({ "type": "text", "text": "hi", "user": { "fullName": name } }),
    )
    .await["sessionId"]
        .as_i64()
        .unwrap()
}

async fn list(app: &TestApp, query: &[(&str, &str)]) -> Value {
    let response = app
        .client
        .get(app.url(&welcome("/mod/hitl/sessions")))
        .bearer_auth(&app.token)
        .query(query)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn time(value: &Value) -> chrono::DateTime<chrono::Utc> {
    value
        .as_str()
        .expect("a timestamp")
        .parse()
        .expect("an RFC 3339 timestamp")
}

fn user_ids(page: &Value) -> Vec<&str> {
    page["sessions"]
        .as_array()
        .expect("a sessions array")
        .iter()
        .map(|s| s["userId"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn sessions_are_found_by_name_or_user_id() {
    let app = spawn_app().await;
    conversation(&app, "ada-1", "Ada Lovelace").await;
    conversation(&app, "grace-2", "Grace Hopper").await;
    conversation(&app, "alan-3", "Alan Turing").await;

    assert_eq!(
        user_ids(&list(&app, &[("searchText", "hopper")]).await),
        ["grace-2"]
    );
    assert_eq!(
        user_ids(&list(&app, &[("searchText", "ada-")]).await),
        ["ada-1"]
    );
    assert_eq!(user_ids(&list(&app, &[("searchText", "a")]).await).len(), 3);
    assert!(user_ids(&list(&app, &[("searchText", "nobody")]).await).is_empty());
}

#[tokio::test]
async fn search_wildcards_are_taken_literally() {
    let app = spawn_app().await;
    conversation(&app, "u1", "100% Sure").await;
    conversation(&app, "u2", "Bob").await;
    conversation(&app, "snake_case", "Carol").await;

    assert_eq!(user_ids(&list(&app, &[("searchText", "%")]).await), ["u1"]);
    assert_eq!(
        user_ids(&list(&app, &[("searchText", "_")]).await),
        ["snake_case"]
    );
    assert!(user_ids(&list(&app, &[("searchText", "' or 1=1 --")]).await).is_empty());
}

#[tokio::test]
async fn the_paused_only_filter_lists_paused_sessions() {
    let app = spawn_app().await;
    conversation(&app, "u1", "One").await;
    let paused = conversation(&app, "u2", "Two").await;
    conversation(&app, "u3", "Three").await;
    app.post_empty(&welcome(&format!("/mod/hitl/sessions/{paused}/pause")))
        .await
        .expect(200);

    let page = list(&app, &[("pausedOnly", "true")]).await;
    assert_eq!(user_ids(&page), ["u2"]);
    assert_eq!(page["sessions"][0]["isPaused"], true);
    assert_eq!(
        list(&app, &[("pausedOnly", "false")]).await["sessions"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[tokio::test]
async fn paging_by_cursor_lists_every_session_once_newest_activity_first() {
    let app = spawn_app().await;
    let mut last = 0;
    for i in 1..=7 {
        last = conversation(&app, &format!("u{i}"), &format!("User {i}")).await;
    }
    // u3 speaks again and becomes the most recent (activity is kept in milliseconds, so it
    // speaks until its activity is strictly newer than u7's).
    let u7 = app.session(last).await["lastEventOn"].clone();
    loop {
        let id = app.say("u3", "me again").await["sessionId"]
            .as_i64()
            .unwrap();
        if time(&app.session(id).await["lastEventOn"]) > time(&u7) {
            break;
        }
    }

    let mut seen = Vec::new();
    let mut pages = 0;
    let mut cursor: Option<String> = None;
    loop {
        let mut query = vec![("limit", "3".to_string())];
        if let Some(c) = &cursor {
            query.push(("cursor", c.clone()));
        }
        let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let page = list(&app, &query).await;
        let ids = user_ids(&page);
        assert!(ids.len() <= 3, "a page holds at most the limit");
        seen.extend(ids.into_iter().map(str::to_string));
        pages += 1;
        match page["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
        assert!(pages < 10, "paging ends");
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ["u3", "u7", "u6", "u5", "u4", "u2", "u1"]);
}

#[tokio::test]
async fn an_invalid_cursor_is_unprocessable() {
    let app = spawn_app().await;
    app.get(&welcome("/mod/hitl/sessions?cursor=garbage"))
        .await
        .expect_error(422, "unprocessable");
}

// ---- the history -----------------------------------------------------------------------------

#[tokio::test]
async fn history_loads_the_newest_page_first_then_older_pages_oldest_first() {
    let app = spawn_app().await;
    let mut id = 0;
    for word in ["one", "two", "three"] {
        id = app.say("u1", word).await["sessionId"].as_i64().unwrap();
    }
    let texts = |page: &Value| -> Vec<String> {
        page["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["text"].as_str().unwrap().to_string())
            .collect()
    };

    let newest = app
        .get(&welcome(&format!(
            "/mod/hitl/sessions/{id}/messages?limit=4"
        )))
        .await
        .expect(200);
    assert_eq!(
        texts(&newest),
        ["two", "You said: two", "three", "You said: three"]
    );

    let first_id = newest["messages"][0]["id"].as_i64().unwrap();
    let older = app
        .get(&welcome(&format!(
            "/mod/hitl/sessions/{id}/messages?limit=4&before={first_id}"
        )))
        .await
        .expect(200);
    assert_eq!(texts(&older), ["one", "You said: one"]);

    let oldest_id = older["messages"][0]["id"].as_i64().unwrap();
    let none = app
        .get(&welcome(&format!(
            "/mod/hitl/sessions/{id}/messages?limit=4&before={oldest_id}"
        )))
        .await
        .expect(200);
    assert_eq!(none["messages"], json!([]));
}
