//! A team on one queue: each agent's status, counted offline only after the grace period with no
//! console open; round robin and balanced assignment of queued conversations to online agents
//! with room, refilled as soon as a slot frees.

pub mod common;

use std::time::{Duration, Instant};

use common::{
    add_agent, spawn_app_with_bots, spawn_app_with_bots_configured, Events, TestApp, TOKEN,
};
use reqwest::Method;
use serde_json::{json, Value};

const TEAM_BOT: &str = "team-bot";

fn bot_file(assignment: &str) -> String {
    format!("name = \"Team Bot\"\n\n[handoffs]\nassignment = \"{assignment}\"\n")
}

/// A request with another bearer token; answers status and body.
async fn call_as(
    app: &TestApp,
    method: Method,
    token: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = app
        .client
        .request(method, app.url(&format!("/api{path}")))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The holder of `token` chooses a status.
async fn set_status(app: &TestApp, token: &str, status: &str) {
    let body = json!({ "status": status });
    let (code, answer) = call_as(app, Method::PUT, token, "/v1/me/status", Some(body)).await;
    assert_eq!(code, 200, "{answer}");
}

/// An agent of the team bot with a token of theirs; answers (id, token).
async fn agent(app: &TestApp, email: &str) -> (i64, String) {
    add_agent(app, email, &[TEAM_BOT]).await;
    common::token_for(app, email).await
}

/// A console of the agent: an open event stream of the team bot.
async fn console_of(app: &TestApp, token: &str) -> Events {
    let mut events = app.events_as(token, TEAM_BOT, None).await;
    events.next().await; // the opening resync
    events
}

/// A conversation of the team bot, handed to people; answers its id.
async fn hand_off(app: &TestApp, user: &str) -> i64 {
    let said = app
        .post(
            &format!("/api/v1/bots/{TEAM_BOT}/converse/{user}"),
            json!({ "type": "text", "text": "a person, please" }),
        )
        .await
        .expect(200);
    let id = said["sessionId"].as_i64().unwrap();
    app.post_empty(&format!(
        "/api/v1/bots/{TEAM_BOT}/mod/hitl/sessions/{id}/pause"
    ))
    .await
    .expect(200);
    id
}

/// Waits on `watch` until the session is assigned; answers to whom.
async fn assigned(watch: &mut Events, id: i64) -> i64 {
    let events = watch
        .until(|e| {
            e["type"] == "session.updated"
                && e["session"]["id"] == id
                && e["session"]["handoff"]["state"] == "assigned"
        })
        .await;
    events.last().unwrap()["session"]["handoff"]["assignee"]["id"]
        .as_i64()
        .unwrap()
}

fn agent_row(list: &Value, id: i64) -> Value {
    list["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == id)
        .cloned()
        .expect("the agent is listed")
}

async fn agents(app: &TestApp) -> Value {
    app.get(&format!("/api/v1/bots/{TEAM_BOT}/agents"))
        .await
        .expect(200)
}

#[tokio::test]
async fn an_agent_chooses_a_status_and_a_token_of_nobody_has_none() {
    let app = spawn_app_with_bots(&[(TEAM_BOT, &bot_file("manual"))]).await;
    let (ada_id, ada) = agent(&app, "ada@test.local").await;
    let _console = console_of(&app, &ada).await;
    assert_eq!(agent_row(&agents(&app).await, ada_id)["status"], "online");

    let (status, body) = call_as(
        &app,
        Method::PUT,
        &ada,
        "/v1/me/status",
        Some(json!({ "status": "busy" })),
    )
    .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("busy")),
        "{body}"
    );
    let row = agent_row(&agents(&app).await, ada_id);
    assert_eq!(
        (row["status"].as_str(), row["chosenStatus"].as_str()),
        (Some("busy"), Some("busy"))
    );

    let (status, body) = call_as(
        &app,
        Method::PUT,
        &ada,
        "/v1/me/status",
        Some(json!({ "status": "napping" })),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = call_as(
        &app,
        Method::PUT,
        TOKEN,
        "/v1/me/status",
        Some(json!({ "status": "online" })),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );
}

fn short_grace(config: &mut server::config::Config) {
    config.presence_grace_secs = 1;
}

#[tokio::test]
async fn an_agent_without_a_console_is_offline_after_the_grace_period_and_not_before() {
    let app = spawn_app_with_bots_configured(&[(TEAM_BOT, &bot_file("manual"))], short_grace).await;
    let (ada_id, ada) = agent(&app, "ada@test.local").await;
    let mut watch = app.events(TEAM_BOT, None).await;
    watch.next().await;
    assert_eq!(
        agent_row(&agents(&app).await, ada_id)["status"],
        "offline",
        "no console yet"
    );

    // Two tabs count as one: closing one changes nothing.
    let first = console_of(&app, &ada).await;
    let second = console_of(&app, &ada).await;
    let row = agent_row(&agents(&app).await, ada_id);
    assert_eq!(
        (row["status"].as_str(), row["consoles"].as_i64()),
        (Some("online"), Some(2))
    );
    first.close().await;
    second.close().await;
    let closed = Instant::now();
    let row = agent_row(&agents(&app).await, ada_id);
    assert_eq!(row["status"], "online", "within the grace period: {row}");

    let offline = watch
        .until(|e| {
            e["type"] == "agent.status"
                && e["agent"]["id"] == ada_id
                && e["agent"]["status"] == "offline"
        })
        .await;
    assert!(
        closed.elapsed() >= Duration::from_millis(900),
        "offline too early: {:?}",
        closed.elapsed()
    );
    assert_eq!(offline.last().unwrap()["agent"]["consoles"], 0);

    // Back within the grace period: no offline at all.
    let again = console_of(&app, &ada).await;
    again.close().await;
    let back = console_of(&app, &ada).await;
    let quiet = tokio::time::timeout(Duration::from_millis(1_800), async {
        watch
            .until(|e| e["type"] == "agent.status" && e["agent"]["status"] == "offline")
            .await
    })
    .await;
    assert!(
        quiet.is_err(),
        "a reconnect within the grace period went offline: {quiet:?}"
    );
    assert_eq!(agent_row(&agents(&app).await, ada_id)["status"], "online");
    drop(back);
}

#[tokio::test]
async fn round_robin_gives_six_conversations_to_three_online_agents_in_turn() {
    let app = spawn_app_with_bots(&[(TEAM_BOT, &bot_file("round_robin"))]).await;
    let mut team = Vec::new();
    for email in ["a@test.local", "b@test.local", "c@test.local"] {
        let (id, token) = agent(&app, email).await;
        team.push((id, console_of(&app, &token).await));
    }
    let ids: Vec<i64> = team.iter().map(|(id, _)| *id).collect();
    let mut watch = app.events(TEAM_BOT, None).await;
    watch.next().await;
    let mut given = Vec::new();
    let mut sessions = Vec::new();
    for n in 0..6 {
        let session = hand_off(&app, &format!("user-{n}")).await;
        given.push(assigned(&mut watch, session).await);
        sessions.push(session);
    }
    assert_eq!(given, [ids[0], ids[1], ids[2], ids[0], ids[1], ids[2]]);
    let page = app
        .get(&format!(
            "/api/v1/bots/{TEAM_BOT}/mod/hitl/sessions/{}/messages",
            sessions[0]
        ))
        .await
        .expect(200);
    let lines = page["messages"].as_array().unwrap();
    assert!(
        lines
            .iter()
            .any(|m| m["text"] == "Assigned to Agent a@test.local"),
        "{lines:?}"
    );
}

async fn session(app: &TestApp, id: i64) -> Value {
    app.get(&format!("/api/v1/bots/{TEAM_BOT}/mod/hitl/sessions/{id}"))
        .await
        .expect(200)
}

#[tokio::test]
async fn balanced_fills_each_agent_to_capacity_and_refills_when_a_slot_frees() {
    let app = spawn_app_with_bots(&[(TEAM_BOT, &bot_file("balanced"))]).await;
    let (ada_id, ada) = agent(&app, "ada@test.local").await;
    let (bea_id, bea) = agent(&app, "bea@test.local").await;
    for (id, capacity) in [(ada_id, 1), (bea_id, 2)] {
        app.put(
            &format!("/api/v1/agents/{id}/capacity"),
            json!({ "capacity": capacity }),
        )
        .await
        .expect(200);
    }
    let _ada_console = console_of(&app, &ada).await;
    let _bea_console = console_of(&app, &bea).await;
    let mut watch = app.events(TEAM_BOT, None).await;
    watch.next().await;

    let mut owners = Vec::new();
    for n in 0..3 {
        let session = hand_off(&app, &format!("user-{n}")).await;
        owners.push((session, assigned(&mut watch, session).await));
    }
    let count = |who: i64| owners.iter().filter(|(_, o)| *o == who).count();
    assert_eq!((count(ada_id), count(bea_id)), (1, 2), "{owners:?}");
    let fourth = hand_off(&app, "user-3").await;
    let row = |list: &Value| agent_row(list, ada_id);
    assert_eq!(row(&agents(&app).await)["openHandoffs"], 1);
    assert_eq!(
        session(&app, fourth).await["handoff"]["state"],
        "queued",
        "nobody has room"
    );

    // Ada hands hers back to the bot: the fourth is hers at once, not at the next sweep.
    let ada_first = owners.iter().find(|(_, o)| *o == ada_id).unwrap().0;
    let freed = Instant::now();
    app.post_empty(&format!(
        "/api/v1/bots/{TEAM_BOT}/mod/hitl/sessions/{ada_first}/unpause"
    ))
    .await
    .expect(200);
    assert_eq!(assigned(&mut watch, fourth).await, ada_id);
    assert!(
        freed.elapsed() < Duration::from_secs(2),
        "refilled late: {:?}",
        freed.elapsed()
    );
}

#[tokio::test]
async fn busy_agents_get_nothing_automatically_but_may_claim() {
    let app = spawn_app_with_bots(&[(TEAM_BOT, &bot_file("round_robin"))]).await;
    let (_, ada) = agent(&app, "ada@test.local").await;
    let (bea_id, bea) = agent(&app, "bea@test.local").await;
    let _ada_console = console_of(&app, &ada).await;
    let _bea_console = console_of(&app, &bea).await;
    set_status(&app, &ada, "busy").await;
    let mut watch = app.events(TEAM_BOT, None).await;
    watch.next().await;
    for n in 0..2 {
        let session = hand_off(&app, &format!("user-{n}")).await;
        assert_eq!(
            assigned(&mut watch, session).await,
            bea_id,
            "only Bea is online"
        );
    }
    // Bea goes away too: nobody gets the next one; Ada (busy) claims it.
    set_status(&app, &bea, "away").await;
    let third = hand_off(&app, "user-2").await;
    assert_eq!(session(&app, third).await["handoff"]["state"], "queued");
    let claim = format!("/v1/bots/{TEAM_BOT}/mod/hitl/sessions/{third}/claim");
    let (status, body) = call_as(&app, Method::POST, &ada, &claim, Some(json!({}))).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_capacity_is_set_by_admins_within_bounds() {
    let app = spawn_app_with_bots(&[(TEAM_BOT, &bot_file("balanced"))]).await;
    let (ada_id, ada) = agent(&app, "ada@test.local").await;
    assert_eq!(
        agent_row(&agents(&app).await, ada_id)["capacity"],
        5,
        "the bot's"
    );
    app.put(
        &format!("/api/v1/agents/{ada_id}/capacity"),
        json!({ "capacity": 0 }),
    )
    .await
    .expect_error(422, "unprocessable");
    let path = format!("/v1/agents/{ada_id}/capacity");
    let (status, _) = call_as(
        &app,
        Method::PUT,
        &ada,
        &path,
        Some(json!({ "capacity": 9 })),
    )
    .await;
    assert_eq!(status, 403, "an agent does not set it");
    app.put("/api/v1/agents/999/capacity", json!({ "capacity": 2 }))
        .await
        .expect_error(404, "not_found");
    app.put(
        &format!("/api/v1/agents/{ada_id}/capacity"),
        json!({ "capacity": 3 }),
    )
    .await
    .expect(200);
    assert_eq!(agent_row(&agents(&app).await, ada_id)["capacity"], 3);
    let log = app
        .get("/api/v1/audit?action=agent.capacity")
        .await
        .expect(200);
    assert_eq!(log["entries"].as_array().map(Vec::len), Some(1), "{log}");
}

/// The notifications a person's token reads now (the messages).
async fn bell_of(app: &TestApp, token: &str) -> Vec<String> {
    let (status, body) = call_as(app, Method::GET, token, "/v1/notifications", None).await;
    assert_eq!(status, 200, "{body}");
    common::notification_texts(&body)
}

#[tokio::test]
async fn a_handover_notifies_only_the_agents_there_to_take_it_or_everyone_when_nobody_is() {
    let app = common::spawn_app().await;
    let bot = common::WELCOME_BOT;
    let on_bot = |email: &'static str| {
        let app = &app;
        async move {
            add_agent(app, email, &[bot]).await;
            common::token_for(app, email).await.1
        }
    };
    let (ann, bea, cy) = (
        on_bot("ann@test.local").await,
        on_bot("bea@test.local").await,
        on_bot("cy@test.local").await,
    );
    // Ann is there; Bea has a console open but is away; Cy has none open.
    let mut ann_console = app.events_as(&ann, bot, None).await;
    ann_console.next().await;
    let _bea_console = app.events_as(&bea, bot, None).await;
    set_status(&app, &bea, "away").await;

    app.converse(
        "first-user",
        json!({ "type": "text", "text": "HITL_START" }),
    )
    .await;
    let told = ann_console
        .until(|e| e["type"] == "notification.created")
        .await;
    let note = &told.last().unwrap()["notification"];
    assert_eq!(note["message"], "first-user wants to talk to a human");
    assert!(note["recipientId"].is_i64(), "addressed to Ann: {note}");
    assert_eq!(
        bell_of(&app, &ann).await,
        ["first-user wants to talk to a human"]
    );
    assert!(bell_of(&app, &bea).await.is_empty(), "Bea is away");
    assert!(bell_of(&app, &cy).await.is_empty(), "Cy is not there");

    // With nobody there it is for everyone, so whoever comes first sees it.
    ann_console.close().await;
    set_status(&app, &ann, "offline").await;
    app.converse(
        "second-user",
        json!({ "type": "text", "text": "HITL_START" }),
    )
    .await;
    for token in [&bea, &cy] {
        assert_eq!(
            bell_of(&app, token).await,
            ["second-user wants to talk to a human"]
        );
    }
}
