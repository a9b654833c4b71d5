//! Who has which conversation open. Ephemeral: kept in memory, never logged. Each console's
//! socket says which conversation it shows; a change of who has one open goes to every console
//! of the bot, and a console that connects is first told all of it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use app::model::{Assignee, SessionViewers};
use tokio::sync::broadcast;

/// How many changes a slow socket may fall behind before it is sent everything again.
const CHANGES_KEPT: usize = 256;

/// A change of who has one conversation of a bot open.
#[derive(Debug)]
pub struct ViewersChanged {
    pub bot_id: String,
    pub viewers: SessionViewers,
}

/// Per conversation of one bot: the consoles showing it and whose they are.
type Shown = HashMap<i64, Vec<(u64, Assignee)>>;

/// The open conversations of every console.
pub struct Viewing {
    /// Per bot.
    bots: Mutex<HashMap<String, Shown>>,
    next_console: AtomicU64,
    changes: broadcast::Sender<Arc<ViewersChanged>>,
}

impl Default for Viewing {
    fn default() -> Self {
        Viewing {
            bots: Mutex::default(),
            next_console: AtomicU64::new(1),
            changes: broadcast::channel(CHANGES_KEPT).0,
        }
    }
}

impl Viewing {
    fn bots(&self) -> std::sync::MutexGuard<'_, HashMap<String, Shown>> {
        self.bots.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<ViewersChanged>> {
        self.changes.subscribe()
    }

    /// Every conversation of the bot someone has open, by id.
    pub fn snapshot(&self, bot_id: &str) -> Vec<SessionViewers> {
        let bots = self.bots();
        let mut all: Vec<SessionViewers> = bots
            .get(bot_id)
            .into_iter()
            .flatten()
            .map(|(id, consoles)| SessionViewers {
                session_id: *id,
                people: people(consoles),
            })
            .collect();
        all.sort_by_key(|v| v.session_id);
        all
    }

    /// A console of `person` on the bot, showing nothing yet.
    pub fn console(self: &Arc<Self>, bot_id: &str, person: Assignee) -> Watch {
        Watch {
            viewing: self.clone(),
            console: self.next_console.fetch_add(1, Ordering::Relaxed),
            bot_id: bot_id.to_string(),
            person,
            showing: None,
        }
    }

    /// Moves one console from what it showed to `to`, and tells of each conversation whose
    /// people changed.
    fn show(&self, watch: &Watch, to: Option<i64>) {
        let mut changed = Vec::new();
        {
            let mut bots = self.bots();
            let sessions = bots.entry(watch.bot_id.clone()).or_default();
            if let Some(from) = watch.showing {
                if let Some(consoles) = sessions.get_mut(&from) {
                    let before = people(consoles);
                    consoles.retain(|(c, _)| *c != watch.console);
                    let after = people(consoles);
                    if consoles.is_empty() {
                        sessions.remove(&from);
                    }
                    if before != after {
                        changed.push((from, after));
                    }
                }
            }
            if let Some(to) = to {
                let consoles = sessions.entry(to).or_default();
                let before = people(consoles);
                consoles.push((watch.console, watch.person.clone()));
                let after = people(consoles);
                if before != after {
                    changed.push((to, after));
                }
            }
            if sessions.is_empty() {
                bots.remove(&watch.bot_id);
            }
        }
        for (session_id, people) in changed {
            // Nobody listening is fine: a console that connects later gets a snapshot.
            let _ = self.changes.send(Arc::new(ViewersChanged {
                bot_id: watch.bot_id.clone(),
                viewers: SessionViewers { session_id, people },
            }));
        }
    }
}

/// The people of some consoles, each once, by name.
fn people(consoles: &[(u64, Assignee)]) -> Vec<Assignee> {
    let mut people: Vec<Assignee> = consoles.iter().map(|(_, p)| p.clone()).collect();
    people.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    people.dedup_by_key(|p| p.id);
    people
}

/// One console's open conversation; closing the console (dropping this) closes it.
pub struct Watch {
    viewing: Arc<Viewing>,
    console: u64,
    bot_id: String,
    person: Assignee,
    showing: Option<i64>,
}

impl Watch {
    /// The console shows `session` now (`None`: no conversation).
    pub fn show(&mut self, session: Option<i64>) {
        if session == self.showing {
            return;
        }
        self.viewing.show(self, session);
        self.showing = session;
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.show(None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(id: i64, name: &str) -> Assignee {
        Assignee {
            id,
            name: name.into(),
        }
    }

    fn names(viewing: &Viewing, bot: &str) -> Vec<(i64, Vec<String>)> {
        viewing
            .snapshot(bot)
            .into_iter()
            .map(|v| (v.session_id, v.people.into_iter().map(|p| p.name).collect()))
            .collect()
    }

    #[test]
    fn two_tabs_of_one_person_count_once_and_closing_one_keeps_the_other() {
        let viewing = Arc::new(Viewing::default());
        let mut changes = viewing.subscribe();
        let mut tab1 = viewing.console("b", person(1, "Bea"));
        let mut tab2 = viewing.console("b", person(1, "Bea"));
        let mut ann = viewing.console("b", person(2, "Ann"));
        tab1.show(Some(7));
        tab2.show(Some(7));
        ann.show(Some(7));
        assert_eq!(
            names(&viewing, "b"),
            [(7, vec!["Ann".into(), "Bea".into()])]
        );
        // Bea's second tab changed nobody's view of who is there: one change each for Bea and Ann.
        let told: Vec<usize> = std::iter::from_fn(|| changes.try_recv().ok())
            .map(|c| c.viewers.people.len())
            .collect();
        assert_eq!(told, [1, 2]);
        drop(tab1);
        assert_eq!(
            names(&viewing, "b"),
            [(7, vec!["Ann".into(), "Bea".into()])]
        );
        assert!(changes.try_recv().is_err(), "Bea still has it open");
        tab2.show(Some(8));
        assert_eq!(
            names(&viewing, "b"),
            [(7, vec!["Ann".into()]), (8, vec!["Bea".into()])]
        );
        drop(tab2);
        drop(ann);
        assert!(names(&viewing, "b").is_empty());
        assert!(names(&viewing, "other-bot").is_empty());
    }
}
