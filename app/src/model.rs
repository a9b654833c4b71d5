//! Wire types shared by the server, the REST API and the browser (camelCase JSON).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Who produced a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    User,
    Bot,
    Agent,
    System,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::User => "user",
            Source::Bot => "bot",
            Source::Agent => "agent",
            Source::System => "system",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "user" => Source::User,
            "bot" => Source::Bot,
            "agent" => Source::Agent,
            "system" => Source::System,
            _ => return None,
        })
    }

    /// Messages from the user travel in; everything else travels out (system lines stay inside).
    pub fn direction(self) -> Direction {
        match self {
            Source::User => Direction::In,
            _ => Direction::Out,
        }
    }
}

/// What kind of party did something: decisions look at this, never at a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActorKind {
    /// The end user of a conversation.
    User,
    /// The bot's rules or an external bot.
    Bot,
    /// A signed-in person (agent or admin).
    Agent,
    /// A script or bot with an API token.
    Token,
    /// hitl itself.
    System,
    /// The retention task deleting old conversations.
    Retention,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::User => "user",
            ActorKind::Bot => "bot",
            ActorKind::Agent => "agent",
            ActorKind::Token => "token",
            ActorKind::System => "system",
            ActorKind::Retention => "retention",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "user" => ActorKind::User,
            "bot" => ActorKind::Bot,
            "agent" => ActorKind::Agent,
            "token" => ActorKind::Token,
            "system" => ActorKind::System,
            "retention" => ActorKind::Retention,
            _ => return None,
        })
    }

    /// A person in the console wrote or did it (what a visitor sees as "a person").
    pub fn is_person(self) -> bool {
        self == ActorKind::Agent
    }
}

/// Who did something: a kind, the account or token id where there is one, and the name shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Actor {
    pub kind: ActorKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    pub name: String,
}

impl Actor {
    pub fn new(kind: ActorKind, id: Option<i64>, name: impl Into<String>) -> Self {
        Actor {
            kind,
            id,
            name: name.into(),
        }
    }

    /// hitl itself.
    pub fn system() -> Self {
        Actor::new(ActorKind::System, None, "hitl")
    }

    /// The bot of the conversation.
    pub fn bot() -> Self {
        Actor::new(ActorKind::Bot, None, "bot")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    In,
    Out,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
        }
    }
}

/// A button of a button template: a postback (sends `payload` back) or a link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Button {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuickReply {
    pub title: String,
    pub payload: String,
}

/// The content of one message, whoever sent it. This is what channels carry and what the
/// Converse API answers with; it is stored as the message's `payload`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum Content {
    Text {
        text: String,
    },
    /// A text with buttons (Messenger's "button template").
    Buttons {
        text: String,
        buttons: Vec<Button>,
    },
    /// A text with quick-reply chips.
    QuickReplies {
        text: String,
        quick_replies: Vec<QuickReply>,
    },
    /// The user picked a quick reply.
    QuickReply {
        text: String,
        payload: String,
    },
    /// The user clicked a postback button.
    Postback {
        payload: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
    },
    Image {
        url: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
    },
    File {
        url: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
    },
    Audio {
        url: String,
    },
    Video {
        url: String,
    },
    /// A line written by hitl itself into the conversation ("Paused by api: …").
    System {
        text: String,
        /// Set on the line recording a pause (`true`) or a resume (`false`); the web chat turns
        /// it into words for the user without showing the agents' reason.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        paused: Option<bool>,
    },
}

impl Content {
    /// The message kind as stored in the `type` column and shown on the wire.
    pub fn kind(&self) -> &'static str {
        match self {
            Content::Text { .. } => "text",
            Content::Buttons { .. } => "buttons",
            Content::QuickReplies { .. } => "quick_replies",
            Content::QuickReply { .. } => "quick_reply",
            Content::Postback { .. } => "postback",
            Content::Image { .. } => "image",
            Content::File { .. } => "file",
            Content::Audio { .. } => "audio",
            Content::Video { .. } => "video",
            Content::System { .. } => "system",
        }
    }

    /// A plain-text rendering: what search matches and what a list preview shows.
    pub fn preview(&self) -> String {
        match self {
            Content::Text { text }
            | Content::Buttons { text, .. }
            | Content::QuickReplies { text, .. }
            | Content::QuickReply { text, .. }
            | Content::System { text, .. } => text.clone(),
            Content::Postback { payload, title } => {
                title.clone().unwrap_or_else(|| payload.clone())
            }
            Content::Image { title, .. } => title.clone().unwrap_or_else(|| "[image]".into()),
            Content::File { title, .. } => title.clone().unwrap_or_else(|| "[file]".into()),
            Content::Audio { .. } => "[audio]".into(),
            Content::Video { .. } => "[video]".into(),
        }
    }

    /// The payload a rule can match on (postbacks and quick replies carry one).
    pub fn user_payload(&self) -> Option<&str> {
        match self {
            Content::Postback { payload, .. } | Content::QuickReply { payload, .. } => {
                Some(payload)
            }
            _ => None,
        }
    }

    /// The text the user typed, for text-matching rules.
    pub fn user_text(&self) -> Option<&str> {
        match self {
            Content::Text { text } | Content::QuickReply { text, .. } => Some(text),
            _ => None,
        }
    }

    /// Kinds a bot may send to a user (user actions and system lines are not among them).
    pub fn is_bot_kind(&self) -> bool {
        !matches!(
            self,
            Content::QuickReply { .. } | Content::Postback { .. } | Content::System { .. }
        )
    }

    /// Kinds a user may send through a channel (the rest are bot output or system lines).
    pub fn is_user_kind(&self) -> bool {
        matches!(
            self,
            Content::Text { .. }
                | Content::QuickReply { .. }
                | Content::Postback { .. }
                | Content::Image { .. }
                | Content::File { .. }
                | Content::Audio { .. }
                | Content::Video { .. }
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    pub id: i64,
    pub session_id: i64,
    #[serde(rename = "type")]
    pub kind: String,
    pub source: Source,
    pub direction: Direction,
    pub text: String,
    pub payload: serde_json::Value,
    /// The name of who wrote it, when it is not the user or the bot (an agent, a token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// What kind of party wrote it, and their account or token id: decisions use these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_kind: Option<ActorKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_id: Option<i64>,
    pub ts: DateTime<Utc>,
}

impl Message {
    /// Who wrote it, when the message names them.
    pub fn actor(&self) -> Option<Actor> {
        Some(Actor::new(
            self.author_kind?,
            self.author_id,
            self.author.clone().unwrap_or_default(),
        ))
    }

    /// The typed content, when the stored payload is one hitl knows how to show.
    pub fn content(&self) -> Option<Content> {
        serde_json::from_value(self.payload.clone()).ok()
    }
}

/// A user's name and picture as the channel last told us.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    #[serde(default)]
    pub full_name: Option<String>,
    #[serde(default)]
    pub avatar_url: Option<String>,
}

/// Where a handoff stands while it is open (a closed one is history).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HandoffState {
    /// Waiting for an agent.
    Queued,
    /// An agent owns it.
    Assigned,
}

impl HandoffState {
    pub fn as_str(self) -> &'static str {
        match self {
            HandoffState::Queued => "queued",
            HandoffState::Assigned => "assigned",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "queued" => Some(HandoffState::Queued),
            "assigned" => Some(HandoffState::Assigned),
            _ => None,
        }
    }
}

/// A person by id and name: the agent who owns a handoff, one who has a conversation open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignee {
    pub id: i64,
    pub name: String,
}

/// Human ownership of a conversation: open while the bot is paused for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Handoff {
    pub id: i64,
    pub state: HandoffState,
    pub assignee: Option<Assignee>,
    /// Its place in the bot's queue (1 is next), while queued.
    pub position: Option<i64>,
    pub queued_at: DateTime<Utc>,
    pub assigned_at: Option<DateTime<Utc>>,
    /// Grows with every change of it: a change is made against the version it was decided on.
    #[serde(default)]
    pub version: i64,
    /// When it goes back to the bot for want of a message, if that timer runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returns_at: Option<DateTime<Utc>>,
}

impl Handoff {
    /// The id of the person who owns it, if anyone does.
    pub fn owner_id(&self) -> Option<i64> {
        self.assignee.as_ref().map(|a| a.id)
    }

    /// Who owns it, for saying so ("someone" while queued).
    pub fn owner_name(&self) -> &str {
        self.assignee
            .as_ref()
            .map_or("someone", |a| a.name.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionOverview {
    pub id: i64,
    pub bot_id: String,
    pub channel: String,
    pub user_id: String,
    pub thread_id: Option<String>,
    pub full_name: Option<String>,
    pub avatar_url: Option<String>,
    pub is_paused: bool,
    pub paused_by: Option<String>,
    /// The kind and id of who paused it (with `paused_by`, their name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_by_kind: Option<ActorKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_by_id: Option<i64>,
    pub paused_reason: Option<String>,
    pub paused_at: Option<DateTime<Utc>>,
    pub last_event_on: DateTime<Utc>,
    pub last_heard_on: Option<DateTime<Utc>>,
    /// When an agent last answered in it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_agent_reply_on: Option<DateTime<Utc>>,
    pub last_message: Option<Message>,
    pub unread_count: i64,
    /// Paused, and the user spoke after the last agent reply: someone should answer. The
    /// engine decides it on every change of the session (`engine::steps::is_waiting`).
    #[serde(default)]
    pub waiting: bool,
    /// `None` while the bot runs the conversation.
    #[serde(default)]
    pub handoff: Option<Handoff>,
    /// Its latest closed handoff: when and why people gave it back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_closed: Option<ClosedHandoff>,
}

/// When and why a handoff was closed (`returned_to_bot`, `resolved`, `inactivity`, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClosedHandoff {
    pub at: DateTime<Utc>,
    pub reason: String,
}

impl SessionOverview {
    /// The name to show: the profile's name, else the channel's user id.
    pub fn display_name(&self) -> &str {
        self.full_name
            .as_deref()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or(&self.user_id)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Info,
    Success,
    Warning,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Success => "success",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "info" => Level::Info,
            "success" => Level::Success,
            "warning" => Level::Warning,
            "error" => Level::Error,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    pub id: i64,
    pub bot_id: String,
    pub message: String,
    pub level: Level,
    pub url: Option<String>,
    pub session_id: Option<i64>,
    /// The one person it is for ("assigned to you"); `None` for every agent of the bot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_id: Option<i64>,
    pub read: bool,
    pub created_at: DateTime<Utc>,
}

/// The newest notifications and how many are unread.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationList {
    pub notifications: Vec<Notification>,
    pub unread_count: i64,
}

/// What happened; the only thing pushed to browsers. Serialized flat next to `seq`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum EventKind {
    #[serde(rename = "message.created")]
    MessageCreated { message: Message },
    /// How an agent of the bot stands: their status, load and capacity.
    #[serde(rename = "agent.status")]
    AgentStatus { agent: crate::team::AgentInfo },
    /// `counts` are the bot's list counts after the change (absent in events of older
    /// versions).
    #[serde(rename = "session.created")]
    SessionCreated {
        session: SessionOverview,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        counts: Option<SessionCounts>,
    },
    #[serde(rename = "session.updated")]
    SessionUpdated {
        session: SessionOverview,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        counts: Option<SessionCounts>,
    },
    #[serde(rename = "notification.created")]
    NotificationCreated { notification: Notification },
    /// Someone read these notifications (of this bot): every bell marks them read.
    #[serde(rename = "notification.read")]
    NotificationRead { ids: Vec<i64> },
    /// An admin deleted the conversation (or retention did): it is gone from every list.
    #[serde(rename = "session.deleted", rename_all = "camelCase")]
    SessionDeleted {
        session_id: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        counts: Option<SessionCounts>,
    },
    /// Who has these conversations open now. Not logged: it comes when it changes, with the
    /// `seq` of the last logged event, and first of all as a `snapshot` of every conversation
    /// someone has open (any other has nobody).
    #[serde(rename = "viewers")]
    Viewers {
        sessions: Vec<SessionViewers>,
        #[serde(default)]
        snapshot: bool,
    },
    /// The client missed events it cannot get back: it must fetch its state again.
    /// The bot-wide switch was turned on or off (by anyone, on any instance).
    #[serde(rename = "bot.updated")]
    BotUpdated { paused: bool },
    /// Start over from where the stream stands: fetch your state, then apply what follows.
    /// `epoch` names the log's history: send it back with `since`; a log restored from a
    /// backup gets a new one, and an old epoch gets a resync.
    #[serde(rename = "resync")]
    Resync {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        epoch: Option<String>,
    },
}

/// The people who have one conversation open, by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionViewers {
    pub session_id: i64,
    pub people: Vec<Assignee>,
}

/// What a console tells the server over its events socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ConsoleFrame {
    /// The conversation it shows now (`null`: none).
    #[serde(rename = "viewing", rename_all = "camelCase")]
    Viewing { session_id: Option<i64> },
}

impl EventKind {
    /// Said as it is now, not logged: it carries no `seq` of its own.
    pub fn is_ephemeral(&self) -> bool {
        matches!(self, EventKind::Viewers { .. })
    }

    pub fn name(&self) -> &'static str {
        match self {
            EventKind::MessageCreated { .. } => "message.created",
            EventKind::SessionCreated { .. } => "session.created",
            EventKind::SessionUpdated { .. } => "session.updated",
            EventKind::NotificationCreated { .. } => "notification.created",
            EventKind::NotificationRead { .. } => "notification.read",
            EventKind::SessionDeleted { .. } => "session.deleted",
            EventKind::AgentStatus { .. } => "agent.status",
            EventKind::Viewers { .. } => "viewers",
            EventKind::BotUpdated { .. } => "bot.updated",
            EventKind::Resync { .. } => "resync",
        }
    }

    /// The conversation whose data the event carries (deleting it deletes the event); a
    /// deletion itself carries none and stays.
    pub fn session_id(&self) -> Option<i64> {
        match self {
            EventKind::MessageCreated { message } => Some(message.session_id),
            EventKind::SessionCreated { session, .. }
            | EventKind::SessionUpdated { session, .. } => Some(session.id),
            EventKind::NotificationCreated { notification } => notification.session_id,
            EventKind::NotificationRead { .. }
            | EventKind::SessionDeleted { .. }
            | EventKind::AgentStatus { .. }
            | EventKind::Viewers { .. }
            | EventKind::BotUpdated { .. }
            | EventKind::Resync { .. } => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub seq: i64,
    #[serde(flatten)]
    pub kind: EventKind,
}

impl Event {
    /// Whether the consoles of `person` (`None`: a token of nobody) get it: a notification for
    /// one person goes to them alone, everything else to every follower of the bot.
    pub fn is_for(&self, person: Option<i64>) -> bool {
        match &self.kind {
            EventKind::NotificationCreated { notification } => notification
                .recipient_id
                .is_none_or(|recipient| Some(recipient) == person),
            _ => true,
        }
    }
}

/// One page of the session list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionPage {
    pub sessions: Vec<SessionOverview>,
    pub next_cursor: Option<String>,
}

/// Which sessions a list shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionFilter {
    #[default]
    All,
    Paused,
    /// Paused, and the user spoke after the last agent reply.
    Waiting,
    /// Waiting for someone to claim it, longest waiting first.
    Queue,
    /// Owned by the viewer.
    Mine,
    /// Owned by another agent.
    Others,
    /// Back with the bot after a handoff closed since `closedSince`.
    Closed,
}

impl SessionFilter {
    /// Whether `s` is in this list for `viewer` (the person asking, if any). The server's query
    /// applies the same rule; the console uses this one to follow live changes.
    pub fn admits(
        self,
        s: &SessionOverview,
        viewer: Option<i64>,
        closed_since: DateTime<Utc>,
    ) -> bool {
        let owner = s.handoff.as_ref().and_then(Handoff::owner_id);
        let queued = s
            .handoff
            .as_ref()
            .is_some_and(|h| h.state == HandoffState::Queued);
        match self {
            SessionFilter::All => true,
            SessionFilter::Paused => s.is_paused,
            SessionFilter::Waiting => s.waiting,
            SessionFilter::Queue => queued,
            SessionFilter::Mine => !queued && owner.is_some() && owner == viewer,
            SessionFilter::Others => !queued && owner.is_some() && owner != viewer,
            SessionFilter::Closed => {
                s.handoff.is_none() && s.last_closed.as_ref().is_some_and(|c| c.at >= closed_since)
            }
        }
    }

    /// Whether this list is the queue: oldest handoff first rather than newest activity.
    pub fn is_queue(self) -> bool {
        self == SessionFilter::Queue
    }
}

/// How many sessions each filter holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionCounts {
    pub all: i64,
    pub paused: i64,
    pub waiting: i64,
    /// Handoffs waiting for someone to claim them.
    #[serde(default)]
    pub queued: i64,
    /// Open conversations of each agent who owns some.
    #[serde(default)]
    pub owners: Vec<OwnerCount>,
    /// Closed since the `closedSince` asked for; absent where none was asked (in events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<i64>,
}

/// How many open conversations one agent owns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnerCount {
    pub user_id: i64,
    pub open: i64,
}

impl SessionCounts {
    /// Open conversations of one agent.
    pub fn owned_by(&self, user_id: Option<i64>) -> i64 {
        self.owners
            .iter()
            .filter(|o| Some(o.user_id) == user_id)
            .map(|o| o.open)
            .sum()
    }

    /// Open conversations of every agent but `user_id`.
    pub fn owned_by_others(&self, user_id: Option<i64>) -> i64 {
        self.owners.iter().map(|o| o.open).sum::<i64>() - self.owned_by(user_id)
    }
}

/// What the session list is asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionQuery {
    /// The old way to ask for `filter=paused`.
    #[serde(default)]
    pub paused_only: bool,
    #[serde(default)]
    pub filter: Option<SessionFilter>,
    #[serde(default)]
    pub search_text: Option<String>,
    #[serde(default)]
    pub cursor: Option<String>,
    #[serde(default)]
    pub limit: Option<u32>,
    /// Where "closed" starts counting (the console sends its local midnight); the start of
    /// the day in UTC when absent.
    #[serde(default)]
    pub closed_since: Option<DateTime<Utc>>,
}

impl SessionQuery {
    pub fn effective_filter(&self) -> SessionFilter {
        if self.paused_only {
            SessionFilter::Paused
        } else {
            self.filter.unwrap_or_default()
        }
    }

    /// Where "closed" starts counting, `now` being the time of asking.
    pub fn closed_since_or(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        self.closed_since.unwrap_or_else(|| start_of_day(now))
    }
}

/// Midnight in UTC before `now`.
pub fn start_of_day(now: DateTime<Utc>) -> DateTime<Utc> {
    now.date_naive()
        .and_hms_opt(0, 0, 0)
        .map_or(now, |t| t.and_utc())
}

/// Data for unit tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;

    /// A user's text message "m<id>".
    pub fn message(id: i64, session_id: i64, ts: DateTime<Utc>) -> Message {
        Message {
            id,
            session_id,
            kind: "text".into(),
            source: Source::User,
            direction: Direction::In,
            text: format!("m{id}"),
            payload: serde_json::json!({"type": "text", "text": format!("m{id}")}),
            author: None,
            author_kind: Some(ActorKind::User),
            author_id: None,
            ts,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_round_trips_with_type_tag_and_camel_case_fields() {
        let c = Content::QuickReplies {
            text: "Pick".into(),
            quick_replies: vec![QuickReply {
                title: "Yes".into(),
                payload: "YES".into(),
            }],
        };
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["type"], "quick_replies");
        assert_eq!(v["quickReplies"][0]["payload"], "YES");
        assert_eq!(serde_json::from_value::<Content>(v).unwrap(), c);
    }

    #[test]
    fn event_serializes_flat_with_seq_and_dotted_type() {
        let e = Event {
            seq: 7,
            kind: EventKind::Resync {
                epoch: Some("e1".into()),
            },
        };
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"seq":7,"type":"resync","epoch":"e1"}"#
        );
    }
}
