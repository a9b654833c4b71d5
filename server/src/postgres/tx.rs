//! The write primitives on PostgreSQL, inside one change's transaction. Nothing here decides;
//! it stores what the engine's changes say. Two rules keep several writers in order: a
//! message's conversation is locked before the message takes its id (so ids grow in commit
//! order within a conversation, which resuming by message id relies on), and events are only
//! collected here, to be numbered as the transaction's last statement (see `log::number`).

use app::model::{
    ActorKind, EventKind, Message, Notification, OwnerCount, Profile, SessionCounts,
    SessionOverview,
};
use std::collections::{HashMap, HashSet};

use sqlx::{PgConnection, Postgres, QueryBuilder};

use super::log::Pending;
use super::notifications::{readable, COLUMNS as NOTIFICATION_COLUMNS};
use super::sessions;
use crate::sql_rows::{
    time, MessageRow, NotificationRow, SessionRow, MESSAGE_COLUMNS, SESSION_SELECT,
};
use crate::store::accounts::AuditEntry;
use crate::store::presence::{gather_one, PresenceFacts, CONSOLES_COLUMNS, SETTINGS_COLUMNS};
use crate::store::write::{
    DeliveryResult, HandoffTimes, HandoffUpdate, NewDelivery, NewHandoff, NewMessage, NewTimer,
    PauseRecord, PauseState, SessionPatch, Timer, TimerState, Unread, WriteTx,
};
use crate::store::{Bot, NewNotification, Reader, Result, SessionKey, StoreError};

/// One change's transaction; collects the events it appends, to be numbered at its end.
pub struct PgTx<'a> {
    db: &'a mut PgConnection,
    events: Vec<Pending>,
    /// Conversations this transaction holds the row lock of.
    locked: HashSet<i64>,
    /// The conversation of each handoff looked up so far (a handoff never changes it).
    handoff_sessions: HashMap<i64, i64>,
}

impl<'a> PgTx<'a> {
    pub fn new(db: &'a mut PgConnection) -> Self {
        PgTx {
            db,
            events: Vec::new(),
            locked: HashSet::new(),
            handoff_sessions: HashMap::new(),
        }
    }

    pub fn into_events(self) -> Vec<Pending> {
        self.events
    }

    /// Locks the conversation's row for the rest of the transaction; `NotFound` when there is
    /// none. A change reads its conversation before it decides, and this lock makes a second
    /// change of the same conversation wait until the first commits and then read what it
    /// wrote, as if one writer ran them in turn (what the SQLite store does).
    async fn lock_session(&mut self, id: i64) -> Result<()> {
        if self.locked.contains(&id) {
            return Ok(());
        }
        let found: Option<i64> =
            sqlx::query_scalar("select id from sessions where id = $1 for update")
                .bind(id)
                .fetch_optional(&mut *self.db)
                .await?;
        found.ok_or(StoreError::NotFound("session"))?;
        self.locked.insert(id);
        Ok(())
    }

    /// Locks the conversation of a handoff (see `lock_session`).
    async fn lock_handoff_session(&mut self, handoff_id: i64) -> Result<()> {
        let session = match self.handoff_sessions.get(&handoff_id) {
            Some(id) => Some(*id),
            None => {
                sqlx::query_scalar("select session_id from handoffs where id = $1")
                    .bind(handoff_id)
                    .fetch_optional(&mut *self.db)
                    .await?
            }
        };
        match session {
            Some(id) => {
                self.handoff_sessions.insert(handoff_id, id);
                self.lock_session(id).await
            }
            None => Ok(()),
        }
    }
}

/// The constraint a failed statement broke, when it broke one.
fn broken_constraint(e: &sqlx::Error) -> Option<(String, Option<&str>)> {
    let db = e.as_database_error()?;
    Some((db.code()?.into_owned(), db.constraint()))
}

#[async_trait::async_trait]
impl WriteTx for PgTx<'_> {
    async fn session_id(&mut self, key: &SessionKey) -> Result<Option<i64>> {
        let thread = key.thread_id.as_deref().unwrap_or("");
        let id: Option<i64> = sqlx::query_scalar(
            "select id from sessions \
             where bot_id = $1 and channel = $2 and user_id = $3 and thread_id = $4 \
             for update",
        )
        .bind(&key.bot_id)
        .bind(&key.channel)
        .bind(&key.user_id)
        .bind(thread)
        .fetch_optional(&mut *self.db)
        .await?;
        self.locked.extend(id);
        Ok(id)
    }

    /// Two instances may both find no conversation for a new user and insert it: the second
    /// fails on the unique key, and the store runs its change again, which then finds it.
    async fn insert_session(
        &mut self,
        key: &SessionKey,
        profile: &Profile,
        at: i64,
    ) -> Result<i64> {
        let thread = key.thread_id.as_deref().unwrap_or("");
        Ok(sqlx::query_scalar(
            "insert into sessions (bot_id, channel, user_id, thread_id, full_name, \
                                   avatar_url, created_at, last_event_on) \
             values ($1, $2, $3, $4, $5, $6, $7, $7) returning id",
        )
        .bind(&key.bot_id)
        .bind(&key.channel)
        .bind(&key.user_id)
        .bind(thread)
        .bind(&profile.full_name)
        .bind(&profile.avatar_url)
        .bind(at)
        .fetch_one(&mut *self.db)
        .await?)
    }

    async fn update_session(&mut self, id: i64, patch: &SessionPatch) -> Result<()> {
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new("update sessions set ");
        let mut sets = q.separated(", ");
        let mut columns = 0;
        macro_rules! set {
            ($column:literal, $value:expr) => {{
                sets.push(concat!($column, " = "));
                sets.push_bind_unseparated($value);
                columns += 1;
            }};
        }
        if let Some(v) = &patch.full_name {
            set!("full_name", v.clone());
        }
        if let Some(v) = &patch.avatar_url {
            set!("avatar_url", v.clone());
        }
        if let Some(v) = patch.last_event_on {
            set!("last_event_on", v);
        }
        if let Some(v) = patch.last_heard_on {
            set!("last_heard_on", v);
        }
        if let Some(v) = patch.last_agent_reply_on {
            set!("last_agent_reply_on", v);
        }
        if let Some(v) = patch.last_message_id {
            set!("last_message_id", v);
        }
        if let Some(v) = patch.waiting {
            set!("waiting", v);
        }
        match &patch.pause {
            None => {}
            Some(PauseState::Paused { by, reason, at }) => {
                set!("paused", true);
                set!("paused_by", by.name.clone());
                set!("paused_by_kind", by.kind.as_str());
                set!("paused_by_id", by.id);
                set!("paused_reason", reason.clone());
                set!("paused_at", *at);
            }
            Some(PauseState::Running) => {
                sets.push(
                    "paused = false, paused_by = null, paused_by_kind = null, \
                     paused_by_id = null, paused_reason = null, paused_at = null",
                );
                columns += 1;
            }
        }
        match patch.unread {
            Unread::Keep => {}
            Unread::Add => {
                sets.push("unread_count = unread_count + 1");
                columns += 1;
            }
            Unread::Clear => {
                sets.push("unread_count = 0");
                columns += 1;
            }
        }
        if columns == 0 {
            return Ok(());
        }
        q.push(" where id = ").push_bind(id);
        let done = q.build().execute(&mut *self.db).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("session"));
        }
        Ok(())
    }

    async fn session(&mut self, id: i64) -> Result<Option<SessionOverview>> {
        match self.lock_session(id).await {
            Err(StoreError::NotFound(_)) => return Ok(None),
            other => other?,
        }
        sqlx::query_as::<_, SessionRow>(&format!("{SESSION_SELECT} where s.id = $1"))
            .bind(id)
            .fetch_optional(&mut *self.db)
            .await?
            .map(SessionRow::into_overview)
            .transpose()
    }

    async fn delete_session(&mut self, id: i64) -> Result<Option<SessionKey>> {
        let key: Option<(String, String, String, String)> = sqlx::query_as(
            "select bot_id, channel, user_id, thread_id from sessions where id = $1 for update",
        )
        .bind(id)
        .fetch_optional(&mut *self.db)
        .await?;
        let Some((bot_id, channel, user_id, thread)) = key else {
            return Ok(None);
        };
        for statement in [
            "delete from events where session_id = $1",
            "delete from notifications where session_id = $1",
            // Messages, the pause history, handoffs, timers and deliveries go with the
            // session (`on delete cascade`).
            "delete from sessions where id = $1",
        ] {
            sqlx::query(statement)
                .bind(id)
                .execute(&mut *self.db)
                .await?;
        }
        Ok(Some(SessionKey {
            bot_id,
            channel,
            user_id,
            thread_id: Some(thread).filter(|t| !t.is_empty()),
        }))
    }

    async fn session_counts(&mut self, bot_id: &str) -> Result<SessionCounts> {
        let (all, paused, waiting): (i64, i64, i64) = sqlx::query_as(sessions::KEPT_COUNTS)
            .bind(bot_id)
            .fetch_optional(&mut *self.db)
            .await?
            .unwrap_or_default();
        let queued: i64 = sqlx::query_scalar(sessions::QUEUED_COUNT)
            .bind(bot_id)
            .fetch_one(&mut *self.db)
            .await?;
        let owners = sqlx::query_as::<_, (i64, i64)>(sessions::OWNER_COUNTS)
            .bind(bot_id)
            .fetch_all(&mut *self.db)
            .await?
            .into_iter()
            .map(|(user_id, open)| OwnerCount { user_id, open })
            .collect();
        Ok(SessionCounts {
            all,
            paused,
            waiting,
            queued,
            owners,
            closed: None,
        })
    }

    async fn insert_message(&mut self, new: &NewMessage<'_>) -> Result<Message> {
        self.lock_session(new.session_id).await?;
        let payload = serde_json::to_value(new.content)
            .map_err(|e| StoreError::Corrupt(format!("message encoding: {e}")))?;
        let text = new.content.preview();
        let id: i64 = sqlx::query_scalar(
            "insert into messages (session_id, kind, source, direction, text, payload, \
                                   author, author_kind, author_id, created_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning id",
        )
        .bind(new.session_id)
        .bind(new.content.kind())
        .bind(new.source.as_str())
        .bind(new.source.direction().as_str())
        .bind(&text)
        .bind(payload.to_string())
        .bind(new.author)
        .bind(new.actor_kind.as_str())
        .bind(new.actor_id)
        .bind(new.at)
        .fetch_one(&mut *self.db)
        .await?;
        Ok(Message {
            id,
            session_id: new.session_id,
            kind: new.content.kind().to_string(),
            source: new.source,
            direction: new.source.direction(),
            text,
            payload,
            author: new.author.map(str::to_string),
            author_kind: Some(new.actor_kind),
            author_id: new.actor_id,
            ts: time(new.at),
        })
    }

    async fn insert_pause(&mut self, record: &PauseRecord<'_>) -> Result<()> {
        let done = sqlx::query(
            "insert into pause_history (session_id, paused, actor, reason, created_at, \
                                        actor_kind, actor_id) \
             select id, $2, $3, $4, $5, $6, $7 from sessions where id = $1",
        )
        .bind(record.session_id)
        .bind(record.paused)
        .bind(&record.actor.name)
        .bind(record.reason)
        .bind(record.at)
        .bind(record.actor.kind.as_str())
        .bind(record.actor.id)
        .execute(&mut *self.db)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("session"));
        }
        Ok(())
    }

    async fn messages_after(
        &mut self,
        session_id: i64,
        after: i64,
        limit: u32,
    ) -> Result<Vec<Message>> {
        let rows = sqlx::query_as::<_, MessageRow>(&format!(
            "select {MESSAGE_COLUMNS} from messages \
             where session_id = $1 and id > $2 order by id limit $3"
        ))
        .bind(session_id)
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&mut *self.db)
        .await?;
        rows.into_iter().map(MessageRow::into_message).collect()
    }

    async fn set_agent_status(&mut self, user_id: i64, status: &str) -> Result<()> {
        sqlx::query(
            "insert into agent_settings (user_id, status) values ($1, $2) \
             on conflict (user_id) do update set status = excluded.status",
        )
        .bind(user_id)
        .bind(status)
        .execute(&mut *self.db)
        .await?;
        Ok(())
    }

    async fn set_agent_capacity(&mut self, user_id: i64, capacity: Option<i64>) -> Result<()> {
        sqlx::query(
            "insert into agent_settings (user_id, capacity) values ($1, $2) \
             on conflict (user_id) do update set capacity = excluded.capacity",
        )
        .bind(user_id)
        .bind(capacity)
        .execute(&mut *self.db)
        .await?;
        Ok(())
    }

    async fn count_consoles(
        &mut self,
        instance: &str,
        user_id: i64,
        delta: i64,
        at: i64,
    ) -> Result<()> {
        sqlx::query(
            "insert into presence (instance_id, user_id, consoles, seen_at) \
             values ($1, $2, greatest($3, 0), $4) \
             on conflict (instance_id, user_id) do update \
             set consoles = greatest(presence.consoles + $3, 0), seen_at = excluded.seen_at",
        )
        .bind(instance)
        .bind(user_id)
        .bind(delta)
        .bind(at)
        .execute(&mut *self.db)
        .await?;
        Ok(())
    }

    async fn see_consoles(&mut self, instance: &str, at: i64, forget_before: i64) -> Result<()> {
        sqlx::query("update presence set seen_at = $2 where instance_id = $1 and consoles > 0")
            .bind(instance)
            .bind(at)
            .execute(&mut *self.db)
            .await?;
        sqlx::query("delete from presence where seen_at < $1")
            .bind(forget_before)
            .execute(&mut *self.db)
            .await?;
        Ok(())
    }

    async fn presence_of(&mut self, user_id: i64) -> Result<PresenceFacts> {
        // The settings row is the person's lock: instances deciding about them take turns.
        sqlx::query("insert into agent_settings (user_id) values ($1) on conflict do nothing")
            .bind(user_id)
            .execute(&mut *self.db)
            .await?;
        let settings = sqlx::query_as(&format!(
            "select {SETTINGS_COLUMNS} from agent_settings where user_id = $1 for update"
        ))
        .bind(user_id)
        .fetch_optional(&mut *self.db)
        .await?;
        let consoles = sqlx::query_as(&format!(
            "select {CONSOLES_COLUMNS} from presence where user_id = $1"
        ))
        .bind(user_id)
        .fetch_all(&mut *self.db)
        .await?;
        gather_one(user_id, settings, consoles)
    }

    async fn set_shown_status(&mut self, user_id: i64, status: &str, at: i64) -> Result<()> {
        sqlx::query(
            "insert into agent_settings (user_id, shown_status, shown_at) values ($1, $2, $3) \
             on conflict (user_id) do update \
             set shown_status = excluded.shown_status, shown_at = excluded.shown_at",
        )
        .bind(user_id)
        .bind(status)
        .bind(at)
        .execute(&mut *self.db)
        .await?;
        Ok(())
    }

    async fn agent_load(&mut self, bot_id: &str, user_id: i64) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "select count(*) from handoffs \
             where bot_id = $1 and assignee_id = $2 and state = 'assigned'",
        )
        .bind(bot_id)
        .bind(user_id)
        .fetch_one(&mut *self.db)
        .await?)
    }

    async fn queued_behind(
        &mut self,
        bot_id: &str,
        queued_at: i64,
        handoff_id: i64,
    ) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "select session_id from handoffs \
             where bot_id = $1 and state = 'queued' and (queued_at, id) > ($2, $3) \
             order by queued_at, id",
        )
        .bind(bot_id)
        .bind(queued_at)
        .bind(handoff_id)
        .fetch_all(&mut *self.db)
        .await?)
    }

    async fn open_handoff(&mut self, new: &NewHandoff<'_>) -> Result<i64> {
        let inserted = sqlx::query_scalar(
            "insert into handoffs (session_id, bot_id, state, opened_by_kind, opened_by_id, \
                                   queued_at) \
             values ($1, $2, 'queued', $3, $4, $5) returning id",
        )
        .bind(new.session_id)
        .bind(new.bot_id)
        .bind(new.opened_by.kind.as_str())
        .bind(new.opened_by.id)
        .bind(new.at)
        .fetch_one(&mut *self.db)
        .await;
        match inserted {
            Ok(id) => Ok(id),
            Err(e) => Err(match broken_constraint(&e) {
                Some((code, _)) if code == "23505" => {
                    StoreError::Conflict("an open handoff of this conversation")
                }
                Some((code, _)) if code == "23503" => StoreError::NotFound("session"),
                _ => e.into(),
            }),
        }
    }

    async fn update_handoff(
        &mut self,
        id: i64,
        version: i64,
        update: &HandoffUpdate<'_>,
    ) -> Result<bool> {
        let done = match update {
            HandoffUpdate::Assign {
                assignee,
                offered,
                at,
            } => {
                sqlx::query(
                    "update handoffs set state = 'assigned', assignee_id = $3, \
                         assignee_name = $4, assigned_at = $5, active_at = $5, offered = $6, \
                         version = version + 1 \
                     where id = $1 and version = $2 and state <> 'closed'",
                )
                .bind(id)
                .bind(version)
                .bind(assignee.id)
                .bind(&assignee.name)
                .bind(at)
                .bind(offered)
                .execute(&mut *self.db)
                .await?
            }
            HandoffUpdate::Requeue { lapsed, at } => {
                sqlx::query(
                    "update handoffs set state = 'queued', assignee_id = null, \
                         assignee_name = null, assigned_at = null, active_at = $3, \
                         offered = false, \
                         lapses = lapses + (case when $4::bigint is null then 0 else 1 end), \
                         excluded = case when $4::bigint is null then excluded \
                                         else (excluded::jsonb || to_jsonb($4::bigint))::text end, \
                         version = version + 1 \
                     where id = $1 and version = $2 and state <> 'closed'",
                )
                .bind(id)
                .bind(version)
                .bind(at)
                .bind(lapsed)
                .execute(&mut *self.db)
                .await?
            }
            HandoffUpdate::Keep { at } => {
                sqlx::query(
                    "update handoffs set active_at = $3, version = version + 1 \
                     where id = $1 and version = $2 and state <> 'closed'",
                )
                .bind(id)
                .bind(version)
                .bind(at)
                .execute(&mut *self.db)
                .await?
            }
            HandoffUpdate::Close { reason, at } => {
                sqlx::query(
                    "update handoffs set state = 'closed', closed_at = $3, close_reason = $4, \
                         version = version + 1 \
                     where id = $1 and version = $2 and state <> 'closed'",
                )
                .bind(id)
                .bind(version)
                .bind(at)
                .bind(reason)
                .execute(&mut *self.db)
                .await?
            }
        };
        Ok(done.rows_affected() == 1)
    }

    async fn handoff_times(&mut self, id: i64) -> Result<Option<HandoffTimes>> {
        self.lock_handoff_session(id).await?;
        let row: Option<(i64, bool, i64, String, Option<i64>, Option<i64>)> = sqlx::query_as(
            "select coalesce(active_at, queued_at), offered, lapses, excluded, \
                    told_position, told_at \
             from handoffs where id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *self.db)
        .await?;
        row.map(
            |(active_at, offered, lapses, excluded, position, told_at)| {
                let excluded = serde_json::from_str(&excluded)
                    .map_err(|e| StoreError::Corrupt(format!("handoff {id} excluded: {e}")))?;
                Ok(HandoffTimes {
                    active_at,
                    offered,
                    lapses: lapses as u32,
                    excluded,
                    told: position.zip(told_at),
                })
            },
        )
        .transpose()
    }

    async fn note_told_position(&mut self, id: i64, position: i64, at: i64) -> Result<()> {
        sqlx::query("update handoffs set told_position = $2, told_at = $3 where id = $1")
            .bind(id)
            .bind(position)
            .bind(at)
            .execute(&mut *self.db)
            .await?;
        Ok(())
    }

    async fn timers_of(&mut self, handoff_id: i64) -> Result<Vec<Timer>> {
        self.lock_handoff_session(handoff_id).await?;
        let rows: Vec<(i64, String, i64, i64, i64, String)> = sqlx::query_as(
            "select id, kind, guard_version, basis, due_at, state from timers \
             where handoff_id = $1 order by id",
        )
        .bind(handoff_id)
        .fetch_all(&mut *self.db)
        .await?;
        rows.into_iter()
            .map(|(id, kind, guard_version, basis, due_at, state)| {
                let state = TimerState::parse(&state)
                    .ok_or_else(|| StoreError::Corrupt(format!("timer {id} is {state:?}")))?;
                Ok(Timer {
                    id,
                    kind,
                    guard_version,
                    basis,
                    due_at,
                    state,
                })
            })
            .collect()
    }

    async fn insert_timer(&mut self, new: &NewTimer<'_>) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "insert into timers (kind, bot_id, session_id, handoff_id, guard_version, basis, \
                                 due_at) \
             values ($1, $2, $3, $4, $5, $6, $7) returning id",
        )
        .bind(new.kind)
        .bind(new.bot_id)
        .bind(new.session_id)
        .bind(new.handoff_id)
        .bind(new.guard_version)
        .bind(new.basis)
        .bind(new.due_at)
        .fetch_one(&mut *self.db)
        .await?)
    }

    async fn finish_timer(&mut self, id: i64, state: TimerState, at: i64) -> Result<()> {
        sqlx::query(
            "update timers set state = $2, done_at = $3 where id = $1 and state = 'pending'",
        )
        .bind(id)
        .bind(state.as_str())
        .bind(at)
        .execute(&mut *self.db)
        .await?;
        Ok(())
    }

    async fn insert_notification(
        &mut self,
        bot_id: &str,
        new: &NewNotification,
        at: i64,
    ) -> Result<Notification> {
        sqlx::query_as::<_, NotificationRow>(&format!(
            "insert into notifications \
                 (bot_id, session_id, message, level, url, created_at, recipient_id) \
             values ($1, $2, $3, $4, $5, $6, $7) returning {NOTIFICATION_COLUMNS}"
        ))
        .bind(bot_id)
        .bind(new.session_id)
        .bind(&new.message)
        .bind(new.level.as_str())
        .bind(&new.url)
        .bind(at)
        .bind(new.recipient_id)
        .fetch_one(&mut *self.db)
        .await?
        .into_notification()
    }

    async fn notification(&mut self, reader: &Reader, id: i64) -> Result<Option<Notification>> {
        sqlx::query_as::<_, NotificationRow>(&format!(
            "select {NOTIFICATION_COLUMNS} from notifications where id = $1 and {}",
            readable(2)
        ))
        .bind(id)
        .bind(super::scope_array(&reader.bots))
        .bind(reader.person)
        .fetch_optional(&mut *self.db)
        .await?
        .map(NotificationRow::into_notification)
        .transpose()
    }

    async fn mark_notifications_read(
        &mut self,
        reader: &Reader,
        id: Option<i64>,
        at: i64,
    ) -> Result<Vec<(String, i64)>> {
        Ok(sqlx::query_as(&format!(
            "update notifications set read_at = $1 \
             where read_at is null and ($2::bigint is null or id = $2) and {} \
             returning bot_id, id",
            readable(3)
        ))
        .bind(at)
        .bind(id)
        .bind(super::scope_array(&reader.bots))
        .bind(reader.person)
        .fetch_all(&mut *self.db)
        .await?)
    }

    async fn delete_visitor(&mut self, bot_id: &str, visitor_id: &str) -> Result<()> {
        sqlx::query("delete from web_visitors where id = $1 and bot_id = $2")
            .bind(visitor_id)
            .bind(bot_id)
            .execute(&mut *self.db)
            .await?;
        Ok(())
    }

    async fn bot_paused(&mut self, bot_id: &str) -> Result<bool> {
        let paused: Option<bool> =
            sqlx::query_scalar("select paused from bots where id = $1 for share")
                .bind(bot_id)
                .fetch_optional(&mut *self.db)
                .await?;
        Ok(paused.unwrap_or(false))
    }

    async fn set_bot_paused(&mut self, bot_id: &str, paused: bool) -> Result<Option<Bot>> {
        let bot: Option<(String, String, bool)> =
            sqlx::query_as("update bots set paused = $2 where id = $1 returning id, name, paused")
                .bind(bot_id)
                .bind(paused)
                .fetch_optional(&mut *self.db)
                .await?;
        Ok(bot.map(|(id, name, paused)| Bot { id, name, paused }))
    }

    async fn set_retention_days(&mut self, bot_id: &str, days: Option<u32>) -> Result<()> {
        sqlx::query(
            "insert into bot_settings (bot_id, retention_days) values ($1, $2) \
             on conflict (bot_id) do update set retention_days = excluded.retention_days",
        )
        .bind(bot_id)
        .bind(days.map(i64::from))
        .execute(&mut *self.db)
        .await?;
        Ok(())
    }

    /// A key another instance is taking at the same moment waits for that transaction: taken
    /// once it commits, free again if it rolls back.
    async fn take_delivery_key(&mut self, key: &str, at: i64) -> Result<bool> {
        let done = sqlx::query(
            "insert into webhook_seen (key, created_at) values ($1, $2) \
             on conflict (key) do nothing",
        )
        .bind(key)
        .bind(at)
        .execute(&mut *self.db)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn enqueue_delivery(&mut self, new: &NewDelivery<'_>) -> Result<()> {
        let content = serde_json::to_string(new.content)
            .map_err(|e| StoreError::Corrupt(format!("delivery encoding: {e}")))?;
        sqlx::query(
            "insert into outbox (bot_id, channel, session_id, message_id, recipient, content, \
                                 next_attempt_at, created_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $7)",
        )
        .bind(new.bot_id)
        .bind(new.channel)
        .bind(new.session_id)
        .bind(new.message_id)
        .bind(new.recipient)
        .bind(content)
        .bind(new.at)
        .execute(&mut *self.db)
        .await?;
        Ok(())
    }

    async fn finish_delivery(&mut self, id: i64, result: &DeliveryResult) -> Result<()> {
        let (attempts, next, sent, failed, error) = match result {
            // The attempt that succeeded counts too.
            DeliveryResult::Sent { at } => (None, None, Some(*at), None, None),
            DeliveryResult::Retry {
                attempts,
                next,
                error,
            } => (
                Some(*attempts),
                Some(*next),
                None,
                None,
                Some(error.clone()),
            ),
            DeliveryResult::Failed {
                attempts,
                at,
                error,
            } => (Some(*attempts), None, None, Some(*at), Some(error.clone())),
        };
        sqlx::query(
            "update outbox set attempts = coalesce($2, attempts + 1), \
                               next_attempt_at = coalesce($3, next_attempt_at), \
                               sent_at = $4, failed_at = $5, last_error = $6 \
             where id = $1",
        )
        .bind(id)
        .bind(attempts.map(i64::from))
        .bind(next)
        .bind(sent)
        .bind(failed)
        .bind(error)
        .execute(&mut *self.db)
        .await?;
        Ok(())
    }

    async fn append_audit(&mut self, entry: &AuditEntry, at: i64) -> Result<()> {
        sqlx::query(
            "insert into audit_log (created_at, actor, action, detail, address, bot_id, \
                                    session_id, actor_kind, actor_id) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(at)
        .bind(&entry.actor)
        .bind(entry.action)
        .bind(&entry.detail)
        .bind(&entry.address)
        .bind(&entry.bot_id)
        .bind(entry.session_id)
        .bind(entry.actor_kind.map(ActorKind::as_str))
        .bind(entry.actor_id)
        .execute(&mut *self.db)
        .await?;
        Ok(())
    }

    async fn append_events(&mut self, bot_id: &str, kinds: Vec<EventKind>, at: i64) -> Result<()> {
        self.events
            .extend(kinds.into_iter().map(|kind| Pending::new(bot_id, kind, at)));
        Ok(())
    }
}
