//! The write primitives on SQLite, as the writer thread runs them: plain synchronous calls on
//! its one connection, inside the shared transaction, every statement prepared once and cached.
//! Nothing here decides; it stores what the engine's changes say.

use app::model::{
    ActorKind, Event, EventKind, Message, Notification, OwnerCount, Profile, SessionCounts,
    SessionOverview,
};
use rusqlite::{params, Connection, OptionalExtension, ToSql};

use super::notifications::{readable, COLUMNS as NOTIFICATION_COLUMNS};
use super::sessions;
use super::writer::Bracket;
use crate::sql_rows::{
    time, MessageRow, NotificationRow, SessionRow, MESSAGE_COLUMNS, SESSION_SELECT,
};
use crate::store::accounts::AuditEntry;
use crate::store::event_format::{encode, EVENT_VERSION};
use crate::store::presence::{gather_one, PresenceFacts, CONSOLES_COLUMNS, SETTINGS_COLUMNS};
use crate::store::write::{
    DeliveryResult, HandoffTimes, HandoffUpdate, NewDelivery, NewHandoff, NewMessage, NewTimer,
    PauseRecord, PauseState, SessionPatch, Timer, TimerState, Unread, WriteTx,
};
use crate::store::{Bot, NewNotification, Reader, Result, SessionKey, StoreError};

/// Every shared transaction indexes the messages and sessions it added for search at its end,
/// in one statement each (migration `index_at_commit`): while the `index_deferral` row is there,
/// the triggers leave them to the closing statements.
pub fn index_at_commit() -> Bracket {
    Bracket {
        opening: vec![
            "insert into index_deferral (messages_after, sessions_after) values \
             ((select coalesce(max(id), 0) from messages), \
              (select coalesce(max(id), 0) from sessions))",
        ],
        closing: vec![
            "insert into messages_fts (rowid, text, source, author) \
             select id, text, source, author from messages \
             where id > (select messages_after from index_deferral)",
            "insert into session_names (rowid, full_name, user_id) \
             select id, full_name, user_id from sessions \
             where id > (select sessions_after from index_deferral)",
            "delete from index_deferral",
        ],
    }
}

/// One write on the writer's connection; collects the events it appends for the commit hook.
pub struct SqliteTx<'a> {
    db: &'a mut Connection,
    pub events: Vec<(String, Vec<Event>)>,
}

impl<'a> SqliteTx<'a> {
    pub fn new(db: &'a mut Connection) -> Self {
        SqliteTx {
            db,
            events: Vec::new(),
        }
    }
}

/// Adds `column = ?n` with its value.
fn bind<'v>(
    sets: &mut Vec<String>,
    values: &mut Vec<&'v dyn ToSql>,
    column: &str,
    value: &'v dyn ToSql,
) {
    values.push(value);
    sets.push(format!("{column} = ?{}", values.len()));
}

fn not_found_on_foreign_key(e: rusqlite::Error) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY =>
        {
            StoreError::NotFound("session")
        }
        _ => e.into(),
    }
}

#[async_trait::async_trait]
impl WriteTx for SqliteTx<'_> {
    async fn session_id(&mut self, key: &SessionKey) -> Result<Option<i64>> {
        let thread = key.thread_id.as_deref().unwrap_or("");
        Ok(self
            .db
            .prepare_cached(
                "select id from sessions \
                 where bot_id = ?1 and channel = ?2 and user_id = ?3 and thread_id = ?4",
            )?
            .query_row(params![key.bot_id, key.channel, key.user_id, thread], |r| {
                r.get(0)
            })
            .optional()?)
    }

    async fn insert_session(
        &mut self,
        key: &SessionKey,
        profile: &Profile,
        at: i64,
    ) -> Result<i64> {
        let thread = key.thread_id.as_deref().unwrap_or("");
        Ok(self
            .db
            .prepare_cached(
                "insert into sessions (bot_id, channel, user_id, thread_id, full_name, \
                                       avatar_url, created_at, last_event_on) \
                 values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) returning id",
            )?
            .query_row(
                params![
                    key.bot_id,
                    key.channel,
                    key.user_id,
                    thread,
                    profile.full_name,
                    profile.avatar_url,
                    at
                ],
                |r| r.get(0),
            )?)
    }

    async fn update_session(&mut self, id: i64, patch: &SessionPatch) -> Result<()> {
        // Only the columns the patch sets are named, so a statement fires only the triggers of
        // what it changes; each shape of patch is one cached statement.
        let by_kind = match &patch.pause {
            Some(PauseState::Paused { by, .. }) => Some(by.kind.as_str()),
            _ => None,
        };
        let mut sets: Vec<String> = Vec::new();
        let mut values: Vec<&dyn ToSql> = vec![&id];
        if let Some(v) = &patch.full_name {
            bind(&mut sets, &mut values, "full_name", v);
        }
        if let Some(v) = &patch.avatar_url {
            bind(&mut sets, &mut values, "avatar_url", v);
        }
        if let Some(v) = &patch.last_event_on {
            bind(&mut sets, &mut values, "last_event_on", v);
        }
        if let Some(v) = &patch.last_heard_on {
            bind(&mut sets, &mut values, "last_heard_on", v);
        }
        if let Some(v) = &patch.last_agent_reply_on {
            bind(&mut sets, &mut values, "last_agent_reply_on", v);
        }
        if let Some(v) = &patch.last_message_id {
            bind(&mut sets, &mut values, "last_message_id", v);
        }
        if let Some(v) = &patch.waiting {
            bind(&mut sets, &mut values, "waiting", v);
        }
        if let (Some(PauseState::Paused { by, reason, at }), Some(kind)) = (&patch.pause, &by_kind)
        {
            bind(&mut sets, &mut values, "paused_by", &by.name);
            bind(&mut sets, &mut values, "paused_by_kind", kind);
            bind(&mut sets, &mut values, "paused_by_id", &by.id);
            bind(&mut sets, &mut values, "paused_reason", reason);
            bind(&mut sets, &mut values, "paused_at", at);
        }
        match patch.unread {
            Unread::Keep => {}
            Unread::Add => sets.push("unread_count = unread_count + 1".into()),
            Unread::Clear => sets.push("unread_count = 0".into()),
        }
        match &patch.pause {
            None => {}
            Some(PauseState::Paused { .. }) => sets.push("paused = 1".into()),
            Some(PauseState::Running) => sets.push(
                "paused = 0, paused_by = null, paused_by_kind = null, paused_by_id = null, \
                 paused_reason = null, paused_at = null"
                    .into(),
            ),
        }
        if sets.is_empty() {
            return Ok(());
        }
        let sql = format!("update sessions set {} where id = ?1", sets.join(", "));
        let touched = self
            .db
            .prepare_cached(&sql)?
            .execute(rusqlite::params_from_iter(values))?;
        if touched == 0 {
            return Err(StoreError::NotFound("session"));
        }
        Ok(())
    }

    async fn session(&mut self, id: i64) -> Result<Option<SessionOverview>> {
        self.db
            .prepare_cached(&format!("{SESSION_SELECT} where s.id = ?1"))?
            .query_row([id], SessionRow::from_rusqlite)
            .optional()?
            .map(SessionRow::into_overview)
            .transpose()
    }

    async fn delete_session(&mut self, id: i64) -> Result<Option<SessionKey>> {
        let key = self
            .db
            .prepare_cached(
                "select bot_id, channel, user_id, thread_id from sessions where id = ?1",
            )?
            .query_row([id], |r| {
                let thread: String = r.get(3)?;
                Ok(SessionKey {
                    bot_id: r.get(0)?,
                    channel: r.get(1)?,
                    user_id: r.get(2)?,
                    thread_id: Some(thread).filter(|t| !t.is_empty()),
                })
            })
            .optional()?;
        if key.is_none() {
            return Ok(None);
        }
        for statement in [
            "delete from events where session_id = ?1",
            "delete from notifications where session_id = ?1",
            // Messages (and through its triggers the search index) and the pause history go
            // with the session (`on delete cascade`).
            "delete from sessions where id = ?1",
        ] {
            self.db.prepare_cached(statement)?.execute([id])?;
        }
        Ok(key)
    }

    async fn session_counts(&mut self, bot_id: &str) -> Result<SessionCounts> {
        let (all, paused, waiting) = self
            .db
            .prepare_cached(sessions::KEPT_COUNTS)?
            .query_row([bot_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?
            .unwrap_or_default();
        let queued = self
            .db
            .prepare_cached(sessions::QUEUED_COUNT)?
            .query_row([bot_id], |r| r.get(0))?;
        let owners = self
            .db
            .prepare_cached(sessions::OWNER_COUNTS)?
            .query_map([bot_id], |r| {
                Ok(OwnerCount {
                    user_id: r.get(0)?,
                    open: r.get(1)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
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
        let payload = serde_json::to_value(new.content)
            .map_err(|e| StoreError::Corrupt(format!("message encoding: {e}")))?;
        let text = new.content.preview();
        let kind = new.actor_kind.as_str();
        let id: i64 = self
            .db
            .prepare_cached(
                "insert into messages (session_id, kind, source, direction, text, payload, \
                                       author, author_kind, author_id, created_at) \
                 values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) returning id",
            )?
            .query_row(
                params![
                    new.session_id,
                    new.content.kind(),
                    new.source.as_str(),
                    new.source.direction().as_str(),
                    text,
                    payload.to_string(),
                    new.author,
                    kind,
                    new.actor_id,
                    new.at
                ],
                |r| r.get(0),
            )
            .map_err(not_found_on_foreign_key)?;
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
        self.db
            .prepare_cached(
                "insert into pause_history (session_id, paused, actor, reason, created_at, \
                                            actor_kind, actor_id) \
                 values (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                record.session_id,
                record.paused,
                record.actor.name,
                record.reason,
                record.at,
                record.actor.kind.as_str(),
                record.actor.id
            ])
            .map_err(not_found_on_foreign_key)?;
        Ok(())
    }

    async fn messages_after(
        &mut self,
        session_id: i64,
        after: i64,
        limit: u32,
    ) -> Result<Vec<Message>> {
        let mut statement = self.db.prepare_cached(&format!(
            "select {MESSAGE_COLUMNS} from messages \
             where session_id = ?1 and id > ?2 order by id limit ?3"
        ))?;
        let rows = statement
            .query_map(params![session_id, after, limit], MessageRow::from_rusqlite)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(MessageRow::into_message).collect()
    }

    async fn set_agent_status(&mut self, user_id: i64, status: &str) -> Result<()> {
        self.db
            .prepare_cached(
                "insert into agent_settings (user_id, status) values (?1, ?2) \
                 on conflict (user_id) do update set status = excluded.status",
            )?
            .execute(params![user_id, status])?;
        Ok(())
    }

    async fn set_agent_capacity(&mut self, user_id: i64, capacity: Option<i64>) -> Result<()> {
        self.db
            .prepare_cached(
                "insert into agent_settings (user_id, capacity) values (?1, ?2) \
                 on conflict (user_id) do update set capacity = excluded.capacity",
            )?
            .execute(params![user_id, capacity])?;
        Ok(())
    }

    async fn count_consoles(
        &mut self,
        instance: &str,
        user_id: i64,
        delta: i64,
        at: i64,
    ) -> Result<()> {
        self.db
            .prepare_cached(
                "insert into presence (instance_id, user_id, consoles, seen_at) \
                 values (?1, ?2, max(?3, 0), ?4) \
                 on conflict (instance_id, user_id) do update \
                 set consoles = max(consoles + ?3, 0), seen_at = excluded.seen_at",
            )?
            .execute(params![instance, user_id, delta, at])?;
        Ok(())
    }

    async fn see_consoles(&mut self, instance: &str, at: i64, forget_before: i64) -> Result<()> {
        self.db
            .prepare_cached(
                "update presence set seen_at = ?2 where instance_id = ?1 and consoles > 0",
            )?
            .execute(params![instance, at])?;
        self.db
            .prepare_cached("delete from presence where seen_at < ?1")?
            .execute(params![forget_before])?;
        Ok(())
    }

    async fn presence_of(&mut self, user_id: i64) -> Result<PresenceFacts> {
        // One writer at a time: reading is holding.
        let settings = self
            .db
            .prepare_cached(&format!(
                "select {SETTINGS_COLUMNS} from agent_settings where user_id = ?1"
            ))?
            .query_row([user_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .optional()?;
        let consoles = self
            .db
            .prepare_cached(&format!(
                "select {CONSOLES_COLUMNS} from presence where user_id = ?1"
            ))?
            .query_map([user_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        gather_one(user_id, settings, consoles)
    }

    async fn set_shown_status(&mut self, user_id: i64, status: &str, at: i64) -> Result<()> {
        self.db
            .prepare_cached(
                "insert into agent_settings (user_id, shown_status, shown_at) values (?1, ?2, ?3) \
                 on conflict (user_id) do update \
                 set shown_status = excluded.shown_status, shown_at = excluded.shown_at",
            )?
            .execute(params![user_id, status, at])?;
        Ok(())
    }

    async fn agent_load(&mut self, bot_id: &str, user_id: i64) -> Result<i64> {
        Ok(self
            .db
            .prepare_cached(
                "select count(*) from handoffs \
                 where bot_id = ?1 and assignee_id = ?2 and state = 'assigned'",
            )?
            .query_row(params![bot_id, user_id], |r| r.get(0))?)
    }

    async fn queued_behind(
        &mut self,
        bot_id: &str,
        queued_at: i64,
        handoff_id: i64,
    ) -> Result<Vec<i64>> {
        let mut statement = self.db.prepare_cached(
            "select session_id from handoffs \
             where bot_id = ?1 and state = 'queued' and (queued_at, id) > (?2, ?3) \
             order by queued_at, id",
        )?;
        let ids = statement
            .query_map(params![bot_id, queued_at, handoff_id], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<i64>>>()?;
        Ok(ids)
    }

    async fn open_handoff(&mut self, new: &NewHandoff<'_>) -> Result<i64> {
        let inserted = self
            .db
            .prepare_cached(
                "insert into handoffs (session_id, bot_id, state, opened_by_kind, opened_by_id, \
                                       queued_at) \
                 values (?1, ?2, 'queued', ?3, ?4, ?5) returning id",
            )?
            .query_row(
                params![
                    new.session_id,
                    new.bot_id,
                    new.opened_by.kind.as_str(),
                    new.opened_by.id,
                    new.at
                ],
                |r| r.get(0),
            );
        match inserted {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE =>
            {
                Err(StoreError::Conflict("an open handoff of this conversation"))
            }
            other => other.map_err(not_found_on_foreign_key),
        }
    }

    async fn update_handoff(
        &mut self,
        id: i64,
        version: i64,
        update: &HandoffUpdate<'_>,
    ) -> Result<bool> {
        let changed = match update {
            HandoffUpdate::Assign {
                assignee,
                offered,
                at,
            } => self
                .db
                .prepare_cached(
                    "update handoffs set state = 'assigned', assignee_id = ?3, \
                         assignee_name = ?4, assigned_at = ?5, active_at = ?5, offered = ?6, \
                         version = version + 1 \
                     where id = ?1 and version = ?2 and state <> 'closed'",
                )?
                .execute(params![
                    id,
                    version,
                    assignee.id,
                    assignee.name,
                    at,
                    offered
                ])?,
            HandoffUpdate::Requeue { lapsed, at } => self
                .db
                .prepare_cached(
                    "update handoffs set state = 'queued', assignee_id = null, \
                         assignee_name = null, assigned_at = null, active_at = ?3, offered = 0, \
                         lapses = lapses + (?4 is not null), \
                         excluded = case when ?4 is null then excluded \
                                         else json_insert(excluded, '$[#]', ?4) end, \
                         version = version + 1 \
                     where id = ?1 and version = ?2 and state <> 'closed'",
                )?
                .execute(params![id, version, at, lapsed])?,
            HandoffUpdate::Keep { at } => self
                .db
                .prepare_cached(
                    "update handoffs set active_at = ?3, version = version + 1 \
                     where id = ?1 and version = ?2 and state <> 'closed'",
                )?
                .execute(params![id, version, at])?,
            HandoffUpdate::Close { reason, at } => self
                .db
                .prepare_cached(
                    "update handoffs set state = 'closed', closed_at = ?3, close_reason = ?4, \
                         version = version + 1 \
                     where id = ?1 and version = ?2 and state <> 'closed'",
                )?
                .execute(params![id, version, at, reason])?,
        };
        Ok(changed == 1)
    }

    async fn handoff_times(&mut self, id: i64) -> Result<Option<HandoffTimes>> {
        let row = self
            .db
            .prepare_cached(
                "select coalesce(active_at, queued_at), offered, lapses, excluded, \
                        told_position, told_at \
                 from handoffs where id = ?1",
            )?
            .query_row([id], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, bool>(1)?,
                    r.get::<_, u32>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<i64>>(4)?.zip(r.get::<_, Option<i64>>(5)?),
                ))
            })
            .optional()?;
        row.map(|(active_at, offered, lapses, excluded, told)| {
            let excluded = serde_json::from_str(&excluded)
                .map_err(|e| StoreError::Corrupt(format!("handoff {id} excluded: {e}")))?;
            Ok(HandoffTimes {
                active_at,
                offered,
                lapses,
                excluded,
                told,
            })
        })
        .transpose()
    }

    async fn note_told_position(&mut self, id: i64, position: i64, at: i64) -> Result<()> {
        self.db
            .prepare_cached("update handoffs set told_position = ?2, told_at = ?3 where id = ?1")?
            .execute(params![id, position, at])?;
        Ok(())
    }

    async fn timers_of(&mut self, handoff_id: i64) -> Result<Vec<Timer>> {
        let mut statement = self.db.prepare_cached(
            "select id, kind, guard_version, basis, due_at, state from timers \
             where handoff_id = ?1 order by id",
        )?;
        let rows = statement
            .query_map([handoff_id], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, String>(5)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
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
        Ok(self
            .db
            .prepare_cached(
                "insert into timers (kind, bot_id, session_id, handoff_id, guard_version, basis, \
                                     due_at) \
                 values (?1, ?2, ?3, ?4, ?5, ?6, ?7) returning id",
            )?
            .query_row(
                params![
                    new.kind,
                    new.bot_id,
                    new.session_id,
                    new.handoff_id,
                    new.guard_version,
                    new.basis,
                    new.due_at
                ],
                |r| r.get(0),
            )?)
    }

    async fn finish_timer(&mut self, id: i64, state: TimerState, at: i64) -> Result<()> {
        self.db
            .prepare_cached(
                "update timers set state = ?2, done_at = ?3 where id = ?1 and state = 'pending'",
            )?
            .execute(params![id, state.as_str(), at])?;
        Ok(())
    }

    async fn insert_notification(
        &mut self,
        bot_id: &str,
        new: &NewNotification,
        at: i64,
    ) -> Result<Notification> {
        self.db
            .prepare_cached(&format!(
                "insert into notifications \
                     (bot_id, session_id, message, level, url, created_at, recipient_id) \
                 values (?1, ?2, ?3, ?4, ?5, ?6, ?7) returning {NOTIFICATION_COLUMNS}"
            ))?
            .query_row(
                params![
                    bot_id,
                    new.session_id,
                    new.message,
                    new.level.as_str(),
                    new.url,
                    at,
                    new.recipient_id
                ],
                NotificationRow::from_rusqlite,
            )?
            .into_notification()
    }

    async fn notification(&mut self, reader: &Reader, id: i64) -> Result<Option<Notification>> {
        self.db
            .prepare_cached(&format!(
                "select {NOTIFICATION_COLUMNS} from notifications where id = ?1 and {}",
                readable(2)
            ))?
            .query_row(
                params![id, super::scope_json(&reader.bots), reader.person],
                NotificationRow::from_rusqlite,
            )
            .optional()?
            .map(NotificationRow::into_notification)
            .transpose()
    }

    async fn mark_notifications_read(
        &mut self,
        reader: &Reader,
        id: Option<i64>,
        at: i64,
    ) -> Result<Vec<(String, i64)>> {
        let mut statement = self.db.prepare_cached(&format!(
            "update notifications set read_at = ?1 \
             where read_at is null and (?2 is null or id = ?2) and {} \
             returning bot_id, id",
            readable(3)
        ))?;
        let params = params![at, id, super::scope_json(&reader.bots), reader.person];
        let rows = statement.query_map(params, |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    async fn delete_visitor(&mut self, bot_id: &str, visitor_id: &str) -> Result<()> {
        self.db
            .prepare_cached("delete from web_visitors where id = ?1 and bot_id = ?2")?
            .execute(params![visitor_id, bot_id])?;
        Ok(())
    }

    async fn bot_paused(&mut self, bot_id: &str) -> Result<bool> {
        let paused: Option<bool> = self
            .db
            .prepare_cached("select paused from bots where id = ?1")?
            .query_row([bot_id], |r| r.get(0))
            .optional()?;
        Ok(paused.unwrap_or(false))
    }

    async fn set_bot_paused(&mut self, bot_id: &str, paused: bool) -> Result<Option<Bot>> {
        Ok(self
            .db
            .prepare_cached("update bots set paused = ?2 where id = ?1 returning id, name, paused")?
            .query_row(params![bot_id, paused], |r| {
                Ok(Bot {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    paused: r.get(2)?,
                })
            })
            .optional()?)
    }

    async fn set_retention_days(&mut self, bot_id: &str, days: Option<u32>) -> Result<()> {
        self.db
            .prepare_cached(
                "insert into bot_settings (bot_id, retention_days) values (?1, ?2) \
                 on conflict(bot_id) do update set retention_days = excluded.retention_days",
            )?
            .execute(params![bot_id, days])?;
        Ok(())
    }

    async fn take_delivery_key(&mut self, key: &str, at: i64) -> Result<bool> {
        let taken = self
            .db
            .prepare_cached(
                "insert into webhook_seen (key, created_at) values (?1, ?2) \
                 on conflict(key) do nothing",
            )?
            .execute(params![key, at])?;
        Ok(taken == 1)
    }

    async fn enqueue_delivery(&mut self, new: &NewDelivery<'_>) -> Result<()> {
        let content = serde_json::to_string(new.content)
            .map_err(|e| StoreError::Corrupt(format!("delivery encoding: {e}")))?;
        self.db
            .prepare_cached(
                "insert into outbox (bot_id, channel, session_id, message_id, recipient, content, \
                                     next_attempt_at, created_at) \
                 values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
            )?
            .execute(params![
                new.bot_id,
                new.channel,
                new.session_id,
                new.message_id,
                new.recipient,
                content,
                new.at
            ])?;
        Ok(())
    }

    async fn finish_delivery(&mut self, id: i64, result: &DeliveryResult) -> Result<()> {
        let mut statement = self.db.prepare_cached(
            "update outbox set attempts = coalesce(?2, attempts + 1), \
                               next_attempt_at = coalesce(?3, next_attempt_at), \
                               sent_at = ?4, failed_at = ?5, last_error = ?6 \
             where id = ?1",
        )?;
        match result {
            DeliveryResult::Sent { at } => statement.execute(params![
                id,
                // The attempt that succeeded counts too.
                None::<u32>,
                None::<i64>,
                at,
                None::<i64>,
                None::<String>
            ]),
            DeliveryResult::Retry {
                attempts,
                next,
                error,
            } => statement.execute(params![id, attempts, next, None::<i64>, None::<i64>, error]),
            DeliveryResult::Failed {
                attempts,
                at,
                error,
            } => statement.execute(params![id, attempts, None::<i64>, None::<i64>, at, error]),
        }?;
        Ok(())
    }

    async fn append_audit(&mut self, entry: &AuditEntry, at: i64) -> Result<()> {
        self.db
            .prepare_cached(
                "insert into audit_log (created_at, actor, action, detail, address, bot_id, \
                                        session_id, actor_kind, actor_id) \
                 values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                at,
                entry.actor,
                entry.action,
                entry.detail,
                entry.address,
                entry.bot_id,
                entry.session_id,
                entry.actor_kind.map(ActorKind::as_str),
                entry.actor_id
            ])?;
        Ok(())
    }

    async fn append_events(&mut self, bot_id: &str, kinds: Vec<EventKind>, at: i64) -> Result<()> {
        let mut insert = self.db.prepare_cached(
            "insert into events (bot_id, kind, data, created_at, session_id, version) \
             values (?1, ?2, ?3, ?4, ?5, ?6) returning seq",
        )?;
        let events = kinds
            .into_iter()
            .map(|kind| {
                let data = encode(&kind)?;
                let seq: i64 = insert.query_row(
                    params![
                        bot_id,
                        kind.name(),
                        data,
                        at,
                        kind.session_id(),
                        EVENT_VERSION
                    ],
                    |r| r.get(0),
                )?;
                Ok(Event { seq, kind })
            })
            .collect::<Result<Vec<_>>>()?;
        match self.events.last_mut() {
            Some((bot, list)) if bot == bot_id => list.extend(events),
            _ => self.events.push((bot_id.to_string(), events)),
        }
        Ok(())
    }
}
