//! History in SQLite: FTS5 search with ranked, highlighted results, transcripts, deletion.

use app::history::{snippet_parts, HistoryHit, HistoryPage};
use app::model::Source;
use futures::{SinkExt, StreamExt};
use sqlx::SqlitePool;

use crate::sql_rows::{time, MessageRow};
use crate::store::history::{ExportMessage, ExportStream, Search};
use crate::store::search_terms::{terms, words};
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
    let terms: Vec<String> = terms(input)
        .iter()
        .map(|term| {
            let star = if term.prefix { "*" } else { "" };
            format!("text:\"{}\"{star}", term.words.join(" "))
        })
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

/// `"the words"` of `s` (letters and digits only), or `None` when there are none.
fn phrase(s: &str) -> Option<String> {
    let words = words(s);
    (!words.is_empty()).then(|| format!("\"{}\"", words.join(" ")))
}

/// The FTS query of a search: its words, narrowed by the filters the index also holds (who
/// wrote it), so rare kinds of messages are found without reading every match. The SQL filters
/// still decide exactly.
fn match_expression(search: &Search) -> Option<String> {
    let query = &search.query;
    let mut expression = fts_query(query.words()?)?;
    if let Some(source) = query.source {
        expression.push_str(&format!(" source:\"{}\"", source.as_str()));
    }
    if let Some(agent) = query.agent.as_deref().and_then(phrase) {
        expression.push_str(&format!(" author:{agent}"));
    }
    Some(expression)
}

/// Relevance is ranked among the newest this many matches (after the filters), then among the
/// next this many, and so on: a search answers in bounded time however common its words are,
/// and the best of recent history comes first.
const WINDOW: u32 = 1_000;

/// Where a page starts. Ranked: the window (the highest message id it may hold) and the last
/// result shown in it ("top_rank_id", or "top" for a window's start). Newest first: the last id.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Cursor {
    Ranked { top: i64, after: Option<(f64, i64)> },
    Newest { before: Option<i64> },
}

fn parse_cursor(cursor: Option<&str>, ranked: bool) -> Result<Cursor> {
    let cursor = cursor.filter(|c| !c.is_empty());
    let number = |s: &str| s.parse::<i64>().map_err(|_| StoreError::BadCursor);
    if !ranked {
        let before = cursor.map(number).transpose()?;
        return Ok(Cursor::Newest { before });
    }
    let Some(cursor) = cursor else {
        return Ok(Cursor::Ranked {
            top: i64::MAX,
            after: None,
        });
    };
    let parts: Vec<&str> = cursor.split('_').collect();
    match parts.as_slice() {
        [top] => Ok(Cursor::Ranked {
            top: number(top)?,
            after: None,
        }),
        [top, rank, id] => {
            let rank = rank.parse::<f64>().map_err(|_| StoreError::BadCursor)?;
            Ok(Cursor::Ranked {
                top: number(top)?,
                after: Some((rank, number(id)?)),
            })
        }
        _ => Err(StoreError::BadCursor),
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
    /// Ranked: how many matches the window held, and its lowest message id.
    window_size: i64,
    window_low: i64,
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
    let fts = match_expression(search);
    if query.words().is_some() && fts.is_none() {
        // Only punctuation: nothing can match.
        return Ok(HistoryPage::default());
    }
    let mut cursor = parse_cursor(query.cursor.as_deref(), fts.is_some())?;
    // A window whose results were all shown hands over to the next one; never an empty page
    // while older matches remain.
    loop {
        let rows = page(pool, scope, search, fts.as_deref(), cursor, limit).await?;
        let more_here = rows.len() > limit as usize;
        let rows: Vec<HitRow> = rows.into_iter().take(limit as usize).collect();
        let next = match (cursor, rows.last()) {
            (Cursor::Newest { .. }, Some(last)) if more_here => Some(last.id.to_string()),
            (Cursor::Newest { .. }, _) => None,
            (Cursor::Ranked { top, .. }, Some(last)) if more_here => {
                Some(format!("{top}_{}_{}", last.rank, last.id))
            }
            (Cursor::Ranked { .. }, _) => {
                // The window is done: the next one starts below it, if it was full.
                let full = rows.first().is_some_and(|r| r.window_size >= WINDOW as i64);
                let low = rows.first().map(|r| r.window_low);
                match (full, low) {
                    (true, Some(low)) => Some((low - 1).to_string()),
                    _ => None,
                }
            }
        };
        if rows.is_empty() {
            if let Cursor::Ranked {
                top,
                after: Some(_),
            } = cursor
            {
                // The last page of a window ended exactly at its end: move to the window below.
                let low = window_low(pool, scope, search, fts.as_deref(), top).await?;
                match low {
                    Some(low) => {
                        cursor = Cursor::Ranked {
                            top: low - 1,
                            after: None,
                        };
                        continue;
                    }
                    None => return Ok(HistoryPage::default()),
                }
            }
        }
        let results = rows.into_iter().map(into_hit).collect::<Result<Vec<_>>>()?;
        return Ok(HistoryPage {
            results,
            next_cursor: next,
        });
    }
}

/// The lowest message id of a full window below `top`, or `None` when it is not full.
async fn window_low(
    pool: &SqlitePool,
    scope: &BotScope,
    search: &Search,
    fts: Option<&str>,
    top: i64,
) -> Result<Option<i64>> {
    let sql = ranked_sql(true);
    let row: Option<(i64, i64)> = bind_filters(sqlx::query_as(&sql), scope, search, fts)
        .bind(top)
        .fetch_optional(pool)
        .await?;
    Ok(row.and_then(|(size, low)| (size >= WINDOW as i64).then_some(low)))
}

/// The window query; `bounds_only` answers only its size and lowest id.
fn ranked_sql(bounds_only: bool) -> String {
    let window = format!(
        "with win as (\
           select m.id, m.session_id, s.bot_id, s.channel, s.user_id, s.full_name, m.source, \
                  m.author, m.created_at, \
                  snippet(messages_fts, 0, char(57344), char(57345), '…', 24) as snippet, \
                  messages_fts.rank as rank \
           from messages_fts \
           join messages m on m.id = messages_fts.rowid \
           join sessions s on s.id = m.session_id \
           where messages_fts match ?1 and {FILTERS} and messages_fts.rowid <= ?12 \
           order by messages_fts.rowid desc limit {WINDOW}) "
    );
    if bounds_only {
        format!("{window} select count(*), coalesce(min(id), 0) from win")
    } else {
        format!(
            "{window} select win.*, (select count(*) from win) as window_size, \
                    (select min(id) from win) as window_low \
             from win where (?13 is null or rank > ?13 or (rank = ?13 and id > ?14)) \
             order by rank, id limit ?15"
        )
    }
}

/// Binds `?1` (the FTS query) to `?11` (the filters) of a history query.
fn bind_filters<'q, O>(
    q: sqlx::query::QueryAs<'q, sqlx::Sqlite, O, sqlx::sqlite::SqliteArguments<'q>>,
    scope: &BotScope,
    search: &'q Search,
    fts: Option<&'q str>,
) -> sqlx::query::QueryAs<'q, sqlx::Sqlite, O, sqlx::sqlite::SqliteArguments<'q>> {
    let query = &search.query;
    q.bind(fts)
        .bind(super::scope_json(scope))
        .bind(query.bot_id.as_deref().filter(|b| !b.is_empty()))
        .bind(query.channel.as_deref().filter(|c| !c.is_empty()))
        .bind(search.from_ms)
        .bind(search.to_ms)
        .bind(query.source.map(Source::as_str))
        .bind(query.agent.as_deref().filter(|a| !a.is_empty()))
        .bind(query.handed_off)
        .bind(query.paused_now)
        .bind(query.session_id)
}

/// One page of rows (one more than `limit`, to tell whether more follow).
async fn page(
    pool: &SqlitePool,
    scope: &BotScope,
    search: &Search,
    fts: Option<&str>,
    cursor: Cursor,
    limit: u32,
) -> Result<Vec<HitRow>> {
    let rows = match cursor {
        Cursor::Ranked { top, after } => {
            let sql = ranked_sql(false);
            bind_filters(sqlx::query_as::<_, HitRow>(&sql), scope, search, fts)
                .bind(top)
                .bind(after.map(|a| a.0))
                .bind(after.map(|a| a.1))
                .bind(limit + 1)
                .fetch_all(pool)
                .await?
        }
        Cursor::Newest { before } => {
            let sql = format!(
                "select m.id, m.session_id, s.bot_id, s.channel, s.user_id, s.full_name, \
                        m.source, m.author, m.created_at, substr(m.text, 1, 200) as snippet, \
                        0.0 as rank, 0 as window_size, 0 as window_low \
                 from messages m join sessions s on s.id = m.session_id \
                 where {FILTERS} and (?12 is null or m.id < ?12) \
                 order by m.id desc limit ?13"
            );
            bind_filters(sqlx::query_as::<_, HitRow>(&sql), scope, search, None)
                .bind(before)
                .bind(limit + 1)
                .fetch_all(pool)
                .await?
        }
    };
    Ok(rows)
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
    #[sqlx(flatten)]
    message: MessageRow,
    bot_id: String,
    channel: String,
    user_id: String,
    full_name: Option<String>,
}

impl ExportDbRow {
    fn into_export(self) -> Result<ExportMessage> {
        Ok(ExportMessage {
            message: self.message.into_message()?,
            bot_id: self.bot_id,
            channel: self.channel,
            user_id: self.user_id,
            full_name: self.full_name,
        })
    }
}

/// Rows in flight between the database and the client: enough to keep both busy.
const EXPORT_BUFFER: usize = 256;

pub fn export(pool: &SqlitePool, scope: &BotScope, search: &Search) -> ExportStream {
    let (mut sender, receiver) = futures::channel::mpsc::channel(EXPORT_BUFFER);
    let fts = search
        .query
        .words()
        .map(|_| match_expression(search).unwrap_or_default());
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
                m.author_kind, m.author_id, m.created_at, s.bot_id, s.channel, s.user_id, \
                s.full_name \
         from wanted w join messages m on m.session_id = w.id join sessions s on s.id = w.id \
         order by m.session_id, m.id"
    );
    let (pool, scope, search) = (pool.clone(), scope.clone(), search.clone());
    tokio::spawn(async move {
        let query = sqlx::query_as::<_, ExportDbRow>(&sql);
        let mut rows = bind_filters(query, &scope, &search, fts.as_deref()).fetch(&pool);
        while let Some(row) = rows.next().await {
            let item = row
                .map_err(StoreError::from)
                .and_then(ExportDbRow::into_export);
            let failed = item.is_err();
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
        "select id, session_id, kind, source, text, payload, author, author_kind, author_id, \
                created_at \
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

#[cfg(test)]
mod tests {
    use super::fts_query;

    #[test]
    fn typed_searches_become_safe_fts_queries() {
        assert_eq!(fts_query("refund"), Some("text:\"refund\"".into()));
        assert_eq!(
            fts_query("late  refund"),
            Some("text:\"late\" text:\"refund\"".into())
        );
        assert_eq!(
            fts_query("\"my order\" ref*"),
            Some("text:\"my order\" text:\"ref\"*".into())
        );
        // FTS syntax and SQL in what was typed are only words.
        assert_eq!(
            fts_query("a\" OR 1=1; drop table messages; --"),
            Some("text:\"a\" text:\"OR 1 1 drop table messages\"".into())
        );
        assert_eq!(
            fts_query("NEAR(x y) col:thing"),
            Some("text:\"NEAR x\" text:\"y\" text:\"col thing\"".into())
        );
        assert_eq!(fts_query("  -- ** \"\" "), None);
    }
}
