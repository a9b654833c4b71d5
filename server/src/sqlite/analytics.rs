//! Handoff analytics in SQLite: counts per UTC day, and each handoff's first reply and return.

use std::collections::BTreeMap;

use app::analytics::{Analytics, DayFigures, ReturnedBy, SourceCounts, Spread};
use app::model::ActorKind;
use chrono::NaiveDate;
use sqlx::SqlitePool;

use crate::store::Result;

const DAY_MS: i64 = 86_400_000;

fn start_ms(day: NaiveDate) -> i64 {
    day.and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc()
        .timestamp_millis()
}

// `+s.bot_id` keeps SQLite from walking the bot's sessions: the time index on messages reads
// only the range asked for.

/// One handoff: when it began, the first agent reply after it, and how it ended.
#[derive(sqlx::FromRow)]
struct HandoffRow {
    paused_at: i64,
    first_reply: Option<i64>,
    resumed_at: Option<i64>,
    resumed_by: Option<String>,
}

pub async fn analytics(
    pool: &SqlitePool,
    bot_id: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Analytics> {
    let (from_ms, to_ms) = (start_ms(from), start_ms(to) + DAY_MS);
    let mut days: BTreeMap<i64, DayFigures> = BTreeMap::new();
    let mut day = from;
    while day <= to {
        let index = start_ms(day) / DAY_MS;
        days.insert(
            index,
            DayFigures {
                day,
                conversations: 0,
                messages: SourceCounts::default(),
                handoffs: 0,
            },
        );
        match day.succ_opt() {
            Some(next) => day = next,
            None => break,
        }
    }

    let by_source: Vec<(i64, String, i64)> = sqlx::query_as(
        "select m.created_at / 86400000 as day, m.source, count(*) \
         from sessions s join messages m on m.session_id = s.id \
         where +s.bot_id = ?1 and m.created_at >= ?2 and m.created_at < ?3 \
         group by day, m.source",
    )
    .bind(bot_id)
    .bind(from_ms)
    .bind(to_ms)
    .fetch_all(pool)
    .await?;
    let mut messages = SourceCounts::default();
    for (index, source, n) in by_source {
        messages.add(&source, n);
        if let Some(d) = days.get_mut(&index) {
            d.messages.add(&source, n);
        }
    }

    let conversations_per_day: Vec<(i64, i64)> = sqlx::query_as(
        "select m.created_at / 86400000 as day, count(distinct m.session_id) \
         from sessions s join messages m on m.session_id = s.id \
         where +s.bot_id = ?1 and m.created_at >= ?2 and m.created_at < ?3 group by day",
    )
    .bind(bot_id)
    .bind(from_ms)
    .bind(to_ms)
    .fetch_all(pool)
    .await?;
    for (index, n) in conversations_per_day {
        if let Some(d) = days.get_mut(&index) {
            d.conversations = n;
        }
    }
    let conversations: i64 = sqlx::query_scalar(
        "select count(distinct m.session_id) \
         from sessions s join messages m on m.session_id = s.id \
         where +s.bot_id = ?1 and m.created_at >= ?2 and m.created_at < ?3",
    )
    .bind(bot_id)
    .bind(from_ms)
    .bind(to_ms)
    .fetch_one(pool)
    .await?;

    // Each handoff that began in the range, with the first agent reply before its return.
    let handoffs = sqlx::query_as::<_, HandoffRow>(
        "select p.created_at as paused_at, \
            (select min(q.created_at) from pause_history q \
              where q.session_id = p.session_id and q.paused = 0 and q.id > p.id) as resumed_at, \
            (select q.actor_kind from pause_history q \
              where q.session_id = p.session_id and q.paused = 0 and q.id > p.id \
              order by q.id limit 1) as resumed_by, \
            (select min(m.created_at) from messages m \
              where m.session_id = p.session_id and m.source = 'agent' \
                and m.created_at >= p.created_at) as first_reply \
         from sessions s join pause_history p on p.session_id = s.id \
         where s.bot_id = ?1 and p.paused = 1 and p.created_at >= ?2 and p.created_at < ?3",
    )
    .bind(bot_id)
    .bind(from_ms)
    .bind(to_ms)
    .fetch_all(pool)
    .await?;
    let mut first_replies = Vec::new();
    let mut durations = Vec::new();
    let mut returned_by = ReturnedBy::default();
    for h in &handoffs {
        if let Some(d) = days.get_mut(&(h.paused_at / DAY_MS)) {
            d.handoffs += 1;
        }
        let reply_in_time = match (h.first_reply, h.resumed_at) {
            (Some(reply), Some(resumed)) => (reply <= resumed).then_some(reply),
            (reply, None) => reply,
            (None, _) => None,
        };
        if let Some(reply) = reply_in_time {
            first_replies.push((reply - h.paused_at) as f64 / 1000.0);
        }
        if let Some(resumed) = h.resumed_at {
            durations.push((resumed - h.paused_at) as f64 / 1000.0);
        }
        let kind = h.resumed_by.as_deref().and_then(ActorKind::parse);
        returned_by.add(h.resumed_at.map(|_| kind));
    }
    Ok(Analytics {
        bot_id: bot_id.to_string(),
        from,
        to,
        days: days.into_values().collect(),
        conversations,
        messages,
        handoffs: handoffs.len() as i64,
        first_reply: Spread::of(first_replies),
        handoff_duration: Spread::of(durations),
        returned_by,
    })
}
