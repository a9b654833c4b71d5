//! Plain functions the console uses to show times and group messages.

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use crate::model::Message;

/// "now", "5 min", "3 h", "yesterday", "4 d", or the date: short enough for a list row.
pub fn relative_time(now: DateTime<Utc>, then: DateTime<Utc>) -> String {
    let seconds = (now - then).num_seconds().max(0);
    match seconds {
        0..=44 => "now".into(),
        45..=3_599 => format!("{} min", (seconds + 30) / 60),
        3_600..=86_399 => format!("{} h", seconds / 3_600),
        _ => {
            let days = (now.date_naive() - then.date_naive()).num_days();
            match days {
                ..=1 => "yesterday".into(),
                2..=6 => format!("{days} d"),
                _ if then.year() == now.year() => then.format("%b %-d").to_string(),
                _ => then.format("%b %-d, %Y").to_string(),
            }
        }
    }
}

/// A duration in words, for "paused for 12 min".
pub fn duration_words(now: DateTime<Utc>, since: DateTime<Utc>) -> String {
    let minutes = (now - since).num_minutes().max(0);
    match minutes {
        0 => "less than a minute".into(),
        1..=59 => format!("{minutes} min"),
        60..=1_439 => format!("{} h {} min", minutes / 60, minutes % 60),
        _ => format!("{} d", minutes / 1_440),
    }
}

/// A waiting time as a clock, for "Queued 03:12": minutes and seconds, hours when it came to
/// that.
pub fn stopwatch(now: DateTime<Utc>, since: DateTime<Utc>) -> String {
    let seconds = (now - since).num_seconds().max(0);
    let (h, m, s) = (seconds / 3_600, seconds / 60 % 60, seconds % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m:02}:{s:02}")
    }
}

/// The agent's local midnight before `now`, as a time.
pub fn local_midnight(now: DateTime<Utc>, offset_minutes: i32) -> DateTime<Utc> {
    let offset = chrono::Duration::minutes(offset_minutes as i64);
    crate::model::start_of_day(now + offset) - offset
}

/// "Bea", "Ann and Bea", "Ann, Bea and Cy".
pub fn names_list(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The heading of a day of messages: "Today", "Yesterday", or the date.
pub fn day_label(today: NaiveDate, day: NaiveDate) -> String {
    match (today - day).num_days() {
        0 => "Today".into(),
        1 => "Yesterday".into(),
        _ if day.year() == today.year() => day.format("%A, %B %-d").to_string(),
        _ => day.format("%B %-d, %Y").to_string(),
    }
}

/// Consecutive messages of the same (UTC) day, in order.
pub fn group_by_day(messages: &[Message]) -> Vec<(NaiveDate, Vec<Message>)> {
    let mut days: Vec<(NaiveDate, Vec<Message>)> = Vec::new();
    for m in messages {
        let day = m.ts.date_naive();
        match days.last_mut() {
            Some((d, list)) if *d == day => list.push(m.clone()),
            _ => days.push((day, vec![m.clone()])),
        }
    }
    days
}

/// A piece of message text: plain, or an http(s) address to show as a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Text(String),
    Link(String),
}

/// Splits text into plain parts and http(s) links. Nothing else becomes a link, and trailing
/// punctuation stays outside the link ("see https://x.org." links "https://x.org").
pub fn linkify(text: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = find_link_start(rest) {
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"'))
            .unwrap_or(tail.len());
        let link = tail[..end].trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '\'']);
        let after_scheme = link.split_once("://").map(|(_, r)| r).unwrap_or("");
        if after_scheme.is_empty() {
            out.push(Segment::Text(rest[..start + link.len().max(1)].to_string()));
            rest = &rest[start + link.len().max(1)..];
            continue;
        }
        if start > 0 {
            out.push(Segment::Text(rest[..start].to_string()));
        }
        out.push(Segment::Link(link.to_string()));
        rest = &rest[start + link.len()..];
    }
    if !rest.is_empty() {
        out.push(Segment::Text(rest.to_string()));
    }
    merge_text(out)
}

fn find_link_start(s: &str) -> Option<usize> {
    let lower = s.to_ascii_lowercase();
    [lower.find("https://"), lower.find("http://")]
        .into_iter()
        .flatten()
        .min()
}

fn merge_text(segments: Vec<Segment>) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::with_capacity(segments.len());
    for s in segments {
        match (out.last_mut(), s) {
            (Some(Segment::Text(a)), Segment::Text(b)) => a.push_str(&b),
            (_, s) => out.push(s),
        }
    }
    out
}

/// Escapes a value for a query string (bot ids are simple, but nothing is assumed).
pub fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_listed_with_and() {
        let names = |n: &[&str]| names_list(&n.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(names(&[]), "");
        assert_eq!(names(&["Bea"]), "Bea");
        assert_eq!(names(&["Ann", "Bea", "Cy"]), "Ann, Bea and Cy");
    }

    #[test]
    fn local_midnight_is_the_agents_day_start() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-02T01:30:00Z")
            .unwrap()
            .to_utc();
        // Two hours east of UTC it is 03:30 on the 2nd: the day began at 22:00 UTC on the 1st.
        assert_eq!(
            local_midnight(now, 120).to_rfc3339(),
            "2026-12-01T22:00:00+00:00"
        );
        // Five hours west it is still the 1st (20:30): that day began at 05:00 UTC on the 1st.
        assert_eq!(
            local_midnight(now, -300).to_rfc3339(),
            "2026-12-01T05:00:00+00:00"
        );
    }

    #[test]
    fn a_stopwatch_counts_minutes_and_seconds_then_hours() {
        let at = DateTime::from_timestamp(1_000_000, 0).unwrap();
        let after = |s: i64| at + chrono::Duration::seconds(s);
        assert_eq!(stopwatch(after(0), at), "00:00");
        assert_eq!(stopwatch(after(192), at), "03:12");
        assert_eq!(stopwatch(after(3_600 + 65), at), "1:01:05");
        // A clock a little behind the server's shows no negative time.
        assert_eq!(stopwatch(at, after(3)), "00:00");
    }

    #[test]
    fn url_escape_keeps_safe_characters_only() {
        assert_eq!(url_escape("welcome-bot"), "welcome-bot");
        assert_eq!(url_escape("a b&c"), "a%20b%26c");
    }
    use chrono::TimeZone;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
    }

    fn message(id: i64, ts: DateTime<Utc>) -> Message {
        crate::model::fixtures::message(id, 1, ts)
    }

    #[test]
    fn relative_time_reads_like_a_list_row() {
        let now = at(2026, 11, 22, 12, 0, 0);
        assert_eq!(relative_time(now, at(2026, 11, 22, 11, 59, 30)), "now");
        assert_eq!(relative_time(now, at(2026, 11, 22, 11, 55, 0)), "5 min");
        assert_eq!(relative_time(now, at(2026, 11, 22, 9, 0, 0)), "3 h");
        assert_eq!(relative_time(now, at(2026, 11, 21, 8, 0, 0)), "yesterday");
        assert_eq!(relative_time(now, at(2026, 11, 18, 8, 0, 0)), "4 d");
        assert_eq!(relative_time(now, at(2026, 3, 3, 8, 0, 0)), "Mar 3");
        assert_eq!(relative_time(now, at(2025, 3, 3, 8, 0, 0)), "Mar 3, 2025");
        assert_eq!(
            relative_time(now, at(2026, 11, 22, 12, 5, 0)),
            "now",
            "clock skew is not negative"
        );
    }

    #[test]
    fn durations_are_in_minutes_hours_or_days() {
        let now = at(2026, 11, 22, 12, 0, 0);
        assert_eq!(
            duration_words(now, at(2026, 11, 22, 11, 59, 50)),
            "less than a minute"
        );
        assert_eq!(duration_words(now, at(2026, 11, 22, 11, 48, 0)), "12 min");
        assert_eq!(
            duration_words(now, at(2026, 11, 22, 9, 30, 0)),
            "2 h 30 min"
        );
        assert_eq!(duration_words(now, at(2026, 11, 19, 12, 0, 0)), "3 d");
    }

    #[test]
    fn day_labels_name_today_and_yesterday() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        assert_eq!(day_label(today, today), "Today");
        assert_eq!(day_label(today, today.pred_opt().unwrap()), "Yesterday");
        assert_eq!(
            day_label(today, NaiveDate::from_ymd_opt(2026, 11, 2).unwrap()),
            "Monday, November 2"
        );
        assert_eq!(
            day_label(today, NaiveDate::from_ymd_opt(2025, 1, 9).unwrap()),
            "January 9, 2025"
        );
    }

    #[test]
    fn messages_are_grouped_by_consecutive_day() {
        let list = vec![
            message(1, at(2026, 11, 20, 23, 0, 0)),
            message(2, at(2026, 11, 21, 1, 0, 0)),
            message(3, at(2026, 11, 21, 9, 0, 0)),
            message(4, at(2026, 11, 22, 9, 0, 0)),
        ];
        let days = group_by_day(&list);
        let shape: Vec<(u32, Vec<i64>)> = days
            .iter()
            .map(|(d, ms)| (d.day(), ms.iter().map(|m| m.id).collect()))
            .collect();
        assert_eq!(shape, vec![(20, vec![1]), (21, vec![2, 3]), (22, vec![4])]);
    }

    #[test]
    fn links_are_found_in_text_without_trailing_punctuation() {
        use Segment::*;
        assert_eq!(
            linkify("see https://example.com/a?b=1. and http://x.org"),
            vec![
                Text("see ".into()),
                Link("https://example.com/a?b=1".into()),
                Text(". and ".into()),
                Link("http://x.org".into()),
            ]
        );
        assert_eq!(linkify("no links here"), vec![Text("no links here".into())]);
        assert_eq!(
            linkify("javascript:alert(1)"),
            vec![Text("javascript:alert(1)".into())]
        );
        assert_eq!(
            linkify("(https://a.b)"),
            vec![
                Text("(".into()),
                Link("https://a.b".into()),
                Text(")".into())
            ]
        );
        assert_eq!(
            linkify("https:// alone"),
            vec![Text("https:// alone".into())]
        );
    }
}
