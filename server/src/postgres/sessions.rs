//! Sessions, their messages and their pause state in PostgreSQL.

use app::model::{Message, OwnerCount, SessionCounts, SessionOverview, SessionPage, SessionQuery};
use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::sql_lists::{cut_page, filter_name, like_pattern, list_size, page_size, parse_cursor};
use crate::sql_rows::{MessageRow, SessionRow, MESSAGE_COLUMNS, SESSION_SELECT};
use crate::store::{ListFor, Result, SessionKey};

pub async fn by_id(
    pool: &PgPool,
    bot_id: Option<&str>,
    session_id: i64,
) -> Result<Option<SessionOverview>> {
    let row = sqlx::query_as::<_, SessionRow>(&format!(
        "{SESSION_SELECT} where s.id = $1 and ($2::text is null or s.bot_id = $2)"
    ))
    .bind(session_id)
    .bind(bot_id)
    .fetch_optional(pool)
    .await?;
    row.map(SessionRow::into_overview).transpose()
}

pub async fn by_key(pool: &PgPool, key: &SessionKey) -> Result<Option<SessionOverview>> {
    let row = sqlx::query_as::<_, SessionRow>(&format!(
        "{SESSION_SELECT} where s.bot_id = $1 and s.channel = $2 and s.user_id = $3 and s.thread_id = $4"
    ))
    .bind(&key.bot_id)
    .bind(&key.channel)
    .bind(&key.user_id)
    .bind(key.thread_id.as_deref().unwrap_or(""))
    .fetch_optional(pool)
    .await?;
    row.map(SessionRow::into_overview).transpose()
}

pub async fn list(
    pool: &PgPool,
    bot_id: &str,
    query: &SessionQuery,
    asking: &ListFor,
) -> Result<SessionPage> {
    let limit = list_size(query.limit);
    let after = query.cursor.as_deref().map(parse_cursor).transpose()?;
    let search = query
        .search_text
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let filter = query.effective_filter();
    // The queue reads oldest handoff first; every other list newest activity first. The
    // cursor holds the last row's sort key.
    let (order, after_cond) = if filter.is_queue() {
        (
            "order by h.queued_at, s.id",
            "($3::bigint is null or h.queued_at > $3 or (h.queued_at = $3 and s.id > $4))",
        )
    } else {
        (
            "order by s.last_event_on desc, s.id desc",
            "($3::bigint is null or s.last_event_on < $3 or (s.last_event_on = $3 and s.id < $4))",
        )
    };
    // The filter (the same rule as `SessionFilter::admits`) and the cursor.
    let conditions = format!(
        "s.bot_id = $1 \
           and ($2 not in ('paused', 'waiting') or s.paused) \
           and ($2 <> 'waiting' or s.waiting) \
           and ($2 <> 'queue' or h.state = 'queued') \
           and ($2 <> 'mine' or (h.state = 'assigned' and h.assignee_id = $6)) \
           and ($2 <> 'others' or (h.state = 'assigned' \
                and ($6::bigint is null or h.assignee_id <> $6))) \
           and ($2 <> 'closed' or (h.id is null and s.id in (select c.session_id from handoffs c \
                where c.bot_id = $1 and c.state = 'closed' and c.closed_at >= $7))) \
           and {after_cond}"
    );
    // The trigram index holds name and user id as one text; the second test keeps a match
    // from spanning the two.
    let like = "(coalesce(s.full_name, '') || ' ' || s.user_id) ilike $8 escape '\\' \
                and (s.full_name ilike $8 escape '\\' or s.user_id ilike $8 escape '\\')";
    let sql = match search {
        None => format!("{SESSION_SELECT} where {conditions} {order} limit $5"),
        Some(_) => format!("{SESSION_SELECT} where {conditions} and {like} {order} limit $5"),
    };
    let mut rows = sqlx::query_as::<_, SessionRow>(&sql)
        .bind(bot_id)
        .bind(filter_name(filter))
        .bind(after.map(|c| c.0))
        .bind(after.map(|c| c.1))
        // One more row than asked tells whether there is a next page.
        .bind(i64::from(limit) + 1)
        .bind(asking.viewer)
        .bind(asking.closed_since.timestamp_millis());
    if let Some(text) = search {
        rows = rows.bind(like_pattern(text));
    }
    let mut sessions = rows
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(SessionRow::into_overview)
        .collect::<Result<Vec<_>>>()?;
    let next_cursor = cut_page(&mut sessions, limit, filter.is_queue());
    Ok(SessionPage {
        sessions,
        next_cursor,
    })
}

pub async fn messages(
    pool: &PgPool,
    session_id: i64,
    before: Option<i64>,
    limit: u32,
) -> Result<Vec<Message>> {
    let rows = sqlx::query_as::<_, MessageRow>(&format!(
        "select {MESSAGE_COLUMNS} from messages \
         where session_id = $1 and ($2::bigint is null or id < $2) order by id desc limit $3"
    ))
    .bind(session_id)
    .bind(before)
    .bind(i64::from(page_size(limit)))
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
    pool: &PgPool,
    session_id: i64,
    after: i64,
    outgoing_only: bool,
    limit: u32,
) -> Result<Vec<Message>> {
    let rows = sqlx::query_as::<_, MessageRow>(&format!(
        "select {MESSAGE_COLUMNS} from messages \
         where session_id = $1 and id > $2 and (not $4 or direction = 'out') order by id limit $3"
    ))
    .bind(session_id)
    .bind(after)
    .bind(i64::from(page_size(limit)))
    .bind(outgoing_only)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(MessageRow::into_message).collect()
}

/// The counts kept per bot by triggers.
pub const KEPT_COUNTS: &str = "select total, paused, waiting from session_counts where bot_id = $1";
/// The bot's queue length.
pub const QUEUED_COUNT: &str =
    "select count(*) from handoffs where bot_id = $1 and state = 'queued'";
/// Open conversations per owner.
pub const OWNER_COUNTS: &str = "select assignee_id, count(*) from handoffs \
     where bot_id = $1 and state = 'assigned' and assignee_id is not null \
     group by assignee_id order by assignee_id";
/// Conversations back with the bot after a handoff closed since `$2` (the `closed` list).
const CLOSED_COUNT: &str = "select count(*) from sessions s where s.bot_id = $1 \
     and s.id in (select c.session_id from handoffs c \
                  where c.bot_id = $1 and c.state = 'closed' and c.closed_at >= $2) \
     and not exists (select 1 from handoffs o where o.session_id = s.id and o.state <> 'closed')";

pub async fn counts(
    pool: &PgPool,
    bot_id: &str,
    closed_since: Option<DateTime<Utc>>,
) -> Result<SessionCounts> {
    let kept = sqlx::query_as::<_, (i64, i64, i64)>(KEPT_COUNTS)
        .bind(bot_id)
        .fetch_optional(pool)
        .await?;
    let (all, paused, waiting) = kept.unwrap_or_default();
    let queued = sqlx::query_scalar::<_, i64>(QUEUED_COUNT)
        .bind(bot_id)
        .fetch_one(pool)
        .await?;
    let owners = sqlx::query_as::<_, (i64, i64)>(OWNER_COUNTS)
        .bind(bot_id)
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|(user_id, open)| OwnerCount { user_id, open })
        .collect();
    let closed = match closed_since {
        Some(since) => Some(
            sqlx::query_scalar::<_, i64>(CLOSED_COUNT)
                .bind(bot_id)
                .bind(since.timestamp_millis())
                .fetch_one(pool)
                .await?,
        ),
        None => None,
    };
    Ok(SessionCounts {
        all,
        paused,
        waiting,
        queued,
        owners,
        closed,
    })
}
