//! Merge rules of the console's state.

use chrono::{DateTime, TimeZone, Utc};

use super::*;
use crate::model::{Level, Source};

fn t(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + secs, 0).unwrap()
}

fn session(id: i64, last: i64) -> SessionOverview {
    SessionOverview {
        id,
        bot_id: "b".into(),
        channel: "api".into(),
        user_id: format!("u{id}"),
        thread_id: None,
        full_name: Some(format!("User {id}")),
        avatar_url: None,
        is_paused: false,
        paused_by: None,
        paused_by_kind: None,
        paused_by_id: None,
        paused_reason: None,
        paused_at: None,
        last_event_on: t(last),
        last_heard_on: Some(t(last)),
        last_agent_reply_on: None,
        last_message: None,
        unread_count: 0,
        waiting: false,
        handoff: None,
        last_closed: None,
    }
}

fn message(id: i64, session_id: i64) -> Message {
    crate::model::fixtures::message(id, session_id, t(id))
}

fn ids(list: &SessionList) -> Vec<i64> {
    list.sessions.iter().map(|s| s.id).collect()
}

#[test]
fn a_new_message_moves_its_session_to_the_top() {
    let mut list = SessionList::default();
    list.add_page(vec![session(1, 30), session(2, 20), session(3, 10)], None);
    list.apply(session(3, 40), &ListView::default());
    assert_eq!(ids(&list), [3, 1, 2]);
}

#[test]
fn a_new_session_is_added_and_a_repeated_event_changes_nothing() {
    let mut list = SessionList::default();
    list.add_page(vec![session(1, 10)], None);
    let view = ListView::default();
    list.apply(session(2, 20), &view);
    let once = list.clone();
    list.apply(session(2, 20), &view);
    assert_eq!(list, once);
    assert_eq!(ids(&list), [2, 1]);
}

#[test]
fn an_older_snapshot_does_not_overwrite_a_newer_one() {
    let mut list = SessionList::default();
    let mut newer = session(1, 50);
    newer.is_paused = true;
    list.add_page(vec![newer], None);
    list.apply(session(1, 40), &ListView::default());
    assert!(list.get(1).unwrap().is_paused);
}

#[test]
fn a_session_leaves_a_filtered_list_when_it_stops_matching() {
    let view = ListView {
        filter: Filter::Paused,
        search: String::new(),
        ..Default::default()
    };
    let mut paused = session(1, 10);
    paused.is_paused = true;
    let mut list = SessionList::default();
    list.add_page(vec![paused], None);
    list.apply(session(1, 20), &view);
    assert!(list.sessions.is_empty());
}

#[test]
fn the_view_matches_like_the_server_search() {
    let view = ListView {
        filter: Filter::All,
        search: "user 1".into(),
        ..Default::default()
    };
    assert!(view.matches(&session(1, 0)));
    assert!(!view.matches(&session(2, 0)));
    let by_id = ListView {
        filter: Filter::All,
        search: "U2".into(),
        ..Default::default()
    };
    assert!(by_id.matches(&session(2, 0)));
    let mut waiting = session(3, 0);
    waiting.is_paused = true;
    assert!(!ListView {
        filter: Filter::Waiting,
        search: String::new(),
        ..Default::default()
    }
    .matches(&waiting));
    waiting.waiting = true;
    assert!(ListView {
        filter: Filter::Waiting,
        search: String::new(),
        ..Default::default()
    }
    .matches(&waiting));
}

fn handed(id: i64, last: i64, queued_at: i64, owner: Option<i64>) -> SessionOverview {
    let mut s = session(id, last);
    s.is_paused = true;
    s.handoff = Some(crate::model::Handoff {
        id: 100 + id,
        state: if owner.is_some() {
            crate::model::HandoffState::Assigned
        } else {
            crate::model::HandoffState::Queued
        },
        assignee: owner.map(|id| crate::model::Assignee {
            id,
            name: format!("Agent {id}"),
        }),
        position: None,
        queued_at: t(queued_at),
        assigned_at: owner.map(|_| t(queued_at + 1)),
        version: 1,
        returns_at: None,
    });
    s
}

#[test]
fn queue_mine_others_and_closed_split_by_owner_and_time() {
    let me = Some(7);
    let view = |filter| ListView {
        filter,
        viewer: me,
        closed_since: t(100),
        ..Default::default()
    };
    let queued = handed(1, 0, 0, None);
    let mine = handed(2, 0, 0, Some(7));
    let theirs = handed(3, 0, 0, Some(8));
    let mut closed_today = session(4, 0);
    closed_today.last_closed = Some(crate::model::ClosedHandoff {
        at: t(150),
        reason: "resolved".into(),
    });
    let mut closed_before = closed_today.clone();
    closed_before.last_closed.as_mut().unwrap().at = t(50);
    let all = [&queued, &mine, &theirs, &closed_today, &closed_before];
    let shown = |filter| {
        all.iter()
            .filter(|s| view(filter).matches(s))
            .map(|s| s.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(shown(Filter::Queue), [1]);
    assert_eq!(shown(Filter::Mine), [2]);
    assert_eq!(shown(Filter::Others), [3]);
    assert_eq!(shown(Filter::Closed), [4]);
    // Handed over again, it is no longer among the closed.
    let mut reopened = handed(4, 0, 200, None);
    reopened.last_closed = closed_today.last_closed.clone();
    assert!(!view(Filter::Closed).matches(&reopened));
}

#[test]
fn the_queue_lists_the_longest_waiting_first_and_follows_live_changes() {
    let view = ListView {
        filter: Filter::Queue,
        ..Default::default()
    };
    let mut list = SessionList::default();
    // Newest activity first would be 2, 1; the queue is by when each was queued.
    list.load_first_page(
        vec![handed(2, 50, 20, None), handed(1, 40, 10, None)],
        None,
        &view,
    );
    assert_eq!(ids(&list), [1, 2]);
    // A newly queued one joins at the end, whatever its activity.
    list.apply(handed(3, 90, 30, None), &view);
    assert_eq!(ids(&list), [1, 2, 3]);
    // The first one claimed leaves the queue.
    list.apply(handed(1, 95, 10, Some(7)), &view);
    assert_eq!(ids(&list), [2, 3]);
}

#[test]
fn a_filter_counts_for_its_viewer() {
    let counts = SessionCounts {
        queued: 2,
        owners: vec![
            crate::model::OwnerCount {
                user_id: 7,
                open: 3,
            },
            crate::model::OwnerCount {
                user_id: 8,
                open: 1,
            },
        ],
        ..Default::default()
    };
    assert_eq!(Filter::Queue.count(&counts, Some(7)), Some(2));
    assert_eq!(Filter::Mine.count(&counts, Some(7)), Some(3));
    assert_eq!(Filter::Others.count(&counts, Some(7)), Some(1));
    assert_eq!(Filter::Others.count(&counts, None), Some(4));
    // Events carry no closed count: it stays unknown until fetched.
    assert_eq!(Filter::Closed.count(&counts, Some(7)), None);
}

#[test]
fn pages_merge_without_duplicates() {
    let mut list = SessionList::default();
    list.add_page(vec![session(3, 30), session(2, 20)], Some("c".into()));
    list.add_page(vec![session(2, 20), session(1, 10)], None);
    assert_eq!(ids(&list), [3, 2, 1]);
    assert_eq!(list.next_cursor, None);
}

#[test]
fn keyboard_moves_go_through_the_list_and_stop_at_its_ends() {
    let mut list = SessionList::default();
    list.add_page(vec![session(3, 30), session(2, 20), session(1, 10)], None);
    assert_eq!(list.neighbour(None, 1), Some(3));
    assert_eq!(list.neighbour(Some(3), 1), Some(2));
    assert_eq!(list.neighbour(Some(3), -1), None);
    assert_eq!(list.neighbour(Some(1), 1), None);
}

#[test]
fn messages_merge_by_id_in_order_and_ignore_other_sessions() {
    let mut c = Conversation::open(7, vec![message(2, 7), message(4, 7)], 50);
    assert!(!c.has_older);
    assert_eq!(
        c.merge(vec![message(3, 7), message(4, 7), message(9, 8)]),
        1
    );
    let got: Vec<i64> = c.messages.iter().map(|m| m.id).collect();
    assert_eq!(got, [2, 3, 4]);
}

#[test]
fn scrolling_back_adds_older_pages_until_a_short_one() {
    let mut c = Conversation::open(7, vec![message(10, 7), message(11, 7)], 2);
    assert!(c.has_older);
    c.add_older(vec![message(8, 7), message(9, 7)], 2);
    assert!(c.has_older);
    c.add_older(vec![message(7, 7)], 2);
    assert!(!c.has_older);
    assert_eq!(c.oldest_id(), Some(7));
}

#[test]
fn a_confirmed_reply_replaces_its_pending_copy_and_a_failed_one_keeps_the_text() {
    let mut c = Conversation::open(7, vec![], 50);
    c.pending.push(Pending {
        local_id: 1,
        text: "hi".into(),
        error: None,
    });
    c.pending.push(Pending {
        local_id: 2,
        text: "there".into(),
        error: None,
    });
    c.confirm(1, message(5, 7));
    c.fail(2, "offline".into());
    assert_eq!(c.messages.len(), 1);
    assert_eq!(
        c.pending,
        [Pending {
            local_id: 2,
            text: "there".into(),
            error: Some("offline".into())
        }]
    );
}

fn notification(id: i64, read: bool) -> Notification {
    Notification {
        id,
        bot_id: "b".into(),
        message: format!("n{id}"),
        level: Level::Info,
        url: None,
        session_id: None,
        recipient_id: None,
        read,
        created_at: t(id),
    }
}

#[test]
fn the_bell_counts_each_unread_notification_once() {
    let mut bell = Bell::default();
    assert!(bell.add(notification(1, false)));
    assert!(bell.add(notification(3, true)));
    assert!(bell.add(notification(2, false)));
    assert!(!bell.add(notification(2, false)));
    assert_eq!(bell.unread, 2);
    assert_eq!(
        bell.items.iter().map(|n| n.id).collect::<Vec<_>>(),
        [3, 2, 1]
    );
    bell.mark_read(2);
    bell.mark_read(2);
    assert_eq!(bell.unread, 1);
    bell.mark_all_read();
    assert_eq!((bell.unread, title(bell.unread)), (0, "hitl".to_string()));
    assert_eq!(title(3), "(3) hitl");
}

#[test]
fn a_live_copy_of_the_agents_reply_replaces_the_pending_one_so_it_shows_once() {
    let mut c = Conversation::open(7, vec![], 50);
    c.pending.push(Pending {
        local_id: 1,
        text: "on my way".into(),
        error: None,
    });
    let mut stored = message(5, 7);
    stored.source = Source::Agent;
    stored.text = "on my way".into();
    c.merge(vec![stored.clone()]);
    assert!(c.pending.is_empty());
    c.confirm(1, stored);
    assert_eq!(c.messages.len(), 1);
}

#[test]
fn a_fetched_first_page_keeps_what_live_events_brought_meanwhile() {
    let view = ListView::default();
    let mut list = SessionList::default();
    list.add_page(vec![session(1, 10)], None);
    // While the page was being fetched: session 1 got a message, session 9 appeared.
    list.apply(session(1, 30), &view);
    list.apply(session(9, 40), &view);
    list.load_first_page(vec![session(1, 10), session(2, 5)], None, &view);
    assert_eq!(ids(&list), [9, 1, 2]);
    assert_eq!(list.get(1).unwrap().last_event_on, t(30));
    // An old session that the new page does not list is dropped.
    let mut stale = SessionList::default();
    stale.add_page(vec![session(3, 1)], None);
    stale.load_first_page(vec![session(2, 5)], None, &view);
    assert_eq!(ids(&stale), [2]);
}

#[test]
fn a_refetched_conversation_keeps_newer_live_messages_and_pending_replies() {
    let mut c = Conversation::open(7, vec![message(1, 7)], 50);
    c.merge(vec![message(2, 7), message(3, 7)]);
    c.pending.push(Pending {
        local_id: 1,
        text: "x".into(),
        error: None,
    });
    c.load(7, vec![message(1, 7), message(2, 7)], 50);
    assert_eq!(
        c.messages.iter().map(|m| m.id).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(c.pending.len(), 1);
    c.load(8, vec![message(4, 8)], 50);
    assert_eq!(c.messages.iter().map(|m| m.id).collect::<Vec<_>>(), [4]);
    assert!(c.pending.is_empty());
}

#[test]
fn a_refetched_bell_keeps_a_notification_that_arrived_after_it() {
    let mut bell = Bell::default();
    bell.add(notification(5, false));
    bell.load(vec![notification(4, false), notification(3, true)], 1);
    assert_eq!(
        bell.items.iter().map(|n| n.id).collect::<Vec<_>>(),
        [5, 4, 3]
    );
    assert_eq!(bell.unread, 2);
    bell.load(vec![notification(5, false), notification(4, false)], 2);
    assert_eq!(bell.unread, 2);
}

#[test]
fn a_snapshot_replaces_the_held_one_unless_it_is_older() {
    assert!(replaces(&session(1, 10), &session(1, 10)));
    assert!(replaces(&session(1, 10), &session(1, 20)));
    assert!(!replaces(&session(1, 20), &session(1, 10)));
    assert!(
        replaces(&session(1, 20), &session(2, 10)),
        "another session always"
    );
}

#[test]
fn notifications_read_in_another_console_are_read_in_this_bell() {
    let mut bell = Bell::default();
    bell.load(vec![notification(3, false), notification(2, false)], 4);
    // 3 was read here first: the event about it changes nothing more.
    bell.mark_read(3);
    assert_eq!(bell.unread, 3);
    // 2 is shown, 1 is older than the page shown: both were unread on the server.
    bell.read_elsewhere(&[3, 2, 1]);
    assert_eq!(bell.unread, 1);
    assert!(bell.items.iter().all(|n| n.read));
    bell.read_elsewhere(&[7, 8]);
    assert_eq!(bell.unread, 0, "never below zero");
}

#[test]
fn a_reply_refused_as_stale_leaves_the_pending_list_and_the_news_shows() {
    let mut c = Conversation::open(1, vec![message(1, 1)], 50);
    c.pending.push(Pending {
        local_id: 9,
        text: "answer".into(),
        error: None,
    });
    assert_eq!(c.newest_id(), Some(1));
    let added = c.refused_as_stale(9, vec![message(2, 1)]);
    assert_eq!(added, 1);
    assert!(c.pending.is_empty(), "the text goes back to the composer");
    assert_eq!(c.newest_id(), Some(2), "the next try is written against it");
}
