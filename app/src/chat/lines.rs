//! The visitor's transcript: items by id plus messages still being sent, and the rule that turns
//! them into the lines the chat shows (who said what, and when a person joined or the bot came
//! back). Plain data, so it is tested without a browser.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::wire::{ChatBody, ChatItem};
use crate::model::Content;

pub const PERSON_JOINED: &str = "A person joined the conversation.";
pub const BOT_BACK: &str = "The bot is back.";

#[derive(Debug, Clone, PartialEq)]
pub enum Who {
    Visitor,
    Bot,
    /// A human agent, with their name when they have one to show.
    Person(Option<String>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Stored,
    Sending,
    Failed,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    Said {
        key: String,
        who: Who,
        content: Content,
        ts: Option<DateTime<Utc>>,
        delivery: Delivery,
        /// The newest line: only its quick replies are still offered.
        latest: bool,
    },
    Notice {
        key: String,
        text: &'static str,
    },
}

/// A message the visitor sent that the server has not confirmed yet.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    pub client_id: String,
    pub content: Content,
    pub failed: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Transcript {
    items: BTreeMap<i64, ChatItem>,
    pending: Vec<Pending>,
}

impl Transcript {
    /// Takes an item; one already held (a replay after a reconnect) changes nothing. The
    /// visitor's own message may arrive before its `ack`: it confirms the oldest pending message
    /// with the same content, so the line never shows twice.
    pub fn add(&mut self, item: ChatItem) {
        if self.items.contains_key(&item.id) {
            return;
        }
        if let ChatBody::Visitor { content } = &item.body {
            if let Some(i) = self
                .pending
                .iter()
                .position(|p| !p.failed && &p.content == content)
            {
                self.pending.remove(i);
            }
        }
        self.items.insert(item.id, item);
    }

    pub fn sending(&mut self, client_id: String, content: Content) {
        self.pending.push(Pending {
            client_id,
            content,
            failed: false,
        });
    }

    /// The server stored the message sent as `client_id` (as `item`, or earlier when it was a
    /// repeat: then the replay brought it).
    pub fn ack(&mut self, client_id: &str, item: Option<ChatItem>) {
        self.pending.retain(|p| p.client_id != client_id);
        if let Some(item) = item {
            self.add(item);
        }
    }

    pub fn fail(&mut self, client_id: &str) {
        for p in self.pending.iter_mut().filter(|p| p.client_id == client_id) {
            p.failed = true;
        }
    }

    /// Messages never confirmed (the socket dropped): sent again after a reconnect.
    pub fn unconfirmed(&self) -> Vec<Pending> {
        self.pending.clone()
    }

    pub fn retry(&mut self, client_id: &str) -> Option<Content> {
        let p = self.pending.iter_mut().find(|p| p.client_id == client_id)?;
        p.failed = false;
        Some(p.content.clone())
    }

    /// The id to resume from: everything up to it is held.
    pub fn last_id(&self) -> Option<i64> {
        self.items.keys().next_back().copied()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty() && self.pending.is_empty()
    }

    pub fn lines(&self) -> Vec<Line> {
        let mut lines = Vec::new();
        let mut joined = false;
        for item in self.items.values() {
            let said = |who: Who, content: &Content| Line::Said {
                key: format!("m{}", item.id),
                who,
                content: content.clone(),
                ts: Some(item.ts),
                delivery: Delivery::Stored,
                latest: false,
            };
            let notice = |text| Line::Notice {
                key: format!("n{}", item.id),
                text,
            };
            match &item.body {
                ChatBody::Visitor { content } => lines.push(said(Who::Visitor, content)),
                ChatBody::Bot { content } => lines.push(said(Who::Bot, content)),
                ChatBody::Person { name, content } => {
                    if !joined {
                        lines.push(notice(PERSON_JOINED));
                        joined = true;
                    }
                    lines.push(said(Who::Person(name.clone()), content));
                }
                ChatBody::Paused { by_person: true } => {
                    lines.push(notice(PERSON_JOINED));
                    joined = true;
                }
                ChatBody::Paused { by_person: false } => joined = false,
                ChatBody::Resumed => {
                    lines.push(notice(BOT_BACK));
                    joined = false;
                }
            }
        }
        lines.extend(self.pending.iter().map(|p| Line::Said {
            key: p.client_id.clone(),
            who: Who::Visitor,
            content: p.content.clone(),
            ts: None,
            delivery: if p.failed {
                Delivery::Failed
            } else {
                Delivery::Sending
            },
            latest: false,
        }));
        if let Some(Line::Said { latest, .. }) = lines.last_mut() {
            *latest = true;
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: i64, body: ChatBody) -> ChatItem {
        ChatItem {
            id,
            ts: DateTime::from_timestamp_millis(1_700_000_000_000 + id).unwrap(),
            body,
        }
    }

    fn text(t: &str) -> Content {
        Content::Text { text: t.into() }
    }

    fn person(t: &str) -> ChatBody {
        ChatBody::Person {
            name: None,
            content: text(t),
        }
    }

    /// The lines as short strings: "visitor: hi", "notice: …".
    fn shown(t: &Transcript) -> Vec<String> {
        t.lines()
            .into_iter()
            .map(|l| match l {
                Line::Said {
                    who,
                    content,
                    delivery,
                    ..
                } => {
                    let who = match who {
                        Who::Visitor => "visitor",
                        Who::Bot => "bot",
                        Who::Person(_) => "person",
                    };
                    let mark = match delivery {
                        Delivery::Stored => "",
                        Delivery::Sending => " (sending)",
                        Delivery::Failed => " (failed)",
                    };
                    format!("{who}: {}{mark}", content.preview())
                }
                Line::Notice { text, .. } => format!("notice: {text}"),
            })
            .collect()
    }

    #[test]
    fn the_seed_scenario_reads_as_the_visitor_expects() {
        let mut t = Transcript::default();
        let bodies = [
            ChatBody::Visitor {
                content: text("HITL_START"),
            },
            ChatBody::Bot {
                content: text("Someone will be with you"),
            },
            ChatBody::Paused { by_person: false },
            person("Hello, I am here"),
            person("How can I help?"),
            ChatBody::Visitor {
                content: text("Cancel"),
            },
            ChatBody::Resumed,
            ChatBody::Bot {
                content: text("Human in the loop disabled. Bot resumed."),
            },
        ];
        for (i, body) in bodies.into_iter().enumerate() {
            t.add(item(i as i64 + 1, body));
        }
        assert_eq!(
            shown(&t),
            [
                "visitor: HITL_START",
                "bot: Someone will be with you",
                &format!("notice: {PERSON_JOINED}"),
                "person: Hello, I am here",
                "person: How can I help?",
                "visitor: Cancel",
                &format!("notice: {BOT_BACK}"),
                "bot: Human in the loop disabled. Bot resumed.",
            ]
        );
    }

    #[test]
    fn an_agent_taking_over_is_announced_once_and_again_after_the_bot_was_back() {
        let mut t = Transcript::default();
        t.add(item(1, ChatBody::Paused { by_person: true }));
        t.add(item(2, person("hi")));
        t.add(item(3, ChatBody::Resumed));
        t.add(item(4, ChatBody::Paused { by_person: false }));
        t.add(item(5, person("me again")));
        let notices = shown(&t)
            .into_iter()
            .filter(|l| l.starts_with("notice"))
            .count();
        assert_eq!(notices, 3, "{:?}", shown(&t));
    }

    #[test]
    fn replayed_items_are_held_once_and_in_id_order() {
        let mut t = Transcript::default();
        t.add(item(2, ChatBody::Bot { content: text("b") }));
        t.add(item(1, ChatBody::Visitor { content: text("a") }));
        t.add(item(2, ChatBody::Bot { content: text("b") }));
        assert_eq!(shown(&t), ["visitor: a", "bot: b"]);
        assert_eq!(t.last_id(), Some(2));
    }

    #[test]
    fn a_sent_message_shows_while_sending_and_once_when_stored() {
        let mut t = Transcript::default();
        t.sending("c1".into(), text("hello"));
        assert_eq!(shown(&t), ["visitor: hello (sending)"]);
        // The stored item may arrive before its ack: still shown once.
        let stored = item(
            9,
            ChatBody::Visitor {
                content: text("hello"),
            },
        );
        t.add(stored.clone());
        assert_eq!(
            shown(&t),
            ["visitor: hello"],
            "the stored line replaces the pending one"
        );
        t.ack("c1", Some(stored));
        assert_eq!(shown(&t), ["visitor: hello"]);
        // And the other way round: the ack first, then the item.
        t.sending("c2".into(), text("again"));
        let again = item(
            10,
            ChatBody::Visitor {
                content: text("again"),
            },
        );
        t.ack("c2", Some(again.clone()));
        t.add(again);
        assert_eq!(shown(&t), ["visitor: hello", "visitor: again"]);
    }

    #[test]
    fn a_refused_message_stays_marked_and_can_be_retried() {
        let mut t = Transcript::default();
        t.sending("c1".into(), text("x"));
        t.fail("c1");
        assert_eq!(shown(&t), ["visitor: x (failed)"]);
        assert_eq!(t.retry("c1"), Some(text("x")));
        assert_eq!(shown(&t), ["visitor: x (sending)"]);
    }

    #[test]
    fn only_the_newest_line_offers_its_quick_replies() {
        let mut t = Transcript::default();
        t.add(item(1, ChatBody::Bot { content: text("a") }));
        t.add(item(2, ChatBody::Bot { content: text("b") }));
        let latest: Vec<bool> = t
            .lines()
            .iter()
            .map(|l| matches!(l, Line::Said { latest: true, .. }))
            .collect();
        assert_eq!(latest, [false, true]);
    }
}
