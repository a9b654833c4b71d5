//! What only a store shared by several instances has: one leader per job, and each instance
//! learning of the others' commits, promptly by hints and, when hints are lost, by the poll.

use std::sync::{Arc, Mutex};

use app::model::{Event, Profile};
use tokio::sync::Notify;

use super::{key, text, Harness};
use crate::postgres::PgStore;
use crate::store::{Durability, Job, Store};

/// A second instance on the database of `first`.
async fn another(url: &str) -> PgStore {
    PgStore::open(url, Durability::Normal)
        .await
        .expect("open store")
}

/// What an instance's commit hook was handed, and a wake-up for each call.
#[derive(Default)]
struct Seen {
    events: Mutex<Vec<(String, i64)>>,
    arrived: Notify,
}

impl Seen {
    fn hook(self: &Arc<Self>) -> crate::store::CommitHook {
        let seen = self.clone();
        Arc::new(move |bot: &str, events: &[Event]| {
            let mut list = seen.events.lock().unwrap();
            list.extend(events.iter().map(|e| (bot.to_string(), e.seq)));
            seen.arrived.notify_waiters();
        })
    }

    /// Waits until the hook was handed `seq` of `bot`.
    async fn until(&self, bot: &str, seq: i64) {
        let wait = async {
            loop {
                let arrived = self.arrived.notified();
                tokio::pin!(arrived);
                // Registered before the check, so a call in between is not missed.
                arrived.as_mut().enable();
                if self
                    .events
                    .lock()
                    .unwrap()
                    .iter()
                    .any(|(b, s)| b == bot && *s == seq)
                {
                    return;
                }
                arrived.await;
            }
        };
        tokio::time::timeout(std::time::Duration::from_secs(10), wait)
            .await
            .unwrap_or_else(|_| panic!("seq {seq} of {bot} reached the other instance"));
    }
}

#[tokio::test]
async fn one_instance_leads_a_job_and_another_takes_over_when_it_is_gone() {
    let first = Harness::postgres().await;
    let url = first.url().to_string();
    let second = another(&url).await;
    assert!(first.lead(Job::Outbox).await.unwrap());
    assert!(
        first.lead(Job::Outbox).await.unwrap(),
        "it keeps what it holds"
    );
    assert!(!second.lead(Job::Outbox).await.unwrap());
    assert!(
        second.lead(Job::Retention).await.unwrap(),
        "each job has its own leader"
    );
    first.close().await;
    drop(first);
    // The server releases the lock as the closed session's backend ends: soon, not at once.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while !second.lead(Job::Outbox).await.unwrap() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the job passed to the other instance"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn another_instance_publishes_every_commit_in_order_also_without_hints() {
    let writer = Harness::postgres().await;
    let follower = another(writer.url()).await;
    let seen = Arc::new(Seen::default());
    follower.on_commit(seen.hook());
    let mut written = Vec::new();
    for i in 0..5 {
        let w = writer
            .record_user_message(
                &key("bot-a", "u"),
                &Profile::default(),
                &text(&format!("{i}")),
            )
            .await
            .unwrap();
        written.extend(w.events.iter().map(|e| ("bot-a".to_string(), e.seq)));
    }
    seen.until("bot-a", written.last().unwrap().1).await;
    // Hints cut: every instance's listener loses its connection; the poll still finds all.
    let cut: Vec<bool> = sqlx::query_scalar(
        "select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1",
    )
    .bind(crate::postgres::HINTS_LISTENER)
    .fetch_all(writer.pg_pool())
    .await
    .unwrap();
    assert!(!cut.is_empty(), "the listeners were found");
    for i in 5..10 {
        let w = writer
            .record_user_message(
                &key("bot-b", "u"),
                &Profile::default(),
                &text(&format!("{i}")),
            )
            .await
            .unwrap();
        written.extend(w.events.iter().map(|e| ("bot-b".to_string(), e.seq)));
    }
    seen.until("bot-b", written.last().unwrap().1).await;
    assert_eq!(*seen.events.lock().unwrap(), written, "once each, in order");
}
