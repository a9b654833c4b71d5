//! The SQLite store, one adapter of the storage port: connection setup, migrations, the reads
//! (sqlx pool) and the writes (one writer thread, [`writer`], running the engine's changes over
//! the primitives of [`tx`]).

mod accounts;
mod analytics;
mod history;
mod notifications;
mod rows;
mod sessions;
mod tx;
mod visitors;
mod writer;

#[cfg(test)]
pub(crate) use sessions::SEARCH_WINDOW;
use writer::{Writer, Written};

use std::str::FromStr;
use std::time::Duration;

use app::model::Event;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

use crate::sql_rows::{now_ms, DeliveryRow, DELIVERY_COLUMNS};
use crate::store::event_format;
use crate::store::write::{DynChange, Output};
use crate::store::{
    Bot, BotScope, CommitHook, Delivery, DueTimer, Durability, Queued, Result, StoreError,
};

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Backend(Box::new(e))
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Backend(Box::new(e))
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::Backend(Box::new(e))
    }
}

/// A scope for SQL: `None` for all bots, else a JSON array for `json_each`.
fn scope_json(scope: &BotScope) -> Option<String> {
    match scope {
        BotScope::All => None,
        BotScope::Only(bots) => Some(serde_json::to_string(bots).expect("strings serialize")),
    }
}

/// Readers share a pool; what clients see is written by one connection, in group commits.
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    writer: Writer,
}

impl SqliteStore {
    /// The read pool, for the store tests' own SQL.
    #[cfg(test)]
    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Opens (creating if missing) the database and runs the embedded migrations.
    pub async fn open(url: &str, durability: Durability) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(match durability {
                Durability::Full => SqliteSynchronous::Full,
                Durability::Normal => SqliteSynchronous::Normal,
            })
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5))
            // Checkpoints run in the background (`checkpoint`), never inside a commit.
            .pragma("wal_autocheckpoint", "0")
            .pragma("journal_size_limit", "67108864");
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        let writer = Writer::start(options.get_filename(), durability, tx::index_at_commit())?;
        Ok(SqliteStore { pool, writer })
    }
}

#[async_trait::async_trait]
impl crate::store::Store for SqliteStore {
    fn on_commit(&self, hook: CommitHook) {
        self.writer.on_commit(hook);
    }

    async fn write(&self, change: Box<dyn DynChange>) -> Result<Output> {
        self.writer
            .write(move |db| {
                let mut tx = tx::SqliteTx::new(db);
                // The primitives never wait: the future is ready as soon as it is polled.
                let value = futures::executor::block_on(change.apply_dyn(&mut tx))?;
                Ok(Written {
                    value,
                    events: tx.events,
                })
            })
            .await
    }

    /// One process on the file: it leads every job.
    async fn lead(&self, _job: crate::store::Job) -> Result<bool> {
        Ok(true)
    }

    /// Copies the WAL into the database file as far as readers allow, without blocking
    /// writers (so commits never do it).
    async fn maintain(&self) -> Result<()> {
        sqlx::query("pragma wal_checkpoint(passive)")
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Flushes the WAL into the main file and closes every connection.
    async fn close(&self) {
        self.writer.stop().await;
        if let Err(e) = sqlx::query("pragma wal_checkpoint(truncate)")
            .execute(&self.pool)
            .await
        {
            tracing::warn!(error = %e, "wal checkpoint at shutdown failed");
        }
        self.pool.close().await;
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("select 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn upsert_bot(&self, id: &str, name: &str) -> Result<Bot> {
        let bot = sqlx::query_as::<_, (String, String, bool)>(
            "insert into bots (id, name, created_at) values (?1, ?2, ?3) \
             on conflict(id) do update set name = excluded.name \
             returning id, name, paused",
        )
        .bind(id)
        .bind(name)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await?;
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
        let rows = sqlx::query_as::<_, (i64, i64, String)>(
            "select seq, version, data from events where bot_id = ?1 and seq > ?2 \
             order by seq limit ?3",
        )
        .bind(bot_id)
        .bind(since)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(seq, version, data)| {
                let kind = event_format::decode(seq, version, &data)?;
                Ok(Event { seq, kind })
            })
            .collect()
    }

    /// One numbering for every bot: the bounds are the whole log's.
    async fn event_bounds(&self, _bot_id: &str) -> Result<(i64, i64)> {
        let bounds = sqlx::query_as::<_, (i64, i64)>(
            "select coalesce((select min(seq) from events), 0), \
                    coalesce((select seq from sqlite_sequence where name = 'events'), 0)",
        )
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
             where o.sent_at is null and o.failed_at is null and o.next_attempt_at <= ?1 \
               and not exists (select 1 from outbox p \
                               where p.session_id = o.session_id and p.id < o.id \
                                 and p.sent_at is null and p.failed_at is null) \
             order by o.id limit ?2"
        );
        let rows: Vec<DeliveryRow> = sqlx::query_as(&sql)
            .bind(now)
            .bind(limit)
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
            "insert into settings (key, value) values (?1, ?2) \
             on conflict(key) do update set value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn swap_setting(&self, key: &str, expected: &str, value: &str) -> Result<String> {
        sqlx::query("update settings set value = ?3 where key = ?1 and value = ?2")
            .bind(key)
            .bind(expected)
            .bind(value)
            .execute(&self.pool)
            .await?;
        Ok(
            sqlx::query_scalar("select value from settings where key = ?1")
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
            "insert into settings (key, value) values (?1, ?2) on conflict(key) do nothing",
        )
        .bind(key)
        .bind(make())
        .execute(&self.pool)
        .await?;
        Ok(
            sqlx::query_scalar("select value from settings where key = ?1")
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
             where bot_id = ?1 and assignee_id is not null group by assignee_id",
        )
        .bind(bot_id)
        .fetch_all(&self.pool)
        .await?)
    }
    async fn queue(&self, bot_id: &str) -> Result<Vec<Queued>> {
        let rows: Vec<(i64, u32, String)> = sqlx::query_as(
            "select session_id, lapses, excluded from handoffs \
             where bot_id = ?1 and state = 'queued' order by queued_at, id",
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
                    lapses,
                    excluded,
                })
            })
            .collect()
    }
    async fn owned_by(&self, bot_id: &str, person: i64) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "select session_id from handoffs \
             where bot_id = ?1 and state = 'assigned' and assignee_id = ?2 order by id",
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
             where state = 'pending' and due_at <= ?1 order by due_at, id limit ?2",
        )
        .bind(now)
        .bind(limit)
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
            sqlx::query_scalar("select capacity from agent_settings where user_id = ?1")
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(capacity.flatten())
    }
    async fn handoff_loads(&self, bot_id: &str) -> Result<Vec<(i64, i64)>> {
        Ok(sqlx::query_as(
            "select assignee_id, count(*) from handoffs \
             where bot_id = ?1 and state = 'assigned' group by assignee_id",
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

#[async_trait::async_trait]
impl crate::store::history::HistoryStore for SqliteStore {
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
