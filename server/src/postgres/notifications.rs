//! Notifications for agents in PostgreSQL.

use sqlx::PgPool;

use crate::sql_lists::{cut_notifications, notification_page_size};
use crate::sql_rows::NotificationRow;
use crate::store::{NotificationPage, Reader, Result};

pub(super) const COLUMNS: &str =
    "id, bot_id, session_id, message, level, url, read_at, created_at, recipient_id";

/// The SQL condition keeping a reader to their bots and to notifications for everyone or for
/// them; parameter `$n` is the scope (null for all bots), `$n+1` the reader's person id.
pub(super) fn readable(n: u8) -> String {
    let person = n + 1;
    format!(
        "(${n}::text[] is null or bot_id = any(${n})) \
         and (recipient_id is null or recipient_id = ${person})"
    )
}

pub async fn list(
    pool: &PgPool,
    reader: &Reader,
    unread_only: bool,
    before: Option<i64>,
    limit: u32,
) -> Result<NotificationPage> {
    let limit = notification_page_size(limit);
    let rows = sqlx::query_as::<_, NotificationRow>(&format!(
        "select {COLUMNS} from notifications \
         where (not $1 or read_at is null) and ($2::bigint is null or id < $2) and {} \
         order by id desc limit $3",
        readable(4)
    ))
    .bind(unread_only)
    .bind(before)
    .bind(i64::from(limit) + 1)
    .bind(super::scope_array(&reader.bots))
    .bind(reader.person)
    .fetch_all(pool)
    .await?;
    let (notifications, next_cursor) = cut_notifications(rows, limit)?;
    let unread_count: i64 = sqlx::query_scalar(&format!(
        "select count(*) from notifications where read_at is null and {}",
        readable(1)
    ))
    .bind(super::scope_array(&reader.bots))
    .bind(reader.person)
    .fetch_one(pool)
    .await?;
    Ok(NotificationPage {
        notifications,
        next_cursor,
        unread_count,
    })
}
