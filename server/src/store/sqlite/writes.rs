//! The writes clients see (messages, pauses, notifications, deletions), as the writer thread runs
//! them: plain synchronous SQLite calls on its one connection, inside the shared transaction,
//! every statement prepared once and cached. Each appends its events to the log.

use app::model::{
    Content, Event, EventKind, Message, Notification, Profile, SessionOverview, Source,
};
use rusqlite::{params, Connection, OptionalExtension};

use super::rows::{now_ms, time, NotificationRow, SessionRow, SESSION_SELECT};
use super::writer::Bracket;
use crate::store::accounts::AuditEntry;
use crate::store::{
    Decide, NewNotification, PauseChange, PauseOutcome, Recorded, Result, SessionKey, StoreError,
    Turn, TurnAction,
};

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

pub fn record_user_message(
    db: &Connection,
    key: &SessionKey,
    profile: &Profile,
    content: &Content,
) -> Result<Recorded> {
    let now = now_ms();
    let thread = key.thread_id.as_deref().unwrap_or("");
    let inserted: Option<i64> = db
        .prepare_cached(
            "insert into sessions (bot_id, channel, user_id, thread_id, full_name, avatar_url, \
                                   created_at, last_event_on) \
             values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) \
             on conflict(bot_id, channel, user_id, thread_id) do nothing returning id",
        )?
        .query_row(
            params![
                key.bot_id,
                key.channel,
                key.user_id,
                thread,
                profile.full_name,
                profile.avatar_url,
                now
            ],
            |r| r.get(0),
        )
        .optional()?;
    let (session_id, created) = match inserted {
        Some(id) => (id, true),
        None => {
            // The channel's newest profile wins; absent fields keep what we knew.
            let id: i64 = db
                .prepare_cached(
                    "update sessions set full_name = coalesce(?5, full_name), \
                                         avatar_url = coalesce(?6, avatar_url) \
                     where bot_id = ?1 and channel = ?2 and user_id = ?3 and thread_id = ?4 \
                     returning id",
                )?
                .query_row(
                    params![
                        key.bot_id,
                        key.channel,
                        key.user_id,
                        thread,
                        profile.full_name,
                        profile.avatar_url
                    ],
                    |r| r.get(0),
                )?;
            (id, false)
        }
    };
    let message = insert_message(db, session_id, Source::User, None, content, now)?;
    db.prepare_cached(
        "update sessions set last_event_on = ?2, last_heard_on = ?2, last_message_id = ?3, \
                             unread_count = unread_count + 1 where id = ?1",
    )?
    .execute(params![session_id, now, message.id])?;
    let session = overview(db, session_id)?;
    let kinds = if created {
        vec![
            EventKind::SessionCreated {
                session: session.clone(),
            },
            EventKind::MessageCreated {
                message: message.clone(),
            },
        ]
    } else {
        vec![
            EventKind::MessageCreated {
                message: message.clone(),
            },
            EventKind::SessionUpdated {
                session: session.clone(),
            },
        ]
    };
    let events = append_events(db, &key.bot_id, kinds)?;
    Ok(Recorded {
        session,
        message,
        events,
    })
}

/// A user's message and the actions `decide` takes on the stored session; answers the turn and
/// every event it appended, in order.
pub fn record_turn(
    db: &Connection,
    key: &SessionKey,
    profile: &Profile,
    content: &Content,
    decide: &Decide,
) -> Result<(Turn, Vec<Event>)> {
    let recorded = record_user_message(db, key, profile, content)?;
    let mut events = recorded.events.clone();
    let mut session = recorded.session.clone();
    let mut replies = Vec::new();
    // Each change of the session within the turn gets a later time than the one before, so the
    // snapshots clients receive are ordered by their time even within one millisecond.
    let mut at = session.last_event_on.timestamp_millis();
    let mut next = || {
        at = now_ms().max(at + 1);
        at
    };
    for action in decide(&recorded.session) {
        match action {
            TurnAction::Reply(reply) => {
                let r = record_outgoing_at(db, session.id, Source::Bot, None, &reply, next())?;
                events.extend(r.events);
                session = r.session;
                replies.push(r.message);
            }
            TurnAction::Notify {
                message,
                level,
                url,
            } => {
                let new = NewNotification::about(session.id, message, level, url);
                events.push(create_notification(db, &key.bot_id, &new)?.1);
            }
            TurnAction::Pause(change) => {
                let r = set_paused_at(db, session.id, &change, next())?;
                events.extend(r.events);
                session = r.session;
            }
        }
    }
    let turn = Turn {
        recorded,
        replies,
        session,
    };
    Ok((turn, events))
}

pub fn record_outgoing_message(
    db: &Connection,
    session_id: i64,
    source: Source,
    author: Option<&str>,
    content: &Content,
) -> Result<Recorded> {
    record_outgoing_at(db, session_id, source, author, content, now_ms())
}

fn record_outgoing_at(
    db: &Connection,
    session_id: i64,
    source: Source,
    author: Option<&str>,
    content: &Content,
    now: i64,
) -> Result<Recorded> {
    let message = insert_message(db, session_id, source, author, content, now)?;
    // An agent who answers has read what came before.
    let agent = source == Source::Agent;
    let touched = db
        .prepare_cached(
            "update sessions set last_event_on = ?2, last_message_id = ?3, \
                 unread_count = case when ?4 then 0 else unread_count end, \
                 last_agent_reply_on = case when ?4 then ?2 else last_agent_reply_on end \
             where id = ?1",
        )?
        .execute(params![session_id, now, message.id, agent])?;
    if touched == 0 {
        return Err(StoreError::NotFound("session"));
    }
    let session = overview(db, session_id)?;
    if agent {
        let who = author.unwrap_or("agent");
        let detail = format!("message {}", message.id);
        let audit =
            AuditEntry::about_session(who, "message.agent", &session.bot_id, session_id, detail);
        append_audit(db, &audit)?;
    }
    let events = append_events(
        db,
        &session.bot_id,
        vec![
            EventKind::MessageCreated {
                message: message.clone(),
            },
            EventKind::SessionUpdated {
                session: session.clone(),
            },
        ],
    )?;
    Ok(Recorded {
        session,
        message,
        events,
    })
}

pub fn set_paused(db: &Connection, session_id: i64, change: &PauseChange) -> Result<PauseOutcome> {
    set_paused_at(db, session_id, change, now_ms())
}

fn set_paused_at(
    db: &Connection,
    session_id: i64,
    change: &PauseChange,
    now: i64,
) -> Result<PauseOutcome> {
    let current: bool = db
        .prepare_cached("select paused from sessions where id = ?1")?
        .query_row([session_id], |r| r.get(0))
        .optional()?
        .ok_or(StoreError::NotFound("session"))?;
    if current == change.paused {
        return Ok(PauseOutcome {
            session: overview(db, session_id)?,
            events: Vec::new(),
        });
    }
    db.prepare_cached(
        "insert into pause_history (session_id, paused, actor, reason, created_at, actor_kind) \
         values (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        session_id,
        change.paused,
        change.actor,
        change.reason,
        now,
        change.kind.as_str()
    ])?;
    let verb = if change.paused { "Paused" } else { "Resumed" };
    let line = match &change.reason {
        Some(reason) => format!("{verb} by {}: {reason}", change.actor),
        None => format!("{verb} by {}", change.actor),
    };
    let content = Content::System {
        text: line,
        paused: Some(change.paused),
    };
    let message = insert_message(
        db,
        session_id,
        Source::System,
        Some(&change.actor),
        &content,
        now,
    )?;
    // The pause fields keep who paused while paused; resuming clears them.
    db.prepare_cached(
        "update sessions set paused = ?2, \
             paused_by = case when ?2 then ?3 else null end, \
             paused_reason = case when ?2 then ?4 else null end, \
             paused_at = case when ?2 then ?5 else null end, \
             last_event_on = ?5, last_message_id = ?6 where id = ?1",
    )?
    .execute(params![
        session_id,
        change.paused,
        change.actor,
        change.reason,
        now,
        message.id
    ])?;
    let session = overview(db, session_id)?;
    let action = if change.paused {
        "session.paused"
    } else {
        "session.resumed"
    };
    let detail = change.reason.clone().unwrap_or_default();
    let audit =
        AuditEntry::about_session(&change.actor, action, &session.bot_id, session_id, detail);
    append_audit(db, &audit)?;
    let events = append_events(
        db,
        &session.bot_id,
        vec![
            EventKind::MessageCreated { message },
            EventKind::SessionUpdated {
                session: session.clone(),
            },
        ],
    )?;
    Ok(PauseOutcome { session, events })
}

/// Answers the session and its `session.updated` event, when something changed.
pub fn update_profile(
    db: &Connection,
    session_id: i64,
    profile: &Profile,
) -> Result<Option<(SessionOverview, Event)>> {
    let changed = db
        .prepare_cached(
            "update sessions set full_name = coalesce(?2, full_name), \
                                 avatar_url = coalesce(?3, avatar_url) \
             where id = ?1 and (coalesce(?2, full_name) is not full_name \
                                or coalesce(?3, avatar_url) is not avatar_url)",
        )?
        .execute(params![session_id, profile.full_name, profile.avatar_url])?;
    session_updated(db, session_id, changed)
}

/// Answers the session and its `session.updated` event, when something changed.
pub fn mark_read(db: &Connection, session_id: i64) -> Result<Option<(SessionOverview, Event)>> {
    let changed = db
        .prepare_cached("update sessions set unread_count = 0 where id = ?1 and unread_count > 0")?
        .execute([session_id])?;
    session_updated(db, session_id, changed)
}

fn session_updated(
    db: &Connection,
    session_id: i64,
    changed: usize,
) -> Result<Option<(SessionOverview, Event)>> {
    if changed == 0 {
        return Ok(None);
    }
    let session = overview(db, session_id)?;
    let updated = EventKind::SessionUpdated {
        session: session.clone(),
    };
    let mut events = append_events(db, &session.bot_id, vec![updated])?;
    Ok(events.pop().map(|e| (session, e)))
}

pub fn create_notification(
    db: &Connection,
    bot_id: &str,
    new: &NewNotification,
) -> Result<(Notification, Event)> {
    let row = db
        .prepare_cached(
            "insert into notifications (bot_id, session_id, message, level, url, created_at) \
             values (?1, ?2, ?3, ?4, ?5, ?6) \
             returning id, bot_id, session_id, message, level, url, read_at, created_at",
        )?
        .query_row(
            params![
                bot_id,
                new.session_id,
                new.message,
                new.level.as_str(),
                new.url,
                now_ms()
            ],
            |r| {
                Ok(NotificationRow {
                    id: r.get(0)?,
                    bot_id: r.get(1)?,
                    session_id: r.get(2)?,
                    message: r.get(3)?,
                    level: r.get(4)?,
                    url: r.get(5)?,
                    read_at: r.get(6)?,
                    created_at: r.get(7)?,
                })
            },
        )?;
    let notification = row.into_notification()?;
    let mut events = append_events(
        db,
        bot_id,
        vec![EventKind::NotificationCreated {
            notification: notification.clone(),
        }],
    )?;
    let event = events.pop().expect("one event appended");
    Ok((notification, event))
}

/// Deletes a conversation with all it held; answers its bot and the `session.deleted` event.
pub fn delete_session(
    db: &Connection,
    session_id: i64,
    actor: &str,
) -> Result<(String, Vec<Event>)> {
    let (bot_id, channel, user_id): (String, String, String) = db
        .prepare_cached("select bot_id, channel, user_id from sessions where id = ?1")?
        .query_row([session_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?
        .ok_or(StoreError::NotFound("session"))?;
    for statement in [
        "delete from events where session_id = ?1",
        "delete from notifications where session_id = ?1",
        // Messages (and through its triggers the search index) and the pause history go with
        // the session (`on delete cascade`).
        "delete from sessions where id = ?1",
    ] {
        db.prepare_cached(statement)?.execute([session_id])?;
    }
    if channel == crate::channels::web::CHANNEL {
        db.prepare_cached("delete from web_visitors where id = ?1 and bot_id = ?2")?
            .execute(params![user_id, bot_id])?;
    }
    let audit = AuditEntry::about_session(actor, "session.deleted", &bot_id, session_id, "");
    append_audit(db, &audit)?;
    let events = append_events(db, &bot_id, vec![EventKind::SessionDeleted { session_id }])?;
    Ok((bot_id, events))
}

fn insert_message(
    db: &Connection,
    session_id: i64,
    source: Source,
    author: Option<&str>,
    content: &Content,
    now: i64,
) -> Result<Message> {
    let payload = serde_json::to_value(content)
        .map_err(|e| StoreError::Corrupt(format!("message encoding: {e}")))?;
    let text = content.preview();
    let id: i64 = db
        .prepare_cached(
            "insert into messages (session_id, kind, source, direction, text, payload, author, \
                                   created_at) \
             values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) returning id",
        )?
        .query_row(
            params![
                session_id,
                content.kind(),
                source.as_str(),
                source.direction().as_str(),
                text,
                payload.to_string(),
                author,
                now
            ],
            |r| r.get(0),
        )
        .map_err(|e| match &e {
            rusqlite::Error::SqliteFailure(f, _)
                if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY =>
            {
                StoreError::NotFound("session")
            }
            _ => e.into(),
        })?;
    Ok(Message {
        id,
        session_id,
        kind: content.kind().to_string(),
        source,
        direction: source.direction(),
        text,
        payload,
        author: author.map(str::to_string),
        ts: time(now),
    })
}

fn overview(db: &Connection, session_id: i64) -> Result<SessionOverview> {
    db.prepare_cached(&format!("{SESSION_SELECT} where s.id = ?1"))?
        .query_row([session_id], |r| {
            Ok(SessionRow {
                id: r.get(0)?,
                bot_id: r.get(1)?,
                channel: r.get(2)?,
                user_id: r.get(3)?,
                thread_id: r.get(4)?,
                full_name: r.get(5)?,
                avatar_url: r.get(6)?,
                paused: r.get(7)?,
                paused_by: r.get(8)?,
                paused_reason: r.get(9)?,
                paused_at: r.get(10)?,
                last_event_on: r.get(11)?,
                last_heard_on: r.get(12)?,
                last_agent_reply_on: r.get(13)?,
                unread_count: r.get(14)?,
                m_id: r.get(15)?,
                m_kind: r.get(16)?,
                m_source: r.get(17)?,
                m_text: r.get(18)?,
                m_payload: r.get(19)?,
                m_author: r.get(20)?,
                m_created_at: r.get(21)?,
            })
        })
        .optional()?
        .ok_or(StoreError::NotFound("session"))?
        .into_overview()
}

/// Appends events to the log inside the shared transaction; answers them with their `seq`.
fn append_events(db: &Connection, bot_id: &str, kinds: Vec<EventKind>) -> Result<Vec<Event>> {
    let mut insert = db.prepare_cached(
        "insert into events (bot_id, kind, data, created_at, session_id) \
         values (?1, ?2, ?3, ?4, ?5) returning seq",
    )?;
    let now = now_ms();
    kinds
        .into_iter()
        .map(|kind| {
            let data = serde_json::to_string(&kind)
                .map_err(|e| StoreError::Corrupt(format!("event encoding: {e}")))?;
            let seq: i64 = insert.query_row(
                params![bot_id, kind.name(), data, now, kind.session_id()],
                |r| r.get(0),
            )?;
            Ok(Event { seq, kind })
        })
        .collect()
}

fn append_audit(db: &Connection, entry: &AuditEntry) -> Result<()> {
    db.prepare_cached(
        "insert into audit_log (created_at, actor, action, detail, address, bot_id, session_id) \
         values (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        now_ms(),
        entry.actor,
        entry.action,
        entry.detail,
        entry.address,
        entry.bot_id,
        entry.session_id
    ])?;
    Ok(())
}
