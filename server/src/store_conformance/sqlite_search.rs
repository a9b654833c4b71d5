//! What only the SQLite store has: its full-text tables and the two-step name search. The
//! store contract itself is checked on every adapter by `crate::store_conformance`.

use app::model::{Actor, ActorKind, SessionQuery};

use super::{key, named, nobody, text, Harness};
use crate::engine::clock::now_ms;
use crate::engine::steps;
use crate::store::write::{apply, Change, WriteTx};
use crate::store::Result;

#[tokio::test]
async fn a_search_finds_the_same_sessions_whether_common_or_rare() {
    let store = Harness::sqlite().await;
    // More sessions than the newest-first window, so rare names are found by the name index.
    let rows = crate::sqlite::SEARCH_WINDOW as i64 + 500;
    sqlx::query(
        "with recursive n(i) as (select 1 union all select i + 1 from n where i < ?1) \
         insert into sessions (bot_id, channel, user_id, thread_id, full_name, created_at, \
                               last_event_on) \
         select 'bot-a', 'api', 'user-' || i, '', \
                case when i % 1000 = 7 then 'Zoë Rare ' || i else 'Common Name ' || i end, i, i \
         from n",
    )
    .bind(rows)
    .execute(store.sqlite_pool())
    .await
    .unwrap();
    let find = |text: &'static str| {
        let store = store.clone();
        async move {
            let mut found = Vec::new();
            let mut cursor = None;
            loop {
                let query = SessionQuery {
                    search_text: Some(text.into()),
                    cursor,
                    limit: Some(50),
                    ..Default::default()
                };
                let page = store.sessions("bot-a", &query, &nobody()).await.unwrap();
                found.extend(page.sessions.iter().map(|s| s.user_id.clone()));
                match page.next_cursor {
                    Some(next) => cursor = Some(next),
                    None => return found,
                }
            }
        }
    };
    // Oldest of the rare ones is far outside the window of the newest 2,000.
    assert_eq!(find("zoë rare").await, ["user-2007", "user-1007", "user-7"]);
    // User ids too: user-77 and user-770 to user-779, newest first.
    let mut ids: Vec<String> = (770..780).rev().map(|i| format!("user-{i}")).collect();
    ids.push("user-77".into());
    assert_eq!(find("ER-77").await, ids);
    let common = find("common name").await;
    assert_eq!(common.len() as i64, rows - 3);
    assert_eq!(common.first().map(String::as_str), Some("user-2500"));
    assert_eq!(find("no one").await, Vec::<String>::new());
    assert_eq!(find("\"").await, Vec::<String>::new());
}

/// Rows of a full-text table matching `query`.
async fn matching(store: &Harness, table: &str, query: &str) -> Vec<i64> {
    sqlx::query_scalar(&format!(
        "select rowid from {table} where {table} match ?1 order by rowid"
    ))
    .bind(query)
    .fetch_all(store.sqlite_pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn what_one_transaction_adds_renames_and_deletes_is_indexed_exactly() {
    let store = Harness::sqlite().await;
    // Indexed row by row before: written by the writer in a transaction of its own.
    let old = store
        .record_user_message(
            &key("bot-a", "old"),
            &named("Olden Person"),
            &text("ancient words"),
        )
        .await
        .unwrap();
    let old_id = old.session.id;
    // One transaction: rows added, one renamed, one deleted before the index has them, and the
    // indexed one deleted too.
    struct Mixed(i64);
    #[async_trait::async_trait]
    impl Change for Mixed {
        type Output = steps::Recorded;
        async fn apply(&self, tx: &mut dyn WriteTx) -> Result<steps::Recorded> {
            let at = now_ms();
            let admin = Actor::new(ActorKind::Agent, None, "admin");
            let kept = steps::user_message(
                tx,
                &key("bot-a", "kept"),
                &named("Kept Person"),
                &text("fresh kept words"),
                at,
            )
            .await?;
            let gone = steps::user_message(
                tx,
                &key("bot-a", "gone"),
                &named("Gone Person"),
                &text("fresh gone words"),
                at,
            )
            .await?;
            steps::update_profile(tx, kept.session.id, &named("Renamed Person"), at).await?;
            steps::delete_session(tx, gone.session.id, &admin, at).await?;
            steps::delete_session(tx, self.0, &admin, at).await?;
            Ok(kept)
        }
    }
    let kept = apply(&*store, Mixed(old_id)).await.unwrap();
    for table in ["messages_fts", "session_names"] {
        sqlx::query(&format!(
            "insert into {table} ({table}, rank) values ('integrity-check', 1)"
        ))
        .execute(store.sqlite_pool())
        .await
        .unwrap_or_else(|e| panic!("{table} matches its content: {e}"));
    }
    assert_eq!(
        matching(&store, "messages_fts", "fresh").await,
        [kept.message.id]
    );
    assert_eq!(
        matching(&store, "messages_fts", "ancient").await,
        Vec::<i64>::new()
    );
    assert_eq!(
        matching(&store, "session_names", "\"Renamed\"").await,
        [kept.session.id]
    );
    for gone in ["\"Kept Person\"", "\"Gone Person\"", "\"Olden\""] {
        assert_eq!(
            matching(&store, "session_names", gone).await,
            Vec::<i64>::new()
        );
    }
    // Writes that do not go through the writer are indexed by the triggers as before.
    sqlx::query(
        "insert into sessions (bot_id, channel, user_id, thread_id, full_name, created_at, \
                               last_event_on) values ('bot-a', 'api', 'by-sql', '', 'Seeded One', 1, 1)",
    )
    .execute(store.sqlite_pool())
    .await
    .unwrap();
    assert_eq!(
        matching(&store, "session_names", "\"Seeded\"").await.len(),
        1
    );
}
