//! Who of the team is there, across instances. Each person chooses a status (Online, Busy,
//! Away, Offline); whether they are there is that status while any instance saw a console of
//! theirs within a grace period (a reload, a short network loss or an instance that dies under
//! them changes nothing at once), then offline. Several consoles count as one.
//!
//! Each instance counts its consoles of a person in the database and, while one is open, notes
//! that it still sees them. A change of how someone stands is decided inside a write that holds
//! the person, so exactly one instance tells their bots (an `agent.status` event on each) and
//! wakes the dispatchers; every instance learns of it from the log.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::account::Viewer;
use app::model::EventKind;
use app::team::{AgentInfo, AgentStatus};
use chrono::DateTime;

use super::clock::{now_ms, Clock};
use super::{Engine, Result};
use crate::store::accounts::AuditEntry;
use crate::store::presence::PresenceFacts;
use crate::store::write::{apply, Change, WriteTx};

/// How long a person without an open console still counts as there, by default.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(45);
/// How long what an instance saw is kept after it last saw anyone (an instance that is gone).
const FORGET_AFTER_MS: i64 = 86_400_000;

/// How a person stands, by the one rule: what they chose while an instance saw them within the
/// grace period, else offline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub status: AgentStatus,
    /// Their consoles open on instances that are still heard of.
    pub consoles: u32,
    /// When an instance last saw them (unix ms).
    pub last_seen: Option<i64>,
}

pub fn standing(facts: &PresenceFacts, now: i64, grace_ms: i64) -> Standing {
    let recent = |at: i64| now - at < grace_ms;
    let last_seen = facts.seen.iter().map(|s| s.at).max();
    let consoles = facts
        .seen
        .iter()
        .filter(|s| recent(s.at))
        .map(|s| s.consoles)
        .sum::<i64>();
    Standing {
        status: match last_seen {
            Some(at) if recent(at) => facts.chosen,
            _ => AgentStatus::Offline,
        },
        consoles: u32::try_from(consoles).unwrap_or(u32::MAX),
        last_seen,
    }
}

/// What each bot was last told of its agents (status and name), as the log says.
type Shown = HashMap<String, HashMap<i64, (AgentStatus, String)>>;

/// This instance's part in presence.
pub struct Presence {
    /// Names this process among the instances that count consoles.
    instance: String,
    grace: Duration,
    started: i64,
    shown: Arc<Mutex<Shown>>,
}

impl Presence {
    pub fn new(grace: Duration) -> Self {
        Presence {
            instance: format!("{:016x}", rand::random::<u64>()),
            grace,
            started: now_ms(),
            shown: Arc::default(),
        }
    }

    /// The same instance with another grace period.
    pub fn with_grace(self, grace: Duration) -> Self {
        Presence { grace, ..self }
    }

    fn grace_ms(&self) -> i64 {
        i64::try_from(self.grace.as_millis()).unwrap_or(i64::MAX)
    }

    /// How often this instance notes that it still sees its consoles' people, and looks for
    /// people whose standing changed with nobody to tell (their instance died): well within
    /// the grace period.
    fn every(&self) -> Duration {
        (self.grace / 4).clamp(Duration::from_millis(100), Duration::from_secs(10))
    }

    fn shown(&self) -> std::sync::MutexGuard<'_, Shown> {
        self.shown.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Follows what the log tells the bots (the engine's commit hook calls it).
    pub fn hearer(&self) -> impl Fn(&str, &EventKind) + Send + Sync + 'static {
        let shown = self.shown.clone();
        move |bot_id, kind| {
            if let EventKind::AgentStatus { agent } = kind {
                shown
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .entry(bot_id.to_string())
                    .or_default()
                    .insert(agent.id, (agent.status, agent.name.clone()));
            }
        }
    }

    /// The people the bot was last told are there with `status`.
    pub fn with_status(&self, bot_id: &str, status: AgentStatus) -> Vec<(i64, String)> {
        let mut found: Vec<(i64, String)> = self
            .shown()
            .get(bot_id)
            .into_iter()
            .flatten()
            .filter(|(_, (s, _))| *s == status)
            .map(|(id, (_, name))| (*id, name.clone()))
            .collect();
        found.sort();
        found
    }

    /// Since when the person counts as offline (unix ms), while they do: for one the database
    /// knows nothing of, since this instance started.
    pub fn offline_since(&self, facts: Option<&PresenceFacts>) -> Option<i64> {
        match facts {
            None => Some(self.started),
            Some(f) if f.shown == AgentStatus::Offline => Some(f.shown_at.unwrap_or(self.started)),
            Some(_) => None,
        }
    }
}

/// An open console: while it lives its person counts as there.
pub struct Attendance {
    engine: Arc<Engine>,
    person: i64,
}

impl Drop for Attendance {
    fn drop(&mut self) {
        let engine = self.engine.clone();
        let person = self.person;
        tokio::spawn(async move {
            let leave = CountConsoles {
                instance: engine.presence.instance.clone(),
                user_id: person,
                delta: -1,
            };
            if let Err(e) = apply(engine.store(), leave).await {
                tracing::warn!(error = %e, person, "a closed console was not counted");
            }
            // Whether that was their last console anywhere shows once the grace period is over.
            tokio::time::sleep(engine.presence.grace).await;
            engine.reconsider(person).await;
        });
    }
}

impl Engine {
    /// A console of `viewer` opened; they count as there until the answer is dropped (and for
    /// the grace period after their last console).
    pub async fn attend(self: &Arc<Self>, viewer: &Viewer) -> Result<Attendance> {
        let attend = Attend {
            count: CountConsoles {
                instance: self.presence.instance.clone(),
                user_id: viewer.id,
                delta: 1,
            },
            tell: self.tell(viewer, false),
        };
        apply(self.store(), attend).await?;
        Ok(Attendance {
            engine: self.clone(),
            person: viewer.id,
        })
    }

    /// `viewer` chooses a status (kept); their bots hear of it.
    pub async fn choose_status(&self, viewer: &Viewer, status: AgentStatus) -> Result<()> {
        let change = ChooseStatus {
            status,
            tell: self.tell(viewer, true),
        };
        apply(self.store(), change).await?;
        Ok(())
    }

    /// Sets how many conversations the person owns at once before automatic assignment passes
    /// them over (`None`: their bot's number); audited; their bots hear of it.
    pub async fn set_capacity(
        &self,
        by: &app::model::Actor,
        person: &Viewer,
        capacity: Option<i64>,
    ) -> Result<()> {
        if capacity.is_some_and(|c| !(1..=1000).contains(&c)) {
            return Err(super::EngineError::Invalid(
                "capacity must be between 1 and 1000, or null for the bot's".into(),
            ));
        }
        let change = SetCapacity {
            by: by.clone(),
            capacity,
            tell: self.tell(person, true),
        };
        apply(self.store(), change).await?;
        Ok(())
    }

    /// What telling the person's bots of them takes.
    fn tell(&self, viewer: &Viewer, always: bool) -> Tell {
        let bots = self
            .bot_ids()
            .into_iter()
            .filter(|b| viewer.may_work_on(b))
            .filter_map(|b| {
                let capacity = self.bot(&b).ok()?.handoffs.capacity;
                Some((b, capacity))
            })
            .collect();
        Tell {
            viewer: viewer.clone(),
            bots,
            grace_ms: self.presence.grace_ms(),
            always,
        }
    }

    /// Tells the person's bots how they stand if that changed.
    async fn reconsider(&self, person: i64) {
        let user = match self.store().user(person).await {
            Ok(Some(user)) => user,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, person, "an agent's standing was not looked at");
                return;
            }
        };
        if let Err(e) = apply(self.store(), self.tell(&user.viewer, false)).await {
            tracing::warn!(error = %e, person, "an agent's status was not told");
        }
    }

    /// Notes that this instance still sees the people of its consoles, then tells the bots of
    /// anyone whose standing changed unannounced.
    async fn look_around(&self) -> Result<()> {
        let now = now_ms();
        let see = SeeConsoles {
            instance: self.presence.instance.clone(),
            forget_before: now - FORGET_AFTER_MS.max(self.presence.grace_ms()),
        };
        apply(self.store(), see).await?;
        let grace = self.presence.grace_ms();
        for facts in self.store().presence().await? {
            if standing(&facts, now_ms(), grace).status != facts.shown {
                self.reconsider(facts.user_id).await;
            }
        }
        Ok(())
    }

    /// Learns what the bots were told of their agents before this instance started.
    async fn recall_shown(&self) -> Result<()> {
        for facts in self.store().presence().await? {
            let Some(user) = self.store().user(facts.user_id).await? else {
                continue;
            };
            for bot_id in self.bot_ids() {
                if user.viewer.may_work_on(&bot_id) {
                    let mut shown = self.presence.shown();
                    let agents = shown.entry(bot_id).or_default();
                    // What the log told meanwhile is newer.
                    agents
                        .entry(facts.user_id)
                        .or_insert((facts.shown, user.viewer.name.clone()));
                }
            }
        }
        Ok(())
    }

    /// What the person's settings and the database's facts make of them as an agent of the
    /// bot: as the bots were last told, with their consoles and load now.
    pub async fn agent_info(&self, bot_id: &str, viewer: &Viewer) -> Result<AgentInfo> {
        let facts = self
            .store()
            .presence()
            .await?
            .into_iter()
            .find(|f| f.user_id == viewer.id)
            .unwrap_or_else(|| PresenceFacts::unknown(viewer.id));
        let loads = self.store().handoff_loads(bot_id).await?;
        let open_handoffs = loads
            .iter()
            .find(|(id, _)| *id == viewer.id)
            .map_or(0, |(_, n)| *n);
        let capacity = facts
            .capacity
            .unwrap_or(self.bot(bot_id)?.handoffs.capacity);
        let now = standing(&facts, now_ms(), self.presence.grace_ms());
        Ok(info(
            viewer,
            &facts,
            facts.shown,
            now,
            open_handoffs,
            capacity,
        ))
    }

    /// How many conversations of the bot the person may own before automatic assignment
    /// passes them over: their own setting, else the bot's.
    pub async fn capacity_of(&self, bot_id: &str, person: i64) -> Result<i64> {
        let own = self.store().agent_capacity(person).await?;
        Ok(own.unwrap_or(self.bot(bot_id)?.handoffs.capacity))
    }
}

fn info(
    viewer: &Viewer,
    facts: &PresenceFacts,
    status: AgentStatus,
    now: Standing,
    open_handoffs: i64,
    capacity: i64,
) -> AgentInfo {
    AgentInfo {
        id: viewer.id,
        name: viewer.name.clone(),
        is_admin: viewer.is_admin(),
        status,
        chosen_status: facts.chosen,
        consoles: now.consoles,
        last_seen_at: now.last_seen.and_then(DateTime::from_timestamp_millis),
        open_handoffs,
        capacity,
    }
}

/// Notes this instance's part in presence, and looks around, as long as the server runs.
pub fn spawn(engine: Arc<Engine>, mut stopping: tokio::sync::watch::Receiver<bool>) {
    tokio::spawn(async move {
        if let Err(e) = engine.recall_shown().await {
            tracing::warn!(error = %e, "the agents' last statuses were not read");
        }
        let mut tick = tokio::time::interval(engine.presence.every());
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    if let Err(e) = engine.look_around().await {
                        tracing::warn!(error = %e, "presence was not kept");
                    }
                }
                Ok(()) = stopping.changed() => return,
            }
        }
    });
}

/// Tells the person's bots how they stand now, if that changed (or `always`: their settings
/// did). Runs inside the write that changed their facts, holding the person.
struct Tell {
    viewer: Viewer,
    /// Their bots, with each bot's capacity.
    bots: Vec<(String, i64)>,
    grace_ms: i64,
    always: bool,
}

impl Tell {
    async fn run(&self, tx: &mut dyn WriteTx, at: i64) -> crate::store::Result<()> {
        let facts = tx.presence_of(self.viewer.id).await?;
        let now = standing(&facts, at, self.grace_ms);
        let changed = now.status != facts.shown;
        if changed {
            tx.set_shown_status(self.viewer.id, now.status.as_str(), at)
                .await?;
        }
        if !changed && !self.always {
            return Ok(());
        }
        for (bot_id, bot_capacity) in &self.bots {
            let load = tx.agent_load(bot_id, self.viewer.id).await?;
            let capacity = facts.capacity.unwrap_or(*bot_capacity);
            let agent = info(&self.viewer, &facts, now.status, now, load, capacity);
            tx.append_events(bot_id, vec![EventKind::AgentStatus { agent }], at)
                .await?;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Change for Tell {
    type Output = ();

    async fn apply(&self, tx: &mut dyn WriteTx) -> crate::store::Result<()> {
        self.run(tx, Clock::start().tick()).await
    }
}

struct CountConsoles {
    instance: String,
    user_id: i64,
    delta: i64,
}

#[async_trait::async_trait]
impl Change for CountConsoles {
    type Output = ();

    async fn apply(&self, tx: &mut dyn WriteTx) -> crate::store::Result<()> {
        let at = Clock::start().tick();
        tx.count_consoles(&self.instance, self.user_id, self.delta, at)
            .await
    }
}

struct Attend {
    count: CountConsoles,
    tell: Tell,
}

#[async_trait::async_trait]
impl Change for Attend {
    type Output = ();

    async fn apply(&self, tx: &mut dyn WriteTx) -> crate::store::Result<()> {
        self.count.apply(tx).await?;
        self.tell.apply(tx).await
    }
}

struct SeeConsoles {
    instance: String,
    forget_before: i64,
}

#[async_trait::async_trait]
impl Change for SeeConsoles {
    type Output = ();

    async fn apply(&self, tx: &mut dyn WriteTx) -> crate::store::Result<()> {
        let at = Clock::start().tick();
        tx.see_consoles(&self.instance, at, self.forget_before)
            .await
    }
}

struct ChooseStatus {
    status: AgentStatus,
    tell: Tell,
}

#[async_trait::async_trait]
impl Change for ChooseStatus {
    type Output = ();

    async fn apply(&self, tx: &mut dyn WriteTx) -> crate::store::Result<()> {
        tx.set_agent_status(self.tell.viewer.id, self.status.as_str())
            .await?;
        self.tell.apply(tx).await
    }
}

struct SetCapacity {
    by: app::model::Actor,
    capacity: Option<i64>,
    tell: Tell,
}

#[async_trait::async_trait]
impl Change for SetCapacity {
    type Output = ();

    async fn apply(&self, tx: &mut dyn WriteTx) -> crate::store::Result<()> {
        let at = Clock::start().tick();
        let user_id = self.tell.viewer.id;
        tx.set_agent_capacity(user_id, self.capacity).await?;
        let detail = match self.capacity {
            Some(n) => format!("user {user_id} capacity {n}"),
            None => format!("user {user_id} capacity of the bot"),
        };
        let audit = AuditEntry::by(&self.by, "agent.capacity", detail);
        tx.append_audit(&audit, at).await?;
        self.tell.run(tx, at).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::presence::Seen;

    const GRACE: i64 = 45_000;

    fn facts(chosen: AgentStatus, seen: &[(i64, i64)]) -> PresenceFacts {
        PresenceFacts {
            chosen,
            seen: seen
                .iter()
                .map(|&(consoles, at)| Seen { consoles, at })
                .collect(),
            ..PresenceFacts::unknown(1)
        }
    }

    #[test]
    fn someone_never_seen_is_offline() {
        let s = standing(&facts(AgentStatus::Online, &[]), 100_000, GRACE);
        assert_eq!(
            (s.status, s.consoles, s.last_seen),
            (AgentStatus::Offline, 0, None)
        );
    }

    #[test]
    fn the_choice_holds_while_any_instance_saw_them_within_the_grace_period() {
        // One instance saw them long ago (it died), another just now.
        let f = facts(AgentStatus::Busy, &[(2, 0), (1, 99_000)]);
        let s = standing(&f, 100_000, GRACE);
        assert_eq!((s.status, s.consoles), (AgentStatus::Busy, 1));
        assert_eq!(s.last_seen, Some(99_000));
    }

    #[test]
    fn a_last_console_closed_counts_until_the_grace_period_is_over() {
        let f = facts(AgentStatus::Online, &[(0, 10_000)]);
        assert_eq!(
            standing(&f, 10_000 + GRACE - 1, GRACE).status,
            AgentStatus::Online
        );
        assert_eq!(
            standing(&f, 10_000 + GRACE, GRACE).status,
            AgentStatus::Offline
        );
    }

    #[test]
    fn an_instance_not_heard_of_for_the_grace_period_holds_nobody_there() {
        let f = facts(AgentStatus::Online, &[(3, 10_000)]);
        let s = standing(&f, 10_000 + GRACE, GRACE);
        assert_eq!((s.status, s.consoles), (AgentStatus::Offline, 0));
    }

    #[test]
    fn offline_by_choice_is_offline_with_consoles_open() {
        let s = standing(&facts(AgentStatus::Offline, &[(1, 99_000)]), 100_000, GRACE);
        assert_eq!((s.status, s.consoles), (AgentStatus::Offline, 1));
    }
}
