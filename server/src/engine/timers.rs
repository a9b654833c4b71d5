//! The timers of handoffs: what each bot's `[handoffs]` settings arm, kept in the database so a
//! restart loses none. One rule ([`plan`]) says which timers an open handoff has, from what it
//! and its conversation show; arming writes what the plan says, and a timer fires only when the
//! plan, read again in the write that fires it, still holds it and it is due. So a timer armed
//! for an older state does nothing, each fires at most once, and one that came due while the
//! server was down fires once at start.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use app::model::{Actor, Content, EventKind, HandoffState, Level, SessionOverview, Source};
use tokio::sync::broadcast::error::RecvError;

use super::clock::{now_ms, Clock};
use super::outbox;
use super::steps::{self, PauseChange};
use super::{Engine, Result};
use crate::bots::handoffs::{Settings, Timing};
use crate::channels::Outboxes;
use crate::store::write::{apply, Change, NewTimer, Timer, TimerState, WriteTx};
use crate::store::{NewNotification, StoreError};

/// How often due timers are looked for: the most a timer fires late.
const TICK: Duration = Duration::from_millis(500);
/// Timers fired per look.
const BATCH: u32 = 100;

/// What a timer does when it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// Tells the user the conversation goes back to the bot soon.
    InactivityWarning,
    /// Hands an assigned conversation in which nobody wrote back to the bot.
    InactivityReturn,
    /// Hands a conversation nobody took back to the bot.
    QueueTimeout,
    /// Tells the admins a conversation waits too long.
    WaitingTooLong,
    /// Puts a conversation its new owner did not answer back in the queue.
    ClaimTimeout,
    /// Tells a queued user on a channel that pushes their place in line.
    QueueNotice,
}

impl Kind {
    const ALL: [Kind; 6] = [
        Kind::InactivityWarning,
        Kind::InactivityReturn,
        Kind::QueueTimeout,
        Kind::WaitingTooLong,
        Kind::ClaimTimeout,
        Kind::QueueNotice,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::InactivityWarning => "inactivity_warning",
            Kind::InactivityReturn => "inactivity_return",
            Kind::QueueTimeout => "queue_timeout",
            Kind::WaitingTooLong => "waiting_too_long",
            Kind::ClaimTimeout => "claim_timeout",
            Kind::QueueNotice => "queue_notice",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// What the plan reads of one open handoff and its conversation (times in unix ms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub state: HandoffState,
    pub version: i64,
    /// When it entered the queue, was given to its owner, or was kept by them.
    pub active_at: i64,
    pub assigned_at: Option<i64>,
    /// Given by someone else, so it waits for its owner to answer.
    pub offered: bool,
    /// The user's last message, and the last agent reply.
    pub last_heard: Option<i64>,
    pub last_reply: Option<i64>,
    /// Its place in line while queued, and the place its user was last told, and when (on a
    /// channel that pushes; `told` is `None` there until the first notice).
    pub position: Option<i64>,
    pub pushes: bool,
    pub told: Option<(i64, i64)>,
}

/// A timer the handoff should have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Planned {
    pub kind: Kind,
    /// What it counts from: a change of it is a new timer.
    pub basis: i64,
    pub due_at: i64,
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// The timers an open handoff has. `fired` says whether a timer of a kind, for this version
/// and basis, fired already (each fires once).
pub fn plan(timing: &Timing, facts: &Facts, fired: impl Fn(Kind, i64) -> bool) -> Vec<Planned> {
    let mut planned = Vec::new();
    let mut add = |kind: Kind, basis: i64, after: Option<Duration>| {
        if let Some(after) = after {
            if !fired(kind, basis) {
                planned.push(Planned {
                    kind,
                    basis,
                    due_at: basis.saturating_add(ms(after)),
                });
            }
        }
    };
    match facts.state {
        HandoffState::Queued => {
            add(Kind::QueueTimeout, facts.active_at, timing.queue_timeout);
            add(
                Kind::WaitingTooLong,
                facts.active_at,
                timing.waiting_too_long,
            );
            // Told at once, then again when the place changed, at most once per interval.
            if let (Some(every), Some(position), true) =
                (timing.queue_notice, facts.position, facts.pushes)
            {
                match facts.told {
                    None => add(Kind::QueueNotice, facts.active_at, Some(Duration::ZERO)),
                    Some((told, at)) if told != position => add(Kind::QueueNotice, at, Some(every)),
                    Some(_) => {}
                }
            }
        }
        HandoffState::Assigned => {
            // Any public message counts: the user's or the owner's.
            let activity = [facts.last_heard, facts.last_reply]
                .into_iter()
                .flatten()
                .fold(facts.active_at, i64::max);
            add(Kind::InactivityReturn, activity, timing.inactivity_return);
            if let (Some(ret), Some(warn)) = (timing.inactivity_return, timing.inactivity_warning) {
                add(Kind::InactivityWarning, activity, ret.checked_sub(warn));
            }
            let assigned = facts.assigned_at.unwrap_or(facts.active_at);
            let answered = facts.last_reply.is_some_and(|r| r >= assigned);
            if facts.offered && !answered {
                add(Kind::ClaimTimeout, assigned, timing.claim_timeout);
            }
        }
    }
    planned
}

/// "2 min", "45 s", "1 h 30 min": how long a timer waited, for the lines people read.
pub fn span(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 3600, s % 3600 / 60, s % 60) {
        (0, 0, s) => format!("{s} s"),
        (0, m, 0) => format!("{m} min"),
        (0, m, s) => format!("{m} min {s} s"),
        (h, 0, _) => format!("{h} h"),
        (h, m, _) => format!("{h} h {m} min"),
    }
}

/// The facts of the session's open handoff as this write sees them, with its stored timers.
async fn facts_of(
    tx: &mut dyn WriteTx,
    outboxes: &Outboxes,
    session: &SessionOverview,
) -> crate::store::Result<Option<(Facts, Vec<Timer>)>> {
    let Some(handoff) = &session.handoff else {
        return Ok(None);
    };
    let times = tx
        .handoff_times(handoff.id)
        .await?
        .ok_or(StoreError::NotFound("handoff"))?;
    let facts = Facts {
        state: handoff.state,
        version: handoff.version,
        active_at: times.active_at,
        assigned_at: handoff.assigned_at.map(|t| t.timestamp_millis()),
        offered: times.offered,
        last_heard: session.last_heard_on.map(|t| t.timestamp_millis()),
        last_reply: session.last_agent_reply_on.map(|t| t.timestamp_millis()),
        position: handoff.position,
        pushes: outboxes.get(&session.bot_id, &session.channel).is_some(),
        told: times.told,
    };
    Ok(Some((facts, tx.timers_of(handoff.id).await?)))
}

/// The plan for the session as this write sees it.
async fn plan_of(
    tx: &mut dyn WriteTx,
    timing: &Timing,
    outboxes: &Outboxes,
    session: &SessionOverview,
) -> crate::store::Result<(Vec<Planned>, Vec<Timer>, i64)> {
    let Some((facts, timers)) = facts_of(tx, outboxes, session).await? else {
        return Ok((Vec::new(), Vec::new(), 0));
    };
    let fired = |kind: Kind, basis: i64| {
        timers.iter().any(|t| {
            t.state == TimerState::Fired
                && t.kind == kind.as_str()
                && t.guard_version == facts.version
                && t.basis == basis
        })
    };
    let planned = plan(timing, &facts, fired);
    Ok((planned, timers, facts.version))
}

fn is(timer: &Timer, p: &Planned, version: i64) -> bool {
    timer.kind == p.kind.as_str()
        && timer.guard_version == version
        && timer.basis == p.basis
        && timer.due_at == p.due_at
}

/// Makes the session's pending timers what the plan says: ends those it no longer has, arms
/// those it lacks. Answers whether the time it goes back to the bot changed (consoles show it).
async fn arm(
    tx: &mut dyn WriteTx,
    timing: &Timing,
    outboxes: &Outboxes,
    session_id: i64,
    at: i64,
) -> crate::store::Result<bool> {
    let Some(session) = tx.session(session_id).await? else {
        return Ok(false);
    };
    let (planned, timers, version) = plan_of(tx, timing, outboxes, &session).await?;
    let mut shown_changed = false;
    let pending: Vec<&Timer> = timers
        .iter()
        .filter(|t| t.state == TimerState::Pending)
        .collect();
    for timer in &pending {
        if !planned.iter().any(|p| is(timer, p, version)) {
            tx.finish_timer(timer.id, TimerState::Cancelled, at).await?;
            shown_changed |= timer.kind == Kind::InactivityReturn.as_str();
        }
    }
    let (Some(handoff), bot_id) = (&session.handoff, session.bot_id.as_str()) else {
        return Ok(shown_changed);
    };
    for p in &planned {
        if pending.iter().any(|t| is(t, p, version)) {
            continue;
        }
        let new = NewTimer {
            kind: p.kind.as_str(),
            bot_id,
            session_id,
            handoff_id: handoff.id,
            guard_version: version,
            basis: p.basis,
            due_at: p.due_at,
        };
        tx.insert_timer(&new).await?;
        shown_changed |= p.kind == Kind::InactivityReturn;
    }
    Ok(shown_changed)
}

/// Arms a session's timers anew; consoles hear when the return time changed.
struct Arm {
    timing: Timing,
    outboxes: Arc<Outboxes>,
    session_id: i64,
}

#[async_trait::async_trait]
impl Change for Arm {
    type Output = ();

    async fn apply(&self, tx: &mut dyn WriteTx) -> crate::store::Result<()> {
        let at = Clock::start().tick();
        if arm(tx, &self.timing, &self.outboxes, self.session_id, at).await? {
            publish_session(tx, self.session_id, at).await?;
        }
        Ok(())
    }
}

async fn publish_session(
    tx: &mut dyn WriteTx,
    session_id: i64,
    at: i64,
) -> crate::store::Result<()> {
    let Some(session) = tx.session(session_id).await? else {
        return Ok(());
    };
    let counts = tx.session_counts(&session.bot_id).await?;
    let bot_id = session.bot_id.clone();
    let event = EventKind::SessionUpdated {
        session,
        counts: Some(counts),
    };
    tx.append_events(&bot_id, vec![event], at).await?;
    Ok(())
}

/// Fires one due timer, if the plan still holds it; then arms what follows.
struct Fire {
    outboxes: Arc<Outboxes>,
    settings: Settings,
    /// Who hears of a conversation waiting too long (the bot's admins).
    admins: Vec<i64>,
    timer_id: i64,
    session_id: i64,
}

/// The timer's kind, when it fired.
type Fired = Option<Kind>;

#[async_trait::async_trait]
impl Change for Fire {
    type Output = Fired;

    async fn apply(&self, tx: &mut dyn WriteTx) -> crate::store::Result<Fired> {
        let mut clock = Clock::start();
        let now = clock.tick();
        let timing = self.settings.timing();
        let Some(session) = tx.session(self.session_id).await? else {
            return Ok(None);
        };
        let (planned, timers, version) = plan_of(tx, &timing, &self.outboxes, &session).await?;
        let Some(timer) = timers
            .iter()
            .find(|t| t.id == self.timer_id && t.state == TimerState::Pending)
        else {
            // Armed for a handoff that has closed since.
            tx.finish_timer(self.timer_id, TimerState::Cancelled, now)
                .await?;
            return Ok(None);
        };
        let due = planned
            .iter()
            .find(|p| is(timer, p, version) && p.due_at <= now)
            .map(|p| p.kind);
        let Some(kind) = due else {
            // Armed for a state that has passed: the plan arms what applies now.
            if arm(tx, &timing, &self.outboxes, self.session_id, now).await? {
                publish_session(tx, self.session_id, now).await?;
            }
            return Ok(None);
        };
        tx.finish_timer(timer.id, TimerState::Fired, now).await?;
        self.act(tx, kind, &session, &mut clock).await?;
        let at = clock.tick();
        if arm(tx, &timing, &self.outboxes, self.session_id, at).await? {
            publish_session(tx, self.session_id, at).await?;
        }
        Ok(Some(kind))
    }
}

impl Fire {
    async fn act(
        &self,
        tx: &mut dyn WriteTx,
        kind: Kind,
        session: &SessionOverview,
        clock: &mut Clock,
    ) -> crate::store::Result<()> {
        let s = &self.settings;
        let waited = |d: Option<u64>| span(Duration::from_secs(d.unwrap_or(0)));
        match kind {
            Kind::InactivityWarning => {
                self.tell(tx, session.id, &s.inactivity_warning_message, clock)
                    .await?;
            }
            Kind::InactivityReturn => {
                self.tell(tx, session.id, &s.return_message, clock).await?;
                let why = format!("nobody wrote for {}", waited(s.inactivity_return_secs));
                let resume =
                    PauseChange::new(false, Actor::system(), Some(why)).closing_as(INACTIVITY);
                steps::set_paused(tx, session.id, &resume, clock.tick()).await?;
            }
            Kind::QueueTimeout => {
                self.tell(tx, session.id, &s.queue_timeout_message, clock)
                    .await?;
                let why = format!("nobody took it within {}", waited(s.queue_timeout_secs));
                let resume =
                    PauseChange::new(false, Actor::system(), Some(why)).closing_as(QUEUE_TIMEOUT);
                steps::set_paused(tx, session.id, &resume, clock.tick()).await?;
            }
            Kind::WaitingTooLong => {
                let text = format!(
                    "{} has waited {} for a person",
                    session.display_name(),
                    waited(s.waiting_too_long_secs)
                );
                let at = clock.tick();
                let new = NewNotification::about(session.id, text, Level::Warning, None);
                if self.admins.is_empty() {
                    steps::notify(tx, &session.bot_id, &new, at).await?;
                }
                for admin in &self.admins {
                    steps::notify(tx, &session.bot_id, &new.clone().to(*admin), at).await?;
                }
            }
            Kind::ClaimTimeout => {
                let Some(owner) = session.handoff.as_ref().and_then(|h| h.assignee.clone()) else {
                    return Ok(());
                };
                let line = format!(
                    "{} did not answer within {}: back in the queue",
                    owner.name,
                    waited(s.claim_timeout_secs)
                );
                let at = clock.tick();
                if steps::requeue(tx, session, Some(owner.id), line, at)
                    .await?
                    .is_some()
                {
                    let text = format!(
                        "The conversation with {} went back to the queue: you did not answer it",
                        session.display_name()
                    );
                    let new =
                        NewNotification::about(session.id, text, Level::Warning, None).to(owner.id);
                    steps::notify(tx, &session.bot_id, &new, clock.tick()).await?;
                }
            }
            Kind::QueueNotice => {
                let (Some(handoff), Some(text)) = (&session.handoff, &s.queue_message) else {
                    return Ok(());
                };
                let Some(position) = handoff.position else {
                    return Ok(());
                };
                let text = text.replace("{position}", &position.to_string());
                self.tell(tx, session.id, &text, clock).await?;
                tx.note_told_position(handoff.id, position, clock.tick())
                    .await?;
            }
        }
        Ok(())
    }

    /// A message to the user from hitl, on the bot's behalf, over the conversation's channel.
    async fn tell(
        &self,
        tx: &mut dyn WriteTx,
        session_id: i64,
        text: &str,
        clock: &mut Clock,
    ) -> crate::store::Result<()> {
        let content = Content::Text { text: text.into() };
        let system = Actor::system();
        let r =
            steps::outgoing_message(tx, session_id, Source::Bot, &system, &content, clock.tick())
                .await?;
        outbox::queue(tx, &self.outboxes, &r.session, &r.message, &content).await
    }
}

/// Why a handoff closed when nobody wrote for the bot's inactivity time.
pub const INACTIVITY: &str = "inactivity";
/// Why a handoff closed when nobody took it in the bot's queue time.
pub const QUEUE_TIMEOUT: &str = "queue_timeout";

impl Engine {
    /// Arms the timers of one conversation of the bot as its state says.
    pub async fn arm_timers(&self, bot_id: &str, session_id: i64) -> Result<()> {
        let timing = self.bot(bot_id)?.handoffs.timing();
        let outboxes = self.outboxes();
        let arm = Arm {
            timing,
            outboxes,
            session_id,
        };
        apply(self.store(), arm).await?;
        Ok(())
    }

    /// Arms the timers of every open handoff (at start: what a crash left unarmed).
    pub async fn arm_all_timers(&self) -> Result<()> {
        for (bot_id, session_id) in self.store().open_handoffs().await? {
            if self.bot(&bot_id).is_ok() {
                self.arm_timers(&bot_id, session_id).await?;
            }
        }
        Ok(())
    }

    /// Fires the timers that came due; answers how many fired.
    pub async fn fire_due_timers(&self) -> Result<usize> {
        let mut fired = 0;
        for due in self.store().due_timers(now_ms(), BATCH).await? {
            let Ok(bot) = self.bot(&due.bot_id) else {
                continue;
            };
            let admins = self.admins_of(&due.bot_id).await?;
            let change = Fire {
                outboxes: self.outboxes(),
                settings: bot.handoffs.clone(),
                admins,
                timer_id: due.id,
                session_id: due.session_id,
            };
            if apply(self.store(), change).await?.is_some() {
                fired += 1;
            }
        }
        if fired > 0 {
            self.wake_sender();
        }
        Ok(fired)
    }

    /// The active admins who work on the bot.
    async fn admins_of(&self, bot_id: &str) -> Result<Vec<i64>> {
        Ok(self
            .store()
            .users()
            .await?
            .into_iter()
            .filter(|u| u.active && u.viewer.is_admin() && u.viewer.may_work_on(bot_id))
            .map(|u| u.viewer.id)
            .collect())
    }
}

/// The conversation an event is about, when it may change its timers: one with an open
/// handoff (the timers of one that closed end when they come due).
fn session_of(kind: &EventKind) -> Option<i64> {
    match kind {
        EventKind::SessionCreated { session, .. } | EventKind::SessionUpdated { session, .. }
            if session.handoff.is_some() =>
        {
            Some(session.id)
        }
        _ => None,
    }
}

/// Starts the timers: arms what the database says (firing at once what came due while the
/// server was down), then follows every change of a conversation and fires what comes due.
pub fn spawn(engine: Arc<Engine>, mut stopping: tokio::sync::watch::Receiver<bool>) {
    tokio::spawn(async move {
        let mut events = engine.bus().subscribe();
        if let Err(e) = engine.arm_all_timers().await {
            tracing::warn!(error = %e, "timers were not armed at start");
        }
        let mut tick = tokio::time::interval(TICK);
        loop {
            let due: BTreeSet<(String, i64)> = tokio::select! {
                received = events.recv() => match received {
                    Ok(frame) => {
                        let mut due = BTreeSet::new();
                        let mut take = |bot_id: &str, kind: &EventKind| {
                            let timed = engine.bot(bot_id).is_ok_and(|b| !b.handoffs.timing().is_off());
                            if let (true, Some(id)) = (timed, session_of(kind)) {
                                due.insert((bot_id.to_string(), id));
                            }
                        };
                        take(&frame.bot_id, &frame.event.kind);
                        while let Ok(frame) = events.try_recv() {
                            take(&frame.bot_id, &frame.event.kind);
                        }
                        due
                    }
                    Err(RecvError::Lagged(_)) => {
                        if let Err(e) = engine.arm_all_timers().await {
                            tracing::warn!(error = %e, "timers were not armed");
                        }
                        continue;
                    }
                    Err(RecvError::Closed) => return,
                },
                _ = tick.tick() => {
                    if let Err(e) = engine.fire_due_timers().await {
                        tracing::warn!(error = %e, "timers failed");
                    }
                    if let Err(e) = engine.leave_offline().await {
                        tracing::warn!(error = %e, "offline agents' conversations were not moved");
                    }
                    continue;
                }
                Ok(()) = stopping.changed() => return,
            };
            for (bot_id, session_id) in due {
                if let Err(e) = engine.arm_timers(&bot_id, session_id).await {
                    tracing::warn!(error = %e, bot_id, session_id, "timers were not armed");
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Option<Duration> {
        Some(Duration::from_secs(s))
    }

    fn assigned(active_at: i64) -> Facts {
        Facts {
            state: HandoffState::Assigned,
            version: 2,
            active_at,
            assigned_at: Some(active_at),
            offered: false,
            last_heard: None,
            last_reply: None,
            position: None,
            pushes: false,
            told: None,
        }
    }

    #[test]
    fn a_queued_user_on_a_pushing_channel_is_told_at_once_then_on_a_change_at_most_per_interval() {
        let timing = Timing {
            queue_notice: secs(60),
            ..Timing::default()
        };
        let queued = |position, pushes, told| Facts {
            state: HandoffState::Queued,
            assigned_at: None,
            position: Some(position),
            pushes,
            told,
            ..assigned(1_000)
        };
        let notices = |facts: &Facts| {
            plan(&timing, facts, |_, _| false)
                .into_iter()
                .map(|p| (p.basis, p.due_at))
                .collect::<Vec<_>>()
        };
        assert_eq!(notices(&queued(3, true, None)), [(1_000, 1_000)]);
        // Told #3 at 2 s: nothing while it is still #3; once #2, a minute after the last notice.
        assert!(notices(&queued(3, true, Some((3, 2_000)))).is_empty());
        assert_eq!(
            notices(&queued(2, true, Some((3, 2_000)))),
            [(2_000, 62_000)]
        );
        // A channel that shows the place itself (the web chat) or answers with it gets none.
        assert!(notices(&queued(3, false, None)).is_empty());
        // Nor a conversation someone owns.
        let owned = Facts {
            state: HandoffState::Assigned,
            ..queued(3, true, None)
        };
        assert!(notices(&owned).is_empty());
    }

    #[test]
    fn inactivity_counts_from_the_last_public_message_and_warns_before() {
        let timing = Timing {
            inactivity_return: secs(600),
            inactivity_warning: secs(120),
            ..Timing::default()
        };
        let facts = Facts {
            last_heard: Some(5_000),
            last_reply: Some(9_000),
            ..assigned(1_000)
        };
        let planned = plan(&timing, &facts, |_, _| false);
        assert_eq!(
            planned,
            vec![
                Planned {
                    kind: Kind::InactivityReturn,
                    basis: 9_000,
                    due_at: 609_000
                },
                Planned {
                    kind: Kind::InactivityWarning,
                    basis: 9_000,
                    due_at: 489_000
                },
            ]
        );
        // Once warned for this basis, the warning is not planned again.
        let warned = plan(&timing, &facts, |k, b| {
            k == Kind::InactivityWarning && b == 9_000
        });
        assert_eq!(
            warned.iter().map(|p| p.kind).collect::<Vec<_>>(),
            [Kind::InactivityReturn]
        );
    }

    #[test]
    fn a_queued_handoff_times_out_and_escalates_from_when_it_was_queued() {
        let timing = Timing {
            queue_timeout: secs(300),
            waiting_too_long: secs(60),
            inactivity_return: secs(10),
            ..Timing::default()
        };
        let facts = Facts {
            state: HandoffState::Queued,
            assigned_at: None,
            ..assigned(1_000)
        };
        let planned = plan(&timing, &facts, |_, _| false);
        let kinds: Vec<(Kind, i64)> = planned.iter().map(|p| (p.kind, p.due_at)).collect();
        assert_eq!(
            kinds,
            [
                (Kind::QueueTimeout, 301_000),
                (Kind::WaitingTooLong, 61_000)
            ]
        );
    }

    #[test]
    fn a_claim_timeout_runs_only_for_an_offer_until_its_owner_answers() {
        let timing = Timing {
            claim_timeout: secs(30),
            ..Timing::default()
        };
        let claimed = assigned(1_000);
        assert!(plan(&timing, &claimed, |_, _| false).is_empty());
        let offered = Facts {
            offered: true,
            ..assigned(1_000)
        };
        assert_eq!(
            plan(&timing, &offered, |_, _| false),
            [Planned {
                kind: Kind::ClaimTimeout,
                basis: 1_000,
                due_at: 31_000
            }]
        );
        let answered = Facts {
            last_reply: Some(2_000),
            ..offered
        };
        assert!(plan(&timing, &answered, |_, _| false).is_empty());
    }

    #[test]
    fn nothing_is_planned_when_the_timers_are_off() {
        assert!(plan(&Timing::default(), &assigned(1), |_, _| false).is_empty());
    }

    #[test]
    fn spans_read_as_people_say_them() {
        assert_eq!(span(Duration::from_secs(45)), "45 s");
        assert_eq!(span(Duration::from_secs(120)), "2 min");
        assert_eq!(span(Duration::from_secs(150)), "2 min 30 s");
        assert_eq!(span(Duration::from_secs(5400)), "1 h 30 min");
    }
}
