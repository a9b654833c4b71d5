//! The handoff figures of a bot over whole UTC days, made from what the store counted: which
//! days there are, which reply counts as the first one, and who gave a conversation back.

use std::collections::BTreeMap;

use app::analytics::{Analytics, DayFigures, ReturnedBy, SourceCounts, Spread};
use chrono::NaiveDate;

use crate::store::history::{ActivityFacts, DayNumber};

const DAY_MS: i64 = 86_400_000;

/// The unix milliseconds at the start of `day`.
pub fn start_ms(day: NaiveDate) -> i64 {
    day.and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc()
        .timestamp_millis()
}

/// The unix milliseconds the range `from`..=`to` covers: the start of `from` up to the start of
/// the day after `to`.
pub fn range_ms(from: NaiveDate, to: NaiveDate) -> (i64, i64) {
    (start_ms(from), start_ms(to) + DAY_MS)
}

pub fn figures(bot_id: &str, from: NaiveDate, to: NaiveDate, facts: ActivityFacts) -> Analytics {
    // Every day of the range has its row, with or without activity.
    let mut days: BTreeMap<DayNumber, DayFigures> = BTreeMap::new();
    let mut day = from;
    while day <= to {
        let empty = DayFigures {
            day,
            conversations: 0,
            messages: SourceCounts::default(),
            handoffs: 0,
        };
        days.insert(start_ms(day) / DAY_MS, empty);
        match day.succ_opt() {
            Some(next) => day = next,
            None => break,
        }
    }

    let mut messages = SourceCounts::default();
    for (index, source, n) in facts.messages {
        messages.add(source.as_str(), n);
        if let Some(d) = days.get_mut(&index) {
            d.messages.add(source.as_str(), n);
        }
    }
    for (index, n) in facts.conversations_per_day {
        if let Some(d) = days.get_mut(&index) {
            d.conversations = n;
        }
    }

    let mut first_replies = Vec::new();
    let mut durations = Vec::new();
    let mut returned_by = ReturnedBy::default();
    for h in &facts.handoffs {
        if let Some(d) = days.get_mut(&(h.paused_at / DAY_MS)) {
            d.handoffs += 1;
        }
        // An agent's message after the conversation went back to the bot answers a later
        // handoff, not this one.
        let first_reply = match (h.first_agent_message, h.resumed) {
            (Some(reply), Some((resumed, _))) => (reply <= resumed).then_some(reply),
            (reply, None) => reply,
            (None, Some(_)) => None,
        };
        if let Some(reply) = first_reply {
            first_replies.push((reply - h.paused_at) as f64 / 1000.0);
        }
        if let Some((resumed, _)) = h.resumed {
            durations.push((resumed - h.paused_at) as f64 / 1000.0);
        }
        returned_by.add(h.resumed.map(|(_, kind)| kind));
    }
    Analytics {
        bot_id: bot_id.to_string(),
        from,
        to,
        days: days.into_values().collect(),
        conversations: facts.conversations,
        messages,
        handoffs: facts.handoffs.len() as i64,
        first_reply: Spread::of(first_replies),
        handoff_duration: Spread::of(durations),
        returned_by,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::history::HandoffFacts;
    use app::model::{ActorKind, Source};

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_reply_after_the_return_is_not_the_handoffs_first_reply() {
        let (from, to) = (day("2026-11-01"), day("2026-11-02"));
        let start = start_ms(from);
        let facts = ActivityFacts {
            messages: vec![
                (start / DAY_MS, Source::User, 3),
                (start / DAY_MS + 1, Source::Agent, 2),
            ],
            conversations_per_day: vec![(start / DAY_MS, 2)],
            conversations: 2,
            handoffs: vec![
                HandoffFacts {
                    paused_at: start + 1_000,
                    first_agent_message: Some(start + 61_000),
                    resumed: Some((start + 121_000, Some(ActorKind::Agent))),
                },
                HandoffFacts {
                    paused_at: start + 2_000,
                    first_agent_message: Some(start + 500_000),
                    resumed: Some((start + 10_000, Some(ActorKind::User))),
                },
                HandoffFacts {
                    paused_at: start + DAY_MS,
                    first_agent_message: None,
                    resumed: None,
                },
            ],
        };
        let a = figures("b", from, to, facts);
        assert_eq!(a.days.len(), 2);
        assert_eq!((a.days[0].handoffs, a.days[1].handoffs), (2, 1));
        assert_eq!((a.days[0].messages.user, a.days[1].messages.agent), (3, 2));
        assert_eq!(a.days[0].conversations, 2);
        assert_eq!(
            a.first_reply.count, 1,
            "only the reply before its return counts"
        );
        assert_eq!(a.first_reply.median_seconds, Some(60.0));
        assert_eq!(a.handoff_duration.count, 2);
        let r = a.returned_by;
        assert_eq!((r.agent, r.user, r.still_paused), (1, 1, 1));
    }

    #[test]
    fn a_range_of_one_day_has_one_row() {
        let d = day("2026-02-28");
        let a = figures("b", d, d, ActivityFacts::default());
        assert_eq!(a.days.len(), 1);
        assert_eq!(a.days[0].day, d);
        assert_eq!(range_ms(d, d).1 - range_ms(d, d).0, DAY_MS);
    }
}
