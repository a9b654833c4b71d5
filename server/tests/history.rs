//! History review over the REST API: full-text search (words, phrases, prefixes, filters,
//! ranking, pages), transcripts, deletion that leaves nothing behind, and the audit log.

pub mod common;

use common::browser::Browser;
use common::{bot_path, spawn_app, spawn_app_with_bots, text, welcome, TestApp};
use serde_json::{json, Value};

async fn search(app: &TestApp, query: &str) -> Value {
    app.get(&format!("/api/v1/history/search?{query}"))
        .await
        .expect(200)
}

/// The message ids of the results, in order.
fn ids(page: &Value) -> Vec<i64> {
    page["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["messageId"].as_i64().unwrap())
        .collect()
}

fn snippets(page: &Value) -> Vec<String> {
    page["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["snippet"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_word_typed_a_moment_ago_is_found_with_its_match_marked_and_not_after_deletion() {
    let app = spawn_app().await;
    let said = app
        .converse(
            "ada",
            json!({ "type": "text", "text": "My parcel never arrived", "user": { "fullName": "Ada Lovelace" } }),
        )
        .await;
    let session_id = said["sessionId"].as_i64().unwrap();
    app.say("bob", "the weather is fine").await;

    let page = search(&app, "q=parcel").await;
    let hits = page["results"].as_array().unwrap();
    // The user's message, and the bot's echo of it.
    assert_eq!(hits.len(), 2, "{page}");
    let user_hit = hits.iter().find(|h| h["source"] == "user").unwrap();
    assert_eq!(user_hit["sessionId"], session_id);
    assert_eq!(user_hit["botId"], "welcome-bot");
    assert_eq!(user_hit["fullName"], "Ada Lovelace");
    assert_eq!(user_hit["snippet"], "My parcel never arrived");
    assert_eq!(
        user_hit["snippetParts"],
        json!([
            { "text": "My ", "hit": false },
            { "text": "parcel", "hit": true },
            { "text": " never arrived", "hit": false }
        ])
    );
    assert!(user_hit["ts"].is_string());

    let mut events = app.events("welcome-bot", None).await;
    events.next().await; // the resync that starts a stream without `since`
    app.delete(&welcome(&format!("/mod/hitl/sessions/{session_id}")))
        .await
        .expect(204);
    let deleted = events.next().await;
    assert_eq!(deleted["type"], "session.deleted");
    assert_eq!(deleted["sessionId"], session_id);

    assert_eq!(ids(&search(&app, "q=parcel").await), Vec::<i64>::new());
    app.get(&welcome(&format!("/mod/hitl/sessions/{session_id}")))
        .await
        .expect_error(404, "not_found");
    app.delete(&welcome(&format!("/mod/hitl/sessions/{session_id}")))
        .await
        .expect_error(404, "not_found");
    // Nothing of it is left in the event log a reconnecting console replays.
    let logged = app
        .store
        .events_since("welcome-bot", 0, 1_000)
        .await
        .unwrap();
    let logged = serde_json::to_string(&logged).unwrap();
    assert!(logged.contains("weather") && logged.contains("session.deleted"));
    assert!(!logged.contains("parcel"), "{logged}");
    // The rest of the history is untouched.
    assert_eq!(ids(&search(&app, "q=weather").await).len(), 2);
}

#[tokio::test]
async fn phrases_prefixes_and_every_word_must_match_and_typed_syntax_is_harmless() {
    let app = spawn_app().await;
    app.say("u1", "I want a refund for my order").await;
    app.say("u2", "order a refund").await;
    app.say("u3", "refunded already, thanks").await;

    let all_words = snippets(&search(&app, "q=refund+order&source=user").await);
    assert_eq!(all_words.len(), 2, "{all_words:?}");
    let phrase = snippets(&search(&app, "q=%22my+order%22&source=user").await);
    assert_eq!(phrase, ["I want a refund for my order"]);
    let prefix = snippets(&search(&app, "q=refund*&source=user").await);
    assert_eq!(prefix.len(), 3, "{prefix:?}");
    let exact = snippets(&search(&app, "q=refund&source=user").await);
    assert_eq!(exact.len(), 2, "a word is not its prefix: {exact:?}");

    for typed in [
        "%22",
        "NEAR(a",
        "a+OR",
        "%27%3B+drop+table+messages%3B--",
        "*",
    ] {
        let page = search(&app, &format!("q={typed}")).await;
        assert!(page["results"].is_array(), "{typed}: {page}");
    }
    // The messages are still there.
    assert_eq!(
        snippets(&search(&app, "q=refund*&source=user").await).len(),
        3
    );
}

#[tokio::test]
async fn the_best_match_comes_first_and_pages_follow_each_other_without_gaps() {
    let app = spawn_app().await;
    app.say(
        "u1",
        "a long message that mentions shipping only once among many other words here",
    )
    .await;
    app.say("u2", "shipping shipping").await;
    for i in 0..7 {
        app.say(&format!("p{i}"), &format!("shipping note {i}"))
            .await;
    }
    let first = search(&app, "q=shipping&source=user").await;
    assert_eq!(
        first["results"][0]["snippet"], "shipping shipping",
        "{first}"
    );

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = match &cursor {
            Some(c) => format!("q=shipping&source=user&limit=2&cursor={c}"),
            None => "q=shipping&source=user&limit=2".to_string(),
        };
        let page = search(&app, &query).await;
        assert!(ids(&page).len() <= 2);
        seen.extend(ids(&page));
        match page["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(seen.len(), 9, "{seen:?}");
    assert_eq!(unique.len(), 9, "no result twice: {seen:?}");

    // Without words: the newest messages first, paged by cursor too.
    let newest = search(&app, "source=user&limit=3").await;
    assert_eq!(
        snippets(&newest),
        ["shipping note 6", "shipping note 5", "shipping note 4"]
    );
    let next = newest["nextCursor"].as_str().unwrap();
    let older = search(&app, &format!("source=user&limit=3&cursor={next}")).await;
    assert_eq!(
        snippets(&older),
        ["shipping note 3", "shipping note 2", "shipping note 1"]
    );
    app.get("/api/v1/history/search?q=shipping&cursor=nonsense")
        .await
        .expect_error(422, "unprocessable");
}

#[tokio::test]
async fn filters_combine() {
    let app = spawn_app_with_bots(&[("shop-bot", "name = \"Shop\"\n")]).await;
    // welcome-bot: ada asks for a human and an agent answers; bob never does.
    let ada = app.say("ada", "where is my invoice").await["sessionId"]
        .as_i64()
        .unwrap();
    app.say("ada", "HITL_START").await;
    app.post(
        &welcome(&format!("/mod/hitl/sessions/{ada}/message")),
        json!({ "message": "your invoice is on its way" }),
    )
    .await
    .expect(200);
    app.say("bob", "invoice please").await;
    // shop-bot (records only): carol.
    app.converse_with("shop-bot", "carol", text("invoice copy"))
        .await;
    // An old message of bob's, from last year.
    app.sql("update messages set created_at = 1700000000000 where text = 'invoice please'")
        .await;

    let count = |page: Value| ids(&page).len();
    assert_eq!(count(search(&app, "q=invoice").await), 6); // 3 user, 2 echoes, 1 agent
    assert_eq!(count(search(&app, "q=invoice&botId=shop-bot").await), 1);
    assert_eq!(count(search(&app, "q=invoice&source=agent").await), 1);
    assert_eq!(
        count(search(&app, "q=invoice&source=agent&agent=nobody").await),
        0
    );
    assert_eq!(count(search(&app, "q=invoice&agent=api").await), 1);
    // Words match the text only, never who wrote it ("api" is the agent's name here).
    assert_eq!(count(search(&app, "q=api").await), 0);
    assert_eq!(count(search(&app, "q=agent").await), 0);
    assert_eq!(count(search(&app, "q=invoice&handedOff=true").await), 3);
    assert_eq!(
        count(search(&app, "q=invoice&handedOff=false&source=user").await),
        2
    );
    assert_eq!(
        count(search(&app, "q=invoice&pausedNow=true&source=user").await),
        1
    );
    assert_eq!(
        count(search(&app, "q=invoice&channel=api&botId=welcome-bot&source=user").await),
        2
    );
    assert_eq!(
        count(search(&app, "q=invoice&to=2023-12-31&source=user").await),
        1
    );
    assert_eq!(
        count(search(&app, "q=invoice&from=2024-01-01&source=user").await),
        2
    );
    assert_eq!(
        count(
            search(
                &app,
                "q=invoice&from=2024-01-01&botId=welcome-bot&source=user&handedOff=false"
            )
            .await
        ),
        0
    );
    app.get("/api/v1/history/search?from=last+week")
        .await
        .expect_error(422, "unprocessable");
    app.get("/api/v1/history/search?botId=nope")
        .await
        .expect_error(404, "not_found");
    app.get("/api/v1/history/search?source=robot")
        .await
        .expect_error(400, "bad_request");
}

#[tokio::test]
async fn an_agent_searches_only_their_bots_and_may_not_delete_or_read_the_audit_log() {
    let app = spawn_app_with_bots(&[("shop-bot", "name = \"Shop\"\n")]).await;
    app.say("ada", "secret welcome words").await;
    let carol = app
        .converse_with("shop-bot", "carol", text("secret shop words"))
        .await["sessionId"]
        .as_i64()
        .unwrap();
    let password = common::add_agent(&app, "grace@test.local", &["shop-bot"]).await;
    let mut grace = Browser::signed_in(&app, "grace@test.local", &password).await;

    let page = grace
        .call(
            reqwest::Method::GET,
            "/api/v1/history/search?q=secret",
            None,
            false,
        )
        .await;
    assert_eq!(page.status, 200);
    let found: Value = serde_json::from_str(&page.body).unwrap();
    let bots: Vec<&str> = found["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["botId"].as_str().unwrap())
        .collect();
    assert_eq!(bots, ["shop-bot"]);
    let other = grace
        .call(
            reqwest::Method::GET,
            "/api/v1/history/search?q=secret&botId=welcome-bot",
            None,
            false,
        )
        .await;
    assert_eq!(other.status, 403);
    let path = bot_path("shop-bot", &format!("/mod/hitl/sessions/{carol}"));
    let delete = grace.call(reqwest::Method::DELETE, &path, None, true).await;
    assert_eq!(delete.status, 403, "{}", delete.body);
    let audit = grace
        .call(reqwest::Method::GET, "/api/v1/audit", None, false)
        .await;
    assert_eq!(audit.status, 403);
    // Their transcript they may read.
    let transcript = grace
        .call(
            reqwest::Method::GET,
            &format!("{path}/transcript"),
            None,
            false,
        )
        .await;
    assert_eq!(transcript.status, 200);
}

#[tokio::test]
async fn pauses_agent_replies_and_deletions_are_in_the_audit_log_with_who_and_which_session() {
    let app = spawn_app().await;
    let id = app.say("ada", "hello").await["sessionId"].as_i64().unwrap();
    app.post(
        &welcome(&format!("/mod/hitl/sessions/{id}/pause")),
        json!({ "reason": "billing" }),
    )
    .await
    .expect(200);
    app.post(
        &welcome(&format!("/mod/hitl/sessions/{id}/message")),
        json!({ "message": "hi" }),
    )
    .await
    .expect(200);
    app.post_empty(&welcome(&format!("/mod/hitl/sessions/{id}/unpause")))
        .await
        .expect(200);
    app.delete(&welcome(&format!("/mod/hitl/sessions/{id}")))
        .await
        .expect(204);

    let log = app.get("/api/v1/audit?action=session.").await.expect(200);
    let lines: Vec<(String, String, String)> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(e["botId"], "welcome-bot");
            assert_eq!(e["sessionId"], id);
            assert_eq!(e["actorKind"], "token", "the --api-token acted: {e}");
            (
                e["action"].as_str().unwrap().to_string(),
                e["actor"].as_str().unwrap().to_string(),
                e["detail"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let line = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
    assert_eq!(
        lines,
        [
            line("session.deleted", "api", ""),
            line("session.resumed", "api", ""),
            line("session.paused", "api", "billing"),
        ]
    );
    // Who is found by kind: no person did any of it.
    let by_people = app
        .get("/api/v1/audit?action=session.&actorKind=agent")
        .await
        .expect(200);
    assert_eq!(by_people["entries"], json!([]));
    let by_tokens = app
        .get("/api/v1/audit?action=session.&actorKind=token")
        .await
        .expect(200);
    assert_eq!(by_tokens["entries"].as_array().unwrap().len(), 3);
    let replies = app
        .get("/api/v1/audit?action=message.agent")
        .await
        .expect(200);
    assert_eq!(replies["entries"].as_array().unwrap().len(), 1);
    app.get("/api/v1/audit?cursor=x")
        .await
        .expect_error(422, "unprocessable");
}

#[tokio::test]
async fn a_transcript_holds_the_whole_conversation_from_its_start() {
    let app = spawn_app().await;
    let id = app.say("ada", "one").await["sessionId"].as_i64().unwrap();
    app.say("ada", "HITL_START").await;
    app.say("ada", "two").await;
    let transcript = app
        .get(&welcome(&format!("/mod/hitl/sessions/{id}/transcript")))
        .await
        .expect(200);
    assert_eq!(transcript["session"]["id"], id);
    assert_eq!(transcript["truncated"], false);
    let texts: Vec<&str> = transcript["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        [
            "one",
            "You said: one",
            "HITL_START",
            "Bot paused, a human will get in touch very soon.",
            "Paused by bot: user asked for a human",
            "two"
        ]
    );
    app.get(&welcome("/mod/hitl/sessions/999/transcript"))
        .await
        .expect_error(404, "not_found");
}

#[tokio::test]
async fn retention_deletes_exactly_the_conversations_idle_for_longer_than_the_bot_keeps_them() {
    let app = spawn_app_with_bots(&[("shop-bot", "name = \"Shop\"\n")]).await;
    let day = 86_400_000i64;
    let now = chrono::Utc::now().timestamp_millis();
    let mut made = Vec::new();
    // Idle for 3 days, for 2 days less a minute, and fresh; and a shop-bot one idle 10 days.
    for (user, idle) in [("old", 3 * day), ("edge", 2 * day - 60_000), ("new", 0)] {
        let id = app.say(user, &format!("{user} words")).await["sessionId"]
            .as_i64()
            .unwrap();
        app.sql(&format!(
            "update sessions set last_event_on = {} where id = {id}",
            now - idle
        ))
        .await;
        made.push(id);
    }
    let shop = app
        .converse_with("shop-bot", "keeper", text("shop words"))
        .await["sessionId"]
        .as_i64()
        .unwrap();
    app.sql(&format!(
        "update sessions set last_event_on = {} where id = {shop}",
        now - 10 * day
    ))
    .await;

    let settings = welcome("/settings");
    assert_eq!(
        app.get(&settings).await.expect(200),
        json!({ "retentionDays": null })
    );
    app.client
        .put(app.url(&settings))
        .bearer_auth(&app.token)
        .json(&json!({ "retentionDays": 0 }))
        .send()
        .await
        .map(|r| assert_eq!(r.status(), 422))
        .unwrap();
    let saved = app
        .client
        .put(app.url(&settings))
        .bearer_auth(&app.token)
        .json(&json!({ "retentionDays": 2 }))
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 200);
    assert_eq!(app.get(&settings).await.expect(200)["retentionDays"], 2);

    let run = app.post_empty("/api/v1/retention/run").await.expect(200);
    assert_eq!(run["deleted"], 1);
    let status = |id: i64| {
        let app = &app;
        async move {
            app.get(&welcome(&format!("/mod/hitl/sessions/{id}")))
                .await
                .status
                .as_u16()
        }
    };
    assert_eq!(status(made[0]).await, 404, "idle for 3 days");
    assert_eq!(status(made[1]).await, 200, "idle for just under 2 days");
    assert_eq!(status(made[2]).await, 200);
    app.get(&bot_path("shop-bot", &format!("/mod/hitl/sessions/{shop}")))
        .await
        .expect(200);
    assert_eq!(
        ids(&search(&app, "q=old").await).len(),
        0,
        "gone from search too"
    );
    let log = app.get("/api/v1/audit?actor=retention").await.expect(200);
    assert_eq!(log["entries"][0]["action"], "session.deleted");
    assert_eq!(log["entries"][0]["sessionId"], made[0]);
    let changed = app
        .get("/api/v1/audit?action=setting.changed")
        .await
        .expect(200);
    assert_eq!(changed["entries"][0]["detail"], "retention: 2 days");
    // Running again deletes nothing more.
    assert_eq!(
        app.post_empty("/api/v1/retention/run").await.expect(200)["deleted"],
        0
    );
}

#[tokio::test]
async fn pages_through_thousands_of_matches_reach_every_one_exactly_once() {
    let app = spawn_app().await;
    let id = app.say("many", "start").await["sessionId"]
        .as_i64()
        .unwrap();
    // More matches than one ranking window holds (1,000), with some stronger than others.
    app.sql(&format!(
        "with recursive n(i) as (select 1 union all select i + 1 from n where i < 2500) \
         insert into messages (session_id, kind, source, direction, text, payload, created_at) \
         select {id}, 'text', 'user', 'in', \
                case when i % 100 = 0 then 'lamp lamp lamp ' || i else 'a lamp and more words ' || i end, \
                '{{}}', 1700000000000 + i from n"
    ))
    .await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let query = match &cursor {
            Some(c) => format!("q=lamp&limit=400&cursor={c}"),
            None => "q=lamp&limit=400".to_string(),
        };
        let page = search(&app, &query).await;
        let got = ids(&page);
        assert!(!got.is_empty(), "no empty page while matches remain");
        if pages == 0 {
            // The strongest matches of the newest window come first.
            assert!(snippets(&page)[0].starts_with("lamp lamp lamp"), "{page}");
        }
        seen.extend(got);
        pages += 1;
        match page["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(seen.len(), 2500);
    assert_eq!(unique.len(), 2500);
    assert!(pages >= 7, "{pages} pages");
}

#[tokio::test]
async fn pages_through_dense_new_and_sparse_old_matches_reach_every_one_exactly_once() {
    let app = spawn_app().await;
    let id = app.say("many", "start").await["sessionId"]
        .as_i64()
        .unwrap();
    // 40,000 messages: each of the newest 5,000 matches, of the older ones one in fifty. The
    // newest windows lie in a narrow span of ids, the older ones in a wide one.
    app.sql(&format!(
        "with recursive n(i) as (select 1 union all select i + 1 from n where i < 40000) \
         insert into messages (session_id, kind, source, direction, text, payload, created_at) \
         select {id}, 'text', 'user', 'in', \
                case when i % 100 = 0 then 'lamp lamp lamp ' || i \
                     when i > 35000 or i % 50 = 0 then 'a lamp and more words ' || i \
                     else 'other words ' || i end, \
                '{{}}', 1700000000000 + i from n"
    ))
    .await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = match &cursor {
            Some(c) => format!("q=lamp&limit=500&cursor={c}"),
            None => "q=lamp&limit=500".to_string(),
        };
        let page = search(&app, &query).await;
        let got = ids(&page);
        assert!(!got.is_empty(), "no empty page while matches remain");
        seen.extend(got);
        match page["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((seen.len(), unique.len()), (5700, 5700));
}
