//! The SQLite store (sqlx): connection setup, migrations, bots, tokens and the event log.

mod accounts;
mod analytics;
mod history;
mod notifications;
mod rows;
mod sessions;
#[cfg(test)]
mod tests;
mod visitors;
mod writer;
mod writes;

pub use writer::CommitHook;
use writer::{Writer, Written};

use std::str::FromStr;
use std::time::Duration;

use app::model::{Event, EventKind};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

use super::accounts::AuditEntry;
use super::{Bot, Result, StoreError};
use rows::now_ms;

/// How hard a commit waits for the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Durability {
    /// Survives power loss (SQLite `synchronous=FULL`).
    Full,
    /// Survives a crash of the process, may lose the last commits on power loss (`NORMAL`).
    Normal,
}

/// Readers share a pool; what clients see is written by one connection, in group commits.
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    writer: Writer,
}

impl SqliteStore {
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
        sqlx::migrate!("./migrations").run(&pool).await?;
        let writer = Writer::start(
            options.get_filename(),
            durability,
            writes::index_at_commit(),
        )?;
        Ok(SqliteStore { pool, writer })
    }

    /// Copies the WAL into the database file as far as readers allow, without blocking writers
    /// (run by a background task, so commits never do it).
    pub async fn checkpoint(&self) -> Result<()> {
        sqlx::query("pragma wal_checkpoint(passive)")
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Flushes the WAL into the main file and closes every connection.
    pub async fn close(&self) {
        self.writer.stop().await;
        if let Err(e) = sqlx::query("pragma wal_checkpoint(truncate)")
            .execute(&self.pool)
            .await
        {
            tracing::warn!(error = %e, "wal checkpoint at shutdown failed");
        }
        self.pool.close().await;
    }
}

#[async_trait::async_trait]
impl super::Store for SqliteStore {
    fn on_commit(&self, hook: CommitHook) {
        self.writer.on_commit(hook);
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

    async fn set_bot_paused(&self, id: &str, paused: bool, actor: &str) -> Result<Bot> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query_as::<_, (String, String, bool)>(
            "update bots set paused = ?2 where id = ?1 returning id, name, paused",
        )
        .bind(id)
        .bind(paused)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound("bot"))?;
        let entry = AuditEntry {
            actor: Some(actor.to_string()),
            action: if paused { "bot.paused" } else { "bot.resumed" },
            detail: id.to_string(),
            address: None,
            bot_id: Some(id.to_string()),
            session_id: None,
        };
        accounts::append_audit(&mut tx, &entry).await?;
        tx.commit().await?;
        Ok(Bot {
            id: row.0,
            name: row.1,
            paused: row.2,
        })
    }

    async fn events_since(&self, bot_id: &str, since: i64, limit: u32) -> Result<Vec<Event>> {
        let rows = sqlx::query_as::<_, (i64, String)>(
            "select seq, data from events where bot_id = ?1 and seq > ?2 order by seq limit ?3",
        )
        .bind(bot_id)
        .bind(since)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(seq, data)| {
                let kind = serde_json::from_str::<EventKind>(&data)
                    .map_err(|e| StoreError::Corrupt(format!("event {seq}: {e}")))?;
                Ok(Event { seq, kind })
            })
            .collect()
    }

    async fn event_bounds(&self) -> Result<(i64, i64)> {
        let bounds = sqlx::query_as::<_, (i64, i64)>(
            "select coalesce((select min(seq) from events), 0), \
                    coalesce((select seq from sqlite_sequence where name = 'events'), 0)",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(bounds)
    }

    async fn create_visitor(&self, visitor: &super::Visitor) -> Result<()> {
        visitors::create(&self.pool, visitor).await
    }

    async fn visitor(&self, id: &str) -> Result<Option<super::Visitor>> {
        visitors::get(&self.pool, id).await
    }

    async fn set_visitor_name(&self, id: &str, name: Option<&str>) -> Result<()> {
        visitors::set_name(&self.pool, id, name).await
    }

    async fn first_sighting(&self, key: &str) -> Result<bool> {
        let inserted = sqlx::query("insert into webhook_seen (key, created_at) values (?1, ?2) on conflict(key) do nothing")
            .bind(key)
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        Ok(inserted.rows_affected() == 1)
    }

    async fn update_profile(
        &self,
        session_id: i64,
        profile: &app::model::Profile,
    ) -> Result<Option<(app::model::SessionOverview, Event)>> {
        let profile = profile.clone();
        self.writer
            .write(move |db| {
                let changed = writes::update_profile(db, session_id, &profile)?;
                let (bot, events) = match &changed {
                    Some((session, event)) => (session.bot_id.clone(), vec![event.clone()]),
                    None => (String::new(), Vec::new()),
                };
                Ok(Written::new(changed, bot, events))
            })
            .await
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

    async fn record_user_message(
        &self,
        key: &super::SessionKey,
        profile: &app::model::Profile,
        content: &app::model::Content,
    ) -> Result<super::Recorded> {
        let (key, profile, content) = (key.clone(), profile.clone(), content.clone());
        self.writer
            .write(move |db| {
                let r = writes::record_user_message(db, &key, &profile, &content)?;
                let events = r.events.clone();
                Ok(Written::new(r, &key.bot_id, events))
            })
            .await
    }
    async fn record_turn(
        &self,
        key: &super::SessionKey,
        profile: &app::model::Profile,
        content: &app::model::Content,
        decide: super::Decide,
    ) -> Result<super::Turn> {
        let (key, profile, content) = (key.clone(), profile.clone(), content.clone());
        self.writer
            .write(move |db| {
                let (turn, events) = writes::record_turn(db, &key, &profile, &content, &decide)?;
                Ok(Written::new(turn, &key.bot_id, events))
            })
            .await
    }

    async fn record_outgoing_message(
        &self,
        session_id: i64,
        source: app::model::Source,
        author: Option<&str>,
        content: &app::model::Content,
    ) -> Result<super::Recorded> {
        let (author, content) = (author.map(str::to_string), content.clone());
        self.writer
            .write(move |db| {
                let r = writes::record_outgoing_message(
                    db,
                    session_id,
                    source,
                    author.as_deref(),
                    &content,
                )?;
                let (bot, events) = (r.session.bot_id.clone(), r.events.clone());
                Ok(Written::new(r, bot, events))
            })
            .await
    }
    async fn set_paused(
        &self,
        session_id: i64,
        change: &super::PauseChange,
    ) -> Result<super::PauseOutcome> {
        let change = change.clone();
        self.writer
            .write(move |db| {
                let r = writes::set_paused(db, session_id, &change)?;
                let (bot, events) = (r.session.bot_id.clone(), r.events.clone());
                Ok(Written::new(r, bot, events))
            })
            .await
    }
    async fn mark_session_read(&self, session_id: i64) -> Result<Option<Event>> {
        self.writer
            .write(move |db| {
                let read = writes::mark_read(db, session_id)?;
                let (bot, events) = match &read {
                    Some((session, event)) => (session.bot_id.clone(), vec![event.clone()]),
                    None => (String::new(), Vec::new()),
                };
                Ok(Written::new(read.map(|(_, e)| e), bot, events))
            })
            .await
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
        key: &super::SessionKey,
    ) -> Result<Option<app::model::SessionOverview>> {
        sessions::by_key(&self.pool, key).await
    }
    async fn sessions(
        &self,
        bot_id: &str,
        query: &app::model::SessionQuery,
    ) -> Result<app::model::SessionPage> {
        sessions::list(&self.pool, bot_id, query).await
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
    async fn session_counts(&self, bot_id: &str) -> Result<app::model::SessionCounts> {
        sessions::counts(&self.pool, bot_id).await
    }
    async fn messages(
        &self,
        session_id: i64,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<app::model::Message>> {
        sessions::messages(&self.pool, session_id, before, limit).await
    }
    async fn create_notification(
        &self,
        bot_id: &str,
        new: &super::NewNotification,
    ) -> Result<(app::model::Notification, Event)> {
        let (bot_id, new) = (bot_id.to_string(), new.clone());
        self.writer
            .write(move |db| {
                let (notification, event) = writes::create_notification(db, &bot_id, &new)?;
                let events = vec![event.clone()];
                Ok(Written::new((notification, event), &bot_id, events))
            })
            .await
    }
    async fn notifications(
        &self,
        scope: &super::BotScope,
        unread_only: bool,
        before: Option<i64>,
        limit: u32,
    ) -> Result<super::NotificationPage> {
        notifications::list(&self.pool, scope, unread_only, before, limit).await
    }
    async fn mark_all_notifications_read(&self, scope: &super::BotScope) -> Result<u64> {
        notifications::mark_all_read(&self.pool, scope).await
    }
    async fn mark_notification_read(
        &self,
        scope: &super::BotScope,
        id: i64,
    ) -> Result<Option<app::model::Notification>> {
        notifications::mark_read(&self.pool, scope, id).await
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

    async fn analytics(
        &self,
        bot_id: &str,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> Result<app::analytics::Analytics> {
        analytics::analytics(&self.pool, bot_id, from, to).await
    }

    async fn retention_days(&self, bot_id: &str) -> Result<Option<u32>> {
        history::retention_days(&self.pool, bot_id).await
    }

    async fn set_retention_days(&self, bot_id: &str, days: Option<u32>, actor: &str) -> Result<()> {
        history::set_retention_days(&self.pool, bot_id, days, actor).await
    }

    async fn sessions_idle_since(
        &self,
        bot_id: &str,
        cutoff_ms: i64,
        limit: u32,
    ) -> Result<Vec<i64>> {
        history::sessions_idle_since(&self.pool, bot_id, cutoff_ms, limit).await
    }

    async fn delete_session(&self, session_id: i64, actor: &str) -> Result<Vec<Event>> {
        let actor = actor.to_string();
        self.writer
            .write(move |db| {
                let (bot, events) = writes::delete_session(db, session_id, &actor)?;
                Ok(Written::new(events.clone(), bot, events))
            })
            .await
    }
}
