//! The web chat channel: anonymous visitors proven by a secret, and the visitor's view of a
//! conversation. Messages reach the visitor over the chat socket, which follows the event bus, so
//! this channel needs no outbox.

use crate::secret::{random_hex, same, sha256_hex};
use crate::store::{SessionKey, Visitor};
use app::chat::wire::{ChatBody, ChatItem};
use app::model::{ActorKind, Message, Source};

pub const CHANNEL: &str = "web";

/// A new visitor of `bot_id` and the secret only their browser will know.
pub fn new_visitor(bot_id: &str, name: Option<String>) -> (Visitor, String) {
    let secret = random_hex(32);
    let visitor = Visitor {
        id: format!("visitor-{}", random_hex(8)),
        bot_id: bot_id.to_string(),
        secret_hash: sha256_hex(&secret),
        name,
    };
    (visitor, secret)
}

pub fn secret_matches(visitor: &Visitor, secret: &str) -> bool {
    same(&sha256_hex(secret), &visitor.secret_hash)
}

pub fn session_key(bot_id: &str, visitor_id: &str) -> SessionKey {
    SessionKey {
        bot_id: bot_id.to_string(),
        channel: CHANNEL.to_string(),
        user_id: visitor_id.to_string(),
        thread_id: None,
    }
}

/// The message as the visitor may see it; `None` for lines meant for agents only (why a
/// conversation was paused, a bot failure). Only a person in the console is shown as a person
/// joining, with their name: a pause by the bot or a token is a hand-over, and the person shows
/// up with their first message.
pub fn chat_item(message: &Message) -> Option<ChatItem> {
    let content = message.content()?;
    let by_person = message.author_kind.is_some_and(ActorKind::is_person);
    let body = match message.source {
        Source::User => ChatBody::Visitor { content },
        Source::Bot => ChatBody::Bot { content },
        Source::Agent => ChatBody::Person {
            name: message.author.clone().filter(|_| by_person),
            content,
        },
        Source::System => match content {
            app::model::Content::System {
                paused: Some(true), ..
            } => ChatBody::Paused { by_person },
            app::model::Content::System {
                paused: Some(false),
                ..
            } => ChatBody::Resumed,
            _ => return None,
        },
    };
    Some(ChatItem {
        id: message.id,
        ts: message.ts,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::{Content, Direction};
    use chrono::Utc;

    fn message(source: Source, author: Option<(&str, ActorKind)>, content: Content) -> Message {
        Message {
            id: 7,
            session_id: 1,
            kind: content.kind().into(),
            source,
            direction: Direction::Out,
            text: content.preview(),
            payload: serde_json::to_value(&content).unwrap(),
            author: author.map(|(name, _)| name.to_string()),
            author_kind: author.map(|(_, kind)| kind),
            author_id: None,
            ts: Utc::now(),
        }
    }

    fn system(paused: Option<bool>, author: &str, kind: ActorKind) -> Message {
        let text = "Paused by agent: rude user".to_string();
        message(
            Source::System,
            Some((author, kind)),
            Content::System { text, paused },
        )
    }

    #[test]
    fn a_secret_matches_only_its_own_visitor() {
        let (visitor, secret) = new_visitor("b", None);
        let (other, other_secret) = new_visitor("b", None);
        assert!(secret_matches(&visitor, &secret));
        assert!(!secret_matches(&visitor, &other_secret));
        assert!(!secret_matches(&other, &secret));
        assert!(!secret_matches(&visitor, ""));
        assert_ne!(visitor.id, other.id);
    }

    #[test]
    fn pause_lines_reach_the_visitor_without_the_reason() {
        let item = chat_item(&system(Some(true), "Grace", ActorKind::Agent)).unwrap();
        assert_eq!(item.body, ChatBody::Paused { by_person: true });
        let json = serde_json::to_string(&item).unwrap();
        assert!(!json.contains("rude"), "{json}");
        let bot = chat_item(&system(Some(true), "bot", ActorKind::Bot)).unwrap();
        assert_eq!(bot.body, ChatBody::Paused { by_person: false });
        let token = chat_item(&system(Some(true), "crm", ActorKind::Token)).unwrap();
        assert_eq!(token.body, ChatBody::Paused { by_person: false });
        let resumed = chat_item(&system(Some(false), "bot", ActorKind::Bot)).unwrap();
        assert_eq!(resumed.body, ChatBody::Resumed);
    }

    #[test]
    fn a_person_is_a_person_whatever_their_name() {
        for name in ["bot", "api", "agent"] {
            let item = chat_item(&system(Some(true), name, ActorKind::Agent)).unwrap();
            assert_eq!(item.body, ChatBody::Paused { by_person: true }, "{name}");
            let text = Content::Text { text: "Hi".into() };
            let reply = message(Source::Agent, Some((name, ActorKind::Agent)), text.clone());
            assert_eq!(
                chat_item(&reply).unwrap().body,
                ChatBody::Person {
                    name: Some(name.into()),
                    content: text
                }
            );
        }
    }

    #[test]
    fn other_system_lines_stay_with_the_agents() {
        assert_eq!(chat_item(&system(None, "hitl", ActorKind::System)), None);
    }

    #[test]
    fn agent_messages_come_from_a_person() {
        let text = Content::Text { text: "Hi".into() };
        let by_token = message(Source::Agent, Some(("crm", ActorKind::Token)), text.clone());
        let item = chat_item(&by_token).unwrap();
        assert_eq!(
            item.body,
            ChatBody::Person {
                name: None,
                content: text.clone()
            }
        );
        let by_grace = message(
            Source::Agent,
            Some(("Grace", ActorKind::Agent)),
            text.clone(),
        );
        let named = chat_item(&by_grace).unwrap();
        assert_eq!(
            named.body,
            ChatBody::Person {
                name: Some("Grace".into()),
                content: text
            }
        );
    }
}
