//! History exports: JSON Lines and CSV that parse back to what was said, with the bot and human
//! segments marked, streamed with flat memory, and only for admins.

pub mod common;

use common::browser::Browser;
use common::{spawn_app, welcome, TestApp};
use serde_json::{json, Value};

/// The seed scenario, with an agent answering while the bot is paused.
async fn handoff_conversation(app: &TestApp, user: &str) -> i64 {
    let id = app
        .converse(
            user,
            json!({ "type": "text", "text": "hello", "user": { "fullName": "Ada, \"the\" Countess" } }),
        )
        .await["sessionId"]
        .as_i64()
        .unwrap();
    app.say(user, "HITL_START").await;
    app.say(user, "=1+1 is two, right?\nsecond line").await;
    app.post(
        &welcome(&format!("/mod/hitl/sessions/{id}/message")),
        json!({ "message": "Hi, I am Bob" }),
    )
    .await
    .expect(200);
    app.converse(user, json!({ "type": "postback", "payload": "HITL_STOP" }))
        .await;
    app.say(user, "bye").await;
    id
}

async fn export(app: &TestApp, query: &str) -> (reqwest::StatusCode, String, String) {
    let response = app
        .client
        .get(app.url(&format!("/api/v1/history/export?{query}")))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let kind = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, kind, response.text().await.unwrap())
}

fn jsonl(body: &str) -> Vec<Value> {
    body.lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

#[tokio::test]
async fn an_export_parses_back_to_the_conversation_with_its_segments_and_handoffs() {
    let app = spawn_app().await;
    let id = handoff_conversation(&app, "ada").await;
    handoff_conversation(&app, "bob").await;

    let (status, kind, body) = export(&app, &format!("format=jsonl&sessionId={id}")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(kind, "application/x-ndjson");
    let rows = jsonl(&body);
    let transcript = app
        .get(&welcome(&format!("/mod/hitl/sessions/{id}/transcript")))
        .await
        .expect(200);
    let messages = transcript["messages"].as_array().unwrap();
    assert_eq!(rows.len(), messages.len());
    for (row, message) in rows.iter().zip(messages) {
        assert_eq!(row["sessionId"], id);
        assert_eq!(row["messageId"], message["id"]);
        assert_eq!(row["text"], message["text"]);
        assert_eq!(row["source"], message["source"]);
        assert_eq!(row["ts"], message["ts"]);
        assert_eq!(row["fullName"], "Ada, \"the\" Countess");
        let payload: Value = serde_json::from_str(row["payload"].as_str().unwrap()).unwrap();
        assert_eq!(payload, message["payload"]);
    }
    let marks: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["text"].as_str().unwrap().to_string(),
                r["segment"].as_str().unwrap().to_string(),
                r["handoff"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mark = |t: &str, s: &str, h: &str| (t.to_string(), s.to_string(), h.to_string());
    assert_eq!(
        marks,
        [
            mark("hello", "bot", ""),
            mark("You said: hello", "bot", ""),
            mark("HITL_START", "bot", ""),
            mark(
                "Bot paused, a human will get in touch very soon.",
                "bot",
                ""
            ),
            mark("Paused by bot: user asked for a human", "human", "paused"),
            mark("=1+1 is two, right?\nsecond line", "human", ""),
            mark("Hi, I am Bob", "human", ""),
            mark("HITL_STOP", "human", ""),
            mark("Human in the loop disabled. Bot resumed.", "human", ""),
            mark(
                "Resumed by the user: user cancelled the request",
                "human",
                "resumed"
            ),
            mark("bye", "bot", ""),
            mark("You said: bye", "bot", ""),
        ]
    );

    // The CSV says the same, cell for cell; only a formula-like cell is kept as text.
    let (status, kind, csv_body) = export(&app, &format!("format=csv&sessionId={id}")).await;
    assert_eq!(status, 200);
    assert!(kind.starts_with("text/csv"), "{kind}");
    let mut reader = csv::Reader::from_reader(csv_body.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header[0], "sessionId");
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(records.len(), rows.len());
    for (record, row) in records.iter().zip(&rows) {
        for (column, cell) in header.iter().zip(record.iter()) {
            let expected = match &row[column] {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            let cell = match cell.strip_prefix('\'') {
                Some(rest) if rest.starts_with('=') => rest,
                _ => cell,
            };
            assert_eq!(cell, expected, "column {column}");
        }
    }
}

#[tokio::test]
async fn an_export_holds_every_conversation_matching_the_filters_whole() {
    let app = spawn_app().await;
    let ada = handoff_conversation(&app, "ada").await;
    app.say("carl", "hello there").await;
    app.say("carl", "nothing else").await;

    let (_, _, body) = export(&app, "format=jsonl&q=countess").await;
    assert!(jsonl(&body).is_empty(), "names are not message text");
    let (_, _, body) = export(&app, "format=jsonl&q=Bob&source=agent").await;
    let rows = jsonl(&body);
    assert!(rows.iter().all(|r| r["sessionId"] == ada));
    assert_eq!(rows.len(), 12, "the whole conversation");
    let (_, _, body) = export(&app, "format=jsonl").await;
    let sessions: std::collections::BTreeSet<i64> = jsonl(&body)
        .iter()
        .map(|r| r["sessionId"].as_i64().unwrap())
        .collect();
    assert_eq!(sessions.len(), 2);

    let (status, _, _) = export(&app, "q=hello").await;
    assert_eq!(status, 400, "the format is required");
    let (status, _, _) = export(&app, "format=xml").await;
    assert_eq!(status, 400);

    let password = common::add_agent(&app, "grace@test.local", &["welcome-bot"]).await;
    let mut grace = Browser::signed_in(&app, "grace@test.local", &password).await;
    let refused = grace
        .call(
            reqwest::Method::GET,
            "/api/v1/history/export?format=jsonl",
            None,
            false,
        )
        .await;
    assert_eq!(refused.status, 403);
    let log = app
        .get("/api/v1/audit?action=history.exported")
        .await
        .expect(200);
    assert_eq!(log["entries"].as_array().unwrap().len(), 3);
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[tokio::test]
async fn an_export_of_a_hundred_thousand_messages_streams_with_flat_memory() {
    let app = spawn_app().await;
    let id = app.say("big", "start").await["sessionId"].as_i64().unwrap();
    // 100,000 messages of about 700 bytes each, written straight into the database.
    let insert = if app.on_postgres() {
        format!(
            "insert into messages (session_id, kind, source, direction, text, payload, created_at) \
             select {id}, 'text', 'user', 'in', 'message ' || i, \
                    json_build_object('type', 'text', 'text', 'message ' || i, \
                                      'note', repeat('x', 600))::text, \
                    1700000000000 + i from generate_series(1, 100000) i"
        )
    } else {
        format!(
            "with recursive n(i) as (select 1 union all select i + 1 from n where i < 100000) \
             insert into messages (session_id, kind, source, direction, text, payload, created_at) \
             select {id}, 'text', 'user', 'in', 'message ' || i, \
                    json_object('type', 'text', 'text', 'message ' || i, \
                                'note', printf('%.600c', 'x')), \
                    1700000000000 + i from n"
        )
    };
    app.sql(&insert).await;

    let response = app
        .client
        .get(app.url(&format!(
            "/api/v1/history/export?format=jsonl&sessionId={id}"
        )))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let before = rss_kib();
    let mut peak = before;
    let mut response = response;
    let mut pending = Vec::new();
    let (mut lines, mut bytes, mut last_id) = (0u64, 0u64, 0i64);
    while let Some(chunk) = response.chunk().await.unwrap() {
        bytes += chunk.len() as u64;
        pending.extend_from_slice(&chunk);
        while let Some(end) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            let row: Value = serde_json::from_slice(&line).unwrap();
            let message_id = row["messageId"].as_i64().unwrap();
            assert!(message_id > last_id, "oldest first, each once");
            last_id = message_id;
            lines += 1;
            if lines % 10_000 == 0 {
                peak = peak.max(rss_kib());
            }
        }
    }
    assert_eq!(
        lines,
        100_000 + 2,
        "every message (and the start and its echo)"
    );
    assert!(bytes > 60_000_000, "{bytes} bytes");
    let growth_mib = (peak.saturating_sub(before)) / 1024;
    assert!(
        growth_mib < 40,
        "memory grew by {growth_mib} MiB while {} MiB went by",
        bytes / 1_048_576
    );
}
