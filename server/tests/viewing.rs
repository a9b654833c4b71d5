//! Who has which conversation open: a console says what it shows over its events socket,
//! every console of the bot hears who views what, one that connects gets all of it first, and
//! none of it is logged.

pub mod common;

use common::{add_agent, spawn_app, token_for, Events, TestApp, WELCOME_BOT};
use serde_json::{json, Value};

async fn agent(app: &TestApp, email: &str) -> (i64, String) {
    add_agent(app, email, &[WELCOME_BOT]).await;
    token_for(app, email).await
}

fn viewing(session_id: Option<i64>) -> Value {
    json!({ "type": "viewing", "sessionId": session_id })
}

/// The names of who views each conversation a `viewers` event tells of.
fn told(event: &Value) -> Vec<(i64, Vec<String>)> {
    assert_eq!(event["type"], "viewers", "{event}");
    event["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let names = s["people"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["name"].as_str().unwrap().to_string())
                .collect();
            (s["sessionId"].as_i64().unwrap(), names)
        })
        .collect()
}

async fn connected(app: &TestApp, token: &str) -> Events {
    let mut events = app.events_as(token, WELCOME_BOT, None).await;
    assert_eq!(events.next().await["type"], "resync");
    events
}

#[tokio::test]
async fn every_console_hears_who_opens_and_leaves_a_conversation() {
    let app = spawn_app().await;
    let first = app.say("v1", "hello").await["sessionId"].as_i64().unwrap();
    let second = app.say("v2", "hello").await["sessionId"].as_i64().unwrap();
    let (ann, ann_token) = agent(&app, "ann@example.com").await;
    let (_, bea_token) = agent(&app, "bea@example.com").await;

    let mut ann_console = connected(&app, &ann_token).await;
    let nothing_yet = ann_console.next_viewers().await;
    assert_eq!(nothing_yet["snapshot"], true);
    assert!(told(&nothing_yet).is_empty());
    let mut bea_console = connected(&app, &bea_token).await;
    assert!(told(&bea_console.next_viewers().await).is_empty());

    ann_console.send(viewing(Some(first))).await;
    let ann_name = || vec!["Agent ann@example.com".to_string()];
    for console in [&mut ann_console, &mut bea_console] {
        let event = console.next_viewers().await;
        assert_eq!(event["snapshot"], false);
        assert_eq!(told(&event), [(first, ann_name())]);
        assert_eq!(event["sessions"][0]["people"][0]["id"], ann);
    }

    // A console that connects now is told at once, with the seq of the last logged event.
    let mut late = connected(&app, &bea_token).await;
    let snapshot = late.next_viewers().await;
    assert_eq!(snapshot["snapshot"], true);
    assert_eq!(told(&snapshot), [(first, ann_name())]);

    // Ann moves on: one event for the one she left, one for the one she opened.
    ann_console.send(viewing(Some(second))).await;
    assert_eq!(told(&bea_console.next_viewers().await), [(first, vec![])]);
    assert_eq!(
        told(&bea_console.next_viewers().await),
        [(second, ann_name())]
    );

    // Closing her console closes what it showed.
    ann_console.close().await;
    assert_eq!(told(&bea_console.next_viewers().await), [(second, vec![])]);
    assert_eq!(told(&late.next_viewers().await), [(first, vec![])]);

    // None of it is in the log: logged events still come in order after it.
    app.say("v1", "still here").await;
    let next = bea_console.next().await;
    assert_eq!(next["message"]["text"], "still here", "{next}");
    let logged = app
        .store
        .events_since(WELCOME_BOT, 0, 10_000)
        .await
        .expect("the event log");
    assert!(logged.iter().all(|e| !e.kind.is_ephemeral()));
}

#[tokio::test]
async fn a_token_of_nobody_views_nothing_and_a_bad_frame_closes_nothing() {
    let app = spawn_app().await;
    let first = app.say("v1", "hello").await["sessionId"].as_i64().unwrap();
    let (_, bea_token) = agent(&app, "bea@example.com").await;
    let mut bea_console = connected(&app, &bea_token).await;
    assert!(told(&bea_console.next_viewers().await).is_empty());

    let mut script = app.events(WELCOME_BOT, None).await;
    assert_eq!(script.next().await["type"], "resync");
    script.send(viewing(Some(first))).await;
    script.send(json!({ "type": "no such frame" })).await;
    bea_console.send(json!("not even an object")).await;
    // Bea's own view after those is the first thing she hears: the script was nobody.
    bea_console.send(viewing(Some(first))).await;
    assert_eq!(
        told(&bea_console.next_viewers().await),
        [(first, vec!["Agent bea@example.com".to_string()])]
    );
}
