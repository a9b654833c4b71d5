//! The PostgreSQL store, the second adapter of the storage port, for several hitl instances on
//! one database: connection setup, migrations, the reads, and the writes (each change in its
//! own transaction over the primitives of [`tx`], its events numbered at commit by
//! [`log`], which also follows what other instances commit).

mod accounts;
mod analytics;
mod hints;
mod history;
mod log;
mod notifications;
mod sessions;
mod tx;
mod visitors;

pub use hints::LISTENER_NAME as HINTS_LISTENER;

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use app::model::Event;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};

use crate::sql_rows::{now_ms, DeliveryRow, DELIVERY_COLUMNS};
use crate::store::write::{DynChange, Output};
use crate::store::{
    Bot, BotScope, CommitHook, Delivery, DueTimer, Durability, Job, Queued, Result, StoreError,
};

/// How often a change that lost a race with another transaction (see `lost_a_race`) runs again
/// before its caller is told.
const ATTEMPTS: u32 = 5;

/// A scope for SQL: `None` for all bots, else the bots as an array for `= any($n)`.
fn scope_array(scope: &BotScope) -> Option<Vec<String>> {
    match scope {
        BotScope::All => None,
        BotScope::Only(bots) => Some(bots.clone()),
    }
}

/// Whether a change failed only because another transaction ran at the same time: a deadlock,
/// a serialization failure, or a conversation another writer inserted first (`PgTx` documents
/// each). Running it again then gives the answer one writer would have.
fn lost_a_race(e: &StoreError) -> bool {
    let StoreError::Backend(e) = e else {
        return false;
    };
    let Some(db) = e
        .downcast_ref::<sqlx::Error>()
        .and_then(|e| e.as_database_error())
    else {
        return false;
    };
    match db.code().as_deref() {
        Some("40001" | "40P01") => true,
        Some("23505") => db.constraint() == Some("sessions_by_user"),
        _ => false,
    }
}

/// Every instance shares the database; the log numbers each bot's events in commit order.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    log: Arc<log::EventLog>,
    /// The connections holding the jobs this instance leads (their own, outside the pool).
    leads: Arc<tokio::sync::Mutex<HashMap<Job, PgConnection>>>,
    options: PgConnectOptions,
}

/// The first key of hitl's advisory locks (the second is the job's number).
const LEAD_LOCKS: i32 = 7002;

impl PgStore {
    /// The pool, for the store tests' own SQL.
    #[cfg(test)]
    pub(crate) fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Connects, runs the embedded migrations and starts following the log.
    pub async fn open(url: &str, durability: Durability) -> Result<Self> {
        let options = PgConnectOptions::from_str(url)?
            .application_name("hitl")
            // A transaction left open by a stuck instance must not hold the head rows for ever.
            .options([("idle_in_transaction_session_timeout", "30000")])
            .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_secs(2));
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        check_durability(&pool, durability).await?;
        let log = log::EventLog::start(pool.clone()).await?;
        Ok(PgStore {
            pool,
            log,
            leads: Default::default(),
            options,
        })
    }
}

/// Numbers reach consoles only once they are durable: with asynchronous commit a crash could
/// hand the same number out again for another event.
async fn check_durability(pool: &PgPool, durability: Durability) -> Result<()> {
    let setting: String = sqlx::query_scalar("show synchronous_commit")
        .fetch_one(pool)
        .await?;
    if durability == Durability::Full && matches!(setting.as_str(), "off" | "local") {
        return Err(StoreError::Corrupt(format!(
            "synchronous_commit is {setting}; hitl needs it on (or start with --durability normal)"
        )));
    }
    Ok(())
}

#[async_trait::async_trait]
impl crate::store::Store for PgStore {
    fn on_commit(&self, hook: CommitHook) {
        self.log.on_commit(hook);
    }

    async fn write(&self, change: Box<dyn DynChange>) -> Result<Output> {
        let mut attempt = 1;
        loop {
            match self.try_write(change.as_ref()).await {
                Err(e) if attempt < ATTEMPTS && lost_a_race(&e) => {
                    tracing::debug!(error = %e, attempt, "a write lost a race; again");
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn lead(&self, job: Job) -> Result<bool> {
        let mut held = self.leads.lock().await;
        if let Some(conn) = held.get_mut(&job) {
            if sqlx::query("select 1").execute(&mut *conn).await.is_ok() {
                return Ok(true);
            }
            // The connection, and the lock with it, is gone: another instance may lead now.
            held.remove(&job);
        }
        // A session lock on a connection of its own: it lasts as long as the connection, so it
        // passes to another instance when this one dies.
        let mut conn = PgConnection::connect_with(&self.options).await?;
        let got: bool = sqlx::query_scalar("select pg_try_advisory_lock($1, $2)")
            .bind(LEAD_LOCKS)
            .bind(job.number())
            .fetch_one(&mut conn)
            .await?;
        if got {
            held.insert(job, conn);
        }
        Ok(got)
    }

    /// PostgreSQL keeps itself (autovacuum); the log's follower runs on its own.
    async fn maintain(&self) -> Result<()> {
        Ok(())
    }

    async fn close(&self) {
        self.log.stop().await;
        // Ends the jobs' locks now, not when the connections happen to be dropped.
        for (_, conn) in self.leads.lock().await.drain() {
            let _ = conn.close().await;
        }
        self.pool.close().await;
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("select 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn upsert_bot(&self, id: &str, name: &str) -> Result<Bot> {
        let mut tx = self.pool.begin().await?;
        let bot = sqlx::query_as::<_, (String, String, bool)>(
            "insert into bots (id, name, created_at) values ($1, $2, $3) \
             on conflict (id) do update set name = excluded.name \
             returning id, name, paused",
        )
        .bind(id)
        .bind(name)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("insert into event_log_heads (bot_id) values ($1) on conflict do nothing")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Bot {
            id: bot.0,
            name: bot.1,
            paused: bot.2,
        })
    }

    async fn bots(&self) -> Result<Vec<Bot>> {
        let rows = sqlx::query_as::<_, (String, String, bool)>(
            "select id, name, paused from bots order by id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, paused)| Bot { id, name, paused })
            .collect())
    }

    async fn events_since(&self, bot_id: &str, since: i64, limit: u32) -> Result<Vec<Event>> {
        log::events_since(&self.pool, bot_id, since, limit).await
    }

    async fn event_bounds(&self, bot_id: &str) -> Result<(i64, i64)> {
        let bounds = sqlx::query_as::<_, (i64, i64)>(
            "select coalesce((select min(seq) from events where bot_id = $1), 0), \
                    coalesce((select last_seq from event_log_heads where bot_id = $1), 0)",
        )
        .bind(bot_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(bounds)
    }

    async fn create_visitor(&self, visitor: &crate::store::Visitor) -> Result<()> {
        visitors::create(&self.pool, visitor).await
    }

    async fn due_deliveries(&self, now: i64, limit: u32) -> Result<Vec<Delivery>> {
        let sql = format!(
            "select {DELIVERY_COLUMNS} \
             from outbox o \
             where o.sent_at is null and o.failed_at is null and o.next_attempt_at <= $1 \
               and not exists (select 1 from outbox p \
                               where p.session_id = o.session_id and p.id < o.id \
                                 and p.sent_at is null and p.failed_at is null) \
             order by o.id limit $2"
        );
        let rows: Vec<DeliveryRow> = sqlx::query_as(&sql)
            .bind(now)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(DeliveryRow::into_delivery).collect()
    }

    async fn visitor(&self, id: &str) -> Result<Option<crate::store::Visitor>> {
        visitors::get(&self.pool, id).await
    }

    async fn set_visitor_name(&self, id: &str, name: Option<&str>) -> Result<()> {
        visitors::set_name(&self.pool, id, name).await
    }

    async fn replace_setting(&self, key: &str, value: &str) -> Result<()> {
        sqlx::query(
            "insert into settings (key, value) values ($1, $2) \
             on conflict (key) do update set value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn swap_setting(&self, key: &str, expected: &str, value: &str) -> Result<String> {
        sqlx::query("update settings set value = $3 where key = $1 and value = $2")
            .bind(key)
            .bind(expected)
            .bind(value)
            .execute(&self.pool)
            .await?;
        Ok(
            sqlx::query_scalar("select value from settings where key = $1")
                .bind(key)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    async fn setting_or_insert(
        &self,
        key: &str,
        make: &(dyn Fn() -> String + Send + Sync),
    ) -> Result<String> {
        sqlx::query(
            "insert into settings (key, value) values ($1, $2) on conflict (key) do nothing",
        )
        .bind(key)
        .bind(make())
        .execute(&self.pool)
        .await?;
        Ok(
            sqlx::query_scalar("select value from settings where key = $1")
                .bind(key)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    async fn session(
        &self,
        bot_id: &str,
        session_id: i64,
    ) -> Result<Option<app::model::SessionOverview>> {
        sessions::by_id(&self.pool, Some(bot_id), session_id).await
    }
    async fn session_by_key(
        &self,
        key: &crate::store::SessionKey,
    ) -> Result<Option<app::model::SessionOverview>> {
        sessions::by_key(&self.pool, key).await
    }
    async fn sessions(
        &self,
        bot_id: &str,
        query: &app::model::SessionQuery,
        asking: &crate::store::ListFor,
    ) -> Result<app::model::SessionPage> {
        sessions::list(&self.pool, bot_id, query, asking).await
    }
    async fn messages_after(
        &self,
        session_id: i64,
        after: i64,
        outgoing_only: bool,
        limit: u32,
    ) -> Result<Vec<app::model::Message>> {
        sessions::messages_after(&self.pool, session_id, after, outgoing_only, limit).await
    }
    async fn session_counts(
        &self,
        bot_id: &str,
        closed_since: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<app::model::SessionCounts> {
        sessions::counts(&self.pool, bot_id, closed_since).await
    }
    async fn last_assigned(&self, bot_id: &str) -> Result<Vec<(i64, i64)>> {
        Ok(sqlx::query_as(
            "select assignee_id, max(assigned_at) from handoffs \
             where bot_id = $1 and assignee_id is not null group by assignee_id",
        )
        .bind(bot_id)
        .fetch_all(&self.pool)
        .await?)
    }
    async fn queue(&self, bot_id: &str) -> Result<Vec<Queued>> {
        let rows: Vec<(i64, i64, String)> = sqlx::query_as(
            "select session_id, lapses, excluded from handoffs \
             where bot_id = $1 and state = 'queued' order by queued_at, id",
        )
        .bind(bot_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(session_id, lapses, excluded)| {
                let excluded = serde_json::from_str(&excluded)
                    .map_err(|e| StoreError::Corrupt(format!("handoff excluded: {e}")))?;
                Ok(Queued {
                    session_id,
                    lapses: lapses as u32,
                    excluded,
                })
            })
            .collect()
    }
    async fn owned_by(&self, bot_id: &str, person: i64) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "select session_id from handoffs \
             where bot_id = $1 and state = 'assigned' and assignee_id = $2 order by id",
        )
        .bind(bot_id)
        .bind(person)
        .fetch_all(&self.pool)
        .await?)
    }
    async fn open_handoffs(&self) -> Result<Vec<(String, i64)>> {
        Ok(sqlx::query_as(
            "select bot_id, session_id from handoffs where state <> 'closed' order by id",
        )
        .fetch_all(&self.pool)
        .await?)
    }
    async fn due_timers(&self, now: i64, limit: u32) -> Result<Vec<DueTimer>> {
        let rows: Vec<(i64, String, i64)> = sqlx::query_as(
            "select id, bot_id, session_id from timers \
             where state = 'pending' and due_at <= $1 order by due_at, id limit $2",
        )
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, bot_id, session_id)| DueTimer {
                id,
                bot_id,
                session_id,
            })
            .collect())
    }
    async fn presence(&self) -> Result<Vec<crate::store::presence::PresenceFacts>> {
        use crate::store::presence::{gather, CONSOLES_COLUMNS, SETTINGS_COLUMNS};
        let settings = sqlx::query_as(&format!("select {SETTINGS_COLUMNS} from agent_settings"))
            .fetch_all(&self.pool)
            .await?;
        let consoles = sqlx::query_as(&format!("select {CONSOLES_COLUMNS} from presence"))
            .fetch_all(&self.pool)
            .await?;
        gather(settings, consoles)
    }
    async fn agent_capacity(&self, user_id: i64) -> Result<Option<i64>> {
        let capacity: Option<Option<i64>> =
            sqlx::query_scalar("select capacity from agent_settings where user_id = $1")
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(capacity.flatten())
    }
    async fn handoff_loads(&self, bot_id: &str) -> Result<Vec<(i64, i64)>> {
        Ok(sqlx::query_as(
            "select assignee_id, count(*) from handoffs \
             where bot_id = $1 and state = 'assigned' group by assignee_id",
        )
        .bind(bot_id)
        .fetch_all(&self.pool)
        .await?)
    }
    async fn messages(
        &self,
        session_id: i64,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<app::model::Message>> {
        sessions::messages(&self.pool, session_id, before, limit).await
    }
    async fn notifications(
        &self,
        reader: &crate::store::Reader,
        unread_only: bool,
        before: Option<i64>,
        limit: u32,
    ) -> Result<crate::store::NotificationPage> {
        notifications::list(&self.pool, reader, unread_only, before, limit).await
    }
}

impl PgStore {
    /// One run of a change: its transaction, its events numbered last, the commit, and the
    /// events published in commit order before the caller is answered.
    async fn try_write(&self, change: &dyn DynChange) -> Result<Output> {
        let mut db = self.pool.begin().await?;
        let mut tx = tx::PgTx::new(&mut db);
        let value = change.apply_dyn(&mut tx).await?;
        let pending = tx.into_events();
        let numbered = log::number(&mut db, pending).await?;
        db.commit()
            .await
            .map_err(|e| StoreError::Commit(e.to_string()))?;
        self.log.committed(numbered).await;
        Ok(value)
    }
}

#[async_trait::async_trait]
impl crate::store::history::HistoryStore for PgStore {
    async fn search(
        &self,
        scope: &crate::store::BotScope,
        search: &crate::store::history::Search,
    ) -> Result<app::history::HistoryPage> {
        history::search(&self.pool, scope, search).await
    }

    async fn transcript_messages(
        &self,
        session_id: i64,
        limit: u32,
    ) -> Result<Vec<app::model::Message>> {
        history::transcript_messages(&self.pool, session_id, limit).await
    }

    fn export(
        &self,
        scope: &crate::store::BotScope,
        search: &crate::store::history::Search,
    ) -> crate::store::history::ExportStream {
        history::export(&self.pool, scope, search)
    }

    async fn activity(
        &self,
        bot_id: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<crate::store::history::ActivityFacts> {
        analytics::activity(&self.pool, bot_id, from_ms, to_ms).await
    }

    async fn retention_days(&self, bot_id: &str) -> Result<Option<u32>> {
        history::retention_days(&self.pool, bot_id).await
    }

    async fn sessions_idle_since(
        &self,
        bot_id: &str,
        cutoff_ms: i64,
        limit: u32,
    ) -> Result<Vec<i64>> {
        history::sessions_idle_since(&self.pool, bot_id, cutoff_ms, limit).await
    }
}
