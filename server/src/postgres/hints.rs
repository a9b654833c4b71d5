//! Hints between instances: after a commit, an instance tells the others which bot's log moved
//! (PostgreSQL's NOTIFY, sent on its own after the commit, never inside a writing transaction:
//! NOTIFY takes a lock for the whole cluster until its transaction commits), so that they catch
//! up at once rather than at their next poll. A hint carries no events and may be lost (a
//! listener that was reconnecting misses it): the log's poll finds what it would have said.

use std::collections::BTreeSet;
use std::sync::Weak;
use std::time::Duration;

use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::{mpsc, watch};

use crate::store::Result;

/// The channel the instances of one database hint on.
pub const CHANNEL: &str = "hitl_events";
/// The listener's `application_name`, to tell its connection apart (tests cut it to show the
/// poll covers a lost hint).
pub const LISTENER_NAME: &str = "hitl-hints";
/// How long a listener that could not connect waits before it tries again.
const RETRY: Duration = Duration::from_secs(1);

/// What a hint makes an instance do: catch up on one bot's log, or on all of them.
#[async_trait::async_trait]
pub trait Follower: Send + Sync + 'static {
    async fn follow(&self, bot_id: &str) -> Result<()>;
    async fn poll(&self) -> Result<()>;
}

/// This instance's side of the hints.
pub struct Hints {
    moved: mpsc::UnboundedSender<String>,
}

impl Hints {
    /// Starts the sender and the listener; both stop with `stopped`.
    pub fn start(pool: PgPool, log: Weak<dyn Follower>, stopped: watch::Receiver<bool>) -> Hints {
        // Hints of this instance come back to it too; its own commits are published already.
        let instance = format!("{:016x}", rand::random::<u64>());
        let (moved, pending) = mpsc::unbounded_channel();
        tokio::spawn(send(
            pool.clone(),
            instance.clone(),
            pending,
            stopped.clone(),
        ));
        tokio::spawn(listen(pool, instance, log, stopped));
        Hints { moved }
    }

    /// The bot's log moved by a commit of this instance.
    pub fn moved(&self, bot_id: &str) {
        let _ = self.moved.send(bot_id.to_string());
    }
}

/// Sends one hint per bot for what has piled up since the last one.
async fn send(
    pool: PgPool,
    instance: String,
    mut pending: mpsc::UnboundedReceiver<String>,
    mut stopped: watch::Receiver<bool>,
) {
    loop {
        let first = tokio::select! {
            bot = pending.recv() => bot,
            _ = stopped.changed() => return,
        };
        let Some(first) = first else {
            return;
        };
        let mut bots = BTreeSet::from([first]);
        while let Ok(bot) = pending.try_recv() {
            bots.insert(bot);
        }
        for bot in bots {
            // Its own transaction, not waiting for the disk: the cluster-wide notify lock is
            // held for an instant, and a hint lost in a crash is the poll's to make up.
            let sent = sqlx::query(
                "select set_config('synchronous_commit', 'off', true), pg_notify($1, $2)",
            )
            .bind(CHANNEL)
            .bind(format!("{instance} {bot}"))
            .execute(&pool)
            .await;
            if let Err(e) = sent {
                tracing::debug!(error = %e, "a hint was not sent; the poll makes up for it");
            }
        }
    }
}

/// Follows the other instances' hints, reconnecting when the connection is lost (and then
/// catching up on everything, as hints may have been missed meanwhile).
async fn listen(
    pool: PgPool,
    instance: String,
    log: Weak<dyn Follower>,
    mut stopped: watch::Receiver<bool>,
) {
    loop {
        let listener = tokio::select! {
            listener = connect(&pool) => listener,
            _ = stopped.changed() => return,
        };
        let mut listener = match listener {
            Ok(listener) => listener,
            Err(e) => {
                tracing::debug!(error = %e, "the hints listener could not connect");
                tokio::select! {
                    _ = tokio::time::sleep(RETRY) => continue,
                    _ = stopped.changed() => return,
                }
            }
        };
        let Some(followed) = log.upgrade() else {
            return;
        };
        if let Err(e) = followed.poll().await {
            tracing::warn!(error = %e, "catching up the event log failed");
        }
        drop(followed);
        loop {
            let hint = tokio::select! {
                hint = listener.try_recv() => hint,
                _ = stopped.changed() => return,
            };
            // `None`: the connection was lost; a new one, named again, then a catch-up.
            let Ok(Some(hint)) = hint else {
                break;
            };
            let Some((from, bot_id)) = hint.payload().split_once(' ') else {
                continue;
            };
            if from == instance {
                continue;
            }
            let Some(followed) = log.upgrade() else {
                return;
            };
            if let Err(e) = followed.follow(bot_id).await {
                tracing::warn!(error = %e, bot_id, "following a hint failed; the poll will");
            }
        }
    }
}

async fn connect(pool: &PgPool) -> sqlx::Result<PgListener> {
    let mut listener = PgListener::connect_with(pool).await?;
    sqlx::query(&format!("set application_name = '{LISTENER_NAME}'"))
        .execute(&mut listener)
        .await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}
