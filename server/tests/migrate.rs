//! `hitl --migrate-to`: a SQLite database copied into PostgreSQL serves the same conversations,
//! people and history, and goes on from there.

pub mod common;

use common::*;
use serde_json::Value;

/// What a user of the console and the API sees of the welcome bot.
async fn seen(app: &TestApp, session: i64) -> Vec<Value> {
    vec![
        app.get(&welcome("/mod/hitl/sessions")).await.expect(200),
        app.get(&welcome(&format!("/mod/hitl/sessions/{session}/messages")))
            .await
            .expect(200),
        app.get("/api/v1/history/search?q=invoice")
            .await
            .expect(200),
        app.get("/api/v1/users").await.expect(200),
        app.get(&welcome("/mod/hitl/sessions/counts"))
            .await
            .expect(200),
    ]
}

#[tokio::test]
async fn migrate_to_postgresql_copies_everything_and_serves_it_as_before() {
    let mut app = spawn_app().await;
    let ada = app.say("ada", "my invoice is wrong").await["sessionId"]
        .as_i64()
        .unwrap();
    app.say("bea", "hello there").await;
    app.post_empty(&welcome(&format!("/mod/hitl/sessions/{ada}/pause")))
        .await
        .expect(200);
    add_agent(&app, "grace@test.local", &[WELCOME_BOT]).await;
    let before = seen(&app, ada).await;
    let latest = app.store.event_bounds(WELCOME_BOT).await.unwrap().1;
    app.stop().await;

    let target = server::pg_cluster::shared().fresh_database().await;
    let copied = server::migrate::copy(app.database_url(), &target)
        .await
        .expect("the copy is made and counted");
    let count = |table: &str| copied.iter().find(|c| c.table == table).unwrap().target;
    assert!(copied.iter().all(|c| c.source == c.target), "{copied:?}");
    assert_eq!(count("sessions"), 2);
    assert!(count("messages") >= 4, "{copied:?}");

    let app = app.restart_on(target).await;
    assert_eq!(seen(&app, ada).await, before);
    // A console resumes where it was, and what comes next gets ids of its own.
    let mut console = app.events(WELCOME_BOT, Some(latest)).await;
    let next = app.say("bea", "one more invoice").await;
    let frame = console.next().await;
    assert_eq!(frame["type"], "message.created", "{frame}");
    assert_eq!(frame["seq"].as_i64(), Some(latest + 1));
    let ids: Vec<i64> = before[1]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    assert!(next["messageId"].as_i64().unwrap() > *ids.iter().max().unwrap());
    // Copying into a database that holds conversations is refused.
    let empty = tempfile::tempdir().unwrap();
    let source = format!("sqlite://{}", empty.path().join("empty.db").display());
    let again = server::migrate::copy(&source, app.database_url()).await;
    assert!(
        matches!(again, Err(server::migrate::CopyError::NotEmpty)),
        "{again:?}"
    );
}
