//! The facts analytics count, in PostgreSQL.
//!
//! The queries of `sqlite/analytics.rs`, with booleans for flags, and in a fixed order (SQLite
//! happens to give its groups sorted; PostgreSQL may hash them).

use app::model::{ActorKind, Source};
use sqlx::PgPool;

use crate::store::history::{ActivityFacts, HandoffFacts, OwnedFacts};
use crate::store::Result;

#[derive(sqlx::FromRow)]
struct OwnedRow {
    queued_at: i64,
    assigned_at: Option<i64>,
    assignee_id: Option<i64>,
    assignee_name: Option<String>,
    first_reply: Option<i64>,
    close_reason: Option<String>,
}

#[derive(sqlx::FromRow)]
struct HandoffRow {
    paused_at: i64,
    first_reply: Option<i64>,
    resumed_at: Option<i64>,
    resumed_by: Option<String>,
}

pub async fn activity(
    pool: &PgPool,
    bot_id: &str,
    from_ms: i64,
    to_ms: i64,
) -> Result<ActivityFacts> {
    // Integer division of bigints, as SQLite's: the UTC day number.
    let by_source: Vec<(i64, String, i64)> = sqlx::query_as(
        "select m.created_at / 86400000 as day, m.source, count(*) \
         from sessions s join messages m on m.session_id = s.id \
         where s.bot_id = $1 and m.created_at >= $2 and m.created_at < $3 \
         group by 1, 2 order by 1, 2",
    )
    .bind(bot_id)
    .bind(from_ms)
    .bind(to_ms)
    .fetch_all(pool)
    .await?;
    let messages = by_source
        .into_iter()
        .map(|(day, source, n)| (day, Source::parse(&source).unwrap_or(Source::System), n))
        .collect();

    let conversations_per_day: Vec<(i64, i64)> = sqlx::query_as(
        "select m.created_at / 86400000 as day, count(distinct m.session_id) \
         from sessions s join messages m on m.session_id = s.id \
         where s.bot_id = $1 and m.created_at >= $2 and m.created_at < $3 \
         group by 1 order by 1",
    )
    .bind(bot_id)
    .bind(from_ms)
    .bind(to_ms)
    .fetch_all(pool)
    .await?;

    let conversations: i64 = sqlx::query_scalar(
        "select count(distinct m.session_id) \
         from sessions s join messages m on m.session_id = s.id \
         where s.bot_id = $1 and m.created_at >= $2 and m.created_at < $3",
    )
    .bind(bot_id)
    .bind(from_ms)
    .bind(to_ms)
    .fetch_one(pool)
    .await?;

    // Each handoff that began in the range, with the first agent message and resume after it.
    let handoffs = sqlx::query_as::<_, HandoffRow>(
        "select p.created_at as paused_at, \
            (select min(q.created_at) from pause_history q \
              where q.session_id = p.session_id and not q.paused and q.id > p.id) as resumed_at, \
            (select q.actor_kind from pause_history q \
              where q.session_id = p.session_id and not q.paused and q.id > p.id \
              order by q.id limit 1) as resumed_by, \
            (select min(m.created_at) from messages m \
              where m.session_id = p.session_id and m.source = 'agent' \
                and m.created_at >= p.created_at) as first_reply \
         from sessions s join pause_history p on p.session_id = s.id \
         where s.bot_id = $1 and p.paused and p.created_at >= $2 and p.created_at < $3 \
         order by p.created_at, p.id",
    )
    .bind(bot_id)
    .bind(from_ms)
    .bind(to_ms)
    .fetch_all(pool)
    .await?;
    // Each handoff queued in the range as owned: its owner's first message after it was given
    // to them, before it closed.
    let owned = sqlx::query_as::<_, OwnedRow>(
        "select h.queued_at, h.assigned_at, h.assignee_id, h.assignee_name, h.close_reason, \
            (select min(m.created_at) from messages m \
              where m.session_id = h.session_id and m.source = 'agent' \
                and h.assigned_at is not null and m.created_at >= h.assigned_at \
                and (h.closed_at is null or m.created_at <= h.closed_at)) as first_reply \
         from handoffs h where h.bot_id = $1 and h.queued_at >= $2 and h.queued_at < $3 \
         order by h.queued_at, h.id",
    )
    .bind(bot_id)
    .bind(from_ms)
    .bind(to_ms)
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|h| OwnedFacts {
        queued_at: h.queued_at,
        assigned_at: h.assigned_at,
        assignee: h.assignee_id.zip(h.assignee_name),
        first_reply: h.first_reply,
        close_reason: h.close_reason,
    })
    .collect();
    Ok(ActivityFacts {
        owned,
        messages,
        conversations_per_day,
        conversations,
        handoffs: handoffs
            .into_iter()
            .map(|h| HandoffFacts {
                paused_at: h.paused_at,
                first_agent_message: h.first_reply,
                resumed: h
                    .resumed_at
                    .map(|at| (at, h.resumed_by.as_deref().and_then(ActorKind::parse))),
            })
            .collect(),
    })
}
