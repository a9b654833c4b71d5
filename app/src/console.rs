//! The console's shared state: the signals every part of the console reads, provided as context,
//! and how live events change them.

use std::time::Duration;

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use crate::browser;
use crate::live::LiveStatus;
use crate::model::{Event, EventKind, SessionCounts, SessionOverview};
use crate::state::{replaces, Bell, Conversation, ListView, SessionList};

/// Messages per page of a conversation (the server's default page).
pub const PAGE: usize = 50;

#[derive(Clone, Copy)]
pub struct Console {
    pub bot_id: Memo<String>,
    pub selected: Memo<Option<i64>>,
    pub view: RwSignal<ListView>,
    pub list: RwSignal<SessionList>,
    pub counts: RwSignal<SessionCounts>,
    /// Who has each conversation open now (only those someone has), from `viewers` events.
    pub viewers: RwSignal<std::collections::HashMap<i64, Vec<crate::model::Assignee>>>,
    /// Who is signed in (once known): whether a conversation is theirs, what they may do.
    pub me: RwSignal<Option<crate::account::Viewer>>,
    /// The status the viewer chose (once known).
    pub my_status: RwSignal<Option<crate::team::AgentStatus>>,
    /// Bumped (at most twice a second) when the team or the queue moved: the team view fetches
    /// again.
    pub team_due: RwSignal<u64>,
    team_pending: RwSignal<bool>,
    /// The open session (kept even when the list's filter hides it).
    pub current: RwSignal<Option<SessionOverview>>,
    pub convo: RwSignal<Conversation>,
    pub bell: RwSignal<Bell>,
    pub toasts: RwSignal<Vec<crate::model::Notification>>,
    pub status: RwSignal<LiveStatus>,
    /// Ticks every second, so waiting times count and relative times stay true.
    pub now: RwSignal<DateTime<Utc>>,
    /// The browser's UTC offset in minutes; 0 on the server.
    pub utc_offset: RwSignal<i32>,
    /// Whether the agent is looking at the newest message of the open conversation.
    pub at_bottom: RwSignal<bool>,
    /// New messages that arrived below while the agent read older ones.
    pub new_below: RwSignal<usize>,
    /// Bumped to scroll the conversation to its newest message.
    pub scroll_to_end: RwSignal<u64>,
    /// Bumped to fetch everything again (after a `resync`).
    pub reload: RwSignal<u64>,
    /// Bumped (at most twice a second) to fetch the filter counts again.
    pub counts_due: RwSignal<u64>,
    counts_pending: RwSignal<bool>,
    read_pending: RwSignal<bool>,
}

impl Console {
    pub fn new(bot_id: Memo<String>, selected: Memo<Option<i64>>) -> Self {
        Console {
            bot_id,
            selected,
            view: RwSignal::new(ListView::default()),
            list: RwSignal::new(SessionList::default()),
            counts: RwSignal::new(SessionCounts::default()),
            viewers: RwSignal::new(Default::default()),
            me: RwSignal::new(None),
            my_status: RwSignal::new(None),
            team_due: RwSignal::new(0),
            team_pending: RwSignal::new(false),
            current: RwSignal::new(None),
            convo: RwSignal::new(Conversation::default()),
            bell: RwSignal::new(Bell::default()),
            toasts: RwSignal::new(Vec::new()),
            status: RwSignal::new(LiveStatus::Connecting),
            now: RwSignal::new(Utc::now()),
            utc_offset: RwSignal::new(0),
            at_bottom: RwSignal::new(true),
            new_below: RwSignal::new(0),
            scroll_to_end: RwSignal::new(0),
            reload: RwSignal::new(0),
            counts_due: RwSignal::new(0),
            counts_pending: RwSignal::new(false),
            read_pending: RwSignal::new(false),
        }
    }

    /// Applies one live event to the console's state.
    pub fn apply(&self, event: Event) {
        if matches!(
            event.kind,
            EventKind::SessionCreated { .. }
                | EventKind::SessionUpdated { .. }
                | EventKind::SessionDeleted { .. }
                | EventKind::AgentStatus { .. }
        ) {
            self.refresh_team_soon();
        }
        match event.kind {
            EventKind::Resync { .. } => self.reload.update(|n| *n += 1),
            // The console shows no bot switch; Admin → Bots reads it when opened.
            EventKind::BotUpdated { .. } => {}
            EventKind::Viewers { sessions, snapshot } => self.viewers.update(|v| {
                if snapshot {
                    v.clear();
                }
                for s in sessions {
                    if s.people.is_empty() {
                        v.remove(&s.session_id);
                    } else {
                        v.insert(s.session_id, s.people);
                    }
                }
            }),
            EventKind::SessionCreated { session, counts }
            | EventKind::SessionUpdated { session, counts } => {
                self.apply_session(session);
                self.apply_counts(counts);
            }
            EventKind::MessageCreated { message } => {
                if self.selected.get_untracked() != Some(message.session_id) {
                    return;
                }
                let from_user = message.source == crate::model::Source::User;
                let added = self
                    .convo
                    .try_update(|c| c.merge(vec![message]))
                    .unwrap_or(0);
                if added == 0 {
                    return;
                }
                if self.at_bottom.get_untracked() {
                    self.scroll_to_end.update(|n| *n += 1);
                } else {
                    self.new_below.update(|n| *n += added);
                }
                if from_user && !browser::tab_hidden() {
                    self.mark_read_soon();
                }
            }
            EventKind::SessionDeleted { session_id, counts } => {
                self.list.update(|l| l.remove(session_id));
                // The open one: fetching again shows that it is gone.
                if self.selected.get_untracked() == Some(session_id) {
                    self.reload.update(|n| *n += 1);
                }
                self.apply_counts(counts);
            }
            EventKind::NotificationRead { ids } => self.bell.update(|b| b.read_elsewhere(&ids)),
            EventKind::AgentStatus { agent } => {
                let mine = self.me.with_untracked(|m| m.as_ref().map(|v| v.id)) == Some(agent.id);
                if mine {
                    self.my_status.set(Some(agent.chosen_status));
                }
            }
            EventKind::NotificationCreated { notification } => {
                let fresh = self
                    .bell
                    .try_update(|b| b.add(notification.clone()))
                    .unwrap_or(false);
                if !fresh {
                    return;
                }
                if browser::tab_hidden() {
                    browser::desktop_notify("hitl", &notification.message);
                    browser::play_chime();
                }
                self.toast(notification);
            }
        }
    }

    /// A newer snapshot of a session: the list, the open session and the counts follow it.
    pub fn apply_session(&self, session: SessionOverview) {
        // Answers of requests still on their way when the agent left the console.
        if self.is_left() {
            return;
        }
        if session.bot_id != self.bot_id.get_untracked() {
            return;
        }
        if self
            .current
            .with_untracked(|c| c.as_ref().is_some_and(|c| c.id == session.id))
        {
            self.set_current(session.clone());
        }
        let view = self.view.get_untracked();
        self.list.update(|l| l.apply(session, &view));
    }

    /// The filter counts an event brought; an event of an older version brings none, and the
    /// counts are fetched instead.
    /// Events count no closed handoffs (that count is the agent's day): it is kept, and fetched
    /// again when a handoff opened or closed.
    fn apply_counts(&self, counts: Option<SessionCounts>) {
        let Some(mut counts) = counts else {
            self.refresh_counts_soon();
            return;
        };
        let open = |c: &SessionCounts| c.queued + c.owners.iter().map(|o| o.open).sum::<i64>();
        let held = self.counts.get_untracked();
        if open(&held) != open(&counts) {
            self.refresh_counts_soon();
        }
        counts.closed = counts.closed.or(held.closed);
        self.counts.set(counts);
    }

    /// Shows `session` as the open one, unless what is shown is a newer snapshot of it.
    pub fn set_current(&self, session: SessionOverview) {
        // The same session written again (the conversation and the profile both load it)
        // tells nobody: re-rendering what shows it while the page is still being rendered
        // would drop parts in use.
        self.current.maybe_update(|c| {
            let newer = c
                .as_ref()
                .is_none_or(|held| held != &session && replaces(held, &session));
            if newer {
                *c = Some(session);
            }
            newer
        });
    }

    fn toast(&self, notification: crate::model::Notification) {
        let id = notification.id;
        self.toasts.update(|t| t.push(notification));
        let toasts = self.toasts;
        set_timeout(
            move || toasts.update(|t| t.retain(|n| n.id != id)),
            Duration::from_secs(8),
        );
    }

    fn refresh_team_soon(&self) {
        if self.team_pending.get_untracked() {
            return;
        }
        self.team_pending.set(true);
        let (pending, due) = (self.team_pending, self.team_due);
        set_timeout(
            move || {
                // `try_`: the agent may have left the console meanwhile.
                let _ = pending.try_set(false);
                let _ = due.try_update(|n| *n += 1);
            },
            Duration::from_millis(500),
        );
    }

    fn refresh_counts_soon(&self) {
        if self.counts_pending.get_untracked() {
            return;
        }
        self.counts_pending.set(true);
        let (pending, due) = (self.counts_pending, self.counts_due);
        set_timeout(
            move || {
                pending.set(false);
                due.update(|n| *n += 1);
            },
            Duration::from_millis(500),
        );
    }

    /// Tells the server the agent has seen the open conversation (at most once a second).
    pub fn mark_read_soon(&self) {
        if self.read_pending.get_untracked() {
            return;
        }
        self.read_pending.set(true);
        let console = *self;
        set_timeout(
            move || {
                console.read_pending.set(false);
                console.mark_read_now();
            },
            Duration::from_secs(1),
        );
    }

    pub fn mark_read_now(&self) {
        // Runs after a delay: the agent may have left the console meanwhile.
        let (Some(Some(id)), Some(bot)) = (
            self.selected.try_get_untracked(),
            self.bot_id.try_get_untracked(),
        ) else {
            return;
        };
        let console = *self;
        leptos::task::spawn_local(async move {
            if let Ok(session) = crate::api::mark_session_read(bot, id).await {
                console.apply_session(session);
            }
        });
    }

    /// Who owns the open conversation when it is not the viewer (`None` too while the viewer is
    /// not yet known: the server decides anyway).
    pub fn other_owner(&self) -> Option<crate::model::Assignee> {
        let me = self.me.with(|m| m.as_ref().map(|v| v.id))?;
        self.current.with(|c| {
            c.as_ref()?
                .handoff
                .as_ref()?
                .assignee
                .clone()
                .filter(|a| a.id != me)
        })
    }

    /// Whether the viewer is an admin (false until known).
    /// The others who have conversation `id` open, by name.
    pub fn others_viewing(&self, id: i64) -> Vec<String> {
        let me = self.me.with(|m| m.as_ref().map(|v| v.id));
        self.viewers.with(|v| {
            v.get(&id)
                .into_iter()
                .flatten()
                .filter(|p| Some(p.id) != me)
                .map(|p| p.name.clone())
                .collect()
        })
    }

    pub fn is_admin(&self) -> bool {
        self.me.with(|m| m.as_ref().is_some_and(|v| v.is_admin()))
    }

    /// Whether the console page was left (its signals disposed).
    pub fn is_left(&self) -> bool {
        self.list.is_disposed()
    }

    /// The address of a session of this bot in the console.
    pub fn session_href(&self, session_id: i64) -> String {
        session_href(&self.bot_id.get_untracked(), session_id)
    }
}

use crate::format::url_escape;

pub fn session_href(bot_id: &str, session_id: i64) -> String {
    format!(
        "/modules/hitl?bot={}&session={session_id}",
        url_escape(bot_id)
    )
}

pub fn use_console() -> Console {
    expect_context::<Console>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_link_names_bot_and_session() {
        assert_eq!(
            session_href("welcome-bot", 7),
            "/modules/hitl?bot=welcome-bot&session=7"
        );
    }
}
