//! The engine as the console's port: what server functions reach through Leptos context.

use std::sync::Arc;

use app::account::Viewer;
use app::error::AppError;
use app::model::{
    Message, Notification, NotificationList, SessionCounts, SessionOverview, SessionPage,
    SessionQuery,
};
use app::port::ConsolePort;

use crate::accounts::{reader_of, scope_of, Accounts};
use crate::engine::close::Ending;
use crate::engine::{AssignRight, Engine, EngineError, Target};
use crate::team;

/// The newest notifications the bell shows.
const BELL_SIZE: u32 = 30;

pub struct EnginePort {
    engine: Arc<Engine>,
    accounts: Arc<Accounts>,
}

impl EnginePort {
    pub fn new(engine: Arc<Engine>, accounts: Arc<Accounts>) -> Self {
        EnginePort { engine, accounts }
    }
}

fn to_app(e: EngineError) -> AppError {
    match e {
        EngineError::NotFound(what) => AppError::NotFound(what.to_string()),
        EngineError::Invalid(message) => AppError::Invalid(message),
        EngineError::Forbidden(message) => AppError::Forbidden(message),
        EngineError::Taken(handoff) => AppError::Taken(handoff),
        EngineError::NotAssignee(handoff) => AppError::Forbidden(format!(
            "{} handles this conversation; only they may reply",
            handoff.owner_name()
        )),
        EngineError::Stale(messages) => AppError::Stale(messages),
        EngineError::Store(e) => {
            tracing::error!(error = %e, "console request failed");
            AppError::Internal
        }
    }
}

/// Agents reach only the bots they were given; the server says so, whatever the page shows.
fn may_work_on(viewer: &Viewer, bot_id: &str) -> Result<(), AppError> {
    if viewer.may_work_on(bot_id) {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!(
            "you do not work on the bot {bot_id}"
        )))
    }
}

/// Admins act on any conversation; an agent hands over, keeps or closes only what they own.
fn right_of(viewer: &Viewer) -> AssignRight {
    if viewer.is_admin() {
        AssignRight::Admin
    } else {
        AssignRight::OwnerOnly
    }
}

#[async_trait::async_trait]
impl ConsolePort for EnginePort {
    async fn bot_ids(&self, viewer: &Viewer) -> Result<Vec<String>, AppError> {
        let mut ids = self.engine.bot_ids();
        ids.retain(|id| viewer.may_work_on(id));
        Ok(ids)
    }

    async fn bot_name(&self, bot_id: &str) -> Result<String, AppError> {
        Ok(self.engine.bot(bot_id).map_err(to_app)?.name.clone())
    }

    async fn sessions(
        &self,
        viewer: &Viewer,
        bot_id: &str,
        query: SessionQuery,
    ) -> Result<SessionPage, AppError> {
        may_work_on(viewer, bot_id)?;
        self.engine
            .sessions(bot_id, &query, Some(viewer.id))
            .await
            .map_err(to_app)
    }

    async fn search(
        &self,
        viewer: &Viewer,
        query: app::history::HistoryQuery,
    ) -> Result<app::history::HistoryPage, AppError> {
        if let Some(bot) = query.bot_id.as_deref().filter(|b| !b.is_empty()) {
            may_work_on(viewer, bot)?;
        }
        self.engine
            .search(&scope_of(viewer), query)
            .await
            .map_err(to_app)
    }

    async fn analytics(
        &self,
        viewer: &Viewer,
        bot_id: &str,
        from: Option<String>,
        to: Option<String>,
    ) -> Result<app::analytics::Analytics, AppError> {
        may_work_on(viewer, bot_id)?;
        self.engine
            .analytics(bot_id, from.as_deref(), to.as_deref())
            .await
            .map_err(to_app)
    }

    async fn transcript(
        &self,
        viewer: &Viewer,
        bot_id: &str,
        session_id: i64,
    ) -> Result<app::history::Transcript, AppError> {
        may_work_on(viewer, bot_id)?;
        self.engine
            .transcript(bot_id, session_id)
            .await
            .map_err(to_app)
    }

    async fn session_counts(
        &self,
        viewer: &Viewer,
        bot_id: &str,
        closed_since: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<SessionCounts, AppError> {
        may_work_on(viewer, bot_id)?;
        self.engine
            .session_counts(bot_id, closed_since)
            .await
            .map_err(to_app)
    }

    async fn session(
        &self,
        viewer: &Viewer,
        bot_id: &str,
        session_id: i64,
    ) -> Result<SessionOverview, AppError> {
        may_work_on(viewer, bot_id)?;
        self.engine
            .session(bot_id, session_id)
            .await
            .map_err(to_app)
    }

    async fn messages(
        &self,
        viewer: &Viewer,
        bot_id: &str,
        session_id: i64,
        before: Option<i64>,
    ) -> Result<Vec<Message>, AppError> {
        may_work_on(viewer, bot_id)?;
        self.engine
            .messages(bot_id, session_id, before, 0)
            .await
            .map_err(to_app)
    }

    async fn mark_session_read(
        &self,
        viewer: &Viewer,
        bot_id: &str,
        session_id: i64,
    ) -> Result<SessionOverview, AppError> {
        may_work_on(viewer, bot_id)?;
        self.engine
            .mark_session_read(bot_id, session_id)
            .await
            .map_err(to_app)
    }

    async fn set_paused(
        &self,
        viewer: &Viewer,
        bot_id: &str,
        session_id: i64,
        paused: bool,
    ) -> Result<SessionOverview, AppError> {
        may_work_on(viewer, bot_id)?;
        self.engine
            .set_paused(
                bot_id,
                Target::Id(session_id),
                paused,
                &viewer.actor(),
                None,
            )
            .await
            .map_err(to_app)
    }

    async fn reply(
        &self,
        viewer: &Viewer,
        bot_id: &str,
        session_id: i64,
        text: String,
        last_seen: Option<i64>,
    ) -> Result<Message, AppError> {
        may_work_on(viewer, bot_id)?;
        self.engine
            .agent_reply(bot_id, session_id, &text, &viewer.actor(), last_seen)
            .await
            .map_err(to_app)
    }

    async fn claim(
        &self,
        viewer: &Viewer,
        bot_id: &str,
        session_id: i64,
    ) -> Result<SessionOverview, AppError> {
        may_work_on(viewer, bot_id)?;
        self.engine
            .claim(bot_id, session_id, &viewer.actor())
            .await
            .map_err(to_app)
    }

    async fn assign(
        &self,
        viewer: &Viewer,
        bot_id: &str,
        session_id: i64,
        user_id: i64,
        note: Option<String>,
    ) -> Result<SessionOverview, AppError> {
        may_work_on(viewer, bot_id)?;
        let to = team::assignee(&self.accounts, bot_id, user_id)
            .await
            .map_err(to_app)?;
        let right = right_of(viewer);
        self.engine
            .assign(bot_id, session_id, to, &viewer.actor(), right, note)
            .await
            .map_err(to_app)
    }

    async fn take_over(
        &self,
        viewer: &Viewer,
        bot_id: &str,
        session_id: i64,
    ) -> Result<SessionOverview, AppError> {
        if !viewer.is_admin() {
            return Err(AppError::Forbidden(
                "only an admin may take a conversation over".into(),
            ));
        }
        self.engine
            .take_over(bot_id, session_id, &viewer.actor())
            .await
            .map_err(to_app)
    }

    async fn keep(
        &self,
        viewer: &Viewer,
        bot_id: &str,
        session_id: i64,
    ) -> Result<SessionOverview, AppError> {
        may_work_on(viewer, bot_id)?;
        let right = right_of(viewer);
        self.engine
            .keep(bot_id, session_id, &viewer.actor(), right)
            .await
            .map_err(to_app)
    }

    async fn close(
        &self,
        viewer: &Viewer,
        bot_id: &str,
        session_id: i64,
        resolved: bool,
        message: Option<String>,
    ) -> Result<SessionOverview, AppError> {
        may_work_on(viewer, bot_id)?;
        let right = right_of(viewer);
        let ending = if resolved {
            Ending::Resolved
        } else {
            Ending::ReturnToBot
        };
        self.engine
            .close_handoff(bot_id, session_id, &viewer.actor(), right, ending, message)
            .await
            .map_err(to_app)
    }

    async fn me_as_agent(
        &self,
        viewer: &Viewer,
        bot_id: &str,
    ) -> Result<app::team::AgentInfo, AppError> {
        may_work_on(viewer, bot_id)?;
        self.engine.bot(bot_id).map_err(to_app)?;
        self.engine.agent_info(bot_id, viewer).await.map_err(to_app)
    }

    async fn choose_status(
        &self,
        viewer: &Viewer,
        status: app::team::AgentStatus,
    ) -> Result<(), AppError> {
        self.engine
            .choose_status(viewer, status)
            .await
            .map_err(to_app)
    }

    async fn agents(
        &self,
        viewer: &Viewer,
        bot_id: &str,
    ) -> Result<app::team::AgentList, AppError> {
        may_work_on(viewer, bot_id)?;
        team::agents(&self.accounts, &self.engine, bot_id)
            .await
            .map_err(to_app)
    }

    async fn notifications(&self, viewer: &Viewer) -> Result<NotificationList, AppError> {
        let page = self
            .engine
            .notifications(&reader_of(viewer), false, None, BELL_SIZE)
            .await
            .map_err(to_app)?;
        Ok(NotificationList {
            notifications: page.notifications,
            unread_count: page.unread_count,
        })
    }

    async fn read_notification(&self, viewer: &Viewer, id: i64) -> Result<Notification, AppError> {
        self.engine
            .mark_notification_read(&reader_of(viewer), id)
            .await
            .map_err(to_app)
    }

    async fn read_all_notifications(&self, viewer: &Viewer) -> Result<(), AppError> {
        self.engine
            .mark_all_notifications_read(&reader_of(viewer))
            .await
            .map(|_| ())
            .map_err(to_app)
    }
}
