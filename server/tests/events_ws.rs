//! The live event socket: a resync to start from, events in `seq` order as they happen, exactly
//! the missed events after a reconnect (even across a server restart), one bot's events only,
//! and no socket without a token.

pub mod common;

use common::{
    spawn_app, spawn_app_configured, spawn_app_with_bots, text, welcome, TestApp, TOKEN,
    WELCOME_BOT,
};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite;

fn seq(event: &Value) -> i64 {
    event["seq"]
        .as_i64()
        .unwrap_or_else(|| panic!("an event with a seq: {event}"))
}

fn kinds(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["type"].as_str().expect("a type"))
        .collect()
}

fn assert_strictly_increasing(events: &[Value]) {
    let seqs: Vec<i64> = events.iter().map(seq).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "seqs increase: {seqs:?}"
    );
}

/// What the server's event log holds for a bot after `since`, as the socket would send it.
async fn logged(app: &TestApp, bot_id: &str, since: i64) -> Vec<Value> {
    app.store
        .events_since(bot_id, since, 10_000)
        .await
        .expect("the event log")
        .iter()
        .map(|e| serde_json::to_value(e).unwrap())
        .collect()
}

/// The newest number of the welcome bot's log.
async fn latest_seq(app: &TestApp) -> i64 {
    app.store
        .event_bounds(WELCOME_BOT)
        .await
        .expect("the event log")
        .1
}

#[tokio::test]
async fn a_socket_without_since_starts_with_a_resync_at_the_latest_seq() {
    let app = spawn_app().await;
    app.say("u1", "hello").await;
    let latest = latest_seq(&app).await;
    assert!(latest > 0);

    let mut events = app.events(WELCOME_BOT, None).await;
    let first = events.next().await;
    assert_eq!((&first["type"], seq(&first)), (&json!("resync"), latest));
    assert!(
        first["epoch"].as_str().is_some_and(|e| !e.is_empty()),
        "{first}"
    );
}

#[tokio::test]
async fn a_new_users_message_arrives_as_session_and_message_events_in_order() {
    let app = spawn_app().await;
    let mut events = app.events(WELCOME_BOT, None).await;
    let start = seq(&events.next().await);

    app.converse(
        "u2",
        serde_json::json!({ "type": "text", "text": "hi", "user": { "fullName": "Bea" } }),
    )
    .await;
    let frames = events.take(4).await;
    assert_eq!(
        kinds(&frames),
        [
            "session.created",
            "message.created",
            "message.created",
            "session.updated"
        ]
    );
    assert_strictly_increasing(&frames);
    assert!(seq(&frames[0]) > start);

    let session = &frames[0]["session"];
    assert_eq!(session["userId"], "u2");
    assert_eq!(session["fullName"], "Bea");
    assert_eq!(session["botId"], WELCOME_BOT);
    let (user, bot) = (&frames[1]["message"], &frames[2]["message"]);
    assert_eq!(
        (&user["source"], &user["text"]),
        (&"user".into(), &"hi".into())
    );
    assert_eq!(
        (&bot["source"], &bot["text"]),
        (&"bot".into(), &"You said: hi".into())
    );
    assert_eq!(user["sessionId"], session["id"]);
    assert_eq!(frames[3]["session"]["lastMessage"]["id"], bot["id"]);
}

#[tokio::test]
async fn a_handover_is_announced_live() {
    let app = spawn_app().await;
    app.say("u1", "hello").await;
    let mut events = app.events(WELCOME_BOT, None).await;
    events.next().await;

    app.say("u1", "HITL_START").await;
    let frames = events
        .until(|e| e["type"] == "session.updated" && e["session"]["isPaused"] == true)
        .await;
    assert_strictly_increasing(&frames);
    let notification = frames
        .iter()
        .find(|e| e["type"] == "notification.created")
        .expect("a notification event");
    assert_eq!(
        notification["notification"]["message"],
        "u1 wants to talk to a human"
    );
    assert_eq!(frames.last().unwrap()["session"]["pausedBy"], "bot");
}

#[tokio::test]
async fn an_access_token_in_the_query_opens_the_socket_too() {
    let app = spawn_app().await;
    let url = app.events_url(WELCOME_BOT, &format!("access_token={TOKEN}"));
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("the socket opens");
    let first = futures::StreamExt::next(&mut ws).await.unwrap().unwrap();
    let first: Value = serde_json::from_str(first.to_text().unwrap()).unwrap();
    assert_eq!(first["type"], "resync");
}

#[tokio::test]
async fn a_socket_without_a_valid_token_is_refused() {
    let app = spawn_app().await;
    for query in ["", "access_token=wrong", "since=0"] {
        match tokio_tungstenite::connect_async(app.events_url(WELCOME_BOT, query)).await {
            Err(tungstenite::Error::Http(response)) => {
                assert_eq!(response.status(), 401, "query {query:?}")
            }
            Err(other) => panic!("expected a 401 answer, got {other}"),
            Ok(_) => panic!("the socket opened without a token (query {query:?})"),
        }
    }
}

#[tokio::test]
async fn a_socket_for_an_unknown_bot_is_not_found() {
    let app = spawn_app().await;
    let url = app.events_url("no-such-bot", &format!("access_token={TOKEN}"));
    match tokio_tungstenite::connect_async(url).await {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 404),
        Err(other) => panic!("expected a 404 answer, got {other}"),
        Ok(_) => panic!("the socket opened for an unknown bot"),
    }
}

#[tokio::test]
async fn a_since_beyond_the_latest_seq_gets_a_resync() {
    let app = spawn_app().await;
    app.say("u1", "hello").await;
    let latest = latest_seq(&app).await;

    let mut events = app.events(WELCOME_BOT, Some(latest + 100)).await;
    let first = events.next().await;
    assert_eq!(first["type"], "resync");
    assert_eq!(seq(&first), latest);

    // From there on it is live as usual.
    app.say("u1", "again").await;
    let next = events.next().await;
    assert_eq!(next["type"], "message.created");
    assert!(seq(&next) > latest);
}

#[tokio::test]
async fn reconnecting_after_a_restart_delivers_exactly_the_missed_events() {
    let app = spawn_app().await;
    let mut events = app.events(WELCOME_BOT, None).await;
    events.next().await;
    app.say("u1", "hello").await;
    let seen = events
        .until(|e| e["message"]["text"] == "You said: hello")
        .await;
    let last = seq(seen.last().unwrap());
    events.close().await;

    // The server goes down and comes back; meanwhile nobody is connected.
    let app = app.restart().await;
    app.say("u1", "while you were away").await;
    app.say("u2", "first time here").await;
    let u1 = app.say("u1", "HITL_START").await["sessionId"]
        .as_i64()
        .unwrap();
    app.post_empty(&welcome(&format!("/mod/hitl/sessions/{u1}/unpause")))
        .await
        .expect(200);

    let missed = logged(&app, WELCOME_BOT, last).await;
    assert!(
        missed.len() >= 10,
        "the log holds what happened: {}",
        missed.len()
    );

    let mut events = app.events(WELCOME_BOT, Some(last)).await;
    let replayed = events.take(missed.len()).await;
    assert_eq!(
        replayed, missed,
        "the replay is the event log after `since`, in order"
    );
    assert!(
        replayed.iter().all(|e| seq(e) > last),
        "nothing from before `since`"
    );
    assert_strictly_increasing(&replayed);
    let texts: Vec<&str> = replayed
        .iter()
        .filter(|e| e["type"] == "message.created" && e["message"]["source"] == "user")
        .map(|e| e["message"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        ["while you were away", "first time here", "HITL_START"]
    );
    assert!(replayed
        .iter()
        .any(|e| e["type"] == "session.created" && e["session"]["userId"] == "u2"));

    // No duplicate follows the replay: the next frame is the next thing that happens.
    app.say("u2", "still there?").await;
    let next = events.next().await;
    assert_eq!(next["type"], "message.created");
    assert_eq!(next["message"]["text"], "still there?");
    assert!(seq(&next) > seq(replayed.last().unwrap()));
}

#[tokio::test]
async fn reconnecting_with_the_latest_seq_misses_nothing_that_follows() {
    let app = spawn_app().await;
    app.say("u1", "hello").await;
    let latest = latest_seq(&app).await;

    let mut events = app.events(WELCOME_BOT, Some(latest)).await;
    app.say("u1", "next").await;
    let next = events.next().await;
    assert_eq!(next["type"], "message.created");
    assert_eq!(next["message"]["text"], "next");
    assert_eq!(seq(&next), latest + 1);
}

#[tokio::test]
async fn events_of_another_bot_are_not_delivered() {
    let app = spawn_app_with_bots(&[("other", "name = \"Other\"")]).await;
    let mut events = app.events(WELCOME_BOT, None).await;
    let start = seq(&events.next().await);

    app.converse_with("other", "u1", text("for the other bot"))
        .await;
    app.say("u2", "for the welcome bot").await;
    let first = events.next().await;
    assert_eq!(
        first["type"], "session.created",
        "the other bot's events were skipped: {first}"
    );
    assert_eq!(first["session"]["botId"], WELCOME_BOT);
    assert_eq!(first["session"]["userId"], "u2");
    // Numbers are the bot's own: compared only within one bot's stream.
    assert!(seq(&first) > start);

    // A replay from the start holds the welcome bot's events only.
    let mut replay = app.events(WELCOME_BOT, Some(0)).await;
    let mine = logged(&app, WELCOME_BOT, 0).await;
    let frames = replay.take(mine.len()).await;
    assert_eq!(frames, mine);
    let other_sessions: Vec<&Value> = frames
        .iter()
        .filter(|e| e["session"]["botId"] == "other")
        .collect();
    assert!(other_sessions.is_empty());
    assert!(frames
        .iter()
        .all(|e| e["message"]["text"] != "for the other bot"));
}

/// A subscriber that stops reading cannot hold the server back or grow its memory: its queue has
/// a limit (here 8 events), and when it falls further behind it is told to resync.
#[tokio::test]
async fn a_subscriber_that_stops_reading_is_told_to_resync_never_left_with_a_silent_gap() {
    let app = spawn_app_configured(|config| config.event_buffer = 8).await;
    let mut events = app.events(WELCOME_BOT, None).await;
    let start = events.next().await;
    assert_eq!(start["type"], "resync");
    // Far more than the queue and the socket's buffers hold (each message is in several frames).
    let long = "x".repeat(50_000);
    for n in 0..150 {
        let answer = app
            .converse("slow-reader", text(&format!("{long} {n}")))
            .await;
        assert!(answer["messageId"].is_i64(), "message {n} is taken");
    }
    let mut last = start["seq"].as_i64().unwrap();
    let resync = loop {
        let frame = events.next().await;
        let seq = frame["seq"].as_i64().unwrap();
        if frame["type"] == "resync" {
            break seq;
        }
        assert!(seq > last, "frames come in order before the resync");
        last = seq;
    };
    assert!(resync > last, "the resync says where the stream goes on");
    // After it, the stream goes on live from there.
    app.converse("slow-reader", text("after the resync")).await;
    loop {
        let frame = events.next().await;
        assert!(frame["seq"].as_i64().unwrap() > resync);
        if frame["type"] == "message.created" && frame["message"]["text"] == "after the resync" {
            break;
        }
    }
}

#[tokio::test]
async fn reading_a_notification_and_every_session_change_reach_every_console_live() {
    let app = spawn_app().await;
    let latest = latest_seq(&app).await;
    let mut one = app.events(WELCOME_BOT, Some(latest)).await;
    let mut other = app.events(WELCOME_BOT, Some(latest)).await;

    // A session change carries the counts the filters show: no console asks for them.
    app.say("ada", "hello").await;
    app.say("ada", "HITL_START").await;
    let counts = app
        .get(&welcome("/mod/hitl/sessions/counts"))
        .await
        .expect(200);
    assert_eq!(counts["paused"], 1);
    for console in [&mut one, &mut other] {
        let seen = console
            .until(|e| e["type"] == "session.updated" && e["session"]["isPaused"] == true)
            .await;
        let paused = seen.last().unwrap();
        assert_eq!(paused["counts"], counts, "{paused}");
    }

    // One agent reads the notification: the other console's bell learns it.
    let notes = app.get("/api/v1/notifications").await.expect(200);
    let id = notes["notifications"][0]["id"].as_i64().unwrap();
    app.post_empty(&format!("/api/v1/notifications/{id}/read"))
        .await
        .expect(200);
    let read = other.until(|e| e["type"] == "notification.read").await;
    assert_eq!(read.last().unwrap()["ids"], serde_json::json!([id]));
    // Reading it again changes nothing, so nothing is sent; reading all sends only the rest.
    app.post_empty(&format!("/api/v1/notifications/{id}/read"))
        .await
        .expect(200);
    app.say("bob", "HITL_START").await;
    app.post_empty("/api/v1/notifications/read")
        .await
        .expect(200);
    let read = other.until(|e| e["type"] == "notification.read").await;
    let ids = &read.last().unwrap()["ids"];
    assert_eq!(ids.as_array().unwrap().len(), 1);
    assert_ne!(ids[0], id);
}

#[tokio::test]
async fn a_since_of_another_epoch_starts_over_with_the_logs_epoch() {
    let app = spawn_app().await;
    app.say("u1", "hello").await;
    let resync = app.events(WELCOME_BOT, None).await.next().await;
    assert_eq!(resync["type"], "resync");
    let epoch = resync["epoch"].as_str().expect("a resync names the epoch");
    let latest = seq(&resync);

    let mut same = app
        .events_with(
            &app.token,
            WELCOME_BOT,
            &format!("since={latest}&epoch={epoch}"),
        )
        .await;
    app.say("u1", "next").await;
    let next = same.next().await;
    assert_eq!(
        next["type"], "message.created",
        "the same epoch resumes: {next}"
    );
    assert_eq!(seq(&next), latest + 1);

    let mut other = app
        .events_with(
            &app.token,
            WELCOME_BOT,
            &format!("since={latest}&epoch=restored"),
        )
        .await;
    let first = other.next().await;
    assert_eq!(
        first["type"], "resync",
        "another epoch starts over: {first}"
    );
    assert_eq!(first["epoch"], epoch);
    assert!(seq(&first) > latest);
}

#[tokio::test]
async fn a_start_with_a_new_log_epoch_makes_every_resuming_console_start_over() {
    let app = spawn_app().await;
    app.say("u1", "hello").await;
    let resync = app.events(WELCOME_BOT, None).await.next().await;
    let old = resync["epoch"].as_str().unwrap().to_string();
    let latest = seq(&resync);
    // As after a restore from a backup: the operator starts once with `--new-log-epoch`.
    let app = app.restart_configured(|c| c.new_log_epoch = true).await;
    let mut resumed = app
        .events_with(
            &app.token,
            WELCOME_BOT,
            &format!("since={latest}&epoch={old}"),
        )
        .await;
    let first = resumed.next().await;
    assert_eq!(first["type"], "resync", "{first}");
    let new = first["epoch"].as_str().unwrap();
    assert_ne!(new, old);
    // Later starts keep it.
    let app = app.restart().await;
    let again = app.events(WELCOME_BOT, None).await.next().await;
    assert_eq!(again["epoch"], new);
}

/// After a restore from a backup the log's head is behind what consoles saw. The first console
/// that comes back with such a `since` makes the log start a new epoch, so every other console
/// resuming with the old one starts over too, even one whose `since` the log still has.
#[tokio::test]
async fn a_console_that_saw_more_than_the_log_has_gives_it_a_new_epoch() {
    let app = spawn_app().await;
    app.say("u1", "hello").await;
    let resync = app.events(WELCOME_BOT, None).await.next().await;
    let old = resync["epoch"].as_str().unwrap().to_string();
    let latest = seq(&resync);
    // As a console sends that saw numbers the restored log lost.
    let ahead = latest + 50;
    let mut ahead_console = app
        .events_with(
            &app.token,
            WELCOME_BOT,
            &format!("since={ahead}&epoch={old}"),
        )
        .await;
    let first = ahead_console.next().await;
    assert_eq!(first["type"], "resync", "{first}");
    let new = first["epoch"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    let mut behind_console = app
        .events_with(
            &app.token,
            WELCOME_BOT,
            &format!("since={latest}&epoch={old}"),
        )
        .await;
    let first = behind_console.next().await;
    assert_eq!(first["type"], "resync", "{first}");
    assert_eq!(first["epoch"], new.as_str());
    // A console of the new epoch resumes as usual.
    let mut current = app
        .events_with(
            &app.token,
            WELCOME_BOT,
            &format!("since={}&epoch={new}", seq(&first)),
        )
        .await;
    app.say("u1", "next").await;
    assert_eq!(current.next().await["type"], "message.created");
}
