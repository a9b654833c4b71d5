//! The event log on PostgreSQL: how events are numbered, and how each instance learns of them.
//!
//! Numbering: a writing transaction's last statement moves its bot's head row
//! (`event_log_heads.last_seq`) and inserts its events under the numbers it moved past. The row
//! stays locked until the transaction commits, so the next writer of that bot numbers after it
//! only once it is visible: numbers follow commit order, with no number ever appearing below
//! one already seen (a sequence would hand numbers out at insert, in another order).
//!
//! Following: the log is the only publisher to the commit hook. It keeps, per bot, the last
//! number it published, and publishes only what comes right after it: its own commits as they
//! happen, and, when a commit (its own or another instance's)
//! skips ahead, the events in between read back from the database first. Other instances'
//! commits come to it by their hints ([`super::hints`]) or, when a hint is lost, by the poll of
//! the heads; nothing is published twice or out of order.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use app::model::{Event, EventKind};
use sqlx::{PgConnection, PgPool};
use tokio::sync::{watch, Mutex};

use super::hints::{Follower, Hints};
use crate::store::event_format::{decode, encode, EVENT_VERSION};
use crate::store::{CommitHook, Result};

/// How often the heads are read for commits of other instances: how late an event can be when
/// its hint was lost.
const POLL: Duration = Duration::from_millis(250);
/// Events read back per query while catching up.
const BATCH: u32 = 500;

/// An event appended in a transaction, still without its number.
pub struct Pending {
    bot_id: String,
    kind: EventKind,
    at: i64,
}

impl Pending {
    pub fn new(bot_id: &str, kind: EventKind, at: i64) -> Self {
        Pending {
            bot_id: bot_id.to_string(),
            kind,
            at,
        }
    }
}

/// A bot's events of one commit: the head before it, and the events numbered after it.
pub struct Numbered {
    bot_id: String,
    prev: i64,
    events: Vec<Event>,
}

/// Numbers the transaction's events, bot by bot in a fixed order (so two transactions never
/// wait on each other's heads), as its last statements.
pub async fn number(db: &mut PgConnection, pending: Vec<Pending>) -> Result<Vec<Numbered>> {
    let mut by_bot: Vec<(String, Vec<(EventKind, i64)>)> = Vec::new();
    for p in pending {
        match by_bot.iter_mut().find(|(bot, _)| *bot == p.bot_id) {
            Some((_, list)) => list.push((p.kind, p.at)),
            None => by_bot.push((p.bot_id, vec![(p.kind, p.at)])),
        }
    }
    by_bot.sort_by(|a, b| a.0.cmp(&b.0));
    let mut numbered = Vec::with_capacity(by_bot.len());
    for (bot_id, kinds) in by_bot {
        let count = kinds.len() as i64;
        let mut names = Vec::with_capacity(kinds.len());
        let mut data = Vec::with_capacity(kinds.len());
        let mut times = Vec::with_capacity(kinds.len());
        let mut sessions = Vec::with_capacity(kinds.len());
        for (kind, at) in &kinds {
            names.push(kind.name().to_string());
            data.push(encode(kind)?);
            times.push(*at);
            sessions.push(kind.session_id());
        }
        let prev: i64 = sqlx::query_scalar(
            "with head as ( \
                 insert into event_log_heads as h (bot_id, last_seq) values ($1, $2) \
                 on conflict (bot_id) do update set last_seq = h.last_seq + $2 \
                 returning last_seq - $2 as prev), \
             added as ( \
                 insert into events (bot_id, seq, kind, data, created_at, session_id, version) \
                 select $1, head.prev + t.ord, t.kind, t.data, t.created_at, t.session_id, $7 \
                 from head, unnest($3::text[], $4::text[], $5::bigint[], $6::bigint[]) \
                      with ordinality as t(kind, data, created_at, session_id, ord)) \
             select prev from head",
        )
        .bind(&bot_id)
        .bind(count)
        .bind(&names)
        .bind(&data)
        .bind(&times)
        .bind(&sessions)
        .bind(EVENT_VERSION)
        .fetch_one(&mut *db)
        .await?;
        let events = kinds
            .into_iter()
            .zip(prev + 1..)
            .map(|((kind, _), seq)| Event { seq, kind })
            .collect();
        numbered.push(Numbered {
            bot_id,
            prev,
            events,
        });
    }
    Ok(numbered)
}

pub async fn events_since(
    pool: &PgPool,
    bot_id: &str,
    since: i64,
    limit: u32,
) -> Result<Vec<Event>> {
    let rows = sqlx::query_as::<_, (i64, i64, String)>(
        "select seq, version, data from events where bot_id = $1 and seq > $2 \
         order by seq limit $3",
    )
    .bind(bot_id)
    .bind(since)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|(seq, version, data)| {
            let kind = decode(seq, version, &data)?;
            Ok(Event { seq, kind })
        })
        .collect()
}

/// What this instance has published of each bot's log.
pub struct EventLog {
    pool: PgPool,
    hook: RwLock<Option<CommitHook>>,
    /// The last number published per bot; held while publishing, so publishing is in order.
    published: Mutex<HashMap<String, i64>>,
    /// Tells the other instances of this one's commits.
    hints: OnceLock<Hints>,
    stop: watch::Sender<bool>,
}

impl EventLog {
    /// Starts at every bot's head (older events are the consoles' to replay), follows the
    /// other instances' hints, and polls.
    pub async fn start(pool: PgPool) -> Result<Arc<Self>> {
        let heads = heads(&pool).await?;
        let (stop, mut stopped) = watch::channel(false);
        let log = Arc::new(EventLog {
            pool,
            hook: RwLock::new(None),
            published: Mutex::new(heads.into_iter().collect()),
            hints: OnceLock::new(),
            stop,
        });
        let follower: Arc<dyn Follower> = log.clone();
        let hints = Hints::start(log.pool.clone(), Arc::downgrade(&follower), stopped.clone());
        let _ = log.hints.set(hints);
        let follower = Arc::downgrade(&log);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(POLL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stopped.changed() => return,
                }
                let Some(log) = follower.upgrade() else {
                    return;
                };
                if let Err(e) = log.poll_heads().await {
                    tracing::warn!(error = %e, "reading the event log heads failed");
                }
            }
        });
        Ok(log)
    }

    pub fn on_commit(&self, hook: CommitHook) {
        *self.hook.write().expect("hook lock") = Some(hook);
    }

    pub async fn stop(&self) {
        let _ = self.stop.send(true);
    }

    /// This instance's commit: published (after anything it skipped) before its caller is
    /// answered.
    pub async fn committed(&self, numbered: Vec<Numbered>) {
        let mut published = self.published.lock().await;
        for commit in numbered {
            let last = published.get(&commit.bot_id).copied().unwrap_or(0);
            if commit.prev > last {
                // Another commit came in between: every number up to `prev` is committed
                // (this one was numbered after them), so they can be read back now.
                let caught = self.catch_up(&commit.bot_id, last, commit.prev).await;
                published.insert(commit.bot_id.clone(), caught.last);
                if let Some(e) = caught.error {
                    // Leave it to the poll: publishing this commit first would skip them.
                    tracing::warn!(error = %e, bot = commit.bot_id, "catching up the log failed");
                    continue;
                }
            }
            let last = published.get(&commit.bot_id).copied().unwrap_or(0);
            let fresh: Vec<Event> = commit.events.into_iter().filter(|e| e.seq > last).collect();
            if let Some(newest) = fresh.last().map(|e| e.seq) {
                self.publish(&commit.bot_id, &fresh);
                if let Some(hints) = self.hints.get() {
                    hints.moved(&commit.bot_id);
                }
                published.insert(commit.bot_id, newest);
            }
        }
    }

    /// Publishes what other instances committed since the last poll.
    async fn poll_heads(&self) -> Result<()> {
        let heads = heads(&self.pool).await?;
        let mut published = self.published.lock().await;
        for (bot_id, head) in heads {
            self.advance(&mut published, bot_id, head).await?;
        }
        Ok(())
    }

    /// Publishes what was committed to one bot's log (another instance's hint said it moved).
    async fn follow_bot(&self, bot_id: &str) -> Result<()> {
        let head: Option<i64> =
            sqlx::query_scalar("select last_seq from event_log_heads where bot_id = $1")
                .bind(bot_id)
                .fetch_optional(&self.pool)
                .await?;
        let mut published = self.published.lock().await;
        match head {
            Some(head) => self.advance(&mut published, bot_id.to_string(), head).await,
            None => Ok(()),
        }
    }

    /// Publishes a bot's events up to its head `head`.
    async fn advance(
        &self,
        published: &mut HashMap<String, i64>,
        bot_id: String,
        head: i64,
    ) -> Result<()> {
        let last = published.get(&bot_id).copied().unwrap_or(0);
        if head <= last {
            return Ok(());
        }
        let caught = self.catch_up(&bot_id, last, head).await;
        match caught.error {
            Some(e) => {
                published.insert(bot_id, caught.last);
                Err(e)
            }
            // Numbers up to the head whose events are gone (a deleted conversation's) have
            // nothing to publish.
            None => {
                published.insert(bot_id, head);
                Ok(())
            }
        }
    }

    /// Publishes the bot's events after `from` up to `to`, read from the database; answers how
    /// far it got.
    async fn catch_up(&self, bot_id: &str, from: i64, to: i64) -> CaughtUp {
        let mut last = from;
        while last < to {
            let batch = match events_since(&self.pool, bot_id, last, BATCH).await {
                Ok(batch) => batch,
                Err(e) => {
                    return CaughtUp {
                        last,
                        error: Some(e),
                    }
                }
            };
            let batch: Vec<Event> = batch.into_iter().take_while(|e| e.seq <= to).collect();
            let Some(newest) = batch.last().map(|e| e.seq) else {
                break;
            };
            self.publish(bot_id, &batch);
            last = newest;
        }
        CaughtUp {
            last: last.max(to),
            error: None,
        }
    }

    fn publish(&self, bot_id: &str, events: &[Event]) {
        if let Some(hook) = self.hook.read().expect("hook lock").as_ref() {
            hook(bot_id, events);
        }
    }
}

#[async_trait::async_trait]
impl Follower for EventLog {
    async fn follow(&self, bot_id: &str) -> Result<()> {
        self.follow_bot(bot_id).await
    }

    async fn poll(&self) -> Result<()> {
        self.poll_heads().await
    }
}

/// How far a catch-up published, and why it stopped short.
struct CaughtUp {
    last: i64,
    error: Option<crate::store::StoreError>,
}

async fn heads(pool: &PgPool) -> Result<Vec<(String, i64)>> {
    Ok(
        sqlx::query_as("select bot_id, last_seq from event_log_heads")
            .fetch_all(pool)
            .await?,
    )
}
