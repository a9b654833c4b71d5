//! How the writer's connection (rusqlite) reads the shared row types, by position.

use crate::sql_rows::{MessageRow, NotificationRow, SessionRow};

impl SessionRow {
    /// The row as the writer's connection reads it.
    pub fn from_rusqlite(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(SessionRow {
            id: r.get(0)?,
            bot_id: r.get(1)?,
            channel: r.get(2)?,
            user_id: r.get(3)?,
            thread_id: r.get(4)?,
            full_name: r.get(5)?,
            avatar_url: r.get(6)?,
            paused: r.get(7)?,
            paused_by: r.get(8)?,
            paused_reason: r.get(9)?,
            paused_at: r.get(10)?,
            last_event_on: r.get(11)?,
            last_heard_on: r.get(12)?,
            last_agent_reply_on: r.get(13)?,
            unread_count: r.get(14)?,
            m_id: r.get(15)?,
            m_kind: r.get(16)?,
            m_source: r.get(17)?,
            m_text: r.get(18)?,
            m_payload: r.get(19)?,
            m_author: r.get(20)?,
            m_created_at: r.get(21)?,
            paused_by_kind: r.get(22)?,
            paused_by_id: r.get(23)?,
            m_author_kind: r.get(24)?,
            m_author_id: r.get(25)?,
            waiting: r.get(26)?,
            h_id: r.get(27)?,
            h_state: r.get(28)?,
            h_version: r.get(29)?,
            h_assignee_id: r.get(30)?,
            h_assignee_name: r.get(31)?,
            h_queued_at: r.get(32)?,
            h_assigned_at: r.get(33)?,
            h_position: r.get(34)?,
            h_returns_at: r.get(35)?,
            c_closed_at: r.get(36)?,
            c_close_reason: r.get(37)?,
        })
    }
}

impl MessageRow {
    /// The row as the writer's connection reads it (`MESSAGE_COLUMNS`).
    pub fn from_rusqlite(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(MessageRow {
            id: r.get(0)?,
            session_id: r.get(1)?,
            kind: r.get(2)?,
            source: r.get(3)?,
            text: r.get(4)?,
            payload: r.get(5)?,
            author: r.get(6)?,
            author_kind: r.get(7)?,
            author_id: r.get(8)?,
            created_at: r.get(9)?,
        })
    }
}

impl NotificationRow {
    /// The row as the writer's connection reads it (columns in the order of the struct).
    pub fn from_rusqlite(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(NotificationRow {
            id: r.get(0)?,
            bot_id: r.get(1)?,
            session_id: r.get(2)?,
            message: r.get(3)?,
            level: r.get(4)?,
            url: r.get(5)?,
            read_at: r.get(6)?,
            created_at: r.get(7)?,
            recipient_id: r.get(8)?,
        })
    }
}
