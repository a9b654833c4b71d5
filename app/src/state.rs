//! The console's client-side state and how events merge into it. Plain data and functions, so
//! the merge rules are unit-tested: merging is by id, so repeated or out-of-order events do no harm.

use chrono::{DateTime, Utc};

use crate::model::{Message, Notification, SessionCounts, SessionOverview};

pub use crate::model::SessionFilter as Filter;

impl Filter {
    /// The filters the console offers, in their order there.
    pub const SHOWN: [Filter; 6] = [
        Filter::All,
        Filter::Queue,
        Filter::Mine,
        Filter::Others,
        Filter::Waiting,
        Filter::Closed,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Filter::All => "All",
            Filter::Paused => "Paused",
            Filter::Waiting => "Waiting",
            Filter::Queue => "Queue",
            Filter::Mine => "Mine",
            Filter::Others => "Others",
            Filter::Closed => "Closed today",
        }
    }

    /// How many sessions it holds for `viewer`, if the counts say (`closed` may be unknown).
    pub fn count(self, c: &SessionCounts, viewer: Option<i64>) -> Option<i64> {
        Some(match self {
            Filter::All => c.all,
            Filter::Paused => c.paused,
            Filter::Waiting => c.waiting,
            Filter::Queue => c.queued,
            Filter::Mine => c.owned_by(viewer),
            Filter::Others => c.owned_by_others(viewer),
            Filter::Closed => return c.closed,
        })
    }
}

/// The list's filter and search, as the server applies them, for whom and from when.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListView {
    pub filter: Filter,
    pub search: String,
    /// The agent looking (for Mine and Others).
    pub viewer: Option<i64>,
    /// Where "Closed today" starts: the agent's local midnight.
    pub closed_since: DateTime<Utc>,
}

impl ListView {
    /// Whether a session belongs in this list (the same rule as the server's query).
    pub fn matches(&self, s: &SessionOverview) -> bool {
        let filtered = self.filter.admits(s, self.viewer, self.closed_since);
        let needle = self.search.trim().to_lowercase();
        filtered
            && (needle.is_empty()
                || s.user_id.to_lowercase().contains(&needle)
                || s.full_name
                    .as_deref()
                    .is_some_and(|n| n.to_lowercase().contains(&needle)))
    }
}

/// Whether `incoming` may replace `held`: a snapshot of another session always may, one of the
/// same session unless it is older (events and fetches can arrive out of order).
pub fn replaces(held: &SessionOverview, incoming: &SessionOverview) -> bool {
    held.id != incoming.id || held.last_event_on <= incoming.last_event_on
}

/// The loaded part of the session list, newest activity first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionList {
    pub sessions: Vec<SessionOverview>,
    pub next_cursor: Option<String>,
    pub loaded: bool,
    /// In queue order (oldest handoff first) rather than by newest activity.
    pub queue_order: bool,
}

impl SessionList {
    /// Adds a page (the first one, or the next by cursor).
    pub fn add_page(&mut self, sessions: Vec<SessionOverview>, next_cursor: Option<String>) {
        for s in sessions {
            self.put(s);
        }
        self.next_cursor = next_cursor;
        self.loaded = true;
        self.sort();
    }

    /// Replaces the list with a freshly fetched first page, keeping what live events brought
    /// while the fetch was under way: a newer snapshot of a listed session, or a session newer
    /// than everything on the page.
    pub fn load_first_page(
        &mut self,
        page: Vec<SessionOverview>,
        next_cursor: Option<String>,
        view: &ListView,
    ) {
        let held = std::mem::take(&mut self.sessions);
        let newest = page.iter().map(|s| s.last_event_on).max();
        self.sessions = page;
        self.queue_order = view.filter.is_queue();
        for h in held {
            let listed = self.sessions.iter().any(|s| s.id == h.id);
            // The queue's page holds the oldest handoffs: one held belongs on it only when the
            // page is the whole queue.
            let newer = if self.queue_order {
                next_cursor.is_none()
            } else {
                newest.is_none_or(|n| h.last_event_on > n)
            };
            if view.matches(&h) && (listed || newer) {
                self.put(h);
            }
        }
        self.next_cursor = next_cursor;
        self.loaded = true;
        self.sort();
    }

    /// Applies a session snapshot from an event: updated in place, moved to its place by
    /// activity, added when new, removed when it no longer matches the view. A snapshot older
    /// than the one held is ignored.
    pub fn apply(&mut self, session: SessionOverview, view: &ListView) {
        if !view.matches(&session) {
            self.sessions.retain(|s| s.id != session.id);
            return;
        }
        self.put(session);
        self.sort();
    }

    fn put(&mut self, session: SessionOverview) {
        match self.sessions.iter_mut().find(|s| s.id == session.id) {
            Some(held) if replaces(held, &session) => *held = session,
            Some(_) => {}
            None => self.sessions.push(session),
        }
    }

    fn sort(&mut self) {
        if self.queue_order {
            let queued_at = |s: &SessionOverview| s.handoff.as_ref().map(|h| h.queued_at);
            self.sessions
                .sort_by(|a, b| queued_at(a).cmp(&queued_at(b)).then(a.id.cmp(&b.id)));
        } else {
            self.sessions
                .sort_by(|a, b| b.last_event_on.cmp(&a.last_event_on).then(b.id.cmp(&a.id)));
        }
    }

    /// A deleted session leaves the list.
    pub fn remove(&mut self, id: i64) {
        self.sessions.retain(|s| s.id != id);
    }

    pub fn get(&self, id: i64) -> Option<&SessionOverview> {
        self.sessions.iter().find(|s| s.id == id)
    }

    /// The session before or after `id` in the list, for keyboard moves.
    pub fn neighbour(&self, id: Option<i64>, step: isize) -> Option<i64> {
        let ids: Vec<i64> = self.sessions.iter().map(|s| s.id).collect();
        let at = id.and_then(|id| ids.iter().position(|i| *i == id));
        let next = match at {
            Some(i) => i as isize + step,
            None if step > 0 => 0,
            None => ids.len() as isize - 1,
        };
        (0..ids.len() as isize)
            .contains(&next)
            .then(|| ids[next as usize])
    }
}

/// A message the agent sent that the server has not confirmed yet.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    pub local_id: u64,
    pub text: String,
    pub error: Option<String>,
}

/// The open conversation: its loaded messages (oldest first) and the agent's unconfirmed ones.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Conversation {
    pub session_id: Option<i64>,
    pub messages: Vec<Message>,
    pub has_older: bool,
    pub pending: Vec<Pending>,
}

impl Conversation {
    pub fn open(session_id: i64, newest: Vec<Message>, page_size: usize) -> Self {
        let mut c = Conversation {
            session_id: Some(session_id),
            has_older: newest.len() >= page_size,
            ..Default::default()
        };
        c.merge(newest);
        c
    }

    /// Shows freshly fetched newest messages of a session. When it is the session already shown,
    /// what live events added meanwhile (newer than the fetch) and unsent replies are kept.
    pub fn load(&mut self, session_id: i64, newest: Vec<Message>, page_size: usize) {
        let has_older = newest.len() >= page_size;
        if self.session_id != Some(session_id) {
            *self = Conversation::open(session_id, newest, page_size);
            return;
        }
        let fetched_max = newest.last().map(|m| m.id).unwrap_or(0);
        let held: Vec<Message> = std::mem::take(&mut self.messages)
            .into_iter()
            .filter(|m| m.id > fetched_max)
            .collect();
        self.has_older = has_older;
        self.merge(newest);
        self.merge(held);
    }

    /// Merges messages of this session by id, keeping id order; answers how many were new.
    /// An agent message that arrives (live) before its send is confirmed replaces its pending copy.
    pub fn merge(&mut self, messages: Vec<Message>) -> usize {
        let mut added = 0;
        for m in messages {
            if Some(m.session_id) != self.session_id {
                continue;
            }
            if m.source == crate::model::Source::Agent {
                if let Some(i) = self
                    .pending
                    .iter()
                    .position(|p| p.error.is_none() && p.text == m.text)
                {
                    self.pending.remove(i);
                }
            }
            match self.messages.binary_search_by_key(&m.id, |x| x.id) {
                Ok(i) => self.messages[i] = m,
                Err(i) => {
                    self.messages.insert(i, m);
                    added += 1;
                }
            }
        }
        added
    }

    /// Adds an older page (loaded by scrolling back).
    pub fn add_older(&mut self, older: Vec<Message>, page_size: usize) {
        self.has_older = older.len() >= page_size;
        self.merge(older);
    }

    pub fn oldest_id(&self) -> Option<i64> {
        self.messages.first().map(|m| m.id)
    }

    /// The newest message shown: what the agent's next reply is written against.
    pub fn newest_id(&self) -> Option<i64> {
        self.messages.last().map(|m| m.id)
    }

    /// A reply the server refused because `newer` arrived since it was written: the messages
    /// show, and the reply goes back to its writer (it is no longer pending).
    pub fn refused_as_stale(&mut self, local_id: u64, newer: Vec<Message>) -> usize {
        self.pending.retain(|p| p.local_id != local_id);
        self.merge(newer)
    }

    /// The server stored the agent's message: it replaces the pending one.
    pub fn confirm(&mut self, local_id: u64, stored: Message) {
        self.pending.retain(|p| p.local_id != local_id);
        self.merge(vec![stored]);
    }

    pub fn fail(&mut self, local_id: u64, error: String) {
        if let Some(p) = self.pending.iter_mut().find(|p| p.local_id == local_id) {
            p.error = Some(error);
        }
    }
}

/// The notifications bell: newest first, with the unread count.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bell {
    pub items: Vec<Notification>,
    pub unread: i64,
}

impl Bell {
    /// Adds a notification once; answers whether it was new.
    pub fn add(&mut self, n: Notification) -> bool {
        if self.items.iter().any(|x| x.id == n.id) {
            return false;
        }
        if !n.read {
            self.unread += 1;
        }
        let at = self.items.partition_point(|x| x.id > n.id);
        self.items.insert(at, n);
        true
    }

    /// Shows a freshly fetched list, keeping notifications that arrived live after its newest.
    pub fn load(&mut self, items: Vec<Notification>, unread: i64) {
        let newest = items.iter().map(|n| n.id).max().unwrap_or(0);
        let held: Vec<Notification> = std::mem::take(&mut self.items)
            .into_iter()
            .filter(|n| n.id > newest)
            .collect();
        self.items = items;
        self.unread = unread;
        for n in held {
            self.add(n);
        }
    }

    pub fn mark_read(&mut self, id: i64) {
        if let Some(n) = self.items.iter_mut().find(|n| n.id == id && !n.read) {
            n.read = true;
            self.unread = (self.unread - 1).max(0);
        }
    }

    pub fn mark_all_read(&mut self) {
        self.items.iter_mut().for_each(|n| n.read = true);
        self.unread = 0;
    }

    /// Someone (here or in another console) read these: each was unread on the server. One
    /// already marked here was counted when it was marked.
    pub fn read_elsewhere(&mut self, ids: &[i64]) {
        for id in ids {
            match self.items.iter_mut().find(|n| n.id == *id) {
                Some(n) if n.read => {}
                Some(n) => {
                    n.read = true;
                    self.unread -= 1;
                }
                None => self.unread -= 1,
            }
        }
        self.unread = self.unread.max(0);
    }
}

/// The tab title, with the unread count in front when there is one.
pub fn title(unread: i64) -> String {
    if unread > 0 {
        format!("({unread}) hitl")
    } else {
        "hitl".into()
    }
}

#[cfg(test)]
mod tests;
