//! The storage port: what any database behind hitl offers. It only persists: every change is
//! decided by the engine and handed over as a [`write::Change`], which a store applies in one
//! transaction over the primitives of [`write::WriteTx`]; the rest are reads. No type here
//! names a database.

pub mod accounts;
pub mod event_format;
pub mod history;
pub mod presence;
pub mod search_terms;
pub mod write;

use std::sync::Arc;

use app::model::{
    Content, Event, Level, Message, Notification, SessionCounts, SessionOverview, SessionPage,
    SessionQuery,
};
use chrono::{DateTime, Utc};

pub use write::{Change, WriteTx};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed or refused (the adapter's own error, kept for the log).
    #[error("database error: {0}")]
    Backend(Box<dyn std::error::Error + Send + Sync>),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error("not found: {0}")]
    NotFound(&'static str),
    #[error("invalid cursor")]
    BadCursor,
    #[error("the write was not committed: {0}")]
    Commit(String),
    #[error("{0} already exists")]
    Conflict(&'static str),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// How hard a commit waits for the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Durability {
    /// Survives power loss.
    Full,
    /// Survives a crash of the process, may lose the last commits on power loss.
    Normal,
}

/// A background job only one instance runs at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Job {
    /// Sending the outbox: two senders would deliver a message twice.
    Outbox,
    /// Applying retention: one instance deletes, the others need not repeat it.
    Retention,
}

impl Job {
    /// The job's number among hitl's locks (PostgreSQL's advisory locks).
    pub fn number(self) -> i32 {
        match self {
            Job::Outbox => 1,
            Job::Retention => 2,
        }
    }
}

/// Called after each commit with a bot and the events the commit appended to its log, in
/// commit order (the engine publishes them).
pub type CommitHook = Arc<dyn Fn(&str, &[Event]) + Send + Sync>;

/// Identifies a conversation: one user of one bot on one channel (and thread).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionKey {
    pub bot_id: String,
    pub channel: String,
    pub user_id: String,
    pub thread_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bot {
    pub id: String,
    pub name: String,
    pub paused: bool,
}

/// The bots whose data a reader may see: every bot, or only some (an agent's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BotScope {
    All,
    Only(Vec<String>),
}

/// An anonymous visitor of the web chat; `secret_hash` is the SHA-256 (hex) of their secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visitor {
    pub id: String,
    pub bot_id: String,
    pub secret_hash: String,
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotification {
    pub message: String,
    pub level: Level,
    pub url: Option<String>,
    pub session_id: Option<i64>,
    /// The one person it is for; `None` for every agent of the bot.
    pub recipient_id: Option<i64>,
}

impl NewNotification {
    /// A notification about one conversation.
    pub fn about(session_id: i64, message: String, level: Level, url: Option<String>) -> Self {
        NewNotification {
            message,
            level,
            url,
            session_id: Some(session_id),
            recipient_id: None,
        }
    }

    /// The same, for one person only.
    pub fn to(self, recipient_id: i64) -> Self {
        NewNotification {
            recipient_id: Some(recipient_id),
            ..self
        }
    }
}

/// Who reads notifications: the bots they see, and who they are (a notification for one person
/// is theirs alone; a token of nobody reads only those for everyone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reader {
    pub bots: BotScope,
    pub person: Option<i64>,
}

/// Who asks for a session list, and when: `mine` and `others` are the viewer's, `closed` starts
/// at `closed_since`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListFor {
    pub viewer: Option<i64>,
    pub closed_since: DateTime<Utc>,
}

/// A conversation in a bot's queue, with those who let an offer of it lapse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    pub session_id: i64,
    pub lapses: u32,
    pub excluded: Vec<i64>,
}

/// A timer that came due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueTimer {
    pub id: i64,
    pub bot_id: String,
    pub session_id: i64,
}

/// A message waiting to be sent to a user over a channel that pushes.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub id: i64,
    pub bot_id: String,
    pub channel: String,
    pub session_id: i64,
    pub message_id: i64,
    pub recipient: String,
    pub content: Content,
    /// Attempts made so far.
    pub attempts: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NotificationPage {
    pub notifications: Vec<Notification>,
    pub next_cursor: Option<i64>,
    pub unread_count: i64,
}

#[async_trait::async_trait]
pub trait Store: history::HistoryStore + accounts::AccountStore + Send + Sync + 'static {
    /// Answers when the database does.
    async fn ping(&self) -> Result<()>;

    /// Where the events of every committed write go, in commit order (set once, by the engine).
    fn on_commit(&self, hook: CommitHook);

    /// Applies a change in one transaction and answers after it has committed (see
    /// [`write::apply`] for the typed call). The change may run more than once: a store may
    /// roll back a shared transaction and run it again.
    async fn write(&self, change: Box<dyn write::DynChange>) -> Result<write::Output>;

    /// Background upkeep the database needs now and then (the engine calls it every second).
    async fn maintain(&self) -> Result<()>;
    /// Whether this instance leads `job` (a background job that must run on one instance at a
    /// time, such as sending the outbox): true while it holds it; another instance takes it
    /// over once this one is gone. A store of one process always leads.
    async fn lead(&self, job: Job) -> Result<bool>;
    /// Finishes the writes handed over and closes every connection.
    async fn close(&self);

    /// Creates the bot if it is new, or renames it.
    async fn upsert_bot(&self, id: &str, name: &str) -> Result<Bot>;
    async fn bots(&self) -> Result<Vec<Bot>>;

    async fn session(&self, bot_id: &str, session_id: i64) -> Result<Option<SessionOverview>>;
    async fn session_by_key(&self, key: &SessionKey) -> Result<Option<SessionOverview>>;
    async fn sessions(
        &self,
        bot_id: &str,
        query: &SessionQuery,
        asking: &ListFor,
    ) -> Result<SessionPage>;
    /// How many sessions of the bot each list filter holds; `closed` only with `closed_since`.
    async fn session_counts(
        &self,
        bot_id: &str,
        closed_since: Option<DateTime<Utc>>,
    ) -> Result<SessionCounts>;
    /// How many open handoffs of the bot each person owns (those owning none are absent).
    async fn handoff_loads(&self, bot_id: &str) -> Result<Vec<(i64, i64)>>;
    /// When each person was last given a conversation of the bot (unix ms).
    async fn last_assigned(&self, bot_id: &str) -> Result<Vec<(i64, i64)>>;
    /// The bot's queued conversations, first in line first.
    async fn queue(&self, bot_id: &str) -> Result<Vec<Queued>>;
    /// The sessions of the bot whose open handoff `person` owns.
    async fn owned_by(&self, bot_id: &str, person: i64) -> Result<Vec<i64>>;
    /// Every conversation with an open handoff, with its bot.
    async fn open_handoffs(&self) -> Result<Vec<(String, i64)>>;
    /// Pending timers due at `now` (unix ms), earliest first, at most `limit`.
    async fn due_timers(&self, now: i64, limit: u32) -> Result<Vec<DueTimer>>;
    /// What the database has of who is there: each person with settings or a console counted.
    async fn presence(&self) -> Result<Vec<presence::PresenceFacts>>;
    /// How many conversations the person owns at once, when set for them.
    async fn agent_capacity(&self, user_id: i64) -> Result<Option<i64>>;
    /// Messages after the message `after`, oldest first; only those sent to the user (bot, agent
    /// and system lines) when `outgoing_only`: what a Converse client polls for.
    async fn messages_after(
        &self,
        session_id: i64,
        after: i64,
        outgoing_only: bool,
        limit: u32,
    ) -> Result<Vec<Message>>;
    /// Oldest first; the newest page when `before` is `None`.
    async fn messages(
        &self,
        session_id: i64,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<Message>>;

    /// Newest first.
    async fn notifications(
        &self,
        reader: &Reader,
        unread_only: bool,
        before: Option<i64>,
        limit: u32,
    ) -> Result<NotificationPage>;

    /// Events of one bot after `since`, in order, at most `limit`.
    async fn events_since(&self, bot_id: &str, since: i64, limit: u32) -> Result<Vec<Event>>;
    /// For the bot's stream: the oldest number the log still holds (0 when empty; a `since`
    /// below it may have missed events no longer kept) and the newest one handed out. A
    /// `since` between them can be resumed.
    async fn event_bounds(&self, bot_id: &str) -> Result<(i64, i64)>;

    /// Deliveries due at `now` (unix milliseconds), oldest first, at most `limit`; a
    /// conversation's delivery waits while an older one of the same conversation is pending,
    /// so each user gets their messages in order.
    async fn due_deliveries(&self, now: i64, limit: u32) -> Result<Vec<Delivery>>;

    /// Web chat visitors: created once per browser, then looked up by id.
    async fn create_visitor(&self, visitor: &Visitor) -> Result<()>;
    async fn visitor(&self, id: &str) -> Result<Option<Visitor>>;
    async fn set_visitor_name(&self, id: &str, name: Option<&str>) -> Result<()>;

    /// Sets a server-wide setting, whatever it was.
    async fn replace_setting(&self, key: &str, value: &str) -> Result<()>;
    /// Sets a server-wide setting to `value` only while it is `expected`; answers what it is
    /// afterwards (someone else's value when they changed it first).
    async fn swap_setting(&self, key: &str, expected: &str, value: &str) -> Result<String>;
    /// A server-wide setting, created with `make` on first use and the same ever after.
    async fn setting_or_insert(
        &self,
        key: &str,
        make: &(dyn Fn() -> String + Send + Sync),
    ) -> Result<String>;
}
