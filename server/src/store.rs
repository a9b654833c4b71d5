//! The storage port. Methods are named after use cases; every write that changes what clients see
//! appends its events to the event log in the same transaction and returns them for publishing.

pub mod accounts;
pub mod history;
pub mod sqlite;

use app::model::{
    Content, Event, Level, Message, Notification, Profile, SessionCounts, SessionOverview,
    SessionPage, SessionQuery, Source,
};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
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

/// A message that was stored, with the session after the write and the events to publish.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub session: SessionOverview,
    pub message: Message,
    pub events: Vec<Event>,
}

/// The session after a pause or unpause; `events` is empty when nothing changed.
#[derive(Debug, Clone)]
pub struct PauseOutcome {
    pub session: SessionOverview,
    pub events: Vec<Event>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PauseChange {
    pub paused: bool,
    /// The name shown ("bot", "api", an agent's name).
    pub actor: String,
    pub kind: ActorKind,
    pub reason: Option<String>,
}

/// Who hands a conversation over or back, for the handoff figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorKind {
    /// The bot's rules or an external bot decided.
    Bot,
    /// The user's own request (a "cancel" the rules take while paused).
    User,
    /// A person in the console.
    Agent,
    /// A script or bot with an API token.
    Api,
    /// hitl itself.
    System,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::Bot => "bot",
            ActorKind::User => "user",
            ActorKind::Agent => "agent",
            ActorKind::Api => "api",
            ActorKind::System => "system",
        }
    }
}

/// The bots whose data a reader may see: every bot, or only some (an agent's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BotScope {
    All,
    Only(Vec<String>),
}

impl BotScope {
    /// For SQL: `None` for all bots, else a JSON array for `json_each`.
    pub fn as_json(&self) -> Option<String> {
        match self {
            BotScope::All => None,
            BotScope::Only(bots) => Some(serde_json::to_string(bots).expect("strings serialize")),
        }
    }
}

/// An anonymous visitor of the web chat; `secret_hash` is the SHA-256 (hex) of their secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visitor {
    pub id: String,
    pub bot_id: String,
    pub secret_hash: String,
    pub name: Option<String>,
}

/// What a bot's rules do with a user's message, decided on the session as stored with it.
#[derive(Debug, Clone)]
pub enum TurnAction {
    Reply(Content),
    /// A notification about the session.
    Notify {
        message: String,
        level: Level,
        url: Option<String>,
    },
    Pause(PauseChange),
}

/// Decides a turn's actions on the session after the user's message is stored. It runs inside
/// the write and may run more than once (the writer replays a batch after a failure), so it
/// only decides.
pub type Decide = Box<dyn Fn(&SessionOverview) -> Vec<TurnAction> + Send + Sync>;

/// A user's message with the bot's answers, stored in one write.
#[derive(Debug, Clone)]
pub struct Turn {
    /// The user's message, with the session as it was right after it.
    pub recorded: Recorded,
    pub replies: Vec<Message>,
    /// The session after every action.
    pub session: SessionOverview,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotification {
    pub message: String,
    pub level: Level,
    pub url: Option<String>,
    pub session_id: Option<i64>,
}

impl NewNotification {
    /// A notification about one conversation.
    pub fn about(session_id: i64, message: String, level: Level, url: Option<String>) -> Self {
        NewNotification {
            message,
            level,
            url,
            session_id: Some(session_id),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NotificationPage {
    pub notifications: Vec<Notification>,
    pub next_cursor: Option<i64>,
    pub unread_count: i64,
}

#[async_trait::async_trait]
pub trait Store: history::HistoryStore + Send + Sync + 'static {
    /// Answers when the database does.
    async fn ping(&self) -> Result<()>;

    /// Where the events of every committed write go, in commit order (set once, by the engine).
    fn on_commit(&self, hook: sqlite::CommitHook);

    /// Creates the bot if it is new, or renames it.
    async fn upsert_bot(&self, id: &str, name: &str) -> Result<Bot>;
    async fn bots(&self) -> Result<Vec<Bot>>;
    /// Switches the whole bot off or on, with an audit line naming who did it.
    async fn set_bot_paused(&self, id: &str, paused: bool, actor: &str) -> Result<Bot>;

    /// Stores a message from a user, creating the session on first contact and taking a newer
    /// profile (name, avatar) when one is given.
    async fn record_user_message(
        &self,
        key: &SessionKey,
        profile: &Profile,
        content: &Content,
    ) -> Result<Recorded>;

    /// Stores a user's message and what the bot's rules do with it (replies, notifications,
    /// pause changes), all in one write: one commit to wait for instead of several.
    async fn record_turn(
        &self,
        key: &SessionKey,
        profile: &Profile,
        content: &Content,
        decide: Decide,
    ) -> Result<Turn>;

    /// Stores a message from the bot, an agent or hitl itself into an existing session.
    async fn record_outgoing_message(
        &self,
        session_id: i64,
        source: Source,
        author: Option<&str>,
        content: &Content,
    ) -> Result<Recorded>;

    /// Pauses or resumes a session; idempotent. Records the change in the pause history and as a
    /// system line in the conversation.
    async fn set_paused(&self, session_id: i64, change: &PauseChange) -> Result<PauseOutcome>;

    /// Marks the session's messages as seen by an agent (unread count back to zero).
    async fn mark_session_read(&self, session_id: i64) -> Result<Option<Event>>;

    async fn session(&self, bot_id: &str, session_id: i64) -> Result<Option<SessionOverview>>;
    async fn session_by_key(&self, key: &SessionKey) -> Result<Option<SessionOverview>>;
    async fn sessions(&self, bot_id: &str, query: &SessionQuery) -> Result<SessionPage>;
    /// How many sessions of the bot each list filter holds.
    async fn session_counts(&self, bot_id: &str) -> Result<SessionCounts>;
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

    async fn create_notification(
        &self,
        bot_id: &str,
        new: &NewNotification,
    ) -> Result<(Notification, Event)>;
    /// Newest first.
    async fn notifications(
        &self,
        scope: &BotScope,
        unread_only: bool,
        before: Option<i64>,
        limit: u32,
    ) -> Result<NotificationPage>;
    /// `None` when there is no such notification in the scope.
    async fn mark_notification_read(
        &self,
        scope: &BotScope,
        id: i64,
    ) -> Result<Option<Notification>>;
    /// Answers how many were unread.
    async fn mark_all_notifications_read(&self, scope: &BotScope) -> Result<u64>;

    /// Events of one bot after `since`, in order, at most `limit`.
    async fn events_since(&self, bot_id: &str, since: i64, limit: u32) -> Result<Vec<Event>>;
    /// The oldest sequence number still in the log (0 when empty) and the newest one.
    async fn event_bounds(&self) -> Result<(i64, i64)>;

    /// True the first time a webhook delivery key is seen (channels redeliver).
    async fn first_sighting(&self, key: &str) -> Result<bool>;
    /// Takes a profile the channel told us about outside a message; answers the session and its
    /// `session.updated` event when something changed.
    async fn update_profile(
        &self,
        session_id: i64,
        profile: &Profile,
    ) -> Result<Option<(SessionOverview, Event)>>;

    /// Web chat visitors: created once per browser, then looked up by id.
    async fn create_visitor(&self, visitor: &Visitor) -> Result<()>;
    async fn visitor(&self, id: &str) -> Result<Option<Visitor>>;
    async fn set_visitor_name(&self, id: &str, name: Option<&str>) -> Result<()>;

    /// A server-wide setting, created with `make` on first use and the same ever after.
    async fn setting_or_insert(
        &self,
        key: &str,
        make: &(dyn Fn() -> String + Send + Sync),
    ) -> Result<String>;
}
