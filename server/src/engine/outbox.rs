//! What leaves hitl. Which stored messages go out over which channel is decided here and queued
//! in the write of the message itself; the sender hands them to the channels after the commit,
//! retries with backoff and jitter (also after a restart), and tells the agents in the
//! conversation when a message could not be delivered.

use std::sync::Arc;
use std::time::Duration;

use app::model::{Content, Message, SessionOverview, Source};

use super::clock::{now_ms, Clock};
use super::{steps, Engine, Result};
use crate::channels::{Outboxes, SendError};
use crate::store::write::{apply, Change, DeliveryResult, NewDelivery, WriteTx};
use crate::store::{Delivery, Job};

/// Attempts before a message is given up (about forty minutes of retries).
pub const MAX_ATTEMPTS: u32 = 12;
const FIRST_WAIT_MS: f64 = 500.0;
const LONGEST_WAIT_MS: f64 = 10.0 * 60_000.0;
/// Deliveries taken per pass.
const BATCH: u32 = 100;
/// How often the sender looks for retries that came due.
const POLL: Duration = Duration::from_secs(1);

/// Queues a bot's or an agent's message for the user when the conversation's channel pushes.
pub(super) async fn queue(
    tx: &mut dyn WriteTx,
    outboxes: &Outboxes,
    session: &SessionOverview,
    message: &Message,
    content: &Content,
) -> crate::store::Result<()> {
    let for_the_user = matches!(message.source, Source::Bot | Source::Agent);
    if !for_the_user || outboxes.get(&session.bot_id, &session.channel).is_none() {
        return Ok(());
    }
    tx.enqueue_delivery(&NewDelivery {
        bot_id: &session.bot_id,
        channel: &session.channel,
        session_id: session.id,
        message_id: message.id,
        recipient: &session.user_id,
        content,
        at: message.ts.timestamp_millis(),
    })
    .await
}

/// The wait after `attempts` failed attempts: doubling from half a second up to ten minutes,
/// moved by `jitter` (a fraction in -0.2..0.2) so that retries of many messages spread out.
pub fn backoff_ms(attempts: u32, jitter: f64) -> i64 {
    let wait = FIRST_WAIT_MS * 2f64.powi(attempts.saturating_sub(1).min(20) as i32);
    (wait.min(LONGEST_WAIT_MS) * (1.0 + jitter)) as i64
}

/// What an attempt's outcome means for the delivery.
pub fn result_of(
    delivery: &Delivery,
    sent: Result<(), SendError>,
    now: i64,
    jitter: f64,
) -> DeliveryResult {
    let attempts = delivery.attempts + 1;
    match sent {
        Ok(()) => DeliveryResult::Sent { at: now },
        Err(SendError::Retry(error)) if attempts < MAX_ATTEMPTS => DeliveryResult::Retry {
            attempts,
            next: now + backoff_ms(attempts, jitter),
            error,
        },
        Err(SendError::Retry(error)) | Err(SendError::Refused(error)) => DeliveryResult::Failed {
            attempts,
            at: now,
            error,
        },
    }
}

impl Engine {
    /// Sends what is due now, one pass; answers how many deliveries were tried.
    pub async fn send_due(&self) -> Result<usize> {
        let due = self.store.due_deliveries(now_ms(), BATCH).await?;
        let outboxes = self.outboxes();
        for delivery in &due {
            let outbox = outboxes.get(&delivery.bot_id, &delivery.channel);
            let sent = match outbox {
                Some(outbox) => outbox.send(delivery).await,
                None => Err(SendError::Refused(format!(
                    "the bot has no {} channel any more",
                    delivery.channel
                ))),
            };
            if let Err(e) = &sent {
                tracing::warn!(delivery = delivery.id, error = %e, "a delivery failed");
            }
            let jitter = (rand::random::<f64>() - 0.5) * 0.4;
            let finish = FinishDelivery {
                result: result_of(delivery, sent, now_ms(), jitter),
                channel: outbox.map_or(delivery.channel.clone(), |o| o.label().to_string()),
                delivery: delivery.clone(),
            };
            apply(self.store(), finish).await?;
        }
        Ok(due.len())
    }

    /// Wakes the sender: something was queued.
    pub(super) fn wake_sender(&self) {
        self.sender_wake.notify_one();
    }
}

/// Records an attempt; a message given up is a line the agents see in the conversation.
struct FinishDelivery {
    delivery: Delivery,
    result: DeliveryResult,
    channel: String,
}

#[async_trait::async_trait]
impl Change for FinishDelivery {
    type Output = ();

    async fn apply(&self, tx: &mut dyn WriteTx) -> crate::store::Result<()> {
        tx.finish_delivery(self.delivery.id, &self.result).await?;
        let DeliveryResult::Failed { error, .. } = &self.result else {
            return Ok(());
        };
        // A conversation deleted meanwhile took its deliveries with it.
        if tx.session(self.delivery.session_id).await?.is_none() {
            return Ok(());
        }
        let text = format!(
            "A message could not be delivered over {}: {error}",
            self.channel
        );
        let at = Clock::start().tick();
        steps::system_line(tx, self.delivery.session_id, text, at).await?;
        Ok(())
    }
}

/// Sends due deliveries when woken and every second (for retries), until the server stops.
pub fn spawn_sender(
    engine: Arc<Engine>,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(POLL);
        loop {
            tokio::select! {
                _ = engine.sender_wake.notified() => {}
                _ = every.tick() => {}
                Ok(()) = stopping.changed() => return,
            }
            // With several instances, one sends: two would deliver each message twice.
            match engine.store().lead(Job::Outbox).await {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "could not tell whether this instance sends");
                    continue;
                }
            }
            loop {
                match engine.send_due().await {
                    Ok(n) if n == BATCH as usize => continue,
                    Ok(_) => break,
                    Err(e) => {
                        tracing::error!(error = %e, "the sender could not read the outbox");
                        break;
                    }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(attempts: u32) -> Delivery {
        Delivery {
            id: 1,
            bot_id: "b".into(),
            channel: "messenger".into(),
            session_id: 1,
            message_id: 1,
            recipient: "p".into(),
            content: Content::Text { text: "hi".into() },
            attempts,
        }
    }

    #[test]
    fn waits_double_up_to_ten_minutes_and_spread() {
        let waits: Vec<i64> = (1..=14).map(|n| backoff_ms(n, 0.0)).collect();
        assert_eq!(&waits[..4], [500, 1_000, 2_000, 4_000]);
        assert!(waits.windows(2).all(|w| w[0] <= w[1]), "{waits:?}");
        assert_eq!(*waits.last().unwrap(), 600_000);
        assert_eq!(backoff_ms(3, 0.2), 2_400);
        assert_eq!(backoff_ms(3, -0.2), 1_600);
    }

    #[test]
    fn a_refusal_gives_up_at_once_and_a_failure_after_the_last_attempt() {
        let refused = result_of(&delivery(0), Err(SendError::Refused("400".into())), 10, 0.0);
        assert!(matches!(
            refused,
            DeliveryResult::Failed { attempts: 1, .. }
        ));
        let retry = result_of(&delivery(0), Err(SendError::Retry("503".into())), 10, 0.0);
        assert_eq!(
            retry,
            DeliveryResult::Retry {
                attempts: 1,
                next: 510,
                error: "503".into()
            }
        );
        let last = result_of(
            &delivery(MAX_ATTEMPTS - 1),
            Err(SendError::Retry("503".into())),
            10,
            0.0,
        );
        assert!(matches!(last, DeliveryResult::Failed { .. }));
        assert_eq!(
            result_of(&delivery(3), Ok(()), 10, 0.0),
            DeliveryResult::Sent { at: 10 }
        );
    }
}
