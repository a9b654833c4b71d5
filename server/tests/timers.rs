//! The timers of a bot's `[handoffs]`: an inactive conversation goes back to the bot after a
//! warning, a queued one times out, one waiting too long is escalated once, an offer nobody
//! answers goes to the next agent a bounded number of times, an offline agent's conversations go
//! back to the queue, and with nobody online the bot answers instead of handing over. Durations
//! are a second or two, set in the bot's file.

pub mod common;

use std::time::{Duration, Instant};

use common::{add_agent, spawn_app_with_bots, spawn_app_with_bots_configured, Events, TestApp};
use serde_json::{json, Value};

const BOT: &str = "timed-bot";

/// The welcome bot's rules with `handoffs` as its `[handoffs]` table.
fn bot_file(handoffs: &str) -> String {
    let welcome =
        std::fs::read_to_string(format!("{}/welcome-bot.toml", common::REPO_BOTS_DIR)).unwrap();
    let rules = &welcome[welcome.find("[[rules]]").unwrap()..];
    format!("name = \"Timed Bot\"\n\n[handoffs]\n{handoffs}\n\n{rules}")
}

/// A path of the bot's module API, after `/api`.
fn path(rest: &str) -> String {
    format!("/v1/bots/{BOT}/mod/hitl{rest}")
}

/// The session's overview; asserts 200.
async fn session(app: &TestApp, id: i64) -> Value {
    app.get(&common::bot_path(BOT, &format!("/mod/hitl/sessions/{id}")))
        .await
        .expect(200)
}

/// The user writes; answers the Converse response.
async fn say(app: &TestApp, user: &str, words: &str) -> Value {
    app.post(
        &format!("/api/v1/bots/{BOT}/converse/{user}"),
        json!({ "type": "text", "text": words }),
    )
    .await
    .expect(200)
}

/// The user asks for a person (the bot pauses); answers the session id.
async fn ask_for_a_person(app: &TestApp, user: &str) -> i64 {
    say(app, user, "HITL_START")
        .await
        .get("sessionId")
        .and_then(Value::as_i64)
        .unwrap()
}

/// An agent of the bot with a token and an open console; answers (id, token, console).
async fn agent(app: &TestApp, email: &str) -> (i64, String, Events) {
    add_agent(app, email, &[BOT]).await;
    let (id, token) = common::token_for(app, email).await;
    let mut console = app.events_as(&token, BOT, None).await;
    console.next().await; // the opening resync
    (id, token, console)
}

async fn post_as(app: &TestApp, token: &str, path: &str) -> (u16, Value) {
    let response = app
        .client
        .post(app.url(&format!("/api{path}")))
        .bearer_auth(token)
        .send()
        .await
        .expect("the server answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn is_session(e: &Value, id: i64) -> bool {
    e["type"] == "session.updated" && e["session"]["id"] == id
}

/// Waits until the session, paused, runs with the bot again.
async fn back_with_the_bot(watch: &mut Events, id: i64) -> Vec<Value> {
    let mut events = watch
        .until(|e| is_session(e, id) && e["session"]["isPaused"] == true)
        .await;
    events.extend(
        watch
            .until(|e| is_session(e, id) && e["session"]["isPaused"] == false)
            .await,
    );
    events
}

fn said(events: &[Value], text: &str) -> usize {
    events
        .iter()
        .filter(|e| e["type"] == "message.created" && e["message"]["text"] == text)
        .count()
}

async fn texts(app: &TestApp, id: i64) -> Vec<String> {
    app.texts(BOT, id).await
}

const WARNING: &str = "Still there?";
const RETURNED: &str = "The assistant is back.";

#[tokio::test]
async fn inactivity_warns_once_then_hands_back_to_the_bot_and_any_message_starts_it_again() {
    let handoffs = format!(
        "inactivity_return_secs = 3\ninactivity_warning_secs = 2\n\
         inactivity_warning_message = \"{WARNING}\"\nreturn_message = \"{RETURNED}\""
    );
    let app = spawn_app_with_bots(&[(BOT, &bot_file(&handoffs))]).await;
    let (_, ada, _console) = agent(&app, "ada@test.local").await;
    let mut watch = app.events(BOT, None).await;
    watch.next().await;
    let id = ask_for_a_person(&app, "ulla").await;
    let (status, body) = post_as(&app, &ada, &path(&format!("/sessions/{id}/claim"))).await;
    assert_eq!(status, 200, "{body}");

    // The console learns when it goes back: three seconds after the claim.
    let armed = watch
        .until(|e| is_session(e, id) && e["session"]["handoff"]["returnsAt"].is_string())
        .await;
    let session = &armed.last().unwrap()["session"];
    let returns_at =
        chrono::DateTime::parse_from_rfc3339(session["handoff"]["returnsAt"].as_str().unwrap())
            .unwrap();
    let assigned_at =
        chrono::DateTime::parse_from_rfc3339(session["handoff"]["assignedAt"].as_str().unwrap())
            .unwrap();
    assert_eq!((returns_at - assigned_at).num_milliseconds(), 3_000);

    // Warned once a second in; the user answers, which starts the count again.
    let first = watch
        .until(|e| e["type"] == "message.created" && e["message"]["text"] == WARNING)
        .await;
    assert_eq!(said(&first, RETURNED), 0);
    say(&app, "ulla", "still here").await;
    let spoke = Instant::now();

    let rest = back_with_the_bot(&mut watch, id).await;
    let quiet_for = spoke.elapsed();
    assert!(
        quiet_for >= Duration::from_millis(2_900),
        "returned {quiet_for:?} after the user's message"
    );
    assert!(
        quiet_for < Duration::from_secs(5),
        "returned late: {quiet_for:?}"
    );
    assert_eq!(
        said(&rest, WARNING),
        1,
        "one warning for the new quiet spell"
    );
    assert_eq!(said(&rest, RETURNED), 1);
    let session = &rest.last().unwrap()["session"];
    assert!(session["handoff"].is_null(), "{session}");

    // The bot answers the next message, and nothing fires any more.
    let answer = say(&app, "ulla", "hello again").await;
    assert_eq!(answer["responses"][0]["text"], "You said: hello again");
    let all = texts(&app, id).await;
    assert_eq!(all.iter().filter(|t| *t == WARNING).count(), 2, "{all:?}");
    assert_eq!(all.iter().filter(|t| *t == RETURNED).count(), 1, "{all:?}");
    assert!(
        all.iter()
            .any(|t| t == "Resumed by hitl: nobody wrote for 3 s"),
        "{all:?}"
    );
}

#[tokio::test]
async fn the_owner_keeps_a_conversation_and_nobody_else_may() {
    let app = spawn_app_with_bots(&[(BOT, &bot_file("inactivity_return_secs = 60"))]).await;
    let (_, ada, _a) = agent(&app, "ada@test.local").await;
    let (_, bea, _b) = agent(&app, "bea@test.local").await;
    let id = ask_for_a_person(&app, "ulla").await;
    let keep = path(&format!("/sessions/{id}/keep"));
    let (status, body) = post_as(&app, &ada, &keep).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found")),
        "nobody owns it yet: {body}"
    );
    post_as(&app, &ada, &path(&format!("/sessions/{id}/claim"))).await;
    let before = session(&app, id).await["handoff"]["returnsAt"].clone();
    assert!(before.is_string(), "{before}");

    let (status, body) = post_as(&app, &bea, &keep).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );
    let (status, body) = post_as(&app, &ada, &keep).await;
    assert_eq!(status, 200, "{body}");
    let after = &body["handoff"]["returnsAt"];
    assert!(
        after.as_str() > before.as_str(),
        "kept: {before} then {after}"
    );
    let (status, _) = post_as(&app, &ada, &path("/sessions/999999/keep")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_return_due_while_the_server_was_down_fires_once_at_start() {
    let handoffs = format!("inactivity_return_secs = 1\nreturn_message = \"{RETURNED}\"");
    let app = spawn_app_with_bots(&[(BOT, &bot_file(&handoffs))]).await;
    let (_, ada, console) = agent(&app, "ada@test.local").await;
    let id = ask_for_a_person(&app, "ulla").await;
    let (status, _) = post_as(&app, &ada, &path(&format!("/sessions/{id}/claim"))).await;
    assert_eq!(status, 200);
    let returns_at = session(&app, id).await["handoff"]["returnsAt"]
        .as_str()
        .map(String::from)
        .expect("armed with the claim");
    console.close().await;

    // Down past the due time, then up again.
    let mut app = app;
    app.stop().await;
    let due = chrono::DateTime::parse_from_rfc3339(&returns_at).unwrap();
    let wait = (due.with_timezone(&chrono::Utc) - chrono::Utc::now())
        .to_std()
        .unwrap_or_default();
    tokio::time::sleep(wait + Duration::from_millis(300)).await;
    let app = app.restart().await;
    let mut watch = app.events(BOT, Some(0)).await;
    back_with_the_bot(&mut watch, id).await;
    let late = chrono::Utc::now() - due.with_timezone(&chrono::Utc);
    assert!(late.num_seconds() < 4, "fired {late} late");

    let all = texts(&app, id).await;
    assert_eq!(all.iter().filter(|t| *t == RETURNED).count(), 1, "{all:?}");
    // Once more up and down: nothing fires twice.
    let app = app.restart().await;
    let answer = say(&app, "ulla", "hi").await;
    assert_eq!(answer["responses"][0]["text"], "You said: hi");
    let all = texts(&app, id).await;
    assert_eq!(all.iter().filter(|t| *t == RETURNED).count(), 1, "{all:?}");
}

#[tokio::test]
async fn a_conversation_nobody_takes_times_out_and_the_user_is_told() {
    let handoffs = "queue_timeout_secs = 1\nqueue_timeout_message = \"Nobody came, sorry.\"";
    let app = spawn_app_with_bots(&[(BOT, &bot_file(handoffs))]).await;
    let mut watch = app.events(BOT, None).await;
    watch.next().await;
    // Vera's comes due first, but an agent handed hers back before: it does nothing.
    let veras = ask_for_a_person(&app, "vera").await;
    app.post_empty(&common::bot_path(
        BOT,
        &format!("/mod/hitl/sessions/{veras}/unpause"),
    ))
    .await
    .expect(200);
    let started = Instant::now();
    let id = ask_for_a_person(&app, "ulla").await;
    let events = back_with_the_bot(&mut watch, id).await;
    let hers = texts(&app, veras).await;
    assert!(!hers.iter().any(|t| t == "Nobody came, sorry."), "{hers:?}");
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert_eq!(said(&events, "Nobody came, sorry."), 1);
    let all = texts(&app, id).await;
    assert!(
        all.iter()
            .any(|t| t == "Resumed by hitl: nobody took it within 1 s"),
        "{all:?}"
    );
    // The Converse client reads the message too.
    let outgoing = app
        .get(&format!(
            "/api/v1/bots/{BOT}/converse/ulla/messages?after=0"
        ))
        .await
        .expect(200);
    assert!(
        outgoing.to_string().contains("Nobody came, sorry."),
        "{outgoing}"
    );
}

#[tokio::test]
async fn a_conversation_waiting_too_long_is_told_to_the_admins_once() {
    let app = spawn_app_with_bots(&[(BOT, &bot_file("waiting_too_long_secs = 1"))]).await;
    let (_, admin) = common::token_for(&app, common::ADMIN_EMAIL).await;
    let mut admins = app.events_as(&admin, BOT, None).await;
    admins.next().await;
    let first = ask_for_a_person(&app, "ulla").await;
    let warned = |id: i64| {
        move |e: &Value| {
            e["type"] == "notification.created"
                && e["notification"]["sessionId"] == id
                && e["notification"]["level"] == "warning"
        }
    };
    let events = admins.until(warned(first)).await;
    let notice = &events.last().unwrap()["notification"];
    assert_eq!(notice["level"], "warning");
    assert!(
        notice["message"]
            .as_str()
            .unwrap()
            .ends_with("has waited 1 s for a person"),
        "{notice}"
    );
    // A second conversation waits its second too: by then the first was looked at again
    // many times, and still told once.
    let second = ask_for_a_person(&app, "vera").await;
    let events = admins.until(warned(second)).await;
    assert!(!events.iter().any(warned(first)), "told twice: {events:?}");
    let page: Value = app
        .client
        .get(app.url("/api/v1/notifications"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("the server answers")
        .json()
        .await
        .expect("a JSON page");
    let told: Vec<&Value> = page["notifications"]
        .as_array()
        .expect("a list")
        .iter()
        .filter(|n| n["level"] == "warning")
        .collect();
    let about = |id: i64| told.iter().filter(|n| n["sessionId"] == id).count();
    assert_eq!((about(first), about(second)), (1, 1), "{page}");
}

#[tokio::test]
async fn an_offer_nobody_answers_goes_to_the_next_agent_and_then_waits_for_a_claim() {
    let handoffs = "assignment = \"round_robin\"\nclaim_timeout_secs = 1\nmax_reoffers = 1";
    let app = spawn_app_with_bots(&[(BOT, &bot_file(handoffs))]).await;
    let (ada_id, ada, _a) = agent(&app, "ada@test.local").await;
    let (bea_id, _, _b) = agent(&app, "bea@test.local").await;
    let mut watch = app.events(BOT, None).await;
    watch.next().await;
    let id = ask_for_a_person(&app, "ulla").await;

    let mut owners = Vec::new();
    let mut queued_again = 0;
    while queued_again < 2 {
        let events = watch
            .until(|e| is_session(e, id) && e["session"]["handoff"]["state"].is_string())
            .await;
        let handoff = &events.last().unwrap()["session"]["handoff"];
        match handoff["state"].as_str() {
            Some("assigned") => {
                let owner = handoff["assignee"]["id"].as_i64().unwrap();
                if owners.last() != Some(&owner) {
                    owners.push(owner);
                }
            }
            Some("queued") if !owners.is_empty() && queued_again < owners.len() => {
                queued_again += 1;
            }
            _ => {}
        }
    }
    let mut sorted = owners.clone();
    sorted.sort();
    assert_eq!(sorted, [ada_id, bea_id], "offered to each once: {owners:?}");
    // Offered twice (the first and one more): it waits for someone to claim it.
    let (status, body) = post_as(&app, &ada, &path(&format!("/sessions/{id}/claim"))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["handoff"]["assignee"]["id"], ada_id);
    let all = texts(&app, id).await;
    let lapsed = all
        .iter()
        .filter(|t| t.ends_with("did not answer within 1 s: back in the queue"))
        .count();
    assert_eq!(lapsed, 2, "{all:?}");
}

fn short_grace(config: &mut server::config::Config) {
    config.presence_grace_secs = 1;
}

#[tokio::test]
async fn an_offline_agents_conversations_go_back_to_the_queue_after_the_delay() {
    let handoffs = "offline_action = \"requeue\"\noffline_after_secs = 1";
    let app = spawn_app_with_bots_configured(&[(BOT, &bot_file(handoffs))], short_grace).await;
    let (_, ada, ada_console) = agent(&app, "ada@test.local").await;
    let (_, bea, bea_console) = agent(&app, "bea@test.local").await;
    let adas = ask_for_a_person(&app, "ulla").await;
    let beas = ask_for_a_person(&app, "vera").await;
    post_as(&app, &ada, &path(&format!("/sessions/{adas}/claim"))).await;
    post_as(&app, &bea, &path(&format!("/sessions/{beas}/claim"))).await;
    let mut watch = app.events(BOT, None).await;
    watch.next().await;

    // Ada reloads (back within the grace period); Bea closes her browser.
    ada_console.close().await;
    let _ada_again = app.events_as(&ada, BOT, None).await;
    bea_console.close().await;
    let gone = Instant::now();
    let events = watch
        .until(|e| is_session(e, beas) && e["session"]["handoff"]["state"] == "queued")
        .await;
    assert!(
        gone.elapsed() >= Duration::from_millis(1_900),
        "requeued {:?} after she left: before the grace period and the delay",
        gone.elapsed()
    );
    assert!(
        !events
            .iter()
            .any(|e| is_session(e, adas) && e["session"]["handoff"]["state"] == "queued"),
        "Ada came back in time and keeps hers"
    );
    assert_eq!(session(&app, adas).await["handoff"]["state"], "assigned");
    let all = texts(&app, beas).await;
    assert!(
        all.iter()
            .any(|t| t.ends_with("went offline: back in the queue")),
        "{all:?}"
    );
}

#[tokio::test]
async fn with_nobody_online_the_bot_answers_and_keeps_the_conversation() {
    let handoffs = "no_agent = \"answer\"\nno_agent_message = \"Nobody is here; I keep helping.\"";
    let app = spawn_app_with_bots(&[(BOT, &bot_file(handoffs))]).await;
    let answer = say(&app, "ulla", "HITL_START").await;
    assert_eq!(answer["paused"], false, "{answer}");
    assert!(answer["handoff"].is_null(), "{answer}");
    let responses: Vec<&str> = answer["responses"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["text"].as_str())
        .collect();
    assert!(
        responses.contains(&"Nobody is here; I keep helping."),
        "{responses:?}"
    );
    let next = say(&app, "ulla", "so what now").await;
    assert_eq!(next["responses"][0]["text"], "You said: so what now");

    // With an agent online it is handed over.
    let (_, _, _console) = agent(&app, "ada@test.local").await;
    let answer = say(&app, "vera", "HITL_START").await;
    assert_eq!(answer["paused"], true, "{answer}");
    assert_eq!(answer["handoff"]["state"], "queued");
}
