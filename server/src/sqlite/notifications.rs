//! Notifications for agents in SQLite.

use sqlx::SqlitePool;

use super::rows::NotificationRow;
use crate::store::{BotScope, NotificationPage, Result};

const COLUMNS: &str = "id, bot_id, session_id, message, level, url, read_at, created_at";

/// The SQL condition keeping a reader to their bots; parameter `?n` is the scope as JSON (null
/// for all bots).
pub(super) fn in_scope(n: u8) -> String {
    format!("(?{n} is null or bot_id in (select value from json_each(?{n})))")
}

pub async fn list(
    pool: &SqlitePool,
    scope: &BotScope,
    unread_only: bool,
    before: Option<i64>,
    limit: u32,
) -> Result<NotificationPage> {
    let limit = limit.clamp(1, 200);
    let rows = sqlx::query_as::<_, NotificationRow>(&format!(
        "select {COLUMNS} from notifications \
         where (?1 = 0 or read_at is null) and (?2 is null or id < ?2) and {} \
         order by id desc limit ?3",
        in_scope(4)
    ))
    .bind(unread_only)
    .bind(before)
    .bind(limit + 1)
    .bind(super::scope_json(scope))
    .fetch_all(pool)
    .await?;
    let mut notifications = rows
        .into_iter()
        .map(NotificationRow::into_notification)
        .collect::<Result<Vec<_>>>()?;
    let next_cursor = if notifications.len() > limit as usize {
        notifications.truncate(limit as usize);
        notifications.last().map(|n| n.id)
    } else {
        None
    };
    let unread_count: i64 = sqlx::query_scalar(&format!(
        "select count(*) from notifications where read_at is null and {}",
        in_scope(1)
    ))
    .bind(super::scope_json(scope))
    .fetch_one(pool)
    .await?;
    Ok(NotificationPage {
        notifications,
        next_cursor,
        unread_count,
    })
}
