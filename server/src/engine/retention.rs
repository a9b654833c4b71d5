//! Retention: each bot may keep its conversations only so many days after their last activity.
//! A background task applies it; every deletion goes through the engine and the audit log.

use std::sync::Arc;
use std::time::Duration;

use app::model::{Actor, ActorKind};

use super::clock::now_ms;
use super::{Engine, EngineError, Result};
use crate::store::accounts::AuditEntry;
use crate::store::write::{apply, Change, WriteTx};
use crate::store::Job;

/// Who the audit log names for what retention deletes.
fn retention_actor() -> Actor {
    Actor::new(ActorKind::Retention, None, "retention")
}

/// The longest retention accepted (about 100 years).
pub const MAX_RETENTION_DAYS: u32 = 36_500;

const BATCH: u32 = 500;
const DAY_MS: i64 = 86_400_000;

impl Engine {
    pub async fn retention_days(&self, bot_id: &str) -> Result<Option<u32>> {
        self.bot(bot_id)?;
        Ok(self.store.retention_days(bot_id).await?)
    }

    pub async fn set_retention_days(
        &self,
        bot_id: &str,
        days: Option<u32>,
        actor: &Actor,
    ) -> Result<()> {
        self.bot(bot_id)?;
        if let Some(d) = days {
            if d == 0 || d > MAX_RETENTION_DAYS {
                return Err(EngineError::Invalid(format!(
                    "retention must be between 1 and {MAX_RETENTION_DAYS} days"
                )));
            }
        }
        let change = SetRetention {
            bot_id: bot_id.to_string(),
            days,
            actor: actor.clone(),
        };
        Ok(apply(self.store(), change).await?)
    }

    /// Deletes every conversation idle for longer than its bot keeps them, as of `now_ms`;
    /// answers how many went.
    pub async fn apply_retention(&self, now_ms: i64) -> Result<usize> {
        let mut deleted = 0;
        for bot_id in self.bot_ids() {
            let Some(days) = self.store.retention_days(&bot_id).await? else {
                continue;
            };
            let cutoff = now_ms - i64::from(days) * DAY_MS;
            loop {
                let ids = self
                    .store
                    .sessions_idle_since(&bot_id, cutoff, BATCH)
                    .await?;
                for id in &ids {
                    match self.delete_session(&bot_id, *id, &retention_actor()).await {
                        // Deleted by someone else meanwhile.
                        Ok(()) | Err(EngineError::NotFound(_)) => deleted += 1,
                        Err(e) => return Err(e),
                    }
                }
                if ids.len() < BATCH as usize {
                    break;
                }
            }
        }
        if deleted > 0 {
            tracing::info!(deleted, "retention deleted old conversations");
        }
        Ok(deleted)
    }
}

struct SetRetention {
    bot_id: String,
    days: Option<u32>,
    actor: Actor,
}

#[async_trait::async_trait]
impl Change for SetRetention {
    type Output = ();

    async fn apply(&self, tx: &mut dyn WriteTx) -> crate::store::Result<()> {
        tx.set_retention_days(&self.bot_id, self.days).await?;
        let detail = match self.days {
            Some(d) => format!("retention: {d} days"),
            None => "retention: keep for ever".into(),
        };
        let audit = AuditEntry::about_bot(&self.actor, "setting.changed", &self.bot_id, detail);
        tx.append_audit(&audit, now_ms()).await
    }
}

/// Applies retention now and then every `every`, until the server stops.
pub fn spawn(
    engine: Arc<Engine>,
    every: Duration,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    match engine.store().lead(Job::Retention).await {
                        Ok(true) => {}
                        Ok(false) => continue,
                        Err(e) => {
                            tracing::warn!(error = %e, "could not tell whether this instance applies retention");
                            continue;
                        }
                    }
                    let now = chrono::Utc::now().timestamp_millis();
                    if let Err(e) = engine.apply_retention(now).await {
                        tracing::error!(error = %e, "retention failed");
                    }
                }
                _ = stopping.changed() => return,
            }
        }
    })
}
