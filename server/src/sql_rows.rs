//! Row types both SQL stores read (by name, so either driver decodes them), the SQL of the
//! session overview they share, and their conversion into wire types.

use app::model::{
    ActorKind, Assignee, ClosedHandoff, Handoff, HandoffState, Level, Message, Notification,
    SessionOverview, Source,
};
use chrono::{DateTime, Utc};

use crate::store::{Delivery, Result, StoreError};

/// The columns of a session overview; `SESSION_SELECT` produces them.
#[derive(sqlx::FromRow)]
pub struct SessionRow {
    pub id: i64,
    pub bot_id: String,
    pub channel: String,
    pub user_id: String,
    pub thread_id: String,
    pub full_name: Option<String>,
    pub avatar_url: Option<String>,
    pub paused: bool,
    pub paused_by: Option<String>,
    pub paused_reason: Option<String>,
    pub paused_at: Option<i64>,
    pub last_event_on: i64,
    pub last_heard_on: Option<i64>,
    pub last_agent_reply_on: Option<i64>,
    pub unread_count: i64,
    pub m_id: Option<i64>,
    pub m_kind: Option<String>,
    pub m_source: Option<String>,
    pub m_text: Option<String>,
    pub m_payload: Option<String>,
    pub m_author: Option<String>,
    pub m_created_at: Option<i64>,
    pub paused_by_kind: Option<String>,
    pub paused_by_id: Option<i64>,
    pub m_author_kind: Option<String>,
    pub m_author_id: Option<i64>,
    pub waiting: bool,
    pub h_id: Option<i64>,
    pub h_state: Option<String>,
    pub h_version: Option<i64>,
    pub h_assignee_id: Option<i64>,
    pub h_assignee_name: Option<String>,
    pub h_queued_at: Option<i64>,
    pub h_assigned_at: Option<i64>,
    pub h_position: Option<i64>,
    pub h_returns_at: Option<i64>,
    pub c_closed_at: Option<i64>,
    pub c_close_reason: Option<String>,
}

/// Sessions with their last message, in one query (no query per row).
pub const SESSION_SELECT: &str = "select s.id, s.bot_id, s.channel, s.user_id, s.thread_id, \
     s.full_name, s.avatar_url, s.paused, s.paused_by, s.paused_reason, s.paused_at, \
     s.last_event_on, s.last_heard_on, s.last_agent_reply_on, s.unread_count, \
     m.id as m_id, m.kind as m_kind, m.source as m_source, m.text as m_text, \
     m.payload as m_payload, m.author as m_author, m.created_at as m_created_at, \
     s.paused_by_kind, s.paused_by_id, m.author_kind as m_author_kind, \
     m.author_id as m_author_id, s.waiting, \
     h.id as h_id, h.state as h_state, h.version as h_version, h.assignee_id as h_assignee_id, \
     h.assignee_name as h_assignee_name, h.queued_at as h_queued_at, \
     h.assigned_at as h_assigned_at, \
     case when h.state = 'queued' then \
         (select count(*) from handoffs q where q.bot_id = h.bot_id and q.state = 'queued' \
            and (q.queued_at < h.queued_at or (q.queued_at = h.queued_at and q.id <= h.id))) \
     end as h_position, \
     (select t.due_at from timers t where t.handoff_id = h.id and t.state = 'pending' \
        and t.kind = 'inactivity_return') as h_returns_at, \
     c.closed_at as c_closed_at, c.close_reason as c_close_reason \
     from sessions s left join messages m on m.id = s.last_message_id \
     left join handoffs h on h.session_id = s.id and h.state <> 'closed' \
     left join handoffs c on c.id = (select x.id from handoffs x \
        where x.session_id = s.id and x.state = 'closed' order by x.closed_at desc, x.id desc limit 1)";

impl SessionRow {
    fn handoff(&self) -> Result<Option<Handoff>> {
        let (Some(id), Some(state), Some(queued_at)) =
            (self.h_id, self.h_state.as_deref(), self.h_queued_at)
        else {
            return Ok(None);
        };
        let state = HandoffState::parse(state)
            .ok_or_else(|| StoreError::Corrupt(format!("handoff {id} is in state {state:?}")))?;
        let assignee = match (self.h_assignee_id, &self.h_assignee_name) {
            (Some(id), Some(name)) => Some(Assignee {
                id,
                name: name.clone(),
            }),
            _ => None,
        };
        Ok(Some(Handoff {
            id,
            state,
            assignee,
            position: self.h_position,
            queued_at: time(queued_at),
            assigned_at: self.h_assigned_at.map(time),
            version: self.h_version.unwrap_or(1),
            returns_at: self.h_returns_at.map(time),
        }))
    }

    pub fn into_overview(self) -> Result<SessionOverview> {
        let handoff = self.handoff()?;
        let last_message = match (
            self.m_id,
            self.m_kind,
            self.m_source,
            self.m_text,
            self.m_payload,
        ) {
            (Some(id), Some(kind), Some(source), Some(text), Some(payload)) => Some(
                MessageRow {
                    id,
                    session_id: self.id,
                    kind,
                    source,
                    text,
                    payload,
                    author: self.m_author,
                    author_kind: self.m_author_kind,
                    author_id: self.m_author_id,
                    created_at: self.m_created_at.unwrap_or(self.last_event_on),
                }
                .into_message()?,
            ),
            _ => None,
        };
        Ok(SessionOverview {
            id: self.id,
            bot_id: self.bot_id,
            channel: self.channel,
            user_id: self.user_id,
            thread_id: Some(self.thread_id).filter(|t| !t.is_empty()),
            full_name: self.full_name,
            avatar_url: self.avatar_url,
            is_paused: self.paused,
            paused_by: self.paused_by,
            paused_by_kind: self.paused_by_kind.as_deref().and_then(ActorKind::parse),
            paused_by_id: self.paused_by_id,
            paused_reason: self.paused_reason,
            paused_at: self.paused_at.map(time),
            last_event_on: time(self.last_event_on),
            last_heard_on: self.last_heard_on.map(time),
            last_agent_reply_on: self.last_agent_reply_on.map(time),
            last_message,
            unread_count: self.unread_count,
            waiting: self.waiting,
            handoff,
            last_closed: self.c_closed_at.map(|at| ClosedHandoff {
                at: time(at),
                reason: self.c_close_reason.unwrap_or_default(),
            }),
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct MessageRow {
    pub id: i64,
    pub session_id: i64,
    pub kind: String,
    pub source: String,
    pub text: String,
    pub payload: String,
    pub author: Option<String>,
    pub author_kind: Option<String>,
    pub author_id: Option<i64>,
    pub created_at: i64,
}

/// The columns of a message, in the order of `MessageRow`.
pub const MESSAGE_COLUMNS: &str =
    "id, session_id, kind, source, text, payload, author, author_kind, author_id, created_at";

impl MessageRow {
    pub fn into_message(self) -> Result<Message> {
        let source = Source::parse(&self.source).ok_or_else(|| {
            StoreError::Corrupt(format!("message {} has source {:?}", self.id, self.source))
        })?;
        let payload = serde_json::from_str(&self.payload)
            .map_err(|e| StoreError::Corrupt(format!("message {} payload: {e}", self.id)))?;
        Ok(Message {
            id: self.id,
            session_id: self.session_id,
            kind: self.kind,
            source,
            direction: source.direction(),
            text: self.text,
            payload,
            author: self.author,
            author_kind: self.author_kind.as_deref().and_then(ActorKind::parse),
            author_id: self.author_id,
            ts: time(self.created_at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct NotificationRow {
    pub id: i64,
    pub bot_id: String,
    pub session_id: Option<i64>,
    pub message: String,
    pub level: String,
    pub url: Option<String>,
    pub read_at: Option<i64>,
    pub created_at: i64,
    pub recipient_id: Option<i64>,
}

impl NotificationRow {
    pub fn into_notification(self) -> Result<Notification> {
        let level = Level::parse(&self.level)
            .ok_or_else(|| StoreError::Corrupt(format!("notification {} level", self.id)))?;
        Ok(Notification {
            id: self.id,
            bot_id: self.bot_id,
            message: self.message,
            level,
            url: self.url,
            session_id: self.session_id,
            recipient_id: self.recipient_id,
            read: self.read_at.is_some(),
            created_at: time(self.created_at),
        })
    }
}

/// A delivery of the outbox that is due.
#[derive(sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: i64,
    pub bot_id: String,
    pub channel: String,
    pub session_id: i64,
    pub message_id: i64,
    pub recipient: String,
    pub content: String,
    pub attempts: i64,
}

/// The columns of a `DeliveryRow`, of the outbox as `o`.
pub const DELIVERY_COLUMNS: &str =
    "o.id, o.bot_id, o.channel, o.session_id, o.message_id, o.recipient, o.content, o.attempts";

impl DeliveryRow {
    pub fn into_delivery(self) -> Result<Delivery> {
        let content = serde_json::from_str(&self.content)
            .map_err(|e| StoreError::Corrupt(format!("delivery {}: {e}", self.id)))?;
        Ok(Delivery {
            id: self.id,
            bot_id: self.bot_id,
            channel: self.channel,
            session_id: self.session_id,
            message_id: self.message_id,
            recipient: self.recipient,
            content,
            attempts: self.attempts as u32,
        })
    }
}

pub fn time(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}
