//! The port through which server functions reach the engine. The server crate implements it and
//! provides it as Leptos context, so this crate never depends on the database.

use std::sync::Arc;

use crate::account::{
    AuditQuery, AuditRecord, BotInfo, CreatedToken, Role, TokenInfo, UserInfo, UserWithPassword,
    Viewer,
};
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
    /// The list's counts; `closed` counts from `closed_since` when given.
    async fn session_counts(
        &self,
        viewer: &Viewer,
        bot_id: &str,
        closed_since: Option<chrono::DateTime<chrono::Utc>>,
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
    /// With `last_seen`, refused as `Stale` when the user or another agent wrote after it.
    async fn reply(
        &self,
        viewer: &Viewer,
        bot_id: &str,
        session_id: i64,
        text: String,
        last_seen: Option<i64>,
    ) -> Result<Message, AppError>;
    /// The viewer takes the conversation (from the queue, or from the bot).
    async fn claim(
        &self,
        viewer: &Viewer,
        bot_id: &str,
        session_id: i64,
    ) -> Result<SessionOverview, AppError>;
    /// Gives the conversation to an agent of the bot (admins, or its owner handing over).
    async fn assign(
        &self,
        viewer: &Viewer,
        bot_id: &str,
        session_id: i64,
        user_id: i64,
        note: Option<String>,
    ) -> Result<SessionOverview, AppError>;
    /// An admin takes the conversation from its owner.
    async fn take_over(
        &self,
        viewer: &Viewer,
        bot_id: &str,
        session_id: i64,
    ) -> Result<SessionOverview, AppError>;
    /// The owner (or an admin) keeps the conversation: its return to the bot is put off.
    async fn keep(
        &self,
        viewer: &Viewer,
        bot_id: &str,
        session_id: i64,
    ) -> Result<SessionOverview, AppError>;
    /// The owner (or an admin) ends the handoff: back to the bot, or resolved (`resolved`),
    /// with an optional last message to the user.
    async fn close(
        &self,
        viewer: &Viewer,
        bot_id: &str,
        session_id: i64,
        resolved: bool,
        message: Option<String>,
    ) -> Result<SessionOverview, AppError>;
    /// The viewer as an agent of the bot: their status, load and capacity.
    async fn me_as_agent(
        &self,
        viewer: &Viewer,
        bot_id: &str,
    ) -> Result<crate::team::AgentInfo, AppError>;
    /// The viewer chooses their status.
    async fn choose_status(
        &self,
        viewer: &Viewer,
        status: crate::team::AgentStatus,
    ) -> Result<(), AppError>;
    /// The agents of the bot.
    async fn agents(
        &self,
        viewer: &Viewer,
        bot_id: &str,
    ) -> Result<crate::team::AgentList, AppError>;
    async fn notifications(&self, viewer: &Viewer) -> Result<NotificationList, AppError>;
    /// A search of the history of the viewer's bots.
    async fn search(
        &self,
        viewer: &Viewer,
        query: crate::history::HistoryQuery,
    ) -> Result<crate::history::HistoryPage, AppError>;
    async fn analytics(
        &self,
        viewer: &Viewer,
        bot_id: &str,
        from: Option<String>,
        to: Option<String>,
    ) -> Result<crate::analytics::Analytics, AppError>;
    async fn transcript(
        &self,
        viewer: &Viewer,
        bot_id: &str,
        session_id: i64,
    ) -> Result<crate::history::Transcript, AppError>;
    async fn read_notification(&self, viewer: &Viewer, id: i64) -> Result<Notification, AppError>;
    async fn read_all_notifications(&self, viewer: &Viewer) -> Result<(), AppError>;
}

/// What admins manage: bots, users, API tokens, and the audit log. Every method refuses non-admins.
#[async_trait::async_trait]
pub trait AdminPort: Send + Sync + 'static {
    /// Every bot id, for choosing an agent's bots or a token's scope.
    async fn all_bots(&self, admin: &Viewer) -> Result<Vec<String>, AppError>;
    /// Every bot with what answers it, whether it runs, and how many conversations it holds.
    async fn bots(&self, admin: &Viewer) -> Result<Vec<BotInfo>, AppError>;
    /// Sets how many days the bot's idle conversations are kept (recorded in the audit log).
    async fn set_retention(
        &self,
        admin: &Viewer,
        bot_id: String,
        days: Option<u32>,
    ) -> Result<BotInfo, AppError>;
    /// Deletes a conversation and all it held (recorded in the audit log).
    async fn delete_session(
        &self,
        admin: &Viewer,
        bot_id: String,
        session_id: i64,
    ) -> Result<(), AppError>;
    /// Switches the whole bot on or off (recorded in the audit log).
    async fn set_bot_running(
        &self,
        admin: &Viewer,
        bot_id: String,
        running: bool,
    ) -> Result<BotInfo, AppError>;
    async fn users(&self, admin: &Viewer) -> Result<Vec<UserInfo>, AppError>;
    async fn create_user(
        &self,
        admin: &Viewer,
        email: String,
        name: String,
        role: Role,
        bots: Vec<String>,
    ) -> Result<UserWithPassword, AppError>;
    async fn update_user(
        &self,
        admin: &Viewer,
        id: i64,
        role: Role,
        bots: Vec<String>,
        active: bool,
    ) -> Result<UserInfo, AppError>;
    async fn reset_password(&self, admin: &Viewer, id: i64) -> Result<UserWithPassword, AppError>;
    async fn tokens(&self, admin: &Viewer) -> Result<Vec<TokenInfo>, AppError>;
    async fn create_token(
        &self,
        admin: &Viewer,
        name: String,
        bot_id: Option<String>,
    ) -> Result<CreatedToken, AppError>;
    async fn revoke_token(&self, admin: &Viewer, id: i64) -> Result<TokenInfo, AppError>;
    async fn audit_log(
        &self,
        admin: &Viewer,
        query: AuditQuery,
    ) -> Result<Vec<AuditRecord>, AppError>;
}

/// What server functions find in their context.
pub type Port = Arc<dyn ConsolePort>;
pub type Admin = Arc<dyn AdminPort>;

/// The port from the current request's context.
pub fn port() -> Result<Port, AppError> {
    leptos::prelude::use_context::<Port>().ok_or_else(|| {
        leptos::logging::error!("the console port was not provided as context");
        AppError::Internal
    })
}

/// The admin port and the signed-in person (the port checks they are an admin).
pub fn admin() -> Result<(Admin, Viewer), AppError> {
    let (_, viewer) = signed_in()?;
    let admin = leptos::prelude::use_context::<Admin>().ok_or_else(|| {
        leptos::logging::error!("the admin port was not provided as context");
        AppError::Internal
    })?;
    Ok((admin, viewer))
}

/// The port and the signed-in person the request comes from (the server put them in the
/// request when it checked the session cookie).
pub fn signed_in() -> Result<(Port, Viewer), AppError> {
    let viewer = leptos::prelude::use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Viewer>().cloned())
        .ok_or(AppError::Unauthorized)?;
    Ok((port()?, viewer))
}
