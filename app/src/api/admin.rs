//! What admins do from the admin pages: bots, users, API tokens, the audit log.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use super::client::CsrfClient;
use crate::account::{
    AuditQuery, AuditRecord, BotInfo, CreatedToken, Role, TokenInfo, UserInfo, UserWithPassword,
};
use crate::error::AppError;

#[server(prefix = "/fn", client = CsrfClient, endpoint = "admin/admin_bots")]
pub async fn admin_bots() -> Result<Vec<String>, AppError> {
    let (port, admin) = crate::port::admin()?;
    port.all_bots(&admin).await
}

#[server(prefix = "/fn", client = CsrfClient, endpoint = "admin/list_bots")]
pub async fn list_bots() -> Result<Vec<BotInfo>, AppError> {
    let (port, admin) = crate::port::admin()?;
    port.bots(&admin).await
}

#[server(prefix = "/fn", client = CsrfClient, endpoint = "admin/set_bot_running")]
pub async fn set_bot_running(bot_id: String, running: bool) -> Result<BotInfo, AppError> {
    let (port, admin) = crate::port::admin()?;
    port.set_bot_running(&admin, bot_id, running).await
}

#[server(prefix = "/fn", client = CsrfClient, input = Json, endpoint = "admin/set_retention")]
pub async fn set_retention(bot_id: String, days: Option<u32>) -> Result<BotInfo, AppError> {
    let (port, admin) = crate::port::admin()?;
    port.set_retention(&admin, bot_id, days).await
}

#[server(prefix = "/fn", client = CsrfClient, endpoint = "admin/delete_conversation")]
pub async fn delete_conversation(bot_id: String, session_id: i64) -> Result<(), AppError> {
    let (port, admin) = crate::port::admin()?;
    port.delete_session(&admin, bot_id, session_id).await
}

#[server(prefix = "/fn", client = CsrfClient, endpoint = "admin/list_users")]
pub async fn list_users() -> Result<Vec<UserInfo>, AppError> {
    let (port, admin) = crate::port::admin()?;
    port.users(&admin).await
}

#[server(prefix = "/fn", client = CsrfClient, input = Json, endpoint = "admin/create_user")]
pub async fn create_user(
    email: String,
    name: String,
    role: Role,
    bots: Vec<String>,
) -> Result<UserWithPassword, AppError> {
    let (port, admin) = crate::port::admin()?;
    port.create_user(&admin, email, name, role, bots).await
}

#[server(prefix = "/fn", client = CsrfClient, input = Json, endpoint = "admin/update_user")]
pub async fn update_user(
    id: i64,
    role: Role,
    bots: Vec<String>,
    active: bool,
) -> Result<UserInfo, AppError> {
    let (port, admin) = crate::port::admin()?;
    port.update_user(&admin, id, role, bots, active).await
}

#[server(prefix = "/fn", client = CsrfClient, endpoint = "admin/reset_password")]
pub async fn reset_password(id: i64) -> Result<UserWithPassword, AppError> {
    let (port, admin) = crate::port::admin()?;
    port.reset_password(&admin, id).await
}

#[server(prefix = "/fn", client = CsrfClient, endpoint = "admin/list_tokens")]
pub async fn list_tokens() -> Result<Vec<TokenInfo>, AppError> {
    let (port, admin) = crate::port::admin()?;
    port.tokens(&admin).await
}

#[server(prefix = "/fn", client = CsrfClient, input = Json, endpoint = "admin/create_token")]
pub async fn create_token(name: String, bot_id: Option<String>) -> Result<CreatedToken, AppError> {
    let (port, admin) = crate::port::admin()?;
    port.create_token(&admin, name, bot_id).await
}

#[server(prefix = "/fn", client = CsrfClient, endpoint = "admin/revoke_token")]
pub async fn revoke_token(id: i64) -> Result<TokenInfo, AppError> {
    let (port, admin) = crate::port::admin()?;
    port.revoke_token(&admin, id).await
}

#[server(prefix = "/fn", client = CsrfClient, input = Json, endpoint = "admin/audit_log")]
pub async fn audit_log(query: AuditQuery) -> Result<Vec<AuditRecord>, AppError> {
    let (port, admin) = crate::port::admin()?;
    port.audit_log(&admin, query).await
}
