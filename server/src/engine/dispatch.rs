//! Automatic assignment: for each bot that assigns by round robin or by load, queued
//! conversations go to online agents with room, oldest first. It runs when something that
//! matters happens (a conversation queued or closed, a handoff moved, an agent's status changed:
//! all of them events on the bus) and on a sweep, so a backlog never waits for the next
//! arrival.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use app::model::{Assignee, EventKind};
use app::team::AgentStatus;
use tokio::sync::broadcast::error::RecvError;

use super::{Engine, EngineError, Result};
use crate::bots::handoffs::Assignment;

/// The sweep, for whatever no event announced.
const SWEEP: Duration = Duration::from_secs(10);

/// Starts the dispatcher; it stops when `stopping` turns true.
pub fn spawn(engine: Arc<Engine>, mut stopping: tokio::sync::watch::Receiver<bool>) {
    tokio::spawn(async move {
        let mut events = engine.bus().subscribe();
        let mut sweep = tokio::time::interval(SWEEP);
        loop {
            let due: BTreeSet<String> = tokio::select! {
                received = events.recv() => match received {
                    Ok(frame) if concerns_queue(&frame.event.kind) => {
                        let mut due = BTreeSet::from([frame.bot_id.clone()]);
                        // What else already came: one pass for a burst.
                        while let Ok(frame) = events.try_recv() {
                            if concerns_queue(&frame.event.kind) {
                                due.insert(frame.bot_id.clone());
                            }
                        }
                        due
                    }
                    Ok(_) => continue,
                    Err(RecvError::Lagged(_)) => engine.bot_ids().into_iter().collect(),
                    Err(RecvError::Closed) => return,
                },
                _ = sweep.tick() => engine.bot_ids().into_iter().collect(),
                Ok(()) = stopping.changed() => return,
            };
            for bot_id in due {
                if let Err(e) = engine.dispatch(&bot_id).await {
                    tracing::warn!(error = %e, bot_id, "automatic assignment failed");
                }
            }
        }
    });
}

/// Whether the event may change who is queued or who has room.
fn concerns_queue(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::SessionCreated { .. }
            | EventKind::SessionUpdated { .. }
            | EventKind::SessionDeleted { .. }
            | EventKind::AgentStatus { .. }
    )
}

/// One online agent of the bot as the choice sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub id: i64,
    pub name: String,
    pub load: i64,
    pub capacity: i64,
    /// When they were last given a conversation of the bot (unix ms; 0 for never).
    pub last_assigned: i64,
}

/// Who gets the next conversation: the agent with room who waited longest since their last
/// one (round robin), or the one with the fewest open (balanced, ties to the longest waiting).
pub fn choose(mode: Assignment, candidates: &[Candidate]) -> Option<&Candidate> {
    let with_room = candidates.iter().filter(|c| c.load < c.capacity);
    match mode {
        Assignment::Manual => None,
        Assignment::RoundRobin => with_room.min_by_key(|c| (c.last_assigned, c.id)),
        Assignment::Balanced => with_room.min_by_key(|c| (c.load, c.last_assigned, c.id)),
    }
}

impl Engine {
    /// Gives the bot's queued conversations to its online agents while any has room. One
    /// whose offers lapsed is not offered to those who let it lapse, and after the bot's
    /// number of offers to nobody: it waits for a claim.
    pub async fn dispatch(&self, bot_id: &str) -> Result<()> {
        let settings = &self.bot(bot_id)?.handoffs;
        let mode = settings.assignment;
        if mode == Assignment::Manual {
            return Ok(());
        }
        loop {
            let candidates = self.candidates(bot_id).await?;
            let next = self
                .store()
                .queue(bot_id)
                .await?
                .into_iter()
                .filter(|q| q.lapses <= settings.max_reoffers)
                .find_map(|q| {
                    let open: Vec<Candidate> = candidates
                        .iter()
                        .filter(|c| !q.excluded.contains(&c.id))
                        .cloned()
                        .collect();
                    choose(mode, &open).map(|c| (q.session_id, c.clone()))
                });
            let Some((session_id, chosen)) = next else {
                return Ok(());
            };
            let to = Assignee {
                id: chosen.id,
                name: chosen.name,
            };
            match self.auto_assign(bot_id, session_id, to).await {
                // Taken meanwhile (a claim won), or gone: look at the queue again.
                Ok(_) | Err(EngineError::Taken(_)) | Err(EngineError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
    }

    async fn candidates(&self, bot_id: &str) -> Result<Vec<Candidate>> {
        let online = self.presence.with_status(bot_id, AgentStatus::Online);
        let loads = self.store().handoff_loads(bot_id).await?;
        let last = self.store().last_assigned(bot_id).await?;
        let mut candidates = Vec::with_capacity(online.len());
        for (id, name) in online {
            let of =
                |list: &[(i64, i64)]| list.iter().find(|(a, _)| *a == id).map_or(0, |(_, n)| *n);
            candidates.push(Candidate {
                id,
                name,
                load: of(&loads),
                capacity: self.capacity_of(bot_id, id).await?,
                last_assigned: of(&last),
            });
        }
        Ok(candidates)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(id: i64, load: i64, capacity: i64, last_assigned: i64) -> Candidate {
        Candidate {
            id,
            name: format!("a{id}"),
            load,
            capacity,
            last_assigned,
        }
    }

    #[test]
    fn round_robin_gives_the_next_to_whoever_waited_longest() {
        let team = [
            agent(1, 0, 5, 300),
            agent(2, 3, 5, 100),
            agent(3, 0, 5, 200),
        ];
        assert_eq!(choose(Assignment::RoundRobin, &team).map(|c| c.id), Some(2));
        let never = [agent(1, 0, 5, 0), agent(2, 0, 5, 0)];
        assert_eq!(
            choose(Assignment::RoundRobin, &never).map(|c| c.id),
            Some(1)
        );
    }

    #[test]
    fn balanced_gives_it_to_the_least_loaded_with_room() {
        let team = [agent(1, 1, 1, 100), agent(2, 1, 2, 300), agent(3, 2, 2, 50)];
        assert_eq!(choose(Assignment::Balanced, &team).map(|c| c.id), Some(2));
        let full = [agent(1, 1, 1, 0), agent(2, 2, 2, 0)];
        assert_eq!(choose(Assignment::Balanced, &full), None);
    }

    #[test]
    fn manual_assigns_nothing() {
        assert_eq!(choose(Assignment::Manual, &[agent(1, 0, 5, 0)]), None);
    }
}
