//! The paging rules both SQL stores apply to session and message lists: page sizes, the
//! cursor, the filter's name in SQL and the LIKE pattern of a name search.

use app::model::{Notification, SessionFilter, SessionOverview};

use crate::sql_rows::NotificationRow;
use crate::store::{Result, StoreError};

pub const DEFAULT_PAGE: u32 = 50;
pub const MAX_PAGE: u32 = 200;

/// The rows a page holds: the default when 0 is asked, never more than the maximum.
pub fn page_size(asked: u32) -> u32 {
    if asked == 0 {
        DEFAULT_PAGE
    } else {
        asked.min(MAX_PAGE)
    }
}

/// The rows a session list asks for.
pub fn list_size(asked: Option<u32>) -> u32 {
    asked.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE)
}

/// The notifications a page holds.
pub fn notification_page_size(asked: u32) -> u32 {
    asked.clamp(1, 200)
}

/// Reads a page of notifications fetched with one row more than `limit`, and the cursor of the
/// next page (the last id shown).
pub fn cut_notifications(
    rows: Vec<NotificationRow>,
    limit: u32,
) -> Result<(Vec<Notification>, Option<i64>)> {
    let mut notifications = rows
        .into_iter()
        .map(NotificationRow::into_notification)
        .collect::<Result<Vec<_>>>()?;
    if notifications.len() <= limit as usize {
        return Ok((notifications, None));
    }
    notifications.truncate(limit as usize);
    let next = notifications.last().map(|n| n.id);
    Ok((notifications, next))
}

/// A cursor is `<sort key in ms>.<session id>` of the last row of the previous page.
pub fn parse_cursor(cursor: &str) -> Result<(i64, i64)> {
    let (time, id) = cursor.split_once('.').ok_or(StoreError::BadCursor)?;
    Ok((
        time.parse().map_err(|_| StoreError::BadCursor)?,
        id.parse().map_err(|_| StoreError::BadCursor)?,
    ))
}

/// Cuts a page fetched with one row more than `limit` and returns the cursor of the next page
/// (the queue is sorted by when each handoff was queued, other lists by last activity).
pub fn cut_page(sessions: &mut Vec<SessionOverview>, limit: u32, queue: bool) -> Option<String> {
    if sessions.len() <= limit as usize {
        return None;
    }
    sessions.truncate(limit as usize);
    sessions.last().map(|s| {
        let key = match (&s.handoff, queue) {
            (Some(h), true) => h.queued_at,
            _ => s.last_event_on,
        };
        format!("{}.{}", key.timestamp_millis(), s.id)
    })
}

pub fn filter_name(filter: SessionFilter) -> &'static str {
    match filter {
        SessionFilter::All => "all",
        SessionFilter::Paused => "paused",
        SessionFilter::Waiting => "waiting",
        SessionFilter::Queue => "queue",
        SessionFilter::Mine => "mine",
        SessionFilter::Others => "others",
        SessionFilter::Closed => "closed",
    }
}

/// A LIKE pattern that matches `text` anywhere, with the wildcards in `text` taken literally.
pub fn like_pattern(text: &str) -> String {
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

    #[test]
    fn page_sizes_have_a_default_and_a_ceiling() {
        assert_eq!(page_size(0), DEFAULT_PAGE);
        assert_eq!(page_size(MAX_PAGE + 1), MAX_PAGE);
        assert_eq!(list_size(Some(0)), 1);
        assert_eq!(list_size(None), DEFAULT_PAGE);
    }
}
