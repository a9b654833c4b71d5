//! The write side of the port: the primitives a transaction offers ([`WriteTx`]) and the unit
//! of work the engine hands a store ([`Change`]). The primitives hold no rule: which rows
//! change, which lines and events they bring and in what order is the change's to decide.

use std::any::Any;

use app::model::{
    Actor, ActorKind, Assignee, Content, EventKind, Message, Notification, Profile, SessionCounts,
    SessionOverview, Source,
};

use super::accounts::AuditEntry;
use super::{Bot, NewNotification, Reader, Result, SessionKey, StoreError};

/// How a session's unread count moves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Unread {
    #[default]
    Keep,
    /// One more message nobody has read.
    Add,
    /// Somebody read them all.
    Clear,
}

/// Who runs a conversation, as stored on the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PauseState {
    /// The bot answers.
    Running,
    /// Paused by `by`, for `reason`, at `at` (unix milliseconds).
    Paused {
        by: Actor,
        reason: Option<String>,
        at: i64,
    },
}

/// Columns of a session to set; `None` leaves one as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionPatch {
    pub full_name: Option<String>,
    pub avatar_url: Option<String>,
    pub last_event_on: Option<i64>,
    pub last_heard_on: Option<i64>,
    pub last_agent_reply_on: Option<i64>,
    pub last_message_id: Option<i64>,
    pub unread: Unread,
    pub pause: Option<PauseState>,
    pub waiting: Option<bool>,
}

/// A handoff to open (queued) for a conversation that has none open.
#[derive(Debug, Clone)]
pub struct NewHandoff<'a> {
    pub session_id: i64,
    pub bot_id: &'a str,
    pub opened_by: &'a Actor,
    pub at: i64,
}

/// A change of an open handoff.
#[derive(Debug, Clone)]
pub enum HandoffUpdate<'a> {
    /// It is now owned by `assignee`; `offered` when someone else gave it to them.
    Assign {
        assignee: &'a Assignee,
        offered: bool,
        at: i64,
    },
    /// Back in the queue, where it keeps its place; `lapsed` is the owner who let an offer
    /// lapse (counted, and passed over by automatic assignment from now on).
    Requeue { lapsed: Option<i64>, at: i64 },
    /// Its owner keeps it: the inactivity count starts again.
    Keep { at: i64 },
    /// It ends, for `reason` (a close reason such as `returned_to_bot`).
    Close { reason: &'a str, at: i64 },
}

/// What a handoff's timers count from, besides what its session shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandoffTimes {
    /// When it entered the queue or was given to its owner, or its owner kept it.
    pub active_at: i64,
    /// Given by someone else, not taken by its owner.
    pub offered: bool,
    /// How many owners let an offer of it lapse, and who they are.
    pub lapses: u32,
    pub excluded: Vec<i64>,
    /// The place in line its user was last told, and when.
    pub told: Option<(i64, i64)>,
}

/// Whether a timer is still to fire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerState {
    Pending,
    Fired,
    /// It no longer applied.
    Cancelled,
}

impl TimerState {
    pub fn as_str(self) -> &'static str {
        match self {
            TimerState::Pending => "pending",
            TimerState::Fired => "fired",
            TimerState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            TimerState::Pending,
            TimerState::Fired,
            TimerState::Cancelled,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }
}

/// A stored timer of a handoff: armed for one version of it and one starting point (`basis`,
/// unix ms), due at `due_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timer {
    pub id: i64,
    pub kind: String,
    pub guard_version: i64,
    pub basis: i64,
    pub due_at: i64,
    pub state: TimerState,
}

/// A timer to arm.
#[derive(Debug, Clone)]
pub struct NewTimer<'a> {
    pub kind: &'a str,
    pub bot_id: &'a str,
    pub session_id: i64,
    pub handoff_id: i64,
    pub guard_version: i64,
    pub basis: i64,
    pub due_at: i64,
}

/// A message to store; the store gives it its id.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    pub session_id: i64,
    pub source: Source,
    pub actor_kind: ActorKind,
    pub actor_id: Option<i64>,
    /// The name shown for who wrote it (none for the user and the bot).
    pub author: Option<&'a str>,
    pub content: &'a Content,
    pub at: i64,
}

/// A line of a conversation's pause history (what the handoff figures count).
#[derive(Debug, Clone)]
pub struct PauseRecord<'a> {
    pub session_id: i64,
    pub paused: bool,
    pub actor: &'a Actor,
    pub reason: Option<&'a str>,
    pub at: i64,
}

/// A message to send to a user over a channel that pushes, written with the message.
#[derive(Debug, Clone)]
pub struct NewDelivery<'a> {
    pub bot_id: &'a str,
    pub channel: &'a str,
    pub session_id: i64,
    pub message_id: i64,
    /// The user's id on the channel.
    pub recipient: &'a str,
    pub content: &'a Content,
    pub at: i64,
}

/// What became of one attempt to send a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryResult {
    /// The provider accepted it.
    Sent { at: i64 },
    /// Try again at `next` (unix milliseconds); `attempts` made so far.
    Retry {
        attempts: u32,
        next: i64,
        error: String,
    },
    /// Given up.
    Failed {
        attempts: u32,
        at: i64,
        error: String,
    },
}

/// The primitives of one write transaction. Events appended here are published by the store
/// after the transaction commits, in the order they were appended.
#[async_trait::async_trait]
pub trait WriteTx: Send {
    /// The id of the conversation with this key, if there is one.
    async fn session_id(&mut self, key: &SessionKey) -> Result<Option<i64>>;
    /// A new conversation; answers its id.
    async fn insert_session(&mut self, key: &SessionKey, profile: &Profile, at: i64)
        -> Result<i64>;
    /// Fails with `NotFound` when there is no such session.
    async fn update_session(&mut self, id: i64, patch: &SessionPatch) -> Result<()>;
    /// The session as this transaction sees it.
    async fn session(&mut self, id: i64) -> Result<Option<SessionOverview>>;
    /// Deletes the conversation with its messages, pause history, notifications and the
    /// events that carry its data; answers its key, or `None` when there was none.
    async fn delete_session(&mut self, id: i64) -> Result<Option<SessionKey>>;

    /// The bot's list counts (all, paused, waiting) as this transaction sees them.
    async fn session_counts(&mut self, bot_id: &str) -> Result<SessionCounts>;

    /// The conversation's messages after the message `after`, oldest first, at most `limit`.
    async fn messages_after(
        &mut self,
        session_id: i64,
        after: i64,
        limit: u32,
    ) -> Result<Vec<Message>>;

    /// Fails with `NotFound` when the session does not exist.
    async fn insert_message(&mut self, new: &NewMessage<'_>) -> Result<Message>;
    async fn insert_pause(&mut self, record: &PauseRecord<'_>) -> Result<()>;

    /// Keeps the status a person chose as an agent.
    async fn set_agent_status(&mut self, user_id: i64, status: &str) -> Result<()>;
    /// Keeps how many conversations the person owns at once (`None`: their bot's number).
    async fn set_agent_capacity(&mut self, user_id: i64, capacity: Option<i64>) -> Result<()>;
    /// Adds `delta` to the consoles `instance` counts for the person (never below none) and
    /// notes that it saw them `at`.
    async fn count_consoles(
        &mut self,
        instance: &str,
        user_id: i64,
        delta: i64,
        at: i64,
    ) -> Result<()>;
    /// Notes that `instance` sees everyone it counts a console of `at`, and forgets what any
    /// instance saw before `forget_before`.
    async fn see_consoles(&mut self, instance: &str, at: i64, forget_before: i64) -> Result<()>;
    /// The person's presence, held until commit: another write about them waits for this one.
    async fn presence_of(&mut self, user_id: i64) -> Result<super::presence::PresenceFacts>;
    /// Notes what the person's bots were told of them, and when.
    async fn set_shown_status(&mut self, user_id: i64, status: &str, at: i64) -> Result<()>;
    /// How many open handoffs of the bot the person owns.
    async fn agent_load(&mut self, bot_id: &str, user_id: i64) -> Result<i64>;
    /// The sessions whose queued handoff comes after a handoff queued at `queued_at` with id
    /// `handoff_id` in the bot's queue, in queue order.
    async fn queued_behind(
        &mut self,
        bot_id: &str,
        queued_at: i64,
        handoff_id: i64,
    ) -> Result<Vec<i64>>;
    /// Opens a queued handoff; answers its id. Fails with `Conflict` when one is open already.
    async fn open_handoff(&mut self, new: &NewHandoff<'_>) -> Result<i64>;
    /// What the open or closed handoff `id` counts its timers from.
    async fn handoff_times(&mut self, id: i64) -> Result<Option<HandoffTimes>>;
    /// Its user was told they are `position` in line (not a change of the handoff: no version).
    async fn note_told_position(&mut self, id: i64, position: i64, at: i64) -> Result<()>;
    /// Every timer ever armed for the handoff, oldest first.
    async fn timers_of(&mut self, handoff_id: i64) -> Result<Vec<Timer>>;
    async fn insert_timer(&mut self, new: &NewTimer<'_>) -> Result<i64>;
    /// Ends a pending timer as `state`.
    async fn finish_timer(&mut self, id: i64, state: TimerState, at: i64) -> Result<()>;
    /// Changes the open handoff `id` if it still has `version` (and then grows the version);
    /// answers whether it did.
    async fn update_handoff(
        &mut self,
        id: i64,
        version: i64,
        update: &HandoffUpdate<'_>,
    ) -> Result<bool>;
    async fn insert_notification(
        &mut self,
        bot_id: &str,
        new: &NewNotification,
        at: i64,
    ) -> Result<Notification>;

    /// The notification, when `reader` may read it.
    async fn notification(&mut self, reader: &Reader, id: i64) -> Result<Option<Notification>>;
    /// Marks the unread notifications `reader` may read as read (only `id`, when given); answers each one
    /// it marked, with its bot.
    async fn mark_notifications_read(
        &mut self,
        reader: &Reader,
        id: Option<i64>,
        at: i64,
    ) -> Result<Vec<(String, i64)>>;

    async fn delete_visitor(&mut self, bot_id: &str, visitor_id: &str) -> Result<()>;

    /// Whether the bot-wide switch is on, as committed (on PostgreSQL the bot's row is held
    /// until this transaction ends, so a switch turned meanwhile waits for it).
    async fn bot_paused(&mut self, bot_id: &str) -> Result<bool>;
    /// The bot-wide switch; `None` when there is no such bot.
    async fn set_bot_paused(&mut self, bot_id: &str, paused: bool) -> Result<Option<Bot>>;
    /// How many days the bot's conversations are kept (`None`: for ever).
    async fn set_retention_days(&mut self, bot_id: &str, days: Option<u32>) -> Result<()>;

    /// Takes a channel's delivery key; `false` when it was taken before (a redelivery). Taken
    /// in the transaction of the message it delivers, so a write that fails leaves it free.
    async fn take_delivery_key(&mut self, key: &str, at: i64) -> Result<bool>;

    /// Queues a message for its channel; sent after the commit.
    async fn enqueue_delivery(&mut self, new: &NewDelivery<'_>) -> Result<()>;
    async fn finish_delivery(&mut self, id: i64, result: &DeliveryResult) -> Result<()>;

    async fn append_audit(&mut self, entry: &AuditEntry, at: i64) -> Result<()>;
    /// Appends events to the bot's log, in this order; they are numbered by the time the
    /// transaction commits (a store may number them last, so the numbers follow commit order).
    async fn append_events(&mut self, bot_id: &str, kinds: Vec<EventKind>, at: i64) -> Result<()>;
}

/// A change the engine decided, applied in one transaction. It may run more than once (a
/// store may roll back a shared transaction and run it again), so it only touches `tx`.
#[async_trait::async_trait]
pub trait Change: Send + Sync + 'static {
    type Output: Send + 'static;
    async fn apply(&self, tx: &mut dyn WriteTx) -> Result<Self::Output>;
}

/// What a change answered, before [`apply`] gives it back its type.
pub type Output = Box<dyn Any + Send>;

/// A [`Change`] whose output type is erased, so that `dyn Store` can take any change.
#[async_trait::async_trait]
pub trait DynChange: Send + Sync + 'static {
    async fn apply_dyn(&self, tx: &mut dyn WriteTx) -> Result<Output>;
}

#[async_trait::async_trait]
impl<C: Change> DynChange for C {
    async fn apply_dyn(&self, tx: &mut dyn WriteTx) -> Result<Output> {
        Ok(Box::new(self.apply(tx).await?))
    }
}

/// Applies `change` on `store` and answers its output once committed.
pub async fn apply<C: Change>(store: &dyn super::Store, change: C) -> Result<C::Output> {
    let output = store.write(Box::new(change)).await?;
    output
        .downcast::<C::Output>()
        .map(|o| *o)
        .map_err(|_| StoreError::Corrupt("a change answered another type".into()))
}
