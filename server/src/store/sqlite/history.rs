//! History in SQLite: FTS5 search with ranked, highlighted results, transcripts, deletion.

use app::history::{snippet_parts, HistoryHit, HistoryPage};
use app::model::{Content, EventKind, Source};
use futures::{SinkExt, StreamExt};
use sqlx::SqlitePool;

use super::accounts::append_audit;
use super::append_events;
use super::rows::{time, MessageRow};
use crate::store::accounts::AuditEntry;
use crate::store::history::{ExportRow, ExportStream, Search};
use crate::store::{BotScope, Result, StoreError};

/// Around matched words in snippets: private-use characters, which typed text hardly holds.
const OPEN: char = '\u{E000}';
const CLOSE: char = '\u{E001}';
const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 500;

/// Turns what a person typed into an FTS5 query that cannot be a syntax error: every word and
/// every `"quoted phrase"` becomes a quoted string (all must match); a `*` after one makes it a
/// prefix. `None` when nothing searchable is left.
pub fn fts_query(input: &str) -> Option<String> {
    let mut terms = Vec::new();
    let mut chars = input.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut term = String::new();
        if c == '"' {
            chars.next();
            for c in chars.by_ref() {
                if c == '"' {
                    break;
                }
                term.push(c);
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || c == '"' {
                    break;
                }
                term.push(c);
                chars.next();
            }
        }
        let prefix = term.ends_with('*') || chars.peek() == Some(&'*');
        if chars.peek() == Some(&'*') {
            chars.next();
        }
        let words: String = term
            .trim_end_matches('*')
            .chars()
            .map(|c| if c.is_alphanumeric() { c } else { ' ' })
            .collect();
        let words = words.split_whitespace().collect::<Vec<_>>().join(" ");
        if words.is_empty() {
            continue;
        }
        terms.push(format!("\"{words}\"{}", if prefix { "*" } else { "" }));
    }
    (!terms.is_empty()).then(|| terms.join(" "))
}

/// A cursor: the last result's rank (relevance order) or nothing (newest first), and its id.
fn parse_cursor(cursor: Option<&str>, ranked: bool) -> Result<(Option<f64>, Option<i64>)> {
    let Some(cursor) = cursor.filter(|c| !c.is_empty()) else {
        return Ok((None, None));
    };
    if ranked {
        let (rank, id) = cursor.split_once('_').ok_or(StoreError::BadCursor)?;
        let rank = rank.parse::<f64>().map_err(|_| StoreError::BadCursor)?;
        let id = id.parse::<i64>().map_err(|_| StoreError::BadCursor)?;
        Ok((Some(rank), Some(id)))
    } else {
        let id = cursor.parse::<i64>().map_err(|_| StoreError::BadCursor)?;
        Ok((None, Some(id)))
    }
}

#[derive(sqlx::FromRow)]
struct HitRow {
    id: i64,
    session_id: i64,
    bot_id: String,
    channel: String,
    user_id: String,
    full_name: Option<String>,
    source: String,
    author: Option<String>,
    created_at: i64,
    snippet: String,
    rank: f64,
}

/// The filters every search shares; `?1` is the FTS query (or null) and the rest follow.
const FILTERS: &str = "(?2 is null or s.bot_id in (select value from json_each(?2))) \
     and (?3 is null or s.bot_id = ?3) \
     and (?4 is null or s.channel = ?4) \
     and (?5 is null or m.created_at >= ?5) \
     and (?6 is null or m.created_at < ?6) \
     and (?7 is null or m.source = ?7) \
     and (?8 is null or (m.source = 'agent' and m.author = ?8)) \
     and (?9 is null or exists (select 1 from pause_history p \
            where p.session_id = s.id and p.paused = 1) = ?9) \
     and (?10 is null or s.paused = ?10) \
     and (?11 is null or m.session_id = ?11)";

pub async fn search(pool: &SqlitePool, scope: &BotScope, search: &Search) -> Result<HistoryPage> {
    let query = &search.query;
    let limit = match query.limit.unwrap_or(0) {
        0 => DEFAULT_PAGE,
        n => n.min(MAX_PAGE),
    };
    let fts = query.words().and_then(fts_query);
    if query.words().is_some() && fts.is_none() {
        // Only punctuation: nothing can match.
        return Ok(HistoryPage::default());
    }
    let ranked = fts.is_some();
    let (after_rank, after_id) = parse_cursor(query.cursor.as_deref(), ranked)?;
    let sql = if ranked {
        format!(
            "select m.id, m.session_id, s.bot_id, s.channel, s.user_id, s.full_name, m.source, \
                    m.author, m.created_at, \
                    snippet(messages_fts, 0, char(57344), char(57345), '…', 24) as snippet, \
                    messages_fts.rank as rank \
             from messages_fts \
             join messages m on m.id = messages_fts.rowid \
             join sessions s on s.id = m.session_id \
             where messages_fts match ?1 and {FILTERS} \
               and (?12 is null or messages_fts.rank > ?12 \
                    or (messages_fts.rank = ?12 and m.id > ?13)) \
             order by messages_fts.rank, m.id limit ?14"
        )
    } else {
        format!(
            "select m.id, m.session_id, s.bot_id, s.channel, s.user_id, s.full_name, m.source, \
                    m.author, m.created_at, substr(m.text, 1, 200) as snippet, 0.0 as rank \
             from messages m join sessions s on s.id = m.session_id \
             where {FILTERS} and (?13 is null or m.id < ?13) \
             order by m.id desc limit ?14"
        )
    };
    let rows = sqlx::query_as::<_, HitRow>(&sql)
        .bind(&fts)
        .bind(scope.as_json())
        .bind(query.bot_id.as_deref().filter(|b| !b.is_empty()))
        .bind(query.channel.as_deref().filter(|c| !c.is_empty()))
        .bind(search.from_ms)
        .bind(search.to_ms)
        .bind(query.source.map(Source::as_str))
        .bind(query.agent.as_deref().filter(|a| !a.is_empty()))
        .bind(query.handed_off)
        .bind(query.paused_now)
        .bind(query.session_id)
        .bind(after_rank)
        .bind(after_id)
        .bind(limit + 1)
        .fetch_all(pool)
        .await?;
    let more = rows.len() > limit as usize;
    let mut results = Vec::with_capacity(rows.len().min(limit as usize));
    let mut next_cursor = None;
    for row in rows.into_iter().take(limit as usize) {
        next_cursor = Some(if ranked {
            format!("{}_{}", row.rank, row.id)
        } else {
            row.id.to_string()
        });
        results.push(into_hit(row)?);
    }
    Ok(HistoryPage {
        results,
        next_cursor: next_cursor.filter(|_| more),
    })
}

fn into_hit(row: HitRow) -> Result<HistoryHit> {
    let source = Source::parse(&row.source)
        .ok_or_else(|| StoreError::Corrupt(format!("message {} source", row.id)))?;
    let snippet_parts = snippet_parts(&row.snippet, OPEN, CLOSE);
    Ok(HistoryHit {
        session_id: row.session_id,
        message_id: row.id,
        bot_id: row.bot_id,
        channel: row.channel,
        user_id: row.user_id,
        full_name: row.full_name,
        source,
        author: row.author,
        snippet: snippet_parts.iter().map(|p| p.text.as_str()).collect(),
        snippet_parts,
        ts: time(row.created_at),
    })
}

#[derive(sqlx::FromRow)]
struct ExportDbRow {
    id: i64,
    session_id: i64,
    kind: String,
    source: String,
    text: String,
    payload: String,
    author: Option<String>,
    created_at: i64,
    bot_id: String,
    channel: String,
    user_id: String,
    full_name: Option<String>,
}

/// Follows the handoffs through an export, conversation by conversation.
#[derive(Default)]
struct Segments {
    session: Option<i64>,
    human: bool,
}

impl Segments {
    fn row(&mut self, row: ExportDbRow) -> ExportRow {
        if self.session != Some(row.session_id) {
            self.session = Some(row.session_id);
            self.human = false;
        }
        let mark = (row.kind == "system")
            .then(|| serde_json::from_str::<Content>(&row.payload).ok())
            .flatten()
            .and_then(|c| match c {
                Content::System { paused, .. } => paused,
                _ => None,
            });
        // A handoff line belongs to the human segment it opens or closes.
        let (segment, handoff) = match mark {
            Some(true) => {
                self.human = true;
                ("human", "paused")
            }
            Some(false) => {
                self.human = false;
                ("human", "resumed")
            }
            None if self.human => ("human", ""),
            None => ("bot", ""),
        };
        ExportRow {
            session_id: row.session_id,
            bot_id: row.bot_id,
            channel: row.channel,
            user_id: row.user_id,
            full_name: row.full_name,
            message_id: row.id,
            ts: time(row.created_at),
            source: row.source,
            author: row.author,
            kind: row.kind,
            text: row.text,
            payload: row.payload,
            segment: segment.into(),
            handoff: handoff.into(),
        }
    }
}

/// Rows in flight between the database and the client: enough to keep both busy.
const EXPORT_BUFFER: usize = 256;

pub fn export(pool: &SqlitePool, scope: &BotScope, search: &Search) -> ExportStream {
    let (mut sender, receiver) = futures::channel::mpsc::channel(EXPORT_BUFFER);
    let fts = search
        .query
        .words()
        .map(|w| fts_query(w).unwrap_or_default());
    if fts.as_deref() == Some("") {
        // Only punctuation was typed: nothing matches.
        return futures::stream::empty().boxed();
    }
    let wanted = if fts.is_some() {
        format!(
            "select distinct m.session_id as id from messages_fts \
             join messages m on m.id = messages_fts.rowid \
             join sessions s on s.id = m.session_id \
             where messages_fts match ?1 and {FILTERS}"
        )
    } else {
        format!(
            "select distinct m.session_id as id from messages m \
             join sessions s on s.id = m.session_id where {FILTERS}"
        )
    };
    let sql = format!(
        "with wanted as ({wanted}) \
         select m.id, m.session_id, m.kind, m.source, m.text, m.payload, m.author, \
                m.created_at, s.bot_id, s.channel, s.user_id, s.full_name \
         from wanted w join messages m on m.session_id = w.id join sessions s on s.id = w.id \
         order by m.session_id, m.id"
    );
    let (pool, scope, search) = (pool.clone(), scope.as_json(), search.clone());
    tokio::spawn(async move {
        let query = &search.query;
        let mut rows = sqlx::query_as::<_, ExportDbRow>(&sql)
            .bind(fts)
            .bind(scope)
            .bind(query.bot_id.as_deref().filter(|b| !b.is_empty()))
            .bind(query.channel.as_deref().filter(|c| !c.is_empty()))
            .bind(search.from_ms)
            .bind(search.to_ms)
            .bind(query.source.map(Source::as_str))
            .bind(query.agent.as_deref().filter(|a| !a.is_empty()))
            .bind(query.handed_off)
            .bind(query.paused_now)
            .bind(query.session_id)
            .fetch(&pool);
        let mut segments = Segments::default();
        while let Some(row) = rows.next().await {
            let failed = row.is_err();
            let item = row.map(|r| segments.row(r)).map_err(StoreError::from);
            // A client that went away stops the export.
            if sender.send(item).await.is_err() || failed {
                break;
            }
        }
    });
    receiver.boxed()
}

pub async fn transcript_messages(
    pool: &SqlitePool,
    session_id: i64,
    limit: u32,
) -> Result<Vec<app::model::Message>> {
    let rows = sqlx::query_as::<_, MessageRow>(
        "select id, session_id, kind, source, text, payload, author, created_at \
         from messages where session_id = ?1 order by id limit ?2",
    )
    .bind(session_id)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(MessageRow::into_message).collect()
}

pub async fn retention_days(pool: &SqlitePool, bot_id: &str) -> Result<Option<u32>> {
    let days: Option<Option<i64>> =
        sqlx::query_scalar("select retention_days from bot_settings where bot_id = ?1")
            .bind(bot_id)
            .fetch_optional(pool)
            .await?;
    Ok(days.flatten().map(|d| d as u32))
}

pub async fn set_retention_days(
    pool: &SqlitePool,
    bot_id: &str,
    days: Option<u32>,
    actor: &str,
) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "insert into bot_settings (bot_id, retention_days) values (?1, ?2) \
         on conflict(bot_id) do update set retention_days = excluded.retention_days",
    )
    .bind(bot_id)
    .bind(days)
    .execute(&mut *tx)
    .await?;
    let detail = match days {
        Some(d) => format!("retention: {d} days"),
        None => "retention: keep for ever".into(),
    };
    let audit = AuditEntry {
        actor: Some(actor.to_string()),
        action: "setting.changed",
        detail,
        address: None,
        bot_id: Some(bot_id.to_string()),
        session_id: None,
    };
    append_audit(&mut tx, &audit).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn sessions_idle_since(
    pool: &SqlitePool,
    bot_id: &str,
    cutoff_ms: i64,
    limit: u32,
) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "select id from sessions where bot_id = ?1 and last_event_on < ?2 \
         order by last_event_on, id limit ?3",
    )
    .bind(bot_id)
    .bind(cutoff_ms)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

pub async fn delete_session(
    pool: &SqlitePool,
    session_id: i64,
    actor: &str,
) -> Result<Vec<app::model::Event>> {
    let mut tx = pool.begin().await?;
    let found: Option<(String, String, String)> =
        sqlx::query_as("select bot_id, channel, user_id from sessions where id = ?1")
            .bind(session_id)
            .fetch_optional(&mut *tx)
            .await?;
    let (bot_id, channel, user_id) = found.ok_or(StoreError::NotFound("session"))?;
    for statement in [
        "delete from events where session_id = ?1",
        "delete from notifications where session_id = ?1",
        // Messages (and through its triggers the search index) and the pause history go with
        // the session (`on delete cascade`).
        "delete from sessions where id = ?1",
    ] {
        sqlx::query(statement)
            .bind(session_id)
            .execute(&mut *tx)
            .await?;
    }
    if channel == crate::channels::web::CHANNEL {
        sqlx::query("delete from web_visitors where id = ?1 and bot_id = ?2")
            .bind(&user_id)
            .bind(&bot_id)
            .execute(&mut *tx)
            .await?;
    }
    let audit = AuditEntry::about_session(actor, "session.deleted", &bot_id, session_id, "");
    append_audit(&mut tx, &audit).await?;
    let events = append_events(
        &mut tx,
        &bot_id,
        vec![EventKind::SessionDeleted { session_id }],
    )
    .await?;
    tx.commit().await?;
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::fts_query;

    #[test]
    fn typed_searches_become_safe_fts_queries() {
        assert_eq!(fts_query("refund"), Some("\"refund\"".into()));
        assert_eq!(
            fts_query("late  refund"),
            Some("\"late\" \"refund\"".into())
        );
        assert_eq!(
            fts_query("\"my order\" ref*"),
            Some("\"my order\" \"ref\"*".into())
        );
        // FTS syntax and SQL in what was typed are only words.
        assert_eq!(
            fts_query("a\" OR 1=1; drop table messages; --"),
            Some("\"a\" \"OR 1 1 drop table messages\"".into())
        );
        assert_eq!(
            fts_query("NEAR(x y) col:thing"),
            Some("\"NEAR x\" \"y\" \"col thing\"".into())
        );
        assert_eq!(fts_query("  -- ** \"\" "), None);
    }
}
