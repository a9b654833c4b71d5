//! Handoff analytics of one bot over a range of days: the figures (as the REST API and the
//! analytics page show them) and the arithmetic behind them.

use chrono::NaiveDate;

use crate::model::ActorKind;
use serde::{Deserialize, Serialize};

/// Messages by who wrote them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceCounts {
    pub user: i64,
    pub bot: i64,
    pub agent: i64,
    pub system: i64,
}

impl SourceCounts {
    pub fn add(&mut self, source: &str, n: i64) {
        match source {
            "user" => self.user += n,
            "bot" => self.bot += n,
            "agent" => self.agent += n,
            _ => self.system += n,
        }
    }

    pub fn total(&self) -> i64 {
        self.user + self.bot + self.agent + self.system
    }
}

/// One UTC day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DayFigures {
    pub day: NaiveDate,
    /// Conversations with at least one message that day.
    pub conversations: i64,
    pub messages: SourceCounts,
    /// Conversations handed to a human that day.
    pub handoffs: i64,
}

/// How long something took, over many cases, in seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Spread {
    pub count: usize,
    pub median_seconds: Option<f64>,
    pub p90_seconds: Option<f64>,
}

impl Spread {
    /// The median (the mean of the two middle values for an even count) and the 90th
    /// percentile (nearest rank) of `seconds`.
    pub fn of(mut seconds: Vec<f64>) -> Spread {
        if seconds.is_empty() {
            return Spread::default();
        }
        seconds.sort_by(f64::total_cmp);
        let n = seconds.len();
        let median = if n % 2 == 1 {
            seconds[n / 2]
        } else {
            (seconds[n / 2 - 1] + seconds[n / 2]) / 2.0
        };
        let rank = (0.9 * n as f64).ceil() as usize;
        Spread {
            count: n,
            median_seconds: Some(median),
            p90_seconds: Some(seconds[rank.clamp(1, n) - 1]),
        }
    }
}

/// Who gave handed-over conversations back to the bot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnedBy {
    /// The user (their "cancel" reached the bot's rules).
    pub user: i64,
    /// A person in the console.
    pub agent: i64,
    /// A script with an API token (kind `token`; the field keeps its older name).
    pub api: i64,
    /// The bot or hitl itself.
    pub other: i64,
    /// Not handed back (yet).
    pub still_paused: i64,
}

impl ReturnedBy {
    /// Counts one handoff: returned by `kind`'s party, `Some(None)` by one of no known kind,
    /// or `None` when still paused.
    pub fn add(&mut self, returned: Option<Option<ActorKind>>) {
        match returned {
            Some(Some(ActorKind::User)) => self.user += 1,
            Some(Some(ActorKind::Agent)) => self.agent += 1,
            Some(Some(ActorKind::Token)) => self.api += 1,
            Some(_) => self.other += 1,
            None => self.still_paused += 1,
        }
    }

    pub fn returned(&self) -> i64 {
        self.user + self.agent + self.api + self.other
    }

    /// The part of the returned handoffs `n` is, from 0 to 1.
    pub fn share(&self, n: i64) -> f64 {
        match self.returned() {
            0 => 0.0,
            all => n as f64 / all as f64,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Analytics {
    pub bot_id: String,
    /// The first and the last day covered (UTC).
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub days: Vec<DayFigures>,
    /// Conversations with a message in the range.
    pub conversations: i64,
    pub messages: SourceCounts,
    pub handoffs: i64,
    /// From a handoff to the first agent reply in it.
    pub first_reply: Spread,
    /// From a handoff to its return to the bot (returned ones only).
    pub handoff_duration: Spread,
    pub returned_by: ReturnedBy,
    /// From queueing to being given to an agent (the last time, for one handed on).
    #[serde(default)]
    pub queue_time: Spread,
    /// From being given to an agent to that agent's first message.
    #[serde(default)]
    pub first_reply_after_assignment: Spread,
    /// Handoffs by the agent who (last) owned them, most first.
    #[serde(default)]
    pub per_agent: Vec<AgentFigures>,
    /// Closed handoffs by why, most first (`returned_to_bot`, `resolved`, `inactivity`, …).
    #[serde(default)]
    pub close_reasons: Vec<ReasonCount>,
}

/// One agent's handoffs in the range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentFigures {
    pub user_id: i64,
    pub name: String,
    pub handoffs: i64,
    /// From being given it to their first message.
    pub first_reply: Spread,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasonCount {
    pub reason: String,
    pub count: i64,
}

/// The longest range one request may cover.
pub const MAX_DAYS: i64 = 366;

/// The range an analytics request covers: `to` defaults to today and `from` to 29 days before
/// it; both are whole UTC days.
pub fn day_range(
    from: Option<&str>,
    to: Option<&str>,
    today: NaiveDate,
) -> Result<(NaiveDate, NaiveDate), String> {
    let parse = |v: &str| {
        NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
            .map_err(|_| format!("{v:?} is not a day (YYYY-MM-DD)"))
    };
    let to = match to.filter(|v| !v.trim().is_empty()) {
        Some(v) => parse(v)?,
        None => today,
    };
    let from = match from.filter(|v| !v.trim().is_empty()) {
        Some(v) => parse(v)?,
        None => to - chrono::Duration::days(29),
    };
    if from > to {
        return Err("`from` is after `to`".into());
    }
    if (to - from).num_days() >= MAX_DAYS {
        return Err(format!("at most {MAX_DAYS} days at once"));
    }
    Ok((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_ninetieth_percentiles_are_exact() {
        let s = Spread::of(vec![30.0, 10.0, 20.0]);
        assert_eq!(
            (s.count, s.median_seconds, s.p90_seconds),
            (3, Some(20.0), Some(30.0))
        );
        let s = Spread::of(vec![4.0, 1.0, 3.0, 2.0]);
        assert_eq!(s.median_seconds, Some(2.5));
        let s = Spread::of((1..=10).map(f64::from).collect());
        assert_eq!(s.p90_seconds, Some(9.0));
        let s = Spread::of((1..=11).map(f64::from).collect());
        assert_eq!(s.p90_seconds, Some(10.0));
        assert_eq!(Spread::of(vec![]), Spread::default());
    }

    #[test]
    fn a_range_is_whole_days_and_bounded() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let (from, to) = day_range(None, None, today).unwrap();
        assert_eq!(
            (from.to_string(), to.to_string()),
            ("2026-11-02".into(), "2026-12-01".into())
        );
        let (from, to) = day_range(Some("2026-01-01"), Some("2026-01-01"), today).unwrap();
        assert_eq!(from, to);
        assert!(day_range(Some("2026-02-01"), Some("2026-01-01"), today).is_err());
        assert!(day_range(Some("2020-01-01"), Some("2026-01-01"), today).is_err());
        assert!(day_range(Some("monday"), None, today).is_err());
    }

    #[test]
    fn shares_are_of_the_returned_handoffs() {
        let mut r = ReturnedBy::default();
        let kinds = [
            Some(Some(ActorKind::User)),
            Some(Some(ActorKind::User)),
            Some(Some(ActorKind::Agent)),
            Some(Some(ActorKind::Token)),
            None,
        ];
        for kind in kinds {
            r.add(kind);
        }
        assert_eq!(r.returned(), 4);
        assert_eq!(r.share(r.user), 0.5);
        assert_eq!(r.still_paused, 1);
    }
}
