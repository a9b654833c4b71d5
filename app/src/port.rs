//! The port through which server functions reach the engine. The server crate implements it and
//! provides it as Leptos context, so this crate never depends on the database.

use std::sync::Arc;

use crate::account::Viewer;
use crate::error::AppError;
use crate::model::{
    Message, Notification, NotificationList, SessionCounts, SessionOverview, SessionPage,
    SessionQuery,
};

#[async_trait::async_trait]
pub trait ConsolePort: Send + Sync + 'static {
    /// Ids of the bots the viewer works on, in a stable order.
    async fn bot_ids(&self, viewer: &Viewer) -> Result<Vec<String>, AppError>;
    /// The bot's display name (what the web chat's header shows); public.
    async fn bot_name(&self, bot_id: &str) -> Result<String, AppError>;
    async fn sessions(
        &self,
        viewer: &Viewer,
        bot_id: &str,
        query: SessionQuery,
    ) -> Result<SessionPage, AppError>;
    async fn session_counts(
        &self,
        viewer: &Viewer,
        bot_id: &str,
    ) -> Result<SessionCounts, AppError>;
    async fn session(
        &self,
        viewer: &Viewer,
        bot_id: &str,
        session_id: i64,
    ) -> Result<SessionOverview, AppError>;
    /// A page of a session's messages, oldest first; the newest page when `before` is `None`.
    async fn messages(
        &self,
        viewer: &Viewer,
        bot_id: &str,
        session_id: i64,
        before: Option<i64>,
    ) -> Result<Vec<Message>, AppError>;
    async fn mark_session_read(
        &self,
        viewer: &Viewer,
        bot_id: &str,
        session_id: i64,
    ) -> Result<SessionOverview, AppError>;
    async fn set_paused(
        &self,
        viewer: &Viewer,
        bot_id: &str,
        session_id: i64,
        paused: bool,
    ) -> Result<SessionOverview, AppError>;
    async fn reply(
        &self,
        viewer: &Viewer,
        bot_id: &str,
        session_id: i64,
        text: String,
    ) -> Result<Message, AppError>;
    async fn notifications(&self, viewer: &Viewer) -> Result<NotificationList, AppError>;
    async fn read_notification(&self, viewer: &Viewer, id: i64) -> Result<Notification, AppError>;
    async fn read_all_notifications(&self, viewer: &Viewer) -> Result<(), AppError>;
}

/// What server functions find in their context.
pub type Port = Arc<dyn ConsolePort>;

/// The port from the current request's context.
pub fn port() -> Result<Port, AppError> {
    leptos::prelude::use_context::<Port>().ok_or_else(|| {
        leptos::logging::error!("the console port was not provided as context");
        AppError::Internal
    })
}

/// The port and the signed-in person the request comes from (the server put them in the
/// request when it checked the session cookie).
pub fn signed_in() -> Result<(Port, Viewer), AppError> {
    let viewer = leptos::prelude::use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Viewer>().cloned())
        .ok_or(AppError::Unauthorized)?;
    Ok((port()?, viewer))
}
