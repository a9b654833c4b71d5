//! Notifications that alert agents.

use app::model::Notification;

use super::clock::Clock;
use super::{steps, Engine, EngineError, Result};
use crate::store::write::{apply, Change, WriteTx};
use crate::store::{NewNotification, NotificationPage, Reader};

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

    /// Newest first, of what `reader` may read.
    pub async fn notifications(
        &self,
        reader: &Reader,
        unread_only: bool,
        before: Option<i64>,
        limit: u32,
    ) -> Result<NotificationPage> {
        Ok(self
            .store
            .notifications(reader, unread_only, before, limit)
            .await?)
    }

    /// Marks one notification read and answers with it; one `reader` may not read is not found.
    pub async fn mark_notification_read(&self, reader: &Reader, id: i64) -> Result<Notification> {
        let read = ReadNotifications {
            reader: reader.clone(),
            id: Some(id),
        };
        apply(self.store(), read)
            .await?
            .1
            .ok_or(EngineError::NotFound("notification"))
    }

    /// Marks every unread notification `reader` may read as read; answers how many were unread.
    pub async fn mark_all_notifications_read(&self, reader: &Reader) -> Result<u64> {
        let read = ReadNotifications {
            reader: reader.clone(),
            id: None,
        };
        Ok(apply(self.store(), read).await?.0 as u64)
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

/// Marks notifications read (one, or all a reader may read); answers how many were unread and,
/// for one, the notification.
struct ReadNotifications {
    reader: Reader,
    id: Option<i64>,
}

#[async_trait::async_trait]
impl Change for ReadNotifications {
    type Output = (usize, Option<Notification>);

    async fn apply(&self, tx: &mut dyn WriteTx) -> crate::store::Result<Self::Output> {
        let at = Clock::start().tick();
        let read = steps::read_notifications(tx, &self.reader, self.id, at).await?;
        let notification = match self.id {
            Some(id) => tx.notification(&self.reader, id).await?,
            None => None,
        };
        Ok((read, notification))
    }
}
