//! Owning a conversation: pausing queues a handoff, agents claim it (one of two at once wins,
//! the other is told who), admins and owners assign it, and resuming closes it.

pub mod common;

use common::{add_agent, spawn_app, token_for, user_id, welcome, TestApp, TOKEN};
use serde_json::{json, Value};

/// An agent of the welcome bot and a token that acts as them; answers (their id, token).
async fn agent_with_token(app: &TestApp, email: &str) -> (i64, String) {
    add_agent(app, email, &[common::WELCOME_BOT]).await;
    token_for(app, email).await
}

/// An admin and a token that acts as them; answers (their id, token).
async fn admin_with_token(app: &TestApp, email: &str) -> (i64, String) {
    common::add_person(app, email, app::account::Role::Admin, &[]).await;
    token_for(app, email).await
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
        lines.contains(
            &"Agent ada@test.local transferred the conversation to Agent bea@test.local"
                .to_string()
        ),
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

/// A GET with another bearer token; answers status and body.
async fn get_as(app: &TestApp, token: &str, path: &str) -> (u16, Value) {
    let response = app
        .client
        .get(app.url(&format!("/api{path}")))
        .bearer_auth(token)
        .send()
        .await
        .expect("the server answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn an_admin_takes_a_conversation_over_audited_and_its_owner_is_told_alone() {
    let app = spawn_app().await;
    let (ada_id, ada) = agent_with_token(&app, "ada@test.local").await;
    let (_, bea) = agent_with_token(&app, "bea@test.local").await;
    let (boss_id, boss) = admin_with_token(&app, "boss@test.local").await;
    let id = paused_conversation(&app, "u1").await;
    let claim = format!("/v1/bots/welcome-bot/mod/hitl/sessions/{id}/claim");
    let take_over = format!("/v1/bots/welcome-bot/mod/hitl/sessions/{id}/takeover");
    assert_eq!(post_as(&app, &ada, &claim, json!({})).await.0, 200);
    let mut ada_live = app.events_as(&ada, common::WELCOME_BOT, None).await;
    let mut bea_live = app.events_as(&bea, common::WELCOME_BOT, None).await;
    ada_live.next().await; // the resync that opens a stream
    bea_live.next().await;

    // Only admins take over.
    let (status, body) = post_as(&app, &bea, &take_over, json!({})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );
    let (status, body) = post_as(&app, &boss, &take_over, json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["handoff"]["assignee"]["id"], boss_id);
    assert_eq!(body["handoff"]["state"], "assigned");

    // Ada's console learns it live, by the session and by a notification for her alone.
    let told = ada_live
        .until(|e| e["type"] == "notification.created")
        .await;
    assert!(
        told.iter().any(|e| e["type"] == "session.updated"
            && e["session"]["handoff"]["assignee"]["id"] == boss_id),
        "{told:?}"
    );
    let notice = &told.last().unwrap()["notification"];
    assert_eq!(notice["recipientId"], ada_id);
    assert_eq!(
        notice["message"],
        "Agent boss@test.local took over the conversation with u1"
    );
    // Bea's stream has the session change but not Ada's notification: the next thing she
    // gets after it is a notification for everyone.
    app.post(
        "/api/v1/bots/welcome-bot/notifications",
        json!({ "message": "for everyone", "level": "info" }),
    )
    .await
    .expect(201);
    let seen = bea_live
        .until(|e| e["type"] == "notification.created")
        .await;
    assert_eq!(
        seen.last().unwrap()["notification"]["message"],
        "for everyone"
    );

    let (_, ada_bell) = get_as(&app, &ada, "/v1/notifications").await;
    assert!(common::notification_texts(&ada_bell)
        .iter()
        .any(|t| t.contains("took over")));
    let (_, bea_bell) = get_as(&app, &bea, "/v1/notifications").await;
    assert!(
        !common::notification_texts(&bea_bell)
            .iter()
            .any(|t| t.contains("took over")),
        "{bea_bell}"
    );

    let lines = system_lines(&app.messages(id).await);
    assert!(
        lines.contains(
            &"Agent boss@test.local took the conversation over from Agent ada@test.local"
                .to_string()
        ),
        "{lines:?}"
    );
    let log = app
        .get("/api/v1/audit?action=handoff.taken_over")
        .await
        .expect(200);
    assert_eq!(log["entries"].as_array().map(Vec::len), Some(1), "{log}");

    // Ada no longer writes there.
    let (status, body) = reply_as(&app, &ada, id, json!({ "message": "me?" })).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("not_assignee"))
    );
}

#[tokio::test]
async fn a_transfer_with_a_note_tells_the_new_owner() {
    let app = spawn_app().await;
    let (_, ada) = agent_with_token(&app, "ada@test.local").await;
    let (bea_id, bea) = agent_with_token(&app, "bea@test.local").await;
    let id = paused_conversation(&app, "u1").await;
    let base = format!("/v1/bots/welcome-bot/mod/hitl/sessions/{id}");
    assert_eq!(
        post_as(&app, &ada, &format!("{base}/claim"), json!({}))
            .await
            .0,
        200
    );
    let (status, body) = post_as(
        &app,
        &ada,
        &format!("{base}/assign"),
        json!({ "userId": bea_id, "note": "billing question" }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, bell) = get_as(&app, &bea, "/v1/notifications").await;
    assert_eq!(
        common::notification_texts(&bell)[0],
        "Agent ada@test.local transferred the conversation with u1 to you: billing question"
    );
    let log = app
        .get("/api/v1/audit?action=handoff.transferred")
        .await
        .expect(200);
    assert_eq!(log["entries"].as_array().map(Vec::len), Some(1), "{log}");
}

#[tokio::test]
async fn when_the_first_in_line_is_claimed_those_behind_move_up_live() {
    let app = spawn_app().await;
    let (_, ada) = agent_with_token(&app, "ada@test.local").await;
    let first = paused_conversation(&app, "u1").await;
    let second = paused_conversation(&app, "u2").await;
    let third = paused_conversation(&app, "u3").await;
    assert_eq!(app.session(third).await["handoff"]["position"], 3);
    let mut live = app.events(common::WELCOME_BOT, None).await;
    live.next().await;

    let claim = format!("/v1/bots/welcome-bot/mod/hitl/sessions/{first}/claim");
    assert_eq!(post_as(&app, &ada, &claim, json!({})).await.0, 200);
    let events = live
        .until(|e| e["type"] == "session.updated" && e["session"]["id"] == third)
        .await;
    let place = |id: i64| {
        events
            .iter()
            .rev()
            .find(|e| e["type"] == "session.updated" && e["session"]["id"] == id)
            .map(|e| e["session"]["handoff"]["position"].clone())
    };
    assert_eq!(place(second), Some(json!(1)), "{events:?}");
    assert_eq!(place(third), Some(json!(2)), "{events:?}");
    assert_eq!(
        app.say("u3", "still there?").await["handoff"]["position"],
        2
    );
    // Handing the second back moves the third up too, and every event of that change counts
    // the second as no longer paused.
    app.post_empty(&welcome(&format!("/mod/hitl/sessions/{second}/unpause")))
        .await
        .expect(200);
    let events = live
        .until(|e| {
            e["type"] == "session.updated"
                && e["session"]["id"] == third
                && e["session"]["handoff"]["position"] == 1
        })
        .await;
    let last_of_second = events
        .iter()
        .rposition(|e| e["type"] == "session.updated" && e["session"]["id"] == second)
        .expect("the second's change came first");
    for e in &events[last_of_second..] {
        if e["type"] == "session.updated" {
            assert_eq!(e["counts"]["paused"], 2, "{e}");
        }
    }
}

#[tokio::test]
async fn the_agents_of_a_bot_are_listed_with_what_they_own() {
    let app = spawn_app().await;
    let (ada_id, ada) = agent_with_token(&app, "ada@test.local").await;
    add_agent(&app, "cy@test.local", &["other-bot"]).await;
    let id = paused_conversation(&app, "u1").await;
    let claim = format!("/v1/bots/welcome-bot/mod/hitl/sessions/{id}/claim");
    assert_eq!(post_as(&app, &ada, &claim, json!({})).await.0, 200);
    let list = app.get("/api/v1/bots/welcome-bot/agents").await.expect(200);
    let agents = list["agents"].as_array().unwrap();
    let ada_row = agents
        .iter()
        .find(|a| a["id"] == ada_id)
        .expect("Ada is listed");
    assert_eq!(ada_row["openHandoffs"], 1);
    assert!(
        !agents.iter().any(|a| a["name"] == "Agent cy@test.local"),
        "an agent of another bot is not: {list}"
    );
    app.get("/api/v1/bots/nope/agents")
        .await
        .expect_error(404, "not_found");
}

#[tokio::test]
async fn the_owner_gives_a_conversation_back_with_a_last_message_or_closes_it_as_resolved() {
    let app = spawn_app().await;
    let (_, ada) = agent_with_token(&app, "ada@test.local").await;
    let (_, bea) = agent_with_token(&app, "bea@test.local").await;
    let id = paused_conversation(&app, "u1").await;
    let module = format!("/v1/bots/{}/mod/hitl/sessions", common::WELCOME_BOT);
    let close = &format!("{module}/{id}/close");
    let (status, _) = post_as(&app, &ada, &format!("{module}/{id}/claim"), json!({})).await;
    assert_eq!(status, 200);

    let (status, body) = post_as(&app, &bea, close, json!({ "message": "bye" })).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("not_assignee")),
        "{body}"
    );
    let (status, body) = post_as(&app, &ada, close, json!({ "reason": "gone" })).await;
    assert_eq!(status, 422, "{body}");

    let (status, body) = post_as(
        &app,
        &ada,
        close,
        json!({ "message": "Glad I could help, bye!" }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["isPaused"].as_bool(), &body["handoff"]),
        (Some(false), &Value::Null)
    );
    let messages = app.messages(id).await;
    let last: Vec<(&str, &str)> = messages
        .iter()
        .rev()
        .take(2)
        .map(|m| (m["source"].as_str().unwrap(), m["text"].as_str().unwrap()))
        .collect();
    assert!(
        last.contains(&("agent", "Glad I could help, bye!")),
        "the user got the last word: {last:?}"
    );
    let (status, body) = post_as(&app, &ada, close, json!({})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );

    // Again, closed as resolved: the line says so.
    let again = paused_conversation(&app, "u1").await;
    assert_eq!(again, id);
    let (status, _) = post_as(&app, &ada, close, json!({ "reason": "resolved" })).await;
    assert_eq!(status, 200);
    let lines = system_lines(&app.messages(id).await);
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with(": resolved") && l.starts_with("Resumed by")),
        "{lines:?}"
    );
    let (status, _) = post_as(&app, &ada, &format!("{module}/999999/close"), json!({})).await;
    assert_eq!(status, 404);
}
