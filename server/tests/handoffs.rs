//! Owning a conversation: pausing queues a handoff, agents claim it (one of two at once wins,
//! the other is told who), admins and owners assign it, and resuming closes it.

pub mod common;

use common::{add_agent, spawn_app, welcome, TestApp, TOKEN};
use serde_json::{json, Value};

/// An agent of the welcome bot and a token that acts as them; answers (their id, token).
async fn agent_with_token(app: &TestApp, email: &str) -> (i64, String) {
    add_agent(app, email, &[common::WELCOME_BOT]).await;
    let id = user_id(app, email).await;
    let made = app
        .post(
            "/api/v1/tokens",
            json!({ "name": format!("{email}'s script"), "userId": id }),
        )
        .await
        .expect(201);
    (id, made["token"].as_str().unwrap().to_string())
}

/// The id of the user with this email, as the users API lists them.
async fn user_id(app: &TestApp, email: &str) -> i64 {
    let users = app.get("/api/v1/users").await.expect(200);
    users["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["viewer"]["email"] == email)
        .expect("the user is listed")["viewer"]["id"]
        .as_i64()
        .unwrap()
}

/// A POST with another bearer token; answers status and body.
async fn post_as(app: &TestApp, token: &str, path: &str, body: Value) -> (u16, Value) {
    let response = app
        .client
        .post(app.url(&format!("/api{path}")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("the server answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn paused_conversation(app: &TestApp, user: &str) -> i64 {
    let id = app.say(user, "hello").await["sessionId"].as_i64().unwrap();
    app.post_empty(&welcome(&format!("/mod/hitl/sessions/{id}/pause")))
        .await
        .expect(200);
    id
}

fn system_lines(messages: &[Value]) -> Vec<String> {
    messages
        .iter()
        .filter(|m| m["source"] == "system")
        .map(|m| m["text"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_pause_queues_a_handoff_in_order_and_a_resume_closes_it() {
    let app = spawn_app().await;
    let running = app.say("u0", "hello").await;
    assert_eq!(
        running["handoff"],
        Value::Null,
        "the bot runs it: {running}"
    );
    let first = paused_conversation(&app, "u1").await;
    let second = paused_conversation(&app, "u2").await;

    let one = app.session(first).await;
    assert_eq!(one["handoff"]["state"], "queued");
    assert_eq!(one["handoff"]["position"], 1);
    assert_eq!(one["handoff"]["assignee"], Value::Null);
    assert!(one["handoff"]["queuedAt"].is_string(), "{one}");
    assert_eq!(app.session(second).await["handoff"]["position"], 2);
    // The user's own turn tells where they stand too.
    let said = app.say("u2", "still there?").await;
    assert_eq!(said["handoff"]["position"], 2, "{said}");

    app.post_empty(&welcome(&format!("/mod/hitl/sessions/{first}/unpause")))
        .await
        .expect(200);
    assert_eq!(app.session(first).await["handoff"], Value::Null);
    assert_eq!(
        app.session(second).await["handoff"]["position"],
        1,
        "the next in line moves up"
    );
}

#[tokio::test]
async fn of_two_agents_claiming_at_once_one_gets_it_and_the_other_is_told_who() {
    let app = spawn_app().await;
    let (_, ada) = agent_with_token(&app, "ada@test.local").await;
    let (_, bea) = agent_with_token(&app, "bea@test.local").await;
    let id = paused_conversation(&app, "u1").await;

    let path = format!("/v1/bots/welcome-bot/mod/hitl/sessions/{id}/claim");
    let (a, b) = tokio::join!(
        post_as(&app, &ada, &path, json!({})),
        post_as(&app, &bea, &path, json!({}))
    );
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{a:?} {b:?}");
    let (won, lost) = if a.0 == 200 { (a.1, b.1) } else { (b.1, a.1) };
    let owner = won["handoff"]["assignee"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(won["handoff"]["state"], "assigned");
    assert_eq!(lost["error"]["code"], "conflict");
    assert_eq!(lost["handoff"]["assignee"]["name"], owner.as_str());
    assert!(
        lost["error"]["message"].as_str().unwrap().contains(&owner),
        "{lost}"
    );

    let lines = system_lines(&app.messages(id).await);
    let took: Vec<_> = lines
        .iter()
        .filter(|l| l.contains("took the conversation"))
        .collect();
    assert_eq!(took, [&format!("{owner} took the conversation")]);
    let audit = app
        .get("/api/v1/audit?action=handoff.claimed")
        .await
        .expect(200);
    assert_eq!(audit["entries"].as_array().unwrap().len(), 1, "{audit}");

    // Claiming one's own again changes nothing.
    let winner = if a.0 == 200 { &ada } else { &bea };
    let (again, body) = post_as(&app, winner, &path, json!({})).await;
    assert_eq!(again, 200, "{body}");
    assert_eq!(system_lines(&app.messages(id).await).len(), lines.len());
}

#[tokio::test]
async fn claiming_a_conversation_the_bot_runs_pauses_it_for_the_claimer() {
    let app = spawn_app().await;
    let (ada_id, ada) = agent_with_token(&app, "ada@test.local").await;
    let id = app.say("u1", "hello").await["sessionId"].as_i64().unwrap();
    let (status, session) = post_as(
        &app,
        &ada,
        &format!("/v1/bots/welcome-bot/mod/hitl/sessions/{id}/claim"),
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{session}");
    assert_eq!(session["isPaused"], true);
    assert_eq!(session["handoff"]["assignee"]["id"], ada_id);
    let held = app.say("u1", "are you a bot?").await;
    assert_eq!(held["responses"], json!([]), "the bot stays quiet");
    assert_eq!(held["handoff"]["state"], "assigned");
}

#[tokio::test]
async fn admins_assign_owners_hand_over_and_others_may_not() {
    let app = spawn_app().await;
    let (ada_id, ada) = agent_with_token(&app, "ada@test.local").await;
    let (bea_id, bea) = agent_with_token(&app, "bea@test.local").await;
    let id = paused_conversation(&app, "u1").await;
    let path = format!("/v1/bots/welcome-bot/mod/hitl/sessions/{id}/assign");

    // Nobody owns it: an agent may not give it away, an admin's tool may.
    let (status, body) = post_as(&app, &bea, &path, json!({ "userId": ada_id })).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("forbidden")),
        "{body}"
    );
    let (status, body) = post_as(
        &app,
        TOKEN,
        &path,
        json!({ "userId": ada_id, "note": "billing, she knows it" }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["handoff"]["assignee"]["id"], ada_id);

    // Bea does not own it; Ada, its owner, hands it to Bea.
    let (status, _) = post_as(&app, &bea, &path, json!({ "userId": bea_id })).await;
    assert_eq!(status, 403);
    let (status, body) = post_as(&app, &ada, &path, json!({ "userId": bea_id })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["handoff"]["assignee"]["id"], bea_id);

    let lines = system_lines(&app.messages(id).await);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Assigned to Agent ada@test.local by ")
                && l.ends_with(": billing, she knows it")),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"Assigned to Agent bea@test.local by Agent ada@test.local".to_string()),
        "{lines:?}"
    );

    // Unknown people and people of other bots cannot get it.
    let (status, _) = post_as(&app, TOKEN, &path, json!({ "userId": 999 })).await;
    assert_eq!(status, 404);
    add_agent(&app, "cy@test.local", &["other-bot"]).await;
    let cy = user_id(&app, "cy@test.local").await;
    let (status, body) = post_as(&app, TOKEN, &path, json!({ "userId": cy })).await;
    assert_eq!(status, 422, "{body}");
    let (status, _) = post_as(&app, TOKEN, &path, json!({ "user": 1 })).await;
    assert_eq!(status, 422, "a body of the wrong shape");
}

#[tokio::test]
async fn a_token_of_nobody_cannot_own_a_conversation() {
    let app = spawn_app().await;
    let id = paused_conversation(&app, "u1").await;
    app.post_empty(&welcome(&format!("/mod/hitl/sessions/{id}/claim")))
        .await
        .expect_error(403, "forbidden");
    app.post_empty(&welcome("/mod/hitl/sessions/999/claim"))
        .await
        .expect_error(404, "not_found");
}

/// A reply by `token`'s person; answers status and body.
async fn reply_as(app: &TestApp, token: &str, id: i64, body: Value) -> (u16, Value) {
    let path = format!("/v1/bots/welcome-bot/mod/hitl/sessions/{id}/message");
    post_as(app, token, &path, body).await
}

fn agent_texts(messages: &[Value]) -> Vec<&str> {
    messages
        .iter()
        .filter(|m| m["source"] == "agent")
        .map(|m| m["text"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn only_the_owner_replies_and_a_person_answering_an_unowned_conversation_takes_it() {
    let app = spawn_app().await;
    let (ada_id, ada) = agent_with_token(&app, "ada@test.local").await;
    let (_, bea) = agent_with_token(&app, "bea@test.local").await;
    let id = paused_conversation(&app, "u1").await;

    let (status, body) = reply_as(&app, &ada, id, json!({ "message": "Ada here" })).await;
    assert_eq!(status, 200, "{body}");
    let session = app.session(id).await;
    assert_eq!(session["handoff"]["assignee"]["id"], ada_id, "{session}");

    let (status, body) = reply_as(&app, &bea, id, json!({ "message": "Bea here" })).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "not_assignee");
    assert_eq!(body["handoff"]["assignee"]["id"], ada_id);
    // Nothing of Bea's was stored or sent to the user.
    assert_eq!(agent_texts(&app.messages(id).await), ["Ada here"]);
    let sent = app
        .get(&welcome("/converse/u1/messages?after=0"))
        .await
        .expect(200);
    let to_user: Vec<_> = sent["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["source"] == "agent")
        .map(|m| m["text"].clone())
        .collect();
    assert_eq!(to_user, [json!("Ada here")]);

    // A token of nobody keeps the full rights it had.
    app.post(
        &welcome(&format!("/mod/hitl/sessions/{id}/message")),
        json!({ "message": "from the tool" }),
    )
    .await
    .expect(200);
}

#[tokio::test]
async fn a_reply_written_before_the_user_spoke_again_is_refused_with_what_came_in() {
    let app = spawn_app().await;
    let (_, ada) = agent_with_token(&app, "ada@test.local").await;
    let id = paused_conversation(&app, "u1").await;
    let (status, first) = reply_as(&app, &ada, id, json!({ "message": "How can I help?" })).await;
    assert_eq!(status, 200, "{first}");
    let seen = first["id"].as_i64().unwrap();
    // Her own message is no news to her.
    let (status, body) = reply_as(
        &app,
        &ada,
        id,
        json!({ "message": "Take your time.", "lastSeenMessageId": seen - 1 }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let seen = body["id"].as_i64().unwrap();

    app.say("u1", "my order is late").await;
    app.say("u1", "order 42").await;
    let (status, body) = reply_as(
        &app,
        &ada,
        id,
        json!({ "message": "Anything else?", "lastSeenMessageId": seen }),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "stale");
    let newer: Vec<_> = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(newer, ["my order is late", "order 42"]);

    let latest = app.messages(id).await.last().unwrap()["id"]
        .as_i64()
        .unwrap();
    let (status, body) = reply_as(
        &app,
        &ada,
        id,
        json!({ "message": "Looking at order 42 now.", "lastSeenMessageId": latest }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        agent_texts(&app.messages(id).await),
        [
            "How can I help?",
            "Take your time.",
            "Looking at order 42 now."
        ]
    );
}
