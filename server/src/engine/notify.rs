//! Notifications that alert agents.

use app::model::Notification;

use super::clock::Clock;
use super::{steps, Engine, EngineError, Result};
use crate::store::write::{apply, Change, WriteTx};
use crate::store::{BotScope, NewNotification, NotificationPage};

impl Engine {
    pub async fn notify(&self, bot_id: &str, new: NewNotification) -> Result<Notification> {
        self.bot(bot_id)?;
        if new.message.trim().is_empty() {
            return Err(EngineError::Invalid("message must not be empty".into()));
        }
        let notify = Notify {
            bot_id: bot_id.to_string(),
            new,
        };
        Ok(apply(self.store(), notify).await?)
    }

    /// Newest first, of the bots in `scope`.
    pub async fn notifications(
        &self,
        scope: &BotScope,
        unread_only: bool,
        before: Option<i64>,
        limit: u32,
    ) -> Result<NotificationPage> {
        Ok(self
            .store
            .notifications(scope, unread_only, before, limit)
            .await?)
    }

    /// Marks one notification read and answers with it; one outside `scope` is not found.
    pub async fn mark_notification_read(&self, scope: &BotScope, id: i64) -> Result<Notification> {
        self.store
            .mark_notification_read(scope, id)
            .await?
            .ok_or(EngineError::NotFound("notification"))
    }

    pub async fn mark_all_notifications_read(&self, scope: &BotScope) -> Result<u64> {
        Ok(self.store.mark_all_notifications_read(scope).await?)
    }
}

struct Notify {
    bot_id: String,
    new: NewNotification,
}

#[async_trait::async_trait]
impl Change for Notify {
    type Output = Notification;

    async fn apply(&self, tx: &mut dyn WriteTx) -> crate::store::Result<Notification> {
        let at = Clock::start().tick();
        steps::notify(tx, &self.bot_id, &self.new, at).await
    }
}
