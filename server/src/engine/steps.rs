//! The rules of every write, as steps over one transaction: which rows change, which system
//! line and audit line a change brings, and which events it appends in which order. Changes
//! (a user's turn, a pause, an agent's reply…) are made of these steps.

use app::model::{
    Actor, ActorKind, Assignee, Content, EventKind, Handoff, HandoffState, Level, Message,
    Notification, Profile, SessionOverview, Source,
};

use crate::channels::web;
use crate::store::accounts::AuditEntry;
use crate::store::write::{
    HandoffUpdate, NewHandoff, NewMessage, PauseRecord, PauseState, SessionPatch, Unread,
};
use crate::store::{NewNotification, Reader, Result, SessionKey, StoreError, WriteTx};

/// A stored message and the session after it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub session: SessionOverview,
    pub message: Message,
}

/// A pause or a resume, as decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PauseChange {
    pub paused: bool,
    pub actor: Actor,
    /// Never blank: a blank reason is no reason.
    pub reason: Option<String>,
    /// Why the handoff closes, when this resumes the bot.
    pub closes_as: &'static str,
}

impl PauseChange {
    pub fn new(paused: bool, actor: Actor, reason: Option<String>) -> Self {
        PauseChange {
            paused,
            actor,
            reason: reason
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty()),
            closes_as: RETURNED_TO_BOT,
        }
    }

    /// The same resume, closing the handoff for `reason` (a close reason).
    pub fn closing_as(self, reason: &'static str) -> Self {
        PauseChange {
            closes_as: reason,
            ..self
        }
    }

    /// The line agents read in the conversation.
    fn line(&self) -> String {
        let verb = if self.paused { "Paused" } else { "Resumed" };
        match &self.reason {
            Some(reason) => format!("{verb} by {}: {reason}", self.actor.name),
            None => format!("{verb} by {}", self.actor.name),
        }
    }
}

async fn session_of(tx: &mut dyn WriteTx, id: i64) -> Result<SessionOverview> {
    tx.session(id).await?.ok_or(StoreError::NotFound("session"))
}

/// Paused, and the user spoke after the last agent reply: someone should answer.
pub fn is_waiting(session: &SessionOverview) -> bool {
    session.is_paused && session.last_heard_on > session.last_agent_reply_on
}

/// Applies `patch` and answers the session after it, with whether it waits decided anew (and
/// stored, for the list's filter and counts, only when that changed).
async fn patched(tx: &mut dyn WriteTx, id: i64, patch: &SessionPatch) -> Result<SessionOverview> {
    tx.update_session(id, patch).await?;
    let mut session = session_of(tx, id).await?;
    let waiting = is_waiting(&session);
    if waiting != session.waiting {
        let settle = SessionPatch {
            waiting: Some(waiting),
            ..SessionPatch::default()
        };
        tx.update_session(id, &settle).await?;
        session.waiting = waiting;
    }
    Ok(session)
}

/// A session's snapshot as an event, with its bot's list counts after the change (so consoles
/// update their filter counts without asking).
async fn session_updated(tx: &mut dyn WriteTx, session: &SessionOverview) -> Result<EventKind> {
    Ok(EventKind::SessionUpdated {
        counts: Some(tx.session_counts(&session.bot_id).await?),
        session: session.clone(),
    })
}

/// When a handoff leaves the queue, those queued behind it move up: their snapshots (with their
/// new places) as events.
async fn queue_moved(tx: &mut dyn WriteTx, bot_id: &str, left: &Handoff) -> Result<Vec<EventKind>> {
    if left.state != HandoffState::Queued {
        return Ok(Vec::new());
    }
    let queued_at = left.queued_at.timestamp_millis();
    let behind = tx.queued_behind(bot_id, queued_at, left.id).await?;
    if behind.is_empty() {
        return Ok(Vec::new());
    }
    let counts = tx.session_counts(bot_id).await?;
    let mut kinds = Vec::with_capacity(behind.len());
    for id in behind {
        kinds.push(EventKind::SessionUpdated {
            session: session_of(tx, id).await?,
            counts: Some(counts.clone()),
        });
    }
    Ok(kinds)
}

async fn message_and_session(
    tx: &mut dyn WriteTx,
    message: &Message,
    session: &SessionOverview,
) -> Result<Vec<EventKind>> {
    Ok(vec![
        EventKind::MessageCreated {
            message: message.clone(),
        },
        session_updated(tx, session).await?,
    ])
}

/// A user's message: creates the session on first contact, takes a newer profile (absent
/// fields keep what we knew), and counts the message as unread.
pub async fn user_message(
    tx: &mut dyn WriteTx,
    key: &SessionKey,
    profile: &Profile,
    content: &Content,
    at: i64,
) -> Result<Recorded> {
    let (id, created) = match tx.session_id(key).await? {
        Some(id) => (id, false),
        None => (tx.insert_session(key, profile, at).await?, true),
    };
    let message = tx
        .insert_message(&NewMessage {
            session_id: id,
            source: Source::User,
            actor_kind: ActorKind::User,
            actor_id: None,
            author: None,
            content,
            at,
        })
        .await?;
    let patch = SessionPatch {
        full_name: profile.full_name.clone().filter(|_| !created),
        avatar_url: profile.avatar_url.clone().filter(|_| !created),
        last_event_on: Some(at),
        last_heard_on: Some(at),
        last_message_id: Some(message.id),
        unread: Unread::Add,
        ..SessionPatch::default()
    };
    let session = patched(tx, id, &patch).await?;
    let kinds = if created {
        vec![
            EventKind::SessionCreated {
                counts: Some(tx.session_counts(&key.bot_id).await?),
                session: session.clone(),
            },
            EventKind::MessageCreated {
                message: message.clone(),
            },
        ]
    } else {
        message_and_session(tx, &message, &session).await?
    };
    tx.append_events(&key.bot_id, kinds, at).await?;
    Ok(Recorded { session, message })
}

/// A message from the bot, an agent or hitl into an existing session. An agent who answers
/// has read what came before; their reply is in the audit log.
pub async fn outgoing_message(
    tx: &mut dyn WriteTx,
    session_id: i64,
    source: Source,
    author: &Actor,
    content: &Content,
    at: i64,
) -> Result<Recorded> {
    let named = source != Source::Bot;
    let message = tx
        .insert_message(&NewMessage {
            session_id,
            source,
            actor_kind: author.kind,
            actor_id: author.id,
            author: named.then_some(author.name.as_str()),
            content,
            at,
        })
        .await?;
    let agent = source == Source::Agent;
    let patch = SessionPatch {
        last_event_on: Some(at),
        last_message_id: Some(message.id),
        last_agent_reply_on: agent.then_some(at),
        unread: if agent { Unread::Clear } else { Unread::Keep },
        ..SessionPatch::default()
    };
    let session = patched(tx, session_id, &patch).await?;
    if agent {
        let detail = format!("message {}", message.id);
        let audit =
            AuditEntry::about_session(author, "message.agent", &session.bot_id, session_id, detail);
        tx.append_audit(&audit, at).await?;
    }
    let kinds = message_and_session(tx, &message, &session).await?;
    tx.append_events(&session.bot_id, kinds, at).await?;
    Ok(Recorded { session, message })
}

/// A line hitl writes for the agents (a bot failure, an answer not sent).
pub async fn system_line(
    tx: &mut dyn WriteTx,
    session_id: i64,
    text: String,
    at: i64,
) -> Result<Recorded> {
    let line = Content::System { text, paused: None };
    outgoing_message(tx, session_id, Source::System, &Actor::system(), &line, at).await
}

/// Pauses or resumes; idempotent: nothing is written when the session already is so. Answers
/// the session after it, and whether anything changed.
pub async fn set_paused(
    tx: &mut dyn WriteTx,
    session_id: i64,
    change: &PauseChange,
    at: i64,
) -> Result<(SessionOverview, bool)> {
    let current = session_of(tx, session_id).await?;
    if current.is_paused == change.paused {
        return Ok((current, false));
    }
    tx.insert_pause(&PauseRecord {
        session_id,
        paused: change.paused,
        actor: &change.actor,
        reason: change.reason.as_deref(),
        at,
    })
    .await?;
    // The bot is paused exactly while a handoff is open: pausing queues one, resuming closes it.
    if change.paused {
        let new = NewHandoff {
            session_id,
            bot_id: &current.bot_id,
            opened_by: &change.actor,
            at,
        };
        tx.open_handoff(&new).await?;
    } else if let Some(handoff) = &current.handoff {
        let close = HandoffUpdate::Close {
            reason: change.closes_as,
            at,
        };
        tx.update_handoff(handoff.id, handoff.version, &close)
            .await?;
    }
    let content = Content::System {
        text: change.line(),
        paused: Some(change.paused),
    };
    let message = tx
        .insert_message(&NewMessage {
            session_id,
            source: Source::System,
            actor_kind: change.actor.kind,
            actor_id: change.actor.id,
            author: Some(&change.actor.name),
            content: &content,
            at,
        })
        .await?;
    // The session keeps who paused while paused; resuming clears it.
    let pause = if change.paused {
        PauseState::Paused {
            by: change.actor.clone(),
            reason: change.reason.clone(),
            at,
        }
    } else {
        PauseState::Running
    };
    let patch = SessionPatch {
        last_event_on: Some(at),
        last_message_id: Some(message.id),
        pause: Some(pause),
        ..SessionPatch::default()
    };
    let session = patched(tx, session_id, &patch).await?;
    let action = if change.paused {
        "session.paused"
    } else {
        "session.resumed"
    };
    let detail = change.reason.clone().unwrap_or_default();
    let audit =
        AuditEntry::about_session(&change.actor, action, &session.bot_id, session_id, detail);
    tx.append_audit(&audit, at).await?;
    let mut kinds = message_and_session(tx, &message, &session).await?;
    // After the session's own change, so the counts they carry include it.
    if let (Some(handoff), false) = (&current.handoff, change.paused) {
        kinds.extend(queue_moved(tx, &current.bot_id, handoff).await?);
    }
    tx.append_events(&session.bot_id, kinds, at).await?;
    Ok((session, true))
}

/// Why a handoff closed when the conversation went back to the bot.
pub const RETURNED_TO_BOT: &str = "returned_to_bot";

/// How a conversation changes hands, as told by who gives it, who gets it and who had it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Handover {
    /// Taken from the queue by the person themselves.
    Claim,
    /// Taken from its owner by an admin.
    TakeOver,
    /// Handed on by its owner.
    Transfer,
    /// Given by someone else (an admin, or a token of nobody).
    Assign,
    /// Given from the queue by the dispatcher.
    Auto,
}

impl Handover {
    fn of(by: &Actor, to: &Assignee, owner: Option<i64>) -> Self {
        if by.kind == ActorKind::System {
            return Handover::Auto;
        }
        let by_person = (by.kind == ActorKind::Agent).then_some(by.id).flatten();
        match (by_person == Some(to.id), owner) {
            (true, Some(owner)) if owner != to.id => Handover::TakeOver,
            (true, _) => Handover::Claim,
            (false, Some(owner)) if by_person == Some(owner) => Handover::Transfer,
            (false, _) => Handover::Assign,
        }
    }

    fn audit_action(self) -> &'static str {
        match self {
            Handover::Claim => "handoff.claimed",
            Handover::TakeOver => "handoff.taken_over",
            Handover::Transfer => "handoff.transferred",
            Handover::Assign => "handoff.assigned",
            Handover::Auto => "handoff.auto_assigned",
        }
    }
}

/// The line a change of hands writes in the conversation, by `by`; answers it with the session
/// after it.
async fn handoff_line(
    tx: &mut dyn WriteTx,
    session_id: i64,
    by: &Actor,
    text: String,
    at: i64,
) -> Result<(Message, SessionOverview)> {
    let line = Content::System { text, paused: None };
    let message = tx
        .insert_message(&NewMessage {
            session_id,
            source: Source::System,
            actor_kind: by.kind,
            actor_id: by.id,
            author: Some(&by.name),
            content: &line,
            at,
        })
        .await?;
    let patch = SessionPatch {
        last_event_on: Some(at),
        last_message_id: Some(message.id),
        ..SessionPatch::default()
    };
    let session = patched(tx, session_id, &patch).await?;
    Ok((message, session))
}

/// Gives the open handoff of `session` to `assignee`, as decided on the handoff `session` shows.
/// Answers the session after it, or the handoff as it is now when it changed meanwhile (then
/// nothing is written). The new owner, and an owner it was taken from, are notified.
pub async fn assign(
    tx: &mut dyn WriteTx,
    session: &SessionOverview,
    assignee: &Assignee,
    by: &Actor,
    note: Option<&str>,
    at: i64,
) -> Result<std::result::Result<SessionOverview, Handoff>> {
    let Some(handoff) = &session.handoff else {
        return Err(StoreError::NotFound("handoff"));
    };
    let handover = Handover::of(by, assignee, handoff.owner_id());
    let offered = !matches!(handover, Handover::Claim | Handover::TakeOver);
    let update = HandoffUpdate::Assign {
        assignee,
        offered,
        at,
    };
    if !tx
        .update_handoff(handoff.id, handoff.version, &update)
        .await?
    {
        let now = session_of(tx, session.id).await?;
        return now.handoff.map(Err).ok_or(StoreError::NotFound("handoff"));
    }
    let previous = handoff.owner_name();
    let (to, who) = (&assignee.name, &by.name);
    let mut text = match handover {
        Handover::Claim => format!("{to} took the conversation"),
        Handover::TakeOver => format!("{to} took the conversation over from {previous}"),
        Handover::Transfer => format!("{who} transferred the conversation to {to}"),
        Handover::Assign => format!("Assigned to {to} by {who}"),
        Handover::Auto => format!("Assigned to {to}"),
    };
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if let Some(note) = note {
        text.push_str(&format!(": {note}"));
    }
    let (message, after) = handoff_line(tx, session.id, by, text, at).await?;
    let detail = format!("handoff {} to user {}", handoff.id, assignee.id);
    let audit =
        AuditEntry::about_session(by, handover.audit_action(), &after.bot_id, after.id, detail);
    tx.append_audit(&audit, at).await?;
    let mut kinds = message_and_session(tx, &message, &after).await?;
    kinds.extend(queue_moved(tx, &after.bot_id, handoff).await?);
    tx.append_events(&after.bot_id, kinds, at).await?;
    for (recipient, text) in handover_notices(handover, &after, handoff, assignee, by, note) {
        let new = NewNotification::about(after.id, text, Level::Info, None).to(recipient);
        notify(tx, &after.bot_id, &new, at).await?;
    }
    Ok(Ok(after))
}

/// Puts the assigned handoff of `session` back in the queue, where it keeps its place, with
/// `line` for the agents; `lapsed` names an owner who let an offer lapse. Answers the session
/// after it, or `None` when the handoff changed meanwhile (then nothing is written).
pub async fn requeue(
    tx: &mut dyn WriteTx,
    session: &SessionOverview,
    lapsed: Option<i64>,
    line: String,
    at: i64,
) -> Result<Option<SessionOverview>> {
    let Some(handoff) = session
        .handoff
        .as_ref()
        .filter(|h| h.state == HandoffState::Assigned)
    else {
        return Ok(None);
    };
    let update = HandoffUpdate::Requeue { lapsed, at };
    if !tx
        .update_handoff(handoff.id, handoff.version, &update)
        .await?
    {
        return Ok(None);
    }
    let system = Actor::system();
    let (message, after) = handoff_line(tx, session.id, &system, line, at).await?;
    let detail = format!("handoff {} from user {}", handoff.id, handoff.owner_name());
    let audit =
        AuditEntry::about_session(&system, "handoff.requeued", &after.bot_id, after.id, detail);
    tx.append_audit(&audit, at).await?;
    let mut kinds = message_and_session(tx, &message, &after).await?;
    // Those queued after it are one place further back now.
    if let Some(back) = &after.handoff {
        kinds.extend(queue_moved(tx, &after.bot_id, back).await?);
    }
    tx.append_events(&after.bot_id, kinds, at).await?;
    Ok(Some(after))
}

/// The owner keeps the conversation: its inactivity count starts again. Answers the session
/// after it, or `None` when the handoff changed meanwhile.
pub async fn keep(
    tx: &mut dyn WriteTx,
    session: &SessionOverview,
    by: &Actor,
    at: i64,
) -> Result<Option<SessionOverview>> {
    let Some(handoff) = &session.handoff else {
        return Ok(None);
    };
    let update = HandoffUpdate::Keep { at };
    if !tx
        .update_handoff(handoff.id, handoff.version, &update)
        .await?
    {
        return Ok(None);
    }
    let detail = format!("handoff {}", handoff.id);
    let audit = AuditEntry::about_session(by, "handoff.kept", &session.bot_id, session.id, detail);
    tx.append_audit(&audit, at).await?;
    updated(tx, session, &SessionPatch::default(), at)
        .await
        .map(Some)
}

/// Who hears of a handover besides the conversation's line: the one who gets it, unless they
/// took it themselves, and the one it was taken from, unless they gave it.
fn handover_notices(
    handover: Handover,
    session: &SessionOverview,
    before: &Handoff,
    to: &Assignee,
    by: &Actor,
    note: Option<&str>,
) -> Vec<(i64, String)> {
    let user = session.display_name();
    let who = &by.name;
    let with_note = |text: String| match note {
        Some(note) => format!("{text}: {note}"),
        None => text,
    };
    let mut notices = Vec::new();
    match handover {
        Handover::Claim | Handover::TakeOver => {}
        Handover::Transfer => notices.push((
            to.id,
            with_note(format!(
                "{who} transferred the conversation with {user} to you"
            )),
        )),
        Handover::Assign => notices.push((
            to.id,
            with_note(format!("{who} assigned you the conversation with {user}")),
        )),
        Handover::Auto => notices.push((to.id, format!("You have a new conversation with {user}"))),
    }
    let giver = (by.kind == ActorKind::Agent).then_some(by.id).flatten();
    if let Some(owner) = before
        .owner_id()
        .filter(|o| *o != to.id && Some(*o) != giver)
    {
        let text = match handover {
            Handover::TakeOver => format!("{} took over the conversation with {user}", to.name),
            _ => format!("{who} gave the conversation with {user} to {}", to.name),
        };
        notices.push((owner, text));
    }
    notices
}

pub async fn notify(
    tx: &mut dyn WriteTx,
    bot_id: &str,
    new: &NewNotification,
    at: i64,
) -> Result<Notification> {
    let notification = tx.insert_notification(bot_id, new, at).await?;
    let created = EventKind::NotificationCreated {
        notification: notification.clone(),
    };
    tx.append_events(bot_id, vec![created], at).await?;
    Ok(notification)
}

/// Marks unread notifications `reader` may read as read (only `id` when given); each bot's consoles learn
/// which, so every bell follows.
pub async fn read_notifications(
    tx: &mut dyn WriteTx,
    reader: &Reader,
    id: Option<i64>,
    at: i64,
) -> Result<usize> {
    let read = tx.mark_notifications_read(reader, id, at).await?;
    let mut by_bot: Vec<(String, Vec<i64>)> = Vec::new();
    for (bot, id) in &read {
        match by_bot.iter_mut().find(|(b, _)| b == bot) {
            Some((_, ids)) => ids.push(*id),
            None => by_bot.push((bot.clone(), vec![*id])),
        }
    }
    for (bot, ids) in by_bot {
        tx.append_events(&bot, vec![EventKind::NotificationRead { ids }], at)
            .await?;
    }
    Ok(read.len())
}

/// An agent saw the session's messages: its unread count goes back to zero. Answers the
/// session when that changed anything.
pub async fn mark_read(
    tx: &mut dyn WriteTx,
    session_id: i64,
    at: i64,
) -> Result<Option<SessionOverview>> {
    let current = session_of(tx, session_id).await?;
    if current.unread_count == 0 {
        return Ok(None);
    }
    let patch = SessionPatch {
        unread: Unread::Clear,
        ..SessionPatch::default()
    };
    updated(tx, &current, &patch, at).await.map(Some)
}

/// Takes the newer name and picture the channel told us about outside a message. Answers the
/// session when something changed.
pub async fn update_profile(
    tx: &mut dyn WriteTx,
    session_id: i64,
    profile: &Profile,
    at: i64,
) -> Result<Option<SessionOverview>> {
    let current = session_of(tx, session_id).await?;
    let newer = |given: &Option<String>, known: &Option<String>| {
        given.clone().filter(|g| Some(g) != known.as_ref())
    };
    let patch = SessionPatch {
        full_name: newer(&profile.full_name, &current.full_name),
        avatar_url: newer(&profile.avatar_url, &current.avatar_url),
        ..SessionPatch::default()
    };
    if patch == SessionPatch::default() {
        return Ok(None);
    }
    updated(tx, &current, &patch, at).await.map(Some)
}

async fn updated(
    tx: &mut dyn WriteTx,
    current: &SessionOverview,
    patch: &SessionPatch,
    at: i64,
) -> Result<SessionOverview> {
    let session = patched(tx, current.id, patch).await?;
    let kinds = vec![session_updated(tx, &session).await?];
    tx.append_events(&session.bot_id, kinds, at).await?;
    Ok(session)
}

/// Deletes a conversation with all it held, and a web chat's visitor with it (they asked for
/// their data to go); answers its bot.
pub async fn delete_session(
    tx: &mut dyn WriteTx,
    session_id: i64,
    actor: &Actor,
    at: i64,
) -> Result<String> {
    let handoff = session_of(tx, session_id).await?.handoff;
    let key = tx
        .delete_session(session_id)
        .await?
        .ok_or(StoreError::NotFound("session"))?;
    if key.channel == web::CHANNEL {
        tx.delete_visitor(&key.bot_id, &key.user_id).await?;
    }
    let audit = AuditEntry::about_session(actor, "session.deleted", &key.bot_id, session_id, "");
    tx.append_audit(&audit, at).await?;
    let deleted = EventKind::SessionDeleted {
        session_id,
        counts: Some(tx.session_counts(&key.bot_id).await?),
    };
    let mut kinds = vec![deleted];
    if let Some(handoff) = &handoff {
        kinds.extend(queue_moved(tx, &key.bot_id, handoff).await?);
    }
    tx.append_events(&key.bot_id, kinds, at).await?;
    Ok(key.bot_id)
}
