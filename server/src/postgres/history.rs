//! History search, transcripts, export and retention reads in PostgreSQL.
//!
//! The answers are SQLite's (`sqlite/history.rs`): the same words match, pages are cut the same
//! way with the same cursors, and snippets are cut as FTS5's `snippet()` cuts them. Only the
//! relevance differs in its numbers: `ts_rank` instead of bm25, negated so that here too the
//! best is the lowest.

use app::history::{snippet_parts, HistoryHit, HistoryPage};
use app::model::Source;
use futures::{SinkExt, StreamExt};
use sqlx::postgres::PgArguments;
use sqlx::query::QueryAs;
use sqlx::{PgPool, Postgres};

use crate::sql_rows::{time, MessageRow, MESSAGE_COLUMNS};
use crate::store::history::{ExportMessage, ExportStream, Search};
use crate::store::search_terms::terms;
use crate::store::{BotScope, Result, StoreError};

/// Around matched words in snippets: the markers SQLite's store uses.
const OPEN: char = '\u{E000}';
const CLOSE: char = '\u{E001}';
const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 500;

/// What was typed as the text of a `to_tsquery('hitl', …)` that cannot be a syntax error: every
/// term must match; a phrase's words follow each other (`<->`); a prefix is `:*`. Each word is
/// quoted and restricted to weight A, the message's text (B is its author), as FTS5's `text:`
/// column filter. `None` when nothing searchable is left.
fn tsquery(input: &str) -> Option<String> {
    let terms: Vec<String> = terms(input)
        .into_iter()
        .map(|term| {
            let last = term.words.len() - 1;
            let words: Vec<String> = term
                .words
                .iter()
                .enumerate()
                .map(|(i, word)| {
                    // Words hold only letters and digits; the quoting is there all the same so
                    // that a change to the reading above cannot open a way into the syntax.
                    let word = word.replace('\\', "\\\\").replace('\'', "''");
                    let label = if term.prefix && i == last { "*A" } else { "A" };
                    format!("'{word}':{label}")
                })
                .collect();
            format!("({})", words.join(" <-> "))
        })
        .collect();
    (!terms.is_empty()).then(|| terms.join(" & "))
}

/// The text query of a search. Unlike SQLite's FTS query it holds no source or author: those
/// are plain columns here (with their own index for the author), and the SQL filters decide.
fn text_query(search: &Search) -> Option<String> {
    tsquery(search.query.words()?)
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
    /// Ranked: the whole text with every match marked, cut in [`snippet`]. Newest first: the
    /// start of the text, as it is shown.
    snippet: String,
    /// Ranked: the text itself, whose punctuation the marked one lost (see [`WORDS_ONLY`]).
    text: Option<String>,
    rank: f64,
    /// Ranked: how many matches the window held, and its lowest message id.
    window_size: i64,
    window_low: i64,
}

/// The filters every search shares; `$1` is the text query (or null) and the rest follow.
const FILTERS: &str = "($2::text[] is null or s.bot_id = any($2)) \
     and ($3::text is null or s.bot_id = $3) \
     and ($4::text is null or s.channel = $4) \
     and ($5::bigint is null or m.created_at >= $5) \
     and ($6::bigint is null or m.created_at < $6) \
     and ($7::text is null or m.source = $7) \
     and ($8::text is null or (m.source = 'agent' and m.author = $8)) \
     and ($9::boolean is null or exists (select 1 from pause_history p \
            where p.session_id = s.id and p.paused) = $9) \
     and ($10::boolean is null or s.paused = $10) \
     and ($11::bigint is null or m.session_id = $11)";

pub async fn search(pool: &PgPool, scope: &BotScope, search: &Search) -> Result<HistoryPage> {
    let query = &search.query;
    let limit = match query.limit.unwrap_or(0) {
        0 => DEFAULT_PAGE,
        n => n.min(MAX_PAGE),
    };
    let fts = text_query(search);
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
        let ranked = matches!(cursor, Cursor::Ranked { .. });
        let results = rows
            .into_iter()
            .map(|row| into_hit(row, ranked))
            .collect::<Result<Vec<_>>>()?;
        return Ok(HistoryPage {
            results,
            next_cursor: next,
        });
    }
}

/// The lowest message id of a full window below `top`, or `None` when it is not full.
async fn window_low(
    pool: &PgPool,
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

/// What the search column indexes of a text (the migration's `messages.search` says the same):
/// ASCII punctuation turned into spaces, one for one, so that addresses, links and markup split
/// into their words as SQLite's tokenizer splits them, where PostgreSQL's parser would keep
/// `ada@example.com` or a URL whole.
fn words_only(column: &str) -> String {
    format!(
        "translate({column}, '{PUNCTUATION}', '{}')",
        " ".repeat(PUNCTUATION_COUNT)
    )
}

/// ASCII punctuation as a SQL string literal's content (the quote doubled).
const PUNCTUATION: &str = "!\"#$%&''()*+,-./:;<=>?@[\\]^_`{|}~";
const PUNCTUATION_COUNT: usize = 32;

/// A marked text of [`words_only`] with the text's own characters put back: each character
/// after the markers is the original's at the same place. When the two do not line up the
/// text is shown unmarked rather than wrong.
fn with_punctuation(marked: &str, original: Option<&str>) -> String {
    let Some(original) = original else {
        return marked.to_string();
    };
    let mut chars = original.chars();
    let mut out = String::with_capacity(original.len() + 8);
    for c in marked.chars() {
        match c {
            OPEN | CLOSE => out.push(c),
            _ => match chars.next() {
                Some(o) => out.push(o),
                None => return original.to_string(),
            },
        }
    }
    if chars.next().is_some() {
        return original.to_string();
    }
    out
}

/// `ts_headline` marks every match of the whole text (`HighlightAll`) and changes nothing else
/// in it; [`snippet`] then cuts it as FTS5 does (PostgreSQL's own cut differs: it starts at the
/// match and drops numbers at the ends).
const HEADLINE: &str = "StartSel=\u{E000}, StopSel=\u{E001}, HighlightAll=true";

/// The window query; `bounds_only` answers only its size and lowest id.
fn ranked_sql(bounds_only: bool) -> String {
    // Normalised by the log of the length, as bm25 favours the shorter of two messages.
    let window = format!(
        "with win as (\
           select m.id, m.session_id, s.bot_id, s.channel, s.user_id, s.full_name, m.source, \
                  m.author, m.created_at, m.text, \
                  (-ts_rank(m.search, to_tsquery('hitl', $1), 1))::float8 as rank \
           from messages m \
           join sessions s on s.id = m.session_id \
           where m.search @@ to_tsquery('hitl', $1) and {FILTERS} and m.id <= $12 \
           order by m.id desc limit {WINDOW}) "
    );
    if bounds_only {
        format!("{window} select count(*), coalesce(min(id), 0::bigint) from win")
    } else {
        // The headline only for the rows of the page, not the whole window.
        let words = words_only("p.text");
        format!(
            "{window} select p.id, p.session_id, p.bot_id, p.channel, p.user_id, p.full_name, \
                    p.source, p.author, p.created_at, \
                    ts_headline('hitl', {words}, to_tsquery('hitl', $1), '{HEADLINE}') \
                        as snippet, p.text, \
                    p.rank, p.window_size, p.window_low \
             from (select win.*, (select count(*) from win) as window_size, \
                          (select min(id) from win) as window_low \
                   from win \
                   where ($13::float8 is null or rank > $13 or (rank = $13 and id > $14)) \
                   order by rank, id limit $15) p \
             order by p.rank, p.id"
        )
    }
}

/// Binds `$1` (the text query) to `$11` (the filters) of a history query.
fn bind_filters<'q, O>(
    q: QueryAs<'q, Postgres, O, PgArguments>,
    scope: &BotScope,
    search: &'q Search,
    fts: Option<&'q str>,
) -> QueryAs<'q, Postgres, O, PgArguments> {
    let query = &search.query;
    q.bind(fts)
        .bind(super::scope_array(scope))
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
    pool: &PgPool,
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
                .bind(i64::from(limit) + 1)
                .fetch_all(pool)
                .await?
        }
        Cursor::Newest { before } => {
            let sql = format!(
                "select m.id, m.session_id, s.bot_id, s.channel, s.user_id, s.full_name, \
                        m.source, m.author, m.created_at, substr(m.text, 1, 200) as snippet, null::text as text, \
                        0::float8 as rank, 0::bigint as window_size, 0::bigint as window_low \
                 from messages m join sessions s on s.id = m.session_id \
                 where {FILTERS} and ($12::bigint is null or m.id < $12) \
                 order by m.id desc limit $13"
            );
            bind_filters(sqlx::query_as::<_, HitRow>(&sql), scope, search, None)
                .bind(before)
                .bind(i64::from(limit) + 1)
                .fetch_all(pool)
                .await?
        }
    };
    Ok(rows)
}

fn into_hit(row: HitRow, ranked: bool) -> Result<HistoryHit> {
    let source = Source::parse(&row.source)
        .ok_or_else(|| StoreError::Corrupt(format!("message {} source", row.id)))?;
    let marked = if ranked {
        snippet(&with_punctuation(&row.snippet, row.text.as_deref()))
    } else {
        row.snippet
    };
    let snippet_parts = snippet_parts(&marked, OPEN, CLOSE);
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

/// Tokens a snippet shows, and what stands for the text it leaves out: SQLite's
/// `snippet(messages_fts, 0, …, '…', 24)`.
const SNIPPET_TOKENS: usize = 24;
const ELLIPSIS: &str = "…";

/// A match in a text: its first and last token, and its word (folded, to tell a repeat from
/// another word).
struct Match {
    first: usize,
    last: usize,
    word: String,
}

/// The snippet FTS5 would cut from a text whose matches are marked: the window of
/// [`SNIPPET_TOKENS`] tokens (runs of letters and digits, as the unicode61 tokenizer splits)
/// that holds the most different matched words, centred on them or started at a sentence, with
/// [`ELLIPSIS`] where text is left out. The one difference: each matched word is marked on its
/// own, where FTS5 marks a phrase as one.
fn snippet(marked: &str) -> String {
    let mut text = String::with_capacity(marked.len());
    let mut hits = Vec::new();
    let mut open_at = None;
    for c in marked.chars() {
        match c {
            OPEN => open_at = Some(text.len()),
            CLOSE => {
                if let Some(start) = open_at.take() {
                    hits.push((start, text.len()));
                }
            }
            c => text.push(c),
        }
    }
    let tokens = tokens(&text);
    if tokens.is_empty() {
        return text;
    }
    let matches = matches(&text, &tokens, &hits);
    let (start, end) = window(&text, &tokens, &matches);
    let mut out = String::new();
    if start > 0 {
        out.push_str(ELLIPSIS);
    }
    // From the text's very start when the window starts there, as FTS5 does.
    let mut at = if start > 0 { tokens[start].0 } else { 0 };
    for m in matches
        .iter()
        .filter(|m| m.first >= start && m.first <= end)
    {
        let from = tokens[m.first].0;
        let to = tokens[m.last.min(end)].1;
        out.push_str(&text[at..from]);
        out.push(OPEN);
        out.push_str(&text[from..to]);
        out.push(CLOSE);
        at = to;
    }
    if end >= tokens.len() - 1 {
        out.push_str(&text[at..]);
    } else {
        out.push_str(&text[at..tokens[end].1]);
        out.push_str(ELLIPSIS);
    }
    out
}

/// The byte ranges of the tokens of `text`.
fn tokens(text: &str) -> Vec<(usize, usize)> {
    let mut tokens = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                tokens.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        tokens.push((s, text.len()));
    }
    tokens
}

/// The marked byte ranges as tokens, in order; ranges that share a token are one match.
fn matches(text: &str, tokens: &[(usize, usize)], hits: &[(usize, usize)]) -> Vec<Match> {
    let mut matches: Vec<Match> = Vec::new();
    let mut t = 0;
    for &(from, to) in hits {
        while t < tokens.len() && tokens[t].1 <= from {
            t += 1;
        }
        if t == tokens.len() || tokens[t].0 >= to {
            continue;
        }
        let mut last = t;
        while last + 1 < tokens.len() && tokens[last + 1].0 < to {
            last += 1;
        }
        match matches.last_mut() {
            Some(previous) if previous.last >= t => previous.last = previous.last.max(last),
            _ => matches.push(Match {
                first: t,
                last,
                word: text[from..to].to_lowercase(),
            }),
        }
    }
    matches
}

/// The first and last token of the snippet, chosen as FTS5's `snippet()` chooses.
fn window(text: &str, tokens: &[(usize, usize)], matches: &[Match]) -> (usize, usize) {
    let size = tokens.len();
    let sentences = sentence_starts(text, tokens);
    let (mut best_score, mut best_start) = (0, 0);
    for m in matches {
        let (points, centred) = score(matches, size, m.first);
        if points > best_score {
            (best_score, best_start) = (points, centred);
        }
        if size > SNIPPET_TOKENS {
            // The sentence the match is in, when it starts before it.
            let sentence = sentences
                .iter()
                .copied()
                .take_while(|&s| s <= m.first)
                .last()
                .unwrap_or(0);
            if sentence < m.first {
                let bonus = if sentence == 0 { 120 } else { 100 };
                let points = score(matches, size, sentence).0 + bonus;
                if points > best_score {
                    (best_score, best_start) = (points, sentence);
                }
            }
        }
    }
    (best_start, best_start + SNIPPET_TOKENS - 1)
}

/// FTS5's score of the window from token `from`: 1,000 for each word first seen in it, 1 for
/// each repeat; and where a window with those matches in its middle starts.
fn score(matches: &[Match], size: usize, from: usize) -> (u32, usize) {
    let mut seen: Vec<&str> = Vec::new();
    let mut score = 0;
    let mut first = None;
    let mut end = 0;
    for m in matches
        .iter()
        .filter(|m| m.first >= from && m.first < from + SNIPPET_TOKENS)
    {
        if seen.contains(&m.word.as_str()) {
            score += 1;
        } else {
            score += 1_000;
            seen.push(&m.word);
        }
        first.get_or_insert(m.first);
        end = m.last + 1;
    }
    let Some(first) = first else {
        return (0, 0);
    };
    let (n, size) = (SNIPPET_TOKENS as i64, size as i64);
    let mut start = first as i64 - (n - (end as i64 - first as i64)) / 2;
    if start + n > size {
        start = size - n;
    }
    (score, start.max(0) as usize)
}

/// The tokens that begin a sentence: the first, and each after a `.` or `:` and white space.
fn sentence_starts(text: &str, tokens: &[(usize, usize)]) -> Vec<usize> {
    let mut starts = Vec::new();
    for (i, &(start, _)) in tokens.iter().enumerate() {
        let before = &text[..start];
        let trimmed = before.trim_end_matches([' ', '\t', '\n', '\r']);
        if i == 0 || (trimmed.len() < before.len() && trimmed.ends_with(['.', ':'])) {
            starts.push(i);
        }
    }
    starts
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

pub fn export(pool: &PgPool, scope: &BotScope, search: &Search) -> ExportStream {
    let (mut sender, receiver) = futures::channel::mpsc::channel(EXPORT_BUFFER);
    let fts = search
        .query
        .words()
        .map(|_| text_query(search).unwrap_or_default());
    if fts.as_deref() == Some("") {
        // Only punctuation was typed: nothing matches.
        return futures::stream::empty().boxed();
    }
    let wanted = if fts.is_some() {
        format!(
            "select distinct m.session_id as id from messages m \
             join sessions s on s.id = m.session_id \
             where m.search @@ to_tsquery('hitl', $1) and {FILTERS}"
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
    pool: &PgPool,
    session_id: i64,
    limit: u32,
) -> Result<Vec<app::model::Message>> {
    let rows = sqlx::query_as::<_, MessageRow>(&format!(
        "select {MESSAGE_COLUMNS} from messages where session_id = $1 order by id limit $2"
    ))
    .bind(session_id)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(MessageRow::into_message).collect()
}

pub async fn retention_days(pool: &PgPool, bot_id: &str) -> Result<Option<u32>> {
    let days: Option<Option<i64>> =
        sqlx::query_scalar("select retention_days from bot_settings where bot_id = $1")
            .bind(bot_id)
            .fetch_optional(pool)
            .await?;
    Ok(days.flatten().map(|d| d as u32))
}

pub async fn sessions_idle_since(
    pool: &PgPool,
    bot_id: &str,
    cutoff_ms: i64,
    limit: u32,
) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "select id from sessions where bot_id = $1 and last_event_on < $2 \
         order by last_event_on, id limit $3",
    )
    .bind(bot_id)
    .bind(cutoff_ms)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_searches_become_safe_tsqueries() {
        assert_eq!(tsquery("refund"), Some("('refund':A)".into()));
        assert_eq!(
            tsquery("late  refund"),
            Some("('late':A) & ('refund':A)".into())
        );
        assert_eq!(
            tsquery("\"my order\" ref*"),
            Some("('my':A <-> 'order':A) & ('ref':*A)".into())
        );
        assert_eq!(tsquery("\"my ord\"*"), Some("('my':A <-> 'ord':*A)".into()));
        // Query syntax and SQL in what was typed are only words.
        assert_eq!(
            tsquery("a\" OR 1=1; drop table messages; --"),
            Some("('a':A) & ('OR':A <-> '1':A <-> '1':A <-> 'drop':A <-> 'table':A <-> 'messages':A)".into())
        );
        assert_eq!(
            tsquery("it's !x | y:* <-> (z) &"),
            Some("('it':A <-> 's':A) & ('x':A) & ('y':*A) & ('z':A)".into())
        );
        assert_eq!(tsquery("  -- ** \"\" "), None);
    }

    fn mark(words: &[&str], text: &str) -> String {
        // As `ts_headline` with `HighlightAll` marks: every matching word.
        let mut out = String::new();
        let mut word = String::new();
        for c in text.chars().chain(std::iter::once(' ')) {
            if c.is_alphanumeric() {
                word.push(c);
                continue;
            }
            if words.contains(&word.to_lowercase().as_str()) {
                out.push_str(&format!("\u{E000}{word}\u{E001}"));
            } else {
                out.push_str(&word);
            }
            word.clear();
            out.push(c);
        }
        out.pop();
        out
    }

    #[test]
    fn short_texts_are_whole_with_their_matches_marked() {
        assert_eq!(
            snippet(&mark(&["parcel"], "My parcel never arrived")),
            "My \u{E000}parcel\u{E001} never arrived"
        );
        assert_eq!(
            snippet(&mark(&["shipping"], "shipping shipping")),
            "\u{E000}shipping\u{E001} \u{E000}shipping\u{E001}"
        );
        assert_eq!(
            snippet(&mark(&["lamp"], "lamp lamp lamp 100")),
            "\u{E000}lamp\u{E001} \u{E000}lamp\u{E001} \u{E000}lamp\u{E001} 100"
        );
        assert_eq!(snippet("…?!"), "…?!");
    }

    #[test]
    fn punctuation_comes_back_where_it_was() {
        let marked = format!("mail ada example com {OPEN}refund{CLOSE}");
        assert_eq!(
            with_punctuation(&marked, Some("mail ada@example.com/refund")),
            format!("mail ada@example.com/{OPEN}refund{CLOSE}")
        );
        assert_eq!(with_punctuation("ab", Some("abc")), "abc");
        assert_eq!(
            PUNCTUATION.replace("''", "'").chars().count(),
            PUNCTUATION_COUNT
        );
        assert!(PUNCTUATION
            .replace("''", "'")
            .chars()
            .all(|c| c.is_ascii_punctuation()));
    }

    /// Cut as SQLite 3.46's FTS5 `snippet(…, '…', 24)` cuts the same texts.
    #[test]
    fn long_texts_are_cut_as_fts5_cuts_them() {
        let words: Vec<String> = (1..=40).map(|i| format!("w{i}")).collect();
        let text = words.join(" ");
        let upto = |from: usize, to: usize| words[from - 1..to].join(" ");
        // Near the end: the last 24 tokens.
        assert_eq!(
            snippet(&mark(&["w30"], &text)),
            format!("…{} \u{E000}w30\u{E001} {}", upto(17, 29), upto(31, 40))
        );
        // Near the start: from the start.
        assert_eq!(
            snippet(&mark(&["w3"], &text)),
            format!("w1 w2 \u{E000}w3\u{E001} {}…", upto(4, 24))
        );
        // From the start of the sentence the match is in.
        assert_eq!(
            snippet(&mark(&["w20"], &format!("First part here. {text}"))),
            format!("…{} \u{E000}w20\u{E001} {}…", upto(1, 19), upto(21, 24))
        );
    }
}
