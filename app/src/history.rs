//! What the history review asks and answers: search over every message, transcripts with their
//! handoff segments. Shared by the REST API, the server functions and the history pages.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{Message, SessionOverview, Source};

/// A search of the history. Every field is optional; the filters combine with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryQuery {
    /// Words (all must occur), `"a phrase"`, `prefix*`. Without it, the newest messages.
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub bot_id: Option<String>,
    #[serde(default)]
    pub channel: Option<String>,
    /// From this day (`YYYY-MM-DD`, UTC) or instant (RFC 3339), inclusive.
    #[serde(default)]
    pub from: Option<String>,
    /// To this day, inclusive, or before this instant.
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub source: Option<Source>,
    /// Only what this agent wrote.
    #[serde(default)]
    pub agent: Option<String>,
    /// Only conversations that were (true) or were never (false) handed to a human.
    #[serde(default)]
    pub handed_off: Option<bool>,
    /// Only conversations paused right now (true) or running (false).
    #[serde(default)]
    pub paused_now: Option<bool>,
    /// Only this conversation (for its export).
    #[serde(default)]
    pub session_id: Option<i64>,
    #[serde(default)]
    pub cursor: Option<String>,
    #[serde(default)]
    pub limit: Option<u32>,
}

impl HistoryQuery {
    /// The search words, when there are any.
    pub fn words(&self) -> Option<&str> {
        self.q.as_deref().map(str::trim).filter(|q| !q.is_empty())
    }
}

/// The `from`/`to` of a query as unix milliseconds: `[from, to)`. A day (`YYYY-MM-DD`) means
/// its whole UTC day for both ends; an instant is taken as it is.
pub fn time_range(
    from: Option<&str>,
    to: Option<&str>,
) -> Result<(Option<i64>, Option<i64>), String> {
    fn parse(value: &str, end: bool) -> Result<i64, String> {
        let value = value.trim();
        if let Ok(day) = chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d") {
            let day = if end {
                day.succ_opt().unwrap_or(day)
            } else {
                day
            };
            let start = day.and_hms_opt(0, 0, 0).unwrap_or_default();
            return Ok(start.and_utc().timestamp_millis());
        }
        DateTime::parse_from_rfc3339(value)
            .map(|t| t.timestamp_millis())
            .map_err(|_| format!("{value:?} is neither a day (YYYY-MM-DD) nor an RFC 3339 time"))
    }
    let from = from.filter(|v| !v.trim().is_empty());
    let to = to.filter(|v| !v.trim().is_empty());
    Ok((
        from.map(|v| parse(v, false)).transpose()?,
        to.map(|v| parse(v, true)).transpose()?,
    ))
}

/// A piece of a snippet: matched words are `hit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnippetPart {
    pub text: String,
    pub hit: bool,
}

/// One message that matched, with its conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryHit {
    pub session_id: i64,
    pub message_id: i64,
    pub bot_id: String,
    pub channel: String,
    pub user_id: String,
    pub full_name: Option<String>,
    pub source: Source,
    pub author: Option<String>,
    /// The matching part of the message, as plain text.
    pub snippet: String,
    /// The same text cut where the matched words begin and end.
    pub snippet_parts: Vec<SnippetPart>,
    pub ts: DateTime<Utc>,
}

impl HistoryHit {
    pub fn display_name(&self) -> &str {
        self.full_name.as_deref().unwrap_or(&self.user_id)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryPage {
    pub results: Vec<HistoryHit>,
    pub next_cursor: Option<String>,
}

/// Hits of one page grouped by conversation, in the order their best hit came.
pub fn group_by_session(hits: &[HistoryHit]) -> Vec<Vec<HistoryHit>> {
    let mut groups: Vec<Vec<HistoryHit>> = Vec::new();
    for hit in hits {
        match groups
            .iter_mut()
            .find(|g| g[0].session_id == hit.session_id)
        {
            Some(group) => group.push(hit.clone()),
            None => groups.push(vec![hit.clone()]),
        }
    }
    groups
}

/// Splits a snippet whose matches the store wrapped in `open` … `close` markers.
pub fn snippet_parts(marked: &str, open: char, close: char) -> Vec<SnippetPart> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut hit = false;
    for c in marked.chars() {
        if c == open || c == close {
            if !current.is_empty() {
                parts.push(SnippetPart {
                    text: std::mem::take(&mut current),
                    hit,
                });
            }
            hit = c == open;
        } else {
            current.push(c);
        }
    }
    if !current.is_empty() {
        parts.push(SnippetPart { text: current, hit });
    }
    parts
}

/// Who is speaking in a stretch of a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Segment {
    /// The bot answers.
    Bot,
    /// Paused: a human answers.
    Human,
}

impl Segment {
    pub fn as_str(self) -> &'static str {
        match self {
            Segment::Bot => "bot",
            Segment::Human => "human",
        }
    }
}

/// A conversation from its start, read-only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Transcript {
    pub session: SessionOverview,
    pub messages: Vec<Message>,
    /// True when the conversation holds more messages than were sent.
    pub truncated: bool,
}

/// Follows one conversation's handoffs message by message: a pause line starts a human segment
/// (the line itself belongs to it), a resume line ends it (and belongs to it too). The one rule
/// for transcripts and exports.
#[derive(Debug, Clone, Copy, Default)]
pub struct Handoffs {
    human: bool,
}

impl Handoffs {
    /// The segment of a message whose pause mark is `mark` (see [`pause_mark`]).
    pub fn segment_of(&mut self, mark: Option<bool>) -> Segment {
        let line = match mark {
            Some(true) => {
                self.human = true;
                true
            }
            Some(false) => std::mem::replace(&mut self.human, false),
            None => self.human,
        };
        if line {
            Segment::Human
        } else {
            Segment::Bot
        }
    }
}

/// Which segment every message of one conversation belongs to.
pub fn segments(messages: &[Message]) -> Vec<Segment> {
    let mut handoffs = Handoffs::default();
    messages
        .iter()
        .map(|m| handoffs.segment_of(pause_mark(m)))
        .collect()
}

/// `Some(true)` for a "Paused by …" line, `Some(false)` for "Resumed by …".
pub fn pause_mark(message: &Message) -> Option<bool> {
    match message.content() {
        Some(crate::model::Content::System { paused, .. }) => paused,
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handoff_lines_belong_to_the_human_segment_they_open_and_close() {
        let mut handoffs = Handoffs::default();
        let marks = [None, Some(true), None, Some(false), None, Some(false)];
        let seen: Vec<Segment> = marks.iter().map(|m| handoffs.segment_of(*m)).collect();
        use Segment::{Bot, Human};
        assert_eq!(seen, [Bot, Human, Human, Human, Bot, Bot]);
    }

    #[test]
    fn days_cover_their_whole_utc_day_and_instants_are_exact() {
        let (from, to) = time_range(Some("2026-03-01"), Some("2026-03-02")).unwrap();
        assert_eq!(from, Some(1_772_323_200_000));
        assert_eq!(to, Some(1_772_323_200_000 + 2 * 86_400_000));
        let (from, to) = time_range(Some("2026-03-01T10:00:00Z"), None).unwrap();
        assert_eq!(from, Some(1_772_323_200_000 + 10 * 3_600_000));
        assert_eq!(to, None);
        assert!(time_range(Some("yesterday"), None).is_err());
        assert_eq!(time_range(Some(" "), Some("")).unwrap(), (None, None));
    }

    #[test]
    fn snippets_split_where_matches_begin_and_end() {
        let parts = snippet_parts("a [hit] and [more]", '[', ']');
        let shown: Vec<(&str, bool)> = parts.iter().map(|p| (p.text.as_str(), p.hit)).collect();
        assert_eq!(
            shown,
            [
                ("a ", false),
                ("hit", true),
                (" and ", false),
                ("more", true)
            ]
        );
        assert!(snippet_parts("", '[', ']').is_empty());
    }

    fn hit(session_id: i64, message_id: i64) -> HistoryHit {
        HistoryHit {
            session_id,
            message_id,
            bot_id: "b".into(),
            channel: "api".into(),
            user_id: "u".into(),
            full_name: None,
            source: Source::User,
            author: None,
            snippet: String::new(),
            snippet_parts: Vec::new(),
            ts: DateTime::default(),
        }
    }

    #[test]
    fn hits_group_by_conversation_in_the_order_of_their_best_hit() {
        let groups = group_by_session(&[hit(2, 10), hit(1, 5), hit(2, 11)]);
        let ids: Vec<Vec<i64>> = groups
            .iter()
            .map(|g| g.iter().map(|h| h.message_id).collect())
            .collect();
        assert_eq!(ids, [vec![10, 11], vec![5]]);
    }
}
