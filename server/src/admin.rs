//! What admins manage, as the admin pages' port: bots, users, API tokens and the audit log. Every
//! method refuses anyone who is not an admin, whatever the page showed them.

use std::sync::Arc;

use app::account::{
    AuditQuery, AuditRecord, BotInfo, CreatedToken, Role, TokenInfo, UserInfo, UserWithPassword,
    Viewer,
};
use app::error::AppError;
use app::port::AdminPort;

use crate::accounts::{AccountChange, AccountError, Accounts, Manager, NewAccount};
use crate::engine::Engine;

const AUDIT_PAGE: u32 = 100;

pub struct AdminService {
    accounts: Arc<Accounts>,
    engine: Arc<Engine>,
}

impl AdminService {
    pub fn new(accounts: Arc<Accounts>, engine: Arc<Engine>) -> Self {
        AdminService { accounts, engine }
    }
}

impl AdminService {
    async fn bot_info(&self, id: &str) -> Result<BotInfo, AppError> {
        let bot = self.engine.bot(id).map_err(engine_error)?;
        let counts = self
            .engine
            .session_counts(id, None)
            .await
            .map_err(engine_error)?;
        let kind = match (&bot.external, &bot.rules) {
            (Some(external), _) => external.kind_name(),
            (None, Some(_)) => "rules",
            (None, None) => "none",
        };
        Ok(BotInfo {
            id: bot.id.clone(),
            name: bot.name.clone(),
            kind: kind.to_string(),
            running: !bot.is_paused(),
            sessions: counts.all,
            paused_sessions: counts.paused,
            retention_days: self.engine.retention_days(id).await.map_err(engine_error)?,
        })
    }
}

fn engine_error(e: crate::engine::EngineError) -> AppError {
    match e {
        crate::engine::EngineError::NotFound(what) => AppError::NotFound(what.to_string()),
        crate::engine::EngineError::Invalid(m) => AppError::Invalid(m),
        other => {
            tracing::error!(error = %other, "admin request failed");
            AppError::Internal
        }
    }
}

fn admin_only(viewer: &Viewer) -> Result<(), AppError> {
    if viewer.is_admin() {
        Ok(())
    } else {
        Err(AppError::Forbidden("only admins may do this".into()))
    }
}

fn to_app(e: AccountError) -> AppError {
    match e {
        AccountError::Invalid(m) => AppError::Invalid(m),
        AccountError::NotFound(what) => AppError::NotFound(what.to_string()),
        AccountError::Conflict(what) => AppError::Invalid(format!("{what} already exists")),
        other => {
            tracing::error!(error = %other, "admin request failed");
            AppError::Internal
        }
    }
}

#[async_trait::async_trait]
impl AdminPort for AdminService {
    async fn all_bots(&self, admin: &Viewer) -> Result<Vec<String>, AppError> {
        admin_only(admin)?;
        Ok(self.engine.bot_ids())
    }

    async fn bots(&self, admin: &Viewer) -> Result<Vec<BotInfo>, AppError> {
        admin_only(admin)?;
        let mut bots = Vec::new();
        for id in self.engine.bot_ids() {
            bots.push(self.bot_info(&id).await?);
        }
        Ok(bots)
    }

    async fn set_retention(
        &self,
        admin: &Viewer,
        bot_id: String,
        days: Option<u32>,
    ) -> Result<BotInfo, AppError> {
        admin_only(admin)?;
        self.engine
            .set_retention_days(&bot_id, days, &crate::accounts::by_email(admin))
            .await
            .map_err(engine_error)?;
        self.bot_info(&bot_id).await
    }

    async fn delete_session(
        &self,
        admin: &Viewer,
        bot_id: String,
        session_id: i64,
    ) -> Result<(), AppError> {
        admin_only(admin)?;
        self.engine
            .delete_session(&bot_id, session_id, &crate::accounts::by_email(admin))
            .await
            .map_err(engine_error)
    }

    async fn set_bot_running(
        &self,
        admin: &Viewer,
        bot_id: String,
        running: bool,
    ) -> Result<BotInfo, AppError> {
        admin_only(admin)?;
        self.engine
            .set_bot_paused(&bot_id, !running, &crate::accounts::by_email(admin))
            .await
            .map_err(engine_error)?;
        self.bot_info(&bot_id).await
    }

    async fn users(&self, admin: &Viewer) -> Result<Vec<UserInfo>, AppError> {
        admin_only(admin)?;
        self.accounts
            .store()
            .users()
            .await
            .map_err(|e| to_app(e.into()))
    }

    async fn create_user(
        &self,
        admin: &Viewer,
        email: String,
        name: String,
        role: Role,
        bots: Vec<String>,
    ) -> Result<UserWithPassword, AppError> {
        admin_only(admin)?;
        let new = NewAccount {
            email,
            name,
            role,
            bots,
        };
        self.accounts
            .create_user(&Manager::person(admin), new, &self.engine.bot_ids())
            .await
            .map_err(to_app)
    }

    async fn update_user(
        &self,
        admin: &Viewer,
        id: i64,
        role: Role,
        bots: Vec<String>,
        active: bool,
    ) -> Result<UserInfo, AppError> {
        admin_only(admin)?;
        let change = AccountChange {
            name: None,
            role: Some(role),
            bots: Some(bots),
            active: Some(active),
        };
        self.accounts
            .update_user(&Manager::person(admin), id, change, &self.engine.bot_ids())
            .await
            .map_err(to_app)
    }

    async fn reset_password(&self, admin: &Viewer, id: i64) -> Result<UserWithPassword, AppError> {
        admin_only(admin)?;
        self.accounts
            .reset_password(&Manager::person(admin), id)
            .await
            .map_err(to_app)
    }

    async fn tokens(&self, admin: &Viewer) -> Result<Vec<TokenInfo>, AppError> {
        admin_only(admin)?;
        self.accounts
            .store()
            .tokens()
            .await
            .map_err(|e| to_app(e.into()))
    }

    async fn create_token(
        &self,
        admin: &Viewer,
        name: String,
        bot_id: Option<String>,
    ) -> Result<CreatedToken, AppError> {
        admin_only(admin)?;
        // The page's form sends an empty bot for "every bot".
        let bot_id = bot_id.filter(|b| !b.is_empty());
        let known = self.engine.bot_ids();
        self.accounts
            .create_token(&Manager::person(admin), &name, bot_id, None, &known)
            .await
            .map_err(to_app)
    }

    async fn revoke_token(&self, admin: &Viewer, id: i64) -> Result<TokenInfo, AppError> {
        admin_only(admin)?;
        self.accounts
            .revoke_token(&Manager::person(admin), id)
            .await
            .map_err(to_app)
    }

    async fn audit_log(
        &self,
        admin: &Viewer,
        query: AuditQuery,
    ) -> Result<Vec<AuditRecord>, AppError> {
        admin_only(admin)?;
        self.accounts
            .store()
            .audit_log(&query, AUDIT_PAGE)
            .await
            .map_err(|e| to_app(e.into()))
    }
}
