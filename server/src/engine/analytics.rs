//! The handoff figures of a bot over whole UTC days, made from what the store counted: which
//! days there are, which reply counts as the first one, and who gave a conversation back.

use std::collections::BTreeMap;

use app::analytics::{
    AgentFigures, Analytics, DayFigures, ReasonCount, ReturnedBy, SourceCounts, Spread,
};
use chrono::NaiveDate;

use crate::store::history::{ActivityFacts, DayNumber, OwnedFacts};

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
    let owned = owned_figures(&facts.owned);
    Analytics {
        queue_time: owned.queue_time,
        first_reply_after_assignment: owned.first_reply,
        per_agent: owned.per_agent,
        close_reasons: owned.close_reasons,
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

/// The figures of handoffs as owned.
struct Owned {
    queue_time: Spread,
    first_reply: Spread,
    per_agent: Vec<AgentFigures>,
    close_reasons: Vec<ReasonCount>,
}

fn owned_figures(handoffs: &[OwnedFacts]) -> Owned {
    let seconds = |from: i64, to: i64| (to - from) as f64 / 1000.0;
    let mut queue_times = Vec::new();
    let mut first_replies = Vec::new();
    // Per agent: name, handoffs, first replies.
    let mut agents: BTreeMap<i64, (String, i64, Vec<f64>)> = BTreeMap::new();
    let mut reasons: BTreeMap<&str, i64> = BTreeMap::new();
    for h in handoffs {
        let reply = h
            .assigned_at
            .zip(h.first_reply)
            .map(|(given, reply)| seconds(given, reply));
        if let Some(given) = h.assigned_at {
            queue_times.push(seconds(h.queued_at, given));
        }
        first_replies.extend(reply);
        if let Some((id, name)) = &h.assignee {
            let agent = agents
                .entry(*id)
                .or_insert_with(|| (name.clone(), 0, Vec::new()));
            agent.1 += 1;
            agent.2.extend(reply);
        }
        if let Some(reason) = &h.close_reason {
            *reasons.entry(reason.as_str()).or_default() += 1;
        }
    }
    let mut per_agent: Vec<AgentFigures> = agents
        .into_iter()
        .map(|(user_id, (name, handoffs, replies))| AgentFigures {
            user_id,
            name,
            handoffs,
            first_reply: Spread::of(replies),
        })
        .collect();
    per_agent.sort_by(|a, b| b.handoffs.cmp(&a.handoffs).then(a.name.cmp(&b.name)));
    let mut close_reasons: Vec<ReasonCount> = reasons
        .into_iter()
        .map(|(reason, count)| ReasonCount {
            reason: reason.to_string(),
            count,
        })
        .collect();
    close_reasons.sort_by(|a, b| b.count.cmp(&a.count).then(a.reason.cmp(&b.reason)));
    Owned {
        queue_time: Spread::of(queue_times),
        first_reply: Spread::of(first_replies),
        per_agent,
        close_reasons,
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
            owned: Vec::new(),
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
    fn owned_handoffs_give_queue_times_first_replies_per_agent_and_close_reasons() {
        let owned = |queued: i64,
                     given: Option<i64>,
                     who: Option<(i64, &str)>,
                     reply: Option<i64>,
                     why: Option<&str>| OwnedFacts {
            queued_at: queued,
            assigned_at: given,
            assignee: who.map(|(id, name)| (id, name.to_string())),
            first_reply: reply,
            close_reason: why.map(str::to_string),
        };
        let facts = ActivityFacts {
            owned: vec![
                owned(
                    0,
                    Some(10_000),
                    Some((1, "Bea")),
                    Some(40_000),
                    Some("resolved"),
                ),
                owned(0, Some(30_000), Some((2, "Ann")), None, Some("inactivity")),
                owned(
                    0,
                    Some(20_000),
                    Some((1, "Bea")),
                    Some(25_000),
                    Some("resolved"),
                ),
                owned(0, None, None, None, Some("queue_timeout")),
                owned(0, None, None, None, None),
            ],
            ..ActivityFacts::default()
        };
        let d = day("2026-11-01");
        let a = figures("b", d, d, facts);
        assert_eq!(
            (
                a.queue_time.count,
                a.queue_time.median_seconds,
                a.queue_time.p90_seconds
            ),
            (3, Some(20.0), Some(30.0))
        );
        assert_eq!(a.first_reply_after_assignment.count, 2);
        assert_eq!(a.first_reply_after_assignment.median_seconds, Some(17.5));
        let agents: Vec<(&str, i64, usize)> = a
            .per_agent
            .iter()
            .map(|g| (g.name.as_str(), g.handoffs, g.first_reply.count))
            .collect();
        assert_eq!(agents, [("Bea", 2, 2), ("Ann", 1, 0)]);
        let reasons: Vec<(&str, i64)> = a
            .close_reasons
            .iter()
            .map(|r| (r.reason.as_str(), r.count))
            .collect();
        assert_eq!(
            reasons,
            [("resolved", 2), ("inactivity", 1), ("queue_timeout", 1)]
        );
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
