//! Who of the team is there. Each person chooses a status (Online, Busy, Away, Offline, kept in
//! the database); whether they are there is that status while a console of theirs is open, and
//! for a grace period after the last one closed (a reload or a short network loss changes
//! nothing), then offline. Several consoles count as one. Every change of it is an
//! `agent.status` event on each bot the person works on, and wakes the dispatcher.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::account::Viewer;
use app::model::EventKind;
use app::team::{AgentInfo, AgentStatus};
use chrono::{DateTime, Utc};

use super::clock::Clock;
use super::{Engine, Result};
use crate::store::accounts::AuditEntry;
use crate::store::write::{apply, Change, WriteTx};

/// How long a person without an open console still counts as there, by default.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(45);

/// The people who opened a console since the server started.
pub struct Presence {
    grace: Duration,
    started: DateTime<Utc>,
    people: Mutex<HashMap<i64, Person>>,
}

#[derive(Debug, Clone)]
struct Person {
    viewer: Viewer,
    chosen: AgentStatus,
    consoles: u32,
    last_seen: DateTime<Utc>,
    /// Set while no console is open and the grace period runs; bumped by every departure,
    /// so a late expiry of an earlier one does nothing.
    departure: u64,
    gone: bool,
    /// Since when they count as offline (chosen, or gone), while they do.
    offline_since: Option<DateTime<Utc>>,
}

impl Person {
    /// Someone not seen since `since` (when the server started).
    fn new(viewer: &Viewer, chosen: AgentStatus, since: DateTime<Utc>) -> Self {
        Person {
            viewer: viewer.clone(),
            chosen,
            consoles: 0,
            last_seen: Utc::now(),
            departure: 0,
            gone: true,
            offline_since: Some(since),
        }
    }

    fn status(&self) -> AgentStatus {
        if self.gone {
            AgentStatus::Offline
        } else {
            self.chosen
        }
    }

    /// Notes when they went offline, after a change of their status.
    fn settle(&mut self) {
        match (self.status(), self.offline_since) {
            (AgentStatus::Offline, None) => self.offline_since = Some(Utc::now()),
            (AgentStatus::Offline, Some(_)) => {}
            _ => self.offline_since = None,
        }
    }
}

impl Presence {
    pub fn new(grace: Duration) -> Self {
        Presence {
            grace,
            started: Utc::now(),
            people: Mutex::new(HashMap::new()),
        }
    }

    fn people(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Person>> {
        self.people.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether `id` is there, with what they chose, how many consoles and when last seen.
    pub fn of(&self, id: i64) -> Option<(AgentStatus, AgentStatus, u32, DateTime<Utc>)> {
        self.people()
            .get(&id)
            .map(|p| (p.status(), p.chosen, p.consoles, p.last_seen))
    }

    /// Since when `id` counts as offline, while they do: for one not seen since the server
    /// started, since it started.
    pub fn offline_since(&self, id: i64) -> Option<DateTime<Utc>> {
        match self.people().get(&id) {
            Some(p) => p.offline_since,
            None => Some(self.started),
        }
    }

    /// The people who are there with `status` and work on the bot.
    pub fn with_status(&self, bot_id: &str, status: AgentStatus) -> Vec<(i64, String)> {
        let mut found: Vec<(i64, String)> = self
            .people()
            .iter()
            .filter(|(_, p)| p.status() == status && p.viewer.may_work_on(bot_id))
            .map(|(id, p)| (*id, p.viewer.name.clone()))
            .collect();
        found.sort();
        found
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
        let departure = {
            let mut people = engine.presence.people();
            let Some(p) = people.get_mut(&person) else {
                return;
            };
            p.consoles = p.consoles.saturating_sub(1);
            p.last_seen = Utc::now();
            if p.consoles > 0 {
                return;
            }
            p.departure += 1;
            p.departure
        };
        let grace = engine.presence.grace;
        tokio::spawn(async move {
            tokio::time::sleep(grace).await;
            let expired = {
                let mut people = engine.presence.people();
                match people.get_mut(&person) {
                    Some(p) if p.consoles == 0 && p.departure == departure && !p.gone => {
                        p.gone = true;
                        p.settle();
                        true
                    }
                    _ => false,
                }
            };
            if expired {
                engine.status_changed(person).await;
            }
        });
    }
}

impl Engine {
    /// A console of `viewer` opened; they count as there until the answer is dropped (and for
    /// the grace period after their last console).
    pub async fn attend(self: &Arc<Self>, viewer: &Viewer) -> Result<Attendance> {
        let chosen = self
            .store()
            .agent_status(viewer.id)
            .await?
            .unwrap_or_default();
        let changed = {
            let started = self.presence.started;
            let mut people = self.presence.people();
            let person = people
                .entry(viewer.id)
                .or_insert_with(|| Person::new(viewer, chosen, started));
            let before = person.status();
            person.viewer = viewer.clone();
            person.consoles += 1;
            person.last_seen = Utc::now();
            person.departure += 1;
            person.gone = false;
            person.settle();
            person.status() != before
        };
        if changed {
            self.status_changed(viewer.id).await;
        }
        Ok(Attendance {
            engine: self.clone(),
            person: viewer.id,
        })
    }

    /// `viewer` chooses a status (kept); their bots hear of it when they are known here.
    pub async fn choose_status(&self, viewer: &Viewer, status: AgentStatus) -> Result<()> {
        let change = ChooseStatus {
            user_id: viewer.id,
            status,
        };
        apply(self.store(), change).await?;
        let known = {
            let mut people = self.presence.people();
            match people.get_mut(&viewer.id) {
                Some(p) => {
                    p.chosen = status;
                    p.settle();
                    true
                }
                None => false,
            }
        };
        if known {
            self.status_changed(viewer.id).await;
        }
        Ok(())
    }

    /// Tells every bot of the person how they stand now (their consoles show it, the
    /// dispatcher takes it as a reason to look at the queue).
    async fn status_changed(&self, person: i64) {
        let Some(viewer) = self
            .presence
            .people()
            .get(&person)
            .map(|p| p.viewer.clone())
        else {
            return;
        };
        for bot_id in self.bot_ids().into_iter().filter(|b| viewer.may_work_on(b)) {
            let info = match self.agent_info(&bot_id, &viewer).await {
                Ok(info) => info,
                Err(e) => {
                    tracing::warn!(error = %e, person, "an agent's status was not published");
                    return;
                }
            };
            let publish = PublishStatus {
                bot_id: bot_id.clone(),
                agent: info,
            };
            if let Err(e) = apply(self.store(), publish).await {
                tracing::warn!(error = %e, person, "an agent's status was not published");
            }
        }
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
            user_id: person.id,
            capacity,
        };
        apply(self.store(), change).await?;
        self.presence_known(person);
        self.status_changed(person.id).await;
        Ok(())
    }

    /// Remembers the person (offline) so their bots can be told of them.
    fn presence_known(&self, viewer: &Viewer) {
        let started = self.presence.started;
        let mut people = self.presence.people();
        people
            .entry(viewer.id)
            .or_insert_with(|| Person::new(viewer, AgentStatus::default(), started));
    }

    /// The person as an agent of the bot: status, load and capacity.
    pub async fn agent_info(&self, bot_id: &str, viewer: &Viewer) -> Result<AgentInfo> {
        let loads = self.store().handoff_loads(bot_id).await?;
        let open_handoffs = loads
            .iter()
            .find(|(id, _)| *id == viewer.id)
            .map_or(0, |(_, n)| *n);
        let capacity = self.capacity_of(bot_id, viewer.id).await?;
        let (status, chosen, consoles, last_seen) = match self.presence.of(viewer.id) {
            Some((status, chosen, consoles, seen)) => (status, chosen, consoles, Some(seen)),
            None => {
                let chosen = self
                    .store()
                    .agent_status(viewer.id)
                    .await?
                    .unwrap_or_default();
                (AgentStatus::Offline, chosen, 0, None)
            }
        };
        Ok(AgentInfo {
            id: viewer.id,
            name: viewer.name.clone(),
            is_admin: viewer.is_admin(),
            status,
            chosen_status: chosen,
            consoles,
            last_seen_at: last_seen,
            open_handoffs,
            capacity,
        })
    }

    /// How many conversations of the bot the person may own before automatic assignment
    /// passes them over: their own setting, else the bot's.
    pub async fn capacity_of(&self, bot_id: &str, person: i64) -> Result<i64> {
        let own = self.store().agent_capacity(person).await?;
        Ok(own.unwrap_or(self.bot(bot_id)?.handoffs.capacity))
    }
}

struct ChooseStatus {
    user_id: i64,
    status: AgentStatus,
}

#[async_trait::async_trait]
impl Change for ChooseStatus {
    type Output = ();

    async fn apply(&self, tx: &mut dyn WriteTx) -> crate::store::Result<()> {
        tx.set_agent_status(self.user_id, self.status.as_str())
            .await
    }
}

struct SetCapacity {
    by: app::model::Actor,
    user_id: i64,
    capacity: Option<i64>,
}

#[async_trait::async_trait]
impl Change for SetCapacity {
    type Output = ();

    async fn apply(&self, tx: &mut dyn WriteTx) -> crate::store::Result<()> {
        let at = Clock::start().tick();
        tx.set_agent_capacity(self.user_id, self.capacity).await?;
        let detail = match self.capacity {
            Some(n) => format!("user {} capacity {n}", self.user_id),
            None => format!("user {} capacity of the bot", self.user_id),
        };
        let audit = AuditEntry::by(&self.by, "agent.capacity", detail);
        tx.append_audit(&audit, at).await
    }
}

struct PublishStatus {
    bot_id: String,
    agent: AgentInfo,
}

#[async_trait::async_trait]
impl Change for PublishStatus {
    type Output = ();

    async fn apply(&self, tx: &mut dyn WriteTx) -> crate::store::Result<()> {
        let at = Clock::start().tick();
        let event = EventKind::AgentStatus {
            agent: self.agent.clone(),
        };
        tx.append_events(&self.bot_id, vec![event], at).await?;
        Ok(())
    }
}
