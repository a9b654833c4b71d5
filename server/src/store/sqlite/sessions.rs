//! Sessions, their messages and their pause state in SQLite.

use app::model::{
    Content, EventKind, Message, Profile, SessionCounts, SessionFilter, SessionOverview,
    SessionPage, SessionQuery, Source,
};
use sqlx::{SqliteConnection, SqlitePool};

use super::accounts::append_audit;
use super::append_events;
use super::rows::{now_ms, MessageRow, SessionRow, SESSION_SELECT};
use crate::store::accounts::AuditEntry;
use crate::store::{PauseChange, PauseOutcome, Recorded, Result, SessionKey, StoreError};

const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 200;
const MESSAGE_COLUMNS: &str = "id, session_id, kind, source, text, payload, author, created_at";

/// The rows a page holds: the default when 0 is asked, never more than the maximum.
fn page_size(asked: u32) -> u32 {
    if asked == 0 {
        DEFAULT_PAGE
    } else {
        asked.min(MAX_PAGE)
    }
}

pub async fn record_user_message(
    pool: &SqlitePool,
    key: &SessionKey,
    profile: &Profile,
    content: &Content,
) -> Result<Recorded> {
    let mut tx = pool.begin().await?;
    let now = now_ms();
    let thread = key.thread_id.as_deref().unwrap_or("");
    let inserted: Option<i64> = sqlx::query_scalar(
        "insert into sessions (bot_id, channel, user_id, thread_id, full_name, avatar_url, \
                               created_at, last_event_on) \
         values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) \
         on conflict(bot_id, channel, user_id, thread_id) do nothing returning id",
    )
    .bind(&key.bot_id)
    .bind(&key.channel)
    .bind(&key.user_id)
    .bind(thread)
    .bind(&profile.full_name)
    .bind(&profile.avatar_url)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    let (session_id, created) = match inserted {
        Some(id) => (id, true),
        None => {
            let id: i64 = sqlx::query_scalar(
                "select id from sessions \
                 where bot_id = ?1 and channel = ?2 and user_id = ?3 and thread_id = ?4",
            )
            .bind(&key.bot_id)
            .bind(&key.channel)
            .bind(&key.user_id)
            .bind(thread)
            .fetch_one(&mut *tx)
            .await?;
            // The channel's newest profile wins; absent fields keep what we knew.
            sqlx::query(
                "update sessions set full_name = coalesce(?2, full_name), \
                                     avatar_url = coalesce(?3, avatar_url) where id = ?1",
            )
            .bind(id)
            .bind(&profile.full_name)
            .bind(&profile.avatar_url)
            .execute(&mut *tx)
            .await?;
            (id, false)
        }
    };
    let message = insert_message(&mut tx, session_id, Source::User, None, content, now).await?;
    sqlx::query(
        "update sessions set last_event_on = ?2, last_heard_on = ?2, last_message_id = ?3, \
                             unread_count = unread_count + 1 where id = ?1",
    )
    .bind(session_id)
    .bind(now)
    .bind(message.id)
    .execute(&mut *tx)
    .await?;
    let session = overview(&mut tx, session_id).await?;
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
    let events = append_events(&mut tx, &key.bot_id, kinds).await?;
    tx.commit().await?;
    Ok(Recorded {
        session,
        message,
        events,
    })
}

pub async fn record_outgoing_message(
    pool: &SqlitePool,
    session_id: i64,
    source: Source,
    author: Option<&str>,
    content: &Content,
) -> Result<Recorded> {
    let mut tx = pool.begin().await?;
    let now = now_ms();
    let message = insert_message(&mut tx, session_id, source, author, content, now).await?;
    // An agent who answers has read what came before.
    let agent = source == Source::Agent;
    let touched = sqlx::query(
        "update sessions set last_event_on = ?2, last_message_id = ?3, \
             unread_count = case when ?4 then 0 else unread_count end, \
             last_agent_reply_on = case when ?4 then ?2 else last_agent_reply_on end \
         where id = ?1",
    )
    .bind(session_id)
    .bind(now)
    .bind(message.id)
    .bind(agent)
    .execute(&mut *tx)
    .await?;
    if touched.rows_affected() == 0 {
        return Err(StoreError::NotFound("session"));
    }
    let session = overview(&mut tx, session_id).await?;
    if agent {
        let who = author.unwrap_or("agent");
        let detail = format!("message {}", message.id);
        let audit =
            AuditEntry::about_session(who, "message.agent", &session.bot_id, session_id, detail);
        append_audit(&mut tx, &audit).await?;
    }
    let events = append_events(
        &mut tx,
        &session.bot_id,
        vec![
            EventKind::MessageCreated {
                message: message.clone(),
            },
            EventKind::SessionUpdated {
                session: session.clone(),
            },
        ],
    )
    .await?;
    tx.commit().await?;
    Ok(Recorded {
        session,
        message,
        events,
    })
}

pub async fn set_paused(
    pool: &SqlitePool,
    session_id: i64,
    change: &PauseChange,
) -> Result<PauseOutcome> {
    let mut tx = pool.begin().await?;
    let current: Option<bool> = sqlx::query_scalar("select paused from sessions where id = ?1")
        .bind(session_id)
        .fetch_optional(&mut *tx)
        .await?;
    let current = current.ok_or(StoreError::NotFound("session"))?;
    if current == change.paused {
        let session = overview(&mut tx, session_id).await?;
        return Ok(PauseOutcome {
            session,
            events: Vec::new(),
        });
    }
    let now = now_ms();
    sqlx::query(
        "insert into pause_history (session_id, paused, actor, reason, created_at, actor_kind) \
         values (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .bind(session_id)
    .bind(change.paused)
    .bind(&change.actor)
    .bind(&change.reason)
    .bind(now)
    .bind(change.kind.as_str())
    .execute(&mut *tx)
    .await?;
    let verb = if change.paused { "Paused" } else { "Resumed" };
    let line = match &change.reason {
        Some(reason) => format!("{verb} by {}: {reason}", change.actor),
        None => format!("{verb} by {}", change.actor),
    };
    let message = insert_message(
        &mut tx,
        session_id,
        Source::System,
        Some(&change.actor),
        &Content::System {
            text: line,
            paused: Some(change.paused),
        },
        now,
    )
    .await?;
    // The pause fields keep who paused while paused; resuming clears them.
    sqlx::query(
        "update sessions set paused = ?2, \
             paused_by = case when ?2 then ?3 else null end, \
             paused_reason = case when ?2 then ?4 else null end, \
             paused_at = case when ?2 then ?5 else null end, \
             last_event_on = ?5, last_message_id = ?6 where id = ?1",
    )
    .bind(session_id)
    .bind(change.paused)
    .bind(&change.actor)
    .bind(&change.reason)
    .bind(now)
    .bind(message.id)
    .execute(&mut *tx)
    .await?;
    let session = overview(&mut tx, session_id).await?;
    let action = if change.paused {
        "session.paused"
    } else {
        "session.resumed"
    };
    let detail = change.reason.clone().unwrap_or_default();
    let audit =
        AuditEntry::about_session(&change.actor, action, &session.bot_id, session_id, detail);
    append_audit(&mut tx, &audit).await?;
    let events = append_events(
        &mut tx,
        &session.bot_id,
        vec![
            EventKind::MessageCreated { message },
            EventKind::SessionUpdated {
                session: session.clone(),
            },
        ],
    )
    .await?;
    tx.commit().await?;
    Ok(PauseOutcome { session, events })
}

pub async fn update_profile(
    pool: &SqlitePool,
    session_id: i64,
    profile: &Profile,
) -> Result<Option<(SessionOverview, app::model::Event)>> {
    let mut tx = pool.begin().await?;
    let changed = sqlx::query(
        "update sessions set full_name = coalesce(?2, full_name), avatar_url = coalesce(?3, avatar_url) \
         where id = ?1 and (coalesce(?2, full_name) is not full_name or coalesce(?3, avatar_url) is not avatar_url)",
    )
    .bind(session_id)
    .bind(&profile.full_name)
    .bind(&profile.avatar_url)
    .execute(&mut *tx)
    .await?;
    if changed.rows_affected() == 0 {
        return Ok(None);
    }
    let session = overview(&mut tx, session_id).await?;
    let mut events = append_events(
        &mut tx,
        &session.bot_id.clone(),
        vec![EventKind::SessionUpdated {
            session: session.clone(),
        }],
    )
    .await?;
    tx.commit().await?;
    Ok(events.pop().map(|e| (session, e)))
}

pub async fn mark_read(pool: &SqlitePool, session_id: i64) -> Result<Option<app::model::Event>> {
    let mut tx = pool.begin().await?;
    let changed =
        sqlx::query("update sessions set unread_count = 0 where id = ?1 and unread_count > 0")
            .bind(session_id)
            .execute(&mut *tx)
            .await?;
    if changed.rows_affected() == 0 {
        return Ok(None);
    }
    let session = overview(&mut tx, session_id).await?;
    let bot_id = session.bot_id.clone();
    let mut events = append_events(
        &mut tx,
        &bot_id,
        vec![EventKind::SessionUpdated { session }],
    )
    .await?;
    tx.commit().await?;
    Ok(events.pop())
}

pub async fn by_id(
    pool: &SqlitePool,
    bot_id: Option<&str>,
    session_id: i64,
) -> Result<Option<SessionOverview>> {
    let row = sqlx::query_as::<_, SessionRow>(&format!(
        "{SESSION_SELECT} where s.id = ?1 and (?2 is null or s.bot_id = ?2)"
    ))
    .bind(session_id)
    .bind(bot_id)
    .fetch_optional(pool)
    .await?;
    row.map(SessionRow::into_overview).transpose()
}

pub async fn by_key(pool: &SqlitePool, key: &SessionKey) -> Result<Option<SessionOverview>> {
    let row = sqlx::query_as::<_, SessionRow>(&format!(
        "{SESSION_SELECT} where s.bot_id = ?1 and s.channel = ?2 and s.user_id = ?3 and s.thread_id = ?4"
    ))
    .bind(&key.bot_id)
    .bind(&key.channel)
    .bind(&key.user_id)
    .bind(key.thread_id.as_deref().unwrap_or(""))
    .fetch_optional(pool)
    .await?;
    row.map(SessionRow::into_overview).transpose()
}

pub async fn list(pool: &SqlitePool, bot_id: &str, query: &SessionQuery) -> Result<SessionPage> {
    let limit = query.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let after = query.cursor.as_deref().map(parse_cursor).transpose()?;
    let search = query
        .search_text
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(like_pattern);
    // One more row than asked tells whether there is a next page.
    let rows = sqlx::query_as::<_, SessionRow>(&format!(
        "{SESSION_SELECT} where s.bot_id = ?1 \
           and (?2 = 'all' or s.paused = 1) \
           and (?2 != 'waiting' or s.last_heard_on > coalesce(s.last_agent_reply_on, 0)) \
           and (?3 is null or s.full_name like ?3 escape '\\' or s.user_id like ?3 escape '\\') \
           and (?4 is null or s.last_event_on < ?4 or (s.last_event_on = ?4 and s.id < ?5)) \
         order by s.last_event_on desc, s.id desc limit ?6"
    ))
    .bind(bot_id)
    .bind(filter_name(query.effective_filter()))
    .bind(search)
    .bind(after.map(|c| c.0))
    .bind(after.map(|c| c.1))
    .bind(limit + 1)
    .fetch_all(pool)
    .await?;
    let mut sessions = rows
        .into_iter()
        .map(SessionRow::into_overview)
        .collect::<Result<Vec<_>>>()?;
    let next_cursor = if sessions.len() > limit as usize {
        sessions.truncate(limit as usize);
        sessions
            .last()
            .map(|s| format!("{}.{}", s.last_event_on.timestamp_millis(), s.id))
    } else {
        None
    };
    Ok(SessionPage {
        sessions,
        next_cursor,
    })
}

pub async fn messages(
    pool: &SqlitePool,
    session_id: i64,
    before: Option<i64>,
    limit: u32,
) -> Result<Vec<Message>> {
    let limit = page_size(limit);
    let rows = sqlx::query_as::<_, MessageRow>(&format!(
        "select {MESSAGE_COLUMNS} from messages \
         where session_id = ?1 and (?2 is null or id < ?2) order by id desc limit ?3"
    ))
    .bind(session_id)
    .bind(before)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    let mut list = rows
        .into_iter()
        .map(MessageRow::into_message)
        .collect::<Result<Vec<_>>>()?;
    list.reverse();
    Ok(list)
}

pub async fn messages_after(
    pool: &SqlitePool,
    session_id: i64,
    after: i64,
    outgoing_only: bool,
    limit: u32,
) -> Result<Vec<Message>> {
    let limit = page_size(limit);
    let rows = sqlx::query_as::<_, MessageRow>(&format!(
        "select {MESSAGE_COLUMNS} from messages \
         where session_id = ?1 and id > ?2 and (not ?4 or direction = 'out') order by id limit ?3"
    ))
    .bind(session_id)
    .bind(after)
    .bind(limit)
    .bind(outgoing_only)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(MessageRow::into_message).collect()
}

async fn insert_message(
    conn: &mut SqliteConnection,
    session_id: i64,
    source: Source,
    author: Option<&str>,
    content: &Content,
    now: i64,
) -> Result<Message> {
    let payload = serde_json::to_value(content)
        .map_err(|e| StoreError::Corrupt(format!("message encoding: {e}")))?;
    let text = content.preview();
    let id: i64 = sqlx::query_scalar(
        "insert into messages (session_id, kind, source, direction, text, payload, author, created_at) \
         values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) returning id",
    )
    .bind(session_id)
    .bind(content.kind())
    .bind(source.as_str())
    .bind(source.direction().as_str())
    .bind(&text)
    .bind(payload.to_string())
    .bind(author)
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| match e {
        sqlx::Error::Database(ref d) if d.is_foreign_key_violation() => StoreError::NotFound("session"),
        e => e.into(),
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
        ts: super::rows::time(now),
    })
}

async fn overview(conn: &mut SqliteConnection, session_id: i64) -> Result<SessionOverview> {
    sqlx::query_as::<_, SessionRow>(&format!("{SESSION_SELECT} where s.id = ?1"))
        .bind(session_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound("session"))?
        .into_overview()
}

fn filter_name(filter: SessionFilter) -> &'static str {
    match filter {
        SessionFilter::All => "all",
        SessionFilter::Paused => "paused",
        SessionFilter::Waiting => "waiting",
    }
}

pub async fn counts(pool: &SqlitePool, bot_id: &str) -> Result<SessionCounts> {
    let (all, paused, waiting) = sqlx::query_as::<_, (i64, i64, i64)>(
        "select count(*), coalesce(sum(paused), 0), \
                coalesce(sum(paused = 1 and last_heard_on > coalesce(last_agent_reply_on, 0)), 0) \
         from sessions where bot_id = ?1",
    )
    .bind(bot_id)
    .fetch_one(pool)
    .await?;
    Ok(SessionCounts {
        all,
        paused,
        waiting,
    })
}

/// A cursor is `<last activity in ms>.<session id>` of the last row of the previous page.
fn parse_cursor(cursor: &str) -> Result<(i64, i64)> {
    let (time, id) = cursor.split_once('.').ok_or(StoreError::BadCursor)?;
    Ok((
        time.parse().map_err(|_| StoreError::BadCursor)?,
        id.parse().map_err(|_| StoreError::BadCursor)?,
    ))
}

/// A LIKE pattern that matches `text` anywhere, with the wildcards in `text` taken literally.
fn like_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_pattern_escapes_wildcards() {
        assert_eq!(like_pattern("a%b_c\\"), "%a\\%b\\_c\\\\%");
    }

    #[test]
    fn cursor_parses_time_and_id() {
        assert_eq!(
            parse_cursor("1700000000000.42").unwrap(),
            (1_700_000_000_000, 42)
        );
        assert!(parse_cursor("nonsense").is_err());
        assert!(parse_cursor("1.x").is_err());
    }
}
