//! Live fan-out: many subscribers on the events WebSocket while messages arrive at a steady rate;
//! the delay from each API call to its frame at every subscriber, and frames missed or repeated.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde::Serialize;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::server::Target;
use crate::stats::{Latency, Samples};
use crate::{BenchError, BOT};

/// The text that marks a benchmark message, followed by its number.
const MARK: &str = "fanout#";

#[derive(Debug, Clone, Serialize)]
pub struct FanOut {
    pub subscribers: usize,
    pub rate_per_sec: f64,
    pub messages: usize,
    pub delay: Latency,
    pub missed: usize,
    pub duplicated: usize,
    pub resyncs: usize,
    pub rss_mib_with_sockets: Option<f64>,
}

/// What one subscriber saw.
#[derive(Default)]
struct Seen {
    delays: Samples,
    missed: usize,
    duplicated: usize,
    resyncs: usize,
}

/// `subscribers` sockets spread over `groups` (one instance each, or one for all), messages
/// sent through `sender`; the figures of each group apart (the same instance as the sender, or
/// another one).
pub async fn run(
    groups: &[&Target],
    sender: &Target,
    subscribers: usize,
    rate: f64,
    duration: Duration,
) -> Result<Vec<FanOut>, BenchError> {
    let messages = ((rate * duration.as_secs_f64()).round() as usize).max(1);
    let sent: Arc<Vec<OnceLock<Instant>>> =
        Arc::new((0..messages).map(|_| OnceLock::new()).collect());
    let url = |target: &Target| {
        format!(
            "{}/api/v1/bots/{BOT}/mod/hitl/events?access_token={}",
            target.base.replacen("http://", "ws://", 1),
            target.token
        )
    };
    // Connect everyone first, a few at a time, each waiting for its first frame (`resync`).
    let mut sockets = Vec::with_capacity(subscribers);
    for chunk in (0..subscribers).collect::<Vec<_>>().chunks(50) {
        let opened = futures::future::join_all(chunk.iter().map(|i| {
            let group = i % groups.len();
            let url = url(groups[group]);
            async move {
                let (mut socket, _) =
                    tokio_tungstenite::connect_async_with_config(&url, Some(ws_config()), false)
                        .await
                        .map_err(|e| BenchError::Setup(format!("events socket: {e}")))?;
                match socket.next().await {
                    Some(Ok(WsMessage::Text(t))) if t.contains("\"resync\"") => Ok((group, socket)),
                    other => Err(BenchError::Setup(format!(
                        "events socket: expected a resync first, got {other:?}"
                    ))),
                }
            }
        }))
        .await;
        for s in opened {
            sockets.push(s?);
        }
    }
    let rss_with_sockets: Vec<Option<f64>> = groups.iter().map(|t| t.rss_mib()).collect();

    let mut readers = Vec::with_capacity(subscribers);
    for (group, mut socket) in sockets {
        let sent = sent.clone();
        readers.push(tokio::spawn(async move {
            let mut seen = Seen::default();
            let mut got = vec![false; sent.len()];
            let mut count = 0;
            let mut last_seq = 0i64;
            while count < got.len() {
                let Some(Ok(frame)) = socket.next().await else {
                    break;
                };
                let arrived = Instant::now();
                let WsMessage::Text(text) = frame else {
                    continue;
                };
                let text = text.as_str();
                // Who views what is said as it is now, with no `seq` of its own.
                if text.contains("\"type\":\"viewers\"") {
                    continue;
                }
                let seq = seq_of(text);
                if seq <= last_seq {
                    seen.duplicated += 1;
                    continue;
                }
                last_seq = seq;
                if text.contains("\"type\":\"resync\"") {
                    seen.resyncs += 1;
                    continue;
                }
                if let Some(n) = user_message_number(text).filter(|n| *n < got.len()) {
                    if got[n] {
                        seen.duplicated += 1;
                    } else {
                        got[n] = true;
                        count += 1;
                        if let Some(at) = sent[n].get() {
                            seen.delays.push(arrived.saturating_duration_since(*at));
                        }
                    }
                }
            }
            seen.missed = got.len() - count;
            let _ = socket.close(None).await;
            (group, seen)
        }));
    }

    // The steady sender: one message every 1/rate seconds, each to one of a few users.
    let client = reqwest::Client::new();
    let every = Duration::from_secs_f64(1.0 / rate);
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut calls = Vec::with_capacity(messages);
    for (n, slot) in sent.iter().enumerate() {
        tick.tick().await;
        let _ = slot.set(Instant::now());
        let request = client
            .post(format!(
                "{}/api/v1/bots/{BOT}/converse/fanout-{}",
                sender.base,
                n % 10
            ))
            .bearer_auth(&sender.token)
            .json(&serde_json::json!({ "type": "text", "text": format!("{MARK}{n}!") }))
            .send();
        calls.push(tokio::spawn(async move {
            match request.await {
                Ok(r) if r.status().is_success() => Ok(()),
                Ok(r) => Err(format!("converse answered {}", r.status())),
                Err(e) => Err(e.to_string()),
            }
        }));
    }
    for call in calls {
        call.await
            .expect("a sender task panicked")
            .map_err(BenchError::Load)?;
    }

    // Every subscriber ends when it has all the messages; one that never does is missing some.
    let mut totals: Vec<(usize, Seen)> = groups.iter().map(|_| (0, Seen::default())).collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    for (i, reader) in readers.into_iter().enumerate() {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, reader).await {
            Ok(seen) => {
                let (group, seen) = seen.expect("a subscriber panicked");
                let (count, total) = &mut totals[group];
                *count += 1;
                total.delays.extend(seen.delays);
                total.missed += seen.missed;
                total.duplicated += seen.duplicated;
                total.resyncs += seen.resyncs;
            }
            // Aborted on drop: counted as having missed everything it did not report.
            Err(_) => {
                let (count, total) = &mut totals[i % groups.len()];
                *count += 1;
                total.missed += messages;
            }
        }
    }
    Ok(totals
        .into_iter()
        .zip(rss_with_sockets)
        .map(|((subscribers, total), rss_mib_with_sockets)| FanOut {
            subscribers,
            rate_per_sec: rate,
            messages,
            delay: total.delays.summary(),
            missed: total.missed,
            duplicated: total.duplicated,
            resyncs: total.resyncs,
            rss_mib_with_sockets,
        })
        .collect())
}

/// A browser's socket does not zero a large buffer before each read; tungstenite's default
/// (128 KiB) would make the benchmark's 1,000 clients take CPU from the server they measure.
fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(16 * 1024)
}

/// The frame's `seq` (frames begin with it: `{"seq":12,...`).
fn seq_of(frame: &str) -> i64 {
    frame
        .strip_prefix("{\"seq\":")
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|digits| digits.parse().ok())
        .unwrap_or(0)
}

/// The benchmark number of a user's `message.created` frame.
fn user_message_number(frame: &str) -> Option<usize> {
    if !frame.contains("\"type\":\"message.created\"") || !frame.contains("\"source\":\"user\"") {
        return None;
    }
    let at = frame.find(MARK)? + MARK.len();
    frame[at..]
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_read_without_parsing_all_of_them() {
        let user = r#"{"seq":42,"type":"message.created","message":{"source":"user","text":"fanout#17!"}}"#;
        let bot = r#"{"seq":43,"type":"message.created","message":{"source":"bot","text":"You said: fanout#17!"}}"#;
        let update = r#"{"seq":44,"type":"session.updated","session":{"lastMessage":{"source":"user","text":"fanout#17!"}}}"#;
        assert_eq!(seq_of(user), 42);
        assert_eq!(user_message_number(user), Some(17));
        assert_eq!(user_message_number(bot), None);
        assert_eq!(user_message_number(update), None);
        assert_eq!(seq_of("{}"), 0);
    }
}
