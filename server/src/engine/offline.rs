//! What becomes of the conversations of an agent who went offline: after the bot's delay they
//! go back to the queue or to the bot, as its `[handoffs]` settings say (or stay theirs).

use app::model::{Actor, HandoffState};

use super::clock::{now_ms, Clock};
use super::steps::{self, PauseChange};
use super::{Engine, Result};
use crate::bots::handoffs::OfflineAction;
use crate::store::write::{apply, Change, WriteTx};

/// Why a handoff closed when its owner went offline and the bot took the conversation back.
pub const AGENT_OFFLINE: &str = "agent_offline";

impl Engine {
    /// Moves the conversations of agents offline for longer than their bot's delay.
    pub async fn leave_offline(&self) -> Result<()> {
        for bot_id in self.bot_ids() {
            let settings = &self.bot(&bot_id)?.handoffs;
            if settings.offline_action == OfflineAction::None {
                continue;
            }
            let delay =
                i64::try_from(settings.offline_after_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
            let loads = self.store().handoff_loads(&bot_id).await?;
            if loads.iter().all(|(_, open)| *open == 0) {
                continue;
            }
            let presence = self.store().presence().await?;
            for (agent, open) in loads {
                let facts = presence.iter().find(|f| f.user_id == agent);
                let gone_long = self
                    .presence
                    .offline_since(facts)
                    .is_some_and(|since| now_ms() - since >= delay);
                if open == 0 || !gone_long {
                    continue;
                }
                for session_id in self.store().owned_by(&bot_id, agent).await? {
                    let leave = Leave {
                        session_id,
                        owner: agent,
                        action: settings.offline_action,
                    };
                    apply(self.store(), leave).await?;
                }
            }
        }
        Ok(())
    }
}

struct Leave {
    session_id: i64,
    owner: i64,
    action: OfflineAction,
}

#[async_trait::async_trait]
impl Change for Leave {
    type Output = ();

    async fn apply(&self, tx: &mut dyn WriteTx) -> crate::store::Result<()> {
        let mut clock = Clock::start();
        let Some(session) = tx.session(self.session_id).await? else {
            return Ok(());
        };
        // Theirs still, as this write reads it.
        let Some(owner) = session
            .handoff
            .as_ref()
            .filter(|h| h.state == HandoffState::Assigned && h.owner_id() == Some(self.owner))
            .map(|h| h.owner_name().to_string())
        else {
            return Ok(());
        };
        match self.action {
            OfflineAction::None => {}
            OfflineAction::Requeue => {
                let line = format!("{owner} went offline: back in the queue");
                steps::requeue(tx, &session, None, line, clock.tick()).await?;
            }
            OfflineAction::ReturnToBot => {
                let why = format!("{owner} went offline");
                let resume =
                    PauseChange::new(false, Actor::system(), Some(why)).closing_as(AGENT_OFFLINE);
                steps::set_paused(tx, session.id, &resume, clock.tick()).await?;
            }
        }
        Ok(())
    }
}
