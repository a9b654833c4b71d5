//! How events are kept in a log: JSON of [`EventKind`] with the version of its format, so that
//! rows written by an older hitl still replay. Every store keeps events this way.

use app::model::{EventKind, Source};
use serde_json::Value;

use super::{Result, StoreError};

/// The format events are written in now.
/// 1: before typed actors. 2: messages carry `authorKind`/`authorId`, sessions
/// `pausedByKind`/`pausedById`.
pub const EVENT_VERSION: i64 = 2;

pub fn encode(kind: &EventKind) -> Result<String> {
    serde_json::to_string(kind).map_err(|e| StoreError::Corrupt(format!("event encoding: {e}")))
}

/// Reads a stored event of any version, upgrading it to today's format.
pub fn decode(seq: i64, version: i64, data: &str) -> Result<EventKind> {
    let corrupt = |e: serde_json::Error| StoreError::Corrupt(format!("event {seq}: {e}"));
    let mut value: Value = serde_json::from_str(data).map_err(corrupt)?;
    if version < 2 {
        upgrade_to_typed_actors(&mut value);
    }
    serde_json::from_value(value).map_err(corrupt)
}

/// Version 1 named no kinds: a message's kind follows from its source where it can.
fn upgrade_to_typed_actors(value: &mut Value) {
    let message = match value.get("message") {
        Some(_) => value.get_mut("message"),
        None => value
            .get_mut("session")
            .and_then(|s| s.get_mut("lastMessage")),
    };
    if let Some(message) = message {
        let source = message
            .get("source")
            .cloned()
            .and_then(|s| serde_json::from_value::<Source>(s).ok());
        let kind = match source {
            Some(Source::User) => "user",
            Some(Source::Bot) => "bot",
            _ => return,
        };
        if let Some(object) = message.as_object_mut() {
            object
                .entry("authorKind")
                .or_insert_with(|| Value::String(kind.into()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::ActorKind;

    /// A `message.created` row exactly as version 1 wrote it.
    const V1_MESSAGE: &str = r#"{"type":"message.created","message":{"id":5,"sessionId":2,"type":"text","source":"user","direction":"in","text":"hi","payload":{"type":"text","text":"hi"},"ts":"2026-11-30T10:00:00Z"}}"#;
    /// A `session.updated` row exactly as version 1 wrote it.
    const V1_SESSION: &str = r#"{"type":"session.updated","session":{"id":2,"botId":"b","channel":"api","userId":"u","threadId":null,"fullName":"Ada","avatarUrl":null,"isPaused":true,"pausedBy":"api","pausedReason":"billing","pausedAt":"2026-11-30T10:00:01Z","lastEventOn":"2026-11-30T10:00:01Z","lastHeardOn":"2026-11-30T10:00:00Z","lastMessage":{"id":6,"sessionId":2,"type":"system","source":"system","direction":"out","text":"Paused by api: billing","payload":{"type":"system","text":"Paused by api: billing","paused":true},"author":"api","ts":"2026-11-30T10:00:01Z"},"unreadCount":1,"waiting":true}}"#;

    #[test]
    fn version_one_rows_still_replay() {
        let EventKind::MessageCreated { message } = decode(1, 1, V1_MESSAGE).unwrap() else {
            panic!("not a message");
        };
        assert_eq!(message.text, "hi");
        assert_eq!(message.author_kind, Some(ActorKind::User));
        let EventKind::SessionUpdated { session, counts } = decode(2, 1, V1_SESSION).unwrap()
        else {
            panic!("not a session");
        };
        assert!(session.is_paused);
        assert_eq!(counts, None, "version 1 carried no counts");
        assert_eq!(session.paused_by.as_deref(), Some("api"));
        assert_eq!(session.paused_by_kind, None);
        let last = session.last_message.unwrap();
        assert_eq!(
            last.author_kind, None,
            "a system line's kind is not guessed"
        );
    }

    #[test]
    fn todays_rows_round_trip() {
        let EventKind::MessageCreated { message } = decode(1, 1, V1_MESSAGE).unwrap() else {
            panic!("not a message");
        };
        let kind = EventKind::MessageCreated { message };
        let again = decode(3, EVENT_VERSION, &encode(&kind).unwrap()).unwrap();
        assert_eq!(again, kind);
    }

    #[test]
    fn a_broken_row_is_reported_not_skipped() {
        assert!(matches!(
            decode(9, EVENT_VERSION, "{\"type\":\"nope\"}"),
            Err(StoreError::Corrupt(_))
        ));
    }
}
